/**
 * A deployment from the command line: a plan file (its model, cluster, strategy,
 * precision and workload) and flags that override any of them, or flags alone, and
 * the checks that a flag applies to what is asked (a flag that does not apply is an
 * error, never ignored). Every failure is a message for stderr (the command exits 2);
 * nothing here throws.
 */
import * as E from 'fp-ts/Either'
import type { ServingDeployment } from '@meshplan/export'
import { inferenceWorkload, type InferenceWorkload } from '@meshplan/inference'
import { checkpointPrecision, precision as makePrecision, type Architecture, type Precision } from '@meshplan/model'
import { describeSplit, layersOfStage, ppSplitsLayers, splitFor, strategy, withExpertDefault, type Strategy } from '@meshplan/parallelism'
import { decodePlan, type Plan } from '@meshplan/planner'
import type { Cluster } from '@meshplan/topology'
import { parseDocument } from '@meshplan/units'
import { givenOf, type FlagName, type Flags, type ParsedFlags } from './flags'
import { issuesMessage, readText, resolveCluster, resolveModel, type InputError } from './inputs'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The resolved deployment: @meshplan/export's `ServingDeployment` (model, cluster, strategy, precision, workload), the plan file it came from, if any, and notes. */
export interface Deployment extends ServingDeployment {
  readonly plan?: Plan
  /** What was chosen for the user and why (a checkpoint's formats, an uneven split), one line each, printed before a text output. */
  readonly notes: ReadonlyArray<string>
}

/** The flags that name a model, a cluster and a strategy. */
export const strategyFlags: ReadonlyArray<FlagName> = ['model', 'cluster', 'nodes', 'tp', 'pp', 'dp', 'cp', 'ep', 'etp', 'vp', 'sp', 'firstStageLayers', 'lastStageLayers', 'embeddingInPipelineSplit', 'lossInPipelineSplit']
/** The flags of an uneven pipeline split (absent: a plan's split, or the even one). */
export const splitFlags: ReadonlyArray<FlagName> = ['firstStageLayers', 'lastStageLayers', 'embeddingInPipelineSplit', 'lossInPipelineSplit']
/** The flags of a deployment: a strategy and its formats. */
export const deploymentFlags: ReadonlyArray<FlagName> = [...strategyFlags, 'precision', 'weights', 'activations', 'kvCache']
/** The flags of a serving workload. */
export const inferenceFlags: ReadonlyArray<FlagName> = ['mode', 'inputTokens', 'outputTokens', 'batch', 'maxBatch', 'speculative', 'hotExpertShare']
/** The flags of a training step. */
export const trainingFlags: ReadonlyArray<FlagName> = ['globalBatch', 'microBatch', 'seqLen', 'recompute', 'zero', 'schedule', 'tpCommOverlap', 'offload', 'gradReduce', 'order']
/** The flags of a training run's goodput (estimate --train). */
export const goodputFlags: ReadonlyArray<FlagName> = ['checkpointBandwidth', 'restart', 'failureRate', 'checkpointInterval']

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** Reads and parses a plan file (JSON or YAML), not yet decoded: a serving or a training plan. */
export const readPlanDocument = (file: string): E.Either<InputError, unknown> => {
  const text = readText(file)
  if (E.isLeft(text)) return text
  const doc = parseDocument(text.right, file)
  return E.isLeft(doc) ? E.left(doc.left.message) : doc
}

/** Decodes the parsed serving plan of `file`. */
export const planOfDocument = (file: string, doc: unknown): E.Either<InputError, Plan> => {
  const plan = decodePlan(doc)
  return E.isLeft(plan) ? E.left(issuesMessage(file)(plan.left)) : plan
}

/** Reads and decodes a plan file. */
export const readPlan = (file: string): E.Either<InputError, Plan> => E.chain((doc: unknown) => planOfDocument(file, doc))(readPlanDocument(file))

/** The pipeline split of the flags when one is given, else the base's unless the flags change its stages (`--pp`, `--vp`). */
const splitOf = (flags: Flags, given: ReadonlySet<FlagName>, base: Strategy): Pick<Strategy, 'pipelineSplit'> => {
  if (givenOf(given, splitFlags).length > 0) {
    return {
      pipelineSplit: {
        ...(flags.firstStageLayers === undefined ? {} : { firstStageLayers: flags.firstStageLayers }),
        ...(flags.lastStageLayers === undefined ? {} : { lastStageLayers: flags.lastStageLayers }),
        ...(flags.embeddingInPipelineSplit === true ? { embeddingInSplit: true } : {}),
        ...(flags.lossInPipelineSplit === true ? { lossInSplit: true } : {}),
      },
    }
  }
  return base.pipelineSplit === undefined || given.has('pp') || given.has('vp') ? {} : { pipelineSplit: base.pipelineSplit }
}

