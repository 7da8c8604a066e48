/**
 * A serving plan as an engine runs it. `exportServing` checks the plan against the laws
 * of the algebra and against what the engine release can express (its strategies and
 * its formats), estimates the plan with @meshplan/inference under that engine's record
 * (`engineModel`), and either writes the launch of exactly the plan or, when the engine
 * cannot run it as written, says why and writes the launch of the nearest deployment it
 * can run (`nearest.ts`), estimated the same way, beside the plan's estimate. The
 * batch limits and memory fractions of the commands come from the estimate of what
 * they launch: the sequences in flight and the tokens per forward pass per attention
 * data-parallel rank, and the memory the estimate holds back.
 *
 * @example
 * import { defaultCostModels } from '@meshplan/cost-models'
 * import { exportServing, findEngine } from '@meshplan/export'
 * const vllm = findEngine('vllm')                 // right(the newest vLLM release of the table)
 * exportServing(defaultCostModels)(engine)({ model, cluster, strategy, precision, workload })
 */
import * as E from 'fp-ts/Either'
import type { CostModels } from '@meshplan/cost-models'
import { engineModel, estimateInference, type InferenceEstimate, type InferenceWorkload, type MemoryFigures } from '@meshplan/inference'
import type { Architecture, Precision, StorageDtype } from '@meshplan/model'
import { enumerate, validate, worldOf, type Constraints, type Strategy } from '@meshplan/parallelism'
import { worldSize, type Cluster } from '@meshplan/topology'
import { problem, tilingProblem, type EngineRelease, type EstimateOrProblem, type Problem } from '../engine'
import type { Launch } from '../launch'
import { nearestOf, strategyChanges, strategyDistance, withPlanSplit, type Change } from '../nearest'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What is served, on what, split how, in which formats. */
export interface ServingDeployment {
  readonly model: Architecture
  readonly cluster: Cluster
  readonly strategy: Strategy
  readonly precision: Precision
  readonly workload: InferenceWorkload
}

/** The numbers a launch takes from the estimate of what it launches. */
export interface ServingFigures {
  /** Sequences in flight per attention data-parallel rank. */
  readonly batch: number
  /** Tokens one forward pass of an attention data-parallel rank may carry. */
  readonly tokensPerPass: number
  /** The longest request: prompt and output tokens. */
  readonly contextTokens: number
  readonly memory: MemoryFigures
}

/** One release of a serving engine: its table of flags read into what it can run and how to launch it. */
export interface ServingEngine extends EngineRelease {
  readonly kind: 'serving'
  /** Why it cannot run `s` of `model` on `cluster` as written; empty when it can. */
  readonly strategyProblems: (model: Architecture, cluster: Cluster, s: Strategy) => ReadonlyArray<Problem>
  /** Why it cannot run the formats `p`; empty when it can. */
  readonly precisionProblems: (model: Architecture, p: Precision) => ReadonlyArray<Problem>
  /** The formats nearest to `p` it runs. */
  readonly nearestPrecision: (model: Architecture, p: Precision) => Precision
  /** The strategies it can run at all, as `enumerate`'s constraints (the nearest search walks them). */
  readonly space: Constraints
  readonly launch: (d: ServingDeployment, figures: ServingFigures) => Launch
}

/** A serving plan exported to one engine release. */
export interface ServingExport {
  readonly engine: ServingEngine
  readonly plan: ServingDeployment
  /** Why the engine cannot run the plan as written (a broken law of the algebra included); empty when it can. */
  readonly problems: ReadonlyArray<Problem>
  /** What the launch runs: the plan itself when there are no problems, else the nearest deployment the engine can run; undefined when there is none. */
  readonly exported: ServingDeployment | undefined
  /** How the exported deployment differs from the plan. */
  readonly changes: ReadonlyArray<Change>
  /** The plan's estimate under the engine's record (@meshplan/inference `engineModel`). */
  readonly planEstimate: EstimateOrProblem<InferenceEstimate>
  /** The exported deployment's estimate (the plan's when it is the plan). */
  readonly exportedEstimate: EstimateOrProblem<InferenceEstimate> | undefined
  readonly launch: Launch | undefined
  /** Why nothing was exported, when nothing was. */
  readonly unexported: string | undefined
}

