import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { causalPairs, decode, decodeKeys, prefill, replicaTokens, training, validatePhase, type Phase } from '../src/phase'

describe('constructors', () => {
  it('build phases from valid sizes, with defaults', () => {
    expect(prefill({ tokens: 2048 })).toEqual(E.right({ kind: 'prefill', tokens: 2048, batch: 1 }))
    expect(decode({ batch: 2, context: [100, 4096] })).toEqual(E.right({ kind: 'decode', batch: 2, context: [100, 4096] }))
    expect(training({ sequence: 4096, batch: 2 })).toEqual(E.right({ kind: 'training', sequence: 4096, batch: 2, recompute: 'none' }))
  })

  it('reject zero, negative, fractional and NaN sizes with a code and the number', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const e = prefill({ tokens: bad })
      expect(E.isLeft(e) && e.left.code).toBe('invalid-size')
      expect(E.isLeft(decode({ batch: bad, context: 10 }))).toBe(true)
      expect(E.isLeft(training({ sequence: 10, batch: bad }))).toBe(true)
    }
    const e = decode({ batch: 1, context: Number.NaN })
    expect(E.isLeft(e) && e.left.message).toMatch(/context length must be a positive finite number, got NaN/)
    expect(E.isLeft(decode({ batch: 1, context: 0.5 }))).toBe(true)
  })

  it('need one context length per sequence, each a positive integer', () => {
    const e = decode({ batch: 3, context: [1, 2] })
    expect(E.isLeft(e) && e.left.message).toMatch(/expected one per sequence \(3\), got 2/)
    expect(E.isLeft(decode({ batch: 2, context: [1, -4] }))).toBe(true)
  })

  it('validatePhase checks phases built by hand', () => {
    expect(E.isLeft(validatePhase({ kind: 'prefill', tokens: -3, batch: 1 }))).toBe(true)
    expect(E.isLeft(validatePhase({ kind: 'training', sequence: 8, batch: 1, recompute: 'most' as 'full' }))).toBe(true)
    const ok: Phase = { kind: 'decode', batch: 1, context: 7 }
    expect(validatePhase(ok)).toEqual(E.right(ok))
  })
})

describe('causal pairs, by hand', () => {
  it('n(n+1)/2 without a window', () => {
    expect(causalPairs(1)).toBe(1)
    expect(causalPairs(4)).toBe(1 + 2 + 3 + 4)
    expect(causalPairs(2048)).toBe(2_098_176) // 2048 · 2049 / 2
  })

  it('capped at the window: queries beyond W see W keys', () => {
    // n = 6, W = 4: 1 + 2 + 3 + 4 + 4 + 4
    expect(causalPairs(6, 4)).toBe(18)
    expect(causalPairs(3, 4)).toBe(6)
  })

  it('law: equals the sum of min(i, W) over the queries', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 600 }), (n, w) => {
        let sum = 0
        for (let i = 1; i <= n; i++) sum += Math.min(i, w)
        expect(causalPairs(n, w)).toBe(sum)
      }),
    )
  })

  it('decode keys sum the contexts, capped at the window', () => {
    expect(decodeKeys({ kind: 'decode', batch: 3, context: 100 })).toBe(300)
    expect(decodeKeys({ kind: 'decode', batch: 2, context: [10, 5000] }, 4096)).toBe(10 + 4096)
  })

  it('replica tokens', () => {
    expect(replicaTokens({ kind: 'prefill', tokens: 100, batch: 3 })).toBe(300)
    expect(replicaTokens({ kind: 'decode', batch: 7, context: 9 })).toBe(7)
    expect(replicaTokens({ kind: 'training', sequence: 10, batch: 4, recompute: 'none' })).toBe(40)
  })
})
