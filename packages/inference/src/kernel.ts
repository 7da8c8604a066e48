/**
 * The planner's inner loop: everything about one deployment that does not depend on
 * the batch is computed once (`prepareInference`: the compute constants of each
 * distinct pipeline stage, the collective groups priced once, the memory per stage),
 * and the figures of a batch are then plain arithmetic (`evaluateInference`): no
 * allocation, no Either, no closure per candidate. {@link estimateInference} and the
 * search both use it, so a search ranks exactly what an estimate reports.
 *
 * How a step's time is composed (per pipeline stage; each assumption is documented
 * where it is made):
 *
 *     stage = compute (roofline, @meshplan/compute) + exposed communication
 *     exposed = Σ_kind comm_kind − hidden,  hidden = min(Σ_kind overlap_kind · comm_kind, compute)
 *
 * Pipelines (PP = p stages): a replica's `B` sequences are split into
 * `m = min(p, B)` micro-batches of `B/m`. A micro-batch's step crosses every stage, so
 * its latency is `Σ stage_i`; with `m` micro-batches in flight the busiest stage sets
 * the pace, `m · max stage_i`. A decode "cycle" that gives every sequence one token takes
 * `max(Σ stage_i, m · max stage_i)`; a static prefill of all `B` finishes after
 * `Σ stage_i + (m − 1) · max stage_i` (GPipe's fill-and-drain, Huang et al. 2019,
 * section 2.2). With p = 1 both are simply the stage time.
 *
 * @example
 * import { defaultCostModels } from '@meshplan/cost-models'
 * import { prepareInference, evaluateInference, inferenceFigures } from '@meshplan/inference/internal'
 * const c = prepareInference(defaultCostModels)(input) // Either
 * const out = inferenceFigures()
 * if (E.isRight(c)) for (let b = 1; b <= 256; b *= 2) evaluateInference(c.right, b, out) // out.ttft, out.tpot, ...
 */
import * as E from 'fp-ts/Either'
import type { PreparedGroup } from '@meshplan/collectives'
import { decodeSeconds, precompute, prefillSeconds, type StepConstants } from '@meshplan/compute'
import { communicationBytes, costModelError, dispatchBytes, estimateError, type CostModels, type EstimateError, type Overlap } from '@meshplan/cost-models'
import { prepareGroup, type GroupCache } from '@meshplan/cost-models/internal'
import { cachedTokens, inferenceMemory, kvElementsPerLayer, type InferenceMemory } from '@meshplan/memory'
import { isMoeLayer, type Architecture, type Precision } from '@meshplan/model'
import { layersOfStage, layout, validate, worldOf, type Layout, type Order, type Strategy } from '@meshplan/parallelism'
import type { Cluster } from '@meshplan/topology'
import { contextTokens, defaultMaxBatch, inferenceWorkload, type InferenceWorkload } from './workload'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A deployment to estimate: what is served, on what, split how, in which formats, for which requests. */
export interface InferenceInput {
  readonly model: Architecture
  readonly cluster: Cluster
  readonly strategy: Strategy
  readonly precision: Precision
  readonly workload: InferenceWorkload
  /** Rank order of the layout (default Megatron's tp-cp-ep-dp-pp). */
  readonly order?: Order
}

/** Pipeline stages with the same layers, role and memory share one class. */
export interface StageClass {
  /** Pipeline ranks of the class. */
  readonly ranks: ReadonlyArray<number>
  readonly layers: number
  readonly moeLayers: number
  /** Sends its activations to a next stage. */
  readonly sends: boolean
  readonly compute: StepConstants
  /** Weights, workspace and reserve on one GPU of the stage, bytes. */
  readonly baseBytes: number
  /** KV cache one full-length sequence adds to one GPU of the stage, bytes. */
  readonly bytesPerSequence: number
}

