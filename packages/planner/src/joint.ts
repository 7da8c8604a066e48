/**
 * Claims judged together. A plan's throughput claims (`output_tokens_per_s`, per GPU)
 * and latency claims (`ttft`, `tpot`, `request_latency`) are each judged at the plan's
 * own operating point; a plan can pass each at some batch and yet at no batch pass them
 * all. `jointClaims` tries every operating point of the plan as written (its strategy,
 * static batches 1, 2, 4, ... up to the most that fit, and continuous batching capped at
 * each of them) and says whether one makes every such claim hold at once; if none does,
 * the closest points (the best throughput meeting the latency claims, the best latency
 * meeting the throughput claims), and the smallest deployment on the same cluster whose
 * best operating point makes all of them hold (a search over every deployment size that
 * divides the cluster, the latency claims as its objectives).
 *
 * @example
 * import { jointClaims } from '@meshplan/planner'
 * const j = jointClaims(defaultCostModels)(plan)
 * j?.together   // false: 450,000 tokens/s and a 2 ms TPOT at no batch of the reference plan
 * j?.bestThroughputMeetingLatency   // { mode: 'static', batch: 1, tpot: 0.0019, outputTokensPerSecond: 33,600, ... }
 */
import * as E from 'fp-ts/Either'
import type { CostModels } from '@meshplan/cost-models'
import { batchLadder, estimateInference, type InferenceEstimate, type InferenceMode, type Slo } from '@meshplan/inference'
import { worldSize } from '@meshplan/topology'
import { smallestDeployment } from './capacity'
import { encodeStrategy } from '@meshplan/parallelism'
import { claimHolds, claimMetrics, type Claim, type ClaimMetric, type Plan } from './plan-file'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** One operating point: a mode, its batch, the figures the claims read, and which claims hold there. */
export interface OperatingPoint {
  readonly description: string
  readonly strategy: ReturnType<typeof encodeStrategy>
  readonly gpus: number
  readonly mode: InferenceMode
  readonly batch: number
  readonly ttft: number
  readonly tpot: number
  readonly requestLatency: number
  readonly outputTokensPerSecond: number
  readonly outputTokensPerSecondPerGpu: number
  /** The claims of the joint set that hold at this point, by metric. */
  readonly holds: Readonly<Partial<Record<ClaimMetric, boolean>>>
}

/** The answer for the throughput and latency claims of a plan taken together. */
export interface JointClaims {
  /** The claims judged together, by metric. */
  readonly metrics: ReadonlyArray<ClaimMetric>
  /** How many operating points of the plan as written were tried. */
  readonly points: number
  /** Whether one of them makes every claim hold at once. */
  readonly together: boolean
  /** Such a point, the one with the most output tokens/s; null when none. */
  readonly point: OperatingPoint | null
  /** With no such point: the most output tokens/s among the points where the latency claims hold. */
  readonly bestThroughputMeetingLatency: OperatingPoint | null
  /** With no such point: the lowest latency (nearest its claims) among the points where the throughput claims hold. */
  readonly bestLatencyMeetingThroughput: OperatingPoint | null
  /** With no such point: the lowest latency (nearest its claims) of any point, whatever its throughput. */
  readonly lowestLatency: OperatingPoint | null
  /** With no such point: the fewest GPUs of the cluster on which some deployment makes every claim hold. */
  readonly smallest: OperatingPoint | null
  /** Why there is no smallest deployment: none of any size meets the claims, or the search was refused. */
  readonly smallestProblem: string | null
}

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

/** Claims about how fast a deployment serves. */
export const throughputMetrics: ReadonlyArray<ClaimMetric> = ['output_tokens_per_s', 'output_tokens_per_s_per_gpu']

/** Claims about how long a request waits. */
export const latencyMetrics: ReadonlyArray<ClaimMetric> = ['ttft', 'tpot', 'request_latency']

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The figures a throughput or latency claim reads, co-located or disaggregated alike. */
export interface ServedFigures {
  readonly tokensPerSecond: { readonly total: number; readonly perGpu: number }
  readonly ttft: number
  readonly tpot: number
  readonly requestLatency: number
}

