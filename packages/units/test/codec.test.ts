import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import * as t from 'io-ts'
import { closed, decodeWith, describeIssue, nonNegativeInt, nonNegativeNumber, numberWhere, oneOf, positiveInt, positiveNumber, quantity, rerootIssues, type DecodeIssue } from '../src/codec'

const Gpu = closed({ memory: quantity('bytes'), count: positiveInt }, { latency: quantity('seconds', 'nonNegative'), kind: oneOf(['sxm', 'pcie']) }, 'a GPU')
const decode = decodeWith(Gpu, 'cluster.gpu')
const issues = (u: unknown): ReadonlyArray<DecodeIssue> => {
  const r = decode(u)
  return E.isLeft(r) ? r.left : []
}

describe('quantity codecs', () => {
  it('accept strings with units and numbers in base units', () => {
    expect(decode({ memory: '80GiB', count: 8 })).toEqual(E.right({ memory: 80 * 2 ** 30, count: 8 }))
    expect(decode({ memory: 64e9, count: 1, latency: '2us', kind: 'sxm' })).toEqual(E.right({ memory: 64e9, count: 1, latency: 2e-6, kind: 'sxm' }))
  })

  it('name the path, the value and what was expected', () => {
    const found = issues({ memory: 'eighty', count: 8 })
    expect(found).toHaveLength(1)
    expect(describeIssue(found[0] as DecodeIssue)).toBe('cluster.gpu.memory: expected a size like "80GiB" or "141GB", got "eighty"')
  })

  it('reject zero, negative and non-finite sizes', () => {
    expect(issues({ memory: 0, count: 1 }).map((i) => i.path)).toEqual(['cluster.gpu.memory'])
    expect(issues({ memory: -5, count: 1 })[0]?.expected).toContain('non-negative')
    expect(issues({ memory: Number.NaN, count: 1 })[0]?.path).toBe('cluster.gpu.memory')
    // a latency may be zero
    expect(E.isRight(decode({ memory: 1, count: 1, latency: 0 }))).toBe(true)
  })

  it('report a missing field as missing', () => {
    expect(describeIssue(issues({ memory: '1GB' })[0] as DecodeIssue)).toBe('cluster.gpu.count: expected a positive integer, got nothing (the field is missing)')
  })

  it('report every problem at once, and unknown fields by name', () => {
    const found = issues({ memory: '1GB', count: 0, kind: 'nvl', memroy: 3 })
    expect(found.map((i) => i.path).sort()).toEqual(['cluster.gpu.count', 'cluster.gpu.kind', 'cluster.gpu.memroy'])
    expect(found.find((i) => i.path === 'cluster.gpu.kind')?.expected).toBe('one of "sxm", "pcie"')
    expect(describeIssue(found.find((i) => i.path === 'cluster.gpu.memroy') as DecodeIssue)).toBe(
      'cluster.gpu.memroy: no field "memroy" here (known fields: memory, count, latency, kind)',
    )
  })

  it('write keys that are not identifiers, and numeric keys of objects, as quoted brackets', () => {
    const Peaks = t.record(t.string, positiveInt)
    const r = decodeWith(Peaks, 'peak')({ '0': 1, 'fp 8': -1 })
    expect(E.isLeft(r) && r.left.map((i) => i.path)).toEqual(['peak["fp 8"]'])
    const n = decodeWith(Peaks, 'peak')({ '7': 0 })
    expect(E.isLeft(n) && n.left.map((i) => i.path)).toEqual(['peak["7"]'])
  })

  it('paths into arrays use brackets', () => {
    const List = t.array(t.type({ n: nonNegativeInt }))
    const r = decodeWith(List, 'tiers')([{ n: 1 }, { n: -1 }])
    expect(E.isLeft(r) && r.left[0]?.path).toBe('tiers[1].n')
  })

  it('never throw on arbitrary input, and every issue is rooted', () => {
    fc.assert(
      fc.property(fc.anything(), (u) => {
        const r = decode(u)
        if (E.isLeft(r)) {
          expect(r.left.length).toBeGreaterThan(0)
          for (const issue of r.left) expect(issue.path.startsWith('cluster.gpu')).toBe(true)
        }
      }),
    )
  })
})

describe('rerootIssues', () => {
  it('moves config.* and config[...] under the new root and leaves other paths alone', () => {
    const issues = [
      { path: 'config', value: 1, expected: 'an object' },
      { path: 'config.hidden_size', value: 'x', expected: 'a positive integer' },
      { path: 'config[0]', value: 2, expected: 'a number' },
      { path: 'configuration.x', value: 3, expected: 'a number' },
    ]
    expect(rerootIssues('config', 'plan.model')(issues).map((i) => i.path)).toEqual(['plan.model', 'plan.model.hidden_size', 'plan.model[0]', 'configuration.x'])
  })
})

describe('numberWhere: a numeric range stated once with its words', () => {
  const fraction = numberWhere('a fraction in [0, 1)', (n) => n >= 0 && n < 1)
  it('accepts what passes and reports the words for the rest at the path', () => {
    expect(decodeWith(fraction, 'x')(0.5)).toEqual({ _tag: 'Right', right: 0.5 })
    const bad = decodeWith(fraction, 'x')(1)
    expect(E.isLeft(bad) && bad.left).toEqual([{ path: 'x', value: 1, expected: 'a fraction in [0, 1)' }])
    expect(E.isLeft(decodeWith(fraction, 'x')('0.5'))).toBe(true)
  })
  it('positiveNumber and nonNegativeNumber refuse NaN and infinities', () => {
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(E.isLeft(decodeWith(positiveNumber, 'x')(v))).toBe(true)
      expect(E.isLeft(decodeWith(nonNegativeNumber, 'x')(v))).toBe(true)
    }
    expect(E.isLeft(decodeWith(positiveNumber, 'x')(0))).toBe(true)
    expect(E.isRight(decodeWith(nonNegativeNumber, 'x')(0))).toBe(true)
  })
})
