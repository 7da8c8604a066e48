import * as fc from 'fast-check'
import { bytes, bytesPerSecond, seconds } from '@meshplan/units'
import {
  coordinatesOf,
  devicesPerNode,
  devicesPerUnit,
  groupBandwidth,
  nodeCount,
  rankOf,
  scaleUpDomainSize,
  unsafeClusterOf,
  worldSize,
} from '../src'
import type { Cluster, Device, Link, TierKind } from '../src'

const link: Link = { bandwidth: bytesPerSecond(1e9), latency: seconds(1e-6), inNetworkReduction: false }
const device: Device = { name: 'test', memory: bytes(1e9), memoryBandwidth: bytesPerSecond(1e12), peak: {}, source: 'test' }

const clusterWith = (tiers: ReadonlyArray<readonly [TierKind, number]>): Cluster => ({
  name: 'test',
  device,
  tiers: tiers.map(([kind, fanout], level) => ({ name: `tier${level}`, kind, fanout, link })),
})

/** Random clusters: 1 to 4 tiers, fanouts 1 to 6, any mix of kinds. */
const arbitraryCluster: fc.Arbitrary<Cluster> = fc
  .array(fc.tuple(fc.constantFrom<TierKind>('scale-up', 'scale-out'), fc.integer({ min: 1, max: 6 })), { minLength: 1, maxLength: 4 })
  .map(clusterWith)

describe('cluster', () => {
  describe('DGX H100 x 16 (8 GPUs per node)', () => {
    const c = unsafeClusterOf('dgx-h100', 16)

    it('has 16 x 8 = 128 devices in 16 nodes, and an 8-GPU NVLink domain', () => {
      expect(worldSize(c)).toBe(128)
      expect(devicesPerNode(c)).toBe(8)
      expect(nodeCount(c)).toBe(16)
      expect(scaleUpDomainSize(c)).toBe(8)
    })

    it('places rank 13 as device 5 of node 1 (13 = 5 + 8 x 1), and back', () => {
      expect(coordinatesOf(c)(13)).toEqual([5, 1])
      expect(rankOf(c)([5, 1])).toBe(13)
      expect(coordinatesOf(c)(127)).toEqual([7, 15])
      expect(coordinatesOf(c)(0)).toEqual([0, 0])
    })
  })

  describe('MI300X platform (a full mesh of Infinity Fabric)', () => {
    const c = unsafeClusterOf('mi300x-8', 2)
    const node = c.tiers[0]?.link

    it('gives a group of w GPUs of a node w − 1 links of 64 GB/s, at most the 448 GB/s of all seven', () => {
      if (node === undefined) throw new Error('no node tier')
      expect(node.peerBandwidth).toBe(64e9)
      expect(groupBandwidth(node, 1)).toBe(448e9)
      expect(groupBandwidth(node, 2)).toBe(64e9)
      expect(groupBandwidth(node, 4)).toBe(3 * 64e9)
      expect(groupBandwidth(node, 8)).toBe(448e9)
    })

    it('leaves a switched link (NVSwitch) at its bandwidth whatever the group', () => {
      const nvlink = unsafeClusterOf('dgx-h100', 1).tiers[0]?.link
      if (nvlink === undefined) throw new Error('no node tier')
      expect(nvlink.peerBandwidth).toBeUndefined()
      for (const w of [1, 2, 4, 8]) expect(groupBandwidth(nvlink, w)).toBe(450e9)
    })
  })

  describe('GB200 NVL72 x 36 trays (2 racks)', () => {
    const c = unsafeClusterOf('gb200-nvl72', 36)

    it('has 4 x 18 x 2 = 144 GPUs and a scale-up domain of 4 x 18 = 72', () => {
      expect(worldSize(c)).toBe(144)
      expect(devicesPerNode(c)).toBe(4)
      expect(devicesPerUnit(1)(c)).toBe(72)
      expect(nodeCount(c)).toBe(36)
      expect(scaleUpDomainSize(c)).toBe(72)
    })

    it('places rank 100 as GPU 0 of tray 7 of rack 1 (100 = 0 + 4 x (7 + 18 x 1))', () => {
      expect(coordinatesOf(c)(100)).toEqual([0, 7, 1])
      expect(rankOf(c)([0, 7, 1])).toBe(100)
    })
  })

  it('counts a hand-built 2 x 3 x 4 hierarchy', () => {
    const c = clusterWith([
      ['scale-up', 2],
      ['scale-up', 3],
      ['scale-out', 4],
    ])
    expect(worldSize(c)).toBe(24)
    expect(devicesPerUnit(1)(c)).toBe(6)
    expect(nodeCount(c)).toBe(12)
    // 17 = 1 + 2 x (2 + 3 x 2)
    expect(coordinatesOf(c)(17)).toEqual([1, 2, 2])
    expect(rankOf(c)([1, 2, 2])).toBe(17)
  })

  it('stops the scale-up domain at the first scale-out tier', () => {
    const c = clusterWith([
      ['scale-up', 4],
      ['scale-out', 2],
      ['scale-up', 3],
    ])
    expect(scaleUpDomainSize(c)).toBe(4)
    expect(scaleUpDomainSize(clusterWith([['scale-out', 5]]))).toBe(1)
  })

  describe('laws', () => {
    it('rankOf inverts coordinatesOf for every rank, and every coordinate lies inside its tier', () => {
      fc.assert(
        fc.property(arbitraryCluster, (c) => {
          for (let rank = 0; rank < worldSize(c); rank++) {
            const coordinates = coordinatesOf(c)(rank)
            expect(coordinates).toHaveLength(c.tiers.length)
            coordinates.forEach((x, level) => {
              expect(x).toBeGreaterThanOrEqual(0)
              expect(x).toBeLessThan(c.tiers[level]?.fanout ?? 0)
            })
            expect(rankOf(c)(coordinates)).toBe(rank)
          }
        }),
      )
    })

    it('two ranks share a node exactly when they share every coordinate above the innermost', () => {
      fc.assert(
        fc.property(
          arbitraryCluster.chain((c) => fc.tuple(fc.constant(c), fc.nat(worldSize(c) - 1), fc.nat(worldSize(c) - 1))),
          ([c, a, b]) => {
            const sameNode = Math.floor(a / devicesPerNode(c)) === Math.floor(b / devicesPerNode(c))
            expect(JSON.stringify(coordinatesOf(c)(a).slice(1)) === JSON.stringify(coordinatesOf(c)(b).slice(1))).toBe(sameNode)
          },
        ),
      )
    })

    it('world size is the product of devices per node and node count', () => {
      fc.assert(fc.property(arbitraryCluster, (c) => expect(devicesPerNode(c) * nodeCount(c)).toBe(worldSize(c))))
    })
  })
})
