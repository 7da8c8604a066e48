/**
 * Formatting of quantities for tables: the value is scaled to the prefix that puts
 * it in [1, 1000) and printed with a fixed number of significant digits.
 *
 * @example
 * import { formatBytes } from '@meshplan/units'
 * formatBytes()(137.96e9)              // '138 GB'
 * formatBytes({ binary: true })(2**36) // '64 GiB'
 */
import type { Bytes, BytesPerSecond, Flops, FlopsPerSecond, QuantityKind, Seconds } from './quantity'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** How to print a quantity. */
export interface FormatOptions {
  /** Significant digits (default 4); trailing zeros are dropped. */
  readonly digits?: number
  /** Use binary prefixes (KiB, MiB, GiB) for sizes and bandwidths (default false). */
  readonly binary?: boolean
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const siSteps = ['', 'k', 'M', 'G', 'T', 'P', 'E'] as const
const binarySteps = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'] as const

const significant = (value: number, digits: number): string => {
  if (value === 0) return '0'
  const text = value.toPrecision(digits)
  const plain = Number(text).toString()
  return plain.includes('e') ? text : plain
}

const scaled = (value: number, unit: string, options: FormatOptions): string => {
  const digits = options.digits ?? 4
  if (!Number.isFinite(value)) return `${value} ${unit}`
  const base = options.binary === true ? 1024 : 1000
  const steps = options.binary === true ? binarySteps : siSteps
  let magnitude = Math.abs(value)
  let step = 0
  while (magnitude >= base && step < steps.length - 1) {
    magnitude /= base
    step += 1
  }
  // rounding may carry into the next prefix (999.96 GB -> 1000 GB): move up once more
  if (Number(magnitude.toPrecision(digits)) >= base && step < steps.length - 1) {
    magnitude /= base
    step += 1
  }
  const sign = value < 0 ? '-' : ''
  return `${sign}${significant(magnitude, digits)} ${steps[step]}${unit}`
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** `137.96e9` -> `'138 GB'`; with `binary`, `2**36` -> `'64 GiB'`. */
export const formatBytes =
  (options: FormatOptions = {}) =>
  (value: Bytes | number): string =>
    scaled(value, 'B', options)

/** `4.5e9` -> `'4.5 GB/s'`. */
export const formatByteRate =
  (options: FormatOptions = {}) =>
  (value: BytesPerSecond | number): string =>
    scaled(value, 'B/s', options)

/** `9.894e14` -> `'989.4 TFLOP/s'`. */
export const formatFlopRate =
  (options: FormatOptions = {}) =>
  (value: FlopsPerSecond | number): string =>
    scaled(value, 'FLOP/s', { ...options, binary: false })

/** `3.2e15` -> `'3.2 PFLOP'`. */
export const formatFlops =
  (options: FormatOptions = {}) =>
  (value: Flops | number): string =>
    scaled(value, 'FLOP', { ...options, binary: false })

/** Durations in ns, µs, ms or s, whichever puts the value in [1, 1000): `2.5e-5` -> `'25 µs'`. */
export const formatSeconds =
  (options: FormatOptions = {}) =>
  (value: Seconds | number): string => {
    const digits = options.digits ?? 4
    if (!Number.isFinite(value)) return `${value} s`
    const magnitude = Math.abs(value)
    const [factor, unit] =
      magnitude === 0 || magnitude >= 1 ? [1, 's'] : magnitude >= 1e-3 ? [1e3, 'ms'] : magnitude >= 1e-6 ? [1e6, '\u00b5s'] : [1e9, 'ns']
    return `${significant(value * factor, digits)} ${unit}`
  }

/** The formatter of a quantity kind. */
export const formatQuantity = (kind: QuantityKind, options: FormatOptions = {}): ((value: number) => string) => {
  switch (kind) {
    case 'bytes':
      return formatBytes(options)
    case 'seconds':
      return formatSeconds(options)
    case 'flops':
      return formatFlops(options)
    case 'flopRate':
      return formatFlopRate(options)
    case 'byteRate':
      return formatByteRate(options)
  }
}

// -------------------------------------------------------------------------------------
// report figures
// -------------------------------------------------------------------------------------

/** Bytes as every report prints them: `22.17 GB`. */
export const bytesText = formatBytes()
/** Seconds as every report prints them, three significant digits: `68.6 ms`. */
export const secondsText = formatSeconds({ digits: 3 })
/** FLOP/s as every report prints them, three significant digits: `200 TFLOP/s`. */
export const rateText = formatFlopRate({ digits: 3 })

/** A count with thousands separators: `954,651`. */
export const count = (n: number): string => Math.round(n).toLocaleString('en-US')

/** A rate per GPU or per user: a count from 100 up, else three significant digits (`29.6`). */
export const rate = (n: number): string => (n >= 100 ? count(n) : n.toPrecision(3))

/** A signed share: `+700.0%`. */
export const percent = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`

/** A share without sign: `41.3%`. */
export const share = (x: number): string => `${(x * 100).toFixed(1)}%`

/**
 * A duration with an interval in its unit: `17.4 s (15.9–19.6)`. The bounds take the
 * value's unit, with three significant digits where they are at least 1 in it.
 */
export const secondsRangeText = (value: number, low: number, high: number): string => {
  const main = secondsText(value)
  const magnitude = Math.abs(value)
  const factor = magnitude === 0 || magnitude >= 1 ? 1 : magnitude >= 1e-3 ? 1e3 : magnitude >= 1e-6 ? 1e6 : 1e9
  const bound = (x: number): string => (Math.abs(x * factor) >= 1 ? significant(x * factor, 3) : (x * factor).toPrecision(2))
  return `${main} (${bound(low)}\u2013${bound(high)})`
}

/** A rate (tokens/s, per GPU or per user) with an interval: `12,400 (10,600–13,300)`, as {@link rate} prints each. */
export const rateRangeText = (value: number, low: number, high: number): string => `${rate(value)} (${rate(low)}\u2013${rate(high)})`
