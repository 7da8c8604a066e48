/**
 * Collective algorithms in the latency–bandwidth (alpha–beta, Hockney) form: for a
 * protocol, an algorithm's time on a group is `latency + bytes × secondsPerByte`, the
 * form NCCL's tuner uses (`time = lat + bytes / bw`, `src/graph/tuning.cc`), with NCCL's
 * own figures (`tuning`): its base and per-step latencies per algorithm and protocol on
 * NVLink and on the network, its protocol bandwidths (LL half of Simple's and capped,
 * LL128 0.92 of it), its per-channel caps by GPU generation and node count, and its
 * medium-size correction for trees. An algorithm says which operations and groups it can
 * run (`applies`) and its coefficients (`cost`); because they do not depend on the
 * message size (the tree correction is a table by power of two), a prepared group
 * computes them once and the planner's inner loop stays a multiply-add per candidate.
 *
 * Notation in the formulas: S bytes (nccl-tests convention), n ranks, m ranks per
 * scale-up domain, d domains; Bu = scale-up bandwidth × `scaleUp` efficiency, Bo = each
 * GPU's NIC share × `scaleOut` efficiency; b the protocol's base latency, lu and lo the
 * latency of one step on the scale-up fabric and across the network (NCCL's
 * `hwLatencies`, plus what the links' latencies exceed NCCL's fabrics by).
 *
 * @example
 * import { ring } from '@meshplan/collectives'
 * // 8 ranks in one node: all-reduce moves 2 (n - 1) / n of the buffer over each link
 * ring.cost('all_reduce', shape, defaultEfficiencies, llProtocol)
 * // { latency: 6.6 µs + 14 x 0.6 µs, secondsPerByte: 1.75 / min(141e9, Bu / 2) }
 */
