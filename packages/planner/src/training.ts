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
 *     t_i = compute_i + exposed_i
 *     compute_i = 3·F_i + R_i                      (backward = 2 × forward, Narayanan et al. 2021, section 5.1)
 *     F_i = L·layer + L_dense·dense + L_moe·moe + [first]·embedding + [last]·(norm + LM head + loss)
 *     R_i = L·core (selective) | F_i without the edges (full) | 0   (Korthikanti et al. 2022, sections 4 and 5)
 *     exposed_i = Σ_kind comm_kind − min(Σ_kind overlap_kind · comm_kind, compute_i)
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
 *   (Rajbhandari et al. 2020, section 5.2 and 5.3); prefetched and bucketed, so they
 *   overlap with compute ({@link TrainingAssumptions}).
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
 * @example
 * import { estimateTraining, defaultPlannerModels } from '@meshplan/planner'
 * const e = estimateTraining(defaultPlannerModels)({ model, cluster, strategy, precision, workload })
 * // right({ iterationSeconds, tokensPerSecondPerGpu, mfu, breakdown: { compute, bubble, exposed: { tp, cp, ep, pp, dp }, optimizer }, stages, ... })
 */
import * as E from 'fp-ts/Either'
import type { PreparedGroup } from '@meshplan/collectives'
import { modelFlopsPerToken, peakOf, precompute, TrainingPart, trainingParts } from '@meshplan/compute'
import { kvElementsPerLayer, type ActivationInput, type MemoryModel, type ZeroStage } from '@meshplan/memory'
import { isMoeLayer, type Architecture, type Precision } from '@meshplan/model'
import { expertDataParallel, layersOfStage, layout, type Order, type Strategy } from '@meshplan/parallelism'
import type { Cluster } from '@meshplan/topology'
import { bytesPerElement } from '@meshplan/units'
import { costModelError, plannerError, type PlannerError } from './error'
import { communicationBytes, dispatchBytes, prepareGroup, type GroupCache } from './fast'
import { defaultTrainingAssumptions, type PlannerModels, type TrainingAssumptions } from './models'
import type { RecomputeMode, TrainingWorkload } from './training-workload'

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
  readonly models: PlannerModels
  readonly assumptions: TrainingAssumptions
  readonly model: Architecture
  readonly cluster: Cluster
  readonly precision: Precision
  readonly sequenceLength: number
  readonly order: Order | undefined
  /** Model FLOPs per token (no recomputation): `6N + attention`, @meshplan/compute's `modelFlopsPerToken`. */
  readonly flopsPerToken: number
  /** The device's dense peak in the compute format, FLOP/s. */
  readonly peak: number
  readonly weightBytes: number
  /** Bytes per gradient element, reduced in the weights' format (Megatron-Core's `grad_reduce_in_fp32` default false). */
  readonly gradientBytes: number
  /** Bytes of an activation element on the wire ({@link communicationBytes}). */
  readonly activationBytes: number
  readonly reserve: number
  readonly capacity: number
  readonly groups: GroupCache
  readonly parts: Map<string, Float64Array>
  readonly placements: Map<string, TrainingGroups>
  readonly strategies: Map<string, StrategyConstants>
  readonly micro: Map<string, Float64Array>
  readonly activations: Map<string, Float64Array>
  /** Scratch for one stage's times ({@link StageTime}); overwritten by every evaluation. */
  readonly scratch: Float64Array
}

