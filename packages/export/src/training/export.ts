/**
 * A training plan as an engine runs it. `exportTraining` checks the plan against the laws
 * of the algebra, against the step (`trainingFits`: whole micro-batches, the sequence
 * over the CP ranks) and against what the engine release can express (its strategies,
 * its ZeRO stages, schedules, offload and formats), estimates it with
 * @meshplan/training, and either writes the launch of exactly the plan or says why the
 * engine cannot run it and writes the launch of the nearest plan it can run, estimated
 * beside the plan's. The nearest plan first keeps the strategy and moves the step to
 * what the engine runs (`nearestWorkload`: ZeRO 2 to 1, a schedule to 1F1B, ...); where
 * that does not fit in memory or the strategy itself cannot run, it searches the
 * strategies on the same GPUs and the recomputation (`nearest.ts`): a ZeRO stage, a
 * schedule or an offload kind moved costs 1, as a degree halved or doubled does, a step
 * of recomputation 1/2.
 *
 * @example
 * import { defaultCostModels } from '@meshplan/cost-models'
 * import { exportTraining, findEngine } from '@meshplan/export'
 * exportTraining(defaultCostModels)(megatron)({ model, cluster, strategy, precision, workload })
 */
import * as E from 'fp-ts/Either'
import type { CostModels } from '@meshplan/cost-models'
import type { Architecture, Precision } from '@meshplan/model'
import { enumerate, validate, worldOf, type Constraints, type Strategy } from '@meshplan/parallelism'
import type { Cluster } from '@meshplan/topology'
import { estimateTraining, recomputeModes, trainingFits, type TrainingEstimate, type TrainingInput, type TrainingWorkload } from '@meshplan/training'
import { problem, type EngineRelease, type EstimateOrProblem, type Problem } from '../engine'
import type { Launch } from '../launch'
import { nearestOf, strategyChanges, strategyDistance, withPlanSplit, type Change } from '../nearest'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What is trained, on what, split how, in which formats, one step of what. */
export type TrainingDeployment = Pick<TrainingInput, 'model' | 'cluster' | 'strategy' | 'precision' | 'workload'>

/** One release of a training engine: its table read into what it can run and how to launch it. */
export interface TrainingEngine extends EngineRelease {
  readonly kind: 'training'
  /** Why it cannot train `model` at all (an architecture it does not take); empty when it can. */
  readonly modelProblems: (model: Architecture) => ReadonlyArray<Problem>
  /** Why it cannot run strategy `s` with step `w` as written; empty when it can. */
  readonly strategyProblems: (model: Architecture, cluster: Cluster, s: Strategy, w: TrainingWorkload) => ReadonlyArray<Problem>
  /** Why it cannot run the step `w` (ZeRO, schedule, offload) under `s`, or the formats `p`; empty when it can. */
  readonly workloadProblems: (model: Architecture, s: Strategy, w: TrainingWorkload, p: Precision) => ReadonlyArray<Problem>
  /** The step nearest to `w` it runs under `s`. */
  readonly nearestWorkload: (model: Architecture, s: Strategy, w: TrainingWorkload) => TrainingWorkload
  /** The formats nearest to `p` it runs. */
  readonly nearestPrecision: (p: Precision) => Precision
  /** The strategies it can run at all, as `enumerate`'s constraints. */
  readonly space: Constraints
  readonly launch: (d: TrainingDeployment) => Launch
}

