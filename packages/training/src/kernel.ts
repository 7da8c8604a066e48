/**
 * One training step, as numbers a search can evaluate a million times a second. What
 * depends only on the model, the cluster and the formats is computed once
 * ({@link trainingContext}); what depends on a strategy's degrees once per strategy
 * ({@link strategyConstants}: its pipeline stage classes, parameters, collective groups
 * and data-parallel traffic); what depends on the micro-batch shape once per shape
 * ({@link microConstants}: the forward time of each part of a layer from
 * @meshplan/compute, the per-layer communication from @meshplan/collectives;
 * {@link activationConstants}: stored activation bytes from @meshplan/memory). A
 * candidate (virtual stages, micro-batches, recomputation, ZeRO stage) is then plain
 * arithmetic over those constants: {@link evaluateTraining}, no allocation.
 *
 * How a step's time is composed, per pipeline stage `i` and micro-batch:
 *
 *     t_i = compute_i + contention_i + exposed_i
 *     compute_i = 3·F_i + R_i                      (backward = 2 × forward, Narayanan et al. 2021, section 5.1)
 *     F_i = L·layer + L_dense·dense + L_moe·moe + [first]·embedding + [last]·(norm + LM head + loss)
 *     R_i = L·core (selective) | F_i without the edges (full) | 0   (Korthikanti et al. 2022, sections 4 and 5)
 *
 * What communication hides, it hides once: the collectives draw on one budget, the
 * stage's compute, in this order, each within what the ones before left:
 *
 *     hidden_tp = min(o_tp · tp, GEMM_i)           (with sequence parallelism; GEMM_i the layers' GEMM seconds, forward,
 *                                                  backward and recomputed: userbuffers overlap a collective with its GEMM)
 *     hidden_dp = the ZeRO-2/3 units' collectives hidden by the compute beside each (below), at most what is left
 *     hidden_cp = min(o_cp · cp, 3·L·core (+ L·core recomputed), what is left)   (the ring passes key and value blocks
 *                                                  while the attention core computes: Liu et al. 2023, section 3)
 *     hidden_ep,pp = min(o_ep · ep + o_pp · pp, what is left)
 *     exposed_i = Σ comm_kind − Σ hidden_kind
 *     contention_i = commSmShare · Σ hidden_kind   (a collective beside compute occupies SMs: 20 of 132 on an H800
 *                                                  saturate its links, DeepSeek-V3 report, section 3.2.2)
 *
 * The stage's layers and micro-batch are as the attention kernel of the compute model
 * runs them (`attentionKernel`: FlashAttention, or Megatron-LM's unfused attention of
 * 2021-22, whose stored activations keep the score matrices and the dropout masks,
 * Korthikanti et al. 2022's `5as/h` terms), in the formats of the precision (FP8
 * training: @meshplan/compute's fp8 GEMMs, @meshplan/memory's fp8 weight copies).
 *
 * Communication per micro-batch and stage (message sizes in nccl-tests' convention):
 * - TP: per layer, two all-reduces of the layer's output `b·s/cp·h` forward and two
 *   backward (Shoeybi et al. 2019, section 3, the `f` and `g` operators), two more
 *   when full recomputation re-runs the forward; with sequence parallelism each becomes
 *   a reduce-scatter and an all-gather of the same buffer (Korthikanti et al. 2022,
 *   section 4.2.2), and the backward all-gathers the sharded inputs of the QKV and
 *   first MLP GEMMs again for their weight gradients (Megatron-LM's
 *   `LinearWithGradAccumulationAndAsyncCommunication`; Calculon's `seq_par_ag_redo`).
 * - EP: per MoE layer a dispatch and a combine all-to-all forward, the same backward
 *   ({@link dispatchBytes}), again under full recomputation.
 * - CP: per layer the ring passes the keys and values of the whole sequence forward
 *   (an all-gather of `b·s·kv` elements), and twice that backward (keys and values
 *   again, and their gradients back: Liu et al. 2023, ring attention; Megatron-Core's
 *   context parallelism), again under full recomputation.
 * - PP: each of the `v` model chunks receives its input activations forward and its
 *   output gradients backward, `b·s/cp·h` elements each, split over the TP ranks
 *   (each sends `1/tp` and the receivers all-gather it over the scale-up links, unless
 *   sequence parallelism already keeps it split: Narayanan et al. 2021, section 4.1,
 *   scatter-gather).
 * - DP under ZeRO-2, a reduce-scatter of the stage's gradients per micro-batch; under
 *   ZeRO-3 also an all-gather of its parameters forward and again backward
 *   (Rajbhandari et al. 2020, section 5.2 and 5.3), unit by unit as PyTorch FSDP and
 *   DeepSpeed run them (Zhao et al. 2023, "PyTorch FSDP", section 3.3): each transformer
 *   layer is a unit, the stage's embedding and LM head one more (the root, gathered
 *   first, kept until the backward ends, reduced last). With `L` layers of forward `f`,
 *   backward `b` (recomputation included), per-layer gather `g` and reduce-scatter `r`,
 *   the root's `g_e`, `r_e`, the embedding's compute `e₁` and the LM head's `e₂`
 *   (backward twice), and `x ⊖ c = x − min(o_dp·x, c)` what of a collective `x` its
 *   neighbour's compute `c` leaves:
 *
 *       forward:  g_e + (g ⊖ e₁) + (L − 1)·(g ⊖ f)         each layer prefetches the next one's gather
 *       backward: (g ⊖ 2e₂) + (g ⊖ b) + (L − 2)·(g + r ⊖ b) + (r ⊖ b) + (r ⊖ 2e₁) + r_e
 *
 *   in the backward each layer prefetches the next gather while the previous layer's
 *   reduce-scatter runs on the same links: both hide behind one layer's compute, not
 *   twice ({@link zeroExposedSeconds}). ZeRO-2 is the same with no gathers.
 *
 * The pipeline (Narayanan et al. 2021, section 2.2): with `m` micro-batches and `v`
 * virtual stages, 1F1B and its interleaved form take `m·t_max + (Σ_i t_i − t_max)/v`;
 * for equal stages that is `(m + (p − 1)/v)·t`, the bubble `(p − 1)/(m·v)` of the
 * paper. The first and the last stage hold the embedding and the LM head, so they are
 * slower, and the slowest stage sets the pace.
 *
 * After the pipeline drains: the data-parallel gradient reduction (all-reduce; a
 * reduce-scatter with a sharded optimizer) runs in buckets during the last
 * micro-batch's backward, so only what exceeds that backward, and the last bucket, is
 * exposed (Megatron-Core's `overlap_grad_reduce`, buckets of `max(40M, 1M·dp)`
 * parameters, `distributed_data_parallel_config.py`); ZeRO-1 and 2 then all-gather the
 * updated parameters; the optimizer step reads and writes the optimizer state of every
 * parameter a GPU updates, at the memory bandwidth. The stage with the most of it sets
 * the time (conservative: the first stage finishes its backward last).
 *
 * Offload to host memory (Calculon's three kinds: Isaev et al. 2023, "Calculon: a
 * Methodology and Tool for High-Level Co-Design of Systems and Large Language
 * Models", SC'23, section 3, and its `llm.py`), over each GPU's link to the host
 * (the cluster's `host`: PCIe, NVLink-C2C), by copy engines that take no SMs:
 * - weights: the stage's 16-bit weights (and fp8 copies) live in host memory; each
 *   layer's are fetched before its forward and again before its backward, the next
 *   layer's while the current one computes, so the GPU holds two layers' worth;
 * - activations: what the stage stores for the backward is written to the host as the
 *   forward makes it and read back before the backward needs it, two layers' worth
 *   resident;
 * - optimizer: the optimizer state lives in host memory and the step streams it
 *   through the GPU, read and written back at once (a full-duplex link), at least
 *   `state / host bandwidth` seconds; two layers' worth resident.
 * Per micro-batch, a forward moves `max(W, A)` (weights in, activations out: opposite
 * directions) and a backward `W + A` (both in), for the stage's weight bytes `W` and
 * stored activation bytes `A`; what exceeds the forward (the backward with its
 * recomputation) is exposed. Host memory holds what is offloaded and must fit the
 * device's share of it.
 *
 * @example
 * import { defaultCostModels } from '@meshplan/cost-models'
 * import { estimateTraining } from '@meshplan/training'
 * const e = estimateTraining(defaultCostModels)({ model, cluster, strategy, precision, workload })
 * // right({ iterationSeconds, tokensPerSecondPerGpu, mfu, breakdown: { compute, bubble, exposed: { tp, cp, ep, pp, dp }, optimizer }, stages, ... })
 */
