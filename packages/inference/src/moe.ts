/**
 * Mixture-of-experts serving at scale, as the inner loop needs it: how much more than
 * the mean the busiest expert-parallel rank receives, and how many prompt tokens the
 * busiest attention-DP rank carries in a pass when ranks take prompt chunks
 * independently (every rank waits for it at each expert exchange). Plain functions of
 * numbers, no allocation.
 *
 * The busiest expert-parallel rank over the mean is the larger of two figures:
 * - uniform routing (always): balls into bins, {@link loadImbalance}, its excess relieved
 *   by redundant expert slots ({@link routedImbalance});
 * - skewed routing (when the workload gives `hot_expert_share` h, the share of a layer's
 *   token-expert assignments its hottest expert receives, the other E − 1 sharing the
 *   rest evenly, c = (1 − h)/(E − 1) each), placed as DeepSeek's expert-parallel load
 *   balancer places it ({@link skewedImbalance}; EPLB, github.com/deepseek-ai/EPLB,
 *   `eplb.py`): each of the R redundant slots goes to the expert with the largest load
 *   per replica, then every rank holds S = (E + R)/ep replicas, so the busiest carries at
 *   least the mean 1/ep and at least the heaviest replica plus the S − 1 lightest:
 *
 *       skewed = ep · max(1/ep, heaviest + Σ of the S − 1 lightest replicas)
 *
 *   Without redundant slots (a static placement) the rank of the hot expert carries
 *   h + (S − 1)·c.
 *
 * @example
 * import { loadImbalance, expectedMaximumChunk, skewedImbalance } from '@meshplan/inference'
 * loadImbalance(131_072, 64)          // 1.0637: 131,072 token-expert assignments over 64 GPUs
 * expectedMaximumChunk(1024, 0.1, 8)  // 583.2 = 1024 · (1 − 0.9^8): one rank in ten prefills a 1024-token chunk; the busiest of 8
 * skewedImbalance(256, 0, 64, 0.05)   // 3.9153 = 64 · (0.05 + 3 · 0.95/255): a 5% expert on a rank of 4 slots
 * skewedImbalance(256, 64, 64, 0.05)  // 1: 13 more replicas of it and 51 of cold experts, packed 5 to a rank, fit under the mean
 */
import type { InferenceConstants } from './kernel'

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/**
 * The busiest of `bins` GPUs over the mean when `assignments` token-expert
 * assignments land uniformly at random: `1 + sqrt(2 · ln(bins) · bins / assignments)`,
 * from the maximum load `m/n + sqrt(2 · (m/n) · ln n)` of m balls in n bins when
 * m ≫ n ln n (Raab & Steger 1998, "Balls into Bins — A Simple and Tight Analysis",
 * theorem 1). 1 for a single bin or no traffic. A trained router is no better than
 * uniform unless it is balanced explicitly (auxiliary loss, capacity factor, DeepSeek's
 * bias terms), and real routers are usually worse: a lower bound.
 */
export const loadImbalance = (assignments: number, bins: number): number =>
  bins <= 1 || assignments <= 0 ? 1 : 1 + Math.sqrt((2 * Math.log(bins) * bins) / assignments)

/**
 * The busiest expert-parallel rank's share of the routed tokens over the mean, when
 * each replica's pass routes `tokens` tokens: {@link loadImbalance} of the expert
 * group's `dp · tokens / edp · topK` assignments over its `ep` ranks. Redundant slots
 * (EPLB: `redundant` extra replicas of the hottest experts) let the balancer move the
 * excess of an overloaded rank to a replica; we take the excess over the mean to fall in
 * proportion to the experts that have no replica, `experts / (experts + redundant)` (an
 * assumption of the model, not a measured constant: with as many replicas as experts
 * every token has two places to go).
 */
export const routedImbalance = (c: InferenceConstants, tokens: number): number => {
  if (c.ep <= 1 || c.topK === 0) return 1
  const assignments = ((c.dp * tokens) / c.edp) * c.topK
  const excess = loadImbalance(assignments, c.ep) - 1
  const uniform = 1 + (excess * c.experts) / (c.experts + c.redundantExperts)
  // a hot expert (workload.hotExpertShare): the larger of the two, {@link skewedImbalance} prepared once (1 without a share)
  const skewed = c.hotExpertImbalance
  return skewed > uniform ? skewed : uniform
}

/**
 * The busiest of `ep` expert-parallel ranks over the mean when one of `experts` (E)
 * experts of a layer receives the share `hotShare` (h) of its token-expert assignments
 * and the other E − 1 share the rest evenly, c = (1 − h)/(E − 1) each, with `redundant`
 * (R) extra slots, S = (E + R)/ep replicas per rank (the parallelism algebra makes ep
 * divide E + R; otherwise the whole part, still a lower bound).
 *
 * - Replication (EPLB, github.com/deepseek-ai/EPLB, `eplb.py` `replicate_experts`: each
 *   redundant slot in turn goes to the expert whose load per replica is largest; the
 *   DeepSeek-V3 technical report, section 3.4, duplicates high-load experts into its
 *   redundant experts): a replica carries its expert's load over its replicas. Ties go
 *   to the hot expert (`eplb.py` takes the first of the largest; any will do).
 * - Packing (`eplb.py` `balanced_packing`: replicas heaviest first to the lightest rank
 *   with a free slot, so the heaviest is paired with the lightest): every rank holds S
 *   replicas, so the rank of the heaviest replica carries at least it plus the S − 1
 *   lightest; and the busiest rank at least the mean, 1/ep of the whole.
 *
 *     skewedImbalance = ep · max(1/ep, heaviest + Σ of the S − 1 lightest replicas)
 *
 * With R = 0 (a static placement; h ≥ 1/E makes h ≥ c) it is `ep · (h + (S − 1)·c)`;
 * with h = 1/E and R = 0, 1. One rank or one expert: 1. Plain arithmetic, O(R), no
 * allocation: `prepareInference` calls it once per deployment.
 */
