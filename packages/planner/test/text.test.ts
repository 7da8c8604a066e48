import { planColumns, rankingText, valueTextOf, verdictText } from '../src'

describe('text', () => {
  it('words a claim that misses by more than ten times its value as the ratio: 68.6 ms against ≤ 2 ms is 34.3x', () => {
    // deviation (0.0686 − 0.002) / 0.002 = 33.3, so the ratio 0.0686 / 0.002 = 34.3 is given
    const v = verdictText('seconds', { claim: { metric: 'tpot', comparator: 'at_most', value: 0.002, tolerance: 0 }, computed: 0.0686, holds: false, deviation: 33.3 })
    expect(v).toEqual({ claimed: 'tpot ≤ 2 ms', computed: 'computed 68.6 ms, 34.3x of the claim' })
  })

  it('words a nearer miss as the deviation, a claim "about" with its tolerance, one that holds without either', () => {
    // 450,000 claimed at ±10%, 396,000 computed: (396,000 − 450,000) / 450,000 = −12.0%
    const near = verdictText('number', { claim: { metric: 'tokens_per_second', comparator: 'about', value: 450000, tolerance: 0.1 }, computed: 396000, holds: false, deviation: -0.12 })
    expect(near).toEqual({ claimed: 'tokens_per_second ≈ 450,000 (±10%)', computed: 'computed 396,000, -12.0% off' })
    const held = verdictText('bytes', { claim: { metric: 'memory_per_gpu', comparator: 'at_most', value: 80e9, tolerance: 0 }, computed: 70.2e9, holds: true, deviation: -0.1225 })
    expect(held.computed).toBe('computed 70.2 GB')
    expect(verdictText('seconds', { claim: { metric: 'ttft', comparator: 'at_most', value: 1, tolerance: 0 }, computed: null, holds: false, deviation: null }).computed).toBe('computed cannot be computed')
  })

  it('formats a value by its kind: a count with separators, a bare number to three digits', () => {
    expect(valueTextOf('count', 1536)).toBe('1,536')
    expect(valueTextOf('number', 0.5123)).toBe('0.512')
    expect(valueTextOf('number', 12345.6)).toBe('12,346')
    expect(planColumns).toHaveLength(11)
    expect(rankingText.tokens_per_second_per_gpu).toBe('output tokens/s per GPU')
  })
})
