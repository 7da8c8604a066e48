/**
 * The planner's inner loop: everything about one deployment that does not depend on
 * the batch is computed once (`prepareInference`: the compute constants of each
 * distinct pipeline stage split by what a serving pass runs once or per phase, the
 * collective groups priced once, the memory per stage, the engine's limits), and the
 * figures of a batch are then plain arithmetic (`evaluateInference`): no allocation, no
 * Either, no closure per candidate. {@link estimateInference} and the search both use
 * it, so a search ranks exactly what an estimate reports.
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
 * A continuous-batching pass (the serving engine's forward pass, see `engines.ts`) runs
 * the operators every token goes through once for the decode tokens and the prompt
 * chunk together (the weights are read once: Sarathi-Serve, Agrawal et al. 2024,
 * section 3), the attention of each phase on its own, the routed experts on the busiest
 * expert-parallel rank's tokens, and the LM head on the sequences that emit a token.
 *
 * @example
 * import { defaultCostModels } from '@meshplan/cost-models'
 * import { prepareInference, evaluateInference, inferenceFigures } from '@meshplan/inference/internal'
 * const c = prepareInference(defaultCostModels)(input) // Either
 * const out = inferenceFigures()
 * if (E.isRight(c)) for (let b = 1; b <= 256; b *= 2) evaluateInference(c.right, b, out) // out.ttft, out.tpot, ...
 */
import * as E from 'fp-ts/Either'
import { moeExchange, type MoeKernel, type PreparedGroup } from '@meshplan/collectives'
import { decodeSeconds, precompute, prefillSeconds, type OperatorForm, type OperatorForms, type StepConstants } from '@meshplan/compute'
import { communicationBytes, costModelError, dispatchBytes, estimateError, type CostModels, type EstimateError, type Overlap } from '@meshplan/cost-models'
import { prepareGroup, type GroupCache } from '@meshplan/cost-models/internal'
import { cachedTokens, inferenceMemory, kvElementsPerLayer, type InferenceMemory } from '@meshplan/memory'
import { attentionParameters, denseMlpParameters, expertParameters, isMoeLayer, normParameters, routerParameters, sharedExpertParameters, weightBytesPerParameter, type Architecture, type Moe, type Precision } from '@meshplan/model'
import { expertDataParallel, layersOfStage, layout, validate, worldOf, type Layout, type Order, type Strategy } from '@meshplan/parallelism'
import type { Cluster } from '@meshplan/topology'
import { lengthsOf, meanAge, runningAfter, tailSteps, type Lengths } from './arrivals'
import { genericEngine, hostCostOn, hostCpuOf, type CustomAllReduce, type EngineContext, type EngineModel, type EngineSetup } from './engines'
import { busiestPrefill, routedImbalance, skewedImbalance } from './moe'
import { contextTokens, inferenceWorkload, type InferenceWorkload } from './workload'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A deployment to estimate: what is served, on what, split how, in which formats, for which requests, by which engine. */
export interface InferenceInput {
  readonly model: Architecture
  readonly cluster: Cluster
  readonly strategy: Strategy
  readonly precision: Precision
  readonly workload: InferenceWorkload
  /** Rank order of the layout (default Megatron's tp-cp-ep-dp-pp). */
  readonly order?: Order
  /** The serving engine's behaviour (see `engines.ts`: `engineModel({ name, version, options })`); default {@link genericEngine}. */
  readonly engine?: EngineModel
  /** Extra replicas of hot experts per MoE layer (EPLB): routed experts + redundant = slots, `ep` divides the slots. Default 0. */
  readonly redundantExperts?: number
}

/**
 * The compute constants of one stage split by what a continuous-batching pass runs:
 * `dense` every token once (projections, norms, dense MLP, router, shared experts),
 * `routed` the routed experts (the expert-parallel part), `decode` and `prefill` the
 * operators of one phase only (attention over the cache, or causal attention over the
 * prompt; MLA's absorbed or explicit projections), `head` the final norm and LM head.
 */
export interface StageParts {
  readonly dense: StepConstants
  readonly routed: StepConstants | undefined
  readonly decode: StepConstants
  readonly prefill: StepConstants
  readonly head: StepConstants
}

/** Pipeline stages with the same layers, role and memory share one class. */
export interface StageClass {
  /** Pipeline ranks of the class. */
  readonly ranks: ReadonlyArray<number>
  readonly layers: number
  readonly moeLayers: number
  /** Sends its activations to a next stage. */
  readonly sends: boolean
  /** Every operator of the stage (static phases, the breakdown). */
  readonly compute: StepConstants
  /** The same operators split for a serving pass. */
  readonly parts: StageParts
  /** Weights (with redundant expert slots), workspace and reserve on one GPU of the stage, bytes. */
  readonly baseBytes: number
  /** KV cache one sequence holds on one GPU of the stage under the engine's admission, bytes. */
  readonly bytesPerSequence: number
}

/** The numbers of a deployment the inner loop reads. */
export interface InferenceConstants {
  readonly input: InferenceInput
  readonly models: CostModels
  readonly engine: EngineModel
  readonly layout: Layout
  readonly memory: InferenceMemory
  readonly classes: ReadonlyArray<StageClass>
  readonly world: number
  readonly dp: number
  readonly pp: number
  readonly tp: number
  readonly cp: number
  readonly ep: number
  /** Expert data-parallel degree: replicas of each expert group. */
  readonly edp: number
  readonly sequenceParallel: boolean
  readonly hidden: number
  readonly topK: number
  /** Routed experts and redundant slots per MoE layer (0 for a dense model). */
  readonly experts: number
  readonly redundantExperts: number
  /**
   * The busiest expert-parallel rank's load over the mean under the workload's hot
   * expert (`workload.hotExpertShare`, placed as EPLB replicates and packs it:
   * {@link skewedImbalance}); 1 without a share. Routed passes take the larger of it and
   * the uniform figure ({@link routedImbalance}); static phases, timed with balanced
   * experts, take it alone.
   */
  readonly hotExpertImbalance: number
  /** Attention-DP ranks that meet at every expert exchange (1: no attention data parallelism). */
  readonly attentionDpRanks: number
  /** `dispatchBytes` over the layer's hidden-state bytes `tokens/cp · hidden · b`: `(etp/tp) · topK`. */
  readonly dispatchFactor: number
  /** Bytes of one exchanged activation element ({@link communicationBytes}). */
  readonly activationBytes: number
  /** Key and value elements of one token per layer on one GPU (the CP exchange). */
  readonly kvElements: number
  /** Groups of one rank are undefined: they cost nothing. */
  readonly groups: Readonly<Record<'tp' | 'ep' | 'pp' | 'cp', PreparedGroup | undefined>>
  /**
   * The expert exchange of one MoE layer as DeepEP runs it (@meshplan/collectives
   * `moeExchange`), dispatch and combine together, affine in the tokens each rank sends:
   * `intercept + slope · tokens`, with the low-latency kernels in a decode pass and the
   * normal kernels in a pass that carries prompt tokens; undefined without expert
   * parallelism.
   */
  readonly exchange: { readonly decode: Affine; readonly prefill: Affine } | undefined
  /** Tokens each EP rank sends per token of its replica: `etp / tp` (a TP group's ranks share its tokens). */
  readonly exchangeShare: number
  /** The engine's all-reduce for the TP group (undefined: NCCL), with the group's link. */
  readonly customAllReduce: { readonly kernel: CustomAllReduce; readonly ranks: number; readonly bandwidth: number } | undefined
  /** The overlap in effect: the cost models', with the MoE exchange hidden under two-batch overlap. */
  readonly overlap: Overlap
  /** Output lengths. */
  readonly lengths: Lengths
  /** KV tokens a running sequence holds on average under the engine's admission. */
  readonly heldTokens: number
  /** KV-cache tokens that fit on one data-parallel rank (the tightest stage). */
  readonly kvTokens: number
  /** Sequences per data-parallel rank that fit in memory under the engine's admission. */
  readonly capacity: number
  /** The engine's token budget per forward pass. */
  readonly maxNumTokens: number
  /** Largest pass (tokens) replayed from a CUDA graph: larger passes launch eagerly. */
  readonly graphMaxTokens: number
  /** Most sequences per data-parallel rank: memory's answer capped by the engine's (or the workload's) limit and, in a fused engine, by the token budget. */
  readonly maxBatch: number
  /**
   * Speculative decoding (`workload.speculative`): the tokens a decode pass verifies per
   * sequence (`draftTokens + 1`; 1 without), the tokens it produces per sequence on
   * average (`acceptanceLength`; 1 without), and the draft's forward passes per step
   * ({@link speculativeOf}).
   */
  readonly speculative: Speculation
  /** Scratch for one stage's communication, per kind; overwritten by every evaluation. */
  readonly scratch: Communication
  /** Scratch for a ramp-down tail; overwritten by every evaluation. */
  readonly tail: TailSums
}

