// Shared by the planner's tests: unwrap an Either or fail with what it held, and compare numbers to a relative tolerance.
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

/** `actual` is finite and within `relative` of `expected`. */
export const expectClose = (actual: number, expected: number, relative = 1e-12): void => {
  expect(Number.isFinite(actual)).toBe(true)
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(relative * Math.abs(expected))
}
