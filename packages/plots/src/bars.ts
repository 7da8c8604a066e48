/**
 * Horizontal stacked bars, the form of the breakdown and the memory plots: one bar per
 * row (a phase, a step, a pipeline stage), one segment per part (compute, exposed TP
 * communication, weights, ...) in a fixed order and colour, and an optional limit drawn
 * as a rule across (a GPU's capacity).
 */
import { colourScale, num, PANEL_WIDTH, tip, type Json, type Part, type VegaLiteSpec } from './spec'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** One segment: its bar, its part, its value in the plot's unit, and its share of the bar. */
export interface Segment {
  readonly [key: string]: Json
  readonly bar: string
  readonly part: Part
  /** Position of the part in the stack (0 first, at the left). */
  readonly order: number
  readonly value: number
  /** The value as a share of its bar's total. */
  readonly share: number
  /** What the segment says in the SVG (`aria-label`): `<bar>: <part> <value> <unit> (<share>)`. */
  readonly description: string
}

export interface StackedBars {
  /** Layer names start with it: `<name>_segments`, `<name>_limit`. */
  readonly name: string
  readonly segments: ReadonlyArray<Segment>
  /** The parts' order (and their colours). */
  readonly parts: ReadonlyArray<Part>
  readonly xTitle: string
  /** The tooltip of a segment, default: bar, part, value (`format`, titled `unit`) and share. */
  readonly tooltip?: ReadonlyArray<VegaLiteSpec>
  readonly format: string
  readonly unit: string
  /** The bars, top to bottom. */
  readonly bars: ReadonlyArray<string>
  readonly limit?: { readonly value: number; readonly label: string }
  /** The values are shares of their bar: the axis runs from 0 to 100%. */
  readonly shares?: boolean
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The segments of `bar`: its non-zero `parts` (name and value), in order, with their shares of the bar; `extra` fields on each. */
export const segmentsOf = (bar: string, unit: string, parts: ReadonlyArray<readonly [Part, number]>, extra: { readonly [key: string]: Json } = {}): ReadonlyArray<Segment> => {
  const total = parts.reduce((s, [, v]) => s + (v > 0 ? v : 0), 0)
  return parts.flatMap(([part, value], order) => {
    if (!(value > 0)) return []
    const share = num(total > 0 ? value / total : 0)
    return [{ ...extra, bar, part, order, value: num(value), share, description: `${bar}: ${part} ${num(value)} ${unit} (${(share * 100).toFixed(1)}%)` }]
  })
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The Vega-Lite view of `s`: a layer of the stacked segments and, when given, the limit with its label. */
export const stackedBarsView = (s: StackedBars): VegaLiteSpec => {
  const y = { field: 'bar', type: 'nominal', title: null, sort: [...s.bars], axis: { labelLimit: 280 } } as const
  const limit = s.limit === undefined ? [] : [{ value: num(s.limit.value), label: s.limit.label }]
  // the legend names the parts present, in their order
  const present = s.parts.filter((p) => s.segments.some((g) => g.part === p))
  return {
    width: PANEL_WIDTH,
    height: Math.max(1, s.bars.length) * 36,
    layer: [
      {
        name: `${s.name}_segments`,
        data: { values: [...s.segments] },
        mark: { type: 'bar', stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          y,
          x: { field: 'value', type: 'quantitative', title: s.xTitle, stack: 'zero', ...(s.shares === true ? { scale: { domain: [0, 1] }, axis: { format: '%' } } : {}) },
          color: { field: 'part', type: 'nominal', title: null, scale: colourScale(present), legend: { orient: 'bottom', columns: 4, symbolType: 'square', labelLimit: 200 } },
          order: { field: 'order', type: 'quantitative' },
          description: { field: 'description', type: 'nominal' },
          tooltip: s.tooltip === undefined ? [tip('bar', 'bar'), tip('part', 'part'), tip('value', s.unit, s.format), tip('share', 'share', '.1%')] : [...s.tooltip],
        },
      },
      ...(s.limit === undefined
        ? []
        : [
            {
              name: `${s.name}_limit`,
              data: { values: limit },
              mark: { type: 'rule', color: '#333333', strokeWidth: 1.5, strokeDash: [4, 3], aria: false },
              encoding: { x: { field: 'value', type: 'quantitative' }, tooltip: [tip('label', 'limit'), tip('value', s.unit, s.format)] },
            },
            {
              name: `${s.name}_limit_label`,
              data: { values: limit },
              mark: { type: 'text', align: 'right', baseline: 'top', dx: -4, dy: 2, fontSize: 11, color: '#333333', aria: false },
              encoding: { x: { field: 'value', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label', type: 'nominal' } },
            },
          ]),
    ],
  }
}
