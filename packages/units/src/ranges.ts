/**
 * The physical range of every figure meshplan reads from a user, stated once with its
 * reason. A decoded quantity outside its range is a decode error at its path, never a
 * number that flows on: `"1e300PB"` of device memory is Infinity bytes, and a bandwidth
 * of `5e-324` B/s makes every transfer take forever; both would come back as NaN or
 * Infinity in an estimate. The bounds are loose on purpose (a factor of 10 to 1000
 * beyond today's hardware), so that they refuse nonsense, not next year's GPU.
 *
 * @example
 * import { physical, inRange } from '@meshplan/units'
 * inRange(physical.deviceMemory)(80e9)   // true
 * inRange(physical.deviceMemory)(1e300)  // false
 * rangeText(physical.deviceMemory)       // 'from 1 MB to 100 TB (...)'
 */
import * as t from 'io-ts'
import { quantity } from './codec'
import { formatQuantity } from './format'
import type { QuantityKind, QuantityOf } from './quantity'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A closed range of a quantity, in base units, with why it is the range. */
export interface PhysicalRange {
  readonly kind: QuantityKind | 'count'
  readonly min: number
  readonly max: number
  readonly why: string
}

/** Every range meshplan enforces at its boundary. */
export const physical = {
  /** Memory of one device. */
  deviceMemory: { kind: 'bytes', min: 1e6, max: 1e14, why: 'a device memory; the largest in 2026 is 288 GB' },
  /** Host (CPU) memory of one node. */
  hostMemory: { kind: 'bytes', min: 1e6, max: 1e15, why: 'the host memory of one node; large servers hold a few TB' },
  /** Bandwidth of a device's memory or of one link. */
  bandwidth: { kind: 'byteRate', min: 1e6, max: 1e14, why: 'a memory or link bandwidth; the fastest HBM in 2026 is 8 TB/s' },
  /** Dense peak compute of one device in one format. */
  peakRate: { kind: 'flopRate', min: 1e9, max: 1e17, why: 'a dense peak per device; the largest in 2026 is 20 PFLOP/s of fp4' },
  /** Latency of one hop. */
  latency: { kind: 'seconds', min: 0, max: 1, why: 'a link latency; networks answer in microseconds' },
  /** Devices in one cluster. */
  devices: { kind: 'count', min: 1, max: 2 ** 20, why: 'GPUs of one cluster; the largest built by 2026 hold about 200,000' },
  /** Tokens of one sequence, prompt or output. */
  tokens: { kind: 'count', min: 1, max: 2 ** 31 - 1, why: 'tokens of a sequence' },
  /** Sequences or requests in a batch or a run. */
  sequences: { kind: 'count', min: 1, max: 2 ** 31 - 1, why: 'sequences or requests' },
} as const satisfies Readonly<Record<string, PhysicalRange>>

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** Whether `n` is a finite number inside `range`. */
export const inRange =
  (range: PhysicalRange) =>
  (n: number): boolean =>
    Number.isFinite(n) && n >= range.min && n <= range.max

const bound = (range: PhysicalRange, n: number): string =>
  range.kind === 'count' ? n.toLocaleString('en-US') : formatQuantity(range.kind)(n)

/** `from 1 MB to 100 TB (a device memory; ...)`. */
export const rangeText = (range: PhysicalRange): string => `from ${bound(range, range.min)} to ${bound(range, range.max)} (${range.why})`

/**
 * A quantity codec (a number in base units or a string with units, as `quantity`)
 * that also refuses a value outside `range`, naming the range and its reason.
 */
export const physicalQuantity = <K extends QuantityKind>(kind: K, range: PhysicalRange): t.Type<QuantityOf[K], string | number, unknown> => {
  const base = quantity(kind, range.min > 0 ? 'positive' : 'nonNegative')
  const test = inRange(range)
  return new t.Type<QuantityOf[K], string | number, unknown>(
    `${base.name}, ${rangeText(range)}`,
    (u): u is QuantityOf[K] => base.is(u) && test(u),
    (u, c) => {
      const r = base.validate(u, c)
      // a string that parses to no finite number ("1e300PB") is out of the range too: say which range
      if (r._tag === 'Left') return t.failure(u, c, `expected ${base.name}, ${rangeText(range)}`)
      return test(r.right) ? r : t.failure(u, c, `expected ${rangeText(range)}`)
    },
    base.encode,
  )
}

/** A plain number (in the range's unit, times `scale` to base units) inside `range`: the case format's numbers in GiB, TB/s, TFLOP/s. */
export const physicalNumber = (range: PhysicalRange, scale = 1, unit = ''): t.Type<number, number, unknown> => {
  const test = (n: number): boolean => inRange(range)(n * scale)
  const name = `a number${unit === '' ? '' : ` of ${unit}`} ${rangeText(range)}`
  return new t.Type<number, number, unknown>(
    name,
    (u): u is number => typeof u === 'number' && test(u),
    (u, c) => (typeof u === 'number' && test(u) ? t.success(u) : t.failure(u, c)),
    (a) => a,
  )
}

/** A whole number inside a count range. */
export const physicalCount = (range: PhysicalRange): t.Type<number, number, unknown> => {
  const test = (n: number): boolean => Number.isInteger(n) && inRange(range)(n)
  return new t.Type<number, number, unknown>(
    `a whole number ${rangeText(range)}`,
    (u): u is number => typeof u === 'number' && test(u),
    (u, c) => (typeof u === 'number' && test(u) ? t.success(u) : t.failure(u, c)),
    (a) => a,
  )
}
