/**
 * Text renderings of the planner's answers (estimate, search, audit, case report) and
 * the values of their JSON forms (`json.ts` names their schema and writes their keys in
 * snake_case). Numbers are in base units: seconds, bytes, tokens/s, FLOP/s.
 */
import { groups } from '@meshplan/compute'
import { describe as describeStrategy, encodeStrategy, worldOf } from '@meshplan/parallelism'
import { paretoFront, type DisaggregatedCandidate, type DisaggregatedEstimate, type DisaggregatedPlan, type InferenceEstimate, type PlanResult, type Speculative } from '@meshplan/inference'
import {
  claimMetrics,
  planColumns,
  planRows,
  rankingText,
  searchSummaryText,
  verdictText,
  type Audit,
  type CalibrationRun,
  type Capacity,
  type DisaggregatedCapacity,
  type CaseReport,
  type ClaimOf,
  type ClaimVerdict,
  type DisaggregatedAudit,
  type ErrorStats,
  type LeaveOneSourceOut,
  type MetricKind,
  type FigureInterval,
  type JointClaims,
  type OperatingPoint,
  type PlanPools,
  type PoolCheck,
  type ServingCost,
  type Sensitivity,
  type ServingFigure,
  type Trust,
} from '@meshplan/planner'
import { bytesText, count, percent, rate, rateRangeText, secondsRangeText, secondsText } from '@meshplan/units'
import { table } from './table'

// -------------------------------------------------------------------------------------
// estimate
// -------------------------------------------------------------------------------------

/** The JSON field each serving figure is printed as. */
const servingFields: Readonly<Record<ServingFigure, string>> = {
  ttft: 'ttftSeconds',
  tpot: 'tpotSeconds',
  requestLatency: 'requestLatencySeconds',
  tokensPerSecond: 'outputTokensPerSecond',
  tokensPerSecondPerGpu: 'outputTokensPerSecondPerGpu',
  tokensPerSecondPerUser: 'outputTokensPerSecondPerUser',
}

/** `record` with its keys renamed by `fields`. */
const renamed = <F extends string>(record: Readonly<Partial<Record<F, unknown>>>, fields: Readonly<Record<F, string>>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(record).map(([k, v]) => [fields[k as F] ?? k, v]))

/**
 * The intervals and sensitivities of an estimate as JSON: each interval under its figure's
 * field name, each sensitivity's relative changes too.
 */
export const trustJson = <F extends string>(t: Trust<F>, fields: Readonly<Record<F, string>>) => ({
  intervals: renamed(t.intervals, fields),
  sensitivities: t.sensitivities.map((s: Sensitivity<F>) => ({ parameter: s.parameter, description: s.description, value: s.value, minus: renamed(s.minus, fields), plus: renamed(s.plus, fields) })),
})

/** A serving estimate's intervals and sensitivities as JSON. */
export const servingTrustJson = (t: Trust<ServingFigure>) => trustJson(t, servingFields)

/** `value` in seconds with its interval when there is one. */
const secondsWith = (value: number, i: FigureInterval | undefined): string => (i === undefined ? secondsText(value) : secondsRangeText(value, i.low, i.high))

/** A rate with its interval when there is one. */
const rateWith = (value: number, i: FigureInterval | undefined): string => (i === undefined ? rate(value) : rateRangeText(value, i.low, i.high))

/**
 * What the intervals rest on and what the estimate is most sensitive to, as lines: the
 * coverage and the cases alike for each distinct basis, then the top parameters with
 * the change of the figure they move most.
 */