/**
 * `d` with the uneven pipeline split Megatron-LM users take ({@link splitFor}) when it has
 * none, none was asked for, and its layers do not divide into `pp · vp` equal chunks; with
 * a note that says which split and why. Otherwise `d` as it is.
 */
export const withDefaultSplit = (d: Deployment, given: ReadonlySet<FlagName>): Deployment => {
  const s = d.strategy
  if (s.pipelineSplit !== undefined || s.pp < 2 || givenOf(given, splitFlags).length > 0 || ppSplitsLayers(d.model)(s.pp, s.virtualStages)) return d
  const split = splitFor(d.model.layers, s.pp, s.virtualStages)
  if (split === undefined) return d
  const strategy = { ...s, pipelineSplit: split }
  const sizes = Array.from({ length: s.pp }, (_, r) => layersOfStage(d.model, strategy)(r).length)
  const middle = sizes.slice(1, -1)
  const shown = middle.every((n) => n === middle[0]) && middle.length > 1 ? `${sizes[0]} + ${middle.length} × ${middle[0]} + ${sizes[sizes.length - 1]}` : sizes.join(' + ')
  return {
    ...d,
    strategy,
    notes: [
      ...d.notes,
      `note: ${d.model.layers} layers do not divide into ${s.pp * s.virtualStages} equal chunks; split as Megatron-LM users do: ${describeSplit(split)}, ${shown} layers per stage (choose another with --first-stage-layers / --last-stage-layers or --embedding-in-pipeline-split / --loss-in-pipeline-split)`,
    ],
  }
}

/** The strategy the degree flags give over `base` (a plan's, or all ones), with the expert default for an MoE model. */
export const strategyOf = (flags: Flags, given: ReadonlySet<FlagName>, model: Architecture, base?: Strategy): Strategy => {
  const start = base ?? strategy({})
  const s = strategy({
    tp: flags.tp ?? start.tp,
    pp: flags.pp ?? start.pp,
    dp: flags.dp ?? start.dp,
    cp: flags.cp ?? start.cp,
    ep: flags.ep ?? start.ep,
    etp: flags.etp ?? start.etp,
    virtualStages: flags.vp ?? start.virtualStages,
    sequenceParallel: flags.sp === true || start.sequenceParallel,
    ...splitOf(flags, given, start),
  })
  // a plan's strategy already has its expert default; flags that change tp or ep re-apply it unless --etp is given
  const etpGiven = given.has('etp') || (base !== undefined && !given.has('tp') && !given.has('ep'))
  return withExpertDefault(model.moe !== undefined, etpGiven)(s)
}

/** Why the serving workload flags do not apply to `mode`, if they do not: `--batch` is the static mode's, `--max-batch` not latency's. */
export const workloadApplies = (given: ReadonlySet<FlagName>, mode: InferenceWorkload['mode']): ReadonlyArray<InputError> => [
  ...(given.has('batch') && mode !== 'static'
    ? [`--batch: applies to --mode static only (${mode === 'latency' ? 'latency runs one request at a time' : 'max_throughput runs as many sequences as fit, up to --max-batch'})`]
    : []),
  ...(given.has('maxBatch') && mode === 'latency' ? ['--max-batch: does not apply to --mode latency (one request at a time)'] : []),
]

/** Why `--hot-expert-share` does not apply to `model`, if it does not: a dense model has no routed experts, and uniform routing already gives the hottest expert 1/experts. */
export const hotExpertShareApplies = (model: Architecture, share: number): ReadonlyArray<InputError> => {
  const moe = model.moe
  if (moe === undefined) return [`--hot-expert-share: applies to a mixture-of-experts model; ${model.name} has no routed experts`]
  return share < 1 / moe.experts ? [`--hot-expert-share: expected at least 1/experts = 1/${moe.experts} = ${Number((1 / moe.experts).toPrecision(4))} for ${model.name} (uniform routing), got ${share}`] : []
}

/** Errors for the flags of `names` that were given, each saying why they do not apply. */
export const notApplicable = (given: ReadonlySet<FlagName>, names: ReadonlyArray<FlagName>, why: string): ReadonlyArray<InputError> =>
  givenOf(given, names).map((flag) => `${flag}: ${why}`)

/**
 * The precision a deployment runs in, and the notes that say what came from the model's
 * checkpoint (its `quantization_config`: the formats no plan and no flag gave). A
 * checkpoint that computes in a format the device has no peak in (NVFP4 on Hopper) runs
 * with 16-bit activations, its weights widened as they are loaded (W4A16 kernels), rather
 * than not at all; a format asked for by a flag is kept (and refused later with the reason).
 */
