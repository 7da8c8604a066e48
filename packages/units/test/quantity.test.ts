import { bytes, bytesPerSecond, computeTime, flops, flopsPerSecond, sum, transferTime } from '../src/quantity'

describe('quantity', () => {
  it('computes transfer and compute times', () => {
    // reading 137.96 GB of weights at 3.35 TB/s takes 137.96 / 3350 s = 41.18 ms
    expect(transferTime(bytesPerSecond(3.35e12))(bytes(137.96e9))).toBeCloseTo(0.041182, 6)
    // 1 PFLOP at 989 TFLOP/s: 1000 / 989 s
    expect(computeTime(flopsPerSecond(989e12))(flops(1e15))).toBeCloseTo(1.011122, 6)
  })

  it('sums quantities of one kind', () => {
    expect(sum([bytes(1), bytes(2), bytes(3.5)])).toBe(6.5)
    expect(sum<number>([])).toBe(0)
  })
})
