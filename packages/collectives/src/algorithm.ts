/**
 * Collective algorithms in the latency–bandwidth (alpha–beta, Hockney) form: for a
 * protocol, an algorithm's time on a group is `latency + bytes × secondsPerByte`, the
 * form NCCL's tuner uses (`time = lat + bytes / bw`, `src/graph/tuning.cc`). An
 * algorithm says which operations and groups it can run (`applies`) and its two
 * coefficients (`cost`); because they do not depend on the message size, a prepared
 * group computes them once and the planner's inner loop is two multiply-adds per
 * candidate.
 *
 * Notation in the formulas: S bytes (nccl-tests convention), n ranks, m ranks per
 * scale-up domain, d domains; Bu = scale-up bandwidth × efficiency × protocol fraction,
 * Bo = each GPU's NIC share × efficiency × protocol fraction; lu, lo the link latencies
 * scaled by the protocol; b the protocol's base latency.
 *
 * @example
 * import { ring } from '@meshplan/collectives'
 * // 8 ranks in one node: all-reduce moves 2 (n - 1) / n of the buffer over each link
 * ring.cost('all_reduce', shape, defaultEfficiencies, simpleProtocol)
 * // { latency: b + 14 lu, secondsPerByte: 1.75 / Bu }
 */
import type { CollectiveOp } from './op'
import { ALL_TO_ALL_PEER_LATENCY, NVLS_LATENCY, type Efficiencies, type Protocol } from './constants'
import type { GroupShape } from './shape'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The two coefficients of `time(S) = latency + S × secondsPerByte`. */
export interface Cost {
  /** Seconds, independent of the message size. */
  readonly latency: number
  /** Seconds per byte of message (nccl-tests convention); above zero. */
  readonly secondsPerByte: number
}

/**
 * One way to run collectives. Names used by the case format (`ring`, `tree`, `nvls`,
 * `nvls_tree`, `collnet`) keep NCCL's meaning, so a measurement's forced
 * `NCCL_ALGO` maps to the algorithm of the same name.
 */
