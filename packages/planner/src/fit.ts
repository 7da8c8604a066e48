/**
 * Fitted constants, fitted in the open. A few constants of the cost models are not
 * published figures but fitted on the measured cases; each is listed here with the grid
 * it is chosen from and how it enters the models, so that a script (`scripts/fit.js`)
 * shows the fit and `meshplan validate --leave-one-source-out` judges it honestly: each
 * source (an engine release: `engine.name` and `engine.version`, see `caseSource`) is predicted by
 * constants refitted without any of its cases.
 *
 * The fit is a coordinate descent over the grids (each constant in turn, the others
 * held, twice over), minimising the mean of `min(|ln(predicted/measured)|, FIT_LOSS_CAP)`
 * over the kinds of cases the constants touch: 2x too fast and 2x too slow weigh the
 * same, and a case off by more than the cap (a factor of 1.65) counts as the cap, so the
 * cases the models cannot explain by any value of these constants (a mechanism they lack)
 * do not drag the constants away from the cases they can.
 *
 * @example
 * import { fitConstants, fittedConstants, leaveOneSourceOut } from '@meshplan/planner'
 * import { defaultCostModels } from '@meshplan/cost-models'
 * fitConstants(defaultCostModels, fittedConstants)(file) // right({ values: { GEMM_SUSTAINED_FRACTION_AMPERE: 0.85, ... }, loss: 0.17, evaluations: 48 })
 * leaveOneSourceOut(defaultCostModels, fittedConstants)(file) // right({ cases: [...], summary, fits: [{ source: 'vllm 0.11.0', cases: 10, constants: { GEMM_SUSTAINED_FRACTION_HOPPER: 0.7, ... } }, ...] })
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import { GEMM_SERVING_FRACTIONS, GEMM_SUSTAINED_FRACTIONS, GROUPED_GEMM_K_FACTOR, KERNEL_RAMP_SECONDS } from '@meshplan/compute'
import type { CostModels } from '@meshplan/cost-models'
import type { DecodeIssue } from '@meshplan/units'
import { caseSource, predictCases, summarizeResults, type CaseKind, type CaseReport, type CaseResult } from './cases'
import { withParameters } from './parameters'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * A constant fitted on measured cases: its committed value, the values it is chosen from,
 * and the kinds of cases it changes. How the constants enter the models is
 * {@link withConstants}, which sets them all at once (several of them shape one function
 * of the models, the GEMM efficiency).
 */
export interface FittedConstant {
  /** The name of the constant in the code that holds its committed value. */
  readonly name: FittedName
  readonly value: number
  readonly grid: ReadonlyArray<number>
  /** The kinds of cases the constant changes; the fit looks at those only. */
  readonly kinds: ReadonlyArray<CaseKind>
}

/** The names of the fitted constants. */
export type FittedName = 'GEMM_SUSTAINED_FRACTION_AMPERE' | 'GEMM_SUSTAINED_FRACTION_HOPPER' | 'GEMM_SUSTAINED_FRACTION_BLACKWELL' | 'GEMM_SERVING_FRACTION_HOPPER' | 'GROUPED_GEMM_K_FACTOR' | 'KERNEL_RAMP_SECONDS'

/** The outcome of a fit. */
export interface Fit {
  readonly values: Readonly<Record<string, number>>
  /** {@link fitLoss} of the predicted cases the constants touch, at `values`. */
  readonly loss: number
  /** How many times the cases were predicted. */
  readonly evaluations: number
}

/** Predictions of every case by constants fitted without its source. */
export interface LeaveOneSourceOut extends CaseReport {
  readonly fits: ReadonlyArray<{ readonly source: string; readonly cases: number; readonly constants: Readonly<Record<string, number>> }>
}

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

const fractionGrid = [0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1]

/** What Ampere's large GEMMs keep of their burst ceiling in a run (`GEMM_SUSTAINED_FRACTIONS.ampere` in @meshplan/compute), from 0.6 to 1. */
export const gemmSustainedAmpere: FittedConstant = {
  name: 'GEMM_SUSTAINED_FRACTION_AMPERE',
  value: GEMM_SUSTAINED_FRACTIONS.ampere,
  grid: fractionGrid,
  kinds: ['inference', 'training'],
}

/** The same for Hopper's training steps (`GEMM_SUSTAINED_FRACTIONS.hopper`, shared by Ada and CDNA 3), from 0.6 to 1; serving has its own ({@link gemmServingHopper}). */
export const gemmSustainedHopper: FittedConstant = {
  name: 'GEMM_SUSTAINED_FRACTION_HOPPER',
  value: GEMM_SUSTAINED_FRACTIONS.hopper,
  grid: fractionGrid,
  kinds: ['training'],
}