/** The served figure a throughput or latency claim reads from `e`; null for the other metrics. */
export const servedValue = (e: ServedFigures, metric: ClaimMetric): number | null => {
  switch (metric) {
    case 'output_tokens_per_s':
      return e.tokensPerSecond.total
    case 'output_tokens_per_s_per_gpu':
      return e.tokensPerSecond.perGpu
    case 'ttft':
      return e.ttft
    case 'tpot':
      return e.tpot
    case 'request_latency':
      return e.requestLatency
    default:
      return null
  }
}

/** Which of `claims` hold for the figures `figures` reads, by metric (a metric with several claims holds when all do). */
export const holdsOf = (claims: ReadonlyArray<Claim>, figures: (metric: ClaimMetric) => number | null): Readonly<Partial<Record<ClaimMetric, boolean>>> => {
  const holds: Partial<Record<ClaimMetric, boolean>> = {}
  for (const c of claims) {
    const v = figures(c.metric)
    holds[c.metric] = (holds[c.metric] ?? true) && v !== null && claimHolds(c, claimMetrics[c.metric], v)
  }
  return holds
}

/** The operating point of estimate `e` for `claims`. */
export const pointOf = (e: InferenceEstimate, claims: ReadonlyArray<Claim>): OperatingPoint => {
  const holds = holdsOf(claims, (m) => servedValue(e, m))
  return {
    description: e.description,
    strategy: encodeStrategy(e.strategy),
    gpus: e.gpus,
    mode: e.mode,
    batch: e.batch,
    ttft: e.ttft,
    tpot: e.tpot,
    requestLatency: e.requestLatency,
    outputTokensPerSecond: e.tokensPerSecond.total,
    outputTokensPerSecondPerGpu: e.tokensPerSecond.perGpu,
    holds,
  }
}

export const allHold = (p: OperatingPoint, metrics: ReadonlyArray<ClaimMetric>): boolean => metrics.every((m) => p.holds[m] !== false)

/** How far a point's latencies are from their claims: the largest of computed/claimed over the latency claims. */
const latencyExcess = (p: OperatingPoint, claims: ReadonlyArray<Claim>): number =>
  Math.max(0, ...claims.filter((c) => latencyMetrics.includes(c.metric) && c.value > 0).map((c) => (c.metric === 'ttft' ? p.ttft : c.metric === 'tpot' ? p.tpot : p.requestLatency) / c.value))

const best = <A>(xs: ReadonlyArray<A>, better: (a: A, b: A) => boolean): A | null => xs.reduce<A | null>((acc, x) => (acc === null || better(x, acc) ? x : acc), null)

/** The latency claims as a search's objectives: the tightest `at_most` (or `about`, `equals`) bound of each. */
export const sloOf = (claims: ReadonlyArray<Claim>): Slo => {
  const bound = (metric: ClaimMetric): number | undefined => {
    const bounds = claims.filter((c) => c.metric === metric && c.comparator !== 'at_least').map((c) => (c.comparator === 'about' ? c.value * (1 + c.tolerance) : c.value))
    return bounds.length === 0 ? undefined : Math.min(...bounds)
  }
  const ttft = bound('ttft')
  const tpot = bound('tpot')
  return { ...(ttft === undefined ? {} : { maxTtft: ttft }), ...(tpot === undefined ? {} : { maxTpot: tpot }) }
}

/**
 * The plan's throughput and latency claims judged together, or null when it makes fewer
 * than one of each (there is nothing to judge together) or breaks a law (its strategy
 * has no operating point).
 */