import * as E from 'fp-ts/Either'
import type { PreparedGroup } from '@meshplan/collectives'
import { causalModelFlopsPerToken, FLASH_BACKWARD_RATIO, modelFlopsPerToken, peakOf, precompute, TrainingPart, trainingParts, type AttentionKernel } from '@meshplan/compute'
import {
  communicationBytes,
  costModelError,
  defaultTrainingAssumptions,
  dispatchBytes,
  estimateError,
  type CostModels,
  type EstimateError,
  type GradientReduce,
  type TrainingAssumptions,
} from '@meshplan/cost-models'
import { prepareGroup, type GroupCache } from '@meshplan/cost-models/internal'
import { defaultGradientBytes, everyOtherMatmulApplies, fp32GradientBytes, fp8WeightCopyBytes, kvElementsPerLayer, largestUnitParameters, type ActivationInput, type MemoryModel, type SelectivePolicy, type ZeroStage } from '@meshplan/memory'
import { isMoeLayer, type Architecture, type Precision } from '@meshplan/model'
import { defaultOrder, expertDataParallel, layersOfStage, layout, withEvenSplit, type Order, type Strategy } from '@meshplan/parallelism'
import type { Cluster } from '@meshplan/topology'
import { bytesPerElement } from '@meshplan/units'
import type { RecomputeMode, Schedule, TrainingWorkload } from './workload'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A training deployment: the model, the cluster, the strategy (with sequence parallelism and virtual stages), the formats, the step. */
export interface TrainingInput {
  readonly model: Architecture
  readonly cluster: Cluster
  readonly strategy: Strategy
  readonly precision: Precision
  readonly workload: TrainingWorkload
  /** Rank order of the layout (default Megatron's tp-cp-ep-dp-pp). */
  readonly order?: Order
}

/** Everything that depends only on the model, the cluster, the formats and the step's sequence length. */
export interface TrainingContext {
  readonly models: CostModels
  readonly assumptions: TrainingAssumptions
  readonly model: Architecture
  readonly cluster: Cluster
  readonly precision: Precision
  readonly sequenceLength: number
  readonly order: Order | undefined
  /** Model FLOPs per token (no recomputation) of a causal model: `6N + causal attention`, @meshplan/compute's `causalModelFlopsPerToken`. */
  readonly flopsPerToken: number
  /** The same as the papers count them, attention over the whole sequence (@meshplan/compute's `modelFlopsPerToken`). */
  readonly fullAttentionFlopsPerToken: number
  /** The device's dense peak in the compute format, FLOP/s. */
  readonly peak: number
  readonly weightBytes: number
  /** Bytes per gradient element: 4 when they are accumulated and reduced in fp32, else the weights' format at least 16-bit ({@link gradientBytesOf}). */
  readonly gradientBytes: number
  /** Bytes of fp8 weight copies per layer GEMM parameter (FP8 training; @meshplan/memory's `fp8WeightCopyBytes`). */
  readonly fp8CopyBytes: number
  /** The compute model's attention kernel: `unfused` keeps the score matrices and the dropout masks (Korthikanti et al. 2022). */
  readonly attentionKernel: AttentionKernel
  /** What selective recomputation keeps and re-runs ({@link selectiveRecomputeOf}). */
  readonly selective: SelectiveRecompute
  /** Bytes of an activation element on the wire ({@link communicationBytes}). */
  readonly activationBytes: number
  readonly reserve: number
  readonly capacity: number
  /** The device's share of host memory and its link to it, per direction (0 without the cluster's `host`: no offload). */
  readonly hostCapacity: number
  readonly hostBandwidth: number
  readonly groups: GroupCache
  /** @meshplan/compute's forward parts of a layer (`trainingParts`) per shard shape. */
  readonly parts: Map<string, Float64Array>
  readonly placements: Map<string, TrainingGroups>
  readonly strategies: Map<string, StrategyConstants>
  readonly micro: Map<string, MicroConstants>
  readonly activations: Map<string, StoredActivations>
  /** Scratch for one stage's times; overwritten by every evaluation. */
  readonly scratch: StageTimes
}

/** One class of pipeline stages (the same layers and role): what the inner loop reads of it. */
export interface StageClassConstants {
  /** Pipeline ranks in the class. */
  ranks: number
  /** Its lowest pipeline rank (it holds the most micro-batches in flight). */
  readonly rank: number
  readonly layers: number
  readonly moeLayers: number
  /** 1 when it holds the embedding (rank 0), else 0: a factor of the embedding's time. */
  readonly first: number
  /** 1 when it holds the LM head (rank p − 1), else 0. */
  readonly last: number
  /** Parameters on one GPU outside routed experts, and of routed experts. */
  readonly denseParameters: number
  readonly expertParameters: number
  /** The layers' GEMM parameters outside routed experts, and of routed experts: what FP8 training keeps fp8 copies of. */
  readonly gemmDenseParameters: number
  readonly gemmExpertParameters: number
  /** Seconds of the gradient all-reduce, reduce-scatter and parameter all-gather of the stage over its data-parallel groups. */
  readonly allReduce: number
  readonly reduceScatter: number
  readonly allGather: number
  /**
   * ZeRO-3 / FSDP units: seconds of one layer's parameter all-gather and gradient
   * reduce-scatter (the mean over the stage's layers), and of the root unit's (the
   * embedding and LM head the stage holds).
   */
  readonly layerGather: number
  readonly layerReduce: number
  readonly rootGather: number
  readonly rootReduce: number
  /** ZeRO-3: parameters of the largest layer unit and of the root unit on one GPU before sharding (what a gather materialises). */
  readonly largestUnit: number
  readonly rootUnit: number
  /** The last bucket's share of the reduction, in (0, 1]. */
  readonly bucket: number
  /** Seconds of the optimizer step, unsharded and sharded by ZeRO ≥ 1. */
  readonly optimizer: number
  readonly optimizerSharded: number
}

/** A strategy's degrees, its pipeline stage classes and its priced groups. */
export interface StrategyConstants {
  readonly strategy: Strategy
  readonly classes: ReadonlyArray<StageClassConstants>
  /** The class of each pipeline rank. */
  readonly rankClass: ReadonlyArray<number>
  readonly world: number
  readonly groups: Readonly<Record<'tp' | 'cp' | 'ep' | 'pp', PreparedGroup | undefined>>
  /** Sizes of the dense (dp · cp) and expert data-parallel groups. */
  readonly dpGroup: number
  readonly expertGroup: number
  /** The rank order the groups were laid out in (the context's when absent), and the groups it gave. */
  readonly order: Order | undefined
  readonly placement: TrainingGroups
}

