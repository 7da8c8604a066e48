import type { Architecture } from '@meshplan/model'
import { accountedSplitsEvenly, edgeStagesSplitChunks, kvHeadsPerGpu, middleOfSplit, middleSplitsEvenly, splitKindsExclusive, tpSplitsAttention } from '../src/laws'
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

describe('the laws of an uneven pipeline split (Megatron-Core, uneven PP)', () => {
  it('middleOfSplit: 126 layers, pp 16, first 6 and last 8: 112 layers over 14 middle stages', () => {
    expect(middleOfSplit(126, 16, { firstStageLayers: 6, lastStageLayers: 8 })).toEqual({ layers: 112, stages: 14 })
    expect(middleOfSplit(126, 16, { lastStageLayers: 8 })).toEqual({ layers: 118, stages: 15 })
  })

  it('middleSplitsEvenly: 112 / (14 · 2) = 4 per chunk holds, 113 does not; no middle stage needs no middle layer', () => {
    expect(middleSplitsEvenly(126, 16, 2, { firstStageLayers: 6, lastStageLayers: 8 })).toBe(true)
    expect(middleSplitsEvenly(126, 16, 1, { firstStageLayers: 5, lastStageLayers: 8 })).toBe(false)
    expect(middleSplitsEvenly(126, 2, 1, { firstStageLayers: 60, lastStageLayers: 66 })).toBe(true)
    expect(middleSplitsEvenly(126, 2, 1, { firstStageLayers: 60, lastStageLayers: 60 })).toBe(false)
  })

  it('accountedSplitsEvenly: 126 + 1 + 1 = 128 over 16 · 2 = 32 chunks holds; 126 + 1 = 127 does not', () => {
    expect(accountedSplitsEvenly(126, 16, 2, { embeddingInSplit: true, lossInSplit: true })).toBe(true)
    expect(accountedSplitsEvenly(126, 16, 1, { embeddingInSplit: true })).toBe(false)
  })

  it('edgeStagesSplitChunks and splitKindsExclusive', () => {
    expect(edgeStagesSplitChunks({ firstStageLayers: 6, lastStageLayers: 8 }, 2)).toBe(true)
    expect(edgeStagesSplitChunks({ firstStageLayers: 7 }, 2)).toBe(false)
    expect(splitKindsExclusive({ firstStageLayers: 6, lossInSplit: true })).toBe(false)
    expect(splitKindsExclusive({ embeddingInSplit: true, lossInSplit: true })).toBe(true)
  })
})
