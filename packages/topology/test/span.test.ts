import * as fc from 'fast-check'
import { bytes, bytesPerSecond, seconds } from '@meshplan/units'
import { describeSpan, devicesPerNode, nodeCount, spanOf, unsafeClusterOf, worldSize } from '../src'
import type { Cluster, Device, Link } from '../src'

const link: Link = { bandwidth: bytesPerSecond(1e9), latency: seconds(1e-6), inNetworkReduction: false }
const device: Device = { name: 'test', memory: bytes(1e9), memoryBandwidth: bytesPerSecond(1e12), peak: {}, source: 'test' }

/** Random clusters with nodes of 1 to 8 devices, 1 to 3 outer tiers of fanout 1 to 6. */
const arbitraryCluster: fc.Arbitrary<Cluster> = fc
  .tuple(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }))
  .map(([perNode, outer]) => ({
    name: 'test',
    device,
    tiers: [
      { name: 'node', kind: 'scale-up' as const, fanout: perNode, link },
      ...outer.map((fanout, i) => ({ name: `tier${i + 1}`, kind: 'scale-out' as const, fanout, link })),
    ],
  }))

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i)

describe('span', () => {
  describe('DGX H100 x 16', () => {
    const c = unsafeClusterOf('dgx-h100', 16)

    it('puts ranks 0..7 inside node 0', () => {
      const span = spanOf(c)(range(0, 8))
      expect(span).toEqual({
        size: 8,
        levels: [
          { tier: 'node', width: 8 },
          { tier: 'network', width: 1 },
        ],
        outermost: 0,
        regular: true,
      })
      expect(describeSpan(c)(span)).toBe('8 ranks in 1 node')
    })

    it('spreads a stride-8 group one per node', () => {
      const span = spanOf(c)([0, 8, 16, 24])
      expect(span.outermost).toBe(1)
      expect(span.levels).toEqual([
        { tier: 'node', width: 1 },
        { tier: 'network', width: 4 },
      ])
      expect(describeSpan(c)(span)).toBe('4 ranks: 1 per node x 4 nodes')
    })

    it('describes two full nodes', () => {
      expect(describeSpan(c)(spanOf(c)(range(0, 16)))).toBe('16 ranks: 8 per node x 2 nodes')
    })

    it('flags an uneven group as irregular and reports the widest node', () => {
      const span = spanOf(c)([0, 1, 2, 8])
      expect(span.regular).toBe(false)
      expect(span.levels[0]?.width).toBe(3)
      expect(describeSpan(c)(span)).toBe('4 ranks: 3 per node x 2 nodes (irregular)')
    })

    it('gives a single rank no outermost tier', () => {
      const span = spanOf(c)([42])
      expect(span.outermost).toBe(-1)
      expect(describeSpan(c)(span)).toBe('1 rank in 1 node')
    })
  })

  describe('GB200 NVL72 x 36 trays', () => {
    const c = unsafeClusterOf('gb200-nvl72', 36)

    it('keeps 8 ranks over 2 trays on the NVLink domain tier', () => {
      const span = spanOf(c)(range(0, 8))
      expect(span.outermost).toBe(1)
      expect(describeSpan(c)(span)).toBe('8 ranks: 4 per node x 2 nodes')
    })

    it('sends ranks 0 and 72 across the network (different racks)', () => {
      const span = spanOf(c)([0, 72])
      expect(span.outermost).toBe(2)
      expect(describeSpan(c)(span)).toBe('2 ranks: 1 per node x 1 node per domain x 2 domains')
    })

    it('keeps a full rack of 72 ranks inside its domain', () => {
      expect(spanOf(c)(range(72, 72)).outermost).toBe(1)
    })
  })

  describe('laws', () => {
    it('an aligned block of one node of ranks stays inside that node', () => {
      fc.assert(
        fc.property(
          arbitraryCluster.chain((c) => fc.tuple(fc.constant(c), fc.nat(nodeCount(c) - 1))),
          ([c, node]) => {
            const perNode = devicesPerNode(c)
            const span = spanOf(c)(range(node * perNode, perNode))
            expect(span.levels[0]?.width).toBe(perNode)
            span.levels.slice(1).forEach((level) => expect(level.width).toBe(1))
            expect(span.outermost).toBe(perNode > 1 ? 0 : -1)
            expect(span.regular).toBe(true)
          },
        ),
      )
    })

    it('a group strided by the node size crosses nodes, one rank in each', () => {
      fc.assert(
        fc.property(
          arbitraryCluster
            .filter((c) => nodeCount(c) >= 2)
            .chain((c) =>
              fc.tuple(fc.constant(c), fc.integer({ min: 2, max: nodeCount(c) }), fc.nat(devicesPerNode(c) - 1)),
            ),
          ([c, members, offset]) => {
            const perNode = devicesPerNode(c)
            const span = spanOf(c)(range(0, members).map((i) => offset + i * perNode))
            expect(span.size).toBe(members)
            expect(span.levels[0]?.width).toBe(1)
            expect(span.outermost).toBeGreaterThanOrEqual(1)
          },
        ),
      )
    })

    it('size never exceeds the product of widths, and equals it for a regular group', () => {
      fc.assert(
        fc.property(
          arbitraryCluster.chain((c) =>
            fc.tuple(fc.constant(c), fc.uniqueArray(fc.nat(worldSize(c) - 1), { minLength: 1, maxLength: worldSize(c) })),
          ),
          ([c, ranks]) => {
            const span = spanOf(c)(ranks)
            const product = span.levels.reduce((n, level) => n * level.width, 1)
            expect(span.size).toBeLessThanOrEqual(product)
            if (span.regular) expect(span.size).toBe(product)
          },
        ),
      )
    })
  })
})
