import fc from 'fast-check'
import { algorithmBandwidth, busBandwidth, busFactor, collectiveOps, isCollectiveOp, opIndex } from '../src/op'

describe('busFactor: nccl-tests doc/PERFORMANCE.md', () => {
  it('is 2(n-1)/n for all-reduce', () => {
    expect(busFactor('all_reduce')(8)).toBe(1.75) // 2 x 7 / 8
    expect(busFactor('all_reduce')(2)).toBe(1) // 2 x 1 / 2
    expect(busFactor('all_reduce')(128)).toBe(1.984375) // 254 / 128
  })

  it('is (n-1)/n for all-gather, reduce-scatter and all-to-all', () => {
    expect(busFactor('all_gather')(8)).toBe(0.875)
    expect(busFactor('reduce_scatter')(4)).toBe(0.75)
    expect(busFactor('all_to_all')(16)).toBe(0.9375)
  })

  it('is 1 for broadcast and send/recv', () => {
    expect(busFactor('broadcast')(8)).toBe(1)
    expect(busFactor('send_recv')(2)).toBe(1)
  })

  it('holds exactly for every rank count', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), (n) => {
        expect(busFactor('all_reduce')(n)).toBe((2 * (n - 1)) / n)
        expect(busFactor('all_gather')(n)).toBe((n - 1) / n)
        expect(busFactor('all_to_all')(n)).toBe((n - 1) / n)
      }),
    )
  })
})

describe('bandwidths', () => {
  it('algbw = bytes / time; busbw = algbw x factor', () => {
    // 1 GB all-reduce in 10 ms on 8 ranks: algbw 1e11 B/s, busbw 1.75e11 B/s
    const algbw = algorithmBandwidth(1e9, 0.01)
    expect(algbw).toBeCloseTo(1e11, 0)
    expect(busBandwidth('all_reduce')(8)(algbw)).toBeCloseTo(1.75e11, 0)
    expect(busBandwidth('all_gather')(8)(algbw)).toBeCloseTo(0.875e11, 0)
  })
})

describe('ops', () => {
  it('indexes every op in order and recognises only them', () => {
    collectiveOps.forEach((op, i) => expect(opIndex(op)).toBe(i))
    expect(isCollectiveOp('all_reduce')).toBe(true)
    expect(isCollectiveOp('allreduce')).toBe(false)
    expect(isCollectiveOp(3)).toBe(false)
  })
})
