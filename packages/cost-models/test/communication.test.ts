import fc from 'fast-check'
import { defaultPrecision, models, precision } from '@meshplan/model'
import { strategy } from '@meshplan/parallelism'
import { communicationBytes, dispatchBytes } from '../src/communication'

// -------------------------------------------------------------------------------------
// communicationBytes
// -------------------------------------------------------------------------------------

describe('communicationBytes: the activations format on the wire, at least 16 bits', () => {
  it('bf16 and fp16: 2 bytes', () => {
    expect(communicationBytes(defaultPrecision)).toBe(2)
    expect(communicationBytes(precision({ activations: 'fp16' }))).toBe(2)
  })
  it('fp8, int8, fp4: 2 bytes, not 1 or 0.5 (the all-reduce stays in 16 bits)', () => {
    expect(communicationBytes(precision({ activations: 'fp8' }))).toBe(2)
    expect(communicationBytes(precision({ activations: 'int8' }))).toBe(2)
    expect(communicationBytes(precision({ activations: 'fp4' }))).toBe(2)
  })
  it('fp32: 4 bytes', () => {
    expect(communicationBytes(precision({ activations: 'fp32' }))).toBe(4)
  })
  it('reads only the activations: fp8 weights and KV cache do not change it', () => {
    expect(communicationBytes(precision({ weights: 'fp8', kvCache: 'fp8', activations: 'fp32' }))).toBe(4)
  })
})

// -------------------------------------------------------------------------------------
// dispatchBytes
// -------------------------------------------------------------------------------------

describe('dispatchBytes: bytes one GPU sends in the dispatch all-to-all of one MoE layer', () => {
  it('the reference plan (reference-moe, TP2 DP64 EP64 ETP2), 32 tokens: 131,072 B', () => {
    const m = models['reference-moe']
    expect(m.hidden).toBe(1024)
    expect(m.moe?.topK).toBe(2)
    // 32 tokens x (etp 2 / tp 2) x topK 2 x hidden 1024 x 2 B = 131,072
    expect(dispatchBytes(strategy({ tp: 2, dp: 64, ep: 64, etp: 2 }), 2, 1024, 2, 32)).toBe(131_072)
  })

  it('tp 8, etp 1, topK 8, hidden 7168 (DeepSeek-V3 shapes), 32 tokens: 458,752 B', () => {
    // 32 x (1 / 8) x 8 x 7168 x 2 B = 32 x 7168 x 2 = 458,752
    expect(dispatchBytes(strategy({ tp: 8, ep: 8, etp: 1 }), 8, 7168, 2, 32)).toBe(458_752)
  })

  it('attention data parallelism (tp 1, etp 1): each GPU dispatches its own tokens to topK experts', () => {
    // 32 x (1 / 1) x 8 x 7168 x 2 B = 3,670,016
    expect(dispatchBytes(strategy({ dp: 8, ep: 8 }), 8, 7168, 2, 32)).toBe(3_670_016)
  })

  it('context parallelism splits the tokens: cp 2 halves it', () => {
    // (32 / 2) x (2 / 2) x 2 x 1024 x 2 B = 65,536
    expect(dispatchBytes(strategy({ tp: 2, cp: 2, ep: 2, etp: 2 }), 2, 1024, 2, 32)).toBe(65_536)
  })

  it('law: linear in tokens, topK, hidden and element bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 3 }), (tokens, topK, k) => {
        const s = strategy({ tp: 2, ep: 4, etp: 1, dp: 2 })
        const base = dispatchBytes(s, topK, 1024, 2, tokens)
        expect(dispatchBytes(s, topK, 1024, 2, k * tokens)).toBeCloseTo(k * base, 6)
        expect(dispatchBytes(s, k * topK, 1024, 2, tokens)).toBeCloseTo(k * base, 6)
        expect(dispatchBytes(s, topK, k * 1024, 2, tokens)).toBeCloseTo(k * base, 6)
        expect(dispatchBytes(s, topK, 1024, 2 * k, tokens)).toBeCloseTo(k * base, 6)
      }),
    )
  })
})