// -------------------------------------------------------------------------------------
// formats
// -------------------------------------------------------------------------------------

/** Formats an engine computes in without a quantized checkpoint. */
const wide: ReadonlyArray<StorageDtype> = ['bf16', 'fp16', 'fp32']

/** What an engine release does with formats: which weight formats it quantizes a 16-bit checkpoint to when it loads it, which KV-cache formats it stores. */
export interface FormatSupport {
  readonly onlineWeights: ReadonlyArray<StorageDtype>
  readonly kvCache: ReadonlyArray<StorageDtype>
}

/** The weights' format of `model`'s checkpoint: its `quantization_config`'s, else 16-bit. */
const checkpointWeights = (model: Architecture): StorageDtype | undefined => model.quantization?.weights

/** Why `release` with `support` cannot run the formats `p` of `model` (see {@link FormatSupport}). */
export const formatProblems =
  (release: EngineRelease, support: FormatSupport) =>
  (model: Architecture, p: Precision): ReadonlyArray<Problem> => {
    const name = `${release.name} ${release.version}`
    const stored = checkpointWeights(model)
    const weightsOk = p.weights === stored || (stored === undefined && wide.includes(p.weights)) || (stored === undefined && support.onlineWeights.includes(p.weights))
    // narrow activations run with weights of the same format (W8A8, W4A4)
    const activationsOk = wide.includes(p.activations) || p.activations === p.weights
    const kvOk = wide.includes(p.kvCache) || support.kvCache.includes(p.kvCache)
    const online = support.onlineWeights.length === 0 ? 'quantizes none online' : `quantizes 16-bit weights to ${support.onlineWeights.join(', ')} as it loads them`
    return [
      ...(weightsOk
        ? []
        : [problem('weight-format', `${name} loads the checkpoint's weights as they are (${stored ?? '16-bit'}) and ${online}; ${p.weights} weights need a checkpoint quantized to ${p.weights}`)]),
      ...(activationsOk ? [] : [problem('activation-format', `${name} computes in 16 bits, or in the weights' format with quantized weights (W8A8); not ${p.activations} activations with ${p.weights} weights`)]),
      ...(kvOk ? [] : [problem('kv-cache-format', `${name} stores the KV cache in 16 bits${support.kvCache.length > 0 ? ` or ${support.kvCache.join(', ')}` : ''}, not ${p.kvCache}`)]),
    ]
  }

/** The formats nearest to `p` that `support` runs: a format it cannot run falls back to the checkpoint's (weights) or to 16 bits. */
export const nearestFormats =
  (support: FormatSupport) =>
  (model: Architecture, p: Precision): Precision => {
    const stored = checkpointWeights(model)
    const sixteen: StorageDtype = wide.includes(p.activations) ? p.activations : 'bf16'
    const weights = p.weights === stored || (stored === undefined && (wide.includes(p.weights) || support.onlineWeights.includes(p.weights))) ? p.weights : (stored ?? sixteen)
    const activations = wide.includes(p.activations) || p.activations === weights ? p.activations : sixteen
    const kvCache = wide.includes(p.kvCache) || support.kvCache.includes(p.kvCache) ? p.kvCache : sixteen
    return { weights, activations, kvCache }
  }

/** The engines' `dtype` word for the formats' 16-bit computation. */
export const dtypeWord = (p: Precision): 'bfloat16' | 'float16' | 'float32' => (p.activations === 'fp16' ? 'float16' : p.activations === 'fp32' ? 'float32' : 'bfloat16')

