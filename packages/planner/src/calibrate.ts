/**
 * Your own measurements: the models' free parameters (`parameters.ts`) fitted to a
 * user's measured cases (`meshplan-cases/1`), held within their physical bounds and
 * pulled towards their defaults, judged by cross-validation over the cases' sources, and
 * written as a small calibration file (`meshplan-calibration/1`) that `withCalibration`
 * turns into cost models.
 *
 * The fit minimises `Σ min(|ln(p/m)|, cap) + PRIOR_WEIGHT · Σ ln(v/v₀)²` over the cases
 * and the parameters: the first term is the fit's loss (`fitLoss`, summed), the second a
 * normal prior on each parameter's log around its default. With errors Laplace-distributed
 * of scale `b` and a prior of standard deviation `σ` on the log, the posterior mode weighs
 * the prior by `b/(2σ²)`; `b = 0.1` (the models' typical miss) and `σ = 0.07` (a default
 * trusted to about 7%, the spread of the published figures the defaults rest on: HBM
 * streaming at 0.85-0.92 of its datasheet rate, NVLink rings at 0.77-0.82) give
 * {@link PRIOR_WEIGHT} 10.2: a parameter moves 10% only when that takes about 0.1 off the
 * summed misses of the cases it touches beyond what the move costs, so a handful of cases
 * cannot carry it far. Coordinate descent over each
 * parameter's grid (its default times 0.8 to 1.25, clipped to its bounds), twice over.
 *
 * Cross-validation: the cases are split by source (`caseSource`: an engine release, else
 * the case's source), at most {@link MAX_FOLDS} folds; each fold is predicted by the
 * parameters fitted without it. A file of one source is split case by case. The
 * calibration is kept only when its cross-validated loss is below the defaults' on the
 * same cases, the defaults judged cross-validated too: on a case of the calibration file
 * they were fitted on (by id, `calibrationResiduals`), their leave-one-source-out miss; on
 * any other case, their miss as they are (they never saw it).
 *
 * @example
 * import { calibrate, withCalibration } from '@meshplan/planner'
 * import { defaultCostModels } from '@meshplan/cost-models'
 * const run = calibrate(defaultCostModels)(myCases)  // right({ parameters: { MEMORY_PEAK_EFFICIENCY: 0.8 }, accepted: true, groups: [...] })
 * const mine = withCalibration(defaultCostModels, run.right.calibration)
 */
import * as E from 'fp-ts/Either'
import type { CostModels } from '@meshplan/cost-models'
import type { DecodeIssue } from '@meshplan/units'
import { caseGroups, caseSource, errorStats, predictCases, type CaseKind, type CaseResult } from './cases'
import { FIT_LOSS_CAP, fitLimits } from './fit'
import { metricFamilies } from './intervals'
import { calibrationResiduals } from './residuals'
import { modelParameters, parameterNames, parameterOf, withinBounds, withParameters, type ModelParameter, type ParameterName, type ParameterValues } from './parameters'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A calibration file: values for some parameters, and what they were fitted on. */
export interface Calibration {
  readonly format: 'meshplan-calibration/1'
  readonly parameters: ParameterValues
  /** What the fit saw: cases and sources (informative; not read back). */
  readonly fittedOn?: { readonly cases: number; readonly sources: ReadonlyArray<string> }
}

/** The error of a group of cases before and after, in-sample and cross-validated: median absolute relative errors. */
export interface GroupErrors {
  readonly kind: CaseKind | 'all'
  readonly metric: string
  readonly cases: number
  readonly beforeInSample: number | null
  readonly beforeCrossValidated: number | null
  readonly afterInSample: number | null
  readonly afterCrossValidated: number | null
}

/** The outcome of a calibration. */
export interface CalibrationRun {
  readonly calibration: Calibration
  /** The parameters the cases could move (their kinds and hardware), with default and calibrated values. */
  readonly fitted: ReadonlyArray<{ readonly name: ParameterName; readonly description: string; readonly default: number; readonly value: number }>
  readonly cases: number
  readonly sources: ReadonlyArray<string>
  readonly folds: number
  readonly groups: ReadonlyArray<GroupErrors>
  /** Mean `min(|ln(p/m)|, cap)` over the cases: the defaults' and the calibration's, in-sample and cross-validated. */
  readonly loss: { readonly beforeInSample: number; readonly beforeCrossValidated: number; readonly afterInSample: number; readonly afterCrossValidated: number }
  /** How many cases the defaults were fitted on (their cross-validated misses are their leave-one-source-out ones). */
  readonly seenByDefaults: number
  /** Whether the calibration beats the defaults cross-validated; a file is written only then. */
  readonly accepted: boolean
  readonly reason: string
}