/** What speculative decoding does to a decode pass (see {@link InferenceConstants.speculative}). */
export interface Speculation {
  readonly verify: number
  readonly accept: number
  /** Sequential draft passes per step: `draftTokens` for an MTP or EAGLE head, 0 for n-gram lookup (on the host) and without speculation. */
  readonly drafts: number
  /** The draft: an MTP module (a layer of the model, with its routed experts where the model's last layer has them), an EAGLE head (a dense layer), or none. */
  readonly draft: 'mtp' | 'eagle' | 'none'
  /** The draft pass runs routed experts (an MTP module of an MoE model). */
  readonly draftRouted: boolean
}

/** No speculation: one token verified and produced per sequence per pass. */
export const noSpeculation: Speculation = { verify: 1, accept: 1, drafts: 0, draft: 'none', draftRouted: false }

/**
 * The decode-pass arithmetic of `workload.speculative` on `model`:
 * - `mtp` (DeepSeek-V3's multi-token prediction, report section 2.2; SGLang and
 *   TensorRT-LLM run its module as the draft): `draftTokens` sequential passes of one
 *   decoder layer of the model (MoE where its last layer is) and the shared LM head.
 * - `eagle` (Li et al. 2024, "EAGLE": a one-layer draft head over the target's features
 *   and LM head): the same with a dense layer, without routed experts.
 * - `ngram` (prompt lookup): the draft costs no GPU pass.
 * In every case the target verifies `draftTokens + 1` tokens per sequence in one pass and
 * produces `acceptanceLength` on average (Leviathan et al. 2023, "Fast Inference from
 * Transformers via Speculative Decoding", section 3). `draft_model` has no model to price
 * and is refused before this (`unmodelledWorkload`).
 */
export const speculativeOf = (w: InferenceWorkload, model: Architecture): Speculation => {
  const spec = w.speculative
  if (spec === undefined) return noSpeculation
  const draft = spec.method === 'mtp' ? 'mtp' : spec.method === 'eagle' ? 'eagle' : 'none'
  return {
    verify: spec.draftTokens + 1,
    accept: spec.acceptanceLength,
    drafts: draft === 'none' ? 0 : spec.draftTokens,
    draft,
    draftRouted: draft === 'mtp' && isMoeLayer(model)(model.layers - 1),
  }
}

/**
 * Bytes on one GPU of the last stage for the draft layer of an MTP or EAGLE head: its
 * attention, norms and MLP split over TP as the model's layers are, its routed experts
 * (an MTP module of an MoE model) over `ep · etp`, each in the format the model's
 * layers use; an MTP module also joins the embedding and the hidden state with a `2h × h`
 * projection (DeepSeek-V3 report, section 2.2, `M_k`). The embedding and the LM head are
 * the target's, shared.
 */
export const draftLayerBytes = (model: Architecture, s: Strategy, precision: Precision, spec: Speculation): number => {
  if (spec.draft === 'none') return 0
  const b = weightBytesPerParameter(model, precision)
  const moe = model.moe
  const mlp =
    spec.draftRouted && moe !== undefined
      ? (moe.experts * expertParameters(model) * b('routedExperts')) / (s.ep * s.etp) + (moe.sharedExperts * sharedExpertParameters(model) * b('sharedExperts')) / s.tp + routerParameters(model) * b('router')
      : (denseMlpParameters(model) * b('denseMlp')) / s.tp
  const projection = spec.draft === 'mtp' ? (2 * model.hidden * model.hidden * b('attention')) / s.tp : 0
  return (attentionParameters(model) * b('attention')) / s.tp + normParameters(model) * b('norms') + mlp + projection
}

/** `intercept + slope · x`. */
export interface Affine {
  readonly intercept: number
  readonly slope: number
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
  /** Time to first token, s (the mean over the requests of a run with arrivals). */
  ttft: number
  /** Time per output token after the first, s (the mean over the tokens of a run). */
  tpot: number
  /** End-to-end time of a request, s (the mean over the requests of a run). */
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
  /** Sequences in flight per data-parallel rank in the steady phase. */
  inFlight: number
  /** Seconds of the whole run (a finite number of requests), or 0. */
  runSeconds: number
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
  inFlight: 0,
  runSeconds: 0,
})

/** Operators of one phase only: the attention core, and MLA's absorbed (decode) or explicit (prefill) projections. */
const phaseOnly: ReadonlyArray<string> = ['attention', 'q-absorb', 'v-absorb', 'kv-up']
/** The routed experts: what expert parallelism splits. */
const routedOperators: ReadonlyArray<string> = ['moe-sort', 'moe-dispatch', 'expert-up', 'expert-activation', 'expert-down', 'moe-combine']
/** One token per emitting sequence. */
const headOperators: ReadonlyArray<string> = ['final-norm', 'lm-head']

/**
 * `c` restricted to the decode forms `decode` and the prefill forms `prefill`: the same
 * scratch and device, and every other field of its forms read through to them (their
 * lazy phase lists are not built).
 */
const restricted = (c: StepConstants, decode: ReadonlyArray<OperatorForm>, prefill: ReadonlyArray<OperatorForm>): StepConstants => {
  const forms = Object.create(c.forms, { decode: { value: decode }, prefill: { value: prefill }, training: { value: [] } }) as OperatorForms
  return { ...c, forms }
}