/** Fields of one stage class in {@link StrategyConstants.classes} (a flat array, `ClassField.count` per class). */
export const ClassField = {
  /** Pipeline ranks in the class. */
  ranks: 0,
  /** Its lowest pipeline rank (it holds the most micro-batches in flight). */
  rank: 1,
  layers: 2,
  moeLayers: 3,
  /** 1 when it holds the embedding (rank 0), else 0. */
  first: 4,
  /** 1 when it holds the LM head (rank p − 1), else 0. */
  last: 5,
  /** Parameters on one GPU outside routed experts, and of routed experts. */
  denseParameters: 6,
  expertParameters: 7,
  /** Seconds of the gradient all-reduce, reduce-scatter and parameter all-gather of the stage over its data-parallel groups. */
  allReduce: 8,
  reduceScatter: 9,
  allGather: 10,
  /** The last bucket's share of the reduction, in (0, 1]. */
  bucket: 11,
  /** Seconds of the optimizer step, unsharded and sharded by ZeRO ≥ 1. */
  optimizer: 12,
  optimizerSharded: 13,
  count: 14,
} as const

/** A strategy's degrees, its pipeline stage classes and its priced groups. */
export interface StrategyConstants {
  readonly strategy: Strategy
  /** Stage classes, {@link ClassField} fields each. */
  readonly classes: Float64Array
  readonly classCount: number
  /** The class of each pipeline rank. */
  readonly rankClass: ReadonlyArray<number>
  readonly world: number
  readonly groups: Readonly<Record<'tp' | 'cp' | 'ep' | 'pp', PreparedGroup | undefined>>
  /** Sizes of the dense (dp · cp) and expert data-parallel groups. */
  readonly dpGroup: number
  readonly expertGroup: number
}

/** Indices of {@link microConstants}' numbers: the forward parts of {@link TrainingPart}, then per-micro-batch communication units. */
export const Micro = {
  ...TrainingPart,
  /** Forward TP seconds of one layer (two all-reduces, or two reduce-scatter + all-gather pairs). */
  tp: TrainingPart.count,
  /** Forward EP seconds of one MoE layer (dispatch and combine). */
  ep: TrainingPart.count + 1,
  /** Forward CP seconds of one layer (the ring's all-gather of keys and values). */
  cp: TrainingPart.count + 2,
  /** Seconds of one pipeline send of a chunk's activations (or gradients). */
  pp: TrainingPart.count + 3,
  /** Backward TP seconds of one layer beyond the forward's: sequence parallelism's re-gathered GEMM inputs. */
  tpRedo: TrainingPart.count + 4,
  count: TrainingPart.count + 5,
} as const

/** Indices of {@link activationConstants}' numbers (bytes per GPU). */
export const Stored = {
  /** Kept per dense layer and micro-batch under the recomputation. */
  dense: 0,
  /** Kept per MoE layer and micro-batch. */
  moe: 1,
  /** A dense and an MoE layer without recomputation (full recomputation rebuilds one at a time). */
  denseWhole: 2,
  moeWhole: 3,
  /** Outside the layers: the first stage's per micro-batch in flight, the last stage's once. */
  firstPerMicroBatch: 4,
  last: 5,
  count: 6,
} as const

/** Indices of the figures {@link evaluateTraining} writes. */
export const TrainFigure = {
  /** Seconds of one optimizer step. */
  iteration: 0,
  tokensPerSecondPerGpu: 1,
  /** Model FLOP/s per GPU (no recomputation counted), and over the peak: MFU. */
  modelFlopsPerGpu: 2,
  mfu: 3,
  /** Bytes on the fullest GPU, and 1 when it fits, else 0. */
  memoryPerGpu: 4,
  fits: 5,
  /** The step's parts, summing to `iteration`: the slowest stage's compute over m micro-batches, the pipeline bubble, exposed communication per kind, the optimizer step. */
  compute: 6,
  bubble: 7,
  tp: 8,
  cp: 9,
  ep: 10,
  pp: 11,
  dp: 12,
  optimizer: 13,
  microBatches: 14,
  /** Index of the slowest stage class. */
  slowest: 15,
  count: 16,
} as const