export const trustLines = <F extends string>(t: Trust<F>, names: Readonly<Record<F, string>>): ReadonlyArray<string> => {
  const bases = [...new Map(Object.values<FigureInterval | undefined>(t.intervals).flatMap((i) => (i === undefined ? [] : [[`${i.alike}|${i.cases}`, i] as const]))).values()]
  const coverage = bases[0]?.coverage
  const most = (s: Sensitivity<F>): F => (Object.keys(s.minus) as F[]).reduce((a, b) => (Math.abs(s.minus[b]) + Math.abs(s.plus[b]) > Math.abs(s.minus[a]) + Math.abs(s.plus[a]) ? b : a))
  return [
    ...(bases.length === 0
      ? []
      : [
          `  in brackets: where ${Math.round((coverage ?? 0.8) * 100)}% of the measurements of the calibration cases most like this one fell, leave-one-source-out (docs/accuracy.md):`,
          ...bases.map((i) => `    ${i.alike} (${i.cases} cases)${i.widened ? `: ${i.note}` : ''}`),
        ]),
    ...(t.sensitivities.length === 0
      ? []
      : [
          '  most sensitive to (each moved by -10% and +10%):',
          ...t.sensitivities.map((s) => {
            const f = most(s)
            return `    ${s.parameter} = ${Number(s.value.toPrecision(3))}, ${s.description}: ${names[f]} ${percent(s.minus[f])} / ${percent(s.plus[f])}`
          }),
        ]),
  ]
}

const servingNames: Readonly<Record<ServingFigure, string>> = {
  ttft: 'TTFT',
  tpot: 'TPOT',
  requestLatency: 'request latency',
  tokensPerSecond: 'tokens/s',
  tokensPerSecondPerGpu: 'tokens/s per GPU',
  tokensPerSecondPerUser: 'tokens/s per user',
}

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
      b.host > 0 ? secondsText(b.host) : '-',
      b.bottleneck,
    ]
  })

/** An estimate as text: figures, memory, and where a step's time goes. */
export const renderEstimate = (
  e: InferenceEstimate,
  workload: { readonly inputTokens: number; readonly outputTokens: number; readonly speculative?: Speculative },
  trust: Trust<ServingFigure> = { intervals: {}, sensitivities: [] },
): string =>
  [
    `${e.description} on ${e.gpus} GPUs: ${e.mode}, ${workload.inputTokens} prompt + ${workload.outputTokens} output tokens, batch ${e.batch} per data-parallel rank`,
    ...(workload.speculative === undefined ? [] : [speculativeLine(workload.speculative, e)]),
    `  TTFT ${secondsWith(e.ttft, trust.intervals.ttft)}   TPOT ${secondsWith(e.tpot, trust.intervals.tpot)}   request ${secondsWith(e.requestLatency, trust.intervals.requestLatency)}`,
    `  output tokens/s: ${trust.intervals.tokensPerSecond === undefined ? count(e.tokensPerSecond.total) : rateRangeText(e.tokensPerSecond.total, trust.intervals.tokensPerSecond.low, trust.intervals.tokensPerSecond.high)} in total, ${rateWith(e.tokensPerSecond.perGpu, trust.intervals.tokensPerSecondPerGpu)} per GPU, ${rateWith(e.tokensPerSecond.perUser, trust.intervals.tokensPerSecondPerUser)} per user`,
    ...trustLines(trust, servingNames),
    `  memory per GPU: ${bytesText(e.memory.perGpu)} of ${bytesText(e.memory.capacity)} (weights ${bytesText(e.memory.weights)}, KV cache ${bytesText(e.memory.kvCache)}, workspace ${bytesText(e.memory.workspace)}, reserve ${bytesText(e.memory.reserve)}); at most ${count(e.memory.maxBatch)} sequences per data-parallel rank fit`,
    '',
    '  where a step of the slowest pipeline stage goes (one micro-batch):',
    table(['  phase', 'step', ...groups, 'exposed communication', 'host', 'bound by'], breakdownRows(e).map(([first, ...rest]) => [`  ${first ?? ''}`, ...rest])),
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
  joint: a.joint,
})

/** An operating point in a few words: the strategy, mode and batch, and the figures the claims read. */
const pointText = (p: OperatingPoint): string =>
  `${p.description} on ${p.gpus} GPUs, ${p.mode} at batch ${p.batch}: ${count(p.outputTokensPerSecond)} output tokens/s, TTFT ${secondsText(p.ttft)}, TPOT ${secondsText(p.tpot)}`

