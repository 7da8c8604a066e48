/**
 * The time a long training run loses to failures and checkpoints, and the checkpoint
 * interval that loses least.
 *
 * A run on `N` GPUs that each fail at `λ` per hour fails, as a whole, every
 * `M = 1 / (N·λ)` hours on average (independent failures, exponential times between
 * them). Every `τ` seconds of training it writes a checkpoint of its model state in `δ`
 * seconds (`δ = bytes / write bandwidth`: weights, fp32 master weights and the optimizer
 * moments, i.e. `(w + K)` bytes per parameter); after a failure it restarts in `R`
 * seconds (detect, reschedule, reload) and redoes the work since the last checkpoint.
 *
 * - Expected wall time per unit of work (Daly 2006, "A higher order estimate of the
 *   optimum checkpoint interval for restart dumps", Future Generation Computer Systems
 *   22(3), the complete cost function): `T_wall / T_solve = M·e^{R/M}·(e^{(τ + δ)/M} − 1) / τ`; the
 *   goodput is its inverse, the fraction of wall time that advances training. Without
 *   failures (`M → ∞`) it is `τ / (τ + δ)`.
 * - The interval that minimises it (Daly 2006, the perturbation solution): for `δ < 2M`,
 *   `τ = √(2δM)·(1 + ⅓·√(δ/2M) + ⅑·(δ/2M)) − δ`, else `τ = M`. Its first term is Young's
 *   (Young 1974, "A first order approximation to the optimum checkpoint interval",
 *   CACM 17(9)): `√(2δM)`.
 *
 * The failure rate to start from, when a user has none of their own: Llama 3 405B's
 * pre-training saw 419 unexpected interruptions in 54 days on up to 16,384 H100 GPUs
 * (Dubey et al. 2024, "The Llama 3 Herd of Models", section 3.3.4 and table 5), about
 * 419 / (54 · 24 · 16,384) = 1.97e-5 per GPU-hour.
 *
 * @example
 * import { goodput } from '@meshplan/training'
 * goodput({ gpus: 16384, failuresPerGpuHour: 1.97e-5, checkpointSeconds: 60, restartSeconds: 600 })
 * // right({ mtbfSeconds: 11,154 (3.1 h), intervalSeconds: 1,117 (Daly's optimum), goodput: 0.853, ... })
 */
import * as E from 'fp-ts/Either'
import type { CostModels } from '@meshplan/cost-models'
import { parameterCounts, type Architecture, type Precision } from '@meshplan/model'
import { bytesPerElement } from '@meshplan/units'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Failures per GPU-hour in Llama 3 405B's pre-training: 419 unexpected interruptions in 54 days on 16,384 GPUs (Dubey et al. 2024, section 3.3.4, table 5). */
export const LLAMA3_FAILURES_PER_GPU_HOUR = 419 / (54 * 24 * 16_384)

/** What the goodput of a run depends on. */
export interface GoodputInput {
  readonly gpus: number
  /** Failures per GPU per hour (`λ`). */
  readonly failuresPerGpuHour: number
  /** Seconds to write one checkpoint (`δ`), training paused. */
  readonly checkpointSeconds: number
  /** Seconds from a failure to training again (`R`): detect, reschedule, load the checkpoint. */
  readonly restartSeconds: number
  /** Seconds of training between checkpoints (`τ`); absent: the interval that maximises the goodput. */
  readonly intervalSeconds?: number
}

/** The goodput of a run and the interval it was computed at. */
export interface Goodput {
  /** Mean time between failures of the whole run (`M`). */
  readonly mtbfSeconds: number
  readonly checkpointSeconds: number
  readonly restartSeconds: number
  /** Young's interval `√(2δM)`. */
  readonly youngIntervalSeconds: number
  /** Daly's optimum (above), the interval that maximises the goodput. */
  readonly optimalIntervalSeconds: number
  /** The interval the goodput is computed at: the one given, else the optimum. */
  readonly intervalSeconds: number
  /** The fraction of wall time that advances training, in (0, 1]. */
  readonly goodput: number
  /** The goodput at the optimum (equal to `goodput` when no interval was given). */
  readonly optimalGoodput: number
}