/** What every serving release's table holds: its version, where it was read, its documented keys, its formats. */
export interface ServingRelease<K> {
  readonly version: string
  readonly source: string
  readonly keys: K
  readonly formats: FormatSupport
  /** The engine's word for each narrow KV-cache format it stores. */
  readonly kvCacheWords: Readonly<Partial<Record<Precision['kvCache'], string>>>
}

/** The strategies every serving engine runs at all: no context parallelism, interleaving or sequence parallelism in this export. */
export const servingSpace: Constraints = { only: { cp: [1], virtualStages: [1] }, sequenceParallel: false }

/** A serving engine of `identity` from its rules for strategies, its formats, the strategies it runs at all and its launch. */
export const servingEngine = (
  identity: EngineRelease,
  formats: FormatSupport,
  strategyProblems: ServingEngine['strategyProblems'],
  space: Constraints,
  launch: ServingEngine['launch'],
): ServingEngine => ({
  ...identity,
  kind: 'serving',
  strategyProblems,
  precisionProblems: formatProblems(identity, formats),
  nearestPrecision: nearestFormats(formats),
  space,
  launch,
})

/** The problem of instances (`gpus` each) that do not tile the nodes, when the strategy's instances are whole (else another problem says why). */
export const instanceTiling = (identity: EngineRelease, cluster: Cluster, instance: { readonly instances: number; readonly gpus: number }, what: string): ReadonlyArray<Problem> =>
  Number.isInteger(instance.instances) ? tilingProblem(identity, cluster, instance.gpus, what) : []

/** Whether the engine quantizes the weights as it loads them (a 16-bit checkpoint run in a narrower format). */
export const quantizedOnline = (model: Architecture, p: Precision): boolean => checkpointWeights(model) === undefined && !wide.includes(p.weights)

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const lawProblems = (d: ServingDeployment): ReadonlyArray<Problem> => {
  const valid = validate({ model: d.model, cluster: d.cluster, gpus: worldOf(d.strategy), sequenceLength: Math.ceil(d.workload.inputTokens) })(d.strategy)
  return E.isLeft(valid) ? valid.left.map((v) => problem(v.code, `${v.message} (${v.suggestion})`)) : []
}

/** Everything that keeps `engine` from running `d` as written. */
export const servingProblems = (engine: ServingEngine, d: ServingDeployment): ReadonlyArray<Problem> => {
  const laws = lawProblems(d)
  return [...laws, ...(laws.length > 0 ? [] : engine.strategyProblems(d.model, d.cluster, d.strategy)), ...engine.precisionProblems(d.model, d.precision)]
}

const estimateOf = (models: CostModels, engine: ServingEngine, d: ServingDeployment): E.Either<string, InferenceEstimate> =>
  E.mapLeft((e: { readonly message: string }) => e.message)(estimateInference(models)({ ...d, engine: engineModel({ name: engine.name, version: engine.version }) }))

/** The figures of an estimate the launch takes. */
export const figuresOf = (d: ServingDeployment, e: InferenceEstimate): ServingFigures => ({
  batch: Math.max(1, Math.ceil(e.batch)),
  tokensPerPass: e.maxNumTokens,
  contextTokens: Math.ceil(d.workload.inputTokens + d.workload.outputTokens),
  memory: e.memory,
})

/** `launch` with what the engine does otherwise than the estimate of `d` says, when it does. */
const launchOf = (engine: ServingEngine, d: ServingDeployment, e: InferenceEstimate): Launch => {
  const f = figuresOf(d, e)
  const launch = engine.launch(d, f)
  const prompts = f.batch * Math.ceil(d.workload.inputTokens)
  const chunked =
    d.workload.mode !== 'max_throughput' && prompts > f.tokensPerPass
      ? [`the estimate (${d.workload.mode} mode) prefills a DP rank's ${f.batch} prompt${f.batch === 1 ? '' : 's'} of ${Math.ceil(d.workload.inputTokens)} tokens in one pass; the engine takes them in chunks of at most ${f.tokensPerPass} tokens per pass`]
      : []
  return { ...launch, notes: [...launch.notes, ...chunked] }
}

