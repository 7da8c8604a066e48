/**
 * Integer helpers of the algebra: divisors and the nearest valid degree, used for
 * both enumeration and the suggestions attached to violations.
 *
 * @example
 * import { divisors, nearestDivisors } from '@meshplan/parallelism'
 * divisors(12)            // [1, 2, 3, 4, 6, 12]
 * nearestDivisors(64)(24) // [16, 32]
 */

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The positive divisors of `n` (a positive integer), ascending. */
export const divisors = (n: number): ReadonlyArray<number> => {
  const small: number[] = []
  const large: number[] = []
  for (let d = 1; d * d <= n; d++) {
    if (n % d === 0) {
      small.push(d)
      if (d * d !== n) large.push(n / d)
    }
  }
  return [...small, ...large.reverse()]
}

/**
 * The divisors of `n` closest to `x` from below and from above (one value when `x`
 * divides `n`, or when `x` lies outside [1, n]).
 */
export const nearestDivisors =
  (n: number) =>
  (x: number): ReadonlyArray<number> => {
    const all = divisors(n)
    const below = [...all].reverse().find((d) => d <= x)
    const above = all.find((d) => d >= x)
    const result: number[] = []
    if (below !== undefined) result.push(below)
    if (above !== undefined && above !== below) result.push(above)
    return result
  }

/** `a` divides `b`. */
export const divides = (a: number, b: number): boolean => a > 0 && b % a === 0

/** `[1, 2, 4]` -> `'1, 2 or 4'`. */
export const listOr = (values: ReadonlyArray<number>): string =>
  values.length <= 1 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`
