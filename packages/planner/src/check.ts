/**
 * The audit of a plan someone wrote: every law of the algebra it breaks, each claim
 * as holds or does not hold with the computed value and how far off it is, and the
 * best strategy the search finds for the same model, cluster and workload. The audit
 * is honest in both directions: a claim that holds is reported as holding.
 *
 * What each claim is compared with (computed at the plan's workload):
 * - `gpus_used`: tp · pp · dp · cp.
 * - `experts_per_gpu`: whole experts' worth of routed-expert parameters a GPU holds
 *   over its MoE layers (`placementOf(...).experts.wholeEquivalent`).
 * - `weight_memory_per_gpu`, `memory_per_gpu`: @meshplan/memory on the fullest stage.
 * - `flops_per_gpu`: forward FLOPs of every prompt and output token served per second
 *   over the GPUs (`forwardFlopsPerToken` at the mean context, @meshplan/model).
 * - throughput, TTFT, TPOT, request latency: the estimate.
 * - `load_imbalance`: the busiest GPU's routed tokens over the mean in one decode step
 *   under uniform random routing (see {@link loadImbalance}).
 *
 * @example
 * import { defaultCostModels } from '@meshplan/cost-models'
 * import { checkPlan } from '@meshplan/planner'
 * const audit = checkPlan(defaultCostModels)(plan)
 * audit.claims.filter((c) => !c.holds) // the claims that fail, with computed values
 */
import * as E from 'fp-ts/Either'
import { forwardFlopsPerToken, type Architecture } from '@meshplan/model'
import { expertDataParallel, layout, notesOf, placementClasses, validate, worldOf, type Note, type PlacementClass, type Strategy, type Violation } from '@meshplan/parallelism'
import type { CostModels } from '@meshplan/cost-models'
import { estimateInference, loadImbalance, planInference, type InferenceEstimate, type PlanResult } from '@meshplan/inference'
import { claimHolds, claimMetrics, type Claim, type ClaimMetric, type Plan } from './plan-file'
import { jointClaims, type JointClaims } from './joint'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export interface ClaimVerdict {
  readonly claim: Claim
  /** The computed value in the metric's base unit, or null when it cannot be computed (the plan is invalid). */
  readonly computed: number | null
  readonly holds: boolean
  /** (computed − claimed) / claimed; null when either is missing or the claim is 0. */
  readonly deviation: number | null
  /** How the computed value was obtained, in a sentence. */
  readonly detail: string
}

