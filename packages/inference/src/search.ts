/**
 * The search: every valid strategy for a model on a cluster (all its GPUs, or every
 * whole number of replicas within a budget of GPUs), every batch per data-parallel
 * rank on a doubling ladder up to the most that fit, each evaluated by the inner loop
 * (`kernel.ts`); candidates that miss a service-level objective or do not fit are
 * counted by reason; the rest are ranked by output tokens/s per GPU (then in total),
 * or in `latency` mode by request latency (one request at a time: the fastest
 * deployment, not the busiest, is the answer), and the Pareto front of tokens/s per
 * GPU against tokens/s per user is kept.
 *
 * Replicas are strategies like any other: `dp` is a degree of the enumeration, so for
 * a small model on a large cluster the search finds many small replicas when they win.
 * Inference searches do not vary sequence parallelism or interleaved pipeline stages
 * (training techniques: they save activation memory and pipeline bubbles of a backward
 * pass a server does not run); constraints narrow the space further.
 *
 * @example
 * import { defaultCostModels } from '@meshplan/cost-models'
 * import { planInference } from '@meshplan/inference'
 * const result = planInference(defaultCostModels)({ model, cluster, precision, workload: { mode: 'static', inputTokens: 1024, outputTokens: 256 }, slo: { maxTpot: 0.05 } })
 * // right(result): result.top[0] the best estimate, result.pareto the front, result.rejected counts by reason
 */
import * as E from 'fp-ts/Either'
import type { Architecture, Precision } from '@meshplan/model'
import { describe, divisors, enumerate, type Constraints, type Order, type Strategy } from '@meshplan/parallelism'
import { worldSize, type Cluster } from '@meshplan/topology'
import { estimateError, type CostModels, type EstimateError } from '@meshplan/cost-models'
import type { GroupCache } from '@meshplan/cost-models/internal'
import { estimateFrom, type InferenceEstimate } from './estimate'
import { evaluateInference, inferenceFigures, prepareInference } from './kernel'
import type { EngineModel } from './engines'
import type { InferenceWorkload } from './workload'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Service-level objectives; an absent one does not constrain. Seconds and tokens/s. */
export interface Slo {
  readonly maxTtft?: number
  readonly maxTpot?: number
  readonly minTokensPerUser?: number
  /** Fraction of each GPU's memory to leave free, in [0, 1). */
  readonly memoryHeadroom?: number
}

export interface PlanInput {
  readonly model: Architecture
  readonly cluster: Cluster
  readonly precision: Precision
  /** `batch`, when given, is the only batch tried; otherwise the search chooses it. */
  readonly workload: InferenceWorkload
  /** Use at most this many GPUs: every divisor of it is a candidate deployment size. Default: exactly the whole cluster. */
  readonly maxGpus?: number
  readonly slo?: Slo
  /** Narrowings of the strategy space (see @meshplan/parallelism `enumerate`). */
  readonly constraints?: Constraints
  readonly order?: Order
  /** The serving engine every candidate runs on (default the generic engine, see `engines.ts`). */
  readonly engine?: EngineModel
  /** How many strategies to report, each at its best batch (default 5). */
  readonly top?: number
}

/** Why a candidate (a strategy at a batch) was not kept. */
export const rejectionReasons = ['does-not-fit', 'ttft', 'tpot', 'tokens-per-user', 'memory-headroom', 'cost-model'] as const
export type RejectionReason = (typeof rejectionReasons)[number]

/** One point of the Pareto front. */
export interface FrontPoint {
  readonly strategy: Strategy
  readonly description: string
  readonly batch: number
  readonly tokensPerSecondPerGpu: number
  readonly tokensPerSecondPerUser: number
  readonly ttft: number
  readonly tpot: number
}

/** What the ranking orders by: output tokens/s per GPU, or (`latency` mode) request latency. */
export const rankings = ['tokens_per_second_per_gpu', 'request_latency'] as const
export type Ranking = (typeof rankings)[number]

