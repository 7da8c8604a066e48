/**
 * The last check before an estimate leaves a package: every figure it reports is a
 * finite number, none is negative, and the headline figures (times, rates) are above
 * zero. The decoders keep inputs inside their physical ranges, so a figure that breaks
 * this is a bug or a cost model replaced by a user that returns nonsense; either way it
 * becomes an error naming the figure, never a number a user acts on.
 *
 * @example
 * import { unphysical } from '@meshplan/cost-models'
 * unphysical({ ttft: 0.2, breakdown: { tp: 0 } }, ['ttft'])   // undefined: all is well
 * unphysical({ ttft: NaN }, ['ttft'])                          // 'ttft is NaN'
 */

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const walk = (value: unknown, path: string): string | undefined => {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return `${path} is ${value}`
    if (value < 0) return `${path} is negative (${value})`
    return undefined
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = walk(value[i], `${path}[${i}]`)
      if (bad !== undefined) return bad
    }
    return undefined
  }
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      const bad = walk(v, path === '' ? k : `${path}.${k}`)
      if (bad !== undefined) return bad
    }
  }
  return undefined
}

/**
 * What is unphysical about `figures`, in a sentence naming the figure, or undefined:
 * a number anywhere in it that is NaN, infinite or negative, or one of `positive` (paths
 * of top-level fields) that is not above zero.
 */
export const unphysical = (figures: object, positive: ReadonlyArray<string> = []): string | undefined => {
  const bad = walk(figures, '')
  if (bad !== undefined) return bad
  for (const key of positive) {
    const v = (figures as Readonly<Record<string, unknown>>)[key]
    if (!(typeof v === 'number' && v > 0)) return `${key} is ${String(v)}, not above zero`
  }
  return undefined
}