/** The parts of a stage's constants (see {@link StageParts}). */
export const stageParts = (c: StepConstants): StageParts => {
  const decode = c.forms.decode
  const prefill = c.forms.prefill
  const dense = decode.filter((f) => !phaseOnly.includes(f.name) && !routedOperators.includes(f.name) && !headOperators.includes(f.name))
  const routed = decode.filter((f) => routedOperators.includes(f.name))
  return {
    dense: restricted(c, dense, []),
    routed: routed.length === 0 ? undefined : restricted(c, routed, []),
    decode: restricted(
      c,
      decode.filter((f) => phaseOnly.includes(f.name)),
      [],
    ),
    prefill: restricted(
      c,
      [],
      prefill.filter((f) => phaseOnly.includes(f.name)),
    ),
    head: restricted(
      c,
      decode.filter((f) => headOperators.includes(f.name)),
      [],
    ),
  }
}

/** What an expert exchange moves: the hidden size, experts per token, expert slots (redundant ones included) and the model's routing groups. */
interface ExchangeShape {
  readonly hidden: number
  readonly topK: number
  readonly slots: number
  readonly routingGroups: Moe['routingGroups']
}

/**
 * DeepEP's dispatch plus combine of one MoE layer over the expert-parallel group `span`,
 * for each kernel, as an affine function of the tokens a rank sends (the exchange's time
 * is its fixed cost plus bytes over the slower fabric, both linear in the tokens:
 * @meshplan/collectives `moeExchange`); measured at 1 and 2 tokens. Dispatch in fp8,
 * combine in bf16, as DeepEP sends them; the slots include redundant experts; a model's
 * group-limited routing (`Moe.routingGroups`) bounds the domains a token reaches.
 */
const exchangeOf = (
  models: CostModels,
  cluster: Cluster,
  span: Layout['groups']['ep']['widest'],
  x: ExchangeShape,
  cache: GroupCache | undefined,
): E.Either<EstimateError, { readonly decode: Affine; readonly prefill: Affine }> => {
  // the exchange depends on the span, not the deployment: priced once per search (the group cache's lifetime)
  const known = cache === undefined ? undefined : exchangeCaches.get(cache)
  const groups = x.routingGroups === undefined ? '' : `${x.routingGroups.groups}:${x.routingGroups.selected}`
  const key = `${span.size}/${span.regular}/${span.levels.map((l) => `${l.tier}:${l.width}`).join('/')}/${x.hidden}/${x.topK}/${x.slots}/${groups}`
  const hit = known?.get(key)
  if (hit !== undefined) return E.right(hit)
  const priced = priceExchange(models, cluster, span, x)
  if (E.isRight(priced) && cache !== undefined) {
    const map = known ?? new Map<string, { readonly decode: Affine; readonly prefill: Affine }>()
    map.set(key, priced.right)
    if (known === undefined) exchangeCaches.set(cache, map)
  }
  return priced
}

/** Exchanges priced in a search, by the search's group cache. */
const exchangeCaches = new WeakMap<GroupCache, Map<string, { readonly decode: Affine; readonly prefill: Affine }>>()

const priceExchange = (models: CostModels, cluster: Cluster, span: Layout['groups']['ep']['widest'], x: ExchangeShape): E.Either<EstimateError, { readonly decode: Affine; readonly prefill: Affine }> => {
  const price = moeExchange(models.collectives)(cluster)
  const at = (kernel: MoeKernel, tokensPerRank: number): E.Either<EstimateError, number> => {
    let total = 0
    for (const op of ['moe_dispatch', 'moe_combine'] as const) {
      const r = price({ op, tokensPerRank, hidden: x.hidden, topK: x.topK, numExperts: x.slots, kernel, ...(x.routingGroups === undefined ? {} : { routingGroups: x.routingGroups }) }, span)
      if (E.isLeft(r)) return E.left(costModelError('collectives')(r.left))
      total += r.right.seconds
    }
    return E.right(total)
  }
  const affine = (kernel: MoeKernel): E.Either<EstimateError, Affine> => {
    const one = at(kernel, 1)
    const two = at(kernel, 2)
    if (E.isLeft(one)) return one
    if (E.isLeft(two)) return two
    return E.right({ intercept: 2 * one.right - two.right, slope: two.right - one.right })
  }
  const decode = affine('low_latency')
  const prefill = affine('normal')
  if (E.isLeft(decode)) return decode
  if (E.isLeft(prefill)) return prefill
  return E.right({ decode: decode.right, prefill: prefill.right })
}

/** `model` with `redundant` more expert slots per MoE layer (the replicas EPLB places): what the GPUs hold; the model itself when none. */
export const withExpertSlots = (model: Architecture, redundant: number): Architecture =>
  redundant > 0 && model.moe !== undefined ? { ...model, moe: { ...model.moe, experts: model.moe.experts + redundant } } : model

/**
 * Checks `input` (the algebra's laws for the model on the cluster, the workload, the
 * rank layout, redundant expert slots) and computes everything that does not depend on
 * the batch.
 */