/** {@link microConstants}: the forward seconds of each part of a layer (@meshplan/compute's `TrainingPart`), then per-micro-batch communication units. */
export interface MicroConstants {
  /** The forward of the operators every layer has (norms, attention block, residual adds). */
  readonly layer: number
  /** The forward of a dense MLP block, and of an MoE block. */
  readonly dense: number
  readonly moe: number
  /** The forward of the attention core alone (what selective recomputation re-runs); part of `layer`. */
  readonly core: number
  /** The forward of the embedding (first stage), and of the final norm, LM head and loss (last stage). */
  readonly first: number
  readonly last: number
  /** Forward TP seconds of one layer (two all-reduces, or two reduce-scatter + all-gather pairs). */
  readonly tp: number
  /** Forward EP seconds of one MoE layer (dispatch and combine). */
  readonly ep: number
  /** Forward CP seconds of one layer (the ring's all-gather of keys and values). */
  readonly cp: number
  /** Seconds of one pipeline send of a chunk's activations (or gradients). */
  readonly pp: number
  /** Backward TP seconds of one layer beyond the forward's: sequence parallelism's re-gathered GEMM inputs. */
  readonly tpRedo: number
  /** The forward GEMM seconds of `layer`, `dense` and `moe` (what tensor-parallel communication can overlap with). */
  readonly layerGemm: number
  readonly denseGemm: number
  readonly moeGemm: number
  /** Seconds a dense layer re-runs per micro-batch under selective recomputation ({@link selectiveSeconds} of one dense layer). */
  readonly selectiveDense: number
  /** What a layer's backward costs beyond twice its forward: the fused attention core's `(FLASH_BACKWARD_RATIO − 2)` times its forward. */
  readonly flashBackward: number
}

/** {@link activationConstants}: activation bytes one GPU keeps. */
export interface StoredActivations {
  /** Kept per dense layer and micro-batch under the recomputation. */
  readonly dense: number
  /** Kept per MoE layer and micro-batch. */
  readonly moe: number
  /** A dense and an MoE layer without recomputation (full recomputation rebuilds one at a time). */
  readonly denseWhole: number
  readonly moeWhole: number
  /** Outside the layers: the first stage's per micro-batch in flight, the last stage's once. */
  readonly firstPerMicroBatch: number
  readonly last: number
}

/** What {@link trainingStageSeconds} writes: one micro-batch on one GPU of a stage class, seconds. */
export interface StageTimes {
  forward: number
  /** Forward and backward, `3 × forward`. */
  forwardBackward: number
  recompute: number
  tp: number
  ep: number
  cp: number
  pp: number
  dp: number
  /** What of each kind's communication is on the critical path. */
  tpExposed: number
  epExposed: number
  cpExposed: number
  ppExposed: number
  dpExposed: number
  /** Communication hidden behind the compute. */
  hidden: number
  /** Compute lost to the SMs the hidden communication occupies (`commSmShare · hidden`). */
  contention: number
  /** Seconds of host-link traffic of offload, and what of it the compute leaves exposed. */
  offload: number
  offloadExposed: number
  /** Compute, contention, exposed communication and exposed offload traffic. */
  total: number
}

/** The figures {@link evaluateTraining} writes: one object per search, overwritten by every evaluation. */
export interface TrainingFigures {
  /** Seconds of one optimizer step. */
  iteration: number
  tokensPerSecondPerGpu: number
  /** Model FLOP/s per GPU (no recomputation counted), and over the peak: MFU. */
  modelFlopsPerGpu: number
  mfu: number
  /** Bytes on the fullest GPU, and whether it fits (its host memory too, when it offloads). */
  memoryPerGpu: number
  /** Bytes the fullest GPU keeps in host memory (offload). */
  hostMemoryPerGpu: number
  fits: boolean
  /** The step's parts, summing to `iteration`: the slowest stage's compute over m micro-batches, the pipeline bubble, exposed communication per kind, the optimizer step. */
  compute: number
  /** Compute lost to the SMs that hidden communication occupies, over m micro-batches. */
  contention: number
  bubble: number
  tp: number
  cp: number
  ep: number
  pp: number
  dp: number
  /** Host-link traffic of offload the compute leaves exposed, over m micro-batches. */
  offload: number
  optimizer: number
  microBatches: number
  /** Index of the slowest stage class. */
  slowest: number
}

const RECOMPUTE: Readonly<Record<RecomputeMode, number>> = { none: 0, selective: 1, full: 2 }

/** Offload as the inner loop's bits: weights, activations, optimizer state (see the module comment). */
export const OFFLOAD_WEIGHTS = 1
export const OFFLOAD_ACTIVATIONS = 2
export const OFFLOAD_OPTIMIZER = 4

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** Zeroed {@link StageTimes} (every field present, so the inner loop sees one shape). */
export const stageTimes = (): StageTimes => ({
  forward: 0,
  forwardBackward: 0,
  recompute: 0,
  tp: 0,
  ep: 0,
  cp: 0,
  pp: 0,
  dp: 0,
  tpExposed: 0,
  epExposed: 0,
  cpExposed: 0,
  ppExposed: 0,
  dpExposed: 0,
  hidden: 0,
  contention: 0,
  offload: 0,
  offloadExposed: 0,
  total: 0,
})

/** Zeroed {@link TrainingFigures} for `evaluateTraining` to fill. */
export const trainingFigures = (): TrainingFigures => ({
  iteration: 0,
  tokensPerSecondPerGpu: 0,
  modelFlopsPerGpu: 0,
  mfu: 0,
  memoryPerGpu: 0,
  hostMemoryPerGpu: 0,
  fits: false,
  compute: 0,
  contention: 0,
  bubble: 0,
  tp: 0,
  cp: 0,
  ep: 0,
  pp: 0,
  dp: 0,
  offload: 0,
  optimizer: 0,
  microBatches: 0,
  slowest: 0,
})

/** Checks the formats against the device and computes the constants of the model on the cluster. */
export const trainingContext = (
  models: CostModels,
  input: {
    readonly model: Architecture
    readonly cluster: Cluster
    readonly precision: Precision
    readonly sequenceLength: number
    readonly order?: Order
    /** The workload's gradient format; absent, the training assumption's. */
    readonly gradientReduce?: GradientReduce
  },
): E.Either<EstimateError, TrainingContext> => {
  const { model, cluster, precision, sequenceLength } = input
  const flops = causalModelFlopsPerToken(sequenceLength)(model)
  if (E.isLeft(flops)) return E.left(estimateError('invalid-workload', `workload.seq_len: ${flops.left.message}`))
  const fullAttention = modelFlopsPerToken(sequenceLength)(model)
  if (E.isLeft(fullAttention)) return E.left(estimateError('invalid-workload', `workload.seq_len: ${fullAttention.left.message}`))
  const peak = peakOf(cluster.device, models.compute.computeDtype(precision))
  if (E.isLeft(peak)) return E.left(costModelError('compute')(peak.left))
  const weightBytes = bytesPerElement(precision.weights)
  const assumptions = models.training ?? defaultTrainingAssumptions
  return E.right({
    models,
    assumptions,
    model,
    cluster,
    precision,
    sequenceLength,
    order: input.order,
    flopsPerToken: flops.right,
    fullAttentionFlopsPerToken: fullAttention.right,
    peak: peak.right,
    weightBytes,
    gradientBytes: gradientBytesOf(precision, input.gradientReduce ?? assumptions.gradientReduce),
    fp8CopyBytes: fp8WeightCopyBytes(precision),
    attentionKernel: models.compute.attentionKernel ?? 'flash',
    selective: selectiveRecomputeOf(assumptions.selectivePolicy, model, precision),
    activationBytes: communicationBytes(precision),
    reserve: models.memory.reserve(cluster.device),
    capacity: cluster.device.memory,
    hostCapacity: cluster.host?.memory ?? 0,
    hostBandwidth: cluster.host?.bandwidth ?? 0,
    groups: new Map(),
    parts: new Map(),
    placements: new Map(),
    strategies: new Map(),
    micro: new Map(),
    activations: new Map(),
    scratch: stageTimes(),
  })
}

