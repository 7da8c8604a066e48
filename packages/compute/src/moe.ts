/**
 * Mixture-of-experts routing as the cost model needs it: how many tokens each expert
 * gets, how many distinct experts a step touches (only those have their weights read),
 * and what one GPU of an expert-parallel layout receives.
 *
 * @example
 * import { expectedExpertsTouched, tokensPerExpert } from '@meshplan/compute'
 * expectedExpertsTouched(64, 2)(1)   // 2: one token touches its top-2
 * expectedExpertsTouched(64, 2)(32)  // 40.83 = 64·(1 − (62/64)^32)
 * tokensPerExpert(64, 2)(4096)       // 128 = 4096·2/64
 */
import * as E from 'fp-ts/Either'
import { computeError, type ComputeError } from './error'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What one GPU of an MoE layer receives in a step. */
export interface RoutedShare {
  /** Distinct tokens one expert-parallel group routes: `dp · tokensPerReplica / edp`. */
  readonly groupTokens: number
  /** Token-expert assignments landing on this GPU's experts (times the load imbalance, capped). */
  readonly assignments: number
  /** Expected distinct experts of this GPU's `E/ep` that receive at least one token. */
  readonly expertsTouched: number
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/**
 * Mean tokens per expert: `tokens · topK / experts`, times a load-imbalance factor
 * (1 for perfectly balanced routing; the busiest expert of a real router gets more,
 * e.g. Switch Transformer's capacity factor 1.25, Fedus et al. 2021, section 2.2).
 */
export const tokensPerExpert =
  (experts: number, topK: number, imbalance = 1) =>
  (tokens: number): number =>
    (tokens * topK * imbalance) / experts

/**
 * Expected distinct experts touched when `tokens` tokens each choose `topK` of
 * `experts` uniformly: an expert is missed by one token with probability `1 − k/E`,
 * by all `B` with `(1 − k/E)^B`, so `E · (1 − (1 − k/E)^B)` (linearity of expectation
 * over the experts' indicator variables; uniform, independent routing assumed).
 */
export const expectedExpertsTouched =
  (experts: number, topK: number) =>
  (tokens: number): number =>
    experts * (1 - Math.pow(1 - topK / experts, tokens))

/**
 * What one GPU of an MoE layer gets under expert parallelism `ep`, expert tensor
 * parallelism `etp` and expert data parallelism `edp` (Megatron-Core's parallel
 * folding; see @meshplan/parallelism): each EP group routes `groupTokens = dp·T/edp`
 * distinct tokens (T: tokens of one replica), each to `topK` of `E` experts; this GPU
 * holds `E/ep` of them, so it receives `groupTokens·topK/ep` assignments on average,
 * times `imbalance` for the busiest GPU (never more than `groupTokens·min(topK, E/ep)`),
 * and `(E/ep)·(1 − (1 − k/E)^groupTokens)` of its experts are touched.
 */
export const routedShare = (p: {
  readonly experts: number
  readonly topK: number
  readonly ep: number
  readonly edp: number
  readonly dp: number
  readonly replicaTokens: number
  readonly imbalance: number
}): RoutedShare => {
  const groupTokens = (p.dp * p.replicaTokens) / p.edp
  const local = p.experts / p.ep
  const mean = (groupTokens * p.topK) / p.ep
  const assignments = Math.min(mean * p.imbalance, groupTokens * Math.min(p.topK, local))
  const expertsTouched = expectedExpertsTouched(p.experts, p.topK)(groupTokens) / p.ep
  return { groupTokens, assignments, expertsTouched }
}

/** Checks a load-imbalance factor: a finite number of at least 1. */
export const validateImbalance = (imbalance: number): E.Either<ComputeError, number> =>
  Number.isFinite(imbalance) && imbalance >= 1
    ? E.right(imbalance)
    : E.left(computeError('invalid-size', `MoE load imbalance must be a finite number of at least 1, got ${imbalance}`, { imbalance }))