/** The GPU counts the nearest search tries: the plan's, then each halving of it down to one node's worth. */
const gpuCounts = (plan: number, cluster: Cluster): ReadonlyArray<number> => {
  const counts: number[] = []
  for (let g = Math.min(plan, worldSize(cluster)); g >= 1 && counts.length < 8; g = g / 2) {
    if (!Number.isInteger(g)) break
    counts.push(g)
  }
  return counts
}

/** The deployments `engine` can run nearest to `d` (strategy and formats), with their distances. */
const candidatesOf = (engine: ServingEngine, d: ServingDeployment): ReadonlyArray<{ readonly value: ServingDeployment; readonly distance: number }> => {
  const precision = engine.nearestPrecision(d.model, d.precision)
  const formatsMoved = (['weights', 'activations', 'kvCache'] as const).filter((k) => precision[k] !== d.precision[k]).length
  const out: Array<{ value: ServingDeployment; distance: number }> = []
  for (const gpus of gpuCounts(worldOf(d.strategy), d.cluster)) {
    const target = { model: d.model, cluster: d.cluster, gpus, sequenceLength: Math.ceil(d.workload.inputTokens) }
    const valid = (s: Strategy): boolean => E.isRight(validate(target)(s))
    for (const s of [...enumerate(target)(engine.space)].flatMap((x) => withPlanSplit(d.strategy, x, valid))) {
      if (engine.strategyProblems(d.model, d.cluster, s).length > 0) continue
      out.push({ value: { ...d, strategy: s, precision }, distance: strategyDistance(d.strategy, s) + formatsMoved })
    }
  }
  return out
}

const formatChanges = (from: Precision, to: Precision): ReadonlyArray<Change> =>
  (
    [
      ['weights', 'weights'],
      ['activations', 'activations'],
      ['kvCache', 'KV cache'],
    ] as const
  )
    .filter(([k]) => from[k] !== to[k])
    .map(([k, what]) => ({ what, from: from[k], to: to[k] }))

/** `d` exported to `engine` (see the module comment). Never throws. */
export const exportServing =
  (models: CostModels) =>
  (engine: ServingEngine) =>
  (d: ServingDeployment): ServingExport => {
    const problems = servingProblems(engine, d)
    const planned = estimateOf(models, engine, d)
    const planEstimate: EstimateOrProblem<InferenceEstimate> = E.isRight(planned) ? { estimate: planned.right } : { problem: planned.left }
    const base = { engine, plan: d, problems, planEstimate }
    if (problems.length === 0) {
      if (E.isLeft(planned)) return { ...base, exported: d, changes: [], exportedEstimate: planEstimate, launch: undefined, unexported: planned.left }
      return { ...base, exported: d, changes: [], exportedEstimate: planEstimate, launch: launchOf(engine, d, planned.right), unexported: undefined }
    }
    const found = nearestOf(
      candidatesOf(engine, d),
      (c) => estimateOf(models, engine, c),
      (e) => e.memory.fits,
      (e) => e.tokensPerSecond.total,
    )
    if (found === undefined) {
      return { ...base, exported: undefined, changes: [], exportedEstimate: undefined, launch: undefined, unexported: `${engine.name} ${engine.version} can run no strategy of ${d.model.name} on up to ${worldOf(d.strategy)} GPUs of ${d.cluster.name}` }
    }
    const chosen = found.value
    return {
      ...base,
      exported: chosen,
      changes: [...strategyChanges(d.strategy, chosen.strategy), ...formatChanges(d.precision, chosen.precision)],
      exportedEstimate: { estimate: found.estimate },
      launch: launchOf(engine, chosen, found.estimate),
      unexported: undefined,
    }
  }
