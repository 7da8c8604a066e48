import fc from 'fast-check'
import {
  attentionFlopsPerToken,
  forwardFlopsPerToken,
  matmulFlopsPerToken,
  matmulParametersPerToken,
  trainingFlopsPerToken,
} from '../src/flops'
import { parameterCounts } from '../src/parameters'
import { models } from '../src/presets'
import { arbitraryArchitecture } from './arbitraries'

describe('forward FLOPs per token, worked by hand', () => {
  it('Llama-2-7B at a 4096-token context', () => {
    const arch = models['llama-2-7b']
    // per layer 4·4096² attention + 3·4096·11008 MLP weights; the LM head 32000·4096; no embedding
    const weights = 32 * (4 * 4096 * 4096 + 3 * 4096 * 11008) + 32000 * 4096
    expect(weights).toBe(6_607_077_376)
    expect(matmulParametersPerToken(arch)).toBe(weights)
    expect(matmulFlopsPerToken(arch)).toBe(13_214_154_752)
    // QKᵀ and A·V: 2 × 2 × 32 layers × 32 heads × 128 × 4096 keys
    expect(attentionFlopsPerToken(4096)(arch)).toBe(2_147_483_648)
    expect(forwardFlopsPerToken(4096)(arch)).toBe(15_361_638_400)
    expect(trainingFlopsPerToken(4096)(arch)).toBe(3 * 15_361_638_400)
  })

  it('GPT-3 175B training matches Narayanan et al. 2021 (section 5.1) without recomputation', () => {
    // Narayanan: 96·B·s·l·h²·(1 + s/6h + V/16lh) FLOPs per batch with full recomputation
    // (4 passes through the layers, 3 through the logits); without it the layers make 3/4 of
    // that: 72·s·l·h²·(1 + s/6h) + 6·s·h·V, per token divide by B·s.
    const l = 96
    const h = 12288
    const s = 2048
    const V = 50257
    const narayanan = 72 * l * h * h * (1 + s / (6 * h)) + 6 * h * V
    expect(trainingFlopsPerToken(s)(models['gpt3-175b'])).toBeCloseTo(narayanan, -3)
    expect(Math.abs(trainingFlopsPerToken(s)(models['gpt3-175b']) / narayanan - 1)).toBeLessThan(1e-12)
  })

  it('attention counts both QKᵀ and A·V: twice the 2·n_layer·n_ctx·d_attn of Kaplan et al. table 1', () => {
    const arch = models['gpt3-175b']
    const kaplan = 2 * 96 * 2048 * 12288
    expect(attentionFlopsPerToken(2048)(arch)).toBe(2 * kaplan)
  })

  it('Mixtral: the router gate and 2 of 8 experts per layer', () => {
    const attention = 2 * 4096 * 4096 + 2 * 4096 * 1024
    const weights = 32 * (attention + 4096 * 8 + 2 * 3 * 4096 * 14336) + 32000 * 4096
    expect(matmulParametersPerToken(models['mixtral-8x7b'])).toBe(weights)
  })

  it('DeepSeek-V3: MLA scores over nope+rope (192), values over v (128)', () => {
    expect(attentionFlopsPerToken(1000)(models['deepseek-v3'])).toBe(2 * 61 * 128 * (192 + 128) * 1000) // 4,997,120,000
    // matmul weights: MLA matrices, 3 dense MLPs, 58 × (gate + 8 routed + 1 shared), the head
    const h = 7168
    const weights = 61 * 187_105_280 + 3 * 3 * h * 18432 + 58 * (h * 256 + 9 * 3 * h * 2048) + 129280 * h
    expect(matmulParametersPerToken(models['deepseek-v3'])).toBe(weights)
  })

  it('a tied LM head still costs its matmul', () => {
    expect(matmulParametersPerToken(models['gpt3-175b'])).toBe(96 * 12 * 12288 * 12288 + 50257 * 12288)
  })

  it('sliding-window attention stops growing at the window (Mistral 7B: 4096)', () => {
    const arch = models['mistral-7b']
    expect(attentionFlopsPerToken(1000)(arch)).toBe(4 * 32 * 32 * 128 * 1000)
    expect(attentionFlopsPerToken(8192)(arch)).toBe(4 * 32 * 32 * 128 * 4096)
  })
})

describe('laws', () => {
  it('without biases, q/k norms, router biases or a tied head, the matmul weights are the active parameters minus embedding and norms', () => {
    fc.assert(
      fc.property(arbitraryArchitecture, (generated) => {
        const attention =
          generated.attention.kind === 'mla' ? generated.attention : { ...generated.attention, qkvBias: false, outputBias: false, qkNorm: false }
        const arch = {
          ...generated,
          attention,
          mlp: { ...generated.mlp, bias: false },
          tiedEmbeddings: false,
          ...(generated.moe === undefined ? {} : { moe: { ...generated.moe, routerBias: false } }),
        }
        const c = parameterCounts(arch)
        const latentNorms = attention.kind === 'mla' ? arch.layers * ((attention.qLoraRank ?? 0) + attention.kvLoraRank) : 0
        expect(matmulParametersPerToken(arch)).toBe(c.activeNonEmbeddingPerToken - c.norms - latentNorms)
      }),
    )
  })

  it('training is 3 × forward, and forward grows with the context', () => {
    fc.assert(
      fc.property(arbitraryArchitecture, fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 10_000 }), (arch, context, more) => {
        expect(trainingFlopsPerToken(context)(arch)).toBe(3 * forwardFlopsPerToken(context)(arch))
        expect(forwardFlopsPerToken(context + more)(arch)).toBeGreaterThanOrEqual(forwardFlopsPerToken(context)(arch))
      }),
    )
  })
})
