import { busiestPrefill, expectedMaximumChunk, loadImbalance, routedImbalance } from '../src/moe'
import { genericEngine } from '../src/engines'
import type { InferenceConstants } from '../src/kernel'

/** The fields of prepared constants the MoE functions read. */
const constants = (over: Partial<Record<string, unknown>>): InferenceConstants =>
  ({ ep: 8, topK: 8, dp: 8, edp: 1, experts: 256, redundantExperts: 0, attentionDpRanks: 8, maxNumTokens: 8192, engine: genericEngine, input: { workload: { inputTokens: 1024 } }, ...over }) as unknown as InferenceConstants

describe('loadImbalance: the busiest of n bins over the mean, m balls (Raab & Steger 1998, theorem 1)', () => {
  it('131,072 assignments on 64 GPUs: 1 + sqrt(2 ln 64 · 64 / 131,072) = 1.063729', () => {
    expect(loadImbalance(131_072, 64)).toBeCloseTo(1.063729, 5)
  })
  it('64 on 64: 1 + sqrt(2 ln 64) = 3.884054; one bin or no traffic: 1', () => {
    expect(loadImbalance(64, 64)).toBeCloseTo(3.884054, 5)
    expect(loadImbalance(1000, 1)).toBe(1)
    expect(loadImbalance(0, 8)).toBe(1)
  })
})

describe('routedImbalance: the busiest expert-parallel rank of a pass', () => {
  it('DP8 EP8, top-8, 64 tokens per replica: 8 · 64 · 8 = 4096 assignments on 8 ranks: 1 + sqrt(2 ln 8 · 8 / 4096) = 1.090127', () => {
    expect(routedImbalance(constants({}), 64)).toBeCloseTo(1 + Math.sqrt((2 * Math.log(8) * 8) / 4096), 12)
    expect(routedImbalance(constants({}), 64)).toBeCloseTo(1.090127, 6)
  })
  it('32 redundant slots over 256 experts: the excess falls to 256/288 of it, 1.080113', () => {
    expect(routedImbalance(constants({ redundantExperts: 32 }), 64)).toBeCloseTo(1 + 0.0901267 * (256 / 288), 6)
  })
  it('no expert parallelism, or a dense model: 1', () => {
    expect(routedImbalance(constants({ ep: 1 }), 64)).toBe(1)
    expect(routedImbalance(constants({ topK: 0 }), 64)).toBe(1)
  })
})

describe('the busiest attention-DP rank (TensorRT-LLM tech blog 10, "ADP Balance Strategy")', () => {
  it('expectedMaximumChunk: one rank in ten prefills 1024 tokens, the busiest of 8: 1024 (1 − 0.9^8) = 583.20', () => {
    expect(expectedMaximumChunk(1024, 0.1, 8)).toBeCloseTo(1024 * (1 - 0.9 ** 8), 9)
    expect(expectedMaximumChunk(1024, 0.1, 8)).toBeCloseTo(583.2, 1)
    expect(expectedMaximumChunk(1024, 2, 8)).toBe(1024)
  })

  it('256 prompt tokens a pass on average, prompts of 1024 beside 512 decode tokens: chunks of 1024 in a quarter of the passes; the busiest of 8 carries 1024 (1 − 0.75^8) = 921.48', () => {
    expect(busiestPrefill(constants({}), 256, 512)).toBeCloseTo(1024 * (1 - 0.75 ** 8), 9)
    expect(busiestPrefill(constants({}), 256, 512)).toBeCloseTo(921.48, 2)
  })

  it('a budget tighter than the prompt cuts the chunk: 8192 − 7680 = 512 tokens of room, chunks of 512 in half the passes: 512 (1 − 0.5^8) = 510', () => {
    expect(busiestPrefill(constants({}), 256, 7680)).toBeCloseTo(512 * (1 - 0.5 ** 8), 9)
  })

  it('with attention-DP balance every rank prefills in the same passes: the busiest carries the mean; one rank: the mean', () => {
    expect(busiestPrefill(constants({ engine: { ...genericEngine, attentionDpBalance: true } }), 256, 512)).toBe(256)
    expect(busiestPrefill(constants({ attentionDpRanks: 1 }), 256, 512)).toBe(256)
  })
})
