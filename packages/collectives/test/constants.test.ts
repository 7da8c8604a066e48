import { defaultEfficiencies, defaultProtocols, IN_SWITCH_EFFICIENCY, LL128_BANDWIDTH_FRACTION, SCALE_UP_EFFICIENCY, TREE_EFFICIENCY } from '../src/constants'
import { ncclNvlinkBandwidthPerLink } from '../src/tuning'

describe('calibration constants', () => {
  it('put the scale-up efficiency at NCCL NVLink figures per link (topo.h): 20/25, 20.6/25, 40.1/50', () => {
    expect(ncclNvlinkBandwidthPerLink.ampere / 25e9).toBeCloseTo(0.8, 6)
    expect(Math.abs(ncclNvlinkBandwidthPerLink.hopper / 25e9 - SCALE_UP_EFFICIENCY)).toBeLessThan(0.03) // 0.824
    expect(Math.abs(ncclNvlinkBandwidthPerLink.blackwell / 50e9 - SCALE_UP_EFFICIENCY)).toBeLessThan(0.01) // 0.802
  })

  it('put 8 x H100 NVLS all-reduce bus bandwidth near 476 GB/s: 1.75 x 450 x 0.8 x 0.85 / 1.125', () => {
    expect((1.75 * 450 * SCALE_UP_EFFICIENCY * IN_SWITCH_EFFICIENCY) / 1.125).toBeCloseTo(476, 6)
  })

  it('take NCCL tuner factors for trees (0.92) and LL128 (0.92)', () => {
    expect(TREE_EFFICIENCY).toBe(0.92)
    expect(LL128_BANDWIDTH_FRACTION).toBe(0.92)
  })

  it('are fractions in (0, 1]; the default protocols are NCCL three', () => {
    for (const value of Object.values(defaultEfficiencies)) {
      expect(value).toBeGreaterThan(0)
      expect(value).toBeLessThanOrEqual(1)
    }
    for (const p of defaultProtocols) expect(p.bandwidthFraction).toBeLessThanOrEqual(1)
    expect(defaultProtocols.map((p) => p.name)).toEqual(['LL', 'LL128', 'Simple'])
  })
})
