import type { Architecture } from '@meshplan/model'
import { kvHeadsPerGpu, tpSplitsAttention } from '../src/laws'
import { gqaModel, mlaModel } from './fixtures'

describe('kvHeadsPerGpu', () => {
  it('splits 8 KV heads over tp up to 8, then keeps one per GPU', () => {
    expect([1, 2, 4, 8, 16, 64].map(kvHeadsPerGpu(gqaModel))).toEqual([8, 4, 2, 1, 1, 1])
  })

  it('holds the one MLA latent whole on every GPU', () => {
    expect(kvHeadsPerGpu(mlaModel)(8)).toBe(1)
  })
})

describe('tpSplitsAttention', () => {
  it('accepts a tp that replicates KV heads evenly, and refuses one that cannot', () => {
    expect(tpSplitsAttention(gqaModel)(16)).toBe(true)
    const sixKvHeads: Architecture = { ...gqaModel, attention: { kind: 'gqa', heads: 48, kvHeads: 6, headDim: 128, qkvBias: false, outputBias: false, qkNorm: false } }
    // 48 heads split by 4, but 6 KV heads neither divide by 4 nor divide 4
    expect(tpSplitsAttention(sixKvHeads)(4)).toBe(false)
  })
})