/** Why a goodput cannot be computed: the field and what was expected. */
export interface GoodputError {
  readonly field: keyof GoodputInput
  readonly message: string
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** Daly's optimal checkpoint interval for write time `delta` and mean time between failures `mtbf` (Daly 2006; its figures 3 to 5: R = 10 min, δ = 5 min, M = 24 h, 6 h, 15 min give 117, 57 and 9.1 min). */
export const dalyInterval = (delta: number, mtbf: number): number => {
  if (delta >= 2 * mtbf) return mtbf
  const x = delta / (2 * mtbf)
  return Math.sqrt(2 * delta * mtbf) * (1 + Math.sqrt(x) / 3 + x / 9) - delta
}

/** The fraction of wall time that advances training at interval `tau` (Daly 2006's wall time per unit of work, inverted). */
export const goodputAt = (tau: number, delta: number, restart: number, mtbf: number): number =>
  // e^{(τ+δ)/M} − 1 as expm1 keeps its digits when M is large against τ + δ
  tau / (mtbf * Math.exp(restart / mtbf) * Math.expm1((tau + delta) / mtbf))

const positiveFinite = (n: number): boolean => Number.isFinite(n) && n > 0

/** The least goodput reported: below it a run does not advance. */
const MIN_GOODPUT = 1e-3

/** The goodput of `input` (see the module comment), or the field that makes it meaningless. */
export const goodput = (input: GoodputInput): E.Either<GoodputError, Goodput> => {
  const { gpus, failuresPerGpuHour: rate, checkpointSeconds: delta, restartSeconds: restart } = input
  if (!(Number.isSafeInteger(gpus) && gpus >= 1)) return E.left({ field: 'gpus', message: `gpus: expected a whole number of GPUs, got ${gpus}` })
  // without failures, or with free checkpoints, the question has no answer (the best interval is infinite, or zero)
  if (!(Number.isFinite(rate) && rate > 0 && rate < 1)) return E.left({ field: 'failuresPerGpuHour', message: `failures per GPU-hour: expected a rate above 0 and below 1, got ${rate}` })
  if (!positiveFinite(delta)) return E.left({ field: 'checkpointSeconds', message: `checkpoint seconds: expected a finite time above 0, got ${delta}` })
  if (!(Number.isFinite(restart) && restart >= 0)) return E.left({ field: 'restartSeconds', message: `restart seconds: expected a finite time of 0 or more, got ${restart}` })
  if (input.intervalSeconds !== undefined && !positiveFinite(input.intervalSeconds)) {
    return E.left({ field: 'intervalSeconds', message: `checkpoint interval: expected a finite time above 0, got ${input.intervalSeconds}` })
  }
  const mtbf = 3600 / (gpus * rate)
  if (delta >= 2 * mtbf) {
    return E.left({ field: 'checkpointSeconds', message: `a checkpoint takes ${delta.toPrecision(3)} s, more than twice the ${mtbf.toPrecision(3)} s between failures: the run cannot keep one` })
  }
  const optimal = dalyInterval(delta, mtbf)
  const young = Math.sqrt(2 * delta * mtbf)
  const tau = input.intervalSeconds ?? optimal
  const best = goodputAt(optimal, delta, restart, mtbf)
  const at = goodputAt(tau, delta, restart, mtbf)
  // below a thousandth of the wall time training, the run does not advance: no figure worth printing
  if (!(at >= MIN_GOODPUT && at <= 1 && best >= MIN_GOODPUT && best <= 1)) {
    return E.left({ field: 'failuresPerGpuHour', message: `the run fails every ${(mtbf / 3600).toPrecision(3)} hours on average, too often to advance (less than ${MIN_GOODPUT} of the wall time trains): a checkpoint takes ${delta} s and a restart ${restart} s` })
  }
  return E.right({
    mtbfSeconds: mtbf,
    checkpointSeconds: delta,
    restartSeconds: restart,
    youngIntervalSeconds: young,
    optimalIntervalSeconds: optimal,
    intervalSeconds: tau,
    goodput: at,
    optimalGoodput: best,
  })
}

/**
 * Bytes of one checkpoint of `model`'s training state: every parameter in the weights'
 * format and its optimizer state (`models.memory.optimizerBytesPerParameter`, K = 12 for
 * mixed-precision Adam: fp32 master weight, momentum and variance; Rajbhandari et al.
 * 2020, ZeRO, section 3.1), gradients not kept: `(w + K)·Ψ`, 14 bytes per parameter in
 * bf16 (GPT-3 175B: 2.45 TB).
 */
export const checkpointBytes = (models: CostModels, model: Architecture, precision: Precision): number =>
  parameterCounts(model).total * (bytesPerElement(precision.weights) + models.memory.optimizerBytesPerParameter)
