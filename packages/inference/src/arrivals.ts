/**
 * How requests arrive and how long their outputs are, as the run-level arithmetic of
 * the estimate needs them: the output-length distribution a workload states (fixed,
 * uniform around the mean, or ShareGPT's long tail), the context a sequence holds in the
 * KV cache on average while it runs, and how many sequences are still running a given
 * number of steps after the queue of a finite run has emptied (its ramp-down tail).
 * Plain functions of numbers, no allocation once a {@link Lengths} is built.
 *
 * @example
 * import { lengthsOf, survival, residualSurvival } from '@meshplan/inference/internal'
 * const l = lengthsOf({ mode: 'max_throughput', inputTokens: 217, outputTokens: 201, lengthDistribution: 'sharegpt' })
 * survival(l, 201)          // ≈ 0.37: the share of outputs longer than the mean (exponential)
 * residualSurvival(l, 201)  // ≈ 0.37: the share of running sequences with 201 more tokens to go
 */
import type { InferenceWorkload } from './workload'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Output lengths: `fixed` at the mean, `uniform` on [low, high], or `exponential` of scale `scale` truncated at `high`. */
export interface Lengths {
  readonly kind: 'fixed' | 'uniform' | 'exponential'
  readonly mean: number
  readonly low: number
  /** The longest output (the truncation of an exponential, Infinity when there is none). */
  readonly high: number
  /** The exponential's scale θ (its mean before truncation); the mean for the others. */
  readonly scale: number
}

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

/**
 * The longest prompt plus output the ShareGPT benchmarks keep: 2048 tokens. vLLM's
 * `vllm/benchmarks/datasets.py` `is_valid_sequence` (used by `vllm bench serve` and
 * `vllm bench throughput` for ShareGPT) drops a conversation whose prompt exceeds 1024
 * tokens or whose prompt and output exceed `max_total_len = 2048`; SGLang's
 * `bench_serving` copies the same filter.
 */
export const SHAREGPT_MAX_TOTAL_TOKENS = 2048

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The mean of an exponential of scale θ truncated at L: `θ − L·e^{−L/θ} / (1 − e^{−L/θ})`. */
export const truncatedExponentialMean = (scale: number, high: number): number => {
  if (!Number.isFinite(high)) return scale
  const tail = Math.exp(-high / scale)
  return scale - (high * tail) / (1 - tail)
}

/**
 * The output lengths `w` states. `uniform` with range ratio r: U[mean·(1 − r),
 * mean·(1 + r)] (vLLM's random dataset, `--random-range-ratio`). `sharegpt`: an
 * exponential distribution, the shape production chat outputs follow (ServeGen, Xiang
 * et al. 2025, arXiv:2505.09999, section 3.2: output lengths fit by exponential
 * distributions) and the long-tailed ShareGPT histogram of the vLLM paper (Kwon et al.
 * 2023, figure 11a), truncated where the benchmarks cut a conversation
 * ({@link SHAREGPT_MAX_TOTAL_TOKENS} minus the mean prompt; no truncation when that
 * leaves less than twice the mean), with its scale solved so that the truncated mean is
 * the stated mean.
 */