export interface PlanResult {
  /** What `top` is ordered by. */
  readonly rankedBy: Ranking
  /** Deployment sizes searched. */
  readonly gpuCounts: ReadonlyArray<number>
  /** Valid strategies enumerated, and (strategy, batch) candidates evaluated. */
  readonly strategies: number
  readonly candidates: number
  /** Candidates that met every objective and fit. */
  readonly feasible: number
  readonly rejected: Readonly<Record<RejectionReason, number>>
  /** The best strategies, best first, each at its best batch, with the full estimate. */
  readonly top: ReadonlyArray<InferenceEstimate>
  /** Feasible candidates no other beats on both tokens/s per GPU and per user, by falling tokens/s per GPU. */
  readonly pareto: ReadonlyArray<FrontPoint>
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** Batches tried for a strategy fitting `max`: 1, 2, 4, … below `max`, and `max` itself. */
export const batchLadder = (max: number): ReadonlyArray<number> => {
  const out: number[] = []
  for (let b = 1; b < max; b *= 2) out.push(b)
  if (max >= 1) out.push(max)
  return out
}

interface Point {
  readonly strategyIndex: number
  readonly batch: number
  readonly perGpu: number
  readonly total: number
  readonly perUser: number
  readonly ttft: number
  readonly tpot: number
  readonly latency: number
}

/** `a` ranks before `b`: more tokens/s per GPU, then more in total (ties: the earlier strategy). */
const moreThroughput = (a: Point, b: Point): boolean => a.perGpu > b.perGpu || (a.perGpu === b.perGpu && a.total > b.total)

/** `a` ranks before `b`: a shorter request, then more tokens/s per GPU. */
const lessLatency = (a: Point, b: Point): boolean => a.latency < b.latency || (a.latency === b.latency && moreThroughput(a, b))

/** The points not dominated on (tokens/s per GPU, tokens/s per user), by falling tokens/s per GPU. */
export const paretoFront = <P extends { readonly perGpu: number; readonly perUser: number }>(points: ReadonlyArray<P>): ReadonlyArray<P> => {
  const sorted = [...points].sort((a, b) => b.perGpu - a.perGpu || b.perUser - a.perUser)
  const front: P[] = []
  let bestUser = -Infinity
  for (const p of sorted) {
    if (p.perUser > bestUser) {
      front.push(p)
      bestUser = p.perUser
    }
  }
  return front
}

/**
 * The most strategies one search evaluates: about 20 s on one core of this project's
 * reference machine (a strategy is prepared once, about 1 ms, then each batch of its
 * ladder is arithmetic). DeepSeek-V3 on a million GPUs is 8,640 strategies.
 */
export const searchLimits = { strategies: 20_000 } as const

/**
 * How many strategies the search of `input` would evaluate, counted before any is
 * prepared, up to one past `limit` (the count stops there).
 */
export const plannedStrategies = (input: PlanInput, limit: number = searchLimits.strategies): { readonly gpuCounts: ReadonlyArray<number>; readonly strategies: number } => {
  const gpuCounts = gpuCountsOf(input)
  const constraints = constraintsOf(input)
  let strategies = 0
  for (const gpus of gpuCounts) {
    for (const _ of enumerate({ model: input.model, cluster: input.cluster, gpus, sequenceLength: Math.ceil(input.workload.inputTokens) })(constraints)) {
      if (++strategies > limit) return { gpuCounts, strategies }
    }
  }
  return { gpuCounts, strategies }
}

const gpuCountsOf = (input: PlanInput): ReadonlyArray<number> =>
  input.maxGpus === undefined ? [worldSize(input.cluster)] : divisors(Math.min(input.maxGpus, worldSize(input.cluster)))

const constraintsOf = (input: PlanInput): Constraints => ({ sequenceParallel: false, ...input.constraints, max: { virtualStages: 1, ...input.constraints?.max } })

/**
 * Searches the strategies and batches of `input` (see the module comment), or says
 * why not: a space of more than {@link searchLimits} strategies is refused before any
 * is evaluated (`too-large`), naming the limit and how to narrow it.
 */
export const planInference =
  (models: CostModels) =>
  (input: PlanInput): E.Either<EstimateError, PlanResult> => {
    const planned = plannedStrategies(input)
    if (planned.strategies > searchLimits.strategies) {
      return E.left(
        estimateError(
          'too-large',
          `the search would evaluate more than ${searchLimits.strategies.toLocaleString('en-US')} strategies (the limit, about 20 s) over ${planned.gpuCounts.length.toLocaleString('en-US')} deployment size${planned.gpuCounts.length === 1 ? '' : 's'}: fix a degree (tp, ep, ...) or search fewer GPUs (maxGpus)`,
        ),
      )
    }
    const { model, cluster, precision, workload } = input
    const slo = input.slo ?? {}
    const gpuCounts = planned.gpuCounts
    const constraints = constraintsOf(input)
    const rejected: Record<RejectionReason, number> = { 'does-not-fit': 0, ttft: 0, tpot: 0, 'tokens-per-user': 0, 'memory-headroom': 0, 'cost-model': 0 }
    const cache: GroupCache = new Map()
    const strategies: Strategy[] = []
    const bestPerStrategy: Point[] = []
    const feasiblePoints: Point[] = []
    const out = inferenceFigures()
    const rankedBy: Ranking = workload.mode === 'latency' ? 'request_latency' : 'tokens_per_second_per_gpu'
    const better = rankedBy === 'request_latency' ? lessLatency : moreThroughput
    const headroom = 1 - (slo.memoryHeadroom ?? 0)
    const capacity = cluster.device.memory * headroom
    let candidates = 0
    for (const gpus of gpuCounts) {
      for (const s of enumerate({ model, cluster, gpus, sequenceLength: Math.ceil(workload.inputTokens) })(constraints)) {
        const index = strategies.length
        strategies.push(s)
        const prepared = prepareInference(models, cache)({ model, cluster, strategy: s, precision, workload, ...(input.order === undefined ? {} : { order: input.order }), ...(input.engine === undefined ? {} : { engine: input.engine }) })
        if (E.isLeft(prepared)) {
          candidates++
          rejected['cost-model']++
          continue
        }
        const c = prepared.right
        if (c.maxBatch < 1) {
          candidates++
          rejected['does-not-fit']++
          continue
        }
        const batches = workload.mode === 'latency' ? [1] : workload.batch !== undefined ? [workload.batch] : batchLadder(c.maxBatch)
        let best: Point | undefined
        for (const batch of batches) {
          candidates++
          evaluateInference(c, batch, out)
          const ttft = out.ttft
          const tpot = out.tpot
          const perUser = out.tokensPerSecondPerUser
          let reason: RejectionReason | undefined
          // a figure that is not a finite positive number means a (replaced) cost model gave nonsense: never ranked
          if (!(ttft > 0 && tpot > 0 && out.tokensPerSecondPerGpu > 0 && ttft < Infinity && tpot < Infinity && out.tokensPerSecondPerGpu < Infinity && out.memoryPerGpu < Infinity)) reason = 'cost-model'
          else if (!out.fits) reason = 'does-not-fit'
          else if (out.memoryPerGpu > capacity) reason = 'memory-headroom'
          else if (slo.maxTtft !== undefined && ttft > slo.maxTtft) reason = 'ttft'
          else if (slo.maxTpot !== undefined && tpot > slo.maxTpot) reason = 'tpot'
          else if (slo.minTokensPerUser !== undefined && perUser < slo.minTokensPerUser) reason = 'tokens-per-user'
          if (reason !== undefined) {
            rejected[reason]++
            continue
          }
          const point: Point = {
            strategyIndex: index,
            batch,
            perGpu: out.tokensPerSecondPerGpu,
            total: out.tokensPerSecond,
            perUser,
            ttft,
            tpot,
            latency: out.requestLatency,
          }
          feasiblePoints.push(point)
          if (best === undefined || better(point, best)) best = point
        }
        if (best !== undefined) bestPerStrategy.push(best)
      }
    }
    const ranked = [...bestPerStrategy].sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : a.strategyIndex - b.strategyIndex))
    const top: InferenceEstimate[] = []
    for (const p of ranked.slice(0, input.top ?? 5)) {
      const s = strategies[p.strategyIndex] as Strategy
      const prepared = prepareInference(models, cache)({ model, cluster, strategy: s, precision, workload, ...(input.order === undefined ? {} : { order: input.order }), ...(input.engine === undefined ? {} : { engine: input.engine }) })
      const estimate = E.isRight(prepared) ? estimateFrom(prepared.right, p.batch) : prepared
      if (E.isRight(estimate)) top.push(estimate.right)
    }
    const pareto = paretoFront(feasiblePoints).map((p): FrontPoint => {
      const s = strategies[p.strategyIndex] as Strategy
      return { strategy: s, description: describe(s), batch: p.batch, tokensPerSecondPerGpu: p.perGpu, tokensPerSecondPerUser: p.perUser, ttft: p.ttft, tpot: p.tpot }
    })
    return E.right({ rankedBy, gpuCounts, strategies: strategies.length, candidates, feasible: feasiblePoints.length, rejected, top, pareto })
  }