export const skewedImbalance = (experts: number, redundant: number, ep: number, hotShare: number): number => {
  if (ep <= 1 || experts <= 1) return 1
  const cold = (1 - hotShare) / (experts - 1)
  // replication: the hot expert's replicas; every cold expert has `coldReplicas`, `coldAhead` of them one more
  let hotReplicas = 1
  let coldReplicas = 1
  let coldAhead = 0
  for (let slot = 0; slot < redundant; slot++) {
    if (hotShare / hotReplicas >= cold / coldReplicas) hotReplicas++
    else if (++coldAhead === experts - 1) {
      coldReplicas++
      coldAhead = 0
    }
  }
  // the replicas' loads, three classes: the hot expert's, the cold experts' with `coldReplicas`, those with one more (lighter)
  const hotLoad = hotShare / hotReplicas
  const coldLoad = cold / coldReplicas
  const aheadLoad = cold / (coldReplicas + 1)
  const aheadCount = coldAhead * (coldReplicas + 1)
  // the heaviest replica is the hot expert's or a cold one's with `coldReplicas` (there is one: coldAhead < E − 1), not among the lightest
  const hotHeaviest = hotLoad > coldLoad
  const heaviest = hotHeaviest ? hotLoad : coldLoad
  const hotCount = hotHeaviest ? hotReplicas - 1 : hotReplicas
  const coldCount = (experts - 1 - coldAhead) * coldReplicas - (hotHeaviest ? 0 : 1)
  const slots = Math.floor((experts + redundant) / ep)
  const others = slots > 1 ? slots - 1 : 0
  const lightest =
    hotLoad <= aheadLoad
      ? lightestSum(others, hotLoad, hotCount, aheadLoad, aheadCount, coldLoad, coldCount)
      : hotLoad <= coldLoad
        ? lightestSum(others, aheadLoad, aheadCount, hotLoad, hotCount, coldLoad, coldCount)
        : lightestSum(others, aheadLoad, aheadCount, coldLoad, coldCount, hotLoad, hotCount)
  const busiest = heaviest + lightest
  return busiest * ep > 1 ? busiest * ep : 1
}

/** The sum of the `n` lightest replicas of three classes in ascending order of load: `count` replicas of `load` each. */
const lightestSum = (n: number, load1: number, count1: number, load2: number, count2: number, load3: number, count3: number): number => {
  const first = n < count1 ? n : count1
  const second = n - first < count2 ? n - first : count2
  const third = n - first - second < count3 ? n - first - second : count3
  return first * load1 + second * load2 + third * load3
}

/**
 * The expected largest of `ranks` independent chunks, each rank prefilling `chunk`
 * tokens with probability `p` in a pass and nothing otherwise:
 * `chunk · (1 − (1 − p)^ranks)` (the probability that at least one does).
 */
export const expectedMaximumChunk = (chunk: number, p: number, ranks: number): number => chunk * (1 - Math.pow(1 - (p > 1 ? 1 : p), ranks))

/**
 * Prompt tokens on the busiest attention-DP rank in a pass where each rank prefills
 * `tokens` on average beside `decode` decode tokens. Without balancing, a rank takes its
 * own prompts as they come, a chunk of `S = min(prompt, budget − decode)` tokens in a
 * fraction `p = tokens / S` of the passes, and the busiest of the ranks that meet at the
 * expert exchange sets the pace: {@link expectedMaximumChunk}. TensorRT-LLM's blog on
 * attention-DP balance describes exactly this (the per-iteration time is the busiest
 * rank's; ranks in a context phase stall ranks in generation) and measures a mean
 * balance ratio (mean over max tokens per iteration) of 54% for round-robin scheduling
 * and 88% with its balancing (NVIDIA, "ADP Balance Strategy", tech blog 10, table
 * "Performance Summary"). With `attentionDpBalance` the ranks take their chunks in the
 * same passes (the balance strategy's context wait), so the busiest carries the mean.
 */
export const busiestPrefill = (c: InferenceConstants, tokens: number, decode: number): number => {
  if (tokens <= 0 || c.attentionDpRanks <= 1 || c.engine.attentionDpBalance) return tokens
  const room = c.maxNumTokens - decode
  const prompt = c.input.workload.inputTokens
  const chunk = room < prompt ? (room > 1 ? room : 1) : prompt
  const size = chunk > tokens ? chunk : tokens
  return expectedMaximumChunk(size, tokens / size, c.attentionDpRanks)
}
