/**
 * How figures read on the page: the same words and precision as the `meshplan` command
 * prints them (its `reports.ts`), from @meshplan/units' formatters, so that a figure on
 * the page and the command's line for it can be compared character for character.
 *
 * @example
 * secondsText(0.0686) // '68.6 ms'
 * count(954650.9) // '954,651'
 */
import type { MetricKind } from '@meshplan/planner'
import { formatBytes, formatFlopRate, formatSeconds } from '@meshplan/units'

export const bytesText = formatBytes()
export const secondsText = formatSeconds({ digits: 3 })
export const rateText = formatFlopRate({ digits: 3 })

/** A count with thousands separators: `954,651`. */
export const count = (n: number): string => Math.round(n).toLocaleString('en-US')

/** A rate per GPU or per user: a count from 100 up, else three significant digits. */
export const rate = (n: number): string => (n >= 100 ? count(n) : n.toPrecision(3))

/** A signed share: `+700.0%`. */
export const percent = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`

/** A share without sign: `41.3%`. */
export const share = (x: number): string => `${(x * 100).toFixed(1)}%`

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

const comparatorText = { equals: '=', about: '≈', at_most: '≤', at_least: '≥' } as const

/** A claim's verdict as the command words it: `tpot ≤ 2 ms: computed 68.6 ms, 34.3x of the claim`. */
export interface VerdictOf {
  readonly claim: { readonly metric: string; readonly comparator: keyof typeof comparatorText; readonly value: number; readonly tolerance: number }
  readonly computed: number | null
  readonly holds: boolean
  readonly deviation: number | null
}

/** The claim as written (`tpot ≤ 2 ms`) and what was computed (`computed 68.6 ms, 34.3x of the claim`). */
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
