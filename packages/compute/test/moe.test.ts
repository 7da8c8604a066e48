import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { expectedExpertsTouched, routedShare, tokensPerExpert, validateImbalance } from '../src/moe'

describe('experts touched, by hand', () => {
  it('E = 64, k = 2: one token touches exactly its 2 experts', () => {
    // 64 · (1 − 62/64) = 64 · 2/64 = 2
    expect(expectedExpertsTouched(64, 2)(1)).toBeCloseTo(2, 12)
  })

  it('E = 64, k = 2, B = 32: 64 · (1 − (31/32)^32) ≈ 40.83', () => {
    // (31/32)^32 = exp(32 · ln 0.96875) = exp(32 · −0.0317487) = exp(−1.015959) = 0.362055
    // 64 · (1 − 0.362055) = 40.8285 (not 40.0: about two thirds of the experts)
    expect(expectedExpertsTouched(64, 2)(32)).toBeCloseTo(40.8285, 3)
  })

  it('laws: at least k, at most min(E, k·B), nondecreasing in B', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 256 }), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 100_000 }), (experts, kSeed, tokens) => {
        const k = 1 + (kSeed % experts)
        const touched = expectedExpertsTouched(experts, k)(tokens)
        expect(touched).toBeGreaterThanOrEqual(k - 1e-9)
        expect(touched).toBeLessThanOrEqual(Math.min(experts, k * tokens) + 1e-9)
        expect(expectedExpertsTouched(experts, k)(tokens + 1)).toBeGreaterThanOrEqual(touched - 1e-9)
      }),
    )
  })
})

describe('tokens per expert', () => {
  it('tokens · k / E, times the imbalance', () => {
    expect(tokensPerExpert(64, 2)(4096)).toBe(128)
    expect(tokensPerExpert(8, 2, 1.25)(1000)).toBe(312.5) // 1000 · 2 · 1.25 / 8
  })
})

describe('routed share of one GPU', () => {
  it('DeepSeek-style DP32 EP32 serving: each GPU gets the whole group\'s tokens × k / ep', () => {
    // 32 replicas × 64 tokens = 2048 tokens routed by the EP group; 2048 · 8 / 32 = 512 assignments
    const share = routedShare({ experts: 256, topK: 8, ep: 32, edp: 1, dp: 32, replicaTokens: 64, imbalance: 1 })
    expect(share.groupTokens).toBe(2048)
    expect(share.assignments).toBe(512)
    // 8 local experts, each missed by all 2048 tokens with probability (1 − 8/256)^2048 ≈ 0
    expect(share.expertsTouched).toBeCloseTo(8, 9)
  })

  it('expert data parallelism splits the tokens over the copies', () => {
    // TP8 attention, MoE folded as EP1 × ETP1 × EDP8: each GPU routes 1/8 of the tokens through all experts
    const share = routedShare({ experts: 8, topK: 2, ep: 1, edp: 8, dp: 1, replicaTokens: 800, imbalance: 1 })
    expect(share.groupTokens).toBe(100)
    expect(share.assignments).toBe(200)
  })

  it('the imbalance raises the busiest GPU\'s load, capped at every token on every local expert', () => {
    const share = routedShare({ experts: 8, topK: 2, ep: 4, edp: 1, dp: 4, replicaTokens: 10, imbalance: 100 })
    // 40 tokens, 2 local experts: at most 40 · min(2, 2) = 80 assignments
    expect(share.assignments).toBe(80)
  })

  it('rejects an imbalance below 1 or not finite', () => {
    expect(E.isLeft(validateImbalance(0.5))).toBe(true)
    expect(E.isLeft(validateImbalance(Number.NaN))).toBe(true)
    expect(validateImbalance(1.2)).toEqual(E.right(1.2))
  })
})