/** The rank order in a cache key: nothing for the default (Megatron-LM's), else the order. */
const orderKey = (order: Order | undefined): string => {
  const key = order === undefined ? '' : order.join('-')
  return key === '' || key === defaultOrder.join('-') ? '' : `|${key}`
}

/** The degrees that place ranks (virtual stages and sequence parallelism do not move a rank's groups). */
const placementKey = (s: Strategy): string => `${s.tp}/${s.pp}/${s.dp}/${s.cp}/${s.ep}/${s.etp}`

/**
 * The degrees and the pipeline split, which set the stages' layers, and sequence
 * parallelism, which the constants' strategy carries into the composition (whether TP
 * collectives can overlap their GEMMs).
 */
const degreesKey = (s: Strategy): string =>
  `${placementKey(s)}/${s.virtualStages}/${s.sequenceParallel}${s.pipelineSplit === undefined ? '' : JSON.stringify(s.pipelineSplit)}`

/** The priced groups of a strategy's layout, one per kind (undefined for a group of one); groups of the same span are one object. */
export type TrainingGroups = Readonly<Record<'tp' | 'cp' | 'ep' | 'pp' | 'dp-cp' | 'edp', PreparedGroup | undefined>>

/** Whether two layouts price every group alike: the same prepared group (one per span, shared through the context) for each kind. */
export const samePlacement = (a: TrainingGroups, b: TrainingGroups): boolean =>
  a.tp === b.tp && a.cp === b.cp && a.ep === b.ep && a.pp === b.pp && a['dp-cp'] === b['dp-cp'] && a.edp === b.edp

/** The priced groups of `s`'s layout, shared by the strategies that place ranks alike. */
const groupsOf = (c: TrainingContext, s: Strategy, order: Order | undefined): E.Either<EstimateError, TrainingGroups> => {
  const key = `${placementKey(s)}${orderKey(order)}`
  const known = c.placements.get(key)
  if (known !== undefined) return E.right(known)
  const laid = layout(c.cluster, order, { moe: c.model.moe !== undefined })(s)
  if (E.isLeft(laid)) return E.left(estimateError('invalid-strategy', laid.left.message))
  const l = laid.right
  const groups: Record<keyof TrainingGroups, PreparedGroup | undefined> = { tp: undefined, cp: undefined, ep: undefined, pp: undefined, 'dp-cp': undefined, edp: undefined }
  for (const kind of ['tp', 'cp', 'ep', 'pp', 'dp-cp', 'edp'] as const) {
    const g = prepareGroup(c.models, c.cluster, l.groups[kind].widest, c.groups)
    if (E.isLeft(g)) return g
    groups[kind] = g.right
  }
  c.placements.set(key, groups)
  return E.right(groups)
}

/**
 * The constants of strategy `s` (sequence parallelism aside): its stage classes and
 * their data-parallel traffic and optimizer time. Assumes `s` is valid for the model on
 * the cluster (the search enumerates valid ones; the estimate validates first).
 */
export const strategyConstants = (c: TrainingContext, s: Strategy, order: Order | undefined = c.order): E.Either<EstimateError, StrategyConstants> => {
  const key = `${degreesKey(s)}${orderKey(order)}`
  const known = c.strategies.get(key)
  if (known !== undefined) return E.right(known)
  const groups = groupsOf(c, s, order)
  if (E.isLeft(groups)) return groups
  const g = groups.right
  const memory = c.models.memory
  const dpGroup = s.dp * s.cp
  const expertGroup = expertDataParallel(s)
  const bucket = c.assumptions.bucketParameters(s.dp)
  const K = memory.optimizerBytesPerParameter
  // Adam reads and writes its state (fp32 master weights, momentum, variance: 2K bytes), reads the gradient, writes the 16-bit weights
  const updateBytes = 2 * K + c.gradientBytes + c.weightBytes
  const rows: StageClassConstants[] = []
  const rankClass: number[] = []
  const seen = new Map<string, number>()
  const moeLayer = isMoeLayer(c.model)
  for (let rank = 0; rank < s.pp; rank++) {
    const layers = layersOfStage(c.model, s)(rank)
    const moeLayers = layers.filter(moeLayer).length
    const p = memory.stageParameters(c.model, s)(rank)
    const first = rank === 0 ? 1 : 0
    const last = rank === s.pp - 1 ? 1 : 0
    const signature = `${layers.length}/${moeLayers}/${first}/${last}/${p.denseTotal}/${p.expertTotal}`
    const index = seen.get(signature)
    const row = index === undefined ? undefined : rows[index]
    if (index !== undefined && row !== undefined) {
      row.ranks++
      rankClass.push(index)
      continue
    }
    const grads = p.denseTotal * c.gradientBytes
    const expertGrads = p.expertTotal * c.gradientBytes
    const time = (g: PreparedGroup | undefined, op: 'all_reduce' | 'reduce_scatter' | 'all_gather', bytes: number): number =>
      g === undefined || bytes <= 0 ? 0 : g.time(op, bytes)
    const optimizer = (sharded: boolean): number => {
      const params = sharded ? p.denseTotal / dpGroup + p.expertTotal / expertGroup : p.denseTotal + p.expertTotal
      const bytes = params * updateBytes
      return bytes / (c.cluster.device.memoryBandwidth * Math.min(1, Math.max(1e-6, c.models.compute.efficiency.memory(bytes, c.cluster.device))))
    }
    const total = p.denseTotal + p.expertTotal
    // FSDP units: each layer (its share of the stage's attention and norms, its dense MLP or its MoE block), and the root (embedding, LM head)
    const L = layers.length
    const denseLayers = L - moeLayers
    const root = p.embedding + p.lmHead
    const common = L > 0 ? (p.denseTotal - root - p.denseMlp - p.sharedExperts - p.router) / L : 0
    const denseUnit = common + (denseLayers > 0 ? p.denseMlp / denseLayers : 0)
    const moeUnit = common + (moeLayers > 0 ? (p.sharedExperts + p.router) / moeLayers : 0)
    const expertUnit = moeLayers > 0 ? p.expertTotal / moeLayers : 0
    const unit = (op: 'all_gather' | 'reduce_scatter', elementBytes: number): number =>
      L === 0
        ? 0
        : (denseLayers * time(g['dp-cp'], op, denseUnit * elementBytes) +
            moeLayers * (time(g['dp-cp'], op, moeUnit * elementBytes) + time(g.edp, op, expertUnit * elementBytes))) /
          L
    const fresh: StageClassConstants = {
      ranks: 1,
      rank,
      layers: L,
      moeLayers,
      first,
      last,
      denseParameters: p.denseTotal,
      expertParameters: p.expertTotal,
      gemmDenseParameters: p.attention + p.denseMlp + p.sharedExperts,
      gemmExpertParameters: p.routedExperts,
      allReduce: time(g['dp-cp'], 'all_reduce', grads) + time(g.edp, 'all_reduce', expertGrads),
      reduceScatter: time(g['dp-cp'], 'reduce_scatter', grads) + time(g.edp, 'reduce_scatter', expertGrads),
      allGather: time(g['dp-cp'], 'all_gather', p.denseTotal * c.weightBytes) + time(g.edp, 'all_gather', p.expertTotal * c.weightBytes),
      layerGather: unit('all_gather', c.weightBytes),
      layerReduce: unit('reduce_scatter', c.gradientBytes),
      rootGather: time(g['dp-cp'], 'all_gather', root * c.weightBytes),
      largestUnit: largestUnitParameters(p, L, moeLayers),
      rootUnit: root,
      rootReduce: time(g['dp-cp'], 'reduce_scatter', root * c.gradientBytes),
      bucket: total > 0 ? Math.min(1, bucket / total) : 1,
      optimizer: optimizer(false),
      optimizerSharded: optimizer(true),
    }
    seen.set(signature, rows.length)
    rankClass.push(rows.length)
    rows.push(fresh)
  }
  const constants: StrategyConstants = {
    strategy: s,
    classes: rows,
    rankClass,
    world: s.tp * s.pp * s.dp * s.cp,
    groups: { tp: g.tp, cp: g.cp, ep: g.ep, pp: g.pp },
    dpGroup,
    expertGroup,
    order,
    placement: g,
  }
  c.strategies.set(key, constants)
  return E.right(constants)
}

