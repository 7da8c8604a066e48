/**
 * The planner's answers in words and figures, as every front end prints them: the
 * `meshplan` command and the web page take their units, precision, claim verdicts and
 * the ranked table of a search from here, so a figure on the page and the command's line
 * for it read the same, character for character.
 *
 * @example
 * import { verdictText, planRows } from '@meshplan/planner'
 * verdictText('seconds', { claim: { metric: 'tpot', comparator: 'at_most', value: 0.002, tolerance: 0 }, computed: 0.0686, holds: false, deviation: 33.3 })
 * // { claimed: 'tpot ≤ 2 ms', computed: 'computed 68.6 ms, 34.3x of the claim' }
 */
import type { PlanResult, Ranking } from '@meshplan/inference'
import { bytesText, count, percent, rate, rateText, secondsText } from '@meshplan/units'
import type { MetricKind } from './plan-file'

// -------------------------------------------------------------------------------------
// figures (the units themselves are @meshplan/units' `bytesText`, `secondsText`, `count`, ...)
// -------------------------------------------------------------------------------------

/** A claimed or computed value of a metric of `kind`, as text. */
export const valueTextOf = (kind: MetricKind, v: number): string => {
  switch (kind) {
    case 'bytes':
      return bytesText(v)
    case 'seconds':
      return secondsText(v)
    case 'flopRate':
      return rateText(v)
    case 'count':
      return count(v)
    default:
      return v >= 1000 ? count(v) : Number(v.toPrecision(3)).toString()
  }
}

// -------------------------------------------------------------------------------------
// claims
// -------------------------------------------------------------------------------------

const comparatorText = { equals: '=', about: '≈', at_most: '≤', at_least: '≥' } as const

/** What a claim's verdict needs to be worded. */
export interface VerdictOf {
  readonly claim: { readonly metric: string; readonly comparator: keyof typeof comparatorText; readonly value: number; readonly tolerance: number }
  readonly computed: number | null
  readonly holds: boolean
  readonly deviation: number | null
}

/**
 * The claim as written (`tpot ≤ 2 ms`) and what was computed (`computed 68.6 ms, 34.3x
 * of the claim`): a claim that fails by more than ten times its value is given as the
 * ratio, a nearer miss as the deviation (`+12.0% off`).
 */
export const verdictText = (kind: MetricKind, v: VerdictOf): { readonly claimed: string; readonly computed: string } => {
  const c = v.claim
  const claimed = `${c.metric} ${comparatorText[c.comparator]} ${valueTextOf(kind, c.value)}${c.comparator === 'about' ? ` (±${Math.round(c.tolerance * 100)}%)` : ''}`
  const computed = v.computed === null ? 'cannot be computed' : valueTextOf(kind, v.computed)
  const ratio = (v.computed ?? 0) / c.value
  const off =
    v.deviation === null || v.holds
      ? ''
      : `, ${Math.abs(v.deviation) >= 10 ? `${ratio >= 1 ? `${ratio.toFixed(1)}x` : `1/${(c.value / (v.computed ?? 1)).toFixed(1)}`} of the claim` : `${percent(v.deviation)} off`}`
  return { claimed, computed: `computed ${computed}${off}` }
}

// -------------------------------------------------------------------------------------
// the serving search
// -------------------------------------------------------------------------------------

/** What a serving search ranks by, in words. */
export const rankingText: Readonly<Record<Ranking, string>> = {
  tokens_per_second_per_gpu: 'output tokens/s per GPU',
  request_latency: 'request latency (one request at a time)',
}

/** What a search covered: `searched 52 valid strategies on 8 GPUs, 1,234 (strategy, batch) candidates in 68.6 ms: 900 feasible; rejected: …`. */
export const searchSummaryText = (r: PlanResult, seconds: number | undefined): string => {
  const rejected = Object.entries(r.rejected)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${count(n)} ${reason}`)
  return `searched ${count(r.strategies)} valid strategies on ${r.gpuCounts.join(', ')} GPUs, ${count(r.candidates)} (strategy, batch) candidates${seconds === undefined ? '' : ` in ${secondsText(seconds)}`}: ${count(r.feasible)} feasible${rejected.length > 0 ? `; rejected: ${rejected.join(', ')}` : ''}`
}

/** The columns of {@link planRows}. */
export const planColumns: ReadonlyArray<string> = ['#', 'strategy', 'GPUs', 'batch', 'tok/s/GPU', 'tok/s/user', 'tok/s total', 'TTFT', 'TPOT', 'memory/GPU', 'decode bound by']

/** The ranked plans of a search, one row of {@link planColumns} each. */
export const planRows = (r: PlanResult): ReadonlyArray<ReadonlyArray<string>> =>
  r.top.map((e, i) => [
    String(i + 1),
    e.description,
    String(e.gpus),
    String(e.batch),
    rate(e.tokensPerSecond.perGpu),
    rate(e.tokensPerSecond.perUser),
    count(e.tokensPerSecond.total),
    secondsText(e.ttft),
    secondsText(e.tpot),
    bytesText(e.memory.perGpu),
    e.breakdown.decode.bottleneck,
  ])
