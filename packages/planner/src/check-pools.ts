/**
 * The audit of a disaggregated plan (a plan file with `pools`): each pool's strategy
 * against the laws of the algebra and its cluster, the pools together against the GPUs
 * they share, each claim against the disaggregated estimate (@meshplan/inference's
 * `estimateDisaggregated`), the throughput and latency claims judged together over the
 * decode pool's batch limits, and the best deployments the searches find for the same
 * model, cluster and workload under the plan's latency claims: disaggregated
 * (`planDisaggregated`) and co-located (`planInference`).
 *
 * What each claim is compared with:
 * - `gpus_used`: the GPUs of both pools, instances × tp · pp · dp · cp of each.
 * - `experts_per_gpu`, `weight_memory_per_gpu`, `memory_per_gpu`: the pool whose GPU
 *   holds the most (the prefill pool with the KV cache of one pass's prompts, the decode
 *   pool with its running batch).
 * - throughput, TTFT, TPOT, request latency: the disaggregated estimate.
 * - `flops_per_gpu`: forward FLOPs of every prompt and output token served per second,
 *   over the GPUs of both pools.
 * - `load_imbalance`: the decode pool's busiest expert-parallel GPU in a decode step.
 *
 * The operating points judged together are the decode pool's engine batch limits 1, 2,
 * 4, ... up to the most sequences that fit: the decode batch is what trades TPOT against
 * throughput in a disaggregated deployment (the prefill pool runs its token budget). The
 * smallest deployment that makes every claim hold is the fewer-GPU one of the co-located
 * search over every size dividing the cluster and the disaggregated search's deployments.
 *
 * @example
 * import { checkDisaggregated } from '@meshplan/planner'
 * const audit = checkDisaggregated(defaultCostModels)(plan)   // plan.pools defined
 * audit.estimate?.ttft   // seconds; audit.claims: each with holds, computed, deviation
 */
import * as E from 'fp-ts/Either'
import { forwardFlopsPerToken } from '@meshplan/model'
import { batchLadder, estimateDisaggregated, planDisaggregated, planInference, poolLink, type DisaggregatedCandidate, type DisaggregatedEstimate, type DisaggregatedInput, type DisaggregatedPlan, type InferenceWorkload, type PlanResult, type PoolInput } from '@meshplan/inference'
import { describe, encodeStrategy, layout, notesOf, placementClasses, validate, worldOf, type Note, type Violation } from '@meshplan/parallelism'
import { worldSize } from '@meshplan/topology'
import type { CostModels } from '@meshplan/cost-models'
import { deviationOf, expertsHeld, routingImbalance, type ClaimVerdict } from './check'
import { fewestGpusFirst, smallestDeployment } from './capacity'
import { allHold, holdsOf, judgedTogether, jointSet, pointOf, servedValue, sloOf, type JointClaims, type OperatingPoint } from './joint'
import { claimHolds, claimMetrics, type Claim, type ClaimMetric, type Plan, type PlanPool, type PlanPools } from './plan-file'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** One pool as written: its instances, its strategy against the laws on its cluster. */
export interface PoolCheck {
  readonly role: 'prefill' | 'decode'
  readonly instances: number
  readonly description: string
  readonly gpusPerInstance: number
  readonly gpus: number
  readonly cluster: string
  readonly violations: ReadonlyArray<Violation>
  readonly notes: ReadonlyArray<Note>
}

