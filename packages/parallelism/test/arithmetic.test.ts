import fc from 'fast-check'
import { divides, divisors, listOr, nearestDivisors } from '../src/arithmetic'

describe('divisors', () => {
  it('lists the divisors of worked examples in ascending order', () => {
    expect(divisors(1)).toEqual([1])
    expect(divisors(12)).toEqual([1, 2, 3, 4, 6, 12])
    expect(divisors(128)).toEqual([1, 2, 4, 8, 16, 32, 64, 128])
    expect(divisors(36)).toEqual([1, 2, 3, 4, 6, 9, 12, 18, 36])
  })

  it('agrees with trial division for every n up to 2000', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), (n) => {
        const brute: number[] = []
        for (let d = 1; d <= n; d++) if (n % d === 0) brute.push(d)
        expect(divisors(n)).toEqual(brute)
      }),
    )
  })
})

describe('nearestDivisors', () => {
  it('brackets a non-divisor from both sides', () => {
    expect(nearestDivisors(64)(24)).toEqual([16, 32])
    expect(nearestDivisors(16)(3)).toEqual([2, 4])
  })

  it('gives the value itself when it divides', () => {
    expect(nearestDivisors(64)(8)).toEqual([8])
  })

  it('gives only the largest divisor above the range', () => {
    expect(nearestDivisors(12)(50)).toEqual([12])
  })
})

describe('divides and listOr', () => {
  it('rejects zero as a divisor', () => {
    expect(divides(0, 4)).toBe(false)
    expect(divides(3, 12)).toBe(true)
    expect(divides(5, 12)).toBe(false)
  })

  it('joins with commas and a final "or"', () => {
    expect(listOr([2])).toBe('2')
    expect(listOr([2, 4])).toBe('2 or 4')
    expect(listOr([1, 2, 4])).toBe('1, 2 or 4')
  })
})
