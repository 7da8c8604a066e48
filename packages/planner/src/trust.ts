/**
 * What an estimate rests on: an interval around each of its headline figures
 * (`intervals.ts`, from the calibration residuals) and the free parameters
 * (`parameters.ts`) it is most sensitive to, each moved by ±10% and the estimate redone,
 * so that a user knows which measurement of their own would tighten it most.
 *
 * @example
 * import { servingTrust } from '@meshplan/planner'
 * import { defaultCostModels } from '@meshplan/cost-models'
 * const t = servingTrust(defaultCostModels)(input, estimate)
 * t.intervals.tpot            // { low: 0.0151, high: 0.0189, coverage: 0.8, cases: 14, alike: 'inference TPOT, dense, static, hopper', ... }
 * t.sensitivities[0]          // { parameter: 'MEMORY_PEAK_EFFICIENCY', minus: { tokensPerSecond: -0.093, ... }, plus: { ... } }
 */
import * as E from 'fp-ts/Either'
import { gemmGeneration } from '@meshplan/compute'
import type { Device } from '@meshplan/topology'
import type { CostModels } from '@meshplan/cost-models'
import { estimateInference, type InferenceEstimate, type InferenceInput } from '@meshplan/inference'
import { estimateTraining, type TrainingEstimate, type TrainingInput } from '@meshplan/training'
import { figureInterval, type FigureInterval, type IntervalOptions, type IntervalQuery, type ResidualRow } from './intervals'
import { modelParameters, withParameters, type ModelParameter, type ParameterName } from './parameters'
import { calibrationResiduals } from './residuals'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** How one parameter moves an estimate's headline figures: relative changes at −10% and +10%. */
export interface Sensitivity<F extends string> {
  readonly parameter: ParameterName
  readonly description: string
  /** The parameter's value in the models the estimate was made with. */
  readonly value: number
  readonly minus: Readonly<Record<F, number>>
  readonly plus: Readonly<Record<F, number>>
  /** The largest absolute relative change over the figures and both directions: what the ranking sorts by. */
  readonly largest: number
}

/** The headline figures of a serving estimate. */
export type ServingFigure = 'ttft' | 'tpot' | 'tokensPerSecond' | 'tokensPerSecondPerGpu' | 'tokensPerSecondPerUser' | 'requestLatency'

/** The headline figures of a training estimate. */
export type TrainingFigure = 'iterationSeconds' | 'tokensPerSecondPerGpu' | 'modelFlopsPerGpu' | 'mfu'

/** Intervals (where calibration cases measure the figure) and the top sensitivities of an estimate. */
export interface Trust<F extends string> {
  readonly intervals: Readonly<Partial<Record<F, FigureInterval>>>
  readonly sensitivities: ReadonlyArray<Sensitivity<F>>
}

