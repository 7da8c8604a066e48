/**
 * "Did you mean" for names a user types: the closest known name by edit distance
 * (Levenshtein: insertions, deletions and substitutions each cost 1), compared
 * case-insensitively, offered only when it is close enough to be a plausible typo
 * or when the input is a fragment of exactly that name.
 *
 * @example
 * import { closestName } from '@meshplan/units'
 * closestName(['h100-sxm', 'h200', 'b200'])('H100') // some('h100-sxm')
 * closestName(['h100-sxm', 'h200', 'b200'])('tpu-v5') // none
 */
import * as O from 'fp-ts/Option'

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The Levenshtein distance between `a` and `b` (Levenshtein 1966; two-row dynamic programme). */
export const editDistance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)
      const deletion = (previous[j] ?? 0) + 1
      const insertion = (current[j - 1] ?? 0) + 1
      current.push(Math.min(substitution, deletion, insertion))
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

/**
 * The known name closest to `input`: a name containing the input as a fragment
 * (`'h100'` → `'h100-sxm'`, shortest first), else the nearest by edit distance when
 * that distance is at most a third of the input's length (and at least 2 allowed).
 */
export const closestName =
  (known: ReadonlyArray<string>) =>
  (input: string): O.Option<string> => {
    const needle = input.trim().toLowerCase()
    if (needle === '') return O.none
    const containing = known.filter((name) => name.toLowerCase().includes(needle)).sort((x, y) => x.length - y.length)
    if (containing[0] !== undefined) return O.some(containing[0])
    const allowed = Math.max(2, Math.floor(needle.length / 3))
    let best: string | undefined
    let bestDistance = Infinity
    for (const name of known) {
      // the distance is at least the difference in length: a name that far off is no typo, and is not measured
      // (a fuzzed 200,000-character input once took 0.1 s here, the quadratic distance against every name)
      if (Math.abs(needle.length - name.length) > allowed) continue
      const distance = editDistance(needle, name.toLowerCase())
      if (distance < bestDistance) {
        best = name
        bestDistance = distance
      }
    }
    return best !== undefined && bestDistance <= allowed ? O.some(best) : O.none
  }
