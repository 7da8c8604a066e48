/**
 * Capacity: the fewest GPUs that serve a request rate within the objectives. A search over
 * every deployment size that divides the GPUs at hand (`planInference` with `maxGpus`),
 * each strategy at the batch that serves the most within the objectives; the deployments
 * that reach the rate, the one on the fewest GPUs first (then the most tokens/s per GPU).
 * A request rate is output tokens per second over the output length.
 *
 * @example
 * import { fewestGpus } from '@meshplan/planner'
 * fewestGpus(defaultCostModels)({ model, cluster, precision, workload, slo: { maxTpot: 0.05 } }, 20)
 * // right({ found: { gpus: 8, ... }, most: 131.2 })
 */
import * as E from 'fp-ts/Either'
import type { CostModels, EstimateError } from '@meshplan/cost-models'
import { planDisaggregated, planInference, type DisaggregatedCandidate, type InferenceEstimate, type PlanInput } from '@meshplan/inference'
import { divisors } from '@meshplan/parallelism'
import { worldSize } from '@meshplan/topology'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The answer: the deployment on the fewest GPUs that serves the rate, or null; and the most any deployment serves. */
export interface Capacity {
  readonly requestsPerSecond: number
  readonly found: InferenceEstimate | null
  /** Requests per second of the found deployment, or of the one that serves the most when none reaches the rate. */
  readonly served: number
  /** The most requests per second any deployment of the GPUs at hand serves within the objectives. */
  readonly most: number
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The one of `xs` on the fewest GPUs, then with the most output tokens/s per GPU (the first of equals); null when there is none. */
export const fewestGpusFirst = <A>(xs: ReadonlyArray<A>, gpus: (a: A) => number, perGpu: (a: A) => number): A | null =>
  xs.reduce<A | null>((a, x) => (a === null || gpus(x) < gpus(a) || (gpus(x) === gpus(a) && perGpu(x) > perGpu(a)) ? x : a), null)

/** Requests per second of an estimate: its output tokens per second over the output length. */
export const requestsPerSecondOf = (e: InferenceEstimate, outputTokens: number): number => e.tokensPerSecond.total / outputTokens

/**
 * The deployment on the fewest GPUs of `input`'s cluster (or of `input.maxGpus`) that
 * `accept`s, then the most tokens/s per GPU: every size that divides them searched within
 * `input.slo`, each strategy at its best batch. Also every deployment the search kept, for
 * what the caller wants to say when none is accepted; or the search's error.
 */
export const smallestDeployment =
  (models: CostModels) =>
  (input: PlanInput, accept: (e: InferenceEstimate) => boolean): E.Either<EstimateError, { readonly found: InferenceEstimate | null; readonly searched: ReadonlyArray<InferenceEstimate> }> =>
    E.map((r: { readonly top: ReadonlyArray<InferenceEstimate> }) => ({
      found: fewestGpusFirst(r.top.filter(accept), (e) => e.gpus, (e) => e.tokensPerSecond.perGpu),
      searched: r.top,
    }))(planInference(models)({ ...input, maxGpus: input.maxGpus ?? worldSize(input.cluster), top: Number.MAX_SAFE_INTEGER }))

/**
 * The fewest GPUs of `input`'s cluster (or of `input.maxGpus`) that serve `rate` requests per
 * second within `input.slo`, or the search's error; `found` is null when no size does.
 */
export const fewestGpus =
  (models: CostModels) =>
  (input: PlanInput, rate: number): E.Either<EstimateError, Capacity> =>
    E.map(({ found, searched }: { readonly found: InferenceEstimate | null; readonly searched: ReadonlyArray<InferenceEstimate> }) => {
      const most = searched.reduce((m, e) => Math.max(m, requestsPerSecondOf(e, input.workload.outputTokens)), 0)
      return { requestsPerSecond: rate, found, served: found === null ? most : requestsPerSecondOf(found, input.workload.outputTokens), most }
    })(smallestDeployment(models)(input, (e) => requestsPerSecondOf(e, input.workload.outputTokens) >= rate))

/** The disaggregated answer: the deployment on the fewest GPUs that serves the rate, or null; and the most any serves. */
export interface DisaggregatedCapacity {
  readonly requestsPerSecond: number
  readonly found: DisaggregatedCandidate | null
  /** Requests per second of the found deployment, or the most any serves when none reaches the rate. */
  readonly served: number
  readonly most: number
  /** Deployment sizes searched, smallest first, up to the first that serves the rate. */
  readonly sizes: ReadonlyArray<number>
}

/**
 * The fewest GPUs of `input`'s cluster (or of `input.maxGpus`) on which a disaggregated
 * deployment serves `rate` requests per second within `input.slo`: the disaggregated
 * search (`planDisaggregated`) on every size that divides them, smallest first, each
 * size's deployments that reach the rate, the fewest GPUs then the most tokens/s per GPU.
 * It stops at the first size that has one: a deployment of the search on `n` GPUs uses
 * at most `n`, and every smaller size was searched before. Or the first search's error.
 */
export const fewestGpusDisaggregated =
  (models: CostModels) =>
  (input: PlanInput, rate: number): E.Either<EstimateError, DisaggregatedCapacity> => {
    const total = input.maxGpus === undefined ? worldSize(input.cluster) : Math.min(input.maxGpus, worldSize(input.cluster))
    const sizes: number[] = []
    let most = 0
    for (const n of divisors(total)) {
      if (n < 2) continue
      sizes.push(n)
      const searched = planDisaggregated(models)({ ...input, maxGpus: n, top: Number.MAX_SAFE_INTEGER })
      if (E.isLeft(searched)) {
        // a size whose space is beyond the search's bound: the larger ones are too
        if (searched.left.code === 'too-large' && sizes.length > 1) break
        return E.left(searched.left)
      }
      for (const c of searched.right.top) most = Math.max(most, c.estimate.requestsPerSecond)
      const found = fewestGpusFirst(
        searched.right.top.filter((c) => c.estimate.requestsPerSecond >= rate),
        (c) => c.estimate.gpus,
        (c) => c.estimate.tokensPerSecond.perGpu,
      )
      if (found !== null) return E.right({ requestsPerSecond: rate, found, served: found.estimate.requestsPerSecond, most, sizes })
    }
    return E.right({ requestsPerSecond: rate, found: null, served: most, most, sizes })
  }