const RECOMPUTE: Readonly<Record<RecomputeMode, number>> = { none: 0, selective: 1, full: 2 }

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** Checks the formats against the device and computes the constants of the model on the cluster. */
export const trainingContext = (
  models: PlannerModels,
  input: { readonly model: Architecture; readonly cluster: Cluster; readonly precision: Precision; readonly sequenceLength: number; readonly order?: Order },
): E.Either<PlannerError, TrainingContext> => {
  const { model, cluster, precision, sequenceLength } = input
  const flops = modelFlopsPerToken(sequenceLength)(model)
  if (E.isLeft(flops)) return E.left(plannerError('invalid-workload', `workload.seq_len: ${flops.left.message}`))
  const peak = peakOf(cluster.device, models.compute.computeDtype(precision))
  if (E.isLeft(peak)) return E.left(costModelError('compute')(peak.left))
  const weightBytes = bytesPerElement(precision.weights)
  return E.right({
    models,
    assumptions: models.training ?? defaultTrainingAssumptions,
    model,
    cluster,
    precision,
    sequenceLength,
    order: input.order,
    flopsPerToken: flops.right,
    peak: peak.right,
    weightBytes,
    gradientBytes: weightBytes,
    activationBytes: communicationBytes(precision),
    reserve: models.memory.reserve(cluster.device),
    capacity: cluster.device.memory,
    groups: new Map(),
    parts: new Map(),
    placements: new Map(),
    strategies: new Map(),
    micro: new Map(),
    activations: new Map(),
    scratch: new Float64Array(StageTime.count),
  })
}

/** The degrees that place ranks (virtual stages and sequence parallelism do not move a rank's groups). */
const placementKey = (s: Strategy): string => `${s.tp}/${s.pp}/${s.dp}/${s.cp}/${s.ep}/${s.etp}`

const degreesKey = (s: Strategy): string => `${placementKey(s)}/${s.virtualStages}`

type TrainingGroups = Readonly<Record<'tp' | 'cp' | 'ep' | 'pp' | 'dp-cp' | 'edp', PreparedGroup | undefined>>

/** The priced groups of `s`'s layout, shared by the strategies that place ranks alike. */
const groupsOf = (c: TrainingContext, s: Strategy): E.Either<PlannerError, TrainingGroups> => {
  const key = placementKey(s)
  const known = c.placements.get(key)
  if (known !== undefined) return E.right(known)
  const laid = layout(c.cluster, c.order)(s)
  if (E.isLeft(laid)) return E.left(plannerError('invalid-strategy', laid.left.message))
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
export const strategyConstants = (c: TrainingContext, s: Strategy): E.Either<PlannerError, StrategyConstants> => {
  const key = degreesKey(s)
  const known = c.strategies.get(key)
  if (known !== undefined) return E.right(known)
  const groups = groupsOf(c, s)
  if (E.isLeft(groups)) return groups
  const g = groups.right
  const memory = c.models.memory
  const dpGroup = s.dp * s.cp
  const expertGroup = expertDataParallel(s)
  const bucket = c.assumptions.bucketParameters(s.dp)
  const K = memory.optimizerBytesPerParameter
  // Adam reads and writes its state (fp32 master weights, momentum, variance: 2K bytes), reads the gradient, writes the 16-bit weights
  const updateBytes = 2 * K + c.gradientBytes + c.weightBytes
  const rows: number[][] = []
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
      row[ClassField.ranks] = (row[ClassField.ranks] ?? 0) + 1
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
    const fresh = new Array<number>(ClassField.count).fill(0)
    fresh[ClassField.ranks] = 1
    fresh[ClassField.rank] = rank
    fresh[ClassField.layers] = layers.length
    fresh[ClassField.moeLayers] = moeLayers
    fresh[ClassField.first] = first
    fresh[ClassField.last] = last
    fresh[ClassField.denseParameters] = p.denseTotal
    fresh[ClassField.expertParameters] = p.expertTotal
    fresh[ClassField.allReduce] = time(g['dp-cp'], 'all_reduce', grads) + time(g.edp, 'all_reduce', expertGrads)
    fresh[ClassField.reduceScatter] = time(g['dp-cp'], 'reduce_scatter', grads) + time(g.edp, 'reduce_scatter', expertGrads)
    fresh[ClassField.allGather] = time(g['dp-cp'], 'all_gather', p.denseTotal * c.weightBytes) + time(g.edp, 'all_gather', p.expertTotal * c.weightBytes)
    const total = p.denseTotal + p.expertTotal
    fresh[ClassField.bucket] = total > 0 ? Math.min(1, bucket / total) : 1
    fresh[ClassField.optimizer] = optimizer(false)
    fresh[ClassField.optimizerSharded] = optimizer(true)
    seen.set(signature, rows.length)
    rankClass.push(rows.length)
    rows.push(fresh)
  }
  const classes = new Float64Array(rows.length * ClassField.count)
  rows.forEach((row, i) => classes.set(row, i * ClassField.count))
  const constants: StrategyConstants = {
    strategy: s,
    classes,
    classCount: rows.length,
    rankClass,
    world: s.tp * s.pp * s.dp * s.cp,
    groups: { tp: g.tp, cp: g.cp, ep: g.ep, pp: g.pp },
    dpGroup,
    expertGroup,
  }
  c.strategies.set(key, constants)
  return E.right(constants)
}

