/**
 * Assertions the packages' tests share: unwrap an Either or fail with what it held, and
 * compare numbers to a relative tolerance.
 */
import * as E from 'fp-ts/Either'

const shown = (x: unknown): string =>
  typeof x === 'object' && x !== null && typeof (x as { readonly message?: unknown }).message === 'string' ? (x as { readonly message: string }).message : JSON.stringify(x)

/** The Right of `r`, or a thrown error with its Left's message (or JSON). */
export const rightOf = <L, R>(r: E.Either<L, R>): R => {
  if (E.isLeft(r)) throw new Error(`expected a Right, got ${shown(r.left)}`)
  return r.right
}

/** The Left of `r`, or a thrown error showing its Right. */
export const leftOf = <L, R>(r: E.Either<L, R>): L => {
  if (E.isRight(r)) throw new Error(`expected a Left, got ${JSON.stringify(r.right)}`)
  return r.left
}

/** `actual` is finite and within `relative` of `expected`; else a thrown error with both. */
export const expectClose = (actual: number, expected: number, relative = 1e-12): void => {
  if (!Number.isFinite(actual)) throw new Error(`expected a finite number close to ${expected}, got ${actual}`)
  if (Math.abs(actual - expected) > relative * Math.abs(expected)) {
    throw new Error(`expected ${actual} to be within ${relative} (relative) of ${expected}; off by ${Math.abs(actual - expected) / Math.abs(expected)}`)
  }
}