/** The claims judged together, as lines (none when the plan makes no throughput and latency claims both). */
export const jointLines = (j: JointClaims | null, tried = 'static batches and continuous batching, 1 to the most that fit'): ReadonlyArray<string> => {
  if (j === null) return []
  const names = j.metrics.join(', ')
  if (j.together && j.point !== null) return ['', `claims together (${names}): all hold at once at ${pointText(j.point)} (of ${j.points} operating points of the plan tried)`]
  return [
    '',
    `claims together (${names}): at no operating point of the plan as written (${j.points} tried: ${tried}) do they all hold at once`,
    `  best throughput meeting the latency claims: ${j.bestThroughputMeetingLatency === null ? `none meets them; the lowest latency it reaches: ${j.lowestLatency === null ? 'none' : pointText(j.lowestLatency)}` : pointText(j.bestThroughputMeetingLatency)}`,
    `  best latency meeting the throughput claims: ${j.bestLatencyMeetingThroughput === null ? 'none: no point meets them' : pointText(j.bestLatencyMeetingThroughput)}`,
    `  the smallest deployment on this cluster that makes every one hold: ${j.smallest === null ? (j.smallestProblem ?? 'none') : pointText(j.smallest)}`,
  ]
}

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
  lines.push('', `claims: ${held} of ${a.claims.length} hold`, ...a.claims.map(verdictLine), ...jointLines(a.joint))
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

// -------------------------------------------------------------------------------------
// calibrate
// -------------------------------------------------------------------------------------

/** The calibration file a run writes (meshplan-calibration/1): the fitted values, and what they were fitted on. */
export const calibrationFileJson = (r: CalibrationRun) => ({
  format: 'meshplan-calibration/1',
  parameters: r.calibration.parameters,
  fitted_on: { cases: r.cases, sources: r.sources },
  cross_validated: { defaults: r.loss.beforeCrossValidated, calibration: r.loss.afterCrossValidated, measure: 'mean min(|ln(predicted/measured)|, 0.5)' },
})

/** The JSON of a calibration run (schema `meshplan/calibrate`). */
export const calibrateJson = (r: CalibrationRun) => ({
  accepted: r.accepted,
  reason: r.reason,
  cases: r.cases,
  sources: r.sources,
  folds: r.folds,
  parameters: r.fitted,
  loss: r.loss,
  seenByDefaults: r.seenByDefaults,
  groups: r.groups,
  calibration: calibrationFileJson(r),
})

const pctOrDash = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(1)}%`)

/** A calibration run as text: the parameters, then the errors before and after per kind and metric. */
export const renderCalibration = (r: CalibrationRun): string =>
  [
    `calibrated on ${count(r.cases)} cases from ${r.sources.length} sources; cross-validated over ${r.folds} folds${r.sources.length < 2 ? ' by case' : ' by source'}`,
    '',
    table(
      ['parameter', 'default', 'calibrated', 'what it is'],
      r.fitted.map((p) => [p.name, String(Number(p.default.toPrecision(4))), p.value === p.default ? '(default)' : String(Number(p.value.toPrecision(4))), p.description]),
    ),
    '',
    'median absolute error: the defaults, then the calibration (in-sample, cross-validated)',
    table(
      ['kind', 'metric', 'cases', 'defaults', 'defaults (cross-validated)', 'calibrated', 'calibrated (cross-validated)'],
      r.groups.map((g) => [g.kind, g.metric, String(g.cases), pctOrDash(g.beforeInSample), pctOrDash(g.beforeCrossValidated), pctOrDash(g.afterInSample), pctOrDash(g.afterCrossValidated)]),
    ),
    ...(r.seenByDefaults > 0 ? ['', `(${r.seenByDefaults} of the cases are in the calibration file the defaults were fitted on: their cross-validated errors are the defaults' leave-one-source-out ones)`] : []),
  ].join('\n')

