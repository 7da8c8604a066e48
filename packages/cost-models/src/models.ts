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
import { defaultMemoryModel, type MemoryModel, type SelectivePolicy } from '@meshplan/memory'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The kinds of communication an inference step does. */
export const commKinds = ['tp', 'ep', 'pp', 'cp'] as const
export type CommKind = (typeof commKinds)[number]

/**
 * The fraction of each kind of communication that runs concurrently with computation
 * of the same pipeline stage, each in [0, 1]. Hidden time is capped by the stage's
 * compute time: overlap can hide communication, never make computation faster. A
 * training step reads `ep` and `cp` from here; its tensor- and pipeline-parallel
 * overlap are mechanisms of the training engine, in {@link TrainingAssumptions}
 * (`tpCommOverlap`, `ppCommOverlap`).
 */
export type Overlap = Readonly<Record<CommKind, number>>

/**
 * What the training composition assumes beyond the cost models, each replaceable in
 * `CostModels.training`:
 * - One budget: a stage's compute hides each second of communication once, whichever
 *   collective it is; two collectives do not both hide behind the same compute.
 * - `commSmShare: 20/132`: communication that runs beside compute occupies SMs (NCCL
 *   runs each channel as a thread block; DeepSeek-V3 report, section 3.2.2: 20 of an
 *   H800's 132 SMs saturate its InfiniBand and NVLink), so each second of hidden
 *   communication costs that share of a second of compute.
 * - `dpOverlap: 1`: ZeRO-3 / FSDP runs unit by unit, one transformer layer per unit
 *   (torchtitan and LLM Foundry wrap each block; Zhao et al. 2023, "PyTorch FSDP",
 *   PVLDB 16(12), section 3.3): each unit's parameter all-gather is prefetched one unit
 *   ahead, forward and again backward, and each unit's gradient reduce-scatter is issued
 *   when its backward ends (FSDP's forward and backward prefetch, DeepSpeed ZeRO-3's
 *   prefetch bucket), so each collective overlaps the compute of the unit beside it.
 *   `dpOverlap` is the fraction of that collective that can: 1 hides it behind that
 *   unit's compute up to the compute (a longer collective still costs the difference),
 *   0 exposes it. ZeRO-2's per-micro-batch reduce-scatter runs the same way, without
 *   gathers. The first gather and the last reduce-scatter of a micro-batch have no
 *   compute beside them.
 * - `bucketParameters(dp)`: gradient bucket size in parameters; Megatron-Core's default
 *   `max(40,000,000, 1,000,000 · dp)` (`DistributedDataParallelConfig.bucket_size`).
 * - `overlapGradReduce: true`: the end-of-step reduction overlaps the last micro-batch's
 *   backward except the last bucket (`overlap_grad_reduce`); false exposes all of it.
 * - `tpCommOverlap: 0`: the fraction of the tensor-parallel reduce-scatters and
 *   all-gathers (sequence parallelism) that run concurrently with the layer's GEMMs,
 *   chunk by chunk, as Transformer Engine's userbuffers do (Megatron-LM
 *   `--tp-comm-overlap`, which requires `--sequence-parallel`; the decomposition of
 *   Wang et al. 2023, "Overlap Communication with Dependent Computation via
 *   Decomposition in Large Deep Learning Models", ASPLOS). Hidden time is capped by the
 *   layer's GEMM time; without sequence parallelism the all-reduce is never overlapped.
 *   0 is Megatron-Core's default (`ModelParallelConfig.tp_comm_overlap = False`).
 * - `ppCommOverlap: 0`: the fraction of the pipeline sends and receives that run
 *   concurrently with the next chunk's forward or backward (Megatron-LM's
 *   `overlap_p2p_comm` in the interleaved schedule). 0 is Megatron-Core's default
 *   (`ModelParallelConfig.overlap_p2p_comm = False`); Megatron-LM's current training
 *   script turns it on for interleaved schedules (`arguments.py`:
 *   `--no-overlap-p2p-communication` turns it off), which a case states with
 *   `engine.options.pp_comm_overlap`.
 * - `gradientReduce: 'fp32'`: gradients are accumulated over the micro-batches and
 *   reduced over the data-parallel group in fp32 (4 bytes each, sharded like ZeRO
 *   shards them). Megatron-LM turns it on for every bf16 run
 *   (`megatron/training/arguments.py`: "bfloat16 requires gradient accumulation and
 *   all-reduce to be done in fp32", unless `--grad-reduce-in-bf16`), which is why its
 *   distributed optimizer counts `6 + 12/d` bytes per parameter (Megatron Core user
 *   guide, "Distributed Optimizer"); torchtitan reduces in fp32 too
 *   (`mixed_precision_reduce = "float32"`). `'bf16'` keeps them in the weights' 16-bit
 *   format, as FSDP's `PURE` mixed precision (LLM Foundry's reference configs) and
 *   `--grad-reduce-in-bf16` do.
 * - `selectivePolicy` (default `'attention-core'`): what `recompute: 'selective'` keeps
 *   and re-runs. `'attention-core'` is Megatron-LM's (the attention core recomputed);
 *   `'every-other-matmul'` is torchtitan's op-level policy (`@meshplan/memory`'s
 *   `SelectivePolicy`), which re-runs the norms, the rotary embedding, the activation and
 *   every even-numbered GEMM of a dense layer (K and the output projection; a SwiGLU's up
 *   projection, a 2-matrix MLP's second), and with 8-bit GEMMs all of them.
 */
export interface TrainingAssumptions {
  readonly commSmShare: number
  readonly dpOverlap: number
  readonly bucketParameters: (dp: number) => number
  readonly overlapGradReduce: boolean
  readonly tpCommOverlap: number
  readonly ppCommOverlap: number
  readonly gradientReduce: GradientReduce
  readonly selectivePolicy?: SelectivePolicy
}

/** The format gradients are accumulated and reduced in (see {@link TrainingAssumptions}). */
export type GradientReduce = 'fp32' | 'bf16'
export const gradientReduces: ReadonlyArray<GradientReduce> = ['fp32', 'bf16']

/** Default training assumptions (see {@link TrainingAssumptions}). */
export const defaultTrainingAssumptions: TrainingAssumptions = {
  commSmShare: 20 / 132,
  dpOverlap: 1,
  bucketParameters: (dp) => Math.max(40_000_000, 1_000_000 * dp),
  overlapGradReduce: true,
  tpCommOverlap: 0,
  ppCommOverlap: 0,
  gradientReduce: 'fp32',
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
