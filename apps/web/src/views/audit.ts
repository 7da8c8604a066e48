/**
 * The audit of a pasted plan file (@meshplan/planner's `checkPlan`, or
 * `checkTrainingPlan` for a training plan): the laws of the algebra, the estimate of the
 * plan as written, each claim with its verdict (holds or not, the computed value, how
 * far off, the claim's own words and how the value was computed), the best
 * alternative the planner finds, and the verdict, as `meshplan check` reports them.
 */
import { claimMetrics, trainingClaimMetrics, type Audit, type MetricKind, type TrainingAudit } from '@meshplan/planner'
import { figure, h, row, table } from '../dom'
import { bytesText, count, rate, secondsText, share, verdictText, type VerdictOf } from '../format'
import { estimateFigures } from './estimate'
import { trainingPlanView } from './training'

interface Verdict extends VerdictOf {
  readonly claim: VerdictOf['claim'] & { readonly quote?: string }
  readonly detail: string
}

const claimsTable = (claims: ReadonlyArray<Verdict>, kindOf: (metric: string) => MetricKind): HTMLElement => {
  const held = claims.filter((c) => c.holds).length
  return h(
    'div',
    { class: 'claims' },
    h('h4', { 'data-testid': 'audit-claims-summary' }, `claims: ${held} of ${claims.length} hold`),
    table(
      'audit-claims',
      ['verdict', 'claim', 'computed', 'in the plan\'s words', 'how it is computed'],
      claims.map((v) => {
        const text = verdictText(kindOf(v.claim.metric), v)
        return row(
          {
            class: v.holds ? 'holds' : 'fails',
            'data-metric': v.claim.metric,
            'data-holds': String(v.holds),
            'data-computed': v.computed === null ? undefined : String(v.computed),
            'data-line': `${text.claimed}: ${text.computed}`,
          },
          [h('span', { class: v.holds ? 'verdict good' : 'verdict bad' }, v.holds ? 'holds' : 'does not hold'), text.claimed, text.computed, v.claim.quote === undefined ? '' : `“${v.claim.quote}”`, v.detail],
        )
      }),
    ),
  )
}

const lawsOf = (violations: Audit['violations'], notes: Audit['notes'], problem: string | null): ReadonlyArray<HTMLElement> => [
  h('p', { 'data-testid': 'audit-laws', class: violations.length === 0 ? 'good' : 'bad' }, violations.length === 0 ? 'algebra: every law holds' : `algebra: ${violations.length} law${violations.length === 1 ? '' : 's'} broken`),
  ...(violations.length + notes.length === 0
    ? []
    : [h('ul', { class: 'laws' }, ...violations.map((v) => h('li', {}, `${v.code}: ${v.message} (${v.suggestion})`)), ...notes.map((n) => h('li', {}, `note (${n.severity}): ${n.message}`)))]),
  ...(problem === null ? [] : [h('p', { class: 'bad', 'data-testid': 'audit-problem' }, `cannot be estimated: ${problem}`)]),
]

const verdictOf = (passes: boolean): HTMLElement =>
  h('p', { class: `verdict-line ${passes ? 'good' : 'bad'}`, 'data-testid': 'audit-verdict', 'data-passes': String(passes) }, passes ? 'verdict: the plan holds up' : 'verdict: the plan does not hold up as written')

/** The audit of a serving plan. */
export const auditView = (a: Audit): HTMLElement => {
  const w = a.plan.workload
  const s = a.plan.strategy
  const best = a.best?.top[0]
  const mine = a.estimate?.tokensPerSecond.perGpu
  return h(
    'div',
    { class: 'audit', 'data-testid': 'audit' },
    h('h3', { 'data-testid': 'audit-title' }, `audit of ${a.plan.name}${a.plan.source === undefined ? '' : ` (${a.plan.source})`}`),
    h('p', {}, `${a.plan.model.name}, strategy tp ${s.tp} x pp ${s.pp} x dp ${s.dp} x cp ${s.cp} (ep ${s.ep}, etp ${s.etp}) = ${a.gpus} GPUs`),
    h('p', {}, `workload: ${w.mode}, ${w.inputTokens} prompt + ${w.outputTokens} output tokens${w.batch === undefined ? '' : `, batch ${w.batch}`}`),
    verdictOf(a.passes),
    ...lawsOf(a.violations, a.notes, a.problem),
    a.estimate === null ? null : [h('h4', {}, 'estimate of the plan as written'), estimateFigures(a.estimate, 'audit', w)],
    claimsTable(a.claims, (m) => claimMetrics[m as keyof typeof claimMetrics]),
    a.bestProblem === null ? null : h('p', { class: 'note' }, `no search for a better strategy: ${a.bestProblem}`),
    best === undefined
      ? null
      : h(
          'p',
          { 'data-testid': 'audit-best', 'data-description': best.description, 'data-per-gpu': String(best.tokensPerSecond.perGpu) },
          `best strategy the planner finds for the same model, cluster and workload: ${best.description}, batch ${best.batch}: ${rate(best.tokensPerSecond.perGpu)} output tokens/s per GPU${mine === undefined || mine <= 0 ? '' : ` (${(best.tokensPerSecond.perGpu / mine).toFixed(2)}x the plan's per-GPU throughput)`}, ${count(best.tokensPerSecond.total)} in total, TTFT ${secondsText(best.ttft)}, TPOT ${secondsText(best.tpot)}, ${bytesText(best.memory.perGpu)} per GPU`,
        ),
  )
}

/** The audit of a training plan. */
export const trainingAuditView = (a: TrainingAudit): HTMLElement => {
  const w = a.plan.workload
  const s = a.plan.strategy
  const e = a.estimate
  return h(
    'div',
    { class: 'audit', 'data-testid': 'audit' },
    h('h3', { 'data-testid': 'audit-title' }, `audit of ${a.plan.name}${a.plan.source === undefined ? '' : ` (${a.plan.source})`}`),
    h('p', {}, `${a.plan.model.name}, training: tp ${s.tp} x pp ${s.pp} x dp ${s.dp} x cp ${s.cp} = ${a.gpus} GPUs; ${w.globalBatch} sequences of ${w.sequenceLength} tokens in micro-batches of ${w.microBatch}, ${w.recompute} recomputation, ZeRO ${w.zeroStage}`),
    verdictOf(a.passes),
    ...lawsOf(a.violations, [], a.problem),
    e === null
      ? null
      : [
          h('h4', {}, 'estimate of the plan as written'),
          h(
            'div',
            { class: 'figures' },
            figure('audit-iteration', 'iteration time', secondsText(e.iterationSeconds), e.iterationSeconds),
            figure('audit-tokens-per-gpu', 'tokens/s per GPU', count(e.tokensPerSecondPerGpu), e.tokensPerSecondPerGpu),
            figure('audit-mfu', 'MFU', share(e.mfu), e.mfu),
            figure('audit-bubble', 'pipeline bubble', share(e.bubbleFraction), e.bubbleFraction),
            figure('audit-memory', 'memory, fullest GPU', `${bytesText(e.memory.peak)} of ${bytesText(e.memory.capacity)}${e.memory.fits ? '' : ' (does not fit)'}`, e.memory.peak),
          ),
        ],
    claimsTable(a.claims, (m) => trainingClaimMetrics[m as keyof typeof trainingClaimMetrics]),
    a.bestProblem === null ? null : h('p', { class: 'note' }, `no search for a better plan: ${a.bestProblem}`),
    a.best === null ? null : [h('h4', {}, 'the best plans the search finds for the same model, cluster, global batch and sequence length'), trainingPlanView(a.best, a.plan.model.name, 'audit-training-table')],
  )
}