/** Options of a calibration. */
export interface CalibrateOptions {
  readonly parameters?: ReadonlyArray<ModelParameter>
  /** The prior's weight: {@link PRIOR_WEIGHT}. */
  readonly priorWeight?: number
}

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

/** The pull towards the defaults, `b/(2σ²)` with `b = 0.1` and `σ = 0.07` (see the module comment). */
export const PRIOR_WEIGHT = 0.1 / (2 * 0.07 * 0.07)

/** The most folds of a cross-validation: sources beyond it share folds. */
export const MAX_FOLDS = 10

/** The factors of a parameter's grid around its default. */
const gridFactors = [0.8, 0.9, 0.95, 1, 1.05, 1.1, 1.25]

// -------------------------------------------------------------------------------------
// decoding
// -------------------------------------------------------------------------------------

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === 'object' && u !== null && !Array.isArray(u)

/**
 * A calibration file read from JSON, or every issue with its path: the format
 * `meshplan-calibration/1`, `parameters` an object of known parameter names each a number
 * within its bounds. Other fields are ignored.
 */
export const decodeCalibration = (u: unknown, path = 'calibration'): E.Either<ReadonlyArray<DecodeIssue>, Calibration> => {
  if (!isRecord(u)) return E.left([{ path, value: u, expected: 'a calibration file { format: "meshplan-calibration/1", parameters: { ... } }' }])
  const issues: DecodeIssue[] = []
  if (u['format'] !== 'meshplan-calibration/1') issues.push({ path: `${path}.format`, value: u['format'], expected: '"meshplan-calibration/1"' })
  const ps = u['parameters']
  const parameters: Partial<Record<ParameterName, number>> = {}
  if (!isRecord(ps)) issues.push({ path: `${path}.parameters`, value: ps, expected: 'an object of parameter values' })
  else
    for (const [name, value] of Object.entries(ps)) {
      const p = parameterOf(name)
      if (p === undefined) issues.push({ path: `${path}.parameters.${name}`, value: name, expected: `one of ${parameterNames.join(', ')}` })
      else if (typeof value !== 'number' || !withinBounds(p, value)) issues.push({ path: `${path}.parameters.${name}`, value, expected: `a number from ${p.bounds[0]} to ${p.bounds[1]} (${p.description})` })
      else parameters[p.name] = value
    }
  return issues.length > 0 ? E.left(issues) : E.right({ format: 'meshplan-calibration/1', parameters })
}

/** `models` with a calibration's parameters (see `withParameters`). */
export const withCalibration = (models: CostModels, calibration: Calibration): CostModels => withParameters(models, calibration.parameters)

// -------------------------------------------------------------------------------------
// fitting
// -------------------------------------------------------------------------------------

interface Prepared {
  readonly raw: ReadonlyArray<unknown>
  readonly kinds: ReadonlyArray<string>
  readonly generations: ReadonlyArray<string>
  readonly sources: ReadonlyArray<string>
}

const loss1 = (r: CaseResult | undefined): number =>
  r === undefined || r.predicted === null || !(r.predicted > 0) ? FIT_LOSS_CAP : Math.min(Math.abs(Math.log(r.predicted / r.measured)), FIT_LOSS_CAP)

/** Whether `p` moves case `i`: its kinds, and its generation for a generation's GEMM share. */
const touches = (p: ModelParameter, cases: Prepared, i: number): boolean =>
  p.kinds.includes(cases.kinds[i] as CaseKind) && (p.generation === undefined || cases.generations[i] === p.generation)

/** The grid of `p` around its default, inside its bounds. */
const gridOf = (p: ModelParameter): ReadonlyArray<number> => [...new Set(gridFactors.map((f) => Math.min(p.bounds[1], Math.max(p.bounds[0], p.value * f))))]