/** A training plan exported to one engine release. */
export interface TrainingExport {
  readonly engine: TrainingEngine
  readonly plan: TrainingDeployment
  readonly problems: ReadonlyArray<Problem>
  readonly exported: TrainingDeployment | undefined
  readonly changes: ReadonlyArray<Change>
  readonly planEstimate: EstimateOrProblem<TrainingEstimate>
  readonly exportedEstimate: EstimateOrProblem<TrainingEstimate> | undefined
  readonly launch: Launch | undefined
  readonly unexported: string | undefined
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** Everything that keeps `engine` from running `d` as written. */
export const trainingProblems = (engine: TrainingEngine, d: TrainingDeployment): ReadonlyArray<Problem> => {
  const model = engine.modelProblems(d.model)
  const valid = validate({ model: d.model, cluster: d.cluster, gpus: worldOf(d.strategy), sequenceLength: d.workload.sequenceLength })(d.strategy)
  const laws = E.isLeft(valid) ? valid.left.map((v) => problem(v.code, `${v.message} (${v.suggestion})`)) : []
  const fits = trainingFits(d.workload, d.strategy)
  const step = laws.length === 0 && E.isLeft(fits) ? [problem('step', fits.left.message)] : []
  return [
    ...model,
    ...laws,
    ...step,
    ...(laws.length > 0 ? [] : engine.strategyProblems(d.model, d.cluster, d.strategy, d.workload)),
    ...engine.workloadProblems(d.model, d.strategy, d.workload, d.precision),
  ]
}

const recomputeRank = (r: TrainingWorkload['recompute']): number => recomputeModes.indexOf(r)

/** What one step of recomputation (none, selective, full) adds to the distance: half a degree, since it keeps every flag of the plan's strategy and only trades time for memory. */
export const RECOMPUTE_STEP_DISTANCE = 0.5

/** How far step `w` is from the plan's `plan` (see the module comment). */
export const workloadDistance = (plan: TrainingWorkload, w: TrainingWorkload): number =>
  Math.abs(plan.zeroStage - w.zeroStage) +
  RECOMPUTE_STEP_DISTANCE * Math.abs(recomputeRank(plan.recompute) - recomputeRank(w.recompute)) +
  ((plan.schedule ?? '1f1b') === (w.schedule ?? '1f1b') ? 0 : 1) +
  [...new Set([...(plan.offload ?? []), ...(w.offload ?? [])])].filter((k) => (plan.offload ?? []).includes(k) !== (w.offload ?? []).includes(k)).length +
  ((plan.tpCommOverlap ?? false) === (w.tpCommOverlap ?? false) ? 0 : 0.5) +
  ((plan.gradientReduce ?? 'fp32') === (w.gradientReduce ?? 'fp32') ? 0 : 1) +
  Math.abs(Math.log2(w.microBatch / plan.microBatch))

/** What differs between the plan's step and `w`. */
export const workloadChanges = (plan: TrainingWorkload, w: TrainingWorkload): ReadonlyArray<Change> => {
  const offload = (x: TrainingWorkload): string => ((x.offload ?? []).length === 0 ? 'none' : (x.offload ?? []).join(', '))
  const rows: ReadonlyArray<readonly [string, string, string]> = [
    ['ZeRO stage', String(plan.zeroStage), String(w.zeroStage)],
    ['recomputation', plan.recompute, w.recompute],
    ['schedule', plan.schedule ?? '1f1b', w.schedule ?? '1f1b'],
    ['offload', offload(plan), offload(w)],
    ['TP communication overlap', plan.tpCommOverlap === true ? 'on' : 'off', w.tpCommOverlap === true ? 'on' : 'off'],
    ['gradient reduction', plan.gradientReduce ?? 'fp32', w.gradientReduce ?? 'fp32'],
    ['micro-batch', String(plan.microBatch), String(w.microBatch)],
  ]
  return rows.filter(([, from, to]) => from !== to).map(([what, from, to]) => ({ what, from, to }))
}

const precisionChanges = (from: Precision, to: Precision): ReadonlyArray<Change> =>
  (['weights', 'activations', 'kvCache'] as const).filter((k) => from[k] !== to[k]).map((k) => ({ what: k === 'kvCache' ? 'KV cache' : k, from: from[k], to: to[k] }))

const estimateOf = (models: CostModels, d: TrainingDeployment): E.Either<string, TrainingEstimate> =>
  E.mapLeft((e: { readonly message: string }) => e.message)(estimateTraining(models)(d))

/** The steps tried with strategy `s`: the engine's nearest step, then with more recomputation. */
const stepsFor = (engine: TrainingEngine, d: TrainingDeployment, s: Strategy): ReadonlyArray<TrainingWorkload> => {
  const w = engine.nearestWorkload(d.model, s, d.workload)
  return recomputeModes.slice(recomputeRank(w.recompute)).map((recompute) => engine.nearestWorkload(d.model, s, { ...w, recompute }))
}

/** The plans `engine` can run nearest to `d`, with their distances. */
const candidatesOf = (engine: TrainingEngine, d: TrainingDeployment): ReadonlyArray<{ readonly value: TrainingDeployment; readonly distance: number }> => {
  const precision = engine.nearestPrecision(d.precision)
  const formatsMoved = precisionChanges(d.precision, precision).length
  const out: Array<{ value: TrainingDeployment; distance: number }> = []
  const target = { model: d.model, cluster: d.cluster, gpus: worldOf(d.strategy), sequenceLength: d.workload.sequenceLength }
  const valid = (s: Strategy): boolean => E.isRight(validate(target)(s))
  for (const s of [...enumerate(target)(engine.space)].flatMap((x) => withPlanSplit(d.strategy, x, valid))) {
    for (const w of stepsFor(engine, d, s)) {
      if (E.isLeft(trainingFits(w, s))) continue
      if (engine.strategyProblems(d.model, d.cluster, s, w).length > 0 || engine.workloadProblems(d.model, s, w, precision).length > 0) continue
      out.push({ value: { ...d, strategy: s, workload: w, precision }, distance: strategyDistance(d.strategy, s) + workloadDistance(d.workload, w) + formatsMoved })
    }
  }
  return out
}

/** `d` exported to `engine` (see the module comment). Never throws. */
export const exportTraining =
  (models: CostModels) =>
  (engine: TrainingEngine) =>
  (d: TrainingDeployment): TrainingExport => {
    const problems = trainingProblems(engine, d)
    const planned = estimateOf(models, d)
    const planEstimate: EstimateOrProblem<TrainingEstimate> = E.isRight(planned) ? { estimate: planned.right } : { problem: planned.left }
    const base = { engine, plan: d, problems, planEstimate }
    if (problems.length === 0) return { ...base, exported: d, changes: [], exportedEstimate: planEstimate, launch: engine.launch(d), unexported: undefined }
    if (engine.modelProblems(d.model).length > 0) {
      return { ...base, exported: undefined, changes: [], exportedEstimate: undefined, launch: undefined, unexported: `${engine.name} ${engine.version} cannot train ${d.model.name} (above); no strategy changes that` }
    }
    const found = nearestOf(
      candidatesOf(engine, d),
      (c) => estimateOf(models, c),
      (e) => e.memory.fits,
      (e) => e.tokensPerSecond,
    )
    if (found === undefined) {
      return { ...base, exported: undefined, changes: [], exportedEstimate: undefined, launch: undefined, unexported: `${engine.name} ${engine.version} can run no plan of ${d.model.name} on ${worldOf(d.strategy)} GPUs of ${d.cluster.name} for this step` }
    }
    const chosen = found.value
    return {
      ...base,
      exported: chosen,
      changes: [...strategyChanges(d.strategy, chosen.strategy), ...workloadChanges(d.workload, chosen.workload), ...precisionChanges(d.precision, chosen.precision)],
      exportedEstimate: { estimate: found.estimate },
      launch: engine.launch(chosen),
      unexported: undefined,
    }
  }
