/**
 * The cost models an estimate composes, as one record a user can change a field of: the
 * memory model, the compute model, the collective model, and the overlap assumptions
 * (which communication hides behind computation). `defaultCostModels` holds each
 * package's default and the overlap documented below.
 *
 * @example
 * import { defaultCostModels } from '@meshplan/cost-models'
 * import { withEfficiency } from '@meshplan/compute'
 * const mine = { ...defaultCostModels, compute: withEfficiency({ gemm: () => 0.7 })(defaultCostModels.compute) }
 * const optimistic = { ...defaultCostModels, overlap: { ...defaultCostModels.overlap, ep: 1 } }
 */
import { defaultCollectiveModel, type CollectiveModel } from '@meshplan/collectives'
import { defaultComputeModel, type ComputeModel } from '@meshplan/compute'
import { defaultMemoryModel, type MemoryModel } from '@meshplan/memory'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The kinds of communication an inference step does. */
export const commKinds = ['tp', 'ep', 'pp', 'cp'] as const
export type CommKind = (typeof commKinds)[number]

/**
 * The fraction of each kind of communication that runs concurrently with computation
 * of the same pipeline stage, each in [0, 1]. Hidden time is capped by the stage's
 * compute time: overlap can hide communication, never make computation faster.
 */
export type Overlap = Readonly<Record<CommKind, number>>

/**
 * What the training composition assumes beyond the cost models, each replaceable in
 * `CostModels.training`:
 * - `dpOverlap: 1`: the per-micro-batch ZeRO-2/3 traffic (gradient reduce-scatter,
 *   parameter all-gathers) is bucketed and prefetched, so it runs concurrently with
 *   the stage's compute (DeepSpeed's `overlap_comm` and prefetch bucket; PyTorch FSDP's
 *   forward and backward prefetch). Hidden time is capped by the compute.
 * - `bucketParameters(dp)`: gradient bucket size in parameters; Megatron-Core's default
 *   `max(40,000,000, 1,000,000 · dp)` (`DistributedDataParallelConfig.bucket_size`).
 * - `overlapGradReduce: true`: the end-of-step reduction overlaps the last micro-batch's
 *   backward except the last bucket (`overlap_grad_reduce`); false exposes all of it.
 */
export interface TrainingAssumptions {
  readonly dpOverlap: number
  readonly bucketParameters: (dp: number) => number
  readonly overlapGradReduce: boolean
}

/** Default training assumptions (see {@link TrainingAssumptions}). */
export const defaultTrainingAssumptions: TrainingAssumptions = {
  dpOverlap: 1,
  bucketParameters: (dp) => Math.max(40_000_000, 1_000_000 * dp),
  overlapGradReduce: true,
}

/** The models the planner composes. */
export interface CostModels {
  readonly memory: MemoryModel
  readonly compute: ComputeModel
  readonly collectives: CollectiveModel
  readonly overlap: Overlap
  /** Training's assumptions (default {@link defaultTrainingAssumptions}). */
  readonly training?: TrainingAssumptions
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Default overlap, an explicit assumption:
 * - `tp: 0`: the tensor-parallel all-reduce after the attention and the MLP blocks is
 *   on the critical path; its input is the block's output and the next block needs its
 *   result (Shoeybi et al. 2019, "Megatron-LM", section 3: two all-reduces per layer
 *   in the forward pass, each a synchronisation point). Serving engines run it inline.
 * - `ep: 0`: the dispatch and combine all-to-all of an MoE layer sit between the
 *   router and the experts, and between the experts and the residual add; overlapping
 *   them needs two micro-batches in flight (DeepSeek-V3 technical report, section
 *   3.4's dual micro-batch overlap), which engines do not do by default.
 * - `pp: 0`: a stage cannot start before its input activations arrive.
 * - `cp: 1`: ring attention passes key/value blocks to the next rank while it
 *   computes attention on the current block (Liu et al. 2023, "Ring Attention with
 *   Blockwise Transformers", section 3), so the exchange hides behind the attention
 *   compute when that is longer.
 */
export const defaultOverlap: Overlap = { tp: 0, ep: 0, pp: 0, cp: 1 }

/** Each package's default model and {@link defaultOverlap}. */
export const defaultCostModels: CostModels = {
  memory: defaultMemoryModel,
  compute: defaultComputeModel,
  collectives: defaultCollectiveModel,
  overlap: defaultOverlap,
  training: defaultTrainingAssumptions,
}
