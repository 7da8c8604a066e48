import * as fc from 'fast-check'
import * as E from 'fp-ts/Either'
import { describeIssue } from '@meshplan/units'
import type { DecodeIssue } from '@meshplan/units'
import { decodeClusterFile, devices, readClusterFile, scaleUpDomainSize, systemNames, systems, worldSize } from '../src'
import type { Cluster } from '../src'
import { fullClusterFile } from './fixtures'

const right = (result: E.Either<ReadonlyArray<DecodeIssue>, Cluster>): Cluster => {
  if (E.isLeft(result)) throw new Error(`expected a cluster, got ${result.left.map(describeIssue).join('; ')}`)
  return result.right
}

const issues = (result: E.Either<ReadonlyArray<DecodeIssue>, Cluster>): ReadonlyArray<DecodeIssue> => {
  if (E.isRight(result)) throw new Error(`expected issues, got cluster ${result.right.name}`)
  return result.left
}

const at = (result: E.Either<ReadonlyArray<DecodeIssue>, Cluster>, path: string): DecodeIssue | undefined =>
  issues(result).find((issue) => issue.path === path)

/** What a decoded cluster must satisfy whatever the input. */
const expectValidCluster = (c: Cluster): void => {
  expect(c.tiers.length).toBeGreaterThan(0)
  c.tiers.forEach((tier) => {
    expect(Number.isSafeInteger(tier.fanout) && tier.fanout >= 1).toBe(true)
    expect(tier.link.bandwidth).toBeGreaterThan(0)
    expect(tier.link.latency).toBeGreaterThanOrEqual(0)
  })
  expect(Number.isSafeInteger(worldSize(c))).toBe(true)
  expect(c.device.memory).toBeGreaterThan(0)
  expect(c.device.memoryBandwidth).toBeGreaterThan(0)
  expect(Object.keys(c.device.peak).length).toBeGreaterThan(0)
}

