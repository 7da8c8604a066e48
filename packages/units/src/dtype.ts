/**
 * Numeric formats of weights, activations and caches, and their storage size.
 *
 * @example
 * import { bytesPerElement } from '@meshplan/units'
 * bytesPerElement('fp8') // 1
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Numeric formats an accelerator may compute in or a tensor may be stored in. */
export const dtypes = ['fp32', 'tf32', 'bf16', 'fp16', 'fp8', 'int8', 'fp4', 'int4'] as const

/** A numeric format. */
export type Dtype = (typeof dtypes)[number]

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/**
 * Storage bytes per element. tf32 is a compute mode of fp32 tensors and is stored in
 * 4 bytes; fp4 and int4 pack two elements per byte (block scales are not counted here).
 */
export const bytesPerElement = (dtype: Dtype): number => {
  switch (dtype) {
    case 'fp32':
    case 'tf32':
      return 4
    case 'bf16':
    case 'fp16':
      return 2
    case 'fp8':
    case 'int8':
      return 1
    case 'fp4':
    case 'int4':
      return 0.5
  }
}

/** Whether a string names a known numeric format. */
export const isDtype = (s: unknown): s is Dtype => typeof s === 'string' && (dtypes as ReadonlyArray<string>).includes(s)