export interface DisaggregatedAudit {
  readonly plan: Plan
  readonly gpus: number
  readonly pools: { readonly prefill: PoolCheck; readonly decode: PoolCheck }
  /** Laws the pools break together (more GPUs than their cluster has). */
  readonly violations: ReadonlyArray<Violation>
  /** Why the plan could not be estimated, if so. */
  readonly problem: string | null
  readonly estimate: DisaggregatedEstimate | null
  /** The link the KV cache crosses, per GPU and direction (`poolLink`). */
  readonly link: { readonly bandwidth: number; readonly latency: number }
  readonly claims: ReadonlyArray<ClaimVerdict>
  readonly joint: JointClaims | null
  /** The disaggregated search on the plan's cluster under the plan's latency claims, or null (see `bestProblem`). */
  readonly best: DisaggregatedPlan | null
  /** The co-located search under the same objectives, or null when it was refused. */
  readonly colocated: PlanResult | null
  readonly bestProblem: string | null
  /** Every claim holds and no pool breaks a law. */
  readonly passes: boolean
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** GPUs of all a pool's instances. */
export const poolGpus = (pool: PlanPool): number => pool.instances * worldOf(pool.strategy)

/**
 * What @meshplan/inference's `estimateDisaggregated` prices for a plan with pools, at
 * `workload` (default the plan's): each pool one instance's deployment on its cluster
 * with its instances and redundant slots, and the link between them (`poolLink`).
 */
export const poolsInput = (plan: Plan & { readonly pools: PlanPools }, workload: InferenceWorkload = plan.workload): DisaggregatedInput => {
  const pool = (p: PlanPool): PoolInput => ({ model: plan.model, cluster: p.cluster, strategy: p.strategy, precision: plan.precision, workload, instances: p.instances, redundantExperts: p.redundantExperts ?? 0 })
  const { prefill, decode } = plan.pools
  return { prefill: pool(prefill), decode: pool(decode), link: poolLink({ cluster: prefill.cluster, gpus: poolGpus(prefill) }, { cluster: decode.cluster, gpus: poolGpus(decode) }) }
}

const poolCheck = (plan: Plan, role: 'prefill' | 'decode', pool: PlanPool): PoolCheck => {
  const gpus = worldOf(pool.strategy)
  const target = { model: plan.model, cluster: pool.cluster, gpus, sequenceLength: Math.ceil(plan.workload.inputTokens), redundantExperts: pool.redundantExperts ?? 0 }
  const validated = validate(target)(pool.strategy)
  return {
    role,
    instances: pool.instances,
    description: describe(pool.strategy),
    gpusPerInstance: gpus,
    gpus: poolGpus(pool),
    cluster: pool.cluster.name,
    violations: E.isLeft(validated) ? validated.left : [],
    // an instance is not the whole cluster: that the rest of it is unused says nothing of the pool
    notes: (E.isRight(validated) ? validated.right.notes : notesOf(target)(pool.strategy)).filter((n) => n.code !== 'gpus-unused'),
  }
}

/**
 * The laws a plan's pools break together on their clusters (`gpus-exceed-cluster`): one
 * cluster shared holds both pools' GPUs, else each cluster its own pool's. None for a
 * plan without pools.
 */
export const poolsViolations = (plan: Plan): ReadonlyArray<Violation> => {
  const pools = plan.pools
  if (pools === undefined) return []
  const prefill = { gpus: poolGpus(pools.prefill) }
  const decode = { gpus: poolGpus(pools.decode) }
  const over = (gpus: number, available: number, what: string): ReadonlyArray<Violation> =>
    gpus <= available
      ? []
      : [{ code: 'gpus-exceed-cluster', message: `${what} use ${gpus} GPUs; the cluster has ${available}`, values: { gpus, available }, suggestion: 'fewer instances, or a larger cluster' }]
  if (pools.prefill.cluster === pools.decode.cluster) return over(prefill.gpus + decode.gpus, worldSize(pools.prefill.cluster), `the prefill pool (${prefill.gpus}) and the decode pool (${decode.gpus}) together`)
  return [...over(prefill.gpus, worldSize(pools.prefill.cluster), 'the prefill pool'), ...over(decode.gpus, worldSize(pools.decode.cluster), 'the decode pool')]
}

/** The operating point of a disaggregated estimate for `claims`. */
const disaggregatedPoint = (e: DisaggregatedEstimate, description: string, decode: PlanPool['strategy'], claims: ReadonlyArray<Claim>): OperatingPoint => ({
  description,
  strategy: encodeStrategy(decode),
  gpus: e.gpus,
  mode: 'max_throughput',
  // sequences per decode rank: a mean (Little's law) where arrivals set it, shown whole
  batch: Math.round(e.decode.batch),
  ttft: e.ttft,
  tpot: e.tpot,
  requestLatency: e.requestLatency,
  outputTokensPerSecond: e.tokensPerSecond.total,
  outputTokensPerSecondPerGpu: e.tokensPerSecond.perGpu,
  holds: holdsOf(claims, (m) => servedValue(e, m)),
})

const candidateText = (c: DisaggregatedCandidate): string => `${c.prefill.instances} x ${c.prefill.description} prefill + ${c.decode.instances} x ${c.decode.description} decode`

/** Audits a plan with `pools` (see the module comment). */
export const checkDisaggregated =
  (models: CostModels) =>
  (plan: Plan): DisaggregatedAudit => {
    const pools = plan.pools
    if (pools === undefined) throw new Error('checkDisaggregated: a plan with pools')
    const { model, precision, workload } = plan
    const prefill = poolCheck(plan, 'prefill', pools.prefill)
    const decode = poolCheck(plan, 'decode', pools.decode)
    const shared = poolsViolations(plan)
    const broken = prefill.violations.length + decode.violations.length + shared.length
    const gpus = prefill.gpus + decode.gpus
    const input = poolsInput({ ...plan, pools })
    const link = input.link
    const estimated = broken === 0 ? estimateDisaggregated(models)(input) : undefined
    const e = estimated !== undefined && E.isRight(estimated) ? estimated.right : null
    const problem =
      broken > 0 ? `the pools break ${broken} law${broken === 1 ? '' : 's'} of the algebra` : estimated !== undefined && E.isLeft(estimated) ? estimated.left.message : null
    const classesOf = (p: PlanPool) => {
      const laid = layout(p.cluster)(p.strategy)
      return E.isRight(laid) ? placementClasses(model, p.strategy, laid.right, p.redundantExperts ?? 0) : []
    }
    const fullest = e === null ? null : e.prefill.memory.perGpu >= e.decode.memory.perGpu ? ({ role: 'prefill', m: e.prefill.memory } as const) : ({ role: 'decode', m: e.decode.memory } as const)

    const computedOf = (metric: ClaimMetric): { readonly value: number | null; readonly detail: string } => {
      const none = { value: null, detail: problem ?? '' }
      switch (metric) {
        case 'gpus_used':
          return { value: gpus, detail: `${prefill.instances} x ${prefill.gpusPerInstance} prefill GPUs + ${decode.instances} x ${decode.gpusPerInstance} decode GPUs` }
        case 'experts_per_gpu': {
          if (broken > 0) return { value: null, detail: 'no layout: a pool breaks the algebra' }
          const held = [expertsHeld(model, classesOf(pools.prefill)), expertsHeld(model, classesOf(pools.decode))]
          const [p, d] = held
          const most = (p?.value ?? 0) >= (d?.value ?? 0) ? { role: 'prefill', h: p } : { role: 'decode', h: d }
          return { value: most.h?.value ?? null, detail: `the ${most.role} pool: ${most.h?.detail ?? ''}` }
        }
        case 'weight_memory_per_gpu':
          return e === null ? none : { value: Math.max(e.prefill.memory.weights, e.decode.memory.weights), detail: `parameters of the fullest pipeline stage on one GPU, the larger of the two pools` }
        case 'memory_per_gpu':
          return e === null || fullest === null
            ? none
            : { value: fullest.m.perGpu, detail: `the ${fullest.role} pool's fullest GPU: weights + KV cache of ${fullest.m.sequences} sequences + workspace + reserve` }
        case 'flops_per_gpu': {
          if (e === null) return none
          const tokensPerSecond = e.requestsPerSecond * (workload.inputTokens + workload.outputTokens)
          const perToken = forwardFlopsPerToken(workload.inputTokens + workload.outputTokens / 2)(model)
          return { value: (tokensPerSecond * perToken) / gpus, detail: `forward FLOPs of ${Math.round(tokensPerSecond)} prompt and output tokens/s over the ${gpus} GPUs of both pools` }
        }
        case 'output_tokens_per_s':
        case 'output_tokens_per_s_per_gpu':
          return e === null ? none : { value: servedValue(e, metric), detail: `${e.requestsPerSecond.toFixed(2)} requests/s, limited by the ${e.limitedBy} pool; decode batch ${Math.round(e.decode.batch)} per data-parallel rank` }
        case 'ttft':
          return e === null ? none : { value: e.ttft, detail: `prefill of ${workload.inputTokens} tokens on the prefill pool, the KV cache's transfer (${(e.transfer.seconds * 1e3).toFixed(2)} ms) and the first decode pass` }
        case 'tpot':
          return e === null ? none : { value: e.tpot, detail: `a decode pass at batch ${Math.round(e.decode.batch)} per data-parallel rank of the decode pool` }
        case 'request_latency':
          return e === null ? none : { value: e.requestLatency, detail: `TTFT + ${workload.outputTokens - 1} output tokens at the decode pool's TPOT` }
        case 'load_imbalance':
          return model.moe === undefined ? { value: 1, detail: 'a dense model routes nothing' } : e === null ? none : routingImbalance(model, pools.decode.strategy, Math.max(1, Math.round(e.decode.batch)))
      }
    }
    const claims = plan.claims.map((claim): ClaimVerdict => {
      const { value, detail } = computedOf(claim.metric)
      return { claim, computed: value, holds: value !== null && claimHolds(claim, claimMetrics[claim.metric], value), deviation: deviationOf(value, claim.value), detail }
    })

    // the searches on the plan's cluster, the latency claims as their objectives, the plan's batch limit left free
    const together = jointSet(plan.claims)
    const slo = sloOf(plan.claims)
    const { batch: _batch, maxBatch: _maxBatch, ...free } = workload
    const searchInput = { model, cluster: plan.cluster, precision, workload: free, slo }
    const searched = planDisaggregated(models)({ ...searchInput, top: 5 })
    const colocated = planInference(models)({ ...searchInput, top: 5 })
    const best = E.isRight(searched) ? searched.right : null

    // the decode pool's batch limits, each an operating point
    let joint: JointClaims | null = null
    if (together.length > 0 && e !== null) {
      const metrics = [...new Set(together.map((c) => c.metric))]
      const points: OperatingPoint[] = []
      for (const b of batchLadder(Math.max(1, e.decode.maxBatch))) {
        const at = estimateDisaggregated(models)({ ...input, decode: { ...input.decode, workload: { ...workload, maxBatch: b } } })
        if (E.isRight(at) && at.right.decode.memory.fits) points.push(disaggregatedPoint(at.right, `decode batch limit ${b}`, pools.decode.strategy, together))
      }
      joint = judgedTogether(together, points, () => {
        const kept = best === null ? [] : best.top.map((c) => disaggregatedPoint(c.estimate, candidateText(c), c.decode.strategy, together)).filter((p) => allHold(p, metrics))
        const small = smallestDeployment(models)({ ...searchInput, workload: free }, (x) => allHold(pointOf(x, together), metrics))
        const co = E.isRight(small) && small.right.found !== null ? pointOf(small.right.found, together) : null
        const all = [...kept, ...(co === null ? [] : [co])]
        const smallest = fewestGpusFirst(all, (p) => p.gpus, (p) => p.outputTokensPerSecondPerGpu)
        return { smallest, problem: smallest === null ? `no co-located deployment of 1 to ${worldSize(plan.cluster)} GPUs, and no disaggregated deployment the search keeps, makes every claim hold together` : null }
      })
    }
    return {
      plan,
      gpus,
      pools: { prefill, decode },
      violations: shared,
      problem,
      estimate: e,
      link,
      claims,
      joint,
      best,
      colocated: E.isRight(colocated) ? colocated.right : null,
      bestProblem: E.isLeft(searched) ? searched.left.message : null,
      passes: broken === 0 && problem === null && claims.every((c) => c.holds),
    }
  }
