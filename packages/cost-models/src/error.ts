/**
 * Why an estimate has no answer: a strategy that breaks the algebra, a workload that
 * is not a workload, a deployment that does not fit in memory, or a cost model that
 * refused its input. Every error is a value with a code and one sentence for a person;
 * an algebra error carries every violation at once.
 *
 * @example
 * import { estimateError } from '@meshplan/cost-models'
 * estimateError('invalid-workload', 'workload.batch: expected a positive integer, got 0')
 */
import type { Violation } from '@meshplan/parallelism'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The kinds of failure. */
export type EstimateErrorCode =
  /** The strategy breaks a law of the algebra (`violations` lists them all). */
  | 'invalid-strategy'
  /** The workload's numbers are not usable (lengths, batch, mode). */
  | 'invalid-workload'
  /** Weights, workspace and reserve, or the asked batch, do not fit in a GPU's memory. */
  | 'does-not-fit'
  /** A cost model refused its input (a format the device lacks, a cluster it cannot price). */
  | 'cost-model'
  /** The input asks for something the models do not represent yet (the message says what). */
  | 'unsupported'
  /** The models produced a figure that is not finite, negative, or out of its range (a bug, or a replaced model's). */
  | 'unphysical'
  /** The work asked for is beyond a stated limit (the message names it and how to narrow the request). */
  | 'too-large'

export interface EstimateError {
  readonly code: EstimateErrorCode
  readonly message: string
  readonly violations?: ReadonlyArray<Violation>
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** An error of `code` with `message`. */
export const estimateError = (code: EstimateErrorCode, message: string, violations?: ReadonlyArray<Violation>): EstimateError =>
  violations === undefined ? { code, message } : { code, message, violations }

/** Wraps an error of a cost-model package (each has a `message`). */
export const costModelError =
  (what: string) =>
  (error: { readonly message: string }): EstimateError =>
    estimateError('cost-model', `${what}: ${error.message}`)
