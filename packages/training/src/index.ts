/**
 * @meshplan/training: the estimate of one training step and the exhaustive search over
 * training plans. The workload (global and micro-batch, sequence, recomputation, ZeRO),
 * the estimate (iteration time, tokens/s, MFU, where the step goes, memory per stage)
 * and the search over strategies, micro-batches, recomputation and ZeRO stages on
 * worker threads. The allocation-free inner loop is on the `internal` subpath.
 */
export * from './workload'
export type { TrainingInput } from './kernel'
export * from './estimate'
export {
  planTraining,
  type SearchProgress,
  foldEquivalents,
  type EquivalentCandidate,
  type TrainingCandidate,
  type TrainingPlan,
  type TrainingRejections,
  type TrainingSearchInput,
  type TrainingSearchOptions,
  type TrainingSpace,
} from './search'
export * from './goodput'
