/**
 * What a deployment costs to run: a price per GPU-hour turned into the cost of an hour of
 * the whole deployment and into the cost of a million tokens it serves. All the GPUs'
 * time is charged to the tokens: per million output tokens (what a throughput benchmark
 * reports), and per million tokens processed, prompt and output together (input tokens
 * cost GPU time too: a prefill-heavy workload is cheap per token processed and dear per
 * token written). And the reverse: the fewest GPUs that serve a request rate.
 *
 * @example
 * import { costOf } from '@meshplan/planner'
 * costOf({ gpus: 8, outputTokensPerSecond: 10_000, inputTokensPerSecond: 40_000 }, 2)
 * // { pricePerGpuHour: 2, perHour: 16, perMillionOutputTokens: 0.444, perMillionTokens: 0.0889 }
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The cost of running a deployment, in the currency of the price given. */
export interface ServingCost {
  readonly pricePerGpuHour: number
  /** An hour of every GPU of the deployment. */
  readonly perHour: number
  /** The GPUs' time per million output tokens. */
  readonly perMillionOutputTokens: number
  /** The GPUs' time per million tokens processed (prompt and output). */
  readonly perMillionTokens: number
}

/** What the cost of a deployment is computed from. */
export interface Throughput {
  readonly gpus: number
  readonly outputTokensPerSecond: number
  readonly inputTokensPerSecond: number
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/**
 * The cost of `t` at `pricePerGpuHour`: `perHour = gpus · price`, and per million tokens
 * `perHour / 3600 / (tokens/s) · 10⁶`; undefined when the price or a rate is not a
 * positive finite number (no cost is ever infinite).
 */
export const costOf = (t: Throughput, pricePerGpuHour: number): ServingCost | undefined => {
  if (!(pricePerGpuHour > 0 && Number.isFinite(pricePerGpuHour)) || !(t.gpus > 0) || !(t.outputTokensPerSecond > 0 && Number.isFinite(t.outputTokensPerSecond)) || !(t.inputTokensPerSecond >= 0)) return undefined
  const perHour = t.gpus * pricePerGpuHour
  const perSecond = perHour / 3600
  return {
    pricePerGpuHour,
    perHour,
    perMillionOutputTokens: (perSecond / t.outputTokensPerSecond) * 1e6,
    perMillionTokens: (perSecond / (t.outputTokensPerSecond + t.inputTokensPerSecond)) * 1e6,
  }
}