export interface Audit {
  readonly plan: Plan
  readonly gpus: number
  readonly violations: ReadonlyArray<Violation>
  readonly notes: ReadonlyArray<Note>
  /** Why the plan could not be estimated (it breaks a law, or not one sequence fits), if so. */
  readonly problem: string | null
  readonly estimate: InferenceEstimate | null
  readonly claims: ReadonlyArray<ClaimVerdict>
  /** The search for the same model, cluster and workload (the plan's batch left free), or null when it was refused (see `bestProblem`). */
  readonly best: PlanResult | null
  /** Why there is no search, when it was refused (a space beyond the search's limit). */
  readonly bestProblem: string | null
  /** The throughput and latency claims judged together (`joint.ts`); null when the plan makes fewer than one of each or breaks a law. */
  readonly joint: JointClaims | null
  /** Every claim holds and the plan breaks no law. */
  readonly passes: boolean
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/**
 * The busiest of `bins` GPUs over the mean when `assignments` token-expert assignments
 * land uniformly at random (Raab & Steger 1998): @meshplan/inference's, where the
 * serving estimate charges it to the busiest expert-parallel rank. Re-exported here,
 * where the audit's `load_imbalance` claim reads it.
 */
export { loadImbalance } from '@meshplan/inference'

/** Whether a claim holds for the computed value (defined beside the claims, `plan-file.ts`). */
export { claimHolds } from './plan-file'

/**
 * How far the computed value is from the claimed one, relative to the claim; none when
 * there is no computed value or the ratio is not a finite number (a claim of 0, or of a
 * value so small, 5e-324 s, that the ratio overflows: the fuzz campaign's).
 */
export const deviationOf = (computed: number | null, claimed: number): number | null => {
  if (computed === null || claimed === 0) return null
  const d = (computed - claimed) / claimed
  return Number.isFinite(d) ? d : null
}

/** Why a plan cannot be estimated: the laws it breaks, or the estimate's error (undefined: not estimated); null when it can. */
export const problemOf = (violations: ReadonlyArray<Violation>, estimate: E.Either<{ readonly message: string }, unknown> | undefined): string | null =>
  violations.length > 0
    ? `the strategy breaks ${violations.length} law${violations.length === 1 ? '' : 's'} of the algebra`
    : estimate !== undefined && E.isLeft(estimate)
      ? estimate.left.message
      : null

/** The `experts_per_gpu` claim's value: whole experts' worth of routed-expert parameters on the GPU that holds the most, over the layout's placement classes. */
export const expertsHeld = (model: Architecture, classes: ReadonlyArray<PlacementClass>): { readonly value: number | null; readonly detail: string } => {
  if (model.moe === undefined) return { value: 0, detail: 'the model has no routed experts' }
  const held = classes.map((c) => c.example.experts)
  const most = held.reduce((a, b) => (b.wholeEquivalent > a.wholeEquivalent ? b : a), held[0] ?? { wholeEquivalent: 0, perLayer: 0, fraction: 0, shards: 0, ids: [] })
  if (held.length === 0) return { value: null, detail: 'no layout: the strategy breaks the algebra' }
  const share = most.fraction === 1 ? '' : `1/${Math.round(1 / most.fraction)} of `
  return {
    value: most.wholeEquivalent,
    detail: `each GPU holds ${share}${most.perLayer} expert${most.perLayer === 1 ? '' : 's'} in each of its ${most.shards / Math.max(1, most.perLayer)} MoE layers: ${most.shards} expert shards, the parameters of ${most.wholeEquivalent} whole experts`,
  }
}

/** The `load_imbalance` claim's value for an MoE model: the busiest expert-parallel GPU over the mean in a decode step of `batch` sequences per data-parallel rank. */
export const routingImbalance = (model: Architecture, s: Strategy, batch: number): { readonly value: number; readonly detail: string } => {
  const moe = model.moe
  if (moe === undefined) return { value: 1, detail: 'a dense model routes nothing' }
  const groupTokens = (s.dp * batch) / expertDataParallel(s)
  const assignments = groupTokens * moe.topK
  const ratio = loadImbalance(assignments, s.ep)
  return {
    value: ratio,
    detail:
      s.ep === 1
        ? 'one expert-parallel rank holds every expert'
        : `experts are placed evenly (${moe.experts / s.ep} per GPU per layer), but in a decode step ${assignments} token-expert assignments land on ${s.ep} GPUs: under uniform random routing the busiest gets ${ratio.toFixed(2)}x the mean (balls into bins)`,
  }
}

/** Audits `plan` (see the module comment). */
export const checkPlan =
  (models: CostModels) =>
  (plan: Plan): Audit => {
    const { model, cluster, strategy: s, precision, workload } = plan
    const gpus = worldOf(s)
    const redundant = plan.redundantExperts ?? 0
    const validated = validate({ model, cluster, gpus, sequenceLength: Math.ceil(workload.inputTokens), redundantExperts: redundant })(s)
    const violations = E.isLeft(validated) ? validated.left : []
    const notes = E.isRight(validated) ? validated.right.notes : notesOf({ model, cluster, gpus })(s)
    const estimate = E.isRight(validated) ? estimateInference(models)({ model, cluster, strategy: s, precision, workload, redundantExperts: redundant }) : undefined
    const problem = problemOf(violations, estimate)
    const e = estimate !== undefined && E.isRight(estimate) ? estimate.right : null
    const laid = violations.length === 0 ? layout(cluster)(s) : undefined
    const classes = laid !== undefined && E.isRight(laid) ? placementClasses(model, s, laid.right, redundant) : []

    const computedOf = (metric: ClaimMetric): { readonly value: number | null; readonly detail: string } => {
      switch (metric) {
        case 'gpus_used':
          return { value: gpus, detail: `tp ${s.tp} x pp ${s.pp} x dp ${s.dp} x cp ${s.cp} = ${gpus} GPUs of the cluster's ${cluster.tiers.reduce((n, tier) => n * tier.fanout, 1)}` }
        case 'experts_per_gpu':
          return expertsHeld(model, classes)
        case 'weight_memory_per_gpu':
          return e === null ? { value: null, detail: problem ?? '' } : { value: e.memory.weights, detail: 'parameters of the fullest pipeline stage on one GPU, in the weights\' format' }
        case 'memory_per_gpu':
          return e === null
            ? { value: null, detail: problem ?? '' }
            : { value: e.memory.perGpu, detail: `weights + KV cache of ${e.batch} sequences + workspace + reserve on the fullest GPU` }
        case 'flops_per_gpu': {
          if (e === null) return { value: null, detail: problem ?? '' }
          const tokensPerSecond = (e.tokensPerSecond.total * (workload.inputTokens + workload.outputTokens)) / workload.outputTokens
          const perToken = forwardFlopsPerToken(workload.inputTokens + workload.outputTokens / 2)(model)
          return {
            value: (tokensPerSecond * perToken) / gpus,
            detail: `forward FLOPs of ${Math.round(tokensPerSecond)} prompt and output tokens/s over ${gpus} GPUs (${(perToken / 1e9).toFixed(3)} GFLOP per token)`,
          }
        }
        case 'output_tokens_per_s':
          return e === null ? { value: null, detail: problem ?? '' } : { value: e.tokensPerSecond.total, detail: `${e.mode} at batch ${e.batch} per data-parallel rank` }
        case 'output_tokens_per_s_per_gpu':
          return e === null ? { value: null, detail: problem ?? '' } : { value: e.tokensPerSecond.perGpu, detail: `${e.mode} at batch ${e.batch} per data-parallel rank` }
        case 'ttft':
          return e === null ? { value: null, detail: problem ?? '' } : { value: e.ttft, detail: `prefill of ${workload.inputTokens} tokens, batch ${e.batch}` }
        case 'tpot':
          return e === null ? { value: null, detail: problem ?? '' } : { value: e.tpot, detail: `decode step at batch ${e.batch} (${e.breakdown.decode.bottleneck})` }
        case 'request_latency':
          return e === null ? { value: null, detail: problem ?? '' } : { value: e.requestLatency, detail: `${workload.outputTokens} output tokens at batch ${e.batch}` }
        case 'load_imbalance':
          return model.moe === undefined ? { value: 1, detail: 'a dense model routes nothing' } : e === null ? { value: null, detail: problem ?? '' } : routingImbalance(model, s, e.batch)
      }
    }

    const claims = plan.claims.map((claim): ClaimVerdict => {
      const { value, detail } = computedOf(claim.metric)
      return {
        claim,
        computed: value,
        holds: value !== null && claimHolds(claim, claimMetrics[claim.metric], value),
        deviation: deviationOf(value, claim.value),
        detail,
      }
    })
    // the search chooses the batch: the plan's own batch is a choice of the plan, not of the workload
    const { batch: _planBatch, ...free } = workload
    const searched = planInference(models)({ model, cluster, precision, workload: free, top: 5 })
    return {
      plan,
      gpus,
      violations,
      notes,
      problem,
      estimate: e,
      claims,
      best: E.isRight(searched) ? searched.right : null,
      bestProblem: E.isLeft(searched) ? searched.left.message : null,
      joint: violations.length === 0 ? jointClaims(models)(plan) : null,
      passes: violations.length === 0 && problem === null && claims.every((c) => c.holds),
    }
  }