/**
 * The same for Blackwell (`GEMM_SUSTAINED_FRACTIONS.blackwell`), from 0.45 to 1: the 1000 W part doubles Hopper's
 * tensor rate per format, so it can sit further below its burst ceiling than Hopper does. Few calibration cases run
 * on Blackwell, so the fit rests on them alone; the leave-one-source-out refit of their source keeps the committed value.
 */
export const gemmSustainedBlackwell: FittedConstant = {
  name: 'GEMM_SUSTAINED_FRACTION_BLACKWELL',
  value: GEMM_SUSTAINED_FRACTIONS.blackwell,
  grid: [0.45, 0.5, 0.55, ...fractionGrid],
  kinds: ['inference', 'training'],
}

/**
 * What Hopper's GEMMs keep of their burst ceiling in a serving engine's passes
 * (`GEMM_SERVING_FRACTIONS.hopper` in @meshplan/compute, shared by Ada and CDNA 3), from
 * 0.6 to 1: fitted on the serving cases alone, as the training runs on Hopper keep less.
 */
export const gemmServingHopper: FittedConstant = {
  name: 'GEMM_SERVING_FRACTION_HOPPER',
  value: GEMM_SERVING_FRACTIONS.hopper,
  grid: fractionGrid,
  kinds: ['inference'],
}

/**
 * A grouped (MoE) GEMM's fixed cost per tile over a dense GEMM's, in the k half-size
 * (`GROUPED_GEMM_K_FACTOR` in @meshplan/compute), from 1 (none of its own) to 16. Only the
 * cases with MoE layers move with it.
 */
export const groupedGemmKFactor: FittedConstant = {
  name: 'GROUPED_GEMM_K_FACTOR',
  value: GROUPED_GEMM_K_FACTOR,
  grid: [1, 1.5, 2, 3, 4, 6, 8, 12, 16],
  kinds: ['inference', 'training'],
}

/** A memory-bound kernel's fixed cost (`KERNEL_RAMP_SECONDS` in @meshplan/compute), from 2 to 12 µs. */
export const kernelRampSeconds: FittedConstant = {
  name: 'KERNEL_RAMP_SECONDS',
  value: KERNEL_RAMP_SECONDS,
  grid: [2e-6, 3e-6, 4e-6, 5e-6, 6e-6, 8e-6, 10e-6, 12e-6],
  kinds: ['inference', 'training'],
}

/** Every fitted constant of the default models. */
export const fittedConstants: ReadonlyArray<FittedConstant> = [gemmSustainedAmpere, gemmSustainedHopper, gemmSustainedBlackwell, gemmServingHopper, groupedGemmKFactor, kernelRampSeconds]

/** The most cases × grid points a fit may evaluate before it starts (a bound on its work). */
export const fitLimits = { caseEvaluations: 2_000_000 } as const

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The most one case adds to the fit's loss: 0.5, an error of a factor e^0.5 = 1.65 either way. */
export const FIT_LOSS_CAP = 0.5

/** Mean of `min(|ln(predicted/measured)|, FIT_LOSS_CAP)` over the predicted cases of `kinds`; Infinity when none is. */
export const fitLoss = (results: ReadonlyArray<CaseResult>, kinds: ReadonlyArray<CaseKind>): number => {
  let sum = 0
  let count = 0
  for (const r of results) {
    if (r.predicted === null || !kinds.includes(r.kind) || !(r.predicted > 0)) continue
    sum += Math.min(Math.abs(Math.log(r.predicted / r.measured)), FIT_LOSS_CAP)
    count++
  }
  return count === 0 ? Infinity : sum / count
}

/**
 * `models` with each constant of `constants` at its value in `values` (its committed value
 * when absent): the GEMM efficiency rebuilt with the sustained fractions, the memory
 * efficiency with the kernel ramp. A constant not in `constants` keeps its committed value.
 */
export const withConstants = (models: CostModels, constants: ReadonlyArray<FittedConstant>, values: Readonly<Record<string, number>>): CostModels =>
  withParameters(models, Object.fromEntries(constants.flatMap((c) => (values[c.name] === undefined ? [] : [[c.name, values[c.name]]]))))

const casesOf = (file: unknown): ReadonlyArray<unknown> =>
  typeof file === 'object' && file !== null && Array.isArray((file as { readonly cases?: unknown }).cases) ? (file as { readonly cases: ReadonlyArray<unknown> }).cases : []

const hasCases = (file: unknown): boolean => typeof file === 'object' && file !== null && Array.isArray((file as { readonly cases?: unknown }).cases)

const noCases = (file: unknown): ReadonlyArray<DecodeIssue> => [{ path: 'file', value: file, expected: 'a case file { format: "meshplan-cases/1", cases: [...] }' }]

