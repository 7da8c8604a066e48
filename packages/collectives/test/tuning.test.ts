import fc from 'fast-check'
import { devices, type Device } from '@meshplan/topology'
import { flopsPerSecond } from '@meshplan/units'
import {
  generationOf,
  isNcclProtocol,
  llMaxBandwidth,
  log2i,
  ncclBaseLatency,
  ncclHopLatency,
  ncclNvlsEfficiency,
  ncclTreeChannelBandwidth,
  ncclTreeCorrection,
  nodeCountIndex,
} from '../src/tuning'

// Every figure below is read from NCCL 2.30.7 (NVIDIA/nccl@5067397), src/graph/tuning.cc.
describe('NCCL tuner tables', () => {
  it('base latencies (ncclTunerConstantsDefaults.baseLatencies): Ring { 6.6, 14, 8.4 } µs, Tree { 6.8, 14, 8.4 } µs', () => {
    const inUs = (xs: ReadonlyArray<number>): ReadonlyArray<number> => xs.map((x) => Math.round(x * 1e7) / 10)
    expect(inUs([ncclBaseLatency.ring.LL, ncclBaseLatency.ring.LL128, ncclBaseLatency.ring.Simple])).toEqual([6.6, 14, 8.4])
    expect(inUs([ncclBaseLatency.tree.LL, ncclBaseLatency.tree.LL128, ncclBaseLatency.tree.Simple])).toEqual([6.8, 14, 8.4])
    expect(ncclBaseLatency.nvls.Simple).toBe(0)
  })

  it('step latencies (hwLatencies): NVLink ring LL 0.6, Simple 3.4; network ring LL 2.7, tree LL 5.0; NVLS 25 µs', () => {
    expect(ncclHopLatency.nvlink.ring.LL).toBeCloseTo(0.6e-6, 15)
    expect(ncclHopLatency.nvlink.ring.Simple).toBeCloseTo(3.4e-6, 15)
    expect(ncclHopLatency.network.ring.LL).toBeCloseTo(2.7e-6, 15)
    expect(ncclHopLatency.network.tree.LL).toBeCloseTo(5.0e-6, 15)
    expect(ncclHopLatency.nvlink.nvls.Simple).toBeCloseTo(25e-6, 15)
    expect(ncclHopLatency.network.nvlsTree.Simple).toBeCloseTo(20.9e-6, 15)
  })

  it('an 8-byte ring all-reduce on one 8-GPU node costs NCCL 6.6 + 14 x 0.6 = 15.0 µs', () => {
    expect(ncclBaseLatency.ring.LL + 14 * ncclHopLatency.nvlink.ring.LL).toBeCloseTo(15.0e-6, 12)
  })

  it('LL bus bandwidth caps (llMaxBws): by generation on one node, Intel hosts across nodes', () => {
    expect(llMaxBandwidth('ampere', 1)).toBe(87.7e9)
    expect(llMaxBandwidth('hopper', 1)).toBe(141e9)
    expect(llMaxBandwidth('blackwell', 1)).toBe(282e9)
    expect(llMaxBandwidth('hopper', 2)).toBe(39e9)
    expect(llMaxBandwidth('blackwell', 32)).toBe(20.4e9)
  })

  it('per-channel tree caps and NVLS efficiency by generation', () => {
    expect(ncclTreeChannelBandwidth.blackwell[2]).toBe(24e9)
    expect(ncclTreeChannelBandwidth.hopper[1]).toBeCloseTo(41.4e9, 0)
    expect(ncclNvlsEfficiency.hopper).toBe(0.85)
    expect(ncclNvlsEfficiency.blackwell).toBe(0.74)
  })

  it('tree correction: 24 powers of two from 64 B per protocol, each in (0, 1]', () => {
    for (const row of Object.values(ncclTreeCorrection)) {
      expect(row).toHaveLength(24)
      for (const f of row) {
        expect(f).toBeGreaterThan(0)
        expect(f).toBeLessThanOrEqual(1)
      }
    }
  })

  it('node-count columns and tree depth follow NCCL (index2, log2i)', () => {
    expect([1, 2, 3, 64].map(nodeCountIndex)).toEqual([0, 1, 2, 2])
    expect([1, 2, 3, 8, 10].map(log2i)).toEqual([0, 1, 1, 3, 3])
    fc.assert(fc.property(fc.integer({ min: 1, max: 1 << 20 }), (d) => 2 ** log2i(d) <= d && d < 2 ** (log2i(d) + 1)))
  })

  it('knows its protocols by name', () => {
    expect(['LL', 'LL128', 'Simple'].every(isNcclProtocol)).toBe(true)
    expect(isNcclProtocol('simple')).toBe(false)
  })
})

describe('generationOf', () => {
  it('reads the presets: A100 Ampere, H100 and H20 Hopper, B200 Blackwell, L40S (Ada) Ampere, MI300X Hopper', () => {
    expect(generationOf(devices['a100-80gb'])).toBe('ampere')
    expect(generationOf(devices['h100-sxm'])).toBe('hopper')
    expect(generationOf(devices.h20)).toBe('hopper')
    expect(generationOf(devices.b200)).toBe('blackwell')
    expect(generationOf(devices.gb200)).toBe('blackwell')
    expect(generationOf(devices.l40s)).toBe('ampere')
    expect(generationOf(devices.mi300x)).toBe('hopper')
  })

  it('reads the name of a device that lists neither fp8 nor fp4 (a case with bf16 figures only)', () => {
    const bf16Only: Device = { ...devices['h100-sxm'], peak: { bf16: flopsPerSecond(989e12) } }
    expect(generationOf({ ...bf16Only, name: 'H100-SXM5-80GB' })).toBe('hopper')
    expect(generationOf({ ...bf16Only, name: 'NVIDIA H20' })).toBe('hopper')
    expect(generationOf({ ...bf16Only, name: 'B200-180GB' })).toBe('blackwell')
    expect(generationOf({ ...bf16Only, name: 'GB200' })).toBe('blackwell')
    expect(generationOf({ ...bf16Only, name: 'A100-SXM4-80GB' })).toBe('ampere')
    expect(generationOf({ ...bf16Only, name: 'H2000 card' })).toBe('ampere')
  })
})