const expectWellFormedIssues = (found: ReadonlyArray<DecodeIssue>): void => {
  expect(found.length).toBeGreaterThan(0)
  found.forEach((issue) => {
    expect(issue.path).toMatch(/^cluster(\.|\[|$)/)
    expect(issue.expected.length).toBeGreaterThan(0)
    expect(describeIssue(issue).startsWith(`${issue.path}: `)).toBe(true)
  })
}

describe('codec', () => {
  describe('accepts', () => {
    it('a YAML preset with a scale-out override, keeping the rest of the preset', () => {
      const c = right(readClusterFile('system: dgx-h100\nnodes: 16\nscaleOut:\n  bandwidth: 200Gb/s\n', 'cluster.yaml'))
      expect(worldSize(c)).toBe(128)
      expect(c.device).toBe(devices['h100-sxm'])
      expect(c.tiers[0]?.link.bandwidth).toBe(450e9)
      expect(c.tiers[1]?.link.bandwidth).toBe(25e9) // 200 Gb/s / 8
      expect(c.tiers[1]?.link.latency).toBe(5e-6) // the preset's InfiniBand latency, kept
      expect(c.name).toBe('DGX H100 (16 nodes, 128 devices)')
    })

    it('a JSON cluster written out in full, with units and defaults', () => {
      const text = JSON.stringify(fullClusterFile)
      const c = right(readClusterFile(text, 'lab.json'))
      expect(c.name).toBe('lab')
      expect(c.device).toMatchObject({ name: 'npu', memory: 64 * 2 ** 30, memoryBandwidth: 1.6e12, peak: { bf16: 4e14 } })
      expect(c.tiers.map((t) => [t.name, t.kind, t.fanout])).toEqual([
        ['node', 'scale-up', 8],
        ['domain', 'scale-up', 2],
        ['network', 'scale-out', 2],
      ])
      expect(c.tiers[0]?.link).toEqual({ bandwidth: 196e9, latency: 1e-6, inNetworkReduction: false })
      expect(c.tiers[1]?.link).toEqual({ bandwidth: 100e9, latency: 2e-6, inNetworkReduction: false })
      expect(c.tiers[2]?.link).toEqual({ bandwidth: 25e9, latency: 8e-6, inNetworkReduction: true })
      expect(worldSize(c)).toBe(32)
      expect(scaleUpDomainSize(c)).toBe(16)
    })

    it('a device preset over a system preset, and a domain override of the NVL72', () => {
      const c = right(decodeClusterFile({ system: 'gb200-nvl72', nodes: 16, device: 'b200', domain: { nodes: 8 } }))
      expect(c.device).toBe(devices.b200)
      expect(c.tiers.map((t) => t.fanout)).toEqual([4, 8, 2])
      expect(c.tiers[1]?.link).toEqual(systems['gb200-nvl72'].domain?.link)
    })

    it('a full-mesh node: peerBandwidth written out, or kept from the MI300X preset under a bandwidth override', () => {
      const mesh = right(decodeClusterFile({ system: 'reference', nodes: 1, scaleUp: { bandwidth: '448GB/s', peerBandwidth: '64GB/s' } }))
      expect(mesh.tiers[0]?.link.peerBandwidth).toBe(64e9)
      const kept = right(decodeClusterFile({ system: 'mi300x-8', nodes: 1, scaleUp: { bandwidth: '400GB/s' } }))
      expect(kept.tiers[0]?.link).toMatchObject({ bandwidth: 400e9, peerBandwidth: 64e9 })
      const bad = at(decodeClusterFile({ system: 'mi300x-8', nodes: 1, scaleUp: { peerBandwidth: -1 } }), 'cluster.scaleUp.peerBandwidth')
      expect(bad?.value).toBe(-1)
    })

    it('numbers in base units and strings with units alike', () => {
      const asNumbers = right(decodeClusterFile({ system: 'reference', nodes: 2, scaleUp: { bandwidth: 3e11, latency: 0 } }))
      const asStrings = right(decodeClusterFile({ system: 'reference', nodes: 2, scaleUp: { bandwidth: '300GB/s', latency: '0us' } }))
      expect(asNumbers.tiers).toEqual(asStrings.tiers)
    })
  })

  describe('rejects, naming the path, the value and what was expected', () => {
    it('a node count of zero', () => {
      const issue = at(decodeClusterFile({ system: 'dgx-h100', nodes: 0 }), 'cluster.nodes')
      expect(issue).toEqual({ path: 'cluster.nodes', value: 0, expected: 'a whole number from 1 to 1,048,576 (GPUs of one cluster; the largest built by 2026 hold about 200,000)' })
    })

    it('a size that is not a size', () => {
      const result = decodeClusterFile({ nodes: 1, devicesPerNode: 1, device: { memory: 'eighty', memoryBandwidth: '1TB/s', peak: { bf16: 1e12 } } })
      const issue = at(result, 'cluster.device.memory')
      expect(issue?.value).toBe('eighty')
      expect(describeIssue(issue ?? { path: '', value: undefined, expected: '' })).toBe(
        'cluster.device.memory: expected a size like "80GiB" or "141GB", from 1 MB to 100 TB (a device memory; the largest in 2026 is 288 GB), got "eighty"',
      )
    })

    it.each([0, -1, NaN, Infinity, '0GB/s', '-5GB/s', 'fast'])('a bandwidth of %p', (bandwidth) => {
      const issue = at(decodeClusterFile({ system: 'dgx-h100', nodes: 1, scaleUp: { bandwidth } }), 'cluster.scaleUp.bandwidth')
      expect(issue?.value).toBe(bandwidth)
    })

    it('host memory without a preset to give its bandwidth, and a host memory past 1 PB', () => {
      const bare = { nodes: 1, devicesPerNode: 8, device: 'h100-sxm', scaleUp: { bandwidth: '450GB/s' }, scaleOut: { bandwidth: '50GB/s' } }
      expect(at(decodeClusterFile({ ...bare, host: { memory: '2TB' } }), 'cluster.host.bandwidth')?.expected).toMatch(/per direction/)
      expect(at(decodeClusterFile({ ...bare, host: { memory: '2PB', bandwidth: '63GB/s' } }), 'cluster.host.memory')?.value).toBe('2PB')
      // over a preset, one field overrides the preset's; the other is kept
      const c = decodeClusterFile({ system: 'dgx-h100', nodes: 1, host: { bandwidth: '25GB/s' } })
      expect(E.isRight(c) && c.right.host).toEqual({ memory: 250e9, bandwidth: 25e9, source: 'user cluster file' })
    })

    it('a typo in a field name, together with the other problems of the file', () => {
      const result = decodeClusterFile({ system: 'dgx-h100', nodes: 0, device: { memroy: '80GB', memoryBandwidth: '1TB/s', peak: {} } })
      expect(issues(result).map((issue) => issue.path).sort()).toEqual(['cluster.device.memory', 'cluster.device.memroy', 'cluster.nodes'])
      expect(at(result, 'cluster.device.memroy')?.expected).toMatch(/no field "memroy"/)
    })

    it('an unknown system, suggesting the closest preset', () => {
      const issue = at(decodeClusterFile({ system: 'dgx-h10', nodes: 2 }), 'cluster.system')
      expect(issue?.value).toBe('dgx-h10')
      expect(issue?.expected).toMatch(/did you mean "dgx-h100"/)
    })

    it('an unknown device, suggesting the closest preset', () => {
      expect(at(decodeClusterFile({ system: 'dgx-h100', nodes: 2, device: 'mi300' }), 'cluster.device')?.expected).toMatch(
        /did you mean "mi300x"/,
      )
    })

    it('a file without a system that lacks what a system would give, all at once', () => {
      const result = decodeClusterFile({ nodes: 2 })
      expect(issues(result).map((issue) => issue.path)).toEqual(['cluster.device', 'cluster.devicesPerNode', 'cluster.scaleUp', 'cluster.scaleOut'])
      issues(result).forEach((issue) => expect(issue.value).toBeUndefined())
    })

    it('a device without any peak', () => {
      const result = decodeClusterFile({ system: 'dgx-h100', nodes: 1, device: { memory: '1GB', memoryBandwidth: '1TB/s', peak: {} } })
      expect(at(result, 'cluster.device.peak')?.expected).toMatch(/at least one numeric format/)
    })

    it('a node count that splits an NVL72 domain, naming the nearest whole domains', () => {
      const issue = at(decodeClusterFile({ system: 'gb200-nvl72', nodes: 20 }), 'cluster.nodes')
      expect(issue?.value).toBe(20)
      expect(issue?.expected).toMatch(/multiple of 18.*18 or 36/)
    })

    it('a YAML null where a name belongs', () => {
      expect(at(readClusterFile('system: dgx-h100\nnodes: 1\nname:\n', 'c.yml'), 'cluster.name')?.value).toBeNull()
    })

    it('a document that is not an object', () => {
      expect(issues(decodeClusterFile([1, 2]))).toEqual([{ path: 'cluster', value: [1, 2], expected: 'an object' }])
      expect(issues(readClusterFile('', 'empty.yaml'))[0]?.path).toBe('cluster')
    })

    it('a syntax error as one issue at the root', () => {
      const found = issues(readClusterFile('{"nodes": 2,', 'cluster.json'))
      expect(found).toHaveLength(1)
      expect(found[0]?.path).toBe('cluster')
      expect(found[0]?.expected).toMatch(/^well-formed JSON \(cluster\.json: not valid JSON/)
    })
  })

  describe('laws', () => {
    const check = (u: unknown): void => {
      const result = decodeClusterFile(u)
      if (E.isRight(result)) expectValidCluster(result.right)
      else expectWellFormedIssues(result.left)
    }

    it('never throws on arbitrary JSON, and returns a valid cluster or well-formed issues', () => {
      fc.assert(fc.property(fc.jsonValue(), check), { numRuns: 500 })
    })

    it('never throws on arbitrary values', () => {
      fc.assert(fc.property(fc.anything({ withNullPrototype: true, withObjectString: true, withBoxedValues: true }), check), { numRuns: 500 })
    })

    it('never throws on objects shaped almost like a cluster file', () => {
      const value = fc.oneof(fc.string(), fc.double(), fc.integer({ min: -3, max: 40 }), fc.constantFrom('80GiB', '450GB/s', '1us', '989TFLOPS', 'dgx-h100'))
      const almost = fc.record(
        {
          name: value,
          system: fc.oneof(fc.constantFrom(...systemNames), value),
          nodes: value,
          devicesPerNode: value,
          device: fc.oneof(value, fc.record({ memory: value, memoryBandwidth: value, peak: fc.dictionary(fc.constantFrom('bf16', 'fp8', 'fp9'), value) }, { requiredKeys: [] })),
          scaleUp: fc.record({ bandwidth: value, latency: value, inNetworkReduction: fc.oneof(fc.boolean(), value) }, { requiredKeys: [] }),
          domain: fc.record({ nodes: value, bandwidth: value }, { requiredKeys: [] }),
          scaleOut: fc.record({ bandwidth: value, latency: value }, { requiredKeys: [] }),
        },
        { requiredKeys: [] },
      )
      fc.assert(fc.property(almost, check), { numRuns: 500 })
    })

    it('decodes every preset with whole domains and an override, applying the override', () => {
      fc.assert(
        fc.property(fc.constantFrom(...systemNames), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 900 }), (system, k, gigabytes) => {
          const nodes = k * (systems[system].domain?.nodes ?? 1)
          const c = right(decodeClusterFile({ system, nodes, scaleOut: { bandwidth: `${gigabytes}GB/s` } }))
          expect(worldSize(c)).toBe(nodes * systems[system].devicesPerNode)
          expect(c.tiers.at(-1)?.link.bandwidth).toBeCloseTo(gigabytes * 1e9, -3)
          expect(c.tiers.at(-1)?.link.latency).toBe(systems[system].scaleOut.latency)
        }),
      )
    })
  })
})