const kindOf = (c: unknown): unknown =>
  typeof c === 'object' && c !== null ? ((c as { readonly workload?: { readonly kind?: unknown } }).workload ?? {}).kind : undefined

/** The work of a fit of `constants` over `cases` cases: case predictions, for the bound. */
const fitWork = (constants: ReadonlyArray<FittedConstant>, cases: number): number => 2 * constants.reduce((s, c) => s + c.grid.length, 0) * cases

/**
 * The values of `constants` that minimise {@link fitLoss} over the cases of `file` (a
 * `meshplan-cases/1` document), by coordinate descent over their grids from their
 * committed values; ties keep the committed value. A malformed file is its issues; a
 * fit larger than {@link fitLimits} is refused before it starts.
 */
export const fitConstants =
  (models: CostModels, constants: ReadonlyArray<FittedConstant>) =>
  (file: unknown): E.Either<ReadonlyArray<DecodeIssue>, Fit> => {
    const kinds = [...new Set(constants.flatMap((c) => c.kinds))]
    if (!hasCases(file)) return E.chain(() => E.left(noCases(file)))(predictCases(models)(file))
    const all = casesOf(file)
    const touched = all.filter((c) => kinds.includes(kindOf(c) as CaseKind))
    const work = fitWork(constants, touched.length)
    if (work > fitLimits.caseEvaluations)
      return E.left([{ path: 'file.cases', value: all.length, expected: `at most ${fitLimits.caseEvaluations} case predictions for a fit (this one needs ${work})` }])
    // the whole file is read first, so that a malformed case the kinds leave out still stops the fit
    const checked = predictCases(models)({ ...(file as object), cases: all.filter((c) => !touched.includes(c)) })
    if (E.isLeft(checked)) return checked
    const subset = { ...(file as object), cases: touched }
    let evaluations = 0
    const lossAt = (values: Readonly<Record<string, number>>): E.Either<ReadonlyArray<DecodeIssue>, number> => {
      evaluations++
      return E.map((report: CaseReport) => fitLoss(report.cases, kinds))(predictCases(withConstants(models, constants, values))(subset))
    }
    let values: Record<string, number> = Object.fromEntries(constants.map((c) => [c.name, c.value]))
    const first = lossAt(values)
    if (E.isLeft(first)) return first
    let loss = first.right
    for (let round = 0; round < 2; round++) {
      for (const c of constants) {
        for (const v of c.grid) {
          if (v === values[c.name]) continue
          const trial = { ...values, [c.name]: v }
          const l = lossAt(trial)
          if (E.isLeft(l)) return l
          if (l.right < loss) {
            loss = l.right
            values = trial
          }
        }
      }
    }
    return E.right({ values, loss, evaluations })
  }

/**
 * Every case of `file` predicted by the models with `constants` refitted on the other
 * sources' cases ({@link caseSource}): each engine release judged by constants that never
 * saw it. Cases the constants do not touch (their kinds) are predicted once, as they are.
 */
export const leaveOneSourceOut =
  (models: CostModels, constants: ReadonlyArray<FittedConstant>) =>
  (file: unknown): E.Either<ReadonlyArray<DecodeIssue>, LeaveOneSourceOut> =>
    pipe(
      predictCases(models)(file),
      E.chain((full) => {
        const all = casesOf(file)
        const kinds = constants.flatMap((c) => c.kinds)
        const sources = [...new Set(all.filter((c) => kinds.includes(kindOf(c) as CaseKind)).map(caseSource))]
        const work = sources.length * fitWork(constants, all.length)
        if (work > fitLimits.caseEvaluations)
          return E.left([{ path: 'file.cases', value: all.length, expected: `at most ${fitLimits.caseEvaluations} case predictions for a leave-one-source-out run (this one needs ${work})` }])
        const byId = new Map<string, CaseResult>(full.cases.map((r) => [r.id, r]))
        const fits: Array<LeaveOneSourceOut['fits'][number]> = []
        for (const source of sources) {
          const held = all.filter((c) => caseSource(c) === source && kinds.includes(kindOf(c) as CaseKind))
          const rest = all.filter((c) => caseSource(c) !== source)
          const fit = fitConstants(models, constants)({ ...(file as object), cases: rest })
          if (E.isLeft(fit)) return fit
          const report = predictCases(withConstants(models, constants, fit.right.values))({ ...(file as object), cases: held })
          if (E.isLeft(report)) return report
          for (const r of report.right.cases) byId.set(r.id, r)
          fits.push({ source, cases: held.length, constants: fit.right.values })
        }
        const cases = full.cases.map((r) => byId.get(r.id) ?? r)
        return E.right({ ...full, cases, summary: summarizeResults(cases), fits })
      }),
    )