export const prepareInference =
  (models: CostModels, cache?: GroupCache) =>
  (input: InferenceInput): E.Either<EstimateError, InferenceConstants> => {
    const { model, cluster, strategy: s, precision, workload } = input
    const engine = input.engine ?? genericEngine
    const checked = inferenceWorkload(workload)
    if (E.isLeft(checked)) return checked
    const hotShare = workload.hotExpertShare
    if (hotShare !== undefined) {
      if (model.moe === undefined) return E.left(estimateError('invalid-workload', `workload.hot_expert_share: applies to a mixture-of-experts model; ${model.name} has no routed experts (got ${hotShare})`))
      const uniform = 1 / model.moe.experts
      if (hotShare < uniform) {
        return E.left(estimateError('invalid-workload', `workload.hot_expert_share: expected a share from 1/experts = 1/${model.moe.experts} = ${Number(uniform.toPrecision(4))} (uniform routing) to 1 of a layer's token-expert assignments, got ${hotShare}`))
      }
    }
    const redundant = input.redundantExperts ?? 0
    // with redundant expert slots ep divides the slots, not the experts (EPLB: DeepSeek-V3's 256 experts and 32 redundant over 144 GPUs): a law of the algebra
    const valid = validate({ model, cluster, gpus: worldOf(s), sequenceLength: Math.ceil(workload.inputTokens), redundantExperts: redundant })(s)
    if (E.isLeft(valid)) {
      return E.left(estimateError('invalid-strategy', valid.left.map((v) => v.message).join('; '), valid.left))
    }
    const slots = withExpertSlots(model, redundant)
    const laid = layout(cluster, input.order)(s)
    if (E.isLeft(laid)) return E.left(estimateError('invalid-strategy', laid.left.message))
    const l = laid.right
    // attention-DP ranks that meet at every expert exchange: the attention replicas of one expert group
    const attentionDpRanks = model.moe !== undefined && s.ep > 1 && s.dp > 1 ? Math.min(s.dp, Math.max(1, (s.ep * s.etp) / (s.tp * s.cp))) : 1
    const setup: EngineSetup = {
      deviceMemory: cluster.device.memory,
      deviceName: cluster.device.name,
      tp: s.tp,
      pp: s.pp,
      replicaGpus: s.tp * s.pp * s.cp,
      inputTokens: workload.inputTokens,
      outputTokens: workload.outputTokens,
      maxModelLength: model.maxPositions,
      hostCpu: hostCpuOf(cluster.device.name),
      model,
      precision,
      instanceGpus: s.tp * s.cp * s.pp * attentionDpRanks,
    }
    // what the engine profiles before sizing its cache: a forward pass at its token budget, then its sampler over its sequence limit
    const profile = engine.startupProfile
    let profiled: { readonly prefillChunkTokens: number; readonly samplerBytes: number } | undefined
    if (profile !== undefined) {
      const tokens = Math.max(1, Math.ceil(workload.maxNumTokens ?? profile.tokens(setup)))
      const sampled = Math.min(workload.maxBatch ?? profile.sequences(setup), tokens)
      profiled = { prefillChunkTokens: tokens, samplerBytes: sampled * model.vocab * profile.samplerBytesPerLogit }
    }
    // the memory of the expert slots each GPU holds (experts and redundant replicas alike)
    const memory = inferenceMemory(models.memory)({
      model: slots,
      strategy: s,
      precision,
      device: cluster.device,
      contextTokens: contextTokens(workload),
      ...profiled,
    })
    if (E.isLeft(memory)) return E.left(estimateError(memory.left.code === 'invalid-strategy' ? 'invalid-strategy' : 'invalid-workload', memory.left.message))
    // one object shape for every deployment (absent groups are undefined, not missing): the inner loop stays monomorphic
    const groups: Record<'tp' | 'ep' | 'pp' | 'cp', PreparedGroup | undefined> = { tp: undefined, ep: undefined, pp: undefined, cp: undefined }
    for (const kind of ['tp', 'ep', 'pp', 'cp'] as const) {
      const g = prepareGroup(models, cluster, l.groups[kind].widest, cache)
      if (E.isLeft(g)) return g
      groups[kind] = g.right
    }
    const lengths = lengthsOf(workload)
    // KV held per running sequence: its whole length when the engine reserves it, else its mean length so far
    const held = engine.admission === 'reserve' ? workload.inputTokens + lengths.mean : workload.inputTokens + meanAge(lengths)
    const heldTokens = cachedTokens(model, held)
    const routerSlotBytes = redundant === 0 || model.moe === undefined ? 0 : (model.hidden + (model.moe.routerBias ? 1 : 0)) * redundant * weightBytesPerParameter(model, precision)('router')
    const speculative = speculativeOf(workload, model)
    // the draft layer of an MTP or EAGLE head lives with the LM head (the last stage): its weights and its KV cache
    const draftWeights = speculative.drafts > 0 ? draftLayerBytes(model, s, precision, speculative) : 0
    const classes: StageClass[] = []
    const seen = new Map<string, StageClass & { ranks: number[] }>()
    let kvTokens = Number.POSITIVE_INFINITY
    for (const stage of memory.right.stages) {
      const rank = stage.ppRank
      const layers = layersOfStage(model, s)(rank)
      const moeLayers = layers.filter(isMoeLayer(model)).length
      // the weights hold the expert slots (`slots`: experts and redundant replicas)
      const last = rank === s.pp - 1
      // (the memory model, given the slots as experts, also widened the router by the redundant slots: it still scores the experts)
      const baseBytes = stage.weights - moeLayers * routerSlotBytes + stage.workspace + stage.reserve + (last ? draftWeights : 0)
      const kvPerToken = last && draftWeights > 0 && layers.length > 0 ? stage.kvBytesPerToken * (1 + 1 / layers.length) : stage.kvBytesPerToken
      const stageTokens = kvPerToken > 0 ? Math.max(0, Math.floor((stage.capacity - baseBytes) / kvPerToken)) : 0
      if (stageTokens < kvTokens) kvTokens = stageTokens
      const signature = `${layers.length}/${moeLayers}/${rank === 0}/${rank === s.pp - 1}/${baseBytes}`
      const known = seen.get(signature)
      if (known !== undefined) {
        known.ranks.push(rank)
        continue
      }
      const compute = precompute(models.compute, { arch: slots, strategy: s, precision, ppRank: rank, serving: true }, cluster.device)
      if (E.isLeft(compute)) return E.left(costModelError('compute')(compute.left))
      const cls = {
        ranks: [rank],
        layers: layers.length,
        moeLayers,
        sends: rank < s.pp - 1,
        compute: compute.right,
        parts: stageParts(compute.right),
        baseBytes,
        bytesPerSequence: kvPerToken * heldTokens,
      }
      seen.set(signature, cls)
      classes.push(cls)
    }
    const capacity = Number.isFinite(kvTokens) ? Math.floor(kvTokens / heldTokens) : 0
    const context: EngineContext = {
      ...setup,
      kvSequences: Math.floor((Number.isFinite(kvTokens) ? kvTokens : 0) / cachedTokens(model, contextTokens(workload))),
      kvTokens: Number.isFinite(kvTokens) ? kvTokens : 0,
    }
    const host = hostCostOn(engine, context.hostCpu)
    const maxNumTokens = workload.maxNumTokens ?? engine.maxNumTokens(context)
    const limit = workload.maxBatch ?? engine.maxBatch(context)
    // a fused engine sustains B sequences only while B decode tokens and their arrivals' prompts, B·(1 + input/output), fit the budget
    const budgetLimit = engine.fusedChunkedPrefill ? Math.max(1, Math.floor(maxNumTokens / (1 + workload.inputTokens / lengths.mean))) : Number.POSITIVE_INFINITY
    const maxBatch = Math.min(capacity, limit, workload.mode === 'max_throughput' ? budgetLimit : Number.POSITIVE_INFINITY)
    const exchange = groups.ep === undefined || model.moe === undefined ? E.right(undefined) : exchangeOf(models, cluster, l.groups.ep.widest, { hidden: model.hidden, topK: model.moe.topK, slots: model.moe.experts + redundant, routingGroups: model.moe.routingGroups }, cache)
    if (E.isLeft(exchange)) return exchange
    const tpShape = groups.tp?.shape
    const kernel = engine.customAllReduce
    const customAllReduce =
      kernel !== undefined && tpShape !== undefined && tpShape.domains === 1 && kernel.ranks.includes(tpShape.size)
        ? { kernel, ranks: tpShape.size, bandwidth: tpShape.scaleUp.bandwidth }
        : undefined
    return E.right({
      input,
      models,
      engine: host === engine.host ? engine : { ...engine, host },
      layout: l,
      memory: memory.right,
      classes,
      world: worldOf(s),
      dp: s.dp,
      pp: s.pp,
      tp: s.tp,
      cp: s.cp,
      ep: s.ep,
      edp: expertDataParallel(s),
      sequenceParallel: s.sequenceParallel,
      hidden: model.hidden,
      topK: model.moe?.topK ?? 0,
      experts: model.moe?.experts ?? 0,
      redundantExperts: redundant,
      hotExpertImbalance: hotShare === undefined || model.moe === undefined ? 1 : skewedImbalance(model.moe.experts, redundant, s.ep, hotShare),
      attentionDpRanks,
      dispatchFactor: dispatchBytes(s, model.moe?.topK ?? 0, 1, 1, s.cp),
      activationBytes: communicationBytes(precision),
      kvElements: kvElementsPerLayer(model)(s.tp),
      groups,
      exchange: exchange.right,
      exchangeShare: s.etp / s.tp,
      customAllReduce,
      overlap: engine.twoBatchOverlap ? { ...models.overlap, ep: 1 } : models.overlap,
      lengths,
      heldTokens,
      kvTokens: Number.isFinite(kvTokens) ? kvTokens : 0,
      capacity,
      maxNumTokens,
      graphMaxTokens: engine.cudaGraphs ? engine.cudaGraphMaxBatch(context) : 0,
      maxBatch,
      speculative,
      scratch: { tp: 0, ep: 0, pp: 0, cp: 0 },
      tail: { seconds: 0, tokens: 0, tokenSeconds: 0 },
    })
  }