/** The numbers of a deployment the inner loop reads. */
export interface InferenceConstants {
  readonly input: InferenceInput
  readonly models: CostModels
  readonly layout: Layout
  readonly memory: InferenceMemory
  readonly classes: ReadonlyArray<StageClass>
  readonly world: number
  readonly dp: number
  readonly pp: number
  readonly tp: number
  readonly cp: number
  readonly sequenceParallel: boolean
  readonly hidden: number
  readonly topK: number
  /** `dispatchBytes` over the layer's hidden-state bytes `tokens/cp · hidden · b`: `(etp/tp) · topK`. */
  readonly dispatchFactor: number
  /** Bytes of one exchanged activation element ({@link communicationBytes}). */
  readonly activationBytes: number
  /** Key and value elements of one token per layer on one GPU (the CP exchange). */
  readonly kvElements: number
  /** Groups of one rank are undefined: they cost nothing. */
  readonly groups: Readonly<Record<'tp' | 'ep' | 'pp' | 'cp', PreparedGroup | undefined>>
  /** Most sequences per data-parallel rank: memory's answer capped by the workload's `maxBatch`. */
  readonly maxBatch: number
  /** Scratch for one stage's communication, per kind; overwritten by every evaluation. */
  readonly scratch: Communication
}

/** Seconds of each kind of communication one GPU of a stage does in a step. */
export interface Communication {
  tp: number
  ep: number
  pp: number
  cp: number
}

