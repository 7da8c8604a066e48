import { unphysical } from '../src/figures'

describe('unphysical: the last check on an estimate', () => {
  it('passes finite, non-negative figures, nested and in lists', () => {
    expect(unphysical({ ttft: 0.2, breakdown: { tp: 0, stages: [{ total: 1 }] } }, ['ttft'])).toBeUndefined()
  })
  it('names the first NaN, infinite or negative figure by its path', () => {
    expect(unphysical({ a: 1, b: { c: Number.NaN } })).toBe('b.c is NaN')
    expect(unphysical({ s: [{ t: 1 }, { t: Number.POSITIVE_INFINITY }] })).toBe('s[1].t is Infinity')
    expect(unphysical({ m: -1 })).toBe('m is negative (-1)')
  })
  it('requires the headline figures above zero', () => {
    expect(unphysical({ tokensPerSecond: 0 }, ['tokensPerSecond'])).toBe('tokensPerSecond is 0, not above zero')
  })
})