// -------------------------------------------------------------------------------------
// operations: one pass
// -------------------------------------------------------------------------------------

/**
 * Seconds of an all-reduce of `bytes` over the TP group: the engine's kernel inside a
 * node where it runs it, else NCCL (@meshplan/collectives). One-shot: each rank reads
 * its `n − 1` peers' buffers, `α + (n − 1)·S/B`; two-shot: a reduce-scatter and an
 * all-gather through peer memory, `2α + 2(n − 1)/n · S/B` (the two kernels of vLLM's
 * `custom_all_reduce.cuh`), B the GPU's scale-up bandwidth per direction.
 */
export const tpAllReduceSeconds = (c: InferenceConstants, bytes: number): number => {
  const g = c.groups.tp
  if (g === undefined || !(bytes > 0)) return 0
  const custom = c.customAllReduce
  if (custom === undefined || bytes >= custom.kernel.maxBytes) return g.time('all_reduce', bytes)
  const n = custom.ranks
  const alpha = custom.kernel.latencySeconds
  return bytes < custom.kernel.oneShotBelow(n) ? alpha + ((n - 1) * bytes) / custom.bandwidth : 2 * alpha + (2 * (n - 1) * bytes) / (n * custom.bandwidth)
}

/**
 * Fills `c.scratch` with the seconds of each kind of communication one GPU of stage
 * class `k` does in a pass of `decode` decode tokens and `prefill` prompt tokens of one
 * replica (the busiest attention-DP rank's), the expert exchange scaled by the busiest
 * expert-parallel rank's share `imbalance`. Message sizes follow nccl-tests' convention
 * (the whole buffer), in the activations' format:
 * - TP: two all-reduces per layer of the layer's output, `tokens/cp · hidden` elements
 *   (Shoeybi et al. 2019, section 3); with sequence parallelism each becomes a
 *   reduce-scatter and an all-gather of the same buffer (Korthikanti et al. 2022,
 *   section 4.2.2). The engine's own all-reduce inside a node where it has one
 *   ({@link tpAllReduceSeconds}).
 * - EP: per MoE layer the engine's expert exchange ({@link expertExchangeSeconds}).
 * - PP: a stage that is not the last sends its output, `tokens/cp · hidden` (÷ tp with
 *   sequence parallelism, Megatron's scatter-gather optimisation: Narayanan et al.
 *   2021, section 4.1).
 * - CP: prefill passes each layer's keys and values around the ring, equivalent to an
 *   all-gather of `tokens · kvElements` (ring attention, Liu et al. 2023); a decode step
 *   combines the partial attention outputs of the ranks holding parts of the cache,
 *   an all-reduce of `tokens · hidden/tp` per layer (split-KV decoding, Dao et al. 2023,
 *   "Flash-Decoding for long-context inference").
 */
export const passComm = (c: InferenceConstants, k: StageClass, decode: number, prefill: number, imbalance: number): Communication => {
  const out = c.scratch
  const g = c.groups
  const tokens = decode + prefill
  const layerBytes = (tokens / c.cp) * c.hidden * c.activationBytes
  out.tp =
    g.tp === undefined
      ? 0
      : 2 * k.layers * (c.sequenceParallel ? g.tp.time('reduce_scatter', layerBytes) + g.tp.time('all_gather', layerBytes) : tpAllReduceSeconds(c, layerBytes))
  out.ep = g.ep === undefined || k.moeLayers === 0 ? 0 : k.moeLayers * expertExchangeSeconds(c, g.ep, tokens, prefill > 0, imbalance)
  out.pp = g.pp === undefined || !k.sends ? 0 : g.pp.time('send_recv', c.sequenceParallel ? layerBytes / c.tp : layerBytes)
  out.cp =
    g.cp === undefined
      ? 0
      : k.layers *
        ((decode > 0 ? g.cp.time('all_reduce', (decode * c.hidden * c.activationBytes) / c.tp) : 0) + (prefill > 0 ? g.cp.time('all_gather', prefill * c.kvElements * c.activationBytes) : 0))
  return out
}

/**
 * Seconds of one MoE layer's expert exchange over the EP group `g` in a pass of `tokens`
 * tokens of one replica (the busiest attention-DP rank's), as the engine runs it:
 * - `deepep`: a dispatch and a combine as DeepEP runs them (@meshplan/collectives
 *   `moeExchange`: the low-latency kernels in a decode pass, the normal kernels in a pass
 *   with prompt tokens), each rank sending its `tokens/cp · etp/tp` tokens; the busiest
 *   expert-parallel rank receives `imbalance` times the mean and the exchange waits for
 *   it.
 * - `allgather-reducescatter`: with attention data parallelism, an all-gather of every
 *   rank's tokens (padded to the busiest rank's, as vLLM's naive dispatch pads to the
 *   largest batch across DP ranks) and a reduce-scatter of the outputs, `ranks · tokens ·
 *   hidden` elements each; without it the tokens are replicated already and the outputs'
 *   reduction is the TP all-reduce: nothing more.
 */
export const expertExchangeSeconds = (c: InferenceConstants, g: PreparedGroup, tokens: number, prefill: boolean, imbalance: number): number => {
  if (c.engine.expertExchange === 'deepep') {
    const x = c.exchange
    if (x === undefined) return 0
    const sent = (tokens / c.cp) * c.exchangeShare * imbalance
    return prefill ? x.prefill.intercept + x.prefill.slope * sent : x.decode.intercept + x.decode.slope * sent
  }
  if (c.attentionDpRanks <= 1) return 0
  const bytes = c.attentionDpRanks * (tokens / c.cp) * c.hidden * c.activationBytes
  return g.time('all_gather', bytes) + g.time('reduce_scatter', bytes)
}

/**
 * {@link passComm} of a pure phase: a decode step over `tokens` sequences (`decode`), or
 * a prefill of `tokens` prompt tokens, with balanced experts but for a hot expert the
 * workload gives (the exchange waits for its busiest rank: `hotExpertImbalance`, 1
 * without one).
 */
export const stageComm = (c: InferenceConstants, k: StageClass, decode: boolean, tokens: number): Communication =>
  decode ? passComm(c, k, tokens, 0, c.hotExpertImbalance) : passComm(c, k, 0, tokens, c.hotExpertImbalance)

/** Communication left on the critical path after overlap: `Σ comm − min(Σ overlap·comm, compute)`. */
export const exposedComm = (comm: Communication, overlap: Overlap, compute: number): number => {
  const { tp, ep, pp, cp } = comm
  const hideable = overlap.tp * tp + overlap.ep * ep + overlap.pp * pp + overlap.cp * cp
  return tp + ep + pp + cp - (hideable < compute ? hideable : compute)
}

