/**
 * A training plan: a plan file (`meshplan-plan/1`) whose workload is a training step
 * (`kind: training`, the case format's fields), with claims about that step, and its
 * audit: the laws of the algebra it breaks, each claim as holds or not with the
 * computed value, and the best plans the training search finds for the same model,
 * cluster, global batch and sequence length.
 *
 *     workload: { kind: training, global_batch, micro_batch, seq_len, recompute?, zero_stage? }
 *     parallelism: { tp?, pp?, dp?, cp?, ep?, etp?, sequence_parallel?, virtual_pipeline?,
 *                    first_stage_layers?, last_stage_layers?, ... }
 *     claims?: [ { metric, quote?, equals? | about? | at_most? | at_least?, tolerance? } ]
 *
 * What each claim is compared with (@meshplan/training's estimate of the step):
 * - `gpus_used`: tp · pp · dp · cp.
 * - `step_time`: seconds of one optimizer step.
 * - `mfu`: model FLOPs utilization, a fraction (0.43 for 43%), with the attention a causal
 *   model computes; `mfu_full_attention` with attention over the whole sequence, as
 *   papers usually count it.
 * - `model_flops_per_gpu`: model FLOP/s per GPU (no recomputation counted).
 * - `tokens_per_s`, `tokens_per_s_per_gpu`: training tokens per second.
 * - `memory_per_gpu`: weights, gradients, optimizer state, activations and reserve on
 *   the fullest GPU.
 * - `pipeline_bubble`: the bubble over the rest of the step, a fraction.
 *
 * @example
 * import { defaultCostModels } from '@meshplan/cost-models'
 * import { checkTrainingPlan, decodeTrainingPlan } from '@meshplan/planner'
 * const audit = await checkTrainingPlan(defaultCostModels)(plan)
 * audit.claims.filter((c) => !c.holds)
 */
import * as E from 'fp-ts/Either'
import { validate, worldOf, type Violation } from '@meshplan/parallelism'
import type { DecodeIssue } from '@meshplan/units'
import type { CostModels } from '@meshplan/cost-models'
import { decodeTrainingWorkload, estimateTraining, planTraining, type TrainingEstimate, type TrainingPlan as TrainingSearchResult, type TrainingWorkload } from '@meshplan/training'
import { claimHolds, deviationOf, problemOf } from './check'
import { decodeClaimOf, decodePlanWith, type ClaimOf, type PlanOf } from './plan-file'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What a training claim can be about, and the kind of value it takes (see the module comment). */
export const trainingClaimMetrics = {
  gpus_used: 'count',
  step_time: 'seconds',
  mfu: 'number',
  mfu_full_attention: 'number',
  model_flops_per_gpu: 'flopRate',
  tokens_per_s: 'number',
  tokens_per_s_per_gpu: 'number',
  memory_per_gpu: 'bytes',
  pipeline_bubble: 'number',
} as const
export type TrainingClaimMetric = keyof typeof trainingClaimMetrics
export type TrainingClaim = ClaimOf<TrainingClaimMetric>

/** A decoded training plan. */
export type TrainingPlanFile = PlanOf<TrainingWorkload, TrainingClaim>

export interface TrainingClaimVerdict {
  readonly claim: TrainingClaim
  /** The computed value in the metric's base unit, or null when the plan cannot be estimated. */
  readonly computed: number | null
  readonly holds: boolean
  readonly deviation: number | null
  readonly detail: string
}

export interface TrainingAudit {
  readonly plan: TrainingPlanFile
  readonly gpus: number
  readonly violations: ReadonlyArray<Violation>
  /** Why the plan could not be estimated (it breaks a law, or its workload does not fit the strategy), if so. */
  readonly problem: string | null
  readonly estimate: TrainingEstimate | null
  readonly claims: ReadonlyArray<TrainingClaimVerdict>
  /** The training search for the same model, cluster, global batch and sequence length, or null when it was refused. */
  readonly best: TrainingSearchResult | null
  readonly bestProblem: string | null
  /** Every claim holds, the plan breaks no law, and it fits in memory. */
  readonly passes: boolean
}

// -------------------------------------------------------------------------------------
// decoding
// -------------------------------------------------------------------------------------

const decodeTrainingClaim = decodeClaimOf(trainingClaimMetrics)

/** The `field` of `u` when `u` is an object, else undefined. */
const fieldOf = (u: unknown, field: string): unknown => (typeof u === 'object' && u !== null ? (u as Record<string, unknown>)[field] : undefined)

/** Whether a parsed plan document describes a training step (its workload's `kind` is `training`). */
export const isTrainingPlanDocument = (u: unknown): boolean => fieldOf(fieldOf(u, 'workload'), 'kind') === 'training'

/** A training workload, when the document says it is one (a serving plan's workload has no `kind`, or `inference`). */
const decodeTrainingStep = (u: unknown, path: string): E.Either<ReadonlyArray<DecodeIssue>, TrainingWorkload> => {
  const kind = fieldOf(u, 'kind')
  return kind === 'training' ? decodeTrainingWorkload(u, path) : E.left([{ path: `${path}.kind`, value: kind, expected: '"training" (a training plan says so in its workload)' }])
}

