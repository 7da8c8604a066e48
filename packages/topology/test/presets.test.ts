import * as fc from 'fast-check'
import * as E from 'fp-ts/Either'
import {
  clusterForGpus,
  clusterOf,
  devicePreset,
  deviceNames,
  devices,
  devicesPerNode,
  nodeCount,
  scaleUpDomainSize,
  systemNames,
  systemPreset,
  systems,
  unsafeClusterOf,
  worldSize,
} from '../src'
import type { System, SystemName, TopologyError } from '../src'

/** `actual` within a relative `tolerance` of `expected`. */
const near = (actual: number | undefined, expected: number, tolerance = 1e-3): void => {
  expect(actual).toBeDefined()
  expect(Math.abs((actual ?? NaN) - expected) / expected).toBeLessThanOrEqual(tolerance)
}

const leftOf = <A>(result: E.Either<TopologyError, A>): TopologyError => {
  if (E.isRight(result)) throw new Error('expected a Left')
  return result.left
}

describe('presets', () => {
  describe('devices', () => {
    it('has one entry per name, each with memory, bandwidth, at least one dense peak and a source', () => {
      expect(Object.keys(devices).sort()).toEqual([...deviceNames].sort())
      for (const name of deviceNames) {
        const device = devices[name]
        expect(device.memory).toBeGreaterThan(0)
        expect(device.memoryBandwidth).toBeGreaterThan(0)
        const peaks = Object.values(device.peak)
        expect(peaks.length).toBeGreaterThan(0)
        peaks.forEach((peak) => expect(Number.isFinite(peak) && peak > 0).toBe(true))
        expect(device.source.length).toBeGreaterThan(20)
      }
    })

    it('gives H100 SXM5 dense figures: half the sparse 1979 (bf16) and 3958 (fp8) TFLOPS of the datasheet', () => {
      const h100 = devices['h100-sxm']
      near(h100.peak.bf16, 1979e12 / 2)
      near(h100.peak.fp16, 1979e12 / 2)
      near(h100.peak.fp8, 3958e12 / 2)
      near(h100.peak.tf32, 989e12 / 2)
      expect(h100.memory).toBe(80e9)
      expect(h100.memoryBandwidth).toBe(3.35e12)
    })

    it('derives per-GPU Blackwell figures from 8-GPU (HGX B200) and 72-GPU (NVL72) totals', () => {
      // HGX B200: 1.44 TB, 64 TB/s, sparse FP8 72 PFLOPS over 8 GPUs
      near(devices.b200.memory, 1.44e12 / 8)
      near(devices.b200.memoryBandwidth, 64e12 / 8)
      near(devices.b200.peak.fp8, 72e15 / 8 / 2)
      near(devices.b200.peak.fp4, 144e15 / 8 / 2)
      // GB200 NVL72: 13.4 TB, 576 TB/s, sparse BF16 360 PFLOPS over 72 GPUs
      near(devices.gb200.memory, 13.4e12 / 72, 1e-2)
      near(devices.gb200.memoryBandwidth, 576e12 / 72)
      near(devices.gb200.peak.bf16, 360e15 / 72 / 2)
    })

    it('derives per-GPU Blackwell Ultra figures the same way: HGX B300 over 8, GB300 NVL72 over 72', () => {
      // HGX B300: up to 2.3 TB (288 GB each), dense FP4 108 PFLOPS, sparse FP8 72, sparse INT8 2 POPS over 8 GPUs
      near(devices.b300.memory, 288e9)
      near(devices.b300.peak.fp4, 108e15 / 8)
      near(devices.b300.peak.fp8, 72e15 / 8 / 2)
      near(devices.b300.peak.int8, 2e15 / 8 / 2)
      // GB300 NVL72: 576 TB/s, dense FP4 1080 PFLOPS, sparse FP8 720 and BF16 360, sparse INT8 24 POPS over 72 GPUs
      near(devices.gb300.memoryBandwidth, 576e12 / 72)
      near(devices.gb300.peak.fp4, 1080e15 / 72)
      near(devices.gb300.peak.fp8, 720e15 / 72 / 2)
      near(devices.gb300.peak.bf16, 360e15 / 72 / 2)
      near(devices.gb300.peak.int8, 24e15 / 72 / 2, 1e-3)
      expect([devices.b300.generation, devices.gb300.generation]).toEqual(['blackwell', 'blackwell'])
    })

    it('gives the MI325X the MI300X\'s compute with 256 GB at 6 TB/s, and the MI355X twice the MI300X\'s 16-bit rate, fp8 5 and fp4 10 PFLOPS', () => {
      expect(devices.mi325x.peak).toEqual(devices.mi300x.peak)
      near(devices.mi325x.memory, 256e9)
      near(devices.mi325x.memoryBandwidth, 6e12)
      near(devices.mi355x.peak.fp8, 5e15)
      near(devices.mi355x.peak.fp4, 10e15)
      near(devices.mi355x.memoryBandwidth, 8e12)
    })

    it('keeps formats a part lacks absent: no fp4 before Blackwell, no fp8 on A100', () => {
      expect(devices['h100-sxm'].peak.fp4).toBeUndefined()
      expect(devices['a100-80gb'].peak.fp8).toBeUndefined()
      expect(devices.b200.peak.fp4).toBeDefined()
    })

    it('marks the reference accelerator’s bandwidth as an assumption', () => {
      expect(devices.reference.memory).toBe(64e9)
      expect(devices.reference.peak.bf16).toBe(400e12)
      expect(devices.reference.source).toMatch(/ASSUMPTION/)
    })

    it('looks a preset up, or suggests the closest name', () => {
      expect(devicePreset('mi300x')).toEqual(E.right(devices.mi300x))
      const error = leftOf(devicePreset('H100'))
      expect(error.code).toBe('unknown-preset')
      expect(error.code === 'unknown-preset' && error.suggestion).toBe('h100-sxm')
      expect(error.message).toMatch(/did you mean "h100-sxm"/)
      const far = leftOf(devicePreset('tpu-v5e'))
      expect(far.code === 'unknown-preset' && far.suggestion).toBeUndefined()
    })
  })

  describe('systems', () => {
    it('has one entry per name, built from the device presets', () => {
      expect(Object.keys(systems).sort()).toEqual([...systemNames].sort())
      const presetDevices = Object.values(devices)
      for (const name of systemNames) {
        const system = systems[name]
        expect(presetDevices).toContain(system.device)
        expect(Number.isInteger(system.devicesPerNode) && system.devicesPerNode >= 1).toBe(true)
        expect(system.scaleUp.bandwidth).toBeGreaterThan(system.scaleOut.bandwidth)
        expect(system.scaleOut.latency).toBeGreaterThan(system.scaleUp.latency)
        expect(system.source.length).toBeGreaterThan(20)
      }
    })

    it('halves bidirectional fabric figures and converts NIC bits to bytes', () => {
      expect(systems['dgx-h100'].scaleUp.bandwidth).toBe(900e9 / 2)
      expect(systems['dgx-h100'].scaleOut.bandwidth).toBe(400e9 / 8)
      expect(systems['hgx-h800'].scaleUp.bandwidth).toBe(400e9 / 2)
      expect(systems['hgx-h800'].scaleOut.bandwidth).toBe(50e9)
      expect(systems['dgx-b200'].scaleUp.bandwidth).toBe(1.8e12 / 2)
      expect(systems['dgx-a100-80gb'].scaleUp.bandwidth).toBe(600e9 / 2)
      expect(systems['dgx-a100-80gb'].scaleOut.bandwidth).toBe(200e9 / 8)
      expect(systems['mi300x-8'].scaleUp.bandwidth).toBe((7 * 128e9) / 2)
      expect(systems['mi325x-8'].scaleUp.bandwidth).toBe((7 * 128e9) / 2)
      near(systems['mi355x-8'].scaleUp.bandwidth, (7 * 153.6e9) / 2)
      expect(systems['hgx-b300'].scaleOut.bandwidth).toBe(800e9 / 8)
      expect(systems['gb300-nvl72'].scaleOut.bandwidth).toBe(800e9 / 8)
      expect(systems['l40s-8'].scaleUp.bandwidth).toBe(64e9 / 2)
      expect(systems['l40s-8'].scaleOut.bandwidth).toBe(100e9 / 8)
      expect(systems.reference.scaleOut.bandwidth).toBe(25e9)
    })

    it('gives host memory and each GPU\'s link to it: PCIe x16 per direction, 16 or 32 GT/s × 16 lanes × 128/130 bits per byte, NVLink-C2C 900 GB/s bidirectional shared by a Grace\'s two GPUs', () => {
      // Gen4: 16e9 × 16 × (128/130) / 8 = 31.5 GB/s; Gen5: twice that, 63 GB/s (rounded as the specification does)
      expect((16e9 * 16 * 128) / 130 / 8 / 1e9).toBeCloseTo(31.5, 1)
      // DGX A100: two GPUs under each PCIe Gen4 switch share its x16 uplink, half of 31.5 GB/s each when all offload
      expect(systems['dgx-a100-80gb'].host?.bandwidth).toBe(31.5e9 / 2)
      expect(systems['dgx-a100-40gb'].host?.bandwidth).toBe(31.5e9 / 2)
      expect(systems['dgx-h100'].host?.bandwidth).toBe(63e9)
      expect(systems['gb200-nvl72'].host?.bandwidth).toBe(900e9 / 2 / 2)
      // DGX H100: 2 TB over 8 GPUs; a GB200 tray: 2 Grace × 480 GB over 4 GPUs
      expect(unsafeClusterOf('dgx-h100', 2).host?.memory).toBe(250e9)
      expect(unsafeClusterOf('gb200-nvl72', 18).host?.memory).toBe(240e9)
      expect(unsafeClusterOf('dgx-a100-40gb', 1).host?.memory).toBe(125e9)
      // every preset but the hand-written reference node says where its host figures come from
      for (const name of systemNames) {
        const host = systems[name].host
        if (name === 'reference') expect(host).toBeUndefined()
        else expect(host?.source.length).toBeGreaterThan(20)
      }
      expect(unsafeClusterOf('reference', 1).host).toBeUndefined()
    })

    it('reduces in the switch on NVSwitch gen 3+ with SHARP only', () => {
      expect(systems['dgx-h100'].scaleUp.inNetworkReduction).toBe(true)
      expect(systems['gb200-nvl72'].domain?.link.inNetworkReduction).toBe(true)
      expect(systems['dgx-a100-40gb'].scaleUp.inNetworkReduction).toBe(false)
      expect(systems['mi300x-8'].scaleUp.inNetworkReduction).toBe(false)
    })

    it('makes an NVL72 domain of 18 trays x 4 GPUs = 72', () => {
      for (const name of ['gb200-nvl72', 'gb300-nvl72'] as const) {
        const nvl72 = systems[name]
        expect((nvl72.domain?.nodes ?? 0) * nvl72.devicesPerNode).toBe(72)
      }
    })

    it('looks a preset up, or suggests the closest name', () => {
      expect(systemPreset('dgx-b200')).toEqual(E.right(systems['dgx-b200']))
      const error = leftOf(systemPreset('dgx-h10'))
      expect(error.code === 'unknown-preset' && error.suggestion).toBe('dgx-h100')
    })
  })

  describe('clusterOf', () => {
    it('builds node and network tiers for a node design without domains', () => {
      const c = unsafeClusterOf('dgx-a100-80gb', 4)
      expect(c.tiers.map((t) => [t.name, t.kind, t.fanout])).toEqual([
        ['node', 'scale-up', 8],
        ['network', 'scale-out', 4],
      ])
      expect(c.tiers[0]?.link).toBe(systems['dgx-a100-80gb'].scaleUp)
      expect(c.device).toBe(devices['a100-80gb'])
      expect(c.name).toBe('DGX A100 (80GB) (4 nodes, 32 devices)')
      expect(unsafeClusterOf('dgx-a100-80gb', 4, 'lab').name).toBe('lab')
    })

    it('adds the domain tier for GB200 NVL72: 2 racks of 72', () => {
      const c = unsafeClusterOf('gb200-nvl72', 36)
      expect(c.tiers.map((t) => [t.name, t.kind, t.fanout])).toEqual([
        ['node', 'scale-up', 4],
        ['domain', 'scale-up', 18],
        ['network', 'scale-out', 2],
      ])
    })

    it('allows part of one domain: 9 trays = 36 GPUs, all on NVLink', () => {
      const c = unsafeClusterOf('gb200-nvl72', 9)
      expect(c.tiers.map((t) => t.fanout)).toEqual([4, 9, 1])
      expect(worldSize(c)).toBe(36)
      expect(scaleUpDomainSize(c)).toBe(36)
    })

    it('rejects a node count that splits a domain, suggesting whole domains', () => {
      const error = leftOf(clusterOf('gb200-nvl72', 20))
      expect(error).toMatchObject({ code: 'not-a-multiple', field: 'nodes', value: 20, multipleOf: 18, nearest: [18, 36] })
      expect(error.message).toMatch(/multiple of 18/)
      expect(() => unsafeClusterOf('gb200-nvl72', 20)).toThrow(/multiple of 18/)
    })

    it('rejects more devices than a double counts exactly', () => {
      expect(leftOf(clusterOf('dgx-h100', 2 ** 52))).toMatchObject({ code: 'too-large', devices: 2 ** 55 })
    })

    it.each([0, -1, 1.5, NaN, Infinity, 2 ** 60])('rejects %p nodes', (nodes) => {
      expect(leftOf(clusterOf('dgx-h100', nodes))).toMatchObject({ code: 'not-a-count', field: 'nodes' })
    })

    it('rejects an unknown system name given at run time', () => {
      expect(leftOf(clusterOf('dgx-h1000' as SystemName, 2))).toMatchObject({ code: 'unknown-preset', suggestion: 'dgx-h100' })
    })

    it('rejects a custom system with a fractional node size', () => {
      const odd: System = { ...systems.reference, devicesPerNode: 2.5 }
      expect(leftOf(clusterOf(odd, 2))).toMatchObject({ code: 'not-a-count', field: 'devicesPerNode' })
    })

    it('builds nodes x devicesPerNode devices for every preset and any valid node count', () => {
      fc.assert(
        fc.property(fc.constantFrom(...systemNames), fc.integer({ min: 1, max: 8 }), fc.boolean(), (name, k, whole) => {
          const system = systems[name]
          const perDomain = system.domain?.nodes ?? 1
          const nodes = whole ? k * perDomain : Math.min(k, perDomain)
          const c = unsafeClusterOf(name, nodes)
          expect(worldSize(c)).toBe(nodes * system.devicesPerNode)
          expect(nodeCount(c)).toBe(nodes)
          expect(devicesPerNode(c)).toBe(system.devicesPerNode)
          expect(c.tiers.at(-1)?.kind).toBe('scale-out')
        }),
      )
    })

    it('never throws, whatever the node count', () => {
      fc.assert(
        fc.property(fc.constantFrom(...systemNames), fc.double(), (name, nodes) => {
          const result = clusterOf(name, nodes)
          if (E.isRight(result)) expect(worldSize(result.right) % systems[name].devicesPerNode).toBe(0)
          else expect(result.left.message.length).toBeGreaterThan(0)
        }),
      )
    })
  })

  describe('clusterForGpus', () => {
    it('makes whole nodes: 64 H100s = 8 nodes', () => {
      const c = clusterForGpus('dgx-h100', 64)
      expect(E.map(nodeCount)(c)).toEqual(E.right(8))
    })

    it('makes one partial node below a node: 4 H100s', () => {
      const c = E.getOrElseW(() => undefined)(clusterForGpus('dgx-h100', 4))
      expect(c && [worldSize(c), devicesPerNode(c), nodeCount(c)]).toEqual([4, 4, 1])
    })

    it('rejects a count that splits a node, suggesting the nearest whole nodes', () => {
      expect(leftOf(clusterForGpus('dgx-h100', 12))).toMatchObject({ code: 'not-a-multiple', field: 'gpus', multipleOf: 8, nearest: [8, 16] })
    })

    it('rejects a count that splits an NVL72 domain, in GPUs', () => {
      expect(leftOf(clusterForGpus('gb200-nvl72', 76))).toMatchObject({ code: 'not-a-multiple', field: 'gpus', multipleOf: 72, nearest: [72, 144] })
      expect(E.map(worldSize)(clusterForGpus('gb200-nvl72', 144))).toEqual(E.right(144))
      expect(E.map(scaleUpDomainSize)(clusterForGpus('gb200-nvl72', 40))).toEqual(E.right(40))
    })

    it.each([0, -8, 7.5])('rejects %p GPUs', (gpus) => {
      expect(leftOf(clusterForGpus('dgx-h100', gpus))).toMatchObject({ code: 'not-a-count', field: 'gpus' })
    })
  })
})