/** Seconds of one stage of class `k`: a prefill of `batch` prompts, or a decode step of `batch` sequences at `context` keys (a pure phase: static batches). */
export const stageSeconds = (c: InferenceConstants, k: StageClass, decode: boolean, batch: number, context: number): number => {
  const inputTokens = c.input.workload.inputTokens
  const v = c.speculative.verify
  const tokens = decode ? batch * v : batch * inputTokens
  const compute =
    (decode ? decodeSeconds(k.compute, batch, context, v) + draftSeconds(c, k, batch, context) : prefillSeconds(k.compute, inputTokens, batch)) + hotExpertSeconds(c, k, decode ? tokens : tokens / c.cp)
  return launchFloor(c, k, tokens, compute + exposedComm(stageComm(c, k, decode, tokens), c.overlap, compute))
}

/**
 * Seconds the busiest expert-parallel rank spends on the routed experts of stage class
 * `k` beyond a balanced phase of `routed` tokens per GPU when the workload gives a hot
 * expert: the routed operators at `hotExpertImbalance` times the tokens less at the
 * tokens, as a routed pass charges them ({@link passSeconds}); 0 without a share.
 */
export const hotExpertSeconds = (c: InferenceConstants, k: StageClass, routed: number): number => {
  const p = k.parts.routed
  const skew = c.hotExpertImbalance
  if (p === undefined || !(skew > 1)) return 0
  // memory-bound routed operators cost the same at more tokens: the difference is 0, or a rounding error below it
  const extra = decodeSeconds(p, routed * skew, 0) - decodeSeconds(p, routed, 0)
  return extra > 0 ? extra : 0
}

/**
 * Seconds of the draft passes of one speculative step on stage class `k` for `decode`
 * sequences at `context` keys ({@link speculativeOf}): on the stage with the LM head,
 * `drafts` sequential passes of one decoder layer and the LM head over one token per
 * sequence. The layer is this stage's average one (its per-token operators and attention
 * over its layers; its routed experts over its MoE layers when the draft has them). The
 * draft layer's two TP all-reduces per pass (`decode · hidden` elements each) are left
 * out: at decode sizes they are microseconds against a layer's tens of microseconds of
 * weights.
 */
export const draftSeconds = (c: InferenceConstants, k: StageClass, decode: number, context: number): number => {
  const spec = c.speculative
  if (spec.drafts === 0 || decode <= 0 || k.sends || k.layers === 0) return 0
  const p = k.parts
  let layer = (decodeSeconds(p.dense, decode, 0) + decodeSeconds(p.decode, decode, context)) / k.layers
  if (spec.draftRouted && p.routed !== undefined && k.moeLayers > 0) layer += decodeSeconds(p.routed, decode * routedImbalance(c, decode), 0) / k.moeLayers
  return spec.drafts * (layer + decodeSeconds(p.head, decode, 0))
}

/**
 * A pass the engine does not replay from a CUDA graph (graphs off, or more tokens than
 * it captured) takes at least the host's launches of its layers (see
 * `EngineModel.host.eagerLayerSeconds`).
 */
const launchFloor = (c: InferenceConstants, k: StageClass, tokens: number, seconds: number): number => {
  if (tokens <= c.graphMaxTokens) return seconds
  const floor = k.layers * c.engine.host.eagerLayerSeconds
  return seconds > floor ? seconds : floor
}

/**
 * Seconds of one serving pass of stage class `k` over one micro-batch: `decode`
 * sequences at `context` keys, `prefill` prompt tokens per attention-DP rank on average
 * and `busiest` on the busiest one, `emitting` sequences through the LM head. What every
 * token runs is timed once over the busiest rank's tokens, the attention of each phase
 * on its own, the routed experts over the mean tokens times the busiest
 * expert-parallel rank's share ({@link routedImbalance}).
 */
export const passSeconds = (c: InferenceConstants, k: StageClass, decode: number, context: number, prefill: number, busiest: number, emitting: number): number => {
  const p = k.parts
  const input = c.input.workload.inputTokens
  // with speculative decoding each decoding sequence brings `verify` tokens to the pass
  const v = c.speculative.verify
  const verified = decode * v
  const local = verified + busiest / c.cp
  let compute = decodeSeconds(p.dense, local, 0)
  let imbalance = 1
  if (p.routed !== undefined) {
    const mean = verified + prefill / c.cp
    imbalance = routedImbalance(c, mean)
    compute += decodeSeconds(p.routed, mean * imbalance, 0)
  }
  if (decode > 0) compute += decodeSeconds(p.decode, decode, context, v) + draftSeconds(c, k, decode, context)
  if (busiest > 0) compute += prefillSeconds(p.prefill, input, busiest / input)
  if (emitting > 0) compute += decodeSeconds(p.head, emitting + verified - decode, 0)
  const comm = passComm(c, k, verified, busiest, imbalance)
  return launchFloor(c, k, verified + busiest, compute + exposedComm(comm, c.overlap, compute))
}

// -------------------------------------------------------------------------------------
// operations: cycles
// -------------------------------------------------------------------------------------

/**
 * Seconds for every one of `batch` sequences of a replica to get through a step
 * (`decode`: one token each at `context` keys; else their prefill): `micro` micro-batches
 * of `batch/micro` through the pipeline (see the module comment). `fill` selects the
 * prefill form (fill and drain) over the steady decode cycle.
 */