/**
 * The forward time of each part of a layer for micro-batches of `microBatch` sequences
 * under `s` (with its sequence-parallel setting), and the per-micro-batch communication
 * units. The compute parts are shared by every strategy with the same shard shape.
 */
export const microConstants = (c: TrainingContext, k: StrategyConstants, s: Strategy, microBatch: number): E.Either<EstimateError, MicroConstants> => {
  const microKey = `${placementKey(s)}${orderKey(k.order)}/${s.sequenceParallel}/${microBatch}`
  const cached = c.micro.get(microKey)
  if (cached !== undefined) return E.right(cached)
  // the routed share of an MoE layer depends on dp too; a dense model's parts do not
  const shapeKey = `${s.tp}/${s.cp}/${s.ep}/${s.etp}/${c.model.moe === undefined ? 0 : s.dp}/${s.sequenceParallel}/${microBatch}`
  let parts = c.parts.get(shapeKey)
  if (parts === undefined) {
    const whole = precompute(c.models.compute, { arch: c.model, strategy: withEvenSplit({ ...s, pp: 1, virtualStages: 1 }), precision: c.precision, ppRank: 0 }, c.cluster.device)
    if (E.isLeft(whole)) return E.left(costModelError('compute')(whole.left))
    parts = trainingParts(whole.right, c.sequenceLength, microBatch, new Float64Array(TrainingPart.count))
    c.parts.set(shapeKey, parts)
  }
  const part = (i: number): number => parts[i] ?? 0
  const g = k.groups
  const tokens = microBatch * c.sequenceLength
  const layerBytes = (tokens / s.cp) * c.model.hidden * c.activationBytes
  const out: MicroConstants = {
    layer: part(TrainingPart.layer),
    dense: part(TrainingPart.dense),
    moe: part(TrainingPart.moe),
    core: part(TrainingPart.core),
    first: part(TrainingPart.first),
    last: part(TrainingPart.last),
    tp:
      g.tp === undefined
        ? 0
        : 2 * (s.sequenceParallel ? g.tp.time('reduce_scatter', layerBytes) + g.tp.time('all_gather', layerBytes) : g.tp.time('all_reduce', layerBytes)),
    ep: g.ep === undefined ? 0 : 2 * g.ep.time('all_to_all', dispatchBytes(s, c.model.moe?.topK ?? 0, c.model.hidden, c.activationBytes, tokens)),
    cp: g.cp === undefined ? 0 : g.cp.time('all_gather', tokens * kvElementsPerLayer(c.model)(s.tp) * c.activationBytes),
    // Megatron-LM splits the tensor over the TP ranks, each sends its 1/tp (scatter-gather, on by default), and the receiver's TP group all-gathers it over the scale-up links
    pp: g.pp === undefined ? 0 : g.pp.time('send_recv', layerBytes / s.tp) + (s.sequenceParallel || g.tp === undefined ? 0 : g.tp.time('all_gather', layerBytes)),
    // sequence parallelism keeps only each rank's shard of the inputs of the QKV and first MLP GEMMs; the backward all-gathers them again for the weight gradients
    tpRedo: g.tp === undefined || !s.sequenceParallel ? 0 : 2 * g.tp.time('all_gather', layerBytes),
    layerGemm: part(TrainingPart.layerGemm),
    denseGemm: part(TrainingPart.denseGemm),
    moeGemm: part(TrainingPart.moeGemm),
    selectiveDense: 0,
    flashBackward: (FLASH_BACKWARD_RATIO - 2) * part(TrainingPart.flashCore),
  }
  const withSelective: MicroConstants = { ...out, selectiveDense: selectiveSeconds(c.selective, out, 1, 0) }
  c.micro.set(microKey, withSelective)
  return E.right(withSelective)
}

/**
 * What selective recomputation re-runs in a context (see `@meshplan/memory`'s
 * `SelectivePolicy`): the policy; whether torchtitan's `'every-other-matmul'` applies
 * (dense layers of standard attention: not MLA); and then the share of the attention
 * block's GEMM time it re-runs, K and the output projection, half of Q, K, V and O's
 * FLOPs (Q and O have the same shape, and so have K and V), and of the MLP's, a SwiGLU's
 * up projection (one of three equal GEMMs) or a 2-matrix MLP's second (one of two).
 * With 8-bit activations the GEMMs run as `_scaled_mm`, which torchtitan's save list
 * leaves out: all of them are re-run.
 */
export interface SelectiveRecompute {
  readonly policy: SelectivePolicy
  readonly applies: boolean
  readonly attentionGemmShare: number
  readonly mlpGemmShare: number
}

/** The {@link SelectiveRecompute} of `policy` (default `'attention-core'`) for `model` in `precision`. */
export const selectiveRecomputeOf = (policy: SelectivePolicy | undefined, model: Architecture, precision: Precision): SelectiveRecompute => {
  const p = policy ?? 'attention-core'
  const eightBit = bytesPerElement(precision.activations) < 2
  return {
    policy: p,
    applies: p === 'every-other-matmul' && everyOtherMatmulApplies(model, false),
    attentionGemmShare: eightBit ? 1 : 1 / 2,
    mlpGemmShare: eightBit ? 1 : model.mlp.kind !== 'gelu' ? 1 / 3 : 1 / 2,
  }
}

/**
 * Seconds one micro-batch re-runs under selective recomputation, for `Ld` dense and `Lm`
 * MoE layers: each layer's attention core under `'attention-core'`; under
 * `'every-other-matmul'`, each dense layer's operators outside the attention core that
 * are not GEMMs (norms, rotary embedding, residual adds, the activation) and its share of
 * the attention block's and the MLP's GEMMs ({@link SelectiveRecompute}), and each MoE
 * layer's attention core.
 */
