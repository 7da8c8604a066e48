/**
 * The plots of each of meshplan's answers, as a figure: a serving estimate (where a step
 * goes, memory per GPU, roofline), a serving search (its Pareto front, and the chosen
 * plan's estimate plots), a training estimate (where the iteration goes, memory per stage,
 * the pipeline schedule, roofline). `choose` keeps the plots asked for: each one that
 * cannot be drawn for this answer is a reason, an error when it was asked for by name and
 * a note when it came by default.
 *
 * @example
 * import { choose, figure, trainingPlots, toSvg } from '@meshplan/plots'
 * const chosen = choose(trainingPlots(defaultCostModels, input, estimate), ['schedule', 'memory'])
 * // right({ plots: [schedule, memory], notes: [] })
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import type { CostModels } from '@meshplan/cost-models'
import type { InferenceEstimate, InferenceInput, PlanResult } from '@meshplan/inference'
import type { TrainingEstimate, TrainingInput } from '@meshplan/training'
import { inferenceBreakdownPlot, trainingBreakdownPlot } from './breakdown'
import { inferenceMemoryPlot, trainingMemoryPlot } from './memory'
import { paretoPlot } from './pareto'
import { inferenceSteps, rooflinePlot, trainingStep } from './roofline'
import { schedulePlot } from './schedule'
import { plotNames, type Plot, type PlotName } from './spec'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The plots an answer has, in the order a figure stacks them: each drawn, or why it cannot be. */
export type Plots = ReadonlyArray<readonly [PlotName, E.Either<string, Plot>]>

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** A serving estimate's plots: breakdown, memory, roofline. */
export const inferencePlots = (models: CostModels, input: InferenceInput, e: InferenceEstimate): Plots => [
  ['breakdown', E.right(inferenceBreakdownPlot(e, models.overlap))],
  ['memory', E.right(inferenceMemoryPlot(e))],
  ['roofline', pipe(inferenceSteps(models, input, e), E.chain((steps) => rooflinePlot(steps, input.cluster.device)))],
]

/**
 * A serving search's plots: its Pareto front (with `plan`, a plan under audit, marked),
 * then the chosen plan's (the ranking's first) estimate plots; `input` is the search's
 * model, cluster, precision and workload.
 */
export const searchPlots = (models: CostModels, input: Omit<InferenceInput, 'strategy'>, r: PlanResult, plan?: InferenceEstimate): Plots => {
  const chosen = r.top[0]
  const none = E.left('the search found no plan to estimate')
  return [
    ['pareto', paretoPlot(r, plan === undefined ? {} : { plan })],
    ...(chosen === undefined ? ([['breakdown', none], ['memory', none], ['roofline', none]] as const) : inferencePlots(models, { ...input, strategy: chosen.strategy }, chosen)),
  ]
}

/** A training estimate's plots: breakdown, memory, schedule, roofline. */
export const trainingPlots = (models: CostModels, input: TrainingInput, e: TrainingEstimate): Plots => [
  ['breakdown', E.right(trainingBreakdownPlot(e))],
  ['memory', E.right(trainingMemoryPlot(e))],
  ['schedule', schedulePlot(e)],
  ['roofline', pipe(trainingStep(models, input, e), E.chain((steps) => rooflinePlot(steps, input.cluster.device)))],
]

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/**
 * The plots of `available` that `wanted` names (default: every one), in `available`'s
 * order, with a note for each default one that cannot be drawn. Left: a name it does not
 * have, or a named plot that cannot be drawn, or none left to draw.
 */
export const choose = (available: Plots, wanted?: ReadonlyArray<PlotName>): E.Either<ReadonlyArray<string>, { readonly plots: ReadonlyArray<Plot>; readonly notes: ReadonlyArray<string> }> => {
  const has = available.map(([name]) => name)
  const errors = (wanted ?? []).filter((n) => !has.includes(n)).map((n) => `${n}: not a plot of this answer (it has ${has.join(', ')}; the plots are ${plotNames.join(', ')})`)
  const plots: Plot[] = []
  const notes: string[] = []
  for (const [name, plot] of available) {
    if (wanted !== undefined && !wanted.includes(name)) continue
    if (E.isRight(plot)) plots.push(plot.right)
    else (wanted === undefined ? notes : errors).push(`${name}: ${plot.left}`)
  }
  if (errors.length > 0) return E.left(errors)
  if (plots.length === 0) return E.left(notes.length > 0 ? notes : ['no plot to draw'])
  return E.right({ plots, notes })
}
