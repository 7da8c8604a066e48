/**
 * Quantities are plain numbers in base SI units (bytes, seconds, FLOPs, FLOP/s,
 * bytes/s) carrying a compile-time brand, so that a latency cannot be passed where
 * a size is expected. The brand costs nothing at run time: a `Bytes` is a `number`.
 *
 * @example
 * import { bytes, seconds, divide } from '@meshplan/units'
 * const weights = bytes(137.96e9)
 * const t = seconds(weights / 3.35e12) // time to read them once from HBM
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

declare const unitBrand: unique symbol

/** A number measured in `U`. */
export type Quantity<U extends string> = number & { readonly [unitBrand]: U }

/** A size in bytes. */
export type Bytes = Quantity<'B'>
/** A duration in seconds. */
export type Seconds = Quantity<'s'>
/** A count of floating-point operations. */
export type Flops = Quantity<'FLOP'>
/** A rate of floating-point operations per second. */
export type FlopsPerSecond = Quantity<'FLOP/s'>
/** A transfer rate in bytes per second. */
export type BytesPerSecond = Quantity<'B/s'>

/** The five kinds of quantity meshplan reasons about. */
export type QuantityKind = 'bytes' | 'seconds' | 'flops' | 'flopRate' | 'byteRate'

/** The quantity type of each kind. */
export interface QuantityOf {
  readonly bytes: Bytes
  readonly seconds: Seconds
  readonly flops: Flops
  readonly flopRate: FlopsPerSecond
  readonly byteRate: BytesPerSecond
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** Brands a number of bytes. */
export const bytes = (n: number): Bytes => n as Bytes
/** Brands a number of seconds. */
export const seconds = (n: number): Seconds => n as Seconds
/** Brands a number of FLOPs. */
export const flops = (n: number): Flops => n as Flops
/** Brands a number of FLOP/s. */
export const flopsPerSecond = (n: number): FlopsPerSecond => n as FlopsPerSecond
/** Brands a number of bytes per second. */
export const bytesPerSecond = (n: number): BytesPerSecond => n as BytesPerSecond

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** Time to move `size` at `rate`. */
export const transferTime = (rate: BytesPerSecond) => (size: Bytes): Seconds => seconds(size / rate)

/** Time to perform `work` at `rate`. */
export const computeTime = (rate: FlopsPerSecond) => (work: Flops): Seconds => seconds(work / rate)

/** Sum of quantities of one kind. */
export const sum = <Q extends number>(values: ReadonlyArray<Q>): Q => {
  let total = 0
  for (const v of values) total += v
  return total as Q
}