export const selectiveSeconds = (sr: SelectiveRecompute, u: MicroConstants, Ld: number, Lm: number): number => {
  if (!sr.applies) return (Ld + Lm) * u.core
  const attentionOther = u.layer - u.core - u.layerGemm
  const mlpOther = u.dense - u.denseGemm
  const dense = (attentionOther > 0 ? attentionOther : 0) + sr.attentionGemmShare * u.layerGemm + (mlpOther > 0 ? mlpOther : 0) + sr.mlpGemmShare * u.denseGemm
  return Ld * dense + Lm * u.core
}

/**
 * What the memory model is told of the attention: FlashAttention keeps no score matrix
 * and, as current recipes, no dropout; the unfused kernel stands for Megatron-LM's GPT
 * recipe of 2021-22, score matrices and dropout masks kept (attention and hidden dropout,
 * Korthikanti et al. 2022, section 4.1: the `34 + 5as/h` of their equation 1).
 */
export const activationFlags = (kernel: AttentionKernel): { readonly dropout: boolean; readonly flashAttention: boolean } =>
  kernel === 'unfused' ? { dropout: true, flashAttention: false } : { dropout: false, flashAttention: true }

/**
 * Activation bytes one GPU keeps per layer and micro-batch under `recompute`, from the
 * memory model (`storedLayerBytes`, `edgeActivationBytes`), for micro-batches of
 * `microBatch` under `s`. Shared by every strategy with the same shard shape.
 */