// -------------------------------------------------------------------------------------
// disaggregated
// -------------------------------------------------------------------------------------

/** The JSON of a disaggregated estimate (schema `meshplan/estimate-disaggregated`). */
export const disaggregatedJson = (e: DisaggregatedEstimate, pools: PlanPools) => ({
  gpus: e.gpus,
  limitedBy: e.limitedBy,
  ttftSeconds: e.ttft,
  tpotSeconds: e.tpot,
  requestLatencySeconds: e.requestLatency,
  requestsPerSecond: e.requestsPerSecond,
  outputTokensPerSecond: e.tokensPerSecond.total,
  outputTokensPerSecondPerGpu: e.tokensPerSecond.perGpu,
  outputTokensPerSecondPerUser: e.tokensPerSecond.perUser,
  inputTokensPerSecond: e.inputTokensPerSecond,
  prefill: { ...e.prefill, strategy: encodeStrategy(pools.prefill.strategy), cluster: pools.prefill.cluster.name },
  decode: { ...e.decode, strategy: encodeStrategy(pools.decode.strategy), cluster: pools.decode.cluster.name },
  transfer: { bytesPerRequest: e.transfer.bytesPerRequest, seconds: e.transfer.seconds },
})

/** A disaggregated estimate as text: the deployment's figures, then each pool's, then the KV transfer. */
export const renderDisaggregated = (e: DisaggregatedEstimate, pools: PlanPools, name: string): string =>
  [
    `${name}: disaggregated on ${count(e.gpus)} GPUs, prefill ${e.prefill.instances} x ${describeStrategy(pools.prefill.strategy)} (${count(e.prefill.gpus)} GPUs), decode ${e.decode.instances} x ${describeStrategy(pools.decode.strategy)} (${count(e.decode.gpus)} GPUs)`,
    `  TTFT ${secondsText(e.ttft)}   TPOT ${secondsText(e.tpot)}   request ${secondsText(e.requestLatency)}`,
    `  ${rate(e.requestsPerSecond)} requests/s: ${count(e.tokensPerSecond.total)} output tokens/s in total, ${rate(e.tokensPerSecond.perGpu)} per GPU, ${rate(e.tokensPerSecond.perUser)} per user; ${count(e.inputTokensPerSecond)} prompt tokens/s; the ${e.limitedBy} pool sets the rate`,
    '',
    table(
      ['  pool', 'instances', 'GPUs', 'strategy', 'pass', 'per pass', 'requests/s it sustains', 'memory, fullest GPU'],
      [
        ['  prefill', String(e.prefill.instances), count(e.prefill.gpus), describeStrategy(pools.prefill.strategy), secondsText(e.prefill.passSeconds), `${count(e.prefill.tokensPerPass)} prompt tokens`, rate(e.prefill.requestsPerSecond), `${bytesText(e.prefill.memory.perGpu)} of ${bytesText(e.prefill.memory.capacity)}`],
        ['  decode', String(e.decode.instances), count(e.decode.gpus), describeStrategy(pools.decode.strategy), secondsText(e.decode.passSeconds), `${count(e.decode.batch)} sequences`, rate(e.decode.requestsPerSecond), `${bytesText(e.decode.memory.perGpu)} of ${bytesText(e.decode.memory.capacity)}`],
      ],
    ),
    '',
    `  KV cache per request, prefill to decode: ${bytesText(e.transfer.bytesPerRequest)} in ${secondsText(e.transfer.seconds)}`,
  ].join('\n')

