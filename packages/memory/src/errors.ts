/**
 * Why a memory estimate cannot be made: a value error, never NaN or a throw.
 *
 * @example
 * import { checkPositiveInteger } from '@meshplan/memory'
 * checkPositiveInteger('contextTokens', 0) // some({ code: 'invalid-input', ... })
 */
import * as O from 'fp-ts/Option'
import type { Architecture } from '@meshplan/model'
import { isValid, type Strategy } from '@meshplan/parallelism'
import type { Cluster, Device } from '@meshplan/topology'
import { bytesPerSecond, seconds } from '@meshplan/units'

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

/** An error when `s` breaks a law of the algebra for `model` (on a cluster just large enough for it). */
export const checkStrategy = (model: Architecture, s: Strategy, device: Device): O.Option<MemoryError> => {
  const world = s.tp * s.pp * s.dp * s.cp
  // the laws that concern memory do not depend on the interconnect: any cluster of exactly the strategy's size will do
  const link = { bandwidth: bytesPerSecond(1), latency: seconds(0), inNetworkReduction: false }
  const cluster: Cluster = { name: 'check', device, tiers: [{ name: 'node', kind: 'scale-up', fanout: world, link }] }
  return isValid({ model, cluster })(s)
    ? O.none
    : O.some({ code: 'invalid-strategy', field: 'strategy', message: `strategy: it breaks a law of the algebra for ${model.name}; run validate for the list` })
}

/** The first error of `checks`, if any. */
export const firstError = (checks: ReadonlyArray<O.Option<MemoryError>>): O.Option<MemoryError> => {
  for (const check of checks) if (O.isSome(check)) return check
  return O.none
}
