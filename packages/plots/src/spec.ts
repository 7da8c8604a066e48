/**
 * A plot is a named Vega-Lite view: plain JSON that Vega-Lite compiles, in a browser for
 * an interactive chart (vega-embed) or in Node for an SVG ({@link toSvg}). A figure is one
 * or more plots stacked as panels under one title, with the same look everywhere: the
 * same width, font and colours, no canvas measuring (text widths are estimated from the
 * number of characters, so the SVG is the same bytes on every machine).
 *
 * Each plot names its layers (`pareto_front`, `memory_segments`, ...): Vega-Lite turns a
 * layer's name into the class of its marks' group in the SVG (`<g class="mark-symbol
 * role-mark pareto_front_marks">`), so a test or a script can find the marks of one layer,
 * and every mark carries an `aria-label` with its fields (`strategy: tp 8; batch: 64; ...`).
 *
 * @example
 * import { figure, paretoPlot } from '@meshplan/plots'
 * const spec = figure('plan for llama-3.1-70b', [paretoPlot(result)])
 * // { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: ..., vconcat: [...], config: {...} }
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A JSON value, as a Vega-Lite spec holds them. */
export type Json = string | number | boolean | null | ReadonlyArray<Json> | { readonly [key: string]: Json }

/** A Vega-Lite (v6) spec or view, as JSON. Our own type, so that the declarations need no Vega-Lite types. */
export type VegaLiteSpec = { readonly [key: string]: Json }

/** The plots meshplan draws. */
export const plotNames = ['pareto', 'breakdown', 'memory', 'schedule', 'roofline'] as const
export type PlotName = (typeof plotNames)[number]

/** One plot: a Vega-Lite view (a unit, a layer or a facet: what goes in a panel), and what it shows. */
export interface Plot {
  readonly name: PlotName
  /** The panel's title, what it shows, and under it what it shows it of. */
  readonly title: string
  readonly subtitle: string
  readonly view: VegaLiteSpec
}

/** The Vega-Lite schema the specs follow. */
export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json'

/** Width of a panel's plotting area, pixels. */
export const PANEL_WIDTH = 640

/** One colour per kind of time or memory, the same in every plot (Tableau 10 and grey). */
export const colours = {
  compute: '#4e79a7',
  'compute-bound': '#4e79a7',
  'memory-bound': '#76b7b2',
  'SM contention': '#9c755f',
  bubble: '#bab0ac',
  'exposed TP': '#e15759',
  'exposed CP': '#ff9da7',
  'exposed EP': '#f28e2b',
  'exposed PP': '#edc948',
  'exposed DP': '#b07aa1',
  'exposed offload': '#59a14f',
  optimizer: '#8cd17d',
  forward: '#4e79a7',
  backward: '#f28e2b',
  communication: '#e15759',
  weights: '#4e79a7',
  gradients: '#f28e2b',
  'optimizer state': '#b07aa1',
  activations: '#59a14f',
  'KV cache': '#59a14f',
  workspace: '#edc948',
  reserve: '#bab0ac',
} as const satisfies Readonly<Record<string, string>>

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** A part of a stacked bar or a timeline, with its colour. */
export type Part = keyof typeof colours

/** The colour scale of `keys`, in that order (the legend's order too). */
export const colourScale = (keys: ReadonlyArray<Part>): VegaLiteSpec => ({
  domain: [...keys],
  range: keys.map((k) => colours[k]),
})

/** The look of every figure: fonts, sizes, no view border. */
const config: VegaLiteSpec = {
  font: 'Helvetica, Arial, sans-serif',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', grid: true, gridColor: '#eeeeee' },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', orient: 'right' },
  title: { fontSize: 14, anchor: 'start', subtitleFontSize: 11, subtitleColor: '#555555' },
  concat: { spacing: 36 },
}

/**
 * A figure: `plots` stacked top to bottom as panels, each under its own title, under
 * `title`; colour scales are each panel's own. A Vega-Lite top-level spec.
 */
export const figure = (title: string, plots: ReadonlyArray<Plot>, subtitle?: string): VegaLiteSpec => ({
  $schema: VEGA_LITE_SCHEMA,
  title: subtitle === undefined ? { text: title } : { text: title, subtitle },
  background: 'white',
  padding: 12,
  vconcat: plots.map((p) => ({ name: p.name, title: { text: p.title, subtitle: p.subtitle, fontSize: 13 }, ...p.view })),
  resolve: { scale: { color: 'independent', shape: 'independent' } },
  config,
})

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** A number as JSON: finite, and rounded to 6 significant digits so the spec (and the SVG) do not carry float noise. */
export const num = (x: number): number => (Number.isFinite(x) ? Number(x.toPrecision(6)) : 0)

/** A tooltip field: its name, title and d3 format. */
export const tip = (field: string, title: string, format?: string, type: 'quantitative' | 'nominal' | 'ordinal' = format === undefined ? 'nominal' : 'quantitative'): VegaLiteSpec => ({
  field,
  title,
  type,
  ...(format === undefined ? {} : { format }),
})
