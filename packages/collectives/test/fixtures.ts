// Clusters, groups and arbitraries shared by the tests.
import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { clusterOf, spanOf, systemNames, unsafeClusterOf, worldSize, type Cluster, type GroupSpan, type Link, type Tier } from '@meshplan/topology'
import { bytes, bytesPerSecond, flopsPerSecond, seconds } from '@meshplan/units'

/** The right of an Either, or a thrown error with its left (tests only). */
export const rightOf = <L, A>(either: E.Either<L, A>): A => {
  if (E.isLeft(either)) throw new Error(`expected right, got ${JSON.stringify(either.left)}`)
  return either.right
}

/** The left of an Either, or a thrown error (tests only). */
export const leftOf = <L, A>(either: E.Either<L, A>): L => {
  if (E.isRight(either)) throw new Error(`expected left, got ${JSON.stringify(either.right)}`)
  return either.left
}

/** Ranks `from .. from + count - 1`. */
export const ranks = (count: number, from = 0): ReadonlyArray<number> => Array.from({ length: count }, (_, i) => from + i)

/** Every rank of `cluster`. */
export const everyRank = (cluster: Cluster): GroupSpan => spanOf(cluster)(ranks(worldSize(cluster)))

export const h100x1 = unsafeClusterOf('dgx-h100', 1)
export const h100x2 = unsafeClusterOf('dgx-h100', 2)
export const h100x16 = unsafeClusterOf('dgx-h100', 16)
export const a100x1 = unsafeClusterOf('dgx-a100-80gb', 1)

export const GiB = 2 ** 30

const link = (bandwidth: number, latency: number, inNetworkReduction = false): Link => ({
  bandwidth: bytesPerSecond(bandwidth),
  latency: seconds(latency),
  inNetworkReduction,
})

/**
 * A network-poor cluster: 2 nodes of 8 GPUs on 450 GB/s NVLink (no in-switch
 * reduction) sharing one 100 Gb/s NIC per node, 12.5e9 / 8 = 1.5625e9 B/s per GPU.
 */
export const thinNetwork: Cluster = {
  name: '2 x 8 GPUs, one 100 Gb/s NIC per node',
  device: { name: 'test GPU', memory: bytes(80e9), memoryBandwidth: bytesPerSecond(3.35e12), peak: { bf16: flopsPerSecond(989e12) }, source: 'test' },
  tiers: [
    { name: 'node', kind: 'scale-up', fanout: 8, link: link(450e9, 1e-6) },
    { name: 'network', kind: 'scale-out', fanout: 2, link: link(12.5e9 / 8, 5e-6) },
  ],
}

const presetCluster: fc.Arbitrary<Cluster> = fc
  .tuple(fc.constantFrom(...systemNames), fc.oneof(fc.integer({ min: 1, max: 18 }), fc.constant(36)))
  .map(([system, nodes]) => clusterOf(system, nodes))
  .filter(E.isRight)
  .map((c) => c.right)
  .filter((c) => worldSize(c) <= 288)

const tierArbitrary = (name: string, kind: Tier['kind']): fc.Arbitrary<Tier> =>
  fc.record({
    name: fc.constant(name),
    kind: fc.constant(kind),
    fanout: fc.integer({ min: 1, max: 8 }),
    link: fc.record({
      bandwidth: fc.double({ min: 1e8, max: 2e12, noNaN: true }).map(bytesPerSecond),
      latency: fc.double({ min: 0, max: 2e-5, noNaN: true }).map(seconds),
      inNetworkReduction: fc.boolean(),
    }),
  })

const shapedCluster: fc.Arbitrary<Cluster> = fc
  .tuple(
    tierArbitrary('node', 'scale-up'),
    fc.option(tierArbitrary('domain', 'scale-up'), { nil: undefined }),
    tierArbitrary('network', 'scale-out'),
    fc.option(tierArbitrary('spine', 'scale-out'), { nil: undefined }),
  )
  .map(([node, domain, network, spine]) => ({
    name: 'random tiers',
    device: thinNetwork.device,
    tiers: [node, ...(domain === undefined ? [] : [domain]), network, ...(spine === undefined ? [] : [spine])],
  }))

/** A preset cluster or one of random tier shapes. */
export const anyCluster: fc.Arbitrary<Cluster> = fc.oneof(presetCluster, shapedCluster)

/** A cluster and a random non-empty group of its ranks. */
export const clusterAndSpan: fc.Arbitrary<{ cluster: Cluster; span: GroupSpan }> = anyCluster.chain((cluster) =>
  fc
    .oneof(
      fc.subarray([...ranks(worldSize(cluster))], { minLength: 1 }),
      // strided groups, as parallelism layouts make them
      fc.integer({ min: 1, max: worldSize(cluster) }).map((stride) => ranks(Math.ceil(worldSize(cluster) / stride)).map((i) => i * stride)),
    )
    .map((group) => ({ cluster, span: spanOf(cluster)(group) })),
)

/** Message sizes from 1 B to 16 GiB. */
export const messageBytes: fc.Arbitrary<number> = fc.integer({ min: 1, max: 16 * GiB })