const checkpointFormats = (model: Architecture, cluster: Cluster, precision: Precision, flags: Flags, plan: Plan | undefined): { readonly precision: Precision; readonly notes: ReadonlyArray<string> } => {
  const q = plan === undefined ? model.quantization : undefined
  if (q === undefined) return { precision, notes: [] }
  const weightsTaken = flags.weights === undefined && flags.precision === undefined
  const activationsTaken = q.activations !== undefined && flags.activations === undefined && flags.precision === undefined
  const peak = cluster.device.peak[precision.activations]
  const computable = peak !== undefined && Number.isFinite(peak) && peak > 0
  const wide = cluster.device.peak.bf16 !== undefined ? 'bf16' : 'fp16'
  const taken = [...(weightsTaken ? [`${q.weights} weights`] : []), ...(activationsTaken && computable ? [`${q.activations} activations`] : [])]
  return {
    precision: activationsTaken && !computable ? { ...precision, activations: wide } : precision,
    notes: [
      ...(taken.length > 0 ? [`note: ${taken.join(' and ')} from the checkpoint's quantization_config (quant_method ${q.method}); --weights, --activations or --precision choose others`] : []),
      ...(activationsTaken && !computable
        ? [`note: the checkpoint computes in ${q.activations}, which ${cluster.device.name} has no peak in: ${wide} activations, the weights widened as they are loaded (as W4A16 / W8A16 kernels run them)`]
        : []),
    ],
  }
}

/** The deployment given by the flags over `plan` (when given); every problem at once. */
export const deploymentOf = ({ flags, given }: ParsedFlags, plan?: Plan): E.Either<ReadonlyArray<InputError>, Deployment> => {
  // a disaggregated plan is two deployments: estimate, check, dag and plan take it as such
  if (plan?.pools !== undefined) return E.left([`${plan.name}: a disaggregated plan (pools): meshplan estimate, check, dag and plan take it; this command takes one deployment (give parallelism instead of pools)`])
  const errors: InputError[] = []
  const collect = <A>(r: E.Either<InputError, A>): A | undefined => {
    if (E.isLeft(r)) {
      errors.push(r.left)
      return undefined
    }
    return r.right
  }
  const model = flags.model === undefined && plan !== undefined ? plan.model : collect(resolveModel(flags.model ?? 'reference-moe'))
  if (plan !== undefined && flags.nodes !== undefined && flags.cluster === undefined) errors.push('--nodes: with a plan file, give --cluster NAME too (the plan\'s cluster is replaced as a whole)')
  const cluster =
    flags.cluster === undefined
      ? plan !== undefined
        ? plan.cluster
        : collect(resolveCluster('reference', flags.nodes ?? 16))
      : collect(resolveCluster(flags.cluster, flags.nodes))
  // without a plan's precision, the checkpoint's formats (its quantization_config), else bf16
  const p0 = plan?.precision ?? (model === undefined ? makePrecision({}) : checkpointPrecision(model))
  const precision: Precision = {
    weights: flags.weights ?? flags.precision ?? p0.weights,
    activations: flags.activations ?? flags.precision ?? p0.activations,
    kvCache: flags.kvCache ?? flags.precision ?? p0.kvCache,
  }
  const w0 = plan?.workload
  const mode = flags.mode ?? w0?.mode ?? 'static'
  errors.push(...workloadApplies(given, mode))
  // a plan's batch belongs to its mode: a flag that changes the mode leaves it behind
  const planBatch = flags.mode === undefined || flags.mode === 'static' ? w0?.batch : undefined
  const batch = flags.batch ?? planBatch
  const maxBatch = mode === 'latency' ? undefined : (flags.maxBatch ?? w0?.maxBatch)
  const workload: InferenceWorkload = {
    ...(w0 ?? {}),
    mode,
    inputTokens: flags.inputTokens ?? w0?.inputTokens ?? 1024,
    outputTokens: flags.outputTokens ?? w0?.outputTokens ?? 256,
    ...(batch === undefined ? {} : { batch }),
    ...(maxBatch === undefined ? {} : { maxBatch }),
    ...(flags.speculative === undefined ? {} : { speculative: flags.speculative }),
    ...(flags.hotExpertShare === undefined ? {} : { hotExpertShare: flags.hotExpertShare }),
  }
  if (mode !== 'static') delete (workload as { batch?: number }).batch
  if (mode === 'latency') delete (workload as { maxBatch?: number }).maxBatch
  const checked = inferenceWorkload(workload)
  if (E.isLeft(checked)) errors.push(checked.left.message)
  if (model !== undefined && flags.hotExpertShare !== undefined) errors.push(...hotExpertShareApplies(model, flags.hotExpertShare))
  if (errors.length > 0 || model === undefined || cluster === undefined) return E.left([...new Set(errors)])
  const s = strategyOf(flags, given, model, plan?.strategy)
  const { precision: deployed, notes } = checkpointFormats(model, cluster, precision, flags, plan)
  return E.right({ model, cluster, strategy: s, precision: deployed, workload, ...(plan === undefined ? {} : { plan }), notes })
}
