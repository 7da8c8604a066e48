/**
 * @meshplan/inference: the estimate of one serving deployment and the search over
 * them. The workload (what is served: modes, lengths, arrivals, batch limits), the
 * serving engine (`engines.ts`: batch sizing, chunked prefill, host cost, CUDA graphs,
 * all-reduce, one replaceable record per engine and version range), the estimate (TTFT,
 * TPOT, tokens/s, memory, where a step's time goes) and the search under service-level
 * objectives with its Pareto front. The allocation-free inner loop both share is on the
 * `internal` subpath: a search needs it, a user should not depend on it.
 */
export * from './workload'
export * from './engines'
export { loadImbalance, expectedMaximumChunk, skewedImbalance } from './moe'
export { lengthsOf, type Lengths } from './arrivals'
export { draftLayerBytes, noSpeculation, speculativeOf, type InferenceInput, type Speculation } from './kernel'
export { estimateInference, type InferenceEstimate, type MemoryFigures, type StepBreakdown } from './estimate'
export * from './search'
export { estimateDisaggregated, poolLink, type DisaggregatedEstimate, type DisaggregatedInput, type PoolInput, type PoolMemory } from './disaggregated'
export * from './disaggregated-search'
