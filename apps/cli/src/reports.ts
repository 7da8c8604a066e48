/**
 * Text renderings of the planner's answers (estimate, search, audit, case report) and
 * the values of their JSON forms (`json.ts` names their schema and writes their keys in
 * snake_case). Numbers are in base units: seconds, bytes, tokens/s, FLOP/s.
 */
import { groups } from '@meshplan/compute'
import { encodeStrategy } from '@meshplan/parallelism'
import type { InferenceEstimate, PlanResult, Speculative } from '@meshplan/inference'
import {
  claimMetrics,
  planColumns,
  planRows,
  rankingText,
  searchSummaryText,
  verdictText,
  type Audit,
  type CaseReport,
  type ClaimOf,
  type ClaimVerdict,
  type ErrorStats,
  type LeaveOneSourceOut,
  type MetricKind,
} from '@meshplan/planner'
import { bytesText, count, percent, rate, secondsText } from '@meshplan/units'
import { table } from './table'

// -------------------------------------------------------------------------------------
// estimate
// -------------------------------------------------------------------------------------

/** The JSON of an estimate (schema `meshplan/estimate`, also the elements of `plan`'s `top`). */
export const estimateJson = (e: InferenceEstimate) => ({
  strategy: encodeStrategy(e.strategy),
  description: e.description,
  gpus: e.gpus,
  mode: e.mode,
  batch: e.batch,
  ttftSeconds: e.ttft,
  tpotSeconds: e.tpot,
  requestLatencySeconds: e.requestLatency,
  outputTokensPerSecond: e.tokensPerSecond.total,
  outputTokensPerSecondPerGpu: e.tokensPerSecond.perGpu,
  outputTokensPerSecondPerUser: e.tokensPerSecond.perUser,
  memory: {
    perGpuBytes: e.memory.perGpu,
    capacityBytes: e.memory.capacity,
    weightsBytes: e.memory.weights,
    kvCacheBytes: e.memory.kvCache,
    workspaceBytes: e.memory.workspace,
    reserveBytes: e.memory.reserve,
    maxBatch: e.memory.maxBatch,
    fits: e.memory.fits,
  },
  breakdown: e.breakdown,
})

const breakdownRows = (e: InferenceEstimate): ReadonlyArray<ReadonlyArray<string>> =>
  (['prefill', 'decode'] as const).map((phase) => {
    const b = e.breakdown[phase]
    const comm = b.communication
    return [
      phase,
      secondsText(b.seconds),
      ...groups.map((g) => (b.compute[g] > 0 ? secondsText(b.compute[g]) : '-')),
      `${secondsText(b.exposedCommunication)} (tp ${secondsText(comm.tp)}, ep ${secondsText(comm.ep)}, pp ${secondsText(comm.pp)}, cp ${secondsText(comm.cp)})`,
      b.bottleneck,
    ]
  })

/** An estimate as text: figures, memory, and where a step's time goes. */
export const renderEstimate = (e: InferenceEstimate, workload: { readonly inputTokens: number; readonly outputTokens: number; readonly speculative?: Speculative }): string =>
  [
    `${e.description} on ${e.gpus} GPUs: ${e.mode}, ${workload.inputTokens} prompt + ${workload.outputTokens} output tokens, batch ${e.batch} per data-parallel rank`,
    ...(workload.speculative === undefined ? [] : [speculativeLine(workload.speculative, e)]),
    `  TTFT ${secondsText(e.ttft)}   TPOT ${secondsText(e.tpot)}   request ${secondsText(e.requestLatency)}`,
    `  output tokens/s: ${count(e.tokensPerSecond.total)} in total, ${rate(e.tokensPerSecond.perGpu)} per GPU, ${rate(e.tokensPerSecond.perUser)} per user`,
    `  memory per GPU: ${bytesText(e.memory.perGpu)} of ${bytesText(e.memory.capacity)} (weights ${bytesText(e.memory.weights)}, KV cache ${bytesText(e.memory.kvCache)}, workspace ${bytesText(e.memory.workspace)}, reserve ${bytesText(e.memory.reserve)}); at most ${count(e.memory.maxBatch)} sequences per data-parallel rank fit`,
    '',
    '  where a step of the slowest pipeline stage goes (one micro-batch):',
    table(['  phase', 'step', ...groups, 'exposed communication', 'bound by'], breakdownRows(e).map(([first, ...rest]) => [`  ${first ?? ''}`, ...rest])),
  ].join('\n')

/** What speculative decoding does to the step, in words. */
const speculativeLine = (spec: Speculative, e: InferenceEstimate): string => {
  const draft = e.breakdown.decode.draft
  const drafter = spec.method === 'ngram' ? 'n-gram lookup on the host' : `${spec.method === 'mtp' ? 'the MTP module' : 'the EAGLE head'}, ${secondsText(draft)} of the step`
  return `  speculative decoding (${spec.method}): ${spec.draftTokens} drafted tokens verified with one more per sequence in each step, ${spec.acceptanceLength} produced per step on average; the draft: ${drafter}`
}