/** Options: the coverage of the intervals, the residuals they rest on, the parameters moved, how far and how many are kept. */
export interface TrustOptions extends IntervalOptions {
  readonly residuals?: ReadonlyArray<ResidualRow>
  readonly parameters?: ReadonlyArray<ModelParameter>
  /** The relative move of each parameter: 0.1 (±10%). */
  readonly step?: number
  /** How many sensitivities are kept, the largest first: 3. */
  readonly top?: number
  /** The values the estimate's models were built with (a calibration), so that the moves are around them. */
  readonly values?: Readonly<Partial<Record<ParameterName, number>>>
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The tensor-core generation of `device` as the calibration cases are grouped by it. */
const generationOf = (device: Device): string => gemmGeneration(device)

const relative = <F extends string>(base: Readonly<Record<F, number>>, moved: Readonly<Record<F, number>> | undefined, figures: ReadonlyArray<F>): Record<F, number> => {
  const out = {} as Record<F, number>
  for (const f of figures) {
    const b = base[f]
    const m = moved?.[f]
    out[f] = m === undefined || !(b > 0) || !Number.isFinite(m) ? 0 : m / b - 1
  }
  return out
}

/**
 * The sensitivities of the figures `figuresOf` reads from an estimate `redo` makes with
 * given models: each parameter moved by ±`step` around its value (a generation's GEMM
 * share only when the device is of that generation), the `top` largest kept.
 */
const sensitivitiesOf = <F extends string>(
  models: CostModels,
  figures: ReadonlyArray<F>,
  base: Readonly<Record<F, number>>,
  redo: (m: CostModels) => Readonly<Record<F, number>> | undefined,
  generation: string,
  options: TrustOptions,
): ReadonlyArray<Sensitivity<F>> => {
  const step = options.step ?? 0.1
  const values = options.values ?? {}
  const out: Array<Sensitivity<F>> = []
  for (const p of options.parameters ?? modelParameters) {
    if (p.generation !== undefined && p.generation !== generation) continue
    const value = values[p.name] ?? p.value
    const at = (v: number): Readonly<Record<F, number>> | undefined => redo(withParameters(models, { ...values, [p.name]: v }))
    const minus = relative(base, at(value * (1 - step)), figures)
    const plus = relative(base, at(value * (1 + step)), figures)
    const largest = Math.max(...figures.flatMap((f) => [Math.abs(minus[f]), Math.abs(plus[f])]))
    if (largest > 0) out.push({ parameter: p.name, description: p.description, value, minus, plus, largest })
  }
  return out.sort((a, b) => b.largest - a.largest).slice(0, options.top ?? 3)
}

const servingFigures: ReadonlyArray<ServingFigure> = ['ttft', 'tpot', 'tokensPerSecond', 'tokensPerSecondPerGpu', 'tokensPerSecondPerUser', 'requestLatency']

const servingValues = (e: InferenceEstimate): Record<ServingFigure, number> => ({
  ttft: e.ttft,
  tpot: e.tpot,
  tokensPerSecond: e.tokensPerSecond.total,
  tokensPerSecondPerGpu: e.tokensPerSecond.perGpu,
  tokensPerSecondPerUser: e.tokensPerSecond.perUser,
  requestLatency: e.requestLatency,
})

/** The calibration metric each serving figure is judged by (per user: the TPOT's cases, as a rate). */
const servingMetrics: Readonly<Record<ServingFigure, string>> = {
  ttft: 'ttft_ms',
  tpot: 'tpot_ms',
  tokensPerSecond: 'output_tokens_per_s',
  tokensPerSecondPerGpu: 'output_tokens_per_s_per_gpu',
  tokensPerSecondPerUser: 'tpot_ms',
  requestLatency: 'request_latency_ms',
}

/**
 * The trust of a serving estimate `estimate` of `input` made with `models`: the interval of
 * each headline figure (per user from the TPOT's, inverted), and the three parameters it
 * is most sensitive to.
 */
export const servingTrust =
  (models: CostModels, options: TrustOptions = {}) =>
  (input: InferenceInput, estimate: InferenceEstimate): Trust<ServingFigure> => {
    const rows = options.residuals ?? calibrationResiduals
    const generation = generationOf(input.cluster.device)
    const base = servingValues(estimate)
    const query = (metric: string): IntervalQuery => ({ kind: 'inference', metric, moe: input.model.moe !== undefined, mode: estimate.mode, generation })
    const intervals: Partial<Record<ServingFigure, FigureInterval>> = {}
    for (const f of servingFigures) {
      if (f === 'tokensPerSecondPerUser') continue
      const i = figureInterval(rows, query(servingMetrics[f]), base[f], options)
      if (i !== undefined) intervals[f] = i
    }
    const tpot = intervals.tpot
    if (tpot !== undefined && tpot.low > 0) {
      const scale = base.tokensPerSecondPerUser * base.tpot
      intervals.tokensPerSecondPerUser = { ...tpot, low: scale / tpot.high, high: scale / tpot.low }
    }
    const redo = (m: CostModels) => {
      const e = estimateInference(m)(input)
      return E.isRight(e) ? servingValues(e.right) : undefined
    }
    return { intervals, sensitivities: sensitivitiesOf(models, servingFigures, base, redo, generation, options) }
  }

const trainingFigures: ReadonlyArray<TrainingFigure> = ['iterationSeconds', 'tokensPerSecondPerGpu', 'modelFlopsPerGpu', 'mfu']

const trainingValues = (e: TrainingEstimate): Record<TrainingFigure, number> => ({
  iterationSeconds: e.iterationSeconds,
  tokensPerSecondPerGpu: e.tokensPerSecondPerGpu,
  modelFlopsPerGpu: e.modelFlopsPerGpu,
  mfu: e.mfu,
})

const trainingMetrics: Readonly<Record<TrainingFigure, string>> = {
  iterationSeconds: 'iteration_time_s',
  tokensPerSecondPerGpu: 'tokens_per_s_per_gpu',
  modelFlopsPerGpu: 'model_tflops_per_gpu',
  mfu: 'mfu',
}

/** The trust of a training estimate `estimate` of `input` made with `models`: each headline figure's interval and the top sensitivities. */
export const trainingTrust =
  (models: CostModels, options: TrustOptions = {}) =>
  (input: TrainingInput, estimate: TrainingEstimate): Trust<TrainingFigure> => {
    const rows = options.residuals ?? calibrationResiduals
    const generation = generationOf(input.cluster.device)
    const base = trainingValues(estimate)
    const intervals: Partial<Record<TrainingFigure, FigureInterval>> = {}
    for (const f of trainingFigures) {
      const i = figureInterval(rows, { kind: 'training', metric: trainingMetrics[f], moe: input.model.moe !== undefined, mode: 'training', generation }, base[f], options)
      if (i !== undefined) intervals[f] = i
    }
    const redo = (m: CostModels) => {
      const e = estimateTraining(m)(input)
      return E.isRight(e) ? trainingValues(e.right) : undefined
    }
    return { intervals, sensitivities: sensitivitiesOf(models, trainingFigures, base, redo, generation, options) }
  }