/** The figures `evaluateInference` writes: one object per search, overwritten by every evaluation. */
export interface InferenceFigures {
  /** Time to first token, s. */
  ttft: number
  /** Time per output token after the first, s. */
  tpot: number
  /** End-to-end time of a request, s. */
  requestLatency: number
  /** Output tokens per second of the whole deployment. */
  tokensPerSecond: number
  tokensPerSecondPerGpu: number
  /** Output tokens per second one request sees: 1 / TPOT. */
  tokensPerSecondPerUser: number
  /** Bytes on the fullest GPU at this batch. */
  memoryPerGpu: number
  /** The batch fits in memory. */
  fits: boolean
  /** The prefill and decode step (cycle) times, s. */
  prefillSeconds: number
  decodeSeconds: number
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** A zeroed {@link InferenceFigures} for `evaluateInference` to fill (every field present, so the inner loop sees one shape). */
export const inferenceFigures = (): InferenceFigures => ({
  ttft: 0,
  tpot: 0,
  requestLatency: 0,
  tokensPerSecond: 0,
  tokensPerSecondPerGpu: 0,
  tokensPerSecondPerUser: 0,
  memoryPerGpu: 0,
  fits: false,
  prefillSeconds: 0,
  decodeSeconds: 0,
})

/**
 * Checks `input` (the algebra's laws for the model on the cluster, the workload, the
 * rank layout) and computes everything that does not depend on the batch.
 */
export const prepareInference =
  (models: CostModels, cache?: GroupCache) =>
  (input: InferenceInput): E.Either<EstimateError, InferenceConstants> => {
    const { model, cluster, strategy: s, precision, workload } = input
    const checked = inferenceWorkload(workload)
    if (E.isLeft(checked)) return checked
    const valid = validate({ model, cluster, gpus: worldOf(s), sequenceLength: Math.ceil(workload.inputTokens) })(s)
    if (E.isLeft(valid)) {
      return E.left(estimateError('invalid-strategy', valid.left.map((v) => v.message).join('; '), valid.left))
    }
    const laid = layout(cluster, input.order)(s)
    if (E.isLeft(laid)) return E.left(estimateError('invalid-strategy', laid.left.message))
    const l = laid.right
    const memory = inferenceMemory(models.memory)({ model, strategy: s, precision, device: cluster.device, contextTokens: contextTokens(workload) })
    if (E.isLeft(memory)) return E.left(estimateError(memory.left.code === 'invalid-strategy' ? 'invalid-strategy' : 'invalid-workload', memory.left.message))
    // one object shape for every deployment (absent groups are undefined, not missing): the inner loop stays monomorphic
    const groups: Record<'tp' | 'ep' | 'pp' | 'cp', PreparedGroup | undefined> = { tp: undefined, ep: undefined, pp: undefined, cp: undefined }
    for (const kind of ['tp', 'ep', 'pp', 'cp'] as const) {
      const g = prepareGroup(models, cluster, l.groups[kind].widest, cache)
      if (E.isLeft(g)) return g
      groups[kind] = g.right
    }
    const perSequence = cachedTokens(model, contextTokens(workload))
    const classes: StageClass[] = []
    const seen = new Map<string, StageClass & { ranks: number[] }>()
    for (const stage of memory.right.stages) {
      const rank = stage.ppRank
      const layers = layersOfStage(model, s)(rank)
      const moeLayers = layers.filter(isMoeLayer(model)).length
      const baseBytes = stage.weights + stage.workspace + stage.reserve
      const signature = `${layers.length}/${moeLayers}/${rank === 0}/${rank === s.pp - 1}/${baseBytes}`
      const known = seen.get(signature)
      if (known !== undefined) {
        known.ranks.push(rank)
        continue
      }
      const compute = precompute(models.compute, { arch: model, strategy: s, precision, ppRank: rank }, cluster.device)
      if (E.isLeft(compute)) return E.left(costModelError('compute')(compute.left))
      const cls = {
        ranks: [rank],
        layers: layers.length,
        moeLayers,
        sends: rank < s.pp - 1,
        compute: compute.right,
        baseBytes,
        bytesPerSequence: stage.kvBytesPerToken * perSequence,
      }
      seen.set(signature, cls)
      classes.push(cls)
    }
    const limit = workload.maxBatch ?? defaultMaxBatch
    return E.right({
      input,
      models,
      layout: l,
      memory: memory.right,
      classes,
      world: worldOf(s),
      dp: s.dp,
      pp: s.pp,
      tp: s.tp,
      cp: s.cp,
      sequenceParallel: s.sequenceParallel,
      hidden: model.hidden,
      topK: model.moe?.topK ?? 0,
      dispatchFactor: dispatchBytes(s, model.moe?.topK ?? 0, 1, 1, s.cp),
      activationBytes: communicationBytes(precision),
      kvElements: kvElementsPerLayer(model)(s.tp),
      groups,
      maxBatch: Math.min(memory.right.maxSequences, limit),
      scratch: { tp: 0, ep: 0, pp: 0, cp: 0 },
    })
  }

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/**
 * Fills `c.scratch` with the seconds of each kind of communication one GPU of stage
 * class `k` does in a step over `tokens` tokens of one replica (prefill: batch × prompt;
 * decode: batch). Message sizes follow nccl-tests' convention (the whole buffer), in
 * the activations' format:
 * - TP: two all-reduces per layer of the layer's output, `tokens/cp · hidden` elements
 *   (Shoeybi et al. 2019, section 3); with sequence parallelism each becomes a
 *   reduce-scatter and an all-gather of the same buffer (Korthikanti et al. 2022,
 *   section 4.2.2).
 * - EP: per MoE layer a dispatch and a combine all-to-all of {@link dispatchBytes}.
 * - PP: a stage that is not the last sends its output, `tokens/cp · hidden` (÷ tp with
 *   sequence parallelism, Megatron's scatter-gather optimisation: Narayanan et al.
 *   2021, section 4.1).
 * - CP: prefill passes each layer's keys and values around the ring, equivalent to an
 *   all-gather of `tokens · kvElements` (ring attention, Liu et al. 2023); a decode step
 *   combines the partial attention outputs of the ranks holding parts of the cache,
 *   an all-reduce of `tokens · hidden/tp` per layer (split-KV decoding, Dao et al. 2023,
 *   "Flash-Decoding for long-context inference").
 */
export const stageComm = (c: InferenceConstants, k: StageClass, decode: boolean, tokens: number): Communication => {
  const out = c.scratch
  const g = c.groups
  const layerBytes = (tokens / c.cp) * c.hidden * c.activationBytes
  out.tp =
    g.tp === undefined
      ? 0
      : 2 * k.layers * (c.sequenceParallel ? g.tp.time('reduce_scatter', layerBytes) + g.tp.time('all_gather', layerBytes) : g.tp.time('all_reduce', layerBytes))
  out.ep = g.ep === undefined ? 0 : 2 * k.moeLayers * g.ep.time('all_to_all', layerBytes * c.dispatchFactor)
  out.pp = g.pp === undefined || !k.sends ? 0 : g.pp.time('send_recv', c.sequenceParallel ? layerBytes / c.tp : layerBytes)
  out.cp =
    g.cp === undefined
      ? 0
      : k.layers *
        (decode
          ? g.cp.time('all_reduce', (tokens * c.hidden * c.activationBytes) / c.tp)
          : g.cp.time('all_gather', tokens * c.kvElements * c.activationBytes))
  return out
}

/** Communication left on the critical path after overlap: `Σ comm − min(Σ overlap·comm, compute)`. */
export const exposedComm = (comm: Communication, overlap: Overlap, compute: number): number => {
  const { tp, ep, pp, cp } = comm
  const hideable = overlap.tp * tp + overlap.ep * ep + overlap.pp * pp + overlap.cp * cp
  return tp + ep + pp + cp - (hideable < compute ? hideable : compute)
}

/** Seconds of one stage of class `k`: a prefill of `batch` prompts, or a decode step of `batch` sequences at `context` keys. */
export const stageSeconds = (c: InferenceConstants, k: StageClass, decode: boolean, batch: number, context: number): number => {
  const inputTokens = c.input.workload.inputTokens
  const compute = decode ? decodeSeconds(k.compute, batch, context) : prefillSeconds(k.compute, inputTokens, batch)
  return compute + exposedComm(stageComm(c, k, decode, decode ? batch : batch * inputTokens), c.models.overlap, compute)
}

/**
 * Seconds for every one of `batch` sequences of a replica to get through a step
 * (`decode`: one token each at `context` keys; else their prefill): `micro` micro-batches
 * of `batch/micro` through the pipeline (see the module comment). `fill` selects the
 * prefill form (fill and drain) over the steady decode cycle.
 */
const cycleSeconds = (c: InferenceConstants, decode: boolean, batch: number, context: number, fill: boolean): number => {
  // fewer than one sequence (a max_throughput cycle's share of a prompt) is one micro-batch of that fraction
  const micro = batch < 1 ? 1 : c.pp < batch ? c.pp : batch
  const each = batch / micro
  let sum = 0
  let max = 0
  for (let i = 0; i < c.classes.length; i++) {
    const k = c.classes[i] as StageClass
    const t = stageSeconds(c, k, decode, each, context)
    sum += k.ranks.length * t
    if (t > max) max = t
  }
  if (fill) return sum + (micro - 1) * max
  return sum > micro * max ? sum : micro * max
}

/** Bytes on the fullest GPU with `batch` full-length sequences per data-parallel rank. */
export const memoryAt = (c: InferenceConstants, batch: number): number => {
  let max = 0
  for (let i = 0; i < c.classes.length; i++) {
    const k = c.classes[i] as StageClass
    const b = k.baseBytes + batch * k.bytesPerSequence
    if (b > max) max = b
  }
  return max
}

/**
 * The figures of `batch` sequences per data-parallel rank, written into `out`; in `latency` mode the batch is 1 whatever is passed.
 *
 * - `static` and `latency`: TTFT is the prefill of the batch; decode steps run at the
 *   context of the first and the last step and take their mean (the trapezoid rule:
 *   exact where the step time is linear in the context, as its KV reads are);
 *   request latency = TTFT + (output − 1) · TPOT; throughput counts every output token
 *   over the request latency, prefill included (as TensorRT-LLM's gptSessionBenchmark).
 * - `max_throughput`: steady state of continuous batching with chunked prefill: each
 *   cycle decodes one token for all `batch` sequences at the mean context
 *   `input + output/2` and prefills `batch/output` new prompts (the arrivals that keep
 *   the batch full); TPOT is that cycle; TTFT is the prefill of one prompt plus the
 *   wait for the running cycle; throughput = dp · batch / TPOT.
 */
export const evaluateInference = (c: InferenceConstants, batch: number, out: InferenceFigures): InferenceFigures => {
  const w = c.input.workload
  const b = w.mode === 'latency' ? 1 : batch
  const input = w.inputTokens
  const output = w.outputTokens
  let ttft: number
  let tpot: number
  let prefill: number
  let total: number
  if (w.mode === 'max_throughput') {
    prefill = cycleSeconds(c, false, b / output, 0, false)
    tpot = cycleSeconds(c, true, b, input + output / 2, false) + prefill
    ttft = cycleSeconds(c, false, 1, 0, true) + tpot
    total = (c.dp * b) / tpot
  } else {
    prefill = cycleSeconds(c, false, b, 0, true)
    ttft = prefill
    tpot = output > 1 ? (cycleSeconds(c, true, b, input + 1, false) + cycleSeconds(c, true, b, input + output - 1, false)) / 2 : cycleSeconds(c, true, b, input + 1, false)
    total = (c.dp * b * output) / (ttft + (output - 1) * tpot)
  }
  const memory = memoryAt(c, b)
  out.ttft = ttft
  out.tpot = tpot
  out.requestLatency = ttft + (output - 1) * tpot
  out.tokensPerSecond = total
  out.tokensPerSecondPerGpu = total / c.world
  out.tokensPerSecondPerUser = 1 / tpot
  out.memoryPerGpu = memory
  out.fits = b <= c.memory.maxSequences
  out.prefillSeconds = prefill
  out.decodeSeconds = tpot
  return out
}