/** The JSON of the audit of a disaggregated plan (schema `meshplan/check-disaggregated`). */
export const disaggregatedAuditJson = (a: DisaggregatedAudit) => {
  const pools = a.plan.pools
  const pool = (p: PoolCheck) => ({ instances: p.instances, description: p.description, gpusPerInstance: p.gpusPerInstance, gpus: p.gpus, cluster: p.cluster, violations: p.violations, notes: p.notes })
  return {
    plan: { name: a.plan.name, source: a.plan.source ?? null, model: a.plan.model.name, gpus: a.gpus, prefill: pool(a.pools.prefill), decode: pool(a.pools.decode) },
    workload: a.plan.workload,
    passes: a.passes,
    violations: a.violations,
    problem: a.problem,
    link: a.link,
    estimate: a.estimate === null || pools === undefined ? null : disaggregatedJson(a.estimate, pools),
    claims: a.claims.map(claimVerdictJson),
    joint: a.joint,
    best: a.best === null ? null : { evaluated: a.best.evaluated, top: a.best.top.map(candidateJson) },
    coLocated: a.colocated === null ? null : a.colocated.top.map(estimateJson),
    bestProblem: a.bestProblem,
  }
}

/** The audit of a disaggregated plan as text. */
export const renderDisaggregatedAudit = (a: DisaggregatedAudit): string => {
  const w = a.plan.workload
  const held = a.claims.filter((c) => c.holds).length
  const { prefill, decode } = a.pools
  const poolLaws = (p: PoolCheck): ReadonlyArray<string> => [
    ...p.violations.map((v) => `  ${p.role} pool: ${v.code}: ${v.message} (${v.suggestion})`),
    ...p.notes.filter((n) => n.code !== 'gpus-unused').map((n) => `  ${p.role} pool, note (${n.severity}): ${n.message}`),
  ]
  const broken = prefill.violations.length + decode.violations.length + a.violations.length
  const lines = [
    `audit of ${a.plan.name}${a.plan.source === undefined ? '' : ` (${a.plan.source})`}`,
    `  ${a.plan.model.name}, disaggregated: prefill ${prefill.instances} x ${prefill.description} (${count(prefill.gpus)} GPUs), decode ${decode.instances} x ${decode.description} (${count(decode.gpus)} GPUs) = ${count(a.gpus)} GPUs`,
    `  workload: ${w.mode}, ${w.inputTokens} prompt + ${w.outputTokens} output tokens`,
    '',
    broken === 0 ? 'algebra: every law holds in both pools' : `algebra: ${broken} law${broken === 1 ? '' : 's'} broken`,
    ...poolLaws(prefill),
    ...poolLaws(decode),
    ...a.violations.map((v) => `  ${v.code}: ${v.message} (${v.suggestion})`),
  ]
  if (a.problem !== null) lines.push(`  cannot be estimated: ${a.problem}`)
  if (a.estimate !== null && a.plan.pools !== undefined) lines.push('', 'estimate of the plan as written:', renderDisaggregated(a.estimate, a.plan.pools, a.plan.name))
  lines.push('', `claims: ${held} of ${a.claims.length} hold`, ...a.claims.map(verdictLine), ...jointLines(a.joint, "the decode pool's batch limits, 1 to the most that fit"))
  if (a.bestProblem !== null) lines.push('', `no disaggregated search: ${a.bestProblem}`)
  const mine = a.estimate?.tokensPerSecond.perGpu
  const gain = (x: number): string => (mine === undefined || mine <= 0 ? '' : ` (${(x / mine).toFixed(2)}x the plan's per-GPU throughput)`)
  const objectives = a.claims.some((c) => c.claim.metric === 'ttft' || c.claim.metric === 'tpot') ? ', the plan\'s TTFT and TPOT claims as objectives' : ''
  const best = a.best?.top[0]
  if (best !== undefined)
    lines.push(
      '',
      `best disaggregated deployment the planner finds on ${a.plan.cluster.name}${objectives}: ${best.prefill.instances} x ${best.prefill.description} prefill + ${best.decode.instances} x ${best.decode.description} decode on ${count(best.estimate.gpus)} GPUs: ${rate(best.estimate.tokensPerSecond.perGpu)} output tokens/s per GPU${gain(best.estimate.tokensPerSecond.perGpu)}, TTFT ${secondsText(best.estimate.ttft)}, TPOT ${secondsText(best.estimate.tpot)}`,
    )
  else if (a.best !== null) lines.push('', `no disaggregated deployment of ${a.plan.cluster.name} meets the plan's latency claims`)
  const co = a.colocated?.top[0]
  if (co !== undefined)
    lines.push(`best co-located deployment: ${co.description}, batch ${co.batch}: ${rate(co.tokensPerSecond.perGpu)} output tokens/s per GPU${gain(co.tokensPerSecond.perGpu)}, TTFT ${secondsText(co.ttft)}, TPOT ${secondsText(co.tpot)}`)
  lines.push('', a.passes ? 'verdict: the plan holds up' : 'verdict: the plan does not hold up as written')
  return lines.join('\n')
}

