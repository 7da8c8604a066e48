/**
 * Mixture-of-experts serving at scale, as the inner loop needs it: how much more than
 * the mean the busiest expert-parallel rank receives (routing imbalance, relieved by
 * redundant expert slots), and how many prompt tokens the busiest attention-DP rank
 * carries in a pass when ranks take prompt chunks independently (every rank waits for
 * it at each expert exchange). Plain functions of numbers, no allocation.
 *
 * @example
 * import { loadImbalance, expectedMaximumChunk } from '@meshplan/inference'
 * loadImbalance(131_072, 64)          // 1.0637: 131,072 token-expert assignments over 64 GPUs
 * expectedMaximumChunk(1024, 0.1, 8)  // 583.2 = 1024 · (1 − 0.9^8): one rank in ten prefills a 1024-token chunk; the busiest of 8
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
  return 1 + (excess * c.experts) / (c.experts + c.redundantExperts)
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