import { latencies } from '@meshplan/topology'
import type { CollectiveOp } from './op'
import { NVLS_LATENCY, type Efficiencies, type Protocol } from './constants'
import type { GroupShape } from './shape'
import {
  isNcclProtocol,
  llMaxBandwidth,
  log2i,
  NCCL_COLLNET_ARITY_LATENCY,
  NCCL_NET_OVERHEAD,
  NCCL_NET_OVERHEAD_SIMPLE_FACTOR,
  NCCL_RING_PLATEAU_FACTOR,
  NCCL_TREE_LL_FRACTION,
  ncclBaseLatency,
  ncclHopLatency,
  ncclNvlsEfficiency,
  ncclNvlsTreeChannelBandwidth,
  ncclRingLl128ChannelBandwidth,
  ncclTreeChannelBandwidth,
  ncclTreeCorrection,
  ncclTreeLl128ChannelBandwidth,
  ncclTreeLl128Fraction,
  nodeCountIndex,
  type NcclAlgorithmKey,
} from './tuning'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The coefficients of `time(S) = latency + S × secondsPerByte`, with an optional size correction. */
export interface Cost {
  /** Seconds, independent of the message size. */
  readonly latency: number
  /** Seconds per byte of message (nccl-tests convention); above zero. */
  readonly secondsPerByte: number
  /**
   * NCCL's medium-size bandwidth correction (`ncclTreeCorrection`): entry i multiplies
   * the bandwidth of messages of 64·2^i to 64·2^(i+1) bytes; 1 outside the table. The
   * model keeps the time non-decreasing in the size across the table's steps.
   */
  readonly bandwidthCorrection?: ReadonlyArray<number>
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

/** b, lu, lo of the notation above, and the cost of posting one network send. */
interface Steps {
  readonly base: number
  readonly intra: number
  readonly inter: number
  readonly netOverhead: number
}

/**
 * NCCL's per-step latencies of algorithm `key` on `shape` with `protocol` (`tuning.cc`,
 * `ncclTopoTuneModel`): the base latency; one NVLink step; one network step (with one
 * rank per node NCCL takes the tree's network figure, "latencies are fully exposed");
 * what the group's links are slower than the fabrics NCCL's figures are for (topology's
 * `latencies.nvlink` and `latencies.network`, 1 and 5 µs) is added to every step of that
 * fabric, as NCCL adds a network plugin's reported latency (`latencyInter`), twice with
 * Simple (the flush). A protocol of another name: its base latency, and the link
 * latencies times its `hopLatencyScale`.
 */
const stepsOf = (key: NcclAlgorithmKey, shape: GroupShape, protocol: Protocol): Steps => {
  const name = protocol.name
  if (!isNcclProtocol(name)) {
    return {
      base: protocol.baseLatency,
      intra: shape.scaleUp.latency * protocol.hopLatencyScale,
      inter: shape.scaleOut.latency * protocol.hopLatencyScale,
      netOverhead: 0,
    }
  }
  const simple = name === 'Simple'
  const extraUp = Math.max(0, shape.scaleUp.latency - latencies.nvlink)
  const extraOut = Math.max(0, shape.scaleOut.latency - latencies.network) * (simple ? 2 : 1)
  const interKey: NcclAlgorithmKey = shape.local === 1 ? 'tree' : key
  return {
    base: ncclBaseLatency[key][name],
    intra: ncclHopLatency.nvlink[key][name] + extraUp,
    inter: ncclHopLatency.network[interKey][name] + extraOut,
    netOverhead: shape.domains > 1 ? NCCL_NET_OVERHEAD * (simple ? NCCL_NET_OVERHEAD_SIMPLE_FACTOR : 1) : 0,
  }
}

/** Bu: the scale-up bandwidth a kernel reaches. */
const upOf = (shape: GroupShape, efficiency: Efficiencies): number => shape.scaleUp.bandwidth * efficiency.scaleUp
/** Bo: each GPU's share of the network a kernel reaches. */
const outOf = (shape: GroupShape, efficiency: Efficiencies): number => shape.scaleOut.bandwidth * efficiency.scaleOut

/**
 * Bytes each node sends per byte of all-reduce through a double binary tree across d
 * nodes, per direction: 1 for two nodes (one sends the reduction up and receives the
 * result down), 2 above (each node is an inner node of one tree, receiving from two
 * children and sending to one parent, and a leaf of the other; Sanders, Speck, Träff
 * 2009, "Two-tree algorithms for full bandwidth broadcast, reduction and scan").
 */
const treeNetworkTraffic = (d: number): number => (d === 2 ? 1 : 2)

/**
 * NCCL's channel count across nodes, for its per-channel caps: one channel per NIC (a NIC
 * per GPU: m per node), each at the fastest speed of NCCL's list the NIC carries
 * (`search.cc`, `sm90SpeedArrayInter`: 48 GB/s for a 50 GB/s NIC, 24 for 25). NCCL then
 * doubles the channels at half the speed when a channel carries 25 GB/s or more (a NIC
 * of 30 GB/s or more), except from Hopper on with more than 4 channels
 * (`ncclTopoDupChannels`). Inside one node the caps do not bind at NCCL's channel
 * counts and are left out.
 */
const channelsAcross = (shape: GroupShape): number => {
  if (shape.domains <= 1) return Infinity
  const m = shape.local
  const doubled = shape.scaleOut.bandwidth >= 30e9 && (shape.generation === 'ampere' || m <= 4)
  return doubled ? 2 * m : m
}

/** A per-channel cap times the channels, or no cap (a zero entry in NCCL's table means none). */
const capOf = (channels: number, perChannel: number): number => (perChannel > 0 ? channels * perChannel : Infinity)

/**
 * The bus bandwidth (NCCL's `busBw`: per-GPU link traffic per second) of a topology-aware
 * ring with Simple: inside one domain the scale-up link; across domains NCCL builds one
 * ring per channel, each entering and leaving every node once through a different GPU's
 * NIC (rail-aligned), so per byte of ring traffic a GPU sends (m - 1)/m over the scale-up
 * fabric and 1/m through its NIC.
 */
const ringBusBandwidth = (shape: GroupShape, up: number, out: number): number =>
  shape.domains > 1 ? 1 / Math.max((shape.local - 1) / shape.local / up, 1 / (shape.local * out)) : up

/**
 * A ring's bus bandwidth with `protocol` (`tuning.cc`): LL at its fraction (half) and at
 * most `llMaxBws`; LL128 at its fraction (0.92) and at most the channels × the per-channel
 * LL128 cap; Simple and other protocols at their fraction.
 */
const ringProtocolBandwidth = (shape: GroupShape, simple: number, protocol: Protocol): number => {
  const scaled = simple * protocol.bandwidthFraction
  switch (protocol.name) {
    case 'LL':
      return Math.min(llMaxBandwidth(shape.generation, shape.domains), scaled)
    case 'LL128':
      return Math.min(scaled, capOf(channelsAcross(shape), ncclRingLl128ChannelBandwidth[shape.generation][nodeCountIndex(shape.domains)]))
    default:
      return scaled
  }
}

/** NVLink SHARP's speed: Bu × `inSwitch` (Hopper's figure) × NCCL's ratio for the generation (Blackwell 0.74 / 0.85). */
const inSwitchBandwidth = (shape: GroupShape, efficiency: Efficiencies): number =>
  upOf(shape, efficiency) * efficiency.inSwitch * (ncclNvlsEfficiency[shape.generation] / ncclNvlsEfficiency.hopper)

/** The tree correction of `protocol` over its first `entries` entries, or none for another protocol. */
const treeCorrectionOf = (protocol: Protocol, entries: number): { readonly bandwidthCorrection?: ReadonlyArray<number> } =>
  isNcclProtocol(protocol.name) ? { bandwidthCorrection: ncclTreeCorrection[protocol.name].slice(0, entries) } : {}

// -------------------------------------------------------------------------------------
// instances
// -------------------------------------------------------------------------------------

/**
 * Ring (NCCL `RING`): all-reduce as a reduce-scatter then an all-gather around a ring,
 * 2(n-1) steps each moving S/n (Patarasuk & Yuan 2009, bandwidth-optimal all-reduce);
 * all-gather and reduce-scatter (n-1) steps; broadcast a pipelined chain. Link traffic
 * per rank: all-reduce 2(n-1)/n S, all-gather and reduce-scatter (n-1)/n S, broadcast S,
 * at `ringBusBandwidth` with the protocol's share (`ringProtocolBandwidth`).
 * Latency (NCCL's ring model, `ncclTopoTuneModel`): b + (steps - inter) max(lu, o) +
 * inter lo, where 2(d-1) of the 2(n-1) all-reduce steps cross the network ((d-1) of
 * (n-1) for the others) and o is the network post overhead every step of an
 * inter-node ring pays; × 1.4 for an inter-node Simple all-reduce (NCCL's ring plateau).
 * Broadcast: b + n step latencies (NVLink inside a node, network across; Simple takes
 * the tree's step figure, as NCCL does).
 */
export const ring: Algorithm = {
  name: 'ring',
  description: 'NCCL ring: reduce-scatter + all-gather around topology-aware (rail-aligned) rings; pipelined chain for broadcast',
  protocols: ['LL', 'LL128', 'Simple'],
  applies: (op, shape) => shape.size > 1 && (op === 'all_reduce' || op === 'all_gather' || op === 'reduce_scatter' || op === 'broadcast'),
  cost: (op, shape, efficiency, protocol) => {
    const n = shape.size
    const d = shape.domains
    const bandwidth = ringProtocolBandwidth(shape, ringBusBandwidth(shape, upOf(shape, efficiency), outOf(shape, efficiency)), protocol)
    if (op === 'broadcast') {
      const steps = stepsOf(protocol.name === 'Simple' ? 'tree' : 'ring', shape, protocol)
      const base = stepsOf('ring', shape, protocol).base
      return { latency: base + n * (d > 1 ? steps.inter : steps.intra), secondsPerByte: 1 / bandwidth }
    }
    const s = stepsOf('ring', shape, protocol)
    const allReduce = op === 'all_reduce'
    const traffic = allReduce ? (2 * (n - 1)) / n : (n - 1) / n
    const steps = allReduce ? 2 * (n - 1) : n - 1
    const interSteps = allReduce ? 2 * (d - 1) : d - 1
    const latency = s.base + (steps - interSteps) * Math.max(s.intra, s.netOverhead) + interSteps * s.inter
    const plateau = allReduce && d > 1 && protocol.name === 'Simple' ? NCCL_RING_PLATEAU_FACTOR : 1
    return { latency: latency * plateau, secondsPerByte: traffic / bandwidth }
  },
}

/**
 * Tree (NCCL `TREE`, all-reduce only): a chain through the ranks of each domain and a
 * double binary tree across domains, reduce up then broadcast down, pipelined. NCCL's
 * bus bandwidth for it is the slower of the chain's link (Bu) and each node's NICs per
 * byte of tree traffic (2 m Bo / t(d)), × 0.92 (`tree`) and at most m channels × the
 * per-channel tree cap across nodes (`ncclTreeChannelBandwidth`, by generation and node
 * count); LL takes 1/3.8 of it (at most LL's cap), LL128 7/9 in a node or 120/128 across
 * (at most its own per-channel cap). The algorithm bandwidth is half the bus bandwidth
 * (NCCL's `ratio = .5`: the chain sends S up and S down), and NCCL's medium-size
 * correction applies (`ncclTreeCorrection`). Latency: b + 2((m-1) lu + ⌊log2 d⌋ lo).
 */
export const tree: Algorithm = {
  name: 'tree',
  description: 'NCCL tree: chain inside each domain, double binary tree across domains (all-reduce)',
  protocols: ['LL', 'LL128', 'Simple'],
  applies: (op, shape) => op === 'all_reduce' && shape.size > 1,
  cost: (_op, shape, efficiency, protocol) => {
    const m = shape.local
    const d = shape.domains
    const index = nodeCountIndex(d)
    const generation = shape.generation
    const channels = channelsAcross(shape)
    const chain = m > 1 ? upOf(shape, efficiency) : Infinity
    const network = d > 1 ? (2 * m * outOf(shape, efficiency)) / treeNetworkTraffic(d) : Infinity
    const simple = Math.min(Math.min(chain, network) * efficiency.tree, capOf(channels, ncclTreeChannelBandwidth[generation][index]))
    const bus =
      protocol.name === 'LL'
        ? Math.min(simple * NCCL_TREE_LL_FRACTION, llMaxBandwidth(generation, d))
        : protocol.name === 'LL128'
          ? Math.min(simple * (d === 1 ? ncclTreeLl128Fraction.oneNode : ncclTreeLl128Fraction.acrossNodes), capOf(channels, ncclTreeLl128ChannelBandwidth[generation][index]))
          : simple * (protocol.name === 'Simple' ? 1 : protocol.bandwidthFraction)
    const s = stepsOf('tree', shape, protocol)
    return {
      latency: s.base + 2 * ((m - 1) * s.intra + log2i(d) * s.inter),
      secondsPerByte: 2 / bus,
      ...treeCorrectionOf(protocol, 23),
    }
  },
}

/**
 * NVLS (NCCL `NVLS`, NVLink SHARP, inside one scale-up domain whose switches reduce).
 * All-reduce: each rank reads its 1/m shard reduced by the switch (`multimem.ld_reduce`:
 * sends S, receives S/m) then writes it to a multicast address (`multimem.st`: sends
 * S/m, receives S): (1 + 1/m) S per direction. Reduce-scatter (the reduced read alone)
 * and all-gather (the multicast write alone): S per direction. At Bu × `inSwitch` (×
 * NCCL's Blackwell ratio 0.74/0.85). Latency: NCCL's NVLS step on NVLink, 25 µs, which is
 * the whole of NVLS's latency in NCCL's model. Simple protocol only, as in NCCL.
 */
export const nvls: Algorithm = {
  name: 'nvls',
  description: 'NVLink SHARP: in-switch reduce-scatter and multicast all-gather inside one scale-up domain',
  protocols: ['Simple'],
  applies: (op, shape) =>
    (op === 'all_reduce' || op === 'all_gather' || op === 'reduce_scatter') && shape.local > 1 && shape.domains === 1 && shape.scaleUp.inNetworkReduction,
  cost: (op, shape, efficiency, protocol) => {
    const traffic = op === 'all_reduce' ? 1 + 1 / shape.local : 1
    const s = stepsOf('nvls', shape, protocol)
    const latency = isNcclProtocol(protocol.name) ? s.base + s.intra : s.base + 2 * s.intra + NVLS_LATENCY
    return { latency, secondsPerByte: traffic / inSwitchBandwidth(shape, efficiency) }
  },
}

/**
 * NVLS tree (NCCL `NVLS_TREE`, all-reduce across domains whose scale-up switches
 * reduce): NVLS reduce-scatter inside each domain, a double binary tree across domains
 * on each rank's 1/m shard (every GPU's NIC in parallel), NVLS all-gather; pipelined in
 * one kernel, so the slower fabric bounds it: max((1 + 1/m)/(Bu × inSwitch),
 * 2/(m min(Bo × (d ≤ 2 ? 2 : 1), per-channel NVLS tree cap))) (`tuning.cc`: NCCL doubles
 * the network bandwidth of two nodes, whose tree moves S once; `ncclNvlsTreeChannelBandwidth`).
 * Latency: NCCL's NVLS tree steps, lu (25 µs) + 2 ⌊log2 d⌋ lo (20.9 µs each). On
 * Blackwell NCCL applies its tree correction to it as well.
 */
export const nvlsTree: Algorithm = {
  name: 'nvls_tree',
  description: 'NVLink SHARP inside each domain, double binary tree across domains, pipelined (all-reduce)',
  protocols: ['Simple'],
  applies: (op, shape) => op === 'all_reduce' && shape.local > 1 && shape.domains > 1 && shape.scaleUp.inNetworkReduction,
  cost: (_op, shape, efficiency, protocol) => {
    const m = shape.local
    const d = shape.domains
    const perChannel = capOf(1, ncclNvlsTreeChannelBandwidth[shape.generation][nodeCountIndex(d)])
    const network = m * Math.min(outOf(shape, efficiency) * (d <= 2 ? 2 : 1), perChannel)
    const s = stepsOf('nvlsTree', shape, protocol)
    return {
      latency: s.base + s.intra + 2 * log2i(d) * s.inter,
      secondsPerByte: Math.max((1 + 1 / m) / inSwitchBandwidth(shape, efficiency), 2 / network),
      ...(shape.generation === 'blackwell' ? treeCorrectionOf(protocol, 24) : {}),
    }
  },
}

/**
 * CollNet (NCCL `COLLNET_DIRECT`, all-reduce across domains whose scale-out switches
 * reduce, InfiniBand SHARP): reduce-scatter inside each domain, each rank sends its S/m
 * shard into the network and receives the reduced shard, all-gather inside; pipelined:
 * max(2(m-1)/m / Bu, 1/(m Bo × inNetwork)). Latency (NCCL's CollNet Direct model):
 * 2 (min(1, m-1) lu + 0.4 µs × (m-1)) + lo, with NCCL's CollNet figures (3.7 µs on
 * NVLink, 31 µs on the network).
 */
export const collnet: Algorithm = {
  name: 'collnet',
  description: 'in-network reduction on the scale-out switches (SHARP), rings inside each domain (all-reduce)',
  protocols: ['Simple'],
  applies: (op, shape) => op === 'all_reduce' && shape.domains > 1 && shape.scaleOut.inNetworkReduction,
  cost: (_op, shape, efficiency, protocol) => {
    const m = shape.local
    const s = stepsOf('collnetDirect', shape, protocol)
    return {
      latency: s.base + 2 * (Math.min(1, m - 1) * s.intra + (m - 1) * NCCL_COLLNET_ARITY_LATENCY) + s.inter,
      secondsPerByte: Math.max((2 * (m - 1)) / m / upOf(shape, efficiency), 1 / (m * outOf(shape, efficiency) * efficiency.inNetwork)),
    }
  },
}

/**
 * Hierarchical all-reduce as frameworks compose it from three collectives (Horovod's
 * hierarchical all-reduce; 2D all-reduce): ring reduce-scatter inside each domain, ring
 * all-reduce across domains on each rank's S/m shard with every GPU's NIC in parallel,
 * ring all-gather inside again. The phases run one after the other:
 * 2(m-1)/m / Bu + 2(d-1)/d / (m Bo) per byte; latency, NCCL's ring figures per phase:
 * 3b + 2(m-1) lu + 2(d-1) lo (one rank per node across: the tree's network step).
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
    const m = shape.local
    const d = shape.domains
    const inside = stepsOf('ring', shape, protocol)
    const across = stepsOf('ring', { ...shape, local: 1 }, protocol)
    return {
      latency: 3 * inside.base + 2 * (m - 1) * inside.intra + 2 * (d - 1) * across.inter,
      secondsPerByte: (2 * (m - 1)) / m / upOf(shape, efficiency) + (2 * (d - 1)) / d / (m * outOf(shape, efficiency)),
    }
  },
}

/**
 * Pairwise all-to-all (NCCL's grouped send/recv to every peer): each rank sends S/n to
 * each of the n-1 others. (m-1)/n S stays inside the domain over the scale-up fabric;
 * (n-m)/n S leaves it through the rank's NIC share. The slower bounds it:
 * max((m-1)/n / Bu, (n-m)/n / Bo), at the protocol's share of the bandwidth. Latency:
 * NCCL runs the exchange as n-1 rounds of its p2p schedule (`init.cc`, `p2pSchedule`),
 * each paying one step of the link it crosses: b + (m-1) lu + (n-m) o + lo (the network
 * peers' sends are posted one after the other, o each, and overlap in flight), with
 * NCCL's ring figures.
 */
export const pairwise: Algorithm = {
  name: 'pairwise',
  description: 'all-to-all as concurrent sends to every peer, bounded by the scale-up fabric inside a domain and the NIC share across',
  protocols: ['LL', 'Simple'],
  applies: (op, shape) => op === 'all_to_all' && shape.size > 1,
  cost: (_op, shape, efficiency, protocol) => {
    const n = shape.size
    const m = shape.local
    const fraction = protocol.bandwidthFraction
    const inside = (m - 1) / n / (upOf(shape, efficiency) * fraction)
    const outside = shape.domains > 1 ? (n - m) / n / (outOf(shape, efficiency) * fraction) : 0
    const s = stepsOf('ring', shape, protocol)
    return {
      latency: s.base + (m - 1) * s.intra + (n - m) * s.netOverhead + (shape.domains > 1 ? s.inter : 0),
      secondsPerByte: Math.max(inside, outside),
    }
  },
}

/**
 * Send/recv (nccl-tests sendrecv_perf: each rank sends S to the next and receives S from
 * the previous): S over the slowest link a pair uses, the scale-up fabric at the
 * point-to-point efficiency inside a domain, a NIC share across, at the protocol's share.
 * Latency: b + one step (NCCL's ring figures).
 */
export const pointToPoint: Algorithm = {
  name: 'p2p',
  description: 'direct send/recv between neighbouring ranks',
  protocols: ['LL', 'Simple'],
  applies: (op, shape) => op === 'send_recv' && shape.size > 1,
  cost: (_op, shape, efficiency, protocol) => {
    const up = shape.scaleUp.bandwidth * efficiency.pointToPoint
    const bandwidth = (shape.domains > 1 ? Math.min(up, outOf(shape, efficiency)) : up) * protocol.bandwidthFraction
    const s = stepsOf('ring', shape, protocol)
    return { latency: s.base + (shape.domains > 1 ? s.inter : s.intra), secondsPerByte: 1 / bandwidth }
  },
}

/** The algorithms of the default model. */
export const defaultAlgorithms: ReadonlyArray<Algorithm> = [ring, tree, nvls, nvlsTree, collnet, hierarchical, pairwise, pointToPoint]