export interface Algorithm {
  readonly name: string
  /** One sentence: what it does and where it comes from. */
  readonly description: string
  /** Names of the protocols (of the model's `protocols`) it runs with. */
  readonly protocols: ReadonlyArray<string>
  /** Whether it can run `op` on a group of this shape (a group of two ranks or more). */
  readonly applies: (op: CollectiveOp, shape: GroupShape) => boolean
  /** Its cost coefficients; called only where `applies` holds. */
  readonly cost: (op: CollectiveOp, shape: GroupShape, efficiency: Efficiencies, protocol: Protocol) => Cost
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** Bu, Bo, lu, lo, b of the notation above. */
interface Rates {
  readonly up: number
  readonly out: number
  readonly latencyUp: number
  readonly latencyOut: number
  readonly base: number
}

const ratesOf = (shape: GroupShape, efficiency: Efficiencies, protocol: Protocol): Rates => ({
  up: shape.scaleUp.bandwidth * efficiency.scaleUp * protocol.bandwidthFraction,
  out: shape.scaleOut.bandwidth * efficiency.scaleOut * protocol.bandwidthFraction,
  latencyUp: shape.scaleUp.latency * protocol.hopLatencyScale,
  latencyOut: shape.scaleOut.latency * protocol.hopLatencyScale,
  base: protocol.baseLatency,
})

/** ⌈log2 d⌉: the depth of a binary tree over d leaves (0 for d = 1). */
const treeDepth = (d: number): number => (d <= 1 ? 0 : Math.ceil(Math.log2(d)))

/**
 * Bytes each node sends per byte of all-reduce through a double binary tree across d
 * nodes, per direction: 1 for two nodes (one sends the reduction up and receives the
 * result down), 2 above (each node is an inner node of one tree, receiving from two
 * children and sending to one parent, and a leaf of the other; Sanders, Speck, Träff
 * 2009, "Two-tree algorithms for full bandwidth broadcast, reduction and scan").
 */
const treeNetworkTraffic = (d: number): number => (d === 2 ? 1 : 2)

/**
 * Seconds per byte of traffic for a topology-aware ring (NCCL's rings): inside one
 * domain every byte of link traffic crosses the scale-up fabric; across domains NCCL
 * builds one ring per channel, each entering and leaving every node once through a
 * different GPU's NIC (rail-aligned), so per byte of ring traffic a GPU sends
 * (m - 1)/m over the scale-up fabric and 1/m through its NIC.
 */
const ringSecondsPerTrafficByte = (shape: GroupShape, rates: Rates): number =>
  shape.domains > 1 ? Math.max((shape.local - 1) / shape.local / rates.up, 1 / (shape.local * rates.out)) : 1 / rates.up

// -------------------------------------------------------------------------------------
// instances
// -------------------------------------------------------------------------------------

/**
 * Ring (NCCL `RING`): all-reduce as a reduce-scatter then an all-gather around a ring,
 * 2(n-1) steps each moving S/n (Patarasuk & Yuan 2009, bandwidth-optimal all-reduce);
 * all-gather and reduce-scatter (n-1) steps; broadcast a pipelined chain. Link traffic
 * per rank: all-reduce 2(n-1)/n S, all-gather and reduce-scatter (n-1)/n S, broadcast S.
 * Latency: NCCL's ring model (`tuning.cc`): b + (steps - interSteps) lu + interSteps lo,
 * with 2(d-1) of the 2(n-1) all-reduce steps crossing the network, (d-1) of (n-1) for the others.
 */
export const ring: Algorithm = {
  name: 'ring',
  description: 'NCCL ring: reduce-scatter + all-gather around topology-aware (rail-aligned) rings; pipelined chain for broadcast',
  protocols: ['LL', 'Simple'],
  applies: (op, shape) => shape.size > 1 && (op === 'all_reduce' || op === 'all_gather' || op === 'reduce_scatter' || op === 'broadcast'),
  cost: (op, shape, efficiency, protocol) => {
    const rates = ratesOf(shape, efficiency, protocol)
    const n = shape.size
    const d = shape.domains
    const traffic = op === 'all_reduce' ? (2 * (n - 1)) / n : op === 'broadcast' ? 1 : (n - 1) / n
    const steps = op === 'all_reduce' ? 2 * (n - 1) : n - 1
    const interSteps = op === 'all_reduce' ? 2 * (d - 1) : d - 1
    return {
      latency: rates.base + (steps - interSteps) * rates.latencyUp + interSteps * rates.latencyOut,
      secondsPerByte: traffic * ringSecondsPerTrafficByte(shape, rates),
    }
  },
}

/**
 * Tree (NCCL `TREE`, all-reduce only): a chain through the ranks of each domain and a
 * double binary tree across domains, reduce up then broadcast down, pipelined. In the
 * chain each rank sends S up and S down (2S out per rank: NCCL's tree algorithm
 * bandwidth is half the link's, `ratio = .5` in `tuning.cc`); across domains each node
 * moves `treeNetworkTraffic(d)` S per direction over its m NICs. Time per byte:
 * max(2/Bu, t(d)/(m Bo)) / tree efficiency. Latency (NCCL's tree model):
 * b + 2((m-1) lu + ⌈log2 d⌉ lo).
 */
export const tree: Algorithm = {
  name: 'tree',
  description: 'NCCL tree: chain inside each domain, double binary tree across domains (all-reduce)',
  protocols: ['LL', 'Simple'],
  applies: (op, shape) => op === 'all_reduce' && shape.size > 1,
  cost: (_op, shape, efficiency, protocol) => {
    const rates = ratesOf(shape, efficiency, protocol)
    const m = shape.local
    const d = shape.domains
    const chain = m > 1 ? 2 / rates.up : 0
    const network = d > 1 ? treeNetworkTraffic(d) / (m * rates.out) : 0
    return {
      latency: rates.base + 2 * ((m - 1) * rates.latencyUp + treeDepth(d) * rates.latencyOut),
      secondsPerByte: Math.max(chain, network) / efficiency.tree,
    }
  },
}

/**
 * NVLS (NCCL `NVLS`, NVLink SHARP, all-reduce inside one scale-up domain whose switches
 * reduce): each rank reads its 1/m shard reduced by the switch (`multimem.ld_reduce`:
 * sends S, receives S/m) then writes it to a multicast address (`multimem.st`: sends
 * S/m, receives S). Per direction (1 + 1/m) S over NVLink at Bu × in-switch efficiency.
 * Latency: b + 2 lu + NVLS_LATENCY. Simple protocol only, as in NCCL.
 */
export const nvls: Algorithm = {
  name: 'nvls',
  description: 'NVLink SHARP: in-switch reduce-scatter and multicast all-gather inside one scale-up domain (all-reduce)',
  protocols: ['Simple'],
  applies: (op, shape) => op === 'all_reduce' && shape.local > 1 && shape.domains === 1 && shape.scaleUp.inNetworkReduction,
  cost: (_op, shape, efficiency, protocol) => {
    const rates = ratesOf(shape, efficiency, protocol)
    return {
      latency: rates.base + 2 * rates.latencyUp + NVLS_LATENCY,
      secondsPerByte: (1 + 1 / shape.local) / (rates.up * efficiency.inSwitch),
    }
  },
}

/**
 * NVLS tree (NCCL `NVLS_TREE`, all-reduce across domains whose scale-up switches
 * reduce): NVLS reduce-scatter inside each domain, a double binary tree across domains
 * on each rank's 1/m shard (every GPU's NIC in parallel), NVLS all-gather; pipelined in
 * one kernel, so the slower of the two fabrics bounds it:
 * max((1 + 1/m)/(Bu × inSwitch), t(d)/(m Bo × tree)). Latency:
 * b + 2 lu + 2 ⌈log2 d⌉ lo + NVLS_LATENCY.
 */
export const nvlsTree: Algorithm = {
  name: 'nvls_tree',
  description: 'NVLink SHARP inside each domain, double binary tree across domains, pipelined (all-reduce)',
  protocols: ['Simple'],
  applies: (op, shape) => op === 'all_reduce' && shape.local > 1 && shape.domains > 1 && shape.scaleUp.inNetworkReduction,
  cost: (_op, shape, efficiency, protocol) => {
    const rates = ratesOf(shape, efficiency, protocol)
    const m = shape.local
    const d = shape.domains
    return {
      latency: rates.base + 2 * rates.latencyUp + 2 * treeDepth(d) * rates.latencyOut + NVLS_LATENCY,
      secondsPerByte: Math.max((1 + 1 / m) / (rates.up * efficiency.inSwitch), treeNetworkTraffic(d) / (m * rates.out * efficiency.tree)),
    }
  },
}

/**
 * CollNet (NCCL `COLLNET_DIRECT`, all-reduce across domains whose scale-out switches
 * reduce, InfiniBand SHARP): ring reduce-scatter inside each domain, each rank sends its
 * S/m shard into the network and receives the reduced shard, ring all-gather;
 * pipelined: max(2(m-1)/m / Bu, 1/(m Bo × inNetwork)). Latency: b + 2(m-1) lu + 2 lo.
 */
export const collnet: Algorithm = {
  name: 'collnet',
  description: 'in-network reduction on the scale-out switches (SHARP), rings inside each domain (all-reduce)',
  protocols: ['Simple'],
  applies: (op, shape) => op === 'all_reduce' && shape.domains > 1 && shape.scaleOut.inNetworkReduction,
  cost: (_op, shape, efficiency, protocol) => {
    const rates = ratesOf(shape, efficiency, protocol)
    const m = shape.local
    return {
      latency: rates.base + 2 * (m - 1) * rates.latencyUp + 2 * rates.latencyOut,
      secondsPerByte: Math.max((2 * (m - 1)) / m / rates.up, 1 / (m * rates.out * efficiency.inNetwork)),
    }
  },
}

/**
 * Hierarchical all-reduce as frameworks compose it from three collectives (Horovod's
 * hierarchical all-reduce; 2D all-reduce): ring reduce-scatter inside each domain, ring
 * all-reduce across domains on each rank's S/m shard with every GPU's NIC in parallel,
 * ring all-gather inside again. The phases run one after the other:
 * 2(m-1)/m / Bu + 2(d-1)/d / (m Bo) per byte; latency 3b + 2(m-1) lu + 2(d-1) lo.
 * It beats NCCL's rail-aligned ring when the network is thin next to the scale-up
 * fabric and the domains are few (its network traffic is 2(d-1)/d S/m per GPU against
 * the ring's 2(n-1)/n S/m).
 */
export const hierarchical: Algorithm = {
  name: 'hierarchical',
  description: 'reduce-scatter inside each domain, all-reduce across domains on 1/m of the data per GPU, all-gather inside (all-reduce)',
  protocols: ['Simple'],
  applies: (op, shape) => op === 'all_reduce' && shape.local > 1 && shape.domains > 1,
  cost: (_op, shape, efficiency, protocol) => {
    const rates = ratesOf(shape, efficiency, protocol)
    const m = shape.local
    const d = shape.domains
    return {
      latency: 3 * rates.base + 2 * (m - 1) * rates.latencyUp + 2 * (d - 1) * rates.latencyOut,
      secondsPerByte: (2 * (m - 1)) / m / rates.up + (2 * (d - 1)) / d / (m * rates.out),
    }
  },
}

/**
 * Pairwise all-to-all (NCCL's grouped send/recv to every peer): each rank sends S/n to
 * each of the n-1 others at once. (m-1)/n S stays inside the domain over the scale-up
 * fabric; (n-m)/n S leaves it through the rank's NIC share. The slower bounds it:
 * max((m-1)/n / Bu, (n-m)/n / Bo). Latency: b + one hop of the outermost link crossed +
 * (n-1) × ALL_TO_ALL_PEER_LATENCY.
 */
export const pairwise: Algorithm = {
  name: 'pairwise',
  description: 'all-to-all as concurrent sends to every peer, bounded by the scale-up fabric inside a domain and the NIC share across',
  protocols: ['LL', 'Simple'],
  applies: (op, shape) => op === 'all_to_all' && shape.size > 1,
  cost: (_op, shape, efficiency, protocol) => {
    const rates = ratesOf(shape, efficiency, protocol)
    const n = shape.size
    const m = shape.local
    const inside = (m - 1) / n / rates.up
    const outside = shape.domains > 1 ? (n - m) / n / rates.out : 0
    return {
      latency: rates.base + (shape.domains > 1 ? rates.latencyOut : rates.latencyUp) + (n - 1) * ALL_TO_ALL_PEER_LATENCY,
      secondsPerByte: Math.max(inside, outside),
    }
  },
}

/**
 * Send/recv (nccl-tests sendrecv_perf: each rank sends S to the next and receives S from
 * the previous): S over the slowest link a pair uses, the scale-up fabric at the
 * point-to-point efficiency inside a domain, a NIC share across. Latency: b + one hop.
 */
export const pointToPoint: Algorithm = {
  name: 'p2p',
  description: 'direct send/recv between neighbouring ranks',
  protocols: ['LL', 'Simple'],
  applies: (op, shape) => op === 'send_recv' && shape.size > 1,
  cost: (_op, shape, efficiency, protocol) => {
    const rates = ratesOf(shape, efficiency, protocol)
    const up = shape.scaleUp.bandwidth * efficiency.pointToPoint * protocol.bandwidthFraction
    const bandwidth = shape.domains > 1 ? Math.min(up, rates.out) : up
    return {
      latency: rates.base + (shape.domains > 1 ? rates.latencyOut : rates.latencyUp),
      secondsPerByte: 1 / bandwidth,
    }
  },
}

/** The algorithms of the default model. */
export const defaultAlgorithms: ReadonlyArray<Algorithm> = [ring, tree, nvls, nvlsTree, collnet, hierarchical, pairwise, pointToPoint]
