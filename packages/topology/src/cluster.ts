/**
 * A cluster as a hierarchy of tiers, innermost first. Tier 0 groups devices into a
 * node on a scale-up fabric (NVLink, Infinity Fabric, PCIe); an optional next tier
 * groups nodes into a larger scale-up domain (an NVL72 rack); the last tier joins
 * nodes (or domains) over the scale-out network. A rank's coordinates are its index
 * inside each tier; rank = mixed-radix number of its coordinates, innermost fastest,
 * so ranks 0..7 share node 0 on an 8-GPU-per-node cluster.
 *
 * @example
 * import { coordinatesOf, unsafeClusterOf, worldSize } from '@meshplan/topology'
 * const c = unsafeClusterOf('dgx-h100', 16) // or clusterOf(...): Either<TopologyError, Cluster>
 * worldSize(c)          // 128
 * coordinatesOf(c)(13)  // [5, 1]: device 5 of node 1
 */
import { bytesPerSecond, type Bytes, type BytesPerSecond, type Seconds } from '@meshplan/units'
import type { Device } from './device'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Whether a tier's link is a memory-semantic scale-up fabric or a NIC-based network. */
export type TierKind = 'scale-up' | 'scale-out'

/** The link that joins the members of one unit of a tier. */
export interface Link {
  /** Bandwidth available to each device, per direction. */
  readonly bandwidth: BytesPerSecond
  /** One-hop latency. */
  readonly latency: Seconds
  /** Whether switches of this tier can reduce in-network (NVLink SHARP, InfiniBand SHARP). */
  readonly inNetworkReduction: boolean
  /**
   * Set on a point-to-point tier (a full mesh, e.g. MI300X Infinity Fabric): the bandwidth
   * of the one link to each peer, per direction; `bandwidth` is then the sum over a device's
   * links. A group of `w` devices of such a tier reaches `min(bandwidth, (w − 1) · peerBandwidth)`
   * (`groupBandwidth`). Absent on a switched tier (every device reaches any peer at `bandwidth`).
   */
  readonly peerBandwidth?: BytesPerSecond
}

/** One level of the hierarchy. */
export interface Tier {
  /** A readable name: `node`, `rack`, `network`. */
  readonly name: string
  readonly kind: TierKind
  /** Members of the level below in one unit of this tier (tier 0: devices per node). */
  readonly fanout: number
  readonly link: Link
}

/** A set of identical devices joined by a hierarchy of tiers. */
export interface Cluster {
  readonly name: string
  readonly device: Device
  /** Innermost first; never empty. */
  readonly tiers: ReadonlyArray<Tier>
  /** Each device's share of host memory and its link to it, when known: what offload to host memory can use. */
  readonly host?: Host
}

/** One device's share of its node's host memory, and its link to it. */
export interface Host {
  /** The node's host memory divided by its devices. */
  readonly memory: Bytes
  /** Per direction. */
  readonly bandwidth: BytesPerSecond
  readonly source: string
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** Number of devices. */
export const worldSize = (cluster: Cluster): number => cluster.tiers.reduce((n, tier) => n * tier.fanout, 1)

/** Devices in one unit of tier `level` (level 0: a node). */
export const devicesPerUnit =
  (level: number) =>
  (cluster: Cluster): number =>
    cluster.tiers.slice(0, level + 1).reduce((n, tier) => n * tier.fanout, 1)

/**
 * What each of `width` devices of one unit of a tier reaches inside the unit, per
 * direction: the link's `bandwidth` on a switched tier; on a point-to-point tier (a full
 * mesh) `min(bandwidth, (width − 1) · peerBandwidth)`, as a device has one link to each of
 * the other `width − 1` devices and the collective libraries drive them at once (rings over
 * disjoint links, or direct peer-to-peer transfers: the complete digraph on w vertices splits
 * into w − 1 arc-disjoint directed Hamiltonian cycles for even w ≥ 8, Tillson 1980, "A
 * Hamiltonian decomposition of K*_2m, 2m ≥ 8", so eight GPUs can run seven rings at once;
 * for other w the figure is the links' sum, an upper bound). Two MI300X of a node:
 * 64 GB/s; all eight: 7 · 64 = 448 GB/s.
 */
export const groupBandwidth = (link: Link, width: number): BytesPerSecond =>
  link.peerBandwidth === undefined || width < 2 ? link.bandwidth : bytesPerSecond(Math.min(link.bandwidth, (width - 1) * link.peerBandwidth))

/** Devices per node (tier 0). */
export const devicesPerNode = (cluster: Cluster): number => devicesPerUnit(0)(cluster)

/** Number of nodes (units of tier 0). */
export const nodeCount = (cluster: Cluster): number => worldSize(cluster) / devicesPerNode(cluster)

/**
 * Devices in the largest scale-up domain: the product of the fanouts of the leading
 * scale-up tiers (8 on a DGX H100, 72 on a GB200 NVL72). Tensor parallelism beyond
 * this crosses the scale-out network.
 */
export const scaleUpDomainSize = (cluster: Cluster): number => {
  let size = 1
  for (const tier of cluster.tiers) {
    if (tier.kind !== 'scale-up') break
    size *= tier.fanout
  }
  return size
}

/** The index of `rank` inside each tier, innermost first. */
export const coordinatesOf =
  (cluster: Cluster) =>
  (rank: number): ReadonlyArray<number> => {
    const coordinates: number[] = []
    let rest = rank
    for (const tier of cluster.tiers) {
      coordinates.push(rest % tier.fanout)
      rest = Math.floor(rest / tier.fanout)
    }
    return coordinates
  }

/** The rank at `coordinates` (innermost first); the inverse of `coordinatesOf`. */
export const rankOf =
  (cluster: Cluster) =>
  (coordinates: ReadonlyArray<number>): number => {
    let rank = 0
    let stride = 1
    cluster.tiers.forEach((tier, level) => {
      rank += (coordinates[level] ?? 0) * stride
      stride *= tier.fanout
    })
    return rank
  }
