/**
 * How far an estimate can be trusted: an interval around each headline figure, from how
 * far the models missed the calibration cases most like it when those cases' own source
 * was left out of the fit (`leaveOneSourceOut`). Every case's miss is kept as a residual
 * `r = ln(predicted/measured)` turned to the "speed" orientation (a time's sign flipped),
 * so that `r > 0` means the models were too optimistic; the residuals of the cases alike
 * (same kind and figure family, then MoE or dense, mode and hardware generation, dropped
 * in the reverse order while fewer than `minimumAlike` remain) give the interval by
 * split-conformal prediction (Vovk et al. 2005; Lei et al. 2018, "Distribution-free
 * predictive inference for regression", section 2.2): with `n` residuals sorted, the
 * `⌊(n+1)(1−c)/2⌋`-th and `⌈(n+1)(1+c)/2⌉`-th bound a coverage `c` when the new case is
 * exchangeable with them. Fewer than `2/(1−c) − 1` residuals cannot bound it, so such a
 * group is widened to the next broader one, and the few alike cases' own extremes are
 * added to it (the interval says so).
 *
 * @example
 * import { calibrationResiduals, figureInterval } from '@meshplan/planner'
 * figureInterval(calibrationResiduals, { kind: 'inference', metric: 'tpot_ms', moe: false, mode: 'static', generation: 'hopper' }, 17.4)
 * // { low: 15.9, high: 19.6, coverage: 0.8, cases: 14, alike: 'inference TPOT, dense, static, hopper', note: '...' }
 */
import type { CaseKind, CaseResult } from './cases'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Figures whose misses are pooled: the same quantity measured as a time or as a rate. */
export type FigureFamily = 'throughput' | 'ttft' | 'tpot' | 'request-latency' | 'step' | 'collective'

/** A time (smaller is faster) or a rate (larger is faster). */
export type Orientation = 'time' | 'rate'

/** One calibration case's miss, kept for intervals. */
export interface ResidualRow {
  readonly id: string
  /** The case's source (engine and version): the coverage check leaves out a case's whole source. */
  readonly source: string
  readonly kind: CaseKind
  readonly family: FigureFamily
  readonly moe: boolean
  readonly mode: string
  readonly generation: string
  /** `ln(predicted/measured)` in the rate orientation: above 0 the models were too fast, below too slow. */
  readonly residual: number
}

/** What an interval is asked for: the figure's kind and metric, and the deployment's traits. */
export interface IntervalQuery {
  readonly kind: CaseKind
  /** A `measured.metric` name of `validation/FORMAT.md` (`tpot_ms`, `output_tokens_per_s`, `iteration_time_s`, `mfu`, ...). */
  readonly metric: string
  readonly moe?: boolean
  readonly mode?: string
  readonly generation?: string
}

/** An interval around a figure. */
export interface FigureInterval {
  readonly low: number
  readonly high: number
  /** The share of cases like it that such an interval held on the calibration file, as asked (0.8 by default). */
  readonly coverage: number
  /** How many calibration cases the interval rests on. */
  readonly cases: number
  /** What those cases share with the figure: `inference TPOT, dense, static, hopper`. */
  readonly alike: string
  /** Which traits had to be dropped, and whether the few cases alike widened it. */
  readonly note: string
  /** Whether fewer than enough cases were alike on every trait, so that it rests on broader ones. */
  readonly widened: boolean
}

/** Options of an interval. */
export interface IntervalOptions {
  /** The coverage asked, in (0, 1): 0.8 by default. */
  readonly coverage?: number
}

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

/** The coverage of an interval unless asked otherwise: 80%, as the tables show it. */
export const DEFAULT_COVERAGE = 0.8

/**
 * Every metric of `validation/FORMAT.md` with its family and orientation. Throughputs
 * of a serving run pool (total, per GPU, prefill); a training step's time, tokens/s,
 * model FLOP/s and MFU are one quantity; a collective's time and its bus bandwidth too.
 */
export const metricFamilies: Readonly<Record<string, { readonly family: FigureFamily; readonly orientation: Orientation }>> = {
  output_tokens_per_s: { family: 'throughput', orientation: 'rate' },
  output_tokens_per_s_per_gpu: { family: 'throughput', orientation: 'rate' },
  input_tokens_per_s_per_gpu: { family: 'throughput', orientation: 'rate' },
  ttft_ms: { family: 'ttft', orientation: 'time' },
  mean_ttft_ms: { family: 'ttft', orientation: 'time' },
  tpot_ms: { family: 'tpot', orientation: 'time' },
  mean_tpot_ms: { family: 'tpot', orientation: 'time' },
  request_latency_ms: { family: 'request-latency', orientation: 'time' },
  mean_request_latency_ms: { family: 'request-latency', orientation: 'time' },
  iteration_time_s: { family: 'step', orientation: 'time' },
  model_tflops_per_gpu: { family: 'step', orientation: 'rate' },
  mfu: { family: 'step', orientation: 'rate' },
  tokens_per_s_per_gpu: { family: 'step', orientation: 'rate' },
  busbw_gbps: { family: 'collective', orientation: 'rate' },
  time_us: { family: 'collective', orientation: 'time' },
}

