/**
 * An export's estimates side by side, as every front end shows them: the plan's figures
 * and, when the engine cannot run the plan as written, the exported deployment's beside
 * them. One table of words and figures (@meshplan/units' `secondsText`, `count`, ...) that
 * the `meshplan export` command prints and the web page lays out.
 *
 * @example
 * import { estimateComparison, exportServing } from '@meshplan/export'
 * const { header, rows } = estimateComparison(exportServing(defaultCostModels)(vllm)(deployment))
 * // header: ['figure', 'plan (TP8)'], rows: [['GPUs', '8'], ['sequences per DP rank', '64'], ['TTFT', '412 ms'], ...]
 */
import type { InferenceEstimate } from '@meshplan/inference'
import { describe } from '@meshplan/parallelism'
import type { TrainingEstimate } from '@meshplan/training'
import { bytesText, count, secondsText, share } from '@meshplan/units'
import type { EstimateOrProblem } from './engine'
import type { ServingExport } from './serving/export'
import type { TrainingExport } from './training/export'

/** A figure of an estimate: its name and how to read it from the estimate. */
export type Figure<A> = readonly [string, (e: A) => string]

/** `used of capacity`, and whether it fits: `70.2 GB of 80 GB`, `92 GB of 80 GB (does not fit)`. */
export const memoryText = (used: number, capacity: number, fits: boolean): string => `${bytesText(used)} of ${bytesText(capacity)}${fits ? '' : ' (does not fit)'}`

/** The figures of a serving estimate an export compares. */
export const servingFigures: ReadonlyArray<Figure<InferenceEstimate>> = [
  ['GPUs', (e) => String(e.gpus)],
  ['sequences per DP rank', (e) => count(e.batch)],
  ['TTFT', (e) => secondsText(e.ttft)],
  ['TPOT', (e) => secondsText(e.tpot)],
  ['output tokens/s', (e) => count(e.tokensPerSecond.total)],
  ['output tokens/s per GPU', (e) => count(e.tokensPerSecond.perGpu)],
  ['memory per GPU', (e) => memoryText(e.memory.perGpu, e.memory.capacity, e.memory.fits)],
]

/** The figures of a training estimate an export compares. */
export const trainingFigures: ReadonlyArray<Figure<TrainingEstimate>> = [
  ['GPUs', (e) => String(e.gpus)],
  ['iteration time', (e) => secondsText(e.iterationSeconds)],
  ['tokens/s per GPU', (e) => count(e.tokensPerSecondPerGpu)],
  ['MFU', (e) => share(e.mfu)],
  ['memory, fullest GPU', (e) => memoryText(e.memory.peak, e.memory.capacity, e.memory.fits)],
]

/** The estimate of an export's figure, when there is one (not a problem). */
export const estimateOf = <A>(x: EstimateOrProblem<A> | undefined): A | undefined => (x !== undefined && 'estimate' in x ? x.estimate : undefined)

const rowsOf = <A>(plan: A | undefined, exported: A | undefined, figures: ReadonlyArray<Figure<A>>): ReadonlyArray<ReadonlyArray<string>> =>
  figures.map(([name, f]) => [name, plan === undefined ? '-' : f(plan), ...(exported === undefined ? [] : [f(exported)])])

/**
 * The header and rows of an export's estimates: `figure`, the plan's column and, when the
 * plan does not run as written and something was exported, the exported deployment's;
 * a figure without an estimate reads `-`.
 */
export const estimateComparison = (x: ServingExport | TrainingExport): { readonly header: ReadonlyArray<string>; readonly rows: ReadonlyArray<ReadonlyArray<string>> } => {
  const exact = x.problems.length === 0
  const exported = exact || x.exported === undefined ? undefined : x.exported.strategy
  const header = ['figure', `plan (${describe(x.plan.strategy)})`, ...(exported === undefined ? [] : [`exported (${describe(exported)})`])]
  const rows =
    x.engine.kind === 'serving'
      ? rowsOf(estimateOf((x as ServingExport).planEstimate), exported === undefined ? undefined : estimateOf((x as ServingExport).exportedEstimate), servingFigures)
      : rowsOf(estimateOf((x as TrainingExport).planEstimate), exported === undefined ? undefined : estimateOf((x as TrainingExport).exportedEstimate), trainingFigures)
  return { header, rows }
}
