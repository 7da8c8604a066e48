import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { modelNames, models, trainingFlopsPerToken } from '@meshplan/model'
import { causalModelFlopsPerToken, inferenceModelFlopsPerToken, megatronModelFlops, mfu, modelFlopsPerToken, narayananFlops } from '../src/mfu'
import { right } from './fixtures'

// GPT-3 175B as Megatron-LM's papers size it: s = 2048, l = 96, h = 12288, V = 51200, B = 1536
const gpt3 = { batch: 1536, sequence: 2048, layers: 96, hidden: 12288, vocab: 51200 }

describe('Megatron-LM model FLOPs, GPT-3 175B by hand', () => {
  it('72·B·s·l·h²·(1 + s/6h + V/12lh) = B·s·(72lh² + 12lhs + 6Vh)', () => {
    // 12288² = 150,994,944; × 96 = 14,495,514,624; × 72 = 1,043,677,052,928
    // 12 · 96 · 12288 · 2048 = 28,991,029,248
    // 6 · 51200 · 12288 = 3,774,873,600
    const perToken = 1_043_677_052_928 + 28_991_029_248 + 3_774_873_600
    expect(perToken).toBe(1_076_442_955_776)
    const perIteration = perToken * 1536 * 2048 // 3.386e18
    const megatron = right(megatronModelFlops(gpt3))
    expect(Math.abs(megatron / perIteration - 1)).toBeLessThan(1e-14)
  })

  it('Narayanan et al. equation 3 (full recomputation) is 4/3 of the layers\' and the same logits', () => {
    // 96·B·s·l·h²·(1 + s/6h + V/16lh) per token: 96lh² + 16lhs + 6Vh
    const perToken = 96 * 96 * 12288 ** 2 + 16 * 96 * 12288 * 2048 + 6 * 51200 * 12288
    expect(Math.abs(right(narayananFlops(gpt3)) / (perToken * 1536 * 2048) - 1)).toBeLessThan(1e-14)
  })

  it('the general 6N + 12·L·H·Q·T form reproduces Megatron exactly for the GPT-3 preset (V = 50257)', () => {
    const l = 96
    const h = 12288
    const s = 2048
    const V = 50257
    const byHand = 72 * l * h * h + 12 * l * h * s + 6 * V * h
    expect(right(modelFlopsPerToken(s)(models['gpt3-175b']))).toBe(byHand)
    const megatron = right(megatronModelFlops({ batch: 8, sequence: s, layers: l, hidden: h, vocab: V }))
    expect(Math.abs(megatron / (8 * s) / byHand - 1)).toBeLessThan(1e-14)
  })

  it('law: 6N + attention equals 3 × the forward FLOPs of @meshplan/model for every preset', () => {
    fc.assert(
      fc.property(fc.constantFrom(...modelNames), fc.integer({ min: 1, max: 1 << 17 }), (name, s) => {
        const arch = models[name]
        expect(right(modelFlopsPerToken(s)(arch))).toBe(trainingFlopsPerToken(s)(arch))
        expect(right(inferenceModelFlopsPerToken(s)(arch)) * 3).toBe(trainingFlopsPerToken(s)(arch))
      }),
    )
  })
})

describe('MFU', () => {
  it('model FLOPs per second over the peak of the GPUs', () => {
    // 1e12 FLOPs per token × 1000 tokens/s over 8 × 250e12
    expect(mfu({ flopsPerToken: 1e12, tokensPerSecond: 1000, gpus: 8, peak: 250e12 })).toEqual(E.right(0.5))
  })
  it('bad numbers are errors, not NaN', () => {
    expect(E.isLeft(mfu({ flopsPerToken: 1e12, tokensPerSecond: Number.NaN, gpus: 8, peak: 1 }))).toBe(true)
    expect(E.isLeft(mfu({ flopsPerToken: 1e12, tokensPerSecond: 1, gpus: 0, peak: 1 }))).toBe(true)
    expect(E.isLeft(megatronModelFlops({ ...gpt3, hidden: -1 }))).toBe(true)
    expect(E.isLeft(modelFlopsPerToken(0)(models['llama-2-7b']))).toBe(true)
  })
})

describe('causal model FLOPs: the FLOPs a causal model must do, so MFU stays below 1', () => {
  it('GPT-3 175B at s = 2048: 72lh² + 6lh·(s + 1) + 6Vh, 1.35% below the papers\' count', () => {
    const l = 96
    const h = 12288
    const s = 2048
    const V = 50257
    // mean keys per query under the causal mask: (s + 1)/2 = 1024.5; attention: 6 · l · heads · 2·headDim · 1024.5 = 12·l·h·1024.5
    const byHand = 72 * l * h * h + 12 * l * h * 1024.5 + 6 * V * h
    expect(right(causalModelFlopsPerToken(s)(models['gpt3-175b']))).toBe(byHand)
    const full = right(modelFlopsPerToken(s)(models['gpt3-175b']))
    // (12·l·h·(2048 − 1024.5)) / full = 1.35%
    expect(1 - byHand / full).toBeCloseTo(0.0135, 3)
  })

  it('law: never more than the papers\' count, equal for one token', () => {
    fc.assert(
      fc.property(fc.constantFrom(...modelNames), fc.integer({ min: 1, max: 1 << 17 }), (name, s) => {
        const arch = models[name]
        expect(right(causalModelFlopsPerToken(s)(arch))).toBeLessThanOrEqual(right(modelFlopsPerToken(s)(arch)))
      }),
    )
    expect(right(causalModelFlopsPerToken(1)(models['llama-2-7b']))).toBe(right(modelFlopsPerToken(1)(models['llama-2-7b'])))
  })
})
