/**
 * The numeric formats a deployment stores and computes in: weights, activations and
 * the KV cache, each one of fp32, bf16, fp16, fp8, int8, fp4, int4 (the `precision`
 * object of the meshplan case format). The default is bf16 everywhere.
 *
 * @example
 * import { precision } from '@meshplan/model'
 * precision({ weights: 'fp8', activations: 'fp8', kvCache: 'fp8' })
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import * as t from 'io-ts'
import { closed, decodeWith, oneOf, type DecodeIssue, type Dtype } from '@meshplan/units'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Storage formats meshplan accepts for weights, activations and the KV cache. */
export const storageDtypes = ['fp32', 'bf16', 'fp16', 'fp8', 'int8', 'fp4', 'int4'] as const satisfies ReadonlyArray<Dtype>
export type StorageDtype = (typeof storageDtypes)[number]

/** The formats of a deployment's weights, activations and KV cache. */
export interface Precision {
  readonly weights: StorageDtype
  readonly activations: StorageDtype
  readonly kvCache: StorageDtype
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** bf16 weights, activations and KV cache. */
export const defaultPrecision: Precision = { weights: 'bf16', activations: 'bf16', kvCache: 'bf16' }

/** A precision from the formats given; the others are bf16. */
export const precision = (formats: Partial<Precision>): Precision => ({ ...defaultPrecision, ...formats })

// -------------------------------------------------------------------------------------
// codec
// -------------------------------------------------------------------------------------

const Format = oneOf(storageDtypes)

/** The file shape: `{ weights?, activations?, kv_cache? }`. */
export const PrecisionFile = closed({}, { weights: Format, activations: Format, kv_cache: Format }, 'a precision object')
export type PrecisionFile = t.TypeOf<typeof PrecisionFile>

/** Decodes a file's `precision` object (missing formats are bf16). Never throws. */
export const decodePrecision = (u: unknown, root = 'precision'): E.Either<ReadonlyArray<DecodeIssue>, Precision> =>
  pipe(
    decodeWith(PrecisionFile, root)(u),
    E.map((f) => ({ weights: f.weights ?? 'bf16', activations: f.activations ?? 'bf16', kvCache: f.kv_cache ?? 'bf16' })),
  )
