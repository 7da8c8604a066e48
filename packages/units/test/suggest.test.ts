import * as fc from 'fast-check'
import * as O from 'fp-ts/Option'
import { closestName, editDistance } from '../src/suggest'

describe('suggest', () => {
  describe('editDistance', () => {
    it('matches distances worked by hand', () => {
      expect(editDistance('kitten', 'sitting')).toBe(3) // k->s, e->i, +g
      expect(editDistance('', 'abc')).toBe(3)
      expect(editDistance('dgx-h10', 'dgx-h100')).toBe(1)
      expect(editDistance('flaw', 'lawn')).toBe(2)
      expect(editDistance('same', 'same')).toBe(0)
    })

    it('is a metric: zero only on equal strings, symmetric, triangle inequality', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), (a, b, c) => {
          expect(editDistance(a, b) === 0).toBe(a === b)
          expect(editDistance(a, b)).toBe(editDistance(b, a))
          expect(editDistance(a, c)).toBeLessThanOrEqual(editDistance(a, b) + editDistance(b, c))
        }),
      )
    })

    it('is bounded below by the length difference and above by the longer length', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), (a, b) => {
          expect(editDistance(a, b)).toBeGreaterThanOrEqual(Math.abs(a.length - b.length))
          expect(editDistance(a, b)).toBeLessThanOrEqual(Math.max(a.length, b.length))
        }),
      )
    })
  })

  describe('closestName', () => {
    const names = ['h100-sxm', 'h200', 'h20', 'b200', 'mi300x']

    it('completes a fragment to the shortest name containing it, ignoring case', () => {
      expect(closestName(names)('H100')).toEqual(O.some('h100-sxm'))
      expect(closestName(names)('mi300')).toEqual(O.some('mi300x'))
    })

    it('corrects a small typo', () => {
      expect(closestName(names)('b2oo')).toEqual(O.some('b200'))
    })

    it('offers nothing for a name far from every known one, or an empty one', () => {
      expect(closestName(names)('tpu-v5e')).toEqual(O.none)
      expect(closestName(names)('  ')).toEqual(O.none)
      expect(closestName([])('h100')).toEqual(O.none)
      // a 200,000-character name (the fuzz campaign's) is no typo of any: the length difference alone rules each out
      expect(closestName(names)('9'.repeat(200_000))).toEqual(O.none)
    })

    it('offers what it would offer measuring every name: skipping those whose length differs by more than allowed changes nothing', () => {
      const measured = (known: ReadonlyArray<string>, input: string): O.Option<string> => {
        const needle = input.trim().toLowerCase()
        if (needle === '') return O.none
        const containing = known.filter((n) => n.toLowerCase().includes(needle)).sort((x, y) => x.length - y.length)
        if (containing[0] !== undefined) return O.some(containing[0])
        let best: string | undefined
        let bestDistance = Infinity
        for (const n of known) {
          const d = editDistance(needle, n.toLowerCase())
          if (d < bestDistance) [best, bestDistance] = [n, d]
        }
        return best !== undefined && bestDistance <= Math.max(2, Math.floor(needle.length / 3)) ? O.some(best) : O.none
      }
      fc.assert(
        fc.property(fc.array(fc.stringMatching(/^[a-z0-9-]{1,12}$/), { maxLength: 8 }), fc.stringMatching(/^[a-z0-9-]{0,20}$/), (known, input) => {
          expect(closestName(known)(input)).toEqual(measured(known, input))
        }),
        { numRuns: 500 },
      )
    })
  })
})