const familyNames: Readonly<Record<FigureFamily, string>> = {
  throughput: 'tokens/s',
  ttft: 'TTFT',
  tpot: 'TPOT',
  'request-latency': 'request latency',
  step: 'step time',
  collective: 'collective time',
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The fewest residuals that can bound a coverage `c` two-sided: `⌈2/(1−c)⌉ − 1` (9 at 80%). */
export const minimumAlike = (coverage: number): number => Math.max(1, Math.ceil(2 / (1 - coverage) - 1e-9) - 1)

/**
 * The residual rows of predicted cases (a `leaveOneSourceOut` report's cases): those with a
 * prediction, a known metric and their groups; the others are left out.
 */
export const residualRowsOf = (results: ReadonlyArray<CaseResult>): ReadonlyArray<ResidualRow> =>
  results.flatMap((r) => {
    const m = metricFamilies[r.metric]
    if (m === undefined || r.predicted === null || !(r.predicted > 0) || !(r.measured > 0)) return []
    const ratio = Math.log(r.predicted / r.measured)
    return [
      {
        id: r.id,
        source: r.source ?? 'unknown',
        kind: r.kind,
        family: m.family,
        moe: r.moe === true,
        mode: r.mode ?? r.kind,
        generation: r.generation ?? 'unknown',
        residual: m.orientation === 'rate' ? ratio : -ratio,
      },
    ]
  })

/**
 * The residual rows of the predictions `results` of the cases `cases` (the same order):
 * `residualRowsOf`, with a collective's source its publication (the repository its
 * `source` field names first) rather than its engine (nccl-tests): no fitted constant
 * moves a collective, so the coverage check leaves out a collective's publication as it
 * leaves out an engine release.
 */
export const calibrationRowsOf = (results: ReadonlyArray<CaseResult>, cases: ReadonlyArray<unknown>): ReadonlyArray<ResidualRow> => {
  const publication = new Map<string, string>()
  for (const c of cases) {
    const o = (typeof c === 'object' && c !== null ? c : {}) as { readonly id?: unknown; readonly source?: unknown; readonly engine?: { readonly name?: unknown }; readonly workload?: { readonly kind?: unknown } }
    if (o.workload?.kind === 'collective' && typeof o.id === 'string')
      publication.set(o.id, `${typeof o.engine?.name === 'string' ? o.engine.name : 'collective'} ${String(o.source).split(' ')[0] ?? ''}`)
  }
  return residualRowsOf(results).map((r) => ({ ...r, source: publication.get(r.id) ?? r.source }))
}

/** The `k`-th smallest (1-based) of sorted `xs`. */
const kth = (xs: ReadonlyArray<number>, k: number): number => xs[k - 1] ?? Number.NaN

/** The split-conformal bounds of sorted residuals at coverage `c`, or undefined when too few. */
const conformal = (sorted: ReadonlyArray<number>, c: number): readonly [number, number] | undefined => {
  const n = sorted.length
  // a hair of slack against binary fractions: (19 + 1) * (1 - 0.8) / 2 is 1.9999999999999996
  const lo = Math.floor(((n + 1) * (1 - c)) / 2 + 1e-9)
  const hi = Math.ceil(((n + 1) * (1 + c)) / 2 - 1e-9)
  return lo < 1 || hi > n ? undefined : [kth(sorted, lo), kth(sorted, hi)]
}

interface Trait {
  readonly name: string
  readonly matches: (row: ResidualRow, q: IntervalQuery) => boolean
  readonly label: (q: IntervalQuery) => string | undefined
}

/** The traits after kind and family, most general first: the last is dropped first. */
const traits: ReadonlyArray<Trait> = [
  { name: 'MoE or dense', matches: (r, q) => q.moe === undefined || r.moe === q.moe, label: (q) => (q.moe === undefined ? undefined : q.moe ? 'MoE' : 'dense') },
  { name: 'mode', matches: (r, q) => q.mode === undefined || r.mode === q.mode, label: (q) => (q.mode === q.kind ? undefined : q.mode) },
  { name: 'hardware generation', matches: (r, q) => q.generation === undefined || r.generation === q.generation, label: (q) => q.generation },
]

/**
 * The interval on the optimism residual (`ln(predicted/measured)`, rate orientation) for
 * `query`, from `rows`, or undefined when the figure's metric is unknown or no row shares
 * its kind and family.
 */
export const residualInterval = (
  rows: ReadonlyArray<ResidualRow>,
  query: IntervalQuery,
  options: IntervalOptions = {},
): { readonly low: number; readonly high: number; readonly cases: number; readonly alike: string; readonly note: string; readonly widened: boolean } | undefined => {
  const c = options.coverage ?? DEFAULT_COVERAGE
  const m = metricFamilies[query.metric]
  if (m === undefined || !(c > 0 && c < 1)) return undefined
  const need = minimumAlike(c)
  // too few cases measure the figure itself: the kind's cases of every figure (their misses share one orientation)
  const family = rows.filter((r) => r.kind === query.kind && r.family === m.family)
  const pooled = family.length < need
  const base = pooled ? rows.filter((r) => r.kind === query.kind) : family
  if (base.length === 0) return undefined
  const groups = traits.map((_, i) => base.filter((r) => traits.slice(0, i + 1).every((t) => t.matches(r, query))))
  // the most specific group with enough cases; the kind (and family) alone as the last resort
  let used = -1
  for (let i = traits.length - 1; i >= 0; i--) {
    if ((groups[i]?.length ?? 0) >= need) {
      used = i
      break
    }
  }
  const chosen = used < 0 ? base : (groups[used] ?? base)
  const labelOf = (upTo: number): string =>
    [pooled ? `${query.kind} (any figure)` : `${query.kind} ${familyNames[m.family]}`, ...traits.slice(0, upTo + 1).flatMap((t) => (t.label(query) === undefined ? [] : [t.label(query) as string]))].join(', ')
  const sorted = [...chosen.map((r) => r.residual)].sort((a, b) => a - b)
  const bounded = conformal(sorted, c)
  const bounds = bounded ?? [sorted[0] ?? 0, sorted[sorted.length - 1] ?? 0]
  // the cases that measure the figure itself and share every trait
  const specific = family.filter((r) => traits.every((t) => t.matches(r, query)))
  const dropped = traits.slice(used + 1).filter((t) => t.label(query) !== undefined).map((t) => t.name)
  // a few such cases widen the broader interval to their own extremes
  const few = (pooled || used < traits.length - 1) && specific.length > 0
  const low = few ? Math.min(bounds[0], ...specific.map((r) => r.residual)) : bounds[0]
  const high = few ? Math.max(bounds[1], ...specific.map((r) => r.residual)) : bounds[1]
  const note = [
    ...(pooled ? [`only ${family.length} cases measure the ${familyNames[m.family]}: every ${query.kind} figure pooled`] : []),
    ...(dropped.length === 0 ? [] : [`fewer than ${need} alike in ${dropped.join(' and ')}`]),
    ...(few ? [`widened to the ${specific.length} alike in every trait`] : []),
    ...(bounded === undefined ? [`too few to bound ${Math.round(c * 100)}%: the range of all ${chosen.length}`] : []),
  ].join('; ')
  const widened = pooled || dropped.length > 0 || bounded === undefined
  return { low, high, cases: chosen.length, alike: labelOf(used < 0 ? -1 : used), note, widened }
}

/**
 * The interval of a figure `value` in `query.metric`'s unit and orientation: a rate `f`
 * lies in `[f·e^(−high), f·e^(−low)]`, a time in `[f·e^(low), f·e^(high)]` (the measured
 * value was `f·e^(−r)` or `f·e^(r)` for each residual `r`). Undefined when `residualInterval` is.
 */
export const figureInterval = (rows: ReadonlyArray<ResidualRow>, query: IntervalQuery, value: number, options: IntervalOptions = {}): FigureInterval | undefined => {
  const r = residualInterval(rows, query, options)
  const m = metricFamilies[query.metric]
  if (r === undefined || m === undefined || !Number.isFinite(value)) return undefined
  const [low, high] = m.orientation === 'rate' ? [value * Math.exp(-r.high), value * Math.exp(-r.low)] : [value * Math.exp(r.low), value * Math.exp(r.high)]
  return { low, high, coverage: options.coverage ?? DEFAULT_COVERAGE, cases: r.cases, alike: r.alike, note: r.note, widened: r.widened }
}

/**
 * How well the intervals held on the rows themselves: each row's interval built from the
 * rows of the other sources only (its own leave-one-source-out interval), and whether its
 * residual lies in it. `inside/rows` is the coverage achieved; per kind too.
 */
export const intervalCoverage = (
  rows: ReadonlyArray<ResidualRow>,
  options: IntervalOptions = {},
): { readonly rows: number; readonly inside: number; readonly share: number; readonly byKind: Readonly<Partial<Record<CaseKind, { readonly rows: number; readonly inside: number }>>> } => {
  let inside = 0
  let counted = 0
  const byKind: Partial<Record<CaseKind, { rows: number; inside: number }>> = {}
  for (const row of rows) {
    const others = rows.filter((r) => r.source !== row.source)
    const metric = Object.keys(metricFamilies).find((k) => metricFamilies[k]?.family === row.family)
    if (metric === undefined) continue
    const i = residualInterval(others, { kind: row.kind, metric, moe: row.moe, mode: row.mode, generation: row.generation }, options)
    if (i === undefined) continue
    counted++
    const k = (byKind[row.kind] ??= { rows: 0, inside: 0 })
    k.rows++
    if (row.residual >= i.low && row.residual <= i.high) {
      inside++
      k.inside++
    }
  }
  return { rows: counted, inside, share: counted === 0 ? Number.NaN : inside / counted, byKind }
}