/** Decodes a parsed training plan document (`root` names it in errors, default `plan`). */
export const decodeTrainingPlan = (u: unknown, root = 'plan'): E.Either<ReadonlyArray<DecodeIssue>, TrainingPlanFile> =>
  E.chain((plan: TrainingPlanFile) =>
    plan.pools !== undefined
      ? E.left<ReadonlyArray<DecodeIssue>>([{ path: `${root}.pools`, value: 'pools', expected: 'no pools: prefill and decode pools are a serving deployment; a training plan gives one parallelism' }])
      : plan.redundantExperts !== undefined
        ? E.left<ReadonlyArray<DecodeIssue>>([{ path: `${root}.parallelism.redundant_experts`, value: plan.redundantExperts, expected: 'none: redundant expert replicas in training are not modelled yet (serving plans honour them)' }])
        : E.right(plan),
  )(decodePlanWith(u, root, decodeTrainingStep, decodeTrainingClaim))

// -------------------------------------------------------------------------------------
// audit
// -------------------------------------------------------------------------------------

const valueOf = (e: TrainingEstimate, metric: TrainingClaimMetric): { readonly value: number; readonly detail: string } => {
  const step = `${e.description}, ${e.microBatches} micro-batches of ${e.workload.microBatch}, ${e.workload.recompute} recomputation, ZeRO ${e.workload.zeroStage}`
  switch (metric) {
    case 'gpus_used':
      return { value: e.gpus, detail: `tp ${e.strategy.tp} x pp ${e.strategy.pp} x dp ${e.strategy.dp} x cp ${e.strategy.cp} = ${e.gpus} GPUs` }
    case 'step_time':
      return { value: e.iterationSeconds, detail: `one optimizer step: ${step}` }
    case 'mfu':
      return { value: e.mfu, detail: `model FLOPs (the attention a causal model computes, no recomputation) over the peak: ${step}` }
    case 'mfu_full_attention':
      return { value: e.mfuFullAttention, detail: `model FLOPs with attention over the whole sequence, as papers count them: ${step}` }
    case 'model_flops_per_gpu':
      return { value: e.modelFlopsPerGpu, detail: `model FLOP/s per GPU (no recomputation counted): ${step}` }
    case 'tokens_per_s':
      return { value: e.tokensPerSecond, detail: `${e.workload.globalBatch} sequences of ${e.workload.sequenceLength} tokens per step` }
    case 'tokens_per_s_per_gpu':
      return { value: e.tokensPerSecondPerGpu, detail: `${e.workload.globalBatch} sequences of ${e.workload.sequenceLength} tokens per step over ${e.gpus} GPUs` }
    case 'memory_per_gpu':
      return { value: e.memory.peak, detail: `weights, gradients, optimizer state, activations and reserve on the fullest GPU (capacity ${e.memory.capacity} bytes)` }
    case 'pipeline_bubble':
      return { value: e.bubbleFraction, detail: `the pipeline's fill and drain over the rest of the step (${e.microBatches} micro-batches, pp ${e.strategy.pp}, ${e.strategy.virtualStages} virtual stages)` }
  }
}

/** Audits a training plan (see the module comment); the search for alternatives runs on one thread. */
export const checkTrainingPlan =
  (models: CostModels) =>
  async (plan: TrainingPlanFile): Promise<TrainingAudit> => {
    const { model, cluster, strategy: s, precision, workload } = plan
    const gpus = worldOf(s)
    const validated = validate({ model, cluster, gpus, sequenceLength: workload.sequenceLength })(s)
    const violations = E.isLeft(validated) ? validated.left : []
    const estimate = violations.length === 0 ? estimateTraining(models)({ model, cluster, strategy: s, precision, workload }) : undefined
    const problem = problemOf(violations, estimate)
    const e = estimate !== undefined && E.isRight(estimate) ? estimate.right : null
    const claims = plan.claims.map((claim): TrainingClaimVerdict => {
      if (e === null) return { claim, computed: null, holds: false, deviation: null, detail: problem ?? '' }
      const { value, detail } = valueOf(e, claim.metric)
      return { claim, computed: value, holds: claimHolds(claim, trainingClaimMetrics[claim.metric], value), deviation: deviationOf(value, claim.value), detail }
    })
    const searched = await planTraining(models)(
      { model, cluster, precision, globalBatch: workload.globalBatch, sequenceLength: workload.sequenceLength, gpus, ...(workload.gradientReduce === undefined ? {} : { gradientReduce: workload.gradientReduce }) },
      {},
      { top: 5, workers: 1 },
    )
    return {
      plan,
      gpus,
      violations,
      problem,
      estimate: e,
      claims,
      best: E.isRight(searched) ? searched.right : null,
      bestProblem: E.isLeft(searched) ? searched.left.message : null,
      passes: violations.length === 0 && problem === null && e !== null && e.memory.fits && claims.every((c) => c.holds),
    }
  }