export const jointClaims =
  (models: CostModels) =>
  (plan: Plan): JointClaims | null => {
    const claims = jointSet(plan.claims)
    if (claims.length === 0) return null
    const metrics = [...new Set(claims.map((c) => c.metric))]
    const { model, cluster, strategy, precision, workload } = plan
    const { batch: _batch, maxBatch: _maxBatch, ...free } = workload
    const at = (mode: InferenceMode, batch: number): E.Either<unknown, InferenceEstimate> =>
      estimateInference(models)({ model, cluster, strategy, precision, redundantExperts: plan.redundantExperts ?? 0, workload: mode === 'static' ? { ...free, mode, batch } : { ...free, mode, maxBatch: batch } })
    // the most sequences that fit, from one static estimate at batch 1
    const one = at('static', 1)
    if (E.isLeft(one)) return null
    const ladder = batchLadder(Math.max(1, one.right.memory.maxBatch))
    const estimates = (['static', 'max_throughput'] as const).flatMap((mode) => ladder.flatMap((b) => {
      const e = at(mode, b)
      return E.isRight(e) && e.right.memory.fits ? [e.right] : []
    }))
    const points = estimates.map((e) => pointOf(e, claims))
    return judgedTogether(claims, points, () => {
      // the smallest deployment on the same cluster: every size dividing it, the latency claims as objectives
      const searched = smallestDeployment(models)({ model, cluster, precision, workload: free, slo: sloOf(claims) }, (e) => allHold(pointOf(e, claims), metrics))
      const smallest = E.isRight(searched) && searched.right.found !== null ? pointOf(searched.right.found, claims) : null
      const problem = E.isLeft(searched)
        ? searched.left.message
        : smallest === null
          ? `no deployment of 1 to ${worldSize(cluster)} GPUs of this cluster makes every claim hold together`
          : null
      return { smallest, problem }
    })
  }

/** The claims of `claims` that are judged together: the throughput and the latency claims, or none when there are not one of each. */
export const jointSet = (claims: ReadonlyArray<Claim>): ReadonlyArray<Claim> => {
  const set = claims.filter((c) => throughputMetrics.includes(c.metric) || latencyMetrics.includes(c.metric))
  return set.some((c) => throughputMetrics.includes(c.metric)) && set.some((c) => latencyMetrics.includes(c.metric)) ? set : []
}

/**
 * The verdict over operating points `points` of a plan for the claims `claims` judged
 * together (see the module comment); `smallest` is asked only when no point makes them
 * all hold, for the smallest deployment that does (or why there is none).
 */
export const judgedTogether = (
  claims: ReadonlyArray<Claim>,
  points: ReadonlyArray<OperatingPoint>,
  smallestOf: () => { readonly smallest: OperatingPoint | null; readonly problem: string | null },
): JointClaims => {
  const metrics = [...new Set(claims.map((c) => c.metric))]
  const throughputOnly = metrics.filter((m) => throughputMetrics.includes(m))
  const latencyOnly = metrics.filter((m) => latencyMetrics.includes(m))
  const together = points.filter((p) => allHold(p, metrics))
  const point = best(together, (a, b) => a.outputTokensPerSecond > b.outputTokensPerSecond)
  if (point !== null)
    return { metrics, points: points.length, together: true, point, bestThroughputMeetingLatency: null, bestLatencyMeetingThroughput: null, lowestLatency: null, smallest: null, smallestProblem: null }
  const bestThroughputMeetingLatency = best(
    points.filter((p) => allHold(p, latencyOnly)),
    (a, b) => a.outputTokensPerSecond > b.outputTokensPerSecond,
  )
  const lowest = (ps: ReadonlyArray<OperatingPoint>): OperatingPoint | null => best(ps, (a, b) => latencyExcess(a, claims) < latencyExcess(b, claims))
  const bestLatencyMeetingThroughput = lowest(points.filter((p) => allHold(p, throughputOnly)))
  const lowestLatency = lowest(points)
  const { smallest, problem } = smallestOf()
  return { metrics, points: points.length, together: false, point: null, bestThroughputMeetingLatency, bestLatencyMeetingThroughput, lowestLatency, smallest, smallestProblem: problem }
}