/** A disaggregated candidate as JSON: each pool's strategy and instances, then the estimate's figures. */
const candidateJson = (c: DisaggregatedCandidate) => ({
  prefill: { strategy: encodeStrategy(c.prefill.strategy), description: c.prefill.description, instances: c.prefill.instances },
  decode: { strategy: encodeStrategy(c.decode.strategy), description: c.decode.description, instances: c.decode.instances, batchLimit: c.decode.batchLimit },
  gpus: c.estimate.gpus,
  limitedBy: c.estimate.limitedBy,
  ttftSeconds: c.estimate.ttft,
  tpotSeconds: c.estimate.tpot,
  outputTokensPerSecond: c.estimate.tokensPerSecond.total,
  outputTokensPerSecondPerGpu: c.estimate.tokensPerSecond.perGpu,
  outputTokensPerSecondPerUser: c.estimate.tokensPerSecond.perUser,
  transferSeconds: c.estimate.transfer.seconds,
})

/** The Pareto front of both kinds of deployment, tokens/s per GPU against tokens/s per user, each point labelled with its kind. */
const combinedFront = (co: PlanResult, split: DisaggregatedPlan) =>
  paretoFront([
    ...co.pareto.map((p) => ({ kind: 'co-located' as const, description: p.description, gpus: worldOf(p.strategy), perGpu: p.tokensPerSecondPerGpu, perUser: p.tokensPerSecondPerUser, ttft: p.ttft, tpot: p.tpot })),
    ...split.top.map((c) => ({
      kind: 'disaggregated' as const,
      description: `${c.prefill.instances} x ${c.prefill.description} + ${c.decode.instances} x ${c.decode.description}`,
      gpus: c.estimate.gpus,
      perGpu: c.estimate.tokensPerSecond.perGpu,
      perUser: c.estimate.tokensPerSecond.perUser,
      ttft: c.estimate.ttft,
      tpot: c.estimate.tpot,
    })),
  ])

/** The JSON of `plan --disaggregated` (schema `meshplan/plan-disaggregated`): the co-located search, the disaggregated one, and their joint front. */
export const planDisaggregatedJson = (co: PlanResult, split: DisaggregatedPlan, objectives: boolean) => ({
  coLocated: planJson(co, objectives),
  disaggregated: { evaluated: split.evaluated, top: split.top.map(candidateJson) },
  pareto: combinedFront(co, split),
})

