/**
 * Why a compute question has no answer: a size that is not a positive number, degrees
 * that do not fit the model, a pipeline rank outside the pipeline, a numeric format the
 * device does not compute in, an efficiency model that answers outside (0, 1]. Every
 * function of this package that takes user numbers returns `Either<ComputeError, A>`
 * and never answers NaN or Infinity.
 *
 * @example
 * import { prefill } from '@meshplan/compute'
 * prefill({ tokens: -1, batch: 1 })
 * // left({ code: 'invalid-size', message: 'prefill tokens must be a positive integer, got -1', values: { tokens: -1 } })
 */
import * as E from 'fp-ts/Either'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The kinds of bad input. */
export type ComputeErrorCode =
  | 'invalid-size'
  | 'invalid-degree'
  | 'invalid-stage'
  | 'invalid-model'
  | 'invalid-device'
  | 'dtype-unsupported'
  | 'invalid-efficiency'

/** A bad input: a code, one sentence with the numbers, and the numbers by name. */
export interface ComputeError {
  readonly code: ComputeErrorCode
  readonly message: string
  readonly values: Readonly<Record<string, number>>
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** A {@link ComputeError}. */
export const computeError = (
  code: ComputeErrorCode,
  message: string,
  values: Readonly<Record<string, number>> = {},
): ComputeError => ({ code, message, values })

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** `value` when it is a positive integer (and at most 2^53), else an `invalid-size` error naming `what`. */
export const positiveInteger = (what: string, name: string, value: number): E.Either<ComputeError, number> =>
  Number.isSafeInteger(value) && value > 0
    ? E.right(value)
    : E.left(computeError('invalid-size', `${what} must be a positive integer, got ${value}`, { [name]: value }))

/** `value` when it is a positive finite number, else an `invalid-size` error naming `what`. */
export const positiveFinite = (what: string, name: string, value: number): E.Either<ComputeError, number> =>
  Number.isFinite(value) && value > 0
    ? E.right(value)
    : E.left(computeError('invalid-size', `${what} must be a positive finite number, got ${value}`, { [name]: value }))