const cycleSeconds = (c: InferenceConstants, decode: boolean, batch: number, context: number, fill: boolean): number => {
  // fewer than one sequence is one micro-batch of that fraction
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

/** The pipeline cycle of serving passes: `batch` decodes at `context`, `prefill` prompt tokens (`busiest` on the busiest attention-DP rank), `emitting` LM-head rows, split into micro-batches. */
export const passCycle = (c: InferenceConstants, batch: number, context: number, prefill: number, busiest: number, emitting: number): number => {
  const units = batch + (prefill > 0 ? 1 : 0)
  const micro = units < 1 ? 1 : c.pp < units ? c.pp : Math.max(1, Math.floor(units))
  let sum = 0
  let max = 0
  for (let i = 0; i < c.classes.length; i++) {
    const k = c.classes[i] as StageClass
    const t = passSeconds(c, k, batch / micro, context, prefill / micro, busiest / micro, emitting / micro)
    sum += k.ranks.length * t
    if (t > max) max = t
  }
  return sum > micro * max ? sum : micro * max
}

/** The host's time for `passes` forward passes over `sequences` sequences: exposed (added) unless the engine overlaps it, then only what exceeds the GPU's `gpu` seconds. */
export const withHost = (c: InferenceConstants, gpu: number, passes: number, sequences: number): number => {
  const h = c.engine.host
  const host = passes * h.stepSeconds + sequences * h.perSequenceSeconds
  if (!h.overlapped) return gpu + host
  return gpu > host ? gpu : host
}

/**
 * Seconds of a continuous-batching cycle of one replica: each of `batch` running
 * sequences gets a token at `context` keys and `prompts` new prompts are prefilled (the
 * arrivals that keep the batch full). A fused engine does both in one pass (the prompts'
 * tokens as a chunk beside the decode tokens); another runs the prompts in prefill
 * passes of at most its token budget, then the decode pass. With attention data
 * parallelism the prompt tokens of the pass are the busiest rank's ({@link busiestPrefill}).
 */
export const servingCycle = (c: InferenceConstants, batch: number, context: number, prompts: number): number => {
  const input = c.input.workload.inputTokens
  const tokens = prompts * input
  if (c.engine.fusedChunkedPrefill) {
    const busiest = busiestPrefill(c, tokens, batch)
    return withHost(c, passCycle(c, batch, context, tokens, busiest, batch + prompts), 1, batch + prompts)
  }
  const decode = passCycle(c, batch, context, 0, 0, batch)
  if (tokens <= 0) return withHost(c, decode, 1, batch)
  // prefill passes of at most the budget: one per cycle while the arrivals fit it
  const passes = tokens <= c.maxNumTokens ? 1 : tokens / c.maxNumTokens
  const each = tokens / passes
  const prefill = passes * passCycle(c, 0, 0, each, busiestPrefill(c, each, 0), prompts / passes)
  return withHost(c, decode + prefill, 1 + passes, batch + prompts)
}

/**
 * Seconds from a request's arrival to its first token in a running engine of `batch`
 * sequences whose cycle takes `cycle`: it waits half a cycle on average for the pass in
 * progress, then its prompt goes through in chunks of what the budget leaves beside the
 * decode tokens (fused: `ceil(input / (budget − batch))` cycles), or in the next
 * prefill pass.
 */
export const arrivalTtft = (c: InferenceConstants, batch: number, cycle: number, prompts: number): number => {
  const input = c.input.workload.inputTokens
  if (c.engine.fusedChunkedPrefill) {
    const room = c.maxNumTokens - batch
    const chunks = Math.ceil(input / (room > 1 ? room : 1))
    return (chunks + 0.5) * cycle
  }
  const tokens = (prompts > 1 ? prompts : 1) * input
  return 0.5 * cycle + passCycle(c, 0, 0, tokens, busiestPrefill(c, tokens, 0), prompts > 1 ? prompts : 1)
}

// -------------------------------------------------------------------------------------
// operations: figures
// -------------------------------------------------------------------------------------

/** Bytes on the fullest GPU with `batch` running sequences per data-parallel rank. */
export const memoryAt = (c: InferenceConstants, batch: number): number => {
  let max = 0
  for (let i = 0; i < c.classes.length; i++) {
    const k = c.classes[i] as StageClass
    const b = k.baseBytes + batch * k.bytesPerSequence
    if (b > max) max = b
  }
  return max
}

/** Quadrature points of a ramp-down tail. */
const TAIL_POINTS = 24

/** Sums of a ramp-down tail: its seconds, the tokens it produces, and Σ tokens × step seconds (for the mean TPOT). */
export interface TailSums {
  seconds: number
  tokens: number
  tokenSeconds: number
}

/**
 * The ramp-down tail of `count` sequences (started together, or caught in a steady
 * state when `residual`), written into `sums`: each step takes the cycle of the
 * sequences still running (at least one) until the last ends ({@link tailSteps}).
 * Sequences started together all run until the shortest length (the flat part, exact);
 * the rest is integrated over the steps by the trapezoid rule on {@link TAIL_POINTS}
 * points.
 */
export const tailSeconds = (c: InferenceConstants, count: number, residual: boolean, context: number, sums: TailSums): TailSums => {
  const l = c.lengths
  const steps = tailSteps(l, count, residual)
  sums.seconds = 0
  sums.tokens = 0
  sums.tokenSeconds = 0
  if (steps <= 0) return sums
  const flat = residual ? 0 : l.kind === 'fixed' ? l.mean : l.kind === 'uniform' ? l.low : 0
  const flatSteps = flat < steps ? flat : steps
  // `steps` count tokens of each sequence: a pass gives `accept` of them, so a token's share of a pass is pass / accept
  const a = c.speculative.accept
  if (flatSteps > 0) {
    const t = servingCycle(c, count > 1 ? count : 1, context, 0) / a
    sums.seconds += flatSteps * t
    sums.tokens += flatSteps * count
    sums.tokenSeconds += flatSteps * count * t
  }
  const span = steps - flatSteps
  if (span <= 0) return sums
  const h = span / TAIL_POINTS
  for (let i = 0; i <= TAIL_POINTS; i++) {
    const running = runningAfter(l, count, residual, flatSteps + i * h)
    const t = servingCycle(c, running > 1 ? running : 1, context, 0) / a
    const weight = i === 0 || i === TAIL_POINTS ? h / 2 : h
    sums.seconds += weight * t
    sums.tokens += weight * running
    sums.tokenSeconds += weight * running * t
  }
  return sums
}

/**
 * Seconds to prefill `prompts` prompts (`tokens` in all, per replica) at the start of a
 * run, in passes of the token budget. Every replica takes its share of the requests
 * issued at once in the same passes, so attention-DP ranks carry the same chunk.
 */
const startupSeconds = (c: InferenceConstants, tokens: number, prompts: number): number => {
  const passes = tokens <= c.maxNumTokens ? 1 : tokens / c.maxNumTokens
  const each = tokens / passes
  return passes * withHost(c, passCycle(c, 0, 0, each, each, prompts / passes), 1, prompts / passes)
}

/**
 * The figures of `batch` sequences per data-parallel rank, written into `out`; in
 * `latency` mode the batch is 1 whatever is passed.
 *
 * - `static` and `latency`: TTFT is the prefill of the batch; decode steps run at the
 *   context of the first and the last step and take their mean (the trapezoid rule:
 *   exact where the step time is linear in the context, as its KV reads are);
 *   request latency = TTFT + (output − 1) · TPOT; throughput counts every output token
 *   over the request latency, prefill included (as TensorRT-LLM's gptSessionBenchmark).
 *   An engine that does not overlap its host work adds it to every pass. A static batch
 *   whose outputs vary decodes until its longest output ends, fewer sequences each step
 *   ({@link tailSeconds}); TPOT is the token-weighted step, throughput the batch's tokens
 *   over that run.
 * - `max_throughput`: continuous batching ({@link servingCycle}) with `batch` running
 *   sequences at the mean context they hold (`input + E[O²]/2E[O]`, the mean age of a
 *   renewal process), the arrivals of a cycle (`batch/output` prompts) prefilled in it;
 *   TPOT is that cycle, throughput `dp · batch / TPOT`. The arrivals change the run:
 *   - `numRequests` N, all issued at time 0, `N/dp` per replica: the first `batch`
 *     prompts are prefilled, the rest enter as sequences finish (the steady cycle), and
 *     once the queue is empty the running sequences ramp down, fewer each step
 *     ({@link tailSeconds}: with lengths that vary, the residual lengths of a steady
 *     state; when every request fits at once, or lengths are fixed, the sequences of a
 *     wave end together at their own lengths). Throughput = N · output / the run's time.
 *   - `concurrency` C: `C/dp` per replica in flight, at most `batch`; beyond it requests
 *     wait, and the mean latency follows from Little's law (latency = C / request rate).
 *   - `requestRate` λ: Poisson arrivals; below the engine's capacity the running batch
 *     `n` solves Little's law `n = λ/dp · (TTFT + output · cycle(n))`, throughput is
 *     `λ · output`; at or above it the engine runs full (the steady state).
 */
export const evaluateInference = (c: InferenceConstants, batch: number, out: InferenceFigures): InferenceFigures => {
  const w = c.input.workload
  const b = w.mode === 'latency' ? 1 : batch
  const input = w.inputTokens
  const output = w.outputTokens
  out.runSeconds = 0
  out.inFlight = b
  if (w.mode !== 'max_throughput') {
    const host = c.engine.host
    const perPass = host.overlapped ? 0 : host.stepSeconds + b * host.perSequenceSeconds
    const prefill = cycleSeconds(c, false, b, 0, true) + perPass
    if (w.mode === 'static' && c.lengths.kind !== 'fixed' && b > 1) {
      // outputs that vary: the batch decodes until its longest one ends, fewer sequences in each step as the
      // shorter ones end (the ramp-down of sequences started together, {@link tailSeconds})
      const sums = tailSeconds(c, b, false, input + meanAge(c.lengths), c.tail)
      const tpot = sums.tokens > 0 ? sums.tokenSeconds / sums.tokens : 0
      const total = (c.dp * b * output) / (prefill + sums.seconds)
      out.runSeconds = prefill + sums.seconds
      return fill(c, out, b, prefill, tpot, prefill + (output - 1) * tpot, total, prefill, tpot)
    }
    const first = cycleSeconds(c, true, b, input + 1, false)
    // a step gives each sequence `accept` tokens on average under speculative decoding (1 without)
    const tpot = ((output > 1 ? (first + cycleSeconds(c, true, b, input + output - 1, false)) / 2 : first) + perPass) / c.speculative.accept
    const latency = prefill + (output - 1) * tpot
    const total = (c.dp * b * output) / latency
    return fill(c, out, b, prefill, tpot, latency, total, prefill, tpot)
  }
  const lengths = c.lengths
  const mean = lengths.mean
  const context = input + meanAge(lengths)
  // the steady state at `b` running sequences per replica; a pass gives each `a` tokens (speculative decoding;
  // 1 without), so `b·a/mean` prompts arrive per pass and `cycle` is the time per token of every sequence
  const a = c.speculative.accept
  const prompts = b / mean
  const pass = servingCycle(c, b, context, prompts * a)
  const cycle = pass / a
  const ttft = arrivalTtft(c, b, pass, prompts * a)
  // the prefill figure: what a new prompt spends beyond the wait for the pass in progress
  const prefillPass = ttft - 0.5 * pass
  if (w.concurrency !== undefined) {
    const n = w.concurrency / c.dp
    const running = n < b ? n : b
    const runningPass = servingCycle(c, running, context, (running / mean) * a)
    const cyc = runningPass / a
    const first = arrivalTtft(c, running, runningPass, (running / mean) * a)
    const service = first + (mean - 1) * cyc
    // requests beyond the running batch queue: latency = concurrency / request rate (Little's law)
    const rate = running / (mean * cyc)
    const latency = n > running ? n / rate : service
    out.inFlight = running
    return fill(c, out, running, first + (latency - service), cyc, latency, (c.dp * running) / cyc, prefillPass, cyc)
  }
  if (w.requestRate !== undefined) {
    const lambda = w.requestRate / c.dp
    const capacity = b / (mean * cycle)
    if (lambda < capacity) {
      // Little's law fixed point: n running = arrival rate x time in the system
      let n = lambda * (ttft + mean * cycle)
      for (let i = 0; i < 40; i++) {
        const m = n < 1 ? 1 : n > b ? b : n
        const mPass = servingCycle(c, m, context, (m / mean) * a)
        n = lambda * (arrivalTtft(c, m, mPass, (m / mean) * a) + ((mean - 1) * mPass) / a)
      }
      const running = n < 1 ? 1 : n > b ? b : n
      const runningPass = servingCycle(c, running, context, (running / mean) * a)
      const cyc = runningPass / a
      const first = arrivalTtft(c, running, runningPass, (running / mean) * a)
      out.inFlight = running
      return fill(c, out, running, first, cyc, first + (mean - 1) * cyc, w.requestRate * mean, prefillPass, cyc)
    }
    // at or above capacity the queue grows: a finite run is one issued at once, an endless one the steady state
  }
  if (w.numRequests !== undefined) return finiteRun(c, out, b, w.numRequests / c.dp, context, cycle, ttft)
  return fill(c, out, b, ttft, cycle, ttft + (mean - 1) * cycle, (c.dp * b) / cycle, prefillPass, cycle)
}

/** Writes the figures of a steady state (or of a run) into `out`. */
const fill = (c: InferenceConstants, out: InferenceFigures, b: number, ttft: number, tpot: number, latency: number, total: number, prefill: number, decode: number): InferenceFigures => {
  out.ttft = ttft
  out.tpot = tpot
  out.requestLatency = latency
  out.tokensPerSecond = total
  out.tokensPerSecondPerGpu = total / c.world
  out.tokensPerSecondPerUser = 1 / tpot
  out.memoryPerGpu = memoryAt(c, b)
  out.fits = b <= c.capacity
  out.prefillSeconds = prefill
  out.decodeSeconds = decode
  return out
}

/**
 * A finite run of `requests` per replica issued at once, at most `b` running (see
 * {@link evaluateInference}): the startup prefill of the first wave, the steady phase
 * while requests wait, and the ramp-down tail; fixed lengths, and runs that fit at once,
 * go in waves of `b` whose sequences start together.
 */
const finiteRun = (c: InferenceConstants, out: InferenceFigures, b: number, requests: number, context: number, cycle: number, steadyTtft: number): InferenceFigures => {
  const input = c.input.workload.inputTokens
  const l = c.lengths
  const mean = l.mean
  const sums = c.tail
  const first = requests < b ? requests : b
  let seconds = 0
  let tokens = 0
  let tokenSeconds = 0
  let waitSum = 0
  if (l.kind === 'fixed' || requests <= b) {
    // waves of b, then what is left: the full waves are alike, so they are priced once and
    // counted (work bounded whatever the number of requests, 2^31 included)
    const full = Math.floor(requests / b)
    const rest = requests - full * b
    for (let k = 0; k < 2; k++) {
      const wave = k === 0 ? b : rest
      const count = k === 0 ? full : rest > 0 ? 1 : 0
      if (count === 0) continue
      const start = startupSeconds(c, wave * input, wave)
      tailSeconds(c, wave, false, context, sums)
      const per = start + sums.seconds
      // first tokens come out over each wave's prefill, half of it on average; wave i starts at seconds + i·per
      waitSum += wave * (count * (seconds + start / 2) + (per * count * (count - 1)) / 2)
      seconds += count * per
      tokens += count * sums.tokens
      tokenSeconds += count * sums.tokenSeconds
    }
  } else {
    const start = startupSeconds(c, first * input, first)
    // when the queue empties every request has entered and b run on with their residual
    // lengths (mean: the mean age, by the symmetry of a renewal process): the steady
    // phase produced the rest of the requests' tokens at b per cycle
    const steadySteps = (requests * mean - b * meanAge(l)) / b
    const steady = steadySteps * cycle
    tailSeconds(c, b, true, context, sums)
    seconds = start + steady + sums.seconds
    tokens = steadySteps * b + sums.tokens
    tokenSeconds = steadySteps * b * cycle + sums.tokenSeconds
    // the first b get their first token during the startup; the others enter evenly over the steady phase
    waitSum = (b * start) / 2 + (requests - b) * (start + steady / 2 + steadyTtft)
  }
  const tpot = tokens > 0 ? tokenSeconds / tokens : cycle
  const ttft = waitSum / requests
  out.runSeconds = seconds
  out.inFlight = first
  const total = (c.dp * requests * mean) / seconds
  return fill(c, out, first, ttft, tpot, ttft + (mean - 1) * tpot, total, startupSeconds(c, first * input, first), tpot)
}
