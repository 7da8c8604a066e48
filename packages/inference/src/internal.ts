/**
 * @meshplan/inference/internal: the inner loop (constants prepared once per deployment,
 * then plain arithmetic per batch), the run-level arithmetic of arrivals and length
 * distributions, MoE balance, and the estimate of prepared constants. Not part of the
 * public API: it may change in any release.
 */
export * from './kernel'
export * from './arrivals'
export * from './moe'
export { batchOf, estimateFrom } from './estimate'