/**
 * The forward time of each part of a layer for micro-batches of `microBatch` sequences
 * under `s` (with its sequence-parallel setting), and the per-micro-batch communication
 * units. The compute parts are shared by every strategy with the same shard shape.
 */
export const microConstants = (c: TrainingContext, k: StrategyConstants, s: Strategy, microBatch: number): E.Either<PlannerError, Float64Array> => {
  const microKey = `${placementKey(s)}/${s.sequenceParallel}/${microBatch}`
  const cached = c.micro.get(microKey)
  if (cached !== undefined) return E.right(cached)
  // the routed share of an MoE layer depends on dp too; a dense model's parts do not
  const shapeKey = `${s.tp}/${s.cp}/${s.ep}/${s.etp}/${c.model.moe === undefined ? 0 : s.dp}/${s.sequenceParallel}/${microBatch}`
  const out = new Float64Array(Micro.count)
  const known = c.parts.get(shapeKey)
  if (known === undefined) {
    const whole = precompute(c.models.compute, { arch: c.model, strategy: { ...s, pp: 1, virtualStages: 1 }, precision: c.precision, ppRank: 0 }, c.cluster.device)
    if (E.isLeft(whole)) return E.left(costModelError('compute')(whole.left))
    const parts = trainingParts(whole.right, c.sequenceLength, microBatch, new Float64Array(TrainingPart.count))
    c.parts.set(shapeKey, parts)
    out.set(parts)
  } else out.set(known)
  const g = k.groups
  const tokens = microBatch * c.sequenceLength
  const layerBytes = (tokens / s.cp) * c.model.hidden * c.activationBytes
  out[Micro.tp] =
    g.tp === undefined
      ? 0
      : 2 * (s.sequenceParallel ? g.tp.time('reduce_scatter', layerBytes) + g.tp.time('all_gather', layerBytes) : g.tp.time('all_reduce', layerBytes))
  // sequence parallelism keeps only each rank's shard of the inputs of the QKV and first MLP GEMMs; the backward all-gathers them again for the weight gradients
  out[Micro.tpRedo] = g.tp === undefined || !s.sequenceParallel ? 0 : 2 * g.tp.time('all_gather', layerBytes)
  out[Micro.ep] = g.ep === undefined ? 0 : 2 * g.ep.time('all_to_all', dispatchBytes(s, c.model.moe?.topK ?? 0, c.model.hidden, c.activationBytes, tokens))
  out[Micro.cp] = g.cp === undefined ? 0 : g.cp.time('all_gather', tokens * kvElementsPerLayer(c.model)(s.tp) * c.activationBytes)
  // Megatron-LM splits the tensor over the TP ranks, each sends its 1/tp (scatter-gather, on by default), and the receiver's TP group all-gathers it over the scale-up links
  out[Micro.pp] =
    g.pp === undefined ? 0 : g.pp.time('send_recv', layerBytes / s.tp) + (s.sequenceParallel || g.tp === undefined ? 0 : g.tp.time('all_gather', layerBytes))
  c.micro.set(microKey, out)
  return E.right(out)
}

