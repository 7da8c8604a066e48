/**
 * @meshplan/plots: meshplan's answers as plots. Pure functions from an estimate or a
 * search to a Vega-Lite view (`Plot`), stacked into one spec by `figure`, which a browser
 * renders interactively (vega-embed) and `toSvg` renders to SVG in Node, without a
 * browser or a canvas, the same bytes for the same input: the Pareto front of a serving
 * search, where a step goes, memory per GPU against capacity, the pipeline schedule of a
 * training step, and the roofline of a step's operators.
 */
export * from './spec'
export * from './render'
export { segmentsOf, type Segment } from './bars'
export * from './pareto'
export * from './breakdown'
export * from './memory'
export * from './schedule'
export * from './roofline'
export * from './figures'
