/**
 * The Pareto plot of a serving search: a scatter of tokens/s per GPU (up) against
 * tokens/s per user (right), the ranked plans as numbered dots and the Pareto front
 * (the candidates no other beats on both) as a line of smaller dots.
 *
 * This module is the one place the page draws it, as an SVG string: when
 * `@meshplan/plots` (Vega-Lite to SVG) lands, `paretoPlotSvg` is the function to
 * replace, with the same points in and an SVG out.
 *
 * Axes are logarithmic when their values span more than a factor of 20 (a front often
 * spans three decades of tokens/s per user), else linear from zero.
 *
 * @example
 * paretoPlotSvg([{ perGpu: 2400, perUser: 35, label: 'TP8, batch 64', rank: 1 }], [])
 * // '<svg ... role="img" aria-label="Pareto plot ..."> ... <circle class="point ranked" ...'
 */
import { coordinate, escapeXml, tickText } from './svg'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A point of the plot: its two rates, what it is, and its rank among the ranked plans (absent on the front). */
export interface PlotPoint {
  readonly perGpu: number
  readonly perUser: number
  readonly label: string
  readonly rank?: number
}

export interface PlotSize {
  readonly width: number
  readonly height: number
}

/** An axis: where its values go on screen, and its ticks. */
interface Axis {
  readonly at: (value: number) => number
  readonly ticks: ReadonlyArray<number>
  readonly log: boolean
}

const margin = { left: 64, right: 16, top: 16, bottom: 44 } as const

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The largest round number (1, 2 or 5 times a power of ten) at most `x`. */
const niceStep = (x: number): number => {
  const power = 10 ** Math.floor(Math.log10(x))
  const m = x / power
  return (m >= 5 ? 5 : m >= 2 ? 2 : 1) * power
}

/** An axis over `values` from screen position `from` to `to`. */
const axisOf = (values: ReadonlyArray<number>, from: number, to: number): Axis => {
  const low = Math.min(...values)
  const high = Math.max(...values)
  if (low > 0 && high / low > 20) {
    const a = Math.floor(Math.log10(low))
    const b = Math.ceil(Math.log10(high))
    const ticks = Array.from({ length: b - a + 1 }, (_, i) => 10 ** (a + i))
    return { at: (v) => from + ((Math.log10(v) - a) / (b - a)) * (to - from), ticks, log: true }
  }
  const top = high > 0 ? high * 1.05 : 1
  const step = niceStep(top / 4)
  const end = Math.ceil(top / step) * step
  const ticks = Array.from({ length: Math.round(end / step) + 1 }, (_, i) => i * step)
  return { at: (v) => from + (v / end) * (to - from), ticks, log: false }
}

/** Whether a point can be drawn: both rates finite and above zero. */
const drawable = (p: PlotPoint): boolean => Number.isFinite(p.perGpu) && Number.isFinite(p.perUser) && p.perGpu > 0 && p.perUser > 0

/**
 * The plot of `ranked` (numbered by `rank`) and the `front` as SVG markup; points that
 * cannot be drawn (a rate of zero, or not finite) are left out.
 */
export const paretoPlotSvg = (ranked: ReadonlyArray<PlotPoint>, front: ReadonlyArray<PlotPoint>, size: PlotSize = { width: 640, height: 360 }): string => {
  const { width, height } = size
  const shownRanked = ranked.filter(drawable)
  const shownFront = front.filter(drawable)
  const all = [...shownRanked, ...shownFront]
  const label = `Pareto plot: output tokens/s per GPU against tokens/s per user, ${shownRanked.length} ranked plans and ${shownFront.length} points of the Pareto front`
  const open = `<svg xmlns="http://www.w3.org/2000/svg" class="pareto-plot" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(label)}">`
  if (all.length === 0) return `${open}<text x="${width / 2}" y="${height / 2}" text-anchor="middle" class="empty">no plan to plot</text></svg>`
  const x = axisOf(
    all.map((p) => p.perUser),
    margin.left,
    width - margin.right,
  )
  const y = axisOf(
    all.map((p) => p.perGpu),
    height - margin.bottom,
    margin.top,
  )
  const bottom = height - margin.bottom
  const parts: string[] = [open, `<title>${escapeXml(label)}</title>`]
  for (const t of x.ticks) {
    const at = coordinate(x.at(t))
    parts.push(`<line class="grid" x1="${at}" x2="${at}" y1="${margin.top}" y2="${bottom}"/>`, `<text class="tick" x="${at}" y="${bottom + 16}" text-anchor="middle">${tickText(t)}</text>`)
  }
  for (const t of y.ticks) {
    const at = coordinate(y.at(t))
    parts.push(`<line class="grid" x1="${margin.left}" x2="${width - margin.right}" y1="${at}" y2="${at}"/>`, `<text class="tick" x="${margin.left - 6}" y="${at}" dy="0.32em" text-anchor="end">${tickText(t)}</text>`)
  }
  parts.push(
    `<line class="axis" x1="${margin.left}" x2="${width - margin.right}" y1="${bottom}" y2="${bottom}"/>`,
    `<line class="axis" x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${bottom}"/>`,
    `<text class="axis-label" x="${(margin.left + width - margin.right) / 2}" y="${height - 6}" text-anchor="middle">output tokens/s per user${x.log ? ' (log)' : ''}</text>`,
    `<text class="axis-label" transform="translate(14 ${(margin.top + bottom) / 2}) rotate(-90)" text-anchor="middle">output tokens/s per GPU${y.log ? ' (log)' : ''}</text>`,
  )
  const sortedFront = [...shownFront].sort((a, b) => a.perUser - b.perUser)
  if (sortedFront.length > 1) parts.push(`<polyline class="front-line" points="${sortedFront.map((p) => `${coordinate(x.at(p.perUser))},${coordinate(y.at(p.perGpu))}`).join(' ')}"/>`)
  const dot = (p: PlotPoint, kind: 'front' | 'ranked', r: number): string =>
    `<circle class="point ${kind}" cx="${coordinate(x.at(p.perUser))}" cy="${coordinate(y.at(p.perGpu))}" r="${r}" data-per-gpu="${p.perGpu}" data-per-user="${p.perUser}"><title>${escapeXml(`${p.label}: ${tickText(p.perGpu)} tokens/s per GPU, ${tickText(p.perUser)} per user`)}</title></circle>`
  for (const p of shownFront) parts.push(dot(p, 'front', 3))
  for (const p of shownRanked) {
    parts.push(dot(p, 'ranked', 6))
    if (p.rank !== undefined) parts.push(`<text class="rank" x="${coordinate(x.at(p.perUser) + 8)}" y="${coordinate(y.at(p.perGpu) - 8)}">${p.rank}</text>`)
  }
  parts.push('</svg>')
  return parts.join('')
}
