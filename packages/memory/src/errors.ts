/**
 * Why a memory estimate cannot be made: a value error, never NaN or a throw.
 *
 * @example
 * import { checkPositiveInteger } from '@meshplan/memory'
 * checkPositiveInteger('contextTokens', 0) // some({ code: 'invalid-input', ... })
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import * as O from 'fp-ts/Option'
import type { Architecture } from '@meshplan/model'
import { validateForModel, type Strategy } from '@meshplan/parallelism'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export interface MemoryError {
  readonly code: 'invalid-input' | 'invalid-strategy'
  /** The field at fault, as the caller named it. */
  readonly field: string
  readonly message: string
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** An error when `value` is not a whole number of at least 1. */
export const checkPositiveInteger = (field: string, value: number): O.Option<MemoryError> =>
  Number.isInteger(value) && value >= 1 ? O.none : O.some({ code: 'invalid-input', field, message: `${field}: expected a positive integer, got ${value}` })

/** An error when `value` is not a finite number of at least 0. */
export const checkNonNegative = (field: string, value: number): O.Option<MemoryError> =>
  Number.isFinite(value) && value >= 0 ? O.none : O.some({ code: 'invalid-input', field, message: `${field}: expected a finite number of at least 0, got ${value}` })

/** An error when `s` breaks a law of the algebra for `model` (those that do not depend on the cluster). */
export const checkStrategy = (model: Architecture, s: Strategy): O.Option<MemoryError> =>
  pipe(
    validateForModel({ model })(s),
    E.match(
      (violations) => O.some({ code: 'invalid-strategy' as const, field: 'strategy', message: `strategy: ${violations.map((v) => v.message).join('; ')}` }),
      () => O.none,
    ),
  )

/** The first error of `checks`, if any. */
export const firstError = (checks: ReadonlyArray<O.Option<MemoryError>>): O.Option<MemoryError> => {
  for (const check of checks) if (O.isSome(check)) return check
  return O.none
}