describe('codec: figures outside their physical range are refused at their path', () => {
  const issuesOf = (u: unknown): ReadonlyArray<DecodeIssue> => {
    const r = decodeClusterFile(u)
    return E.isLeft(r) ? r.left : []
  }

  it('memory: 1e300PB (Infinity bytes) at cluster.device.memory; 5e-312 B/s at cluster.device.memoryBandwidth', () => {
    const device = { memory: '1e300PB', memoryBandwidth: 5e-312, peak: { bf16: '989TFLOPS' } }
    const issues = issuesOf({ system: 'dgx-h100', nodes: 1, device })
    expect(issues.map((i) => i.path)).toEqual(['cluster.device.memory', 'cluster.device.memoryBandwidth'])
    expect(issues[0]?.expected).toContain('from 1 MB to 100 TB')
  })

  it('a peak of 5e-324 FLOP/s, a link of 1e300 B/s and a latency of an hour', () => {
    const device = { memory: '80GB', memoryBandwidth: '3.35TB/s', peak: { bf16: 5e-324 } }
    const issues = issuesOf({ system: 'dgx-h100', nodes: 1, device, scaleOut: { bandwidth: 1e300, latency: '3600s' } })
    expect(issues.map((i) => i.path)).toEqual(['cluster.device.peak.bf16', 'cluster.scaleOut.bandwidth', 'cluster.scaleOut.latency'])
  })

  it('2^50 nodes are refused at once, naming the limit of GPUs', () => {
    const started = Date.now()
    const issues = issuesOf({ system: 'dgx-h100', nodes: 2 ** 50 })
    expect(Date.now() - started).toBeLessThan(1000)
    expect(issues.map((i) => i.path)).toEqual(['cluster.nodes'])
    // 200,000 nodes of 8 = 1.6M GPUs: every node count is fine alone, the cluster is not
    const big = issuesOf({ system: 'dgx-h100', nodes: 200_000 })
    expect(big[0]?.expected).toContain('at most 1,048,576 devices')
  })
})
