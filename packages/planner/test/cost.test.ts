import { costOf } from '../src'

describe('costOf', () => {
  it('charges all the GPU time to the tokens: 8 GPUs at 2 an hour serving 10,000 output and 40,000 prompt tokens/s, by hand', () => {
    const c = costOf({ gpus: 8, outputTokensPerSecond: 10_000, inputTokensPerSecond: 40_000 }, 2)
    // 8 x 2 = 16 an hour; 16 / 3600 = 0.0044444 a second; / 10,000 tokens x 1e6 = 0.44444; / 50,000 x 1e6 = 0.088889
    expect(c?.perHour).toBe(16)
    expect(c?.perMillionOutputTokens).toBeCloseTo(0.444444, 6)
    expect(c?.perMillionTokens).toBeCloseTo(0.0888889, 6)
  })

  it('has no cost for a price or a rate that is not a positive finite number: never infinite', () => {
    expect(costOf({ gpus: 8, outputTokensPerSecond: 0, inputTokensPerSecond: 0 }, 2)).toBeUndefined()
    expect(costOf({ gpus: 8, outputTokensPerSecond: 1, inputTokensPerSecond: 0 }, 0)).toBeUndefined()
    expect(costOf({ gpus: 8, outputTokensPerSecond: 1, inputTokensPerSecond: 0 }, Number.POSITIVE_INFINITY)).toBeUndefined()
  })
})
