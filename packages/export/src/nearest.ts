/**
 * The nearest strategy an engine can run, when it cannot run the plan's. Nearness is a
 * distance in the divisor lattice of the degrees: the sum over tp, pp, dp, cp, ep, etp
 * and the virtual stages of |log2(new / old)| (halving or doubling a degree costs 1),
 * plus 1 for sequence parallelism switched, 1/2 for another pipeline split, and 2 per
 * halving of the GPUs used (a strategy on half the cluster is far from the plan even
 * when its degrees are near). Among the candidates an engine can run, the search
 * estimates the nearest first and takes the nearest whose estimate fits in memory,
 * the best estimate among equally near ones; when none of the nearest fits, the nearest
 * that can be estimated, said as not fitting.
 *
 * @example
 * import { strategyDistance } from '@meshplan/export'
 * import { strategy } from '@meshplan/parallelism'
 * strategyDistance(strategy({ tp: 2, dp: 64, ep: 64, etp: 2 }), strategy({ tp: 2, dp: 32, ep: 64 })) // 1 + 1 + 2 = 4
 */
import * as E from 'fp-ts/Either'
import { describeSplit, worldOf, type Strategy } from '@meshplan/parallelism'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** One difference between the plan and what is exported: `ep 64 -> 128`, `ZeRO 2 -> 1`. */
export interface Change {
  readonly what: string
  readonly from: string
  readonly to: string
}

/** A candidate and how far it is from the plan. */
export interface Candidate<A> {
  readonly value: A
  readonly distance: number
}

/** The chosen candidate, its estimate, and whether the estimate fits in memory. */
export interface Nearest<A, B> {
  readonly value: A
  readonly distance: number
  readonly estimate: B
  readonly fits: boolean
}

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

/** The degrees the distance compares, with the names practitioners write. */
const degrees = [
  ['tp', 'tp'],
  ['pp', 'pp'],
  ['dp', 'dp'],
  ['cp', 'cp'],
  ['ep', 'ep'],
  ['etp', 'etp'],
  ['virtualStages', 'virtual stages'],
] as const

/** What one halving of the GPUs used adds to the distance. */
export const GPU_HALVING_DISTANCE = 2

/** At most this many candidates are estimated by one search. */
export const ESTIMATE_BUDGET = 48

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const splitKey = (s: Strategy): string => describeSplit(s.pipelineSplit)

/** The distance from `plan` to `s` (see the module comment). */
export const strategyDistance = (plan: Strategy, s: Strategy): number => {
  let d = 0
  for (const [name] of degrees) d += Math.abs(Math.log2(s[name] / plan[name]))
  if (s.sequenceParallel !== plan.sequenceParallel) d += 1
  if (splitKey(s) !== splitKey(plan)) d += 0.5
  const world = worldOf(s)
  const planned = worldOf(plan)
  if (world < planned) d += GPU_HALVING_DISTANCE * Math.log2(planned / world)
  return d
}

/**
 * `s` and, when it has the plan's pipeline and virtual stages but another cut of the
 * layers, `s` cut as the plan is (`valid` says whether that holds the laws): the
 * enumeration gives one split per pipeline degree, the plan may have written another.
 */
export const withPlanSplit = (plan: Strategy, s: Strategy, valid: (s: Strategy) => boolean): ReadonlyArray<Strategy> => {
  if (plan.pipelineSplit === undefined || s.pp !== plan.pp || s.virtualStages !== plan.virtualStages || splitKey(s) === splitKey(plan)) return [s]
  const cut: Strategy = { ...s, pipelineSplit: plan.pipelineSplit }
  return valid(cut) ? [cut, s] : [s]
}

/** What differs from `plan` in `s`, degree by degree. */
export const strategyChanges = (plan: Strategy, s: Strategy): ReadonlyArray<Change> => [
  ...degrees.filter(([name]) => s[name] !== plan[name]).map(([name, what]) => ({ what, from: String(plan[name]), to: String(s[name]) })),
  ...(s.sequenceParallel === plan.sequenceParallel ? [] : [{ what: 'sequence parallelism', from: plan.sequenceParallel ? 'on' : 'off', to: s.sequenceParallel ? 'on' : 'off' }]),
  ...(splitKey(s) === splitKey(plan) ? [] : [{ what: 'pipeline split', from: splitKey(plan) || 'even', to: splitKey(s) || 'even' }]),
  ...(worldOf(s) === worldOf(plan) ? [] : [{ what: 'GPUs', from: String(worldOf(plan)), to: String(worldOf(s)) }]),
]

/**
 * The nearest of `candidates` (see the module comment): estimated nearest first, at most
 * {@link ESTIMATE_BUDGET} of them; `score` ranks equally near estimates (higher is
 * better). Undefined when no candidate can be estimated.
 */
export const nearestOf = <A, B>(
  candidates: ReadonlyArray<Candidate<A>>,
  estimate: (a: A) => E.Either<unknown, B>,
  fits: (b: B) => boolean,
  score: (b: B) => number,
): Nearest<A, B> | undefined => {
  const sorted = [...candidates].sort((a, b) => a.distance - b.distance)
  let fallback: Nearest<A, B> | undefined
  let best: Nearest<A, B> | undefined
  let estimated = 0
  for (let i = 0; i < sorted.length && estimated < ESTIMATE_BUDGET; ) {
    const distance = sorted[i]?.distance ?? 0
    // one ring of equally near candidates at a time
    for (; i < sorted.length && Math.abs((sorted[i]?.distance ?? 0) - distance) < 1e-9 && estimated < ESTIMATE_BUDGET; i++) {
      const c = sorted[i] as Candidate<A>
      const e = estimate(c.value)
      estimated++
      if (E.isLeft(e)) continue
      const found: Nearest<A, B> = { value: c.value, distance: c.distance, estimate: e.right, fits: fits(e.right) }
      if (fallback === undefined) fallback = found
      if (found.fits && (best === undefined || score(found.estimate) > score(best.estimate))) best = found
    }
    if (best !== undefined) return best
  }
  return fallback
}