type Predict = (values: ParameterValues, indices: ReadonlyArray<number>) => E.Either<ReadonlyArray<DecodeIssue>, ReadonlyArray<CaseResult>>

/**
 * The values of `parameters` fitted on the cases `train` (indices into the prepared cases):
 * coordinate descent of the prior-weighted loss over each parameter's grid, twice over,
 * re-predicting only the cases a parameter moves.
 */
const fitOn = (predict: Predict, cases: Prepared, parameters: ReadonlyArray<ModelParameter>, train: ReadonlyArray<number>, weight: number): E.Either<ReadonlyArray<DecodeIssue>, Record<string, number>> => {
  const values: Record<string, number> = {}
  const first = predict(values, train)
  if (E.isLeft(first)) return first
  const losses = new Map<number, number>(train.map((i, k) => [i, loss1(first.right[k])]))
  const prior = (vs: Readonly<Record<string, number>>): number =>
    parameters.reduce((s, p) => s + (vs[p.name] === undefined ? 0 : Math.log((vs[p.name] as number) / p.value) ** 2), 0) * weight
  const total = (): number => [...losses.values()].reduce((a, b) => a + b, 0) + prior(values)
  let best = total()
  for (let round = 0; round < 2; round++) {
    let moved = false
    for (const p of parameters) {
      const moves = train.filter((i) => touches(p, cases, i))
      if (moves.length === 0) continue
      for (const v of gridOf(p)) {
        if (v === (values[p.name] ?? p.value)) continue
        const trial = { ...values, [p.name]: v }
        const r = predict(trial, moves)
        if (E.isLeft(r)) return r
        const changed = new Map(losses)
        moves.forEach((i, k) => changed.set(i, loss1(r.right[k])))
        const t = [...changed.values()].reduce((a, b) => a + b, 0) + prior(trial)
        if (t < best - 1e-12) {
          best = t
          values[p.name] = v
          for (const [i, l] of changed) losses.set(i, l)
          moved = true
        }
      }
    }
    if (!moved) break
  }
  for (const p of parameters) if (values[p.name] === p.value) delete values[p.name]
  return E.right(values)
}

/** The median absolute error of `rs` (`errorStats`), null when none is predicted. */
const medianOf = (rs: ReadonlyArray<CaseResult | undefined>): number | null => errorStats(rs.flatMap((r) => (r === undefined ? [] : [r]))).median

/**
 * Calibrates `models`' parameters on the cases of `file` (a `meshplan-cases/1`
 * document): the fit on all cases, the cross-validated predictions, the errors before
 * and after per kind and metric, and whether the calibration is kept. A malformed file is
 * its issues; a calibration larger than `fitLimits` is refused before it starts.
 */
