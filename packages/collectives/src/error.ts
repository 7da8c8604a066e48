/**
 * Why a collective could not be priced. Every error is a value with a code, the
 * numbers involved and a sentence for a person; none is thrown, and no answer ever
 * carries NaN or Infinity instead.
 *
 * @example
 * import { estimate, defaultCollectiveModel } from '@meshplan/collectives'
 * estimate(defaultCollectiveModel)(cluster)('all_reduce', -1, span)
 * // left({ code: 'invalid-size', bytes: -1, message: 'message size must be a finite number of bytes above zero, got -1' })
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Why a collective could not be priced. */
export type CollectiveError =
  | {
      /** Not a finite number of bytes above zero. */
      readonly code: 'invalid-size'
      readonly bytes: number
      readonly message: string
    }
  | {
      /** Not one of `collectiveOps`. */
      readonly code: 'unknown-op'
      readonly op: string
      readonly known: ReadonlyArray<string>
      readonly message: string
    }
  | {
      /** The span does not describe a group of this cluster (tier count, widths, size). */
      readonly code: 'span-mismatch'
      readonly message: string
    }
  | {
      /** A tier of the cluster has a fanout, bandwidth or latency no model can use. */
      readonly code: 'invalid-cluster'
      readonly tier: string
      readonly message: string
    }
  | {
      /** An efficiency or protocol constant of the model is not a positive finite number. */
      readonly code: 'invalid-model'
      readonly field: string
      readonly value: number
      readonly message: string
    }
  | {
      /** A forced algorithm the model does not know. */
      readonly code: 'unknown-algorithm'
      readonly algorithm: string
      readonly known: ReadonlyArray<string>
      readonly message: string
      readonly suggestion?: string
    }
  | {
      /** A forced algorithm that cannot run this operation on this group. */
      readonly code: 'not-applicable'
      readonly algorithm: string
      readonly op: string
      readonly message: string
    }
  | {
      /** No algorithm of the model can run this operation on this group. */
      readonly code: 'no-algorithm'
      readonly op: string
      readonly message: string
    }
  | {
      /** An MoE token exchange whose tokens, hidden size or routing cannot be priced. */
      readonly code: 'invalid-exchange'
      readonly field: string
      readonly value: number
      readonly message: string
    }
