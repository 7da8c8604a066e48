/**
 * Parsing of human-written quantities: `80GiB`, `141GB`, `3.35TB/s`, `989TFLOPS`,
 * `450GB/s`, `400Gb/s`, `25us`. SI prefixes (k, M, G, T, P, E: powers of 1000) and
 * binary prefixes (Ki, Mi, Gi, Ti, Pi, Ei: powers of 1024, IEC 80000-13) are kept
 * distinct: `80GB` is 80e9 bytes, `80GiB` is 80 * 2^30. A lower-case `b` is a bit
 * and is accepted only in rates (`400Gb/s` = 50e9 B/s), as network links are sold.
 * A bare number is taken in the base unit of the kind asked for.
 *
 * @example
 * import { parseQuantity } from '@meshplan/units'
 * parseQuantity('bytes')('80GiB') // right(85899345920)
 */
import * as E from 'fp-ts/Either'
import type { QuantityKind, QuantityOf } from './quantity'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Why a string is not a quantity of the kind asked for. */
export interface QuantityParseError {
  readonly input: string
  readonly kind: QuantityKind
  readonly reason: string
}

/** An example of a well-formed value of each kind, for error messages. */
export const exampleOf: { readonly [K in QuantityKind]: string } = {
  bytes: 'a size like "80GiB" or "141GB"',
  seconds: 'a duration like "25us" or "1.5ms"',
  flops: 'a FLOP count like "3.2PFLOP"',
  flopRate: 'a compute rate like "989TFLOPS"',
  byteRate: 'a bandwidth like "3.35TB/s" or "400Gb/s"',
}

// -------------------------------------------------------------------------------------
// tables (built once)
// -------------------------------------------------------------------------------------

const siPrefixes: ReadonlyArray<readonly [string, number]> = [
  ['', 1],
  ['k', 1e3],
  ['K', 1e3],
  ['M', 1e6],
  ['G', 1e9],
  ['T', 1e12],
  ['P', 1e15],
  ['E', 1e18],
]

const binaryPrefixes: ReadonlyArray<readonly [string, number]> = [
  ['Ki', 2 ** 10],
  ['Mi', 2 ** 20],
  ['Gi', 2 ** 30],
  ['Ti', 2 ** 40],
  ['Pi', 2 ** 50],
  ['Ei', 2 ** 60],
]

const suffixTable = (
  prefixes: ReadonlyArray<readonly [string, number]>,
  units: ReadonlyArray<readonly [string, number]>,
): ReadonlyMap<string, number> => {
  const table = new Map<string, number>()
  for (const [prefix, prefixFactor] of prefixes) {
    for (const [unit, unitFactor] of units) table.set(prefix + unit, prefixFactor * unitFactor)
  }
  return table
}

const tables: { readonly [K in QuantityKind]: ReadonlyMap<string, number> } = {
  bytes: suffixTable([...siPrefixes, ...binaryPrefixes], [['B', 1]]),
  byteRate: suffixTable(
    [...siPrefixes, ...binaryPrefixes],
    [
      ['B/s', 1],
      ['Bps', 1],
      ['b/s', 1 / 8],
      ['bps', 1 / 8],
    ],
  ),
  seconds: new Map([
    ['s', 1],
    ['ms', 1e-3],
    ['us', 1e-6],
    ['\u00b5s', 1e-6],
    ['\u03bcs', 1e-6],
    ['ns', 1e-9],
    ['min', 60],
    ['h', 3600],
  ]),
  flops: suffixTable(siPrefixes, [
    ['FLOP', 1],
    ['FLOPs', 1],
  ]),
  flopRate: suffixTable(siPrefixes, [
    ['FLOPS', 1],
    ['FLOP/s', 1],
    ['FLOPs/s', 1],
    ['OPS', 1],
    ['OP/s', 1],
  ]),
}

/** The longest text read as a quantity (`"1.0000000000000002e+308PFLOP/s"` has 30 characters). */
export const maxQuantityLength = 64

const numberThenUnit = /^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(\S*)\s*$/

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/**
 * Parses `text` as a quantity of `kind`, in base units. Fails on an unknown unit, a
 * unit of another kind, a negative value, or anything that is not a finite number.
 */
export const parseQuantity =
  <K extends QuantityKind>(kind: K) =>
  (text: string): E.Either<QuantityParseError, QuantityOf[K]> => {
    const fail = (reason: string) => E.left({ input: text, kind, reason })
    // a quantity is a number and a unit: a longer string is refused before any pattern runs over it
    if (text.length > maxQuantityLength) return fail(`expected ${exampleOf[kind]} (at most ${maxQuantityLength} characters; this one has ${text.length.toLocaleString('en-US')})`)
    const match = numberThenUnit.exec(text)
    if (match === null) return fail(`expected ${exampleOf[kind]}`)
    const magnitude = Number(match[1])
    const unit = match[2] ?? ''
    if (!Number.isFinite(magnitude)) return fail(`expected ${exampleOf[kind]}`)
    if (magnitude < 0) return fail(`expected a non-negative value, ${exampleOf[kind]}`)
    if (unit === '') return E.right(magnitude as QuantityOf[K])
    const factor = tables[kind].get(unit)
    if (factor !== undefined) {
      const value = magnitude * factor
      return Number.isFinite(value) ? E.right(value as QuantityOf[K]) : fail(`"${text}" is too large to be a number (${exampleOf[kind]})`)
    }
    const otherKind = (Object.keys(tables) as QuantityKind[]).find((k) => tables[k].has(unit))
    if (otherKind !== undefined) return fail(`"${unit}" is a unit of another kind; expected ${exampleOf[kind]}`)
    if (kind === 'bytes' && /b$/.test(unit)) return fail(`"${unit}" is in bits; sizes are in bytes: expected ${exampleOf[kind]}`)
    return fail(`unknown unit "${unit}"; expected ${exampleOf[kind]}`)
  }

/** Parses a size: `80GiB`, `141GB`, `512MiB`. */
export const parseBytes = parseQuantity('bytes')
/** Parses a duration: `25us`, `1.5ms`, `2s`. */
export const parseSeconds = parseQuantity('seconds')
/** Parses a FLOP count: `3.2PFLOP`. */
export const parseFlops = parseQuantity('flops')
/** Parses a compute rate: `989TFLOPS`, `1.98PFLOP/s`. */
export const parseFlopRate = parseQuantity('flopRate')
/** Parses a bandwidth: `3.35TB/s`, `450GB/s`, `400Gb/s`. */
export const parseByteRate = parseQuantity('byteRate')