/** The disaggregated search as text: its best deployments, then the front of both kinds. */
export const renderDisaggregatedPlan = (co: PlanResult, split: DisaggregatedPlan, seconds: number): string => {
  const e = split.evaluated
  const front = combinedFront(co, split)
  const lines = [
    `disaggregated deployments (a prefill pool and a decode pool): ${count(e.strategies)} instance strategies priced in both roles, the best ${e.prefillTypes} prefill and ${e.decodeTypes} decode types kept, ${e.deployments} deployments estimated whole, ${e.feasible} meet the objectives (${seconds.toFixed(1)} s with the co-located search)`,
  ]
  if (split.top.length === 0) return [...lines, 'none meets the objectives'].join('\n')
  lines.push(
    table(
      ['  prefill', 'decode', 'GPUs', 'tok/s/GPU', 'tok/s/user', 'TTFT', 'TPOT', 'set by'],
      split.top.map((c) => [
        `  ${c.prefill.instances} x ${c.prefill.description}`,
        `${c.decode.instances} x ${c.decode.description}${c.decode.batchLimit === null ? '' : `, batch <= ${c.decode.batchLimit}`}`,
        count(c.estimate.gpus),
        rate(c.estimate.tokensPerSecond.perGpu),
        rate(c.estimate.tokensPerSecond.perUser),
        secondsText(c.estimate.ttft),
        secondsText(c.estimate.tpot),
        c.estimate.limitedBy,
      ]),
    ),
    '',
    `Pareto front of both kinds, tokens/s per GPU against tokens/s per user (${front.length} points${front.length > 12 ? ', 12 shown, evenly spaced' : ''}):`,
    table(
      ['  kind', 'deployment', 'GPUs', 'tok/s/GPU', 'tok/s/user', 'TTFT', 'TPOT'],
      spaced(front, 12).map((p) => [`  ${p.kind}`, p.description, count(p.gpus), rate(p.perGpu), rate(p.perUser), secondsText(p.ttft), secondsText(p.tpot)]),
    ),
  )
  return lines.join('\n')
}

/** A deployment's cost, in a line: an hour of it, a million output tokens, a million tokens processed. */
export const costLine = (c: ServingCost): string => {
  const money = (x: number): string => (x >= 100 ? count(x) : x.toPrecision(3))
  return `  cost at ${money(c.pricePerGpuHour)} per GPU-hour: ${money(c.perHour)} an hour, ${money(c.perMillionOutputTokens)} per million output tokens, ${money(c.perMillionTokens)} per million tokens processed (prompt and output)`
}

/** The capacity answer as JSON: the rate asked, the deployment found (an estimate) or null, what it serves and the most any serves. */
export const capacityJson = (c: Capacity) => ({ requestsPerSecond: c.requestsPerSecond, found: c.found === null ? null : estimateJson(c.found), served: c.served, most: c.most })

/** The disaggregated capacity answer as JSON: the rate asked, the deployment found or null, what it serves, the most any serves, the sizes searched. */
export const disaggregatedCapacityJson = (c: DisaggregatedCapacity) => ({ requestsPerSecond: c.requestsPerSecond, found: c.found === null ? null : candidateJson(c.found), served: c.served, most: c.most, sizes: c.sizes })

/** The disaggregated capacity answer in a line. */
export const disaggregatedCapacityLine = (c: DisaggregatedCapacity): string =>
  c.found === null
    ? `no disaggregated deployment of ${c.sizes.length === 0 ? 'these GPUs' : `${c.sizes[0]} to ${c.sizes[c.sizes.length - 1]} GPUs`} serves ${rate(c.requestsPerSecond)} requests/s within the objectives: the most any serves is ${rate(c.most)}`
    : `fewest GPUs of a disaggregated deployment that serve ${rate(c.requestsPerSecond)} requests/s within the objectives: ${c.found.prefill.instances} x ${c.found.prefill.description} prefill + ${c.found.decode.instances} x ${c.found.decode.description} decode on ${c.found.estimate.gpus} GPUs: ${rate(c.served)} requests/s (${count(c.found.estimate.tokensPerSecond.total)} output tokens/s), TTFT ${secondsText(c.found.estimate.ttft)}, TPOT ${secondsText(c.found.estimate.tpot)}`

/** The capacity answer in a line. */
export const capacityLine = (c: Capacity): string =>
  c.found === null
    ? `no deployment of these GPUs serves ${rate(c.requestsPerSecond)} requests/s within the objectives: the most any serves is ${rate(c.most)}`
    : `fewest GPUs that serve ${rate(c.requestsPerSecond)} requests/s within the objectives: ${c.found.description} on ${c.found.gpus} GPUs, batch ${c.found.batch}: ${rate(c.served)} requests/s (${count(c.found.tokensPerSecond.total)} output tokens/s), TTFT ${secondsText(c.found.ttft)}, TPOT ${secondsText(c.found.tpot)}`
