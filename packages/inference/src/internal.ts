/**
 * @meshplan/inference/internal: the inner loop (constants prepared once per deployment,
 * then plain arithmetic per batch) and the estimate of prepared constants. Not part of
 * the public API: it may change in any release.
 */
export * from './kernel'
export { batchOf, estimateFrom } from './estimate'
