import { defaultEfficiencies, defaultProtocols, IN_SWITCH_EFFICIENCY, SCALE_UP_EFFICIENCY } from '../src/constants'

describe('calibration constants', () => {
  it('put ring bus bandwidth near NCCL A100 cap: 300 GB/s x 0.8 = 240 against 235', () => {
    expect(Math.abs(300 * SCALE_UP_EFFICIENCY - 235) / 235).toBeLessThan(0.03)
  })

  it('put 8 x H100 NVLS all-reduce bus bandwidth near 476 GB/s: 1.75 x 450 x 0.8 x 0.85 / 1.125', () => {
    expect((1.75 * 450 * SCALE_UP_EFFICIENCY * IN_SWITCH_EFFICIENCY) / 1.125).toBeCloseTo(476, 6)
  })

  it('are fractions in (0, 1]', () => {
    for (const value of Object.values(defaultEfficiencies)) {
      expect(value).toBeGreaterThan(0)
      expect(value).toBeLessThanOrEqual(1)
    }
    for (const p of defaultProtocols) expect(p.bandwidthFraction).toBeLessThanOrEqual(1)
  })
})
