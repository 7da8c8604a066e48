/**
 * An accelerator as the cost models see it: how much it holds, how fast it computes
 * in each numeric format, and how fast it reads its own memory.
 *
 * @example
 * import { devices, peakFlops } from '@meshplan/topology'
 * peakFlops('bf16')(devices['h100-sxm']) // some(989.4e12)
 */
import * as O from 'fp-ts/Option'
import type { Bytes, BytesPerSecond, Dtype, FlopsPerSecond } from '@meshplan/units'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** One accelerator. */
export interface Device {
  /** A readable name, e.g. `H100 SXM5 80GB`. */
  readonly name: string
  /** Device memory (HBM or GDDR) in bytes. */
  readonly memory: Bytes
  /** Peak device-memory bandwidth. */
  readonly memoryBandwidth: BytesPerSecond
  /** Dense (no structured sparsity) peak tensor throughput per numeric format; a format the part lacks is absent. */
  readonly peak: Readonly<Partial<Record<Dtype, FlopsPerSecond>>>
  /** Where the figures come from (datasheet, paper), or which of them are assumptions. */
  readonly source: string
  /**
   * The tensor-core generation, when the formats alone would misname it (an fp8 part that
   * is no Hopper: Ada, CDNA 3). Absent, the cost models read it from `peak` (fp4 →
   * Blackwell, fp8 → Hopper, else Ampere).
   */
  readonly generation?: 'ampere' | 'ada' | 'hopper' | 'blackwell' | 'cdna3'
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The dense peak of `device` in `dtype`, if the part computes in it. */
export const peakFlops =
  (dtype: Dtype) =>
  (device: Device): O.Option<FlopsPerSecond> =>
    O.fromNullable(device.peak[dtype])