/**
 * Activation bytes one GPU keeps per layer and micro-batch under `recompute`, from the
 * memory model (`storedLayerBytes`, `edgeActivationBytes`), for micro-batches of
 * `microBatch` under `s`. Shared by every strategy with the same shard shape.
 */
export const activationConstants = (c: TrainingContext, s: Strategy, microBatch: number, recompute: RecomputeMode): Float64Array => {
  const key = `${s.tp}/${s.cp}/${s.ep}/${s.etp}/${s.sequenceParallel}/${microBatch}/${recompute}`
  const known = c.activations.get(key)
  if (known !== undefined) return known
  const memory: MemoryModel = c.models.memory
  // a two-stage pipeline separates the first stage's edge from the last's
  const input: ActivationInput = {
    model: c.model,
    strategy: { ...s, pp: 2, virtualStages: 1 },
    sequenceLength: c.sequenceLength,
    microBatch,
    dtype: c.precision.activations,
    dropout: false,
    flashAttention: true,
  }
  const out = new Float64Array(Stored.count)
  out[Stored.dense] = memory.storedLayerBytes(input, recompute)(false)
  out[Stored.moe] = memory.storedLayerBytes(input, recompute)(true)
  out[Stored.denseWhole] = memory.storedLayerBytes(input, 'none')(false)
  out[Stored.moeWhole] = memory.storedLayerBytes(input, 'none')(true)
  out[Stored.firstPerMicroBatch] = memory.edgeActivationBytes(input, 0, 1) - memory.edgeActivationBytes(input, 0, 0)
  out[Stored.last] = memory.edgeActivationBytes(input, 1, 1)
  c.activations.set(key, out)
  return out
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const at = (a: Float64Array, i: number): number => a[i] ?? 0

/** Indices of what {@link trainingStageSeconds} writes: one micro-batch on one GPU of a stage class, seconds. */
export const StageTime = {
  forward: 0,
  /** Forward and backward, `3 × forward`. */
  forwardBackward: 1,
  recompute: 2,
  tp: 3,
  ep: 4,
  cp: 5,
  pp: 6,
  dp: 7,
  /** Communication hidden behind the compute. */
  hidden: 8,
  /** Compute plus exposed communication. */
  total: 9,
  count: 10,
} as const

/** Seconds of one micro-batch on stage class `i` of `k` with micro-batch constants `u` (see the module comment), written into `out`. */
export const trainingStageSeconds = (c: TrainingContext, k: StrategyConstants, u: Float64Array, i: number, rc: number, zero: ZeroStage, out: Float64Array): Float64Array => {
  const cls = k.classes
  const o = i * ClassField.count
  const full = rc === 2 ? 1 : 0
  const ov = c.models.overlap
  const L = at(cls, o + ClassField.layers)
  const Lm = at(cls, o + ClassField.moeLayers)
  const inLayers = L * at(u, Micro.layer) + (L - Lm) * at(u, Micro.dense) + Lm * at(u, Micro.moe)
  const forward = inLayers + at(cls, o + ClassField.first) * at(u, Micro.first) + at(cls, o + ClassField.last) * at(u, Micro.last)
  const extra = rc === 1 ? L * at(u, Micro.core) : rc === 2 ? inLayers : 0
  const compute = 3 * forward + extra
  const tp = L * (at(u, Micro.tp) * (2 + full) + at(u, Micro.tpRedo))
  const ep = Lm * at(u, Micro.ep) * (2 + full)
  const cp = L * at(u, Micro.cp) * (3 + full)
  const pp = 2 * k.strategy.virtualStages * at(u, Micro.pp)
  const dp = zero === 2 ? at(cls, o + ClassField.reduceScatter) : zero === 3 ? 2 * at(cls, o + ClassField.allGather) + at(cls, o + ClassField.reduceScatter) : 0
  const hideable = ov.tp * tp + ov.ep * ep + ov.pp * pp + ov.cp * cp + c.assumptions.dpOverlap * dp
  const hidden = hideable < compute ? hideable : compute
  out[StageTime.forward] = forward
  out[StageTime.forwardBackward] = 3 * forward
  out[StageTime.recompute] = extra
  out[StageTime.tp] = tp
  out[StageTime.ep] = ep
  out[StageTime.cp] = cp
  out[StageTime.pp] = pp
  out[StageTime.dp] = dp
  out[StageTime.hidden] = hidden
  out[StageTime.total] = compute + tp + ep + cp + pp + dp - hidden
  return out
}

/**
 * Bytes on one GPU of stage class `i` (its lowest rank, which holds the most
 * micro-batches in flight) under ZeRO `zero`: the same terms as @meshplan/memory's
 * `trainingMemory`, from the constants.
 */
export const stageBytes = (c: TrainingContext, k: StrategyConstants, a: Float64Array, i: number, microBatches: number, full: boolean, zero: ZeroStage): number => {
  const cls = k.classes
  const o = i * ClassField.count
  const L = at(cls, o + ClassField.layers)
  const Lm = at(cls, o + ClassField.moeLayers)
  const Ld = L - Lm
  const denseP = at(cls, o + ClassField.denseParameters)
  const expertP = at(cls, o + ClassField.expertParameters)
  const dW = zero >= 3 ? k.dpGroup : 1
  const dG = zero >= 2 ? k.dpGroup : 1
  const dO = zero >= 1 ? k.dpGroup : 1
  const eW = zero >= 3 ? k.expertGroup : 1
  const eG = zero >= 2 ? k.expertGroup : 1
  const eO = zero >= 1 ? k.expertGroup : 1
  const states =
    c.weightBytes * (denseP / dW + expertP / eW) +
    c.gradientBytes * (denseP / dG + expertP / eG) +
    c.models.memory.optimizerBytesPerParameter * (denseP / dO + expertP / eO)
  const inFlight = c.models.memory.microBatchesInFlight(k.strategy.pp, k.strategy.virtualStages, microBatches, at(cls, o + ClassField.rank))
  const denseWhole = Ld > 0 ? at(a, Stored.denseWhole) : 0
  const moeWhole = Lm > 0 ? at(a, Stored.moeWhole) : 0
  const buffer = full ? (denseWhole > moeWhole ? denseWhole : moeWhole) : 0
  const edges = at(cls, o + ClassField.first) * at(a, Stored.firstPerMicroBatch) * inFlight + at(cls, o + ClassField.last) * at(a, Stored.last)
  return states + (Ld * at(a, Stored.dense) + Lm * at(a, Stored.moe)) * inFlight + buffer + edges + c.reserve
}

/**
 * Seconds exposed after the pipeline drains on stage class `i` under ZeRO `zero`: the
 * gradient reduction (ZeRO 0 and 1) beyond the last micro-batch's backward
 * (`lastBackward`) plus the last bucket, and the parameter all-gather (ZeRO 1 and 2).
 */
export const drainSeconds = (c: TrainingContext, k: StrategyConstants, i: number, zero: ZeroStage, lastBackward: number): number => {
  const cls = k.classes
  const o = i * ClassField.count
  let end = 0
  if (zero <= 1) {
    const reduce = zero === 0 ? at(cls, o + ClassField.allReduce) : at(cls, o + ClassField.reduceScatter)
    if (c.assumptions.overlapGradReduce) {
      const bucket = at(cls, o + ClassField.bucket) * reduce
      const rest = reduce - bucket - lastBackward
      end = bucket + (rest > 0 ? rest : 0)
    } else end = reduce
  }
  if (zero === 1 || zero === 2) end += at(cls, o + ClassField.allGather)
  return end
}

/**
 * The figures of one candidate, written into `out` (indexed by {@link TrainFigure}):
 * strategy constants `k` (whose strategy fixes the virtual stages), micro-batch
 * constants `u` and stored activations `a` of its micro-batch shape, `globalBatch`
 * sequences per step in micro-batches of `microBatch`, `recompute` and ZeRO `zero`.
 * Plain arithmetic over the constants and `c.scratch`; see the module comment for the
 * composition.
 */
export const evaluateTraining = (
  c: TrainingContext,
  k: StrategyConstants,
  u: Float64Array,
  a: Float64Array,
  globalBatch: number,
  microBatch: number,
  recompute: RecomputeMode,
  zero: ZeroStage,
  out: Float64Array,
): Float64Array => {
  const s = k.strategy
  const v = s.virtualStages
  const rc = RECOMPUTE[recompute]
  const m = globalBatch / (microBatch * s.dp)
  const t = c.scratch
  let sum = 0
  let max = -1
  let slowest = 0
  let drain = 0
  let optimizer = 0
  let memory = 0
  for (let i = 0; i < k.classCount; i++) {
    const o = i * ClassField.count
    trainingStageSeconds(c, k, u, i, rc, zero, t)
    const seconds = at(t, StageTime.total)
    sum += at(k.classes, o + ClassField.ranks) * seconds
    if (seconds > max) {
      max = seconds
      slowest = i
    }
    const end = drainSeconds(c, k, i, zero, at(t, StageTime.forwardBackward) - at(t, StageTime.forward) + at(t, StageTime.recompute))
    if (end > drain) drain = end
    const opt = at(k.classes, o + (zero >= 1 ? ClassField.optimizerSharded : ClassField.optimizer))
    if (opt > optimizer) optimizer = opt
    const bytes = stageBytes(c, k, a, i, m, rc === 2, zero)
    if (bytes > memory) memory = bytes
  }
  const bubble = (sum - max) / v
  const iteration = m * max + bubble + drain + optimizer
  // the slowest stage's parts, m times; hidden communication is taken from each kind in proportion to what could hide
  trainingStageSeconds(c, k, u, slowest, rc, zero, t)
  const ov = c.models.overlap
  const dpOverlap = c.assumptions.dpOverlap
  const tp = at(t, StageTime.tp)
  const ep = at(t, StageTime.ep)
  const cp = at(t, StageTime.cp)
  const pp = at(t, StageTime.pp)
  const dp = at(t, StageTime.dp)
  const hideable = ov.tp * tp + ov.ep * ep + ov.pp * pp + ov.cp * cp + dpOverlap * dp
  const share = hideable > 0 ? at(t, StageTime.hidden) / hideable : 0
  const tokensPerGpu = (globalBatch * c.sequenceLength) / iteration / k.world
  out[TrainFigure.iteration] = iteration
  out[TrainFigure.tokensPerSecondPerGpu] = tokensPerGpu
  out[TrainFigure.modelFlopsPerGpu] = tokensPerGpu * c.flopsPerToken
  out[TrainFigure.mfu] = (tokensPerGpu * c.flopsPerToken) / c.peak
  out[TrainFigure.memoryPerGpu] = memory
  out[TrainFigure.fits] = memory <= c.capacity ? 1 : 0
  out[TrainFigure.compute] = m * (at(t, StageTime.forwardBackward) + at(t, StageTime.recompute))
  out[TrainFigure.bubble] = bubble
  out[TrainFigure.tp] = m * tp * (1 - ov.tp * share)
  out[TrainFigure.ep] = m * ep * (1 - ov.ep * share)
  out[TrainFigure.cp] = m * cp * (1 - ov.cp * share)
  out[TrainFigure.pp] = m * pp * (1 - ov.pp * share)
  out[TrainFigure.dp] = m * dp * (1 - dpOverlap * share) + drain
  out[TrainFigure.optimizer] = optimizer
  out[TrainFigure.microBatches] = m
  out[TrainFigure.slowest] = slowest
  return out
}
