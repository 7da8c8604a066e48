/**
 * @meshplan/training/internal: the inner loop (constants per model and cluster, per
 * strategy and per micro-batch shape; plain arithmetic per candidate) and one worker's
 * share of the search. Not part of the public API: it may change in any release.
 */
export * from './kernel'
export { searchTrainingSlice, type Ranked, type SliceResult } from './search'