// -------------------------------------------------------------------------------------
// plan
// -------------------------------------------------------------------------------------

/** Why the first rows may not suit an interactive service, when no objective narrowed the search. */
const unconstrainedNote = (r: PlanResult): string | null =>
  r.rankedBy === 'tokens_per_second_per_gpu'
    ? 'no objectives were given: the ranking favours the largest batches that fit, whose TTFT and TPOT can be long; give --max-ttft and --max-tpot (e.g. 2s, 50ms) for an interactive service'
    : null

/** The JSON of a search (schema `meshplan/plan`). */
export const planJson = (r: PlanResult, objectives: boolean) => ({
  rankedBy: r.rankedBy,
  note: objectives ? null : unconstrainedNote(r),
  gpuCounts: r.gpuCounts,
  strategies: r.strategies,
  candidates: r.candidates,
  feasible: r.feasible,
  rejected: r.rejected,
  top: r.top.map(estimateJson),
  pareto: r.pareto.map((p) => ({ ...p, strategy: encodeStrategy(p.strategy) })),
})

/** The search as text: counts, the ranked strategies, the Pareto front. */
export const renderPlan = (r: PlanResult, seconds: number | undefined, objectives: boolean): string => {
  const lines = [searchSummaryText(r, seconds)]
  if (r.top.length === 0) return [...lines, 'no strategy meets the objectives'].join('\n')
  const note = objectives ? null : unconstrainedNote(r)
  lines.push(
    '',
    `best strategies by ${rankingText[r.rankedBy]}:`,
    ...(note === null ? [] : [`(${note})`]),
    table(
      planColumns.map((c, i) => (i === 0 ? `  ${c}` : c)),
      planRows(r).map(([n, ...rest]) => [`  ${n ?? ''}`, ...rest]),
    ),
    '',
    `Pareto front, tokens/s per GPU against tokens/s per user (${r.pareto.length} points${r.pareto.length > 12 ? ', 12 shown, evenly spaced' : ''}):`,
    table(
      ['  strategy', 'batch', 'tok/s/GPU', 'tok/s/user', 'TTFT', 'TPOT'],
      spaced(r.pareto, 12).map((p) => [`  ${p.description}`, String(p.batch), rate(p.tokensPerSecondPerGpu), rate(p.tokensPerSecondPerUser), secondsText(p.ttft), secondsText(p.tpot)]),
    ),
  )
  return lines.join('\n')
}

/** At most `n` elements of `xs`, evenly spaced, first and last included. */
const spaced = <A>(xs: ReadonlyArray<A>, n: number): ReadonlyArray<A> => {
  if (xs.length <= n) return xs
  const out: A[] = []
  for (let i = 0; i < n; i++) {
    const x = xs[Math.round((i * (xs.length - 1)) / (n - 1))]
    if (x !== undefined) out.push(x)
  }
  return out
}

// -------------------------------------------------------------------------------------
// check
// -------------------------------------------------------------------------------------

/** One claim's verdict as text, its values formatted as `kindOf` its metric says (the words are @meshplan/planner's `verdictText`). */
export const verdictLineOf = <M extends string>(kindOf: (metric: M) => MetricKind) => (v: { readonly claim: ClaimOf<M>; readonly computed: number | null; readonly holds: boolean; readonly deviation: number | null; readonly detail: string }): string => {
  const { claimed, computed } = verdictText(kindOf(v.claim.metric), v)
  return [
    `  ${v.holds ? 'holds        ' : 'does not hold'}  ${claimed}: ${computed}`,
    ...(v.claim.quote === undefined ? [] : [`                 "${v.claim.quote}"`]),
    `                 ${v.detail}`,
  ].join('\n')
}

const verdictLine = (v: ClaimVerdict): string => verdictLineOf((m: keyof typeof claimMetrics) => claimMetrics[m])(v)

/** A claim's verdict in an audit's JSON (serving or training). */
export const claimVerdictJson = (v: { readonly claim: ClaimOf<string>; readonly computed: number | null; readonly holds: boolean; readonly deviation: number | null; readonly detail: string }) => ({
  metric: v.claim.metric,
  comparator: v.claim.comparator,
  claimed: v.claim.value,
  tolerance: v.claim.comparator === 'about' ? v.claim.tolerance : null,
  quote: v.claim.quote ?? null,
  computed: v.computed,
  holds: v.holds,
  deviation: v.deviation,
  detail: v.detail,
})

/** The JSON of an audit (schema `meshplan/check`). */
export const auditJson = (a: Audit) => ({
  plan: { name: a.plan.name, source: a.plan.source ?? null, model: a.plan.model.name, strategy: encodeStrategy(a.plan.strategy), gpus: a.gpus },
  workload: a.plan.workload,
  passes: a.passes,
  violations: a.violations,
  notes: a.notes,
  problem: a.problem,
  estimate: a.estimate === null ? null : estimateJson(a.estimate),
  claims: a.claims.map(claimVerdictJson),
  best: a.best === null ? null : planJson(a.best, false),
  bestProblem: a.bestProblem,
})