export const lengthsOf = (w: InferenceWorkload): Lengths => {
  const mean = w.outputTokens
  switch (w.lengthDistribution) {
    case 'uniform': {
      const r = w.rangeRatio ?? 0
      return { kind: r > 0 ? 'uniform' : 'fixed', mean, low: mean * (1 - r), high: mean * (1 + r), scale: mean }
    }
    case 'sharegpt': {
      const cut = SHAREGPT_MAX_TOTAL_TOKENS - w.inputTokens
      const high = cut >= 2 * mean ? cut : Number.POSITIVE_INFINITY
      // the truncated mean rises with the scale: bisect on [mean, 2·mean·high]
      let lo = mean
      let hi = Number.isFinite(high) ? 1e3 * high : mean
      for (let i = 0; i < 100 && Number.isFinite(high); i++) {
        const mid = (lo + hi) / 2
        if (truncatedExponentialMean(mid, high) < mean) lo = mid
        else hi = mid
      }
      return { kind: 'exponential', mean, low: 0, high, scale: (lo + hi) / 2 }
    }
    default:
      return { kind: 'fixed', mean, low: mean, high: mean, scale: mean }
  }
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** P(output > s). */
export const survival = (l: Lengths, s: number): number => {
  if (s < 0) return 1
  switch (l.kind) {
    case 'fixed':
      return s < l.mean ? 1 : 0
    case 'uniform':
      return s < l.low ? 1 : s >= l.high ? 0 : (l.high - s) / (l.high - l.low)
    case 'exponential': {
      if (s >= l.high) return 0
      const tail = Number.isFinite(l.high) ? Math.exp(-l.high / l.scale) : 0
      return (Math.exp(-s / l.scale) - tail) / (1 - tail)
    }
  }
}

/** `∫_s^∞ P(output > x) dx`, the expected output beyond s (closed forms). */
export const survivalIntegral = (l: Lengths, s: number): number => {
  const x = s < 0 ? 0 : s
  switch (l.kind) {
    case 'fixed':
      return x < l.mean ? l.mean - x : 0
    case 'uniform': {
      if (x >= l.high) return 0
      if (x >= l.low) return (l.high - x) ** 2 / (2 * (l.high - l.low))
      return l.low - x + (l.high - l.low) / 2
    }
    case 'exponential': {
      if (x >= l.high) return 0
      if (!Number.isFinite(l.high)) return l.scale * Math.exp(-x / l.scale)
      const tail = Math.exp(-l.high / l.scale)
      return (l.scale * (Math.exp(-x / l.scale) - tail) - (l.high - x) * tail) / (1 - tail)
    }
  }
}

/**
 * P(a running sequence has more than r tokens to go) in a steady state where finished
 * sequences are replaced at once: the equilibrium residual life of a renewal process,
 * `(1/μ) ∫_r^∞ P(output > x) dx` (Cox 1962, "Renewal Theory", section 5.2; Kleinrock
 * 1975, "Queueing Systems" vol. 1, equation 5.11). For fixed lengths L it falls linearly
 * from 1 to 0 over L; for an exponential it is the exponential itself.
 */
export const residualSurvival = (l: Lengths, r: number): number => survivalIntegral(l, r) / l.mean

/**
 * Output tokens a running sequence has produced on average in that steady state:
 * `E[O²] / (2 E[O])` (the mean age of a renewal process, Cox 1962 section 5.2; for
 * fixed L it is L/2). With `E[O²]`: fixed L², uniform μ²(1 + r²/3), exponential 2θ²
 * (truncation at L: `2∫_0^L x·S(x) dx`, in closed form below).
 */
export const meanAge = (l: Lengths): number => {
  switch (l.kind) {
    case 'fixed':
      return l.mean / 2
    case 'uniform': {
      const second = (l.high ** 3 - l.low ** 3) / (3 * (l.high - l.low))
      return second / (2 * l.mean)
    }
    case 'exponential': {
      const t = l.scale
      if (!Number.isFinite(l.high)) return (2 * t * t) / (2 * l.mean)
      // E[O²] = 2 ∫_0^L x S(x) dx with S(x) = (e^{−x/θ} − e^{−L/θ}) / (1 − e^{−L/θ})
      const L = l.high
      const tail = Math.exp(-L / t)
      const integral = (t * t * (1 - tail) - t * L * tail - (tail * L * L) / 2) / (1 - tail)
      return (2 * integral) / (2 * l.mean)
    }
  }
}

/**
 * Sequences still running s steps after `count` of them: started together
 * (`residual` false: `count · P(output > s)`), or caught in a steady state when the queue
 * empties (`residual` true: `count · P(residual > s)`).
 */
export const runningAfter = (l: Lengths, count: number, residual: boolean, s: number): number =>
  count * (residual ? residualSurvival(l, s) : survival(l, s))

/**
 * The steps until the expected number of running sequences falls to one half (about
 * when the last one ends: for n exponential lengths `θ·ln 2n` against the expected
 * maximum `θ·(ln n + 0.577)`), by bisection; at most the longest output.
 */
export const tailSteps = (l: Lengths, count: number, residual: boolean): number => {
  const limit = Number.isFinite(l.high) ? l.high : 60 * l.scale
  if (runningAfter(l, count, residual, 0) <= 0.5) return 0
  if (runningAfter(l, count, residual, limit) > 0.5) return limit
  let lo = 0
  let hi = limit
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2
    if (runningAfter(l, count, residual, mid) > 0.5) lo = mid
    else hi = mid
  }
  return hi
}