export const activationConstants = (c: TrainingContext, s: Strategy, microBatch: number, recompute: RecomputeMode): StoredActivations => {
  const key = `${s.tp}/${s.cp}/${s.ep}/${s.etp}/${s.sequenceParallel}/${microBatch}/${recompute}`
  const known = c.activations.get(key)
  if (known !== undefined) return known
  const memory: MemoryModel = c.models.memory
  // a two-stage pipeline separates the first stage's edge from the last's; the attention kernel says what a layer keeps
  const input: ActivationInput = {
    model: c.model,
    strategy: withEvenSplit({ ...s, pp: 2, virtualStages: 1 }),
    sequenceLength: c.sequenceLength,
    microBatch,
    dtype: c.precision.activations,
    ...activationFlags(c.attentionKernel),
    ...(c.selective.policy === 'attention-core' ? {} : { selective: c.selective.policy }),
  }
  const out: StoredActivations = {
    dense: memory.storedLayerBytes(input, recompute)(false),
    moe: memory.storedLayerBytes(input, recompute)(true),
    denseWhole: memory.storedLayerBytes(input, 'none')(false),
    moeWhole: memory.storedLayerBytes(input, 'none')(true),
    firstPerMicroBatch: memory.edgeActivationBytes(input, 0, 1) - memory.edgeActivationBytes(input, 0, 0),
    last: memory.edgeActivationBytes(input, 1, 1),
  }
  c.activations.set(key, out)
  return out
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** What of a collective of `x` seconds the compute `c` beside it leaves exposed, when `overlap` of it can run concurrently: `x − min(overlap·x, c)`. */
const beyond = (x: number, c: number, overlap: number): number => {
  const hideable = overlap * x
  return x - (hideable < c ? hideable : c)
}

/**
 * Seconds of ZeRO-2/3 traffic one micro-batch leaves exposed on a stage of `layers`
 * FSDP units (see the module comment, which gives the formula): each layer's forward
 * `layerForward` and backward `layerBackward`, the embedding's forward `firstForward`
 * and the LM head's `lastForward` (their backward twice that), one layer's parameter
 * gather `gather` and gradient reduce-scatter `reduce`, the root unit's `rootGather`
 * and `rootReduce`; `overlap` is the fraction of a collective that can run beside
 * compute (1: prefetched). ZeRO-2 passes no gathers.
 */
export const zeroExposedSeconds = (
  layers: number,
  layerForward: number,
  layerBackward: number,
  firstForward: number,
  lastForward: number,
  gather: number,
  reduce: number,
  rootGather: number,
  rootReduce: number,
  overlap: number,
): number => {
  if (layers === 0) return rootGather + rootReduce
  // forward: the root's gather first, then each layer's gather behind the compute before it (the embedding, then layer by layer)
  let exposed = rootGather + beyond(gather, firstForward, overlap) + (layers - 1) * beyond(gather, layerForward, overlap)
  // backward: the last layer's gather behind the LM head's backward; then each layer prefetches the next gather while the
  // previous layer's reduce-scatter runs, both behind that layer's backward; the first layer's reduce-scatter behind the embedding's
  exposed += beyond(gather, 2 * lastForward, overlap)
  if (layers >= 2) exposed += beyond(gather, layerBackward, overlap) + (layers - 2) * beyond(gather + reduce, layerBackward, overlap) + beyond(reduce, layerBackward, overlap)
  exposed += beyond(reduce, 2 * firstForward, overlap) + rootReduce
  return exposed
}

/** Seconds of one micro-batch on stage class `k` of a strategy with micro-batch constants `u` (see the module comment), written into `out`. */
export const trainingStageSeconds = (
  c: TrainingContext,
  strategy: Strategy,
  k: StageClassConstants,
  u: MicroConstants,
  rc: number,
  zero: ZeroStage,
  out: StageTimes,
  epOverlap: number = c.models.overlap.ep,
  tpOverlap: number = c.assumptions.tpCommOverlap,
  stored?: StoredActivations,
  offload = 0,
): StageTimes => {
  const full = rc === 2 ? 1 : 0
  const ov = c.models.overlap
  const a = c.assumptions
  const L = k.layers
  const Lm = k.moeLayers
  const Ld = L - Lm
  const inLayers = L * u.layer + Ld * u.dense + Lm * u.moe
  const firstForward = k.first * u.first
  const lastForward = k.last * u.last
  const forward = inLayers + firstForward + lastForward
  const extra = rc === 1 ? Ld * u.selectiveDense + Lm * u.core : rc === 2 ? inLayers : 0
  // the fused attention core's backward recomputes its scores: beyond twice its forward
  const flash = L * u.flashBackward
  const compute = 3 * forward + flash + extra
  const tp = L * (u.tp * (2 + full) + u.tpRedo)
  const ep = Lm * u.ep * (2 + full)
  const cp = L * u.cp * (3 + full)
  const pp = 2 * strategy.virtualStages * u.pp
  // One budget: the stage's compute can hide each second of communication once, whichever collective it is
  // TP: userbuffers overlap each reduce-scatter and all-gather with its GEMM (sequence parallelism only), up to the GEMMs' time
  const tpHideable = strategy.sequenceParallel ? tpOverlap * tp : 0
  const gemms = tpHideable > 0 ? (L * u.layerGemm + Ld * u.denseGemm + Lm * u.moeGemm) * (3 + full) : 0
  const tpHidden = tpHideable < gemms ? tpHideable : gemms
  let budget = compute - tpHidden
  // DP: ZeRO-2/3 unit by unit, each collective behind the unit beside it, within what is left
  let dp = 0
  let dpHidden = 0
  if (zero >= 2) {
    const gather = zero === 3 ? k.layerGather : 0
    const rootGather = zero === 3 ? k.rootGather : 0
    // each layer gathered forward and again backward, the root once (kept until the backward ends); every unit reduced once
    dp = 2 * L * gather + rootGather + L * k.layerReduce + k.rootReduce
    const layerForward = L > 0 ? inLayers / L : 0
    const layerBackward = L > 0 ? (2 * inLayers + flash + extra) / L : 0
    const byUnit = dp - zeroExposedSeconds(L, layerForward, layerBackward, firstForward, lastForward, gather, k.layerReduce, rootGather, k.rootReduce, a.dpOverlap)
    dpHidden = byUnit < budget ? byUnit : budget
    budget -= dpHidden
  }
  // CP: the ring passes key and value blocks while the attention core computes on the current one, so only behind the core
  const cpHideable = ov.cp * cp
  const core = L * u.core * (3 + full) + flash
  const cpRoom = core < budget ? core : budget
  const cpHidden = cpHideable < cpRoom ? cpHideable : cpRoom
  budget -= cpHidden
  // EP, PP: behind what compute is left
  const hideable = epOverlap * ep + a.ppCommOverlap * pp
  const hidden = hideable < budget ? hideable : budget
  const share = hideable > 0 ? hidden / hideable : 0
  // what runs beside compute takes SMs from it: each hidden second costs `commSmShare` of a second of compute
  const overlapped = tpHidden + dpHidden + cpHidden + hidden
  const contention = a.commSmShare * overlapped
  out.forward = forward
  out.forwardBackward = 3 * forward + flash
  out.recompute = extra
  out.tp = tp
  out.ep = ep
  out.cp = cp
  out.pp = pp
  out.dp = dp
  out.tpExposed = tp - tpHidden
  out.epExposed = ep * (1 - epOverlap * share)
  out.cpExposed = cp - cpHidden
  out.ppExposed = pp * (1 - a.ppCommOverlap * share)
  out.dpExposed = dp - dpHidden
  out.hidden = overlapped
  out.contention = contention
  // offload: copy engines on the host link, beside the compute (see the module comment)
  let offloadSeconds = 0
  let offloadExposed = 0
  if (offload !== 0 && stored !== undefined && c.hostBandwidth > 0) {
    const w = (offload & OFFLOAD_WEIGHTS) !== 0 ? shardedWeightBytes(c, k, zero >= 3 ? strategy.dp * strategy.cp : 1, zero >= 3 ? expertDataParallel(strategy) : 1) : 0
    const act = (offload & OFFLOAD_ACTIVATIONS) !== 0 ? Ld * stored.dense + Lm * stored.moe : 0
    const fw = (w > act ? w : act) / c.hostBandwidth
    const bw = (w + act) / c.hostBandwidth
    const backward = 2 * forward + flash + extra
    offloadSeconds = fw + bw
    offloadExposed = (fw > forward ? fw - forward : 0) + (bw > backward ? bw - backward : 0)
  }
  out.offload = offloadSeconds
  out.offloadExposed = offloadExposed
  out.total = compute + contention + out.tpExposed + out.epExposed + out.cpExposed + out.ppExposed + out.dpExposed + offloadExposed
  return out
}

/** Bytes of the 16-bit weights (and fp8 copies) one GPU of stage class `k` holds, its dense weights sharded over `dW` GPUs and its experts over `eW` (ZeRO-3's groups, else 1). */
const shardedWeightBytes = (c: TrainingContext, k: StageClassConstants, dW: number, eW: number): number =>
  c.weightBytes * (k.denseParameters / dW + k.expertParameters / eW) + c.fp8CopyBytes * (k.gemmDenseParameters / dW + k.gemmExpertParameters / eW)

/** Where {@link stageBytes} writes the bytes a GPU keeps in host memory. */
export interface HostBytes {
  bytes: number
}

/**
 * Bytes on one GPU of stage class `k` (its lowest rank, which holds the most
 * micro-batches in flight) under ZeRO `zero`: the same terms as @meshplan/memory's
 * `trainingMemory`, from the constants.
 */
export const stageBytes = (
  c: TrainingContext,
  s: StrategyConstants,
  k: StageClassConstants,
  a: StoredActivations,
  microBatches: number,
  full: boolean,
  zero: ZeroStage,
  schedule: Schedule = '1f1b',
  offload = 0,
  host?: HostBytes,
): number => {
  // DualPipe: two stages' parameters, gradients and optimizer state per rank, pp + 1 micro-batches in flight
  const dualPipe = schedule === 'dualpipe'
  const L = k.layers
  const Lm = k.moeLayers
  const Ld = L - Lm
  const denseP = k.denseParameters
  const expertP = k.expertParameters
  const dW = zero >= 3 ? s.dpGroup : 1
  const dG = zero >= 2 ? s.dpGroup : 1
  const dO = zero >= 1 ? s.dpGroup : 1
  const eW = zero >= 3 ? s.expertGroup : 1
  const eG = zero >= 2 ? s.expertGroup : 1
  const eO = zero >= 1 ? s.expertGroup : 1
  // ZeRO-3 gathers unit by unit: the root kept from its gather to the end of the backward, the unit computing and the
  // one prefetched (FSDP's limit of two all-gathers in flight), and the unit's unsharded gradients before its reduce-scatter
  const gathered = zero >= 3 && s.dpGroup > 1 ? c.weightBytes * (k.rootUnit + 2 * k.largestUnit) + c.gradientBytes * k.largestUnit : 0
  const weights = shardedWeightBytes(c, k, dW, eW)
  const optimizer = c.models.memory.optimizerBytesPerParameter * (denseP / dO + expertP / eO)
  const inFlight = dualPipe ? s.strategy.pp + 1 : c.models.memory.microBatchesInFlight(s.strategy.pp, s.strategy.virtualStages, microBatches, k.rank)
  const stored = (Ld * a.dense + Lm * a.moe) * inFlight
  // offloaded kinds keep two layers' worth on the GPU (the one computing, the next in transfer), the rest in host memory
  const twoLayers = L > 2 ? 2 / L : 1
  const offWeights = (offload & OFFLOAD_WEIGHTS) !== 0
  const offActivations = (offload & OFFLOAD_ACTIVATIONS) !== 0
  const offOptimizer = (offload & OFFLOAD_OPTIMIZER) !== 0
  const denseStored = Ld > 0 ? a.dense : 0
  const moeStored = Lm > 0 ? a.moe : 0
  const layerStored = denseStored > moeStored ? denseStored : moeStored
  const storedOnGpu = offActivations ? Math.min(stored, 2 * layerStored) : stored
  const states =
    (dualPipe ? 2 : 1) *
    (gathered + (offWeights ? twoLayers * weights : weights) + c.gradientBytes * (denseP / dG + expertP / eG) + (offOptimizer ? twoLayers * optimizer : optimizer))
  if (host !== undefined) host.bytes = (dualPipe ? 2 : 1) * ((offWeights ? weights : 0) + (offOptimizer ? optimizer : 0)) + (offActivations ? stored : 0)
  const denseWhole = Ld > 0 ? a.denseWhole : 0
  const moeWhole = Lm > 0 ? a.moeWhole : 0
  const buffer = full ? (denseWhole > moeWhole ? denseWhole : moeWhole) : 0
  const edges = k.first * a.firstPerMicroBatch * inFlight + k.last * a.last
  return states + storedOnGpu + buffer + edges + c.reserve
}

/**
 * Seconds exposed after the pipeline drains on stage class `k` under ZeRO `zero`: the
 * gradient reduction (ZeRO 0 and 1) beyond the last micro-batch's backward
 * (`lastBackward`) plus the last bucket, and the parameter all-gather (ZeRO 1 and 2).
 */
export const drainSeconds = (c: TrainingContext, k: StageClassConstants, zero: ZeroStage, lastBackward: number): number => {
  let end = 0
  if (zero <= 1) {
    const reduce = zero === 0 ? k.allReduce : k.reduceScatter
    if (c.assumptions.overlapGradReduce) {
      const bucket = k.bucket * reduce
      const rest = reduce - bucket - lastBackward
      end = bucket + (rest > 0 ? rest : 0)
    } else end = reduce
  }
  if (zero === 1 || zero === 2) end += k.allGather
  return end
}

/**
 * The schedule's bubble over 1F1B's, from the slowest stage's forward `f`, whole backward
 * `b` (recomputation included) and weight-gradient part `w` of it (its GEMMs' forward
 * seconds: a weight gradient costs what the forward GEMM does; the attention core has
 * none). 1F1B's bubble is `(p − 1)(F + B)` per the DeepSeek-V3 report's table 2, with
 * `B` the whole backward; ZB-H1 fills it with weight gradients, `(p − 1)(F + B − 2W)`
 * (Qi et al. 2023, section 3); DualPipe `(p/2 − 1)(F&B + B − 3W)`, `F&B` a forward and
 * a backward chunk run together, `F + B` of compute (DeepSeek-V3 report, table 2).
 */
export const bubbleFactor = (schedule: Schedule, p: number, f: number, b: number, w: number): number => {
  const oneF1B = f + b
  if (schedule === '1f1b' || oneF1B <= 0 || p < 2) return 1
  if (schedule === 'zb-h1') return Math.max(0, f + b - 2 * w) / oneF1B
  return ((p / 2 - 1) * Math.max(0, f + 2 * b - 3 * w)) / ((p - 1) * oneF1B)
}

/** The fraction of EP traffic that can hide under `schedule`: all with DualPipe (each forward chunk paired with a backward one whose all-to-all it hides), else the cost models'. */
export const epOverlapOf = (c: TrainingContext, schedule: Schedule): number => (schedule === 'dualpipe' ? 1 : c.models.overlap.ep)

/**
 * Bytes per gradient element: fp32 accumulation and reduction keeps 4 (Megatron-LM's
 * bf16 default, torchtitan's `mixed_precision_reduce`), else the weights' format at
 * least 16-bit (@meshplan/memory's `defaultGradientBytes`).
 */
export const gradientBytesOf = (precision: Precision, reduce: GradientReduce): number => (reduce === 'fp32' ? fp32GradientBytes(precision) : defaultGradientBytes(precision))

/** The fraction of TP traffic that can hide behind its GEMMs: all or none as the workload's `tpCommOverlap` says, else the training assumption. */
export const tpOverlapOf = (c: TrainingContext, on: boolean | undefined): number => (on === undefined ? c.assumptions.tpCommOverlap : on ? 1 : 0)

/** Scratch for the host bytes of one stage, overwritten by every evaluation (single-threaded). */
const hostBytes: HostBytes = { bytes: 0 }

/** The recomputation modes as the inner loop's numbers. */
export const recomputeIndex: Readonly<Record<RecomputeMode, number>> = RECOMPUTE

/**
 * The figures of one candidate, written into `out`: strategy constants `s` (whose
 * strategy fixes the virtual stages), micro-batch constants `u` and stored activations
 * `a` of its micro-batch shape, `globalBatch` sequences per step in micro-batches of
 * `microBatch`, `recompute` and ZeRO `zero`. Plain arithmetic over the constants and
 * `c.scratch`; see the module comment for the composition.
 */
export const evaluateTraining = (
  c: TrainingContext,
  s: StrategyConstants,
  u: MicroConstants,
  a: StoredActivations,
  globalBatch: number,
  microBatch: number,
  recompute: RecomputeMode,
  zero: ZeroStage,
  out: TrainingFigures,
  schedule: Schedule = '1f1b',
  tpOverlap: number = c.assumptions.tpCommOverlap,
  offload = 0,
): TrainingFigures => {
  const strategy = s.strategy
  const v = strategy.virtualStages
  const epOverlap = epOverlapOf(c, schedule)
  const rc = RECOMPUTE[recompute]
  const m = globalBatch / (microBatch * strategy.dp)
  const t = c.scratch
  const classes = s.classes
  let sum = 0
  let max = -1
  let slowest = 0
  let drain = 0
  let optimizer = 0
  let memory = 0
  let hostMemory = 0
  let offloaded = 0
  const host = hostBytes
  // the slowest stage's parts, kept as the loop finds it
  let compute = 0
  let tp = 0
  let ep = 0
  let cp = 0
  let pp = 0
  let dp = 0
  let contention = 0
  // the slowest stage's forward, whole backward and weight-gradient seconds, for the schedule's bubble
  let slowF = 0
  let slowB = 0
  let slowW = 0
  for (let i = 0; i < classes.length; i++) {
    const k = classes[i] as StageClassConstants
    trainingStageSeconds(c, strategy, k, u, rc, zero, t, epOverlap, tpOverlap, a, offload)
    const seconds = t.total
    sum += k.ranks * seconds
    if (seconds > max) {
      max = seconds
      slowest = i
      compute = t.forwardBackward + t.recompute
      contention = t.contention
      tp = t.tpExposed
      ep = t.epExposed
      cp = t.cpExposed
      pp = t.ppExposed
      dp = t.dpExposed
      offloaded = t.offloadExposed
      slowF = t.forward
      slowB = t.forwardBackward - t.forward + t.recompute
      slowW = k.layers * u.layerGemm + (k.layers - k.moeLayers) * u.denseGemm + k.moeLayers * u.moeGemm
    }
    const end = drainSeconds(c, k, zero, t.forwardBackward - t.forward + t.recompute)
    if (end > drain) drain = end
    let opt = zero >= 1 ? k.optimizerSharded : k.optimizer
    if ((offload & OFFLOAD_OPTIMIZER) !== 0 && c.hostBandwidth > 0) {
      // the state streams through the GPU over the host link, in and out at once
      const state = c.models.memory.optimizerBytesPerParameter * (zero >= 1 ? k.denseParameters / s.dpGroup + k.expertParameters / s.expertGroup : k.denseParameters + k.expertParameters)
      const streamed = state / c.hostBandwidth
      if (streamed > opt) opt = streamed
    }
    if (opt > optimizer) optimizer = opt
    host.bytes = 0
    const bytes = stageBytes(c, s, k, a, m, rc === 2, zero, schedule, offload, host)
    if (bytes > memory) memory = bytes
    if (host.bytes > hostMemory) hostMemory = host.bytes
  }
  const bubble = ((sum - max) / v) * bubbleFactor(schedule, strategy.pp, slowF, slowB, slowW)
  const iteration = m * max + bubble + drain + optimizer
  const tokensPerGpu = (globalBatch * c.sequenceLength) / iteration / s.world
  out.iteration = iteration
  out.tokensPerSecondPerGpu = tokensPerGpu
  out.modelFlopsPerGpu = tokensPerGpu * c.flopsPerToken
  out.mfu = (tokensPerGpu * c.flopsPerToken) / c.peak
  out.memoryPerGpu = memory
  out.hostMemoryPerGpu = hostMemory
  out.fits = memory <= c.capacity && hostMemory <= c.hostCapacity
  // the slowest stage's parts, m times
  out.compute = m * compute
  out.contention = m * contention
  out.bubble = bubble
  out.tp = m * tp
  out.ep = m * ep
  out.cp = m * cp
  out.pp = m * pp
  out.dp = m * dp + drain
  out.offload = m * offloaded
  out.optimizer = optimizer
  out.microBatches = m
  out.slowest = slowest
  return out
}