export const calibrate =
  (models: CostModels, options: CalibrateOptions = {}) =>
  (file: unknown): E.Either<ReadonlyArray<DecodeIssue>, CalibrationRun> => {
    const checked = predictCases(models)(file)
    if (E.isLeft(checked)) return checked
    const raw = (file as { readonly cases: ReadonlyArray<unknown> }).cases
    const defaults = checked.right.cases
    const cases: Prepared = {
      raw,
      kinds: defaults.map((r) => r.kind),
      generations: raw.map((u) => caseGroups(u).generation ?? 'unknown'),
      sources: raw.map(caseSource),
    }
    const all = raw.map((_, i) => i)
    const parameters = (options.parameters ?? modelParameters).filter((p) => all.some((i) => touches(p, cases, i)))
    const sources = [...new Set(cases.sources)].sort()
    const byCase = sources.length < 2
    const folds = byCase ? Math.min(raw.length, MAX_FOLDS) : Math.min(sources.length, MAX_FOLDS)
    const foldOf = (i: number): number => (byCase ? i % folds : sources.indexOf(cases.sources[i] as string) % folds)
    const work = (folds + 1) * 2 * parameters.reduce((s, p) => s + gridOf(p).length * all.filter((i) => touches(p, cases, i)).length, 0)
    if (work > fitLimits.caseEvaluations)
      return E.left([{ path: 'file.cases', value: raw.length, expected: `at most ${fitLimits.caseEvaluations} case predictions for a calibration (this one needs ${work})` }])
    const weight = options.priorWeight ?? PRIOR_WEIGHT
    const predict: Predict = (values, indices) =>
      E.map((r: { readonly cases: ReadonlyArray<CaseResult> }) => r.cases)(predictCases(withParameters(models, values))({ ...(file as object), cases: indices.map((i) => raw[i]) }))
    const fit = fitOn(predict, cases, parameters, all, weight)
    if (E.isLeft(fit)) return fit
    const inSample = predict(fit.right, all)
    if (E.isLeft(inSample)) return inSample
    const crossValidated: Array<CaseResult | undefined> = all.map(() => undefined)
    for (let f = 0; f < folds; f++) {
      const held = all.filter((i) => foldOf(i) === f)
      if (held.length === 0) continue
      const values = fitOn(predict, cases, parameters, all.filter((i) => foldOf(i) !== f), weight)
      if (E.isLeft(values)) return values
      const r = predict(values.right, held)
      if (E.isLeft(r)) return r
      held.forEach((i, k) => (crossValidated[i] = r.right[k]))
    }
    // the defaults cross-validated: a case they were fitted on by its leave-one-source-out miss
    const seen = new Map(calibrationResiduals.map((r) => [r.id, r]))
    const beforeCv: ReadonlyArray<CaseResult | undefined> = defaults.map((r) => {
      const row = seen.get(r.id)
      const m = metricFamilies[r.metric]
      if (row === undefined || m === undefined || r.predicted === null) return r
      const ratio = Math.exp(m.orientation === 'rate' ? row.residual : -row.residual)
      return { ...r, predicted: r.measured * ratio, error: ratio - 1 }
    })
    const seenByDefaults = defaults.filter((r) => seen.has(r.id)).length
    const mean = (rs: ReadonlyArray<CaseResult | undefined>): number => rs.reduce((s, r) => s + loss1(r), 0) / Math.max(1, rs.length)
    const loss = { beforeInSample: mean(defaults), beforeCrossValidated: mean(beforeCv), afterInSample: mean(inSample.right), afterCrossValidated: mean(crossValidated) }
    const keys = [...new Set(defaults.map((r) => `${r.kind}\u0000${r.metric}`))]
    const groupOf = (pick: (i: number) => boolean, kind: CaseKind | 'all', metric: string): GroupErrors => {
      const idx = all.filter(pick)
      return {
        kind,
        metric,
        cases: idx.length,
        beforeInSample: medianOf(idx.map((i) => defaults[i])),
        beforeCrossValidated: medianOf(idx.map((i) => beforeCv[i])),
        afterInSample: medianOf(idx.map((i) => inSample.right[i])),
        afterCrossValidated: medianOf(idx.map((i) => crossValidated[i])),
      }
    }
    const groups = [
      ...keys.map((k) => {
        const [kind, metric] = k.split('\u0000') as [CaseKind, string]
        return groupOf((i) => defaults[i]?.kind === kind && defaults[i]?.metric === metric, kind, metric)
      }),
      groupOf(() => true, 'all', 'all'),
    ]
    const moved = Object.keys(fit.right).length > 0
    const accepted = moved && loss.afterCrossValidated < loss.beforeCrossValidated
    const versus = `mean |ln(predicted/measured)| ${loss.afterCrossValidated.toFixed(3)} against the defaults' ${loss.beforeCrossValidated.toFixed(3)}`
    const reason = !moved
      ? 'the cases move no parameter from its default: nothing to calibrate'
      : accepted
        ? `cross-validated over ${folds} folds by ${byCase ? 'case' : 'source'}, the calibration misses less than the defaults (${versus})`
        : `cross-validated over ${folds} folds by ${byCase ? 'case' : 'source'}, the calibration misses no less than the defaults (${versus}): it would fit these cases and not the next`
    return E.right({
      calibration: { format: 'meshplan-calibration/1', parameters: fit.right, fittedOn: { cases: raw.length, sources } },
      fitted: parameters.map((p) => ({ name: p.name, description: p.description, default: p.value, value: fit.right[p.name] ?? p.value })),
      cases: raw.length,
      sources,
      folds,
      groups,
      loss,
      seenByDefaults,
      accepted,
      reason,
    })
  }