/** The audit as text. */
export const renderAudit = (a: Audit): string => {
  const w = a.plan.workload
  const held = a.claims.filter((c) => c.holds).length
  const lines = [
    `audit of ${a.plan.name}${a.plan.source === undefined ? '' : ` (${a.plan.source})`}`,
    `  ${a.plan.model.name}, strategy tp ${a.plan.strategy.tp} x pp ${a.plan.strategy.pp} x dp ${a.plan.strategy.dp} x cp ${a.plan.strategy.cp} (ep ${a.plan.strategy.ep}, etp ${a.plan.strategy.etp}) = ${a.gpus} GPUs`,
    `  workload: ${w.mode}, ${w.inputTokens} prompt + ${w.outputTokens} output tokens${w.batch === undefined ? '' : `, batch ${w.batch}`}`,
    '',
    a.violations.length === 0 ? 'algebra: every law holds' : `algebra: ${a.violations.length} law${a.violations.length === 1 ? '' : 's'} broken`,
    ...a.violations.map((v) => `  ${v.code}: ${v.message} (${v.suggestion})`),
    ...a.notes.map((n) => `  note (${n.severity}): ${n.message}`),
  ]
  if (a.problem !== null) lines.push(`  cannot be estimated: ${a.problem}`)
  if (a.estimate !== null) lines.push('', 'estimate of the plan as written:', renderEstimate(a.estimate, w))
  lines.push('', `claims: ${held} of ${a.claims.length} hold`, ...a.claims.map(verdictLine))
  if (a.bestProblem !== null) lines.push('', `no search for a better strategy: ${a.bestProblem}`)
  const best = a.best?.top[0]
  if (best !== undefined) {
    const mine = a.estimate?.tokensPerSecond.perGpu
    const gain = mine === undefined || mine <= 0 ? '' : ` (${(best.tokensPerSecond.perGpu / mine).toFixed(2)}x the plan's per-GPU throughput)`
    lines.push(
      '',
      `best strategy the planner finds for the same model, cluster and workload: ${best.description}, batch ${best.batch}: ${rate(best.tokensPerSecond.perGpu)} output tokens/s per GPU${gain}, ${count(best.tokensPerSecond.total)} in total, TTFT ${secondsText(best.ttft)}, TPOT ${secondsText(best.tpot)}, ${bytesText(best.memory.perGpu)} per GPU`,
    )
  }
  lines.push('', a.passes ? 'verdict: the plan holds up' : 'verdict: the plan does not hold up as written')
  return lines.join('\n')
}

// -------------------------------------------------------------------------------------
// validate
// -------------------------------------------------------------------------------------

/** The JSON of a case report (schema `meshplan/validate`). */
export const validateJson = (r: CaseReport | LeaveOneSourceOut) =>
  ({
    method: 'fits' in r ? 'leave-one-source-out' : 'committed',
    // validation/FORMAT.md: a case that cannot be predicted has predicted null with a reason
    cases: r.cases.map((c) => (c.predicted === null ? { ...c, reason: c.note } : c)),
    summary: r.summary,
    ...('fits' in r ? { fits: r.fits } : {}),
  })

const statsText = (s: ErrorStats): string =>
  s.predicted === 0
    ? `${s.cases} cases, none predicted`
    : `median ${((s.median ?? 0) * 100).toFixed(1)}%, p90 ${((s.p90 ?? 0) * 100).toFixed(1)}%, mean ${((s.mean ?? 0) * 100).toFixed(1)}%, worst ${s.worst === null ? '-' : `${percent(s.worst.error)} (${s.worst.id})`} over ${s.predicted} of ${s.cases} cases`

/** The case report as text: one row per case, then the absolute errors per kind and per metric. */
export const renderCases = (r: CaseReport | LeaveOneSourceOut): string =>
  [
    table(
      ['id', 'metric', 'predicted', 'measured', 'error', 'note'],
      r.cases.map((c) => [c.id, c.metric, c.predicted === null ? '-' : Number(c.predicted.toPrecision(4)).toString(), String(c.measured), c.error === null ? '-' : percent(c.error), c.note]),
    ),
    '',
    ...('fits' in r
      ? [
          'each source predicted with the fitted constants refitted without its cases:',
          ...r.fits.map((f) => `  ${f.source} (${f.cases} cases): ${Object.entries(f.constants).map(([k, v]) => `${k} ${Number(v.toPrecision(3))}`).join(', ')}`),
          '',
        ]
      : []),
    `absolute error over all cases: ${statsText(r.summary.all)}`,
    ...(
      [
        ['kind', r.summary.byKind],
        ['metric', r.summary.byMetric],
        ['source', r.summary.bySource],
        ['hardware generation', r.summary.byGeneration],
        ['format', r.summary.byFormat],
        ['mode', r.summary.byMode],
      ] as const
    ).flatMap(([what, groups]) => [`absolute error per ${what}:`, ...Object.entries(groups).map(([k, s]) => `  ${k}: ${statsText(s as ErrorStats)}`)]),
  ].join('\n')
