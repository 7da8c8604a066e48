import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { decodePrecision, defaultPrecision, precision } from '../src/precision'

describe('precision', () => {
  it('defaults every format to bf16', () => {
    expect(defaultPrecision).toEqual({ weights: 'bf16', activations: 'bf16', kvCache: 'bf16' })
    expect(precision({ kvCache: 'fp8' })).toEqual({ weights: 'bf16', activations: 'bf16', kvCache: 'fp8' })
  })

  it('decodes the case format, with kv_cache in snake case', () => {
    expect(decodePrecision({ weights: 'fp8', activations: 'fp8', kv_cache: 'fp8' })).toEqual(E.right({ weights: 'fp8', activations: 'fp8', kvCache: 'fp8' }))
    expect(decodePrecision({})).toEqual(E.right(defaultPrecision))
  })

  it('names the path of a format it does not know', () => {
    const r = decodePrecision({ weights: 'fp6' })
    expect(E.isLeft(r) && r.left[0]).toEqual({ path: 'precision.weights', value: 'fp6', expected: 'one of "fp32", "bf16", "fp16", "fp8", "int8", "fp4", "int4"' })
  })

  it('never throws on arbitrary input', () => {
    fc.assert(fc.property(fc.anything(), (u) => void decodePrecision(u)))
  })
})
