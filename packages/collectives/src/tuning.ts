/**
 * NCCL's own performance model, as data: the figures NCCL's tuner uses to predict a
 * collective's time and pick an (algorithm, protocol) pair, read from NCCL 2.30.7
 * (NVIDIA/nccl@5067397, `src/graph/tuning.cc`: `ncclTunerConstantsDefaults`,
 * `ncclTopoTuneModel`, `ncclTopoGetAlgoTime`; `src/graph/search.cc`; `src/graph/topo.h`).
 * NCCL prices a collective as `latency + bytes / bandwidth` per algorithm and protocol:
 * a base latency, a latency per step on NVLink and on the network, a bandwidth per
 * protocol (LL half of Simple's, LL128 0.92 of it) with per-channel caps that depend on
 * the GPU generation and the node count, and a size-dependent correction for trees. The
 * algorithms of this package read these tables; a GPU generation is NCCL's compute
 * capability class (Ampere sm80/sm89, Hopper sm90, Blackwell sm100).
 *
 * @example
 * import { ncclHopLatency, ncclBaseLatency, generationOf } from '@meshplan/collectives'
 * ncclBaseLatency.ring.LL          // 6.6e-6 s
 * ncclHopLatency.nvlink.ring.LL    // 0.6e-6 s: 8 ranks, 14 steps -> 6.6 + 14 x 0.6 = 15.0 µs
 */
import type { Device } from '@meshplan/topology'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** NCCL's compute-capability classes with tuning figures of their own. */
export type GpuGeneration = 'ampere' | 'hopper' | 'blackwell'

/** The wire protocols NCCL's tables are indexed by. */
export const ncclProtocolNames = ['LL', 'LL128', 'Simple'] as const
export type NcclProtocolName = (typeof ncclProtocolNames)[number]

/** NCCL's algorithms with latency figures (its `NCCL_ALGO_*`). */
export type NcclAlgorithmKey = 'tree' | 'ring' | 'collnetDirect' | 'collnetChain' | 'nvls' | 'nvlsTree'

/** One figure per protocol, in seconds (latencies) or bytes per second (bandwidths). */
export type PerProtocol = { readonly [P in NcclProtocolName]: number }

/** One figure per node-count class: one node, two nodes, more (NCCL's `N1`, `N2`, `N4` columns). */
export type PerNodeCount = readonly [one: number, two: number, more: number]

/** One figure per GPU generation. */
export type PerGeneration<A> = { readonly [G in GpuGeneration]: A }

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

const us = (n: number): number => n * 1e-6
const perProtocolUs = (ll: number, ll128: number, simple: number): PerProtocol => ({ LL: us(ll), LL128: us(ll128), Simple: us(simple) })
const gbps = (one: number, two: number, more: number): PerNodeCount => [one * 1e9, two * 1e9, more * 1e9]

/**
 * Fixed cost of one collective call per algorithm and protocol: `tuning.cc`,
 * `ncclTunerConstantsDefaults.baseLatencies` (µs): Tree { 6.8, 14, 8.4 }, Ring
 * { 6.6, 14, 8.4 }; CollNet and NVLS have none (their step latency carries it).
 */
export const ncclBaseLatency: { readonly [A in NcclAlgorithmKey]: PerProtocol } = {
  tree: perProtocolUs(6.8, 14.0, 8.4),
  ring: perProtocolUs(6.6, 14.0, 8.4),
  collnetDirect: perProtocolUs(0, 0, 0),
  collnetChain: perProtocolUs(0, 0, 0),
  nvls: perProtocolUs(0, 0, 0),
  nvlsTree: perProtocolUs(0, 0, 0),
}

/**
 * Latency of one step per fabric, algorithm and protocol: `tuning.cc`,
 * `ncclTunerConstantsDefaults.hwLatencies` (µs), rows NVLINK, PCI and NET. The NET row
 * is NCCL's figure for InfiniBand and RoCE (its IB transport reports no latency of its
 * own, `net_ib/init.cc`: `props->latency = 0`); a slower fabric adds its excess to
 * every network step (`graphs[a]->latencyInter`, twice with Simple for the flush).
 */
export const ncclHopLatency: { readonly [F in 'nvlink' | 'pci' | 'network']: { readonly [A in NcclAlgorithmKey]: PerProtocol } } = {
  nvlink: {
    tree: perProtocolUs(0.6, 1.25, 4.0),
    ring: perProtocolUs(0.6, 1.9, 3.4),
    collnetDirect: perProtocolUs(0, 0, 3.7),
    collnetChain: perProtocolUs(0, 0, 2.8),
    nvls: perProtocolUs(0, 0, 25),
    nvlsTree: perProtocolUs(0, 0, 25),
  },
  pci: {
    tree: perProtocolUs(1.0, 1.9, 4.0),
    ring: perProtocolUs(1.0, 2.5, 5.7),
    collnetDirect: perProtocolUs(0, 0, 3.7),
    collnetChain: perProtocolUs(0, 0, 2.8),
    nvls: perProtocolUs(0, 0, 0),
    nvlsTree: perProtocolUs(0, 0, 0),
  },
  network: {
    tree: perProtocolUs(5.0, 8.5, 14),
    ring: perProtocolUs(2.7, 4.0, 14.0),
    collnetDirect: perProtocolUs(0, 0, 31),
    collnetChain: perProtocolUs(0, 0, 30),
    nvls: perProtocolUs(0, 0, 18),
    nvlsTree: perProtocolUs(0, 0, 20.9),
  },
}

/**
 * Posting a network send costs the proxy 1 µs on an Intel x86 host (`tuning.cc`,
 * `getNetOverhead`: 1.0 Intel, 2.0 AMD), three times that with Simple; an inter-node
 * ring pays it on every step ("inter-node rings still have to launch nsteps * net
 * overhead"), and an all-to-all on every remote peer.
 */
export const NCCL_NET_OVERHEAD = us(1)

/** Simple's network overhead multiplier (`tuning.cc`: `if (p == NCCL_PROTO_SIMPLE) netOverhead *= 3`). */
export const NCCL_NET_OVERHEAD_SIMPLE_FACTOR = 3

/**
 * An inter-node Simple ring all-reduce reaches its plateau later than its latency says:
 * NCCL multiplies its latency by 1.4 on sm80 and later (`ncclTopoGetAlgoTime`: "Plateau
 * effect of ring", from 64 bytes per channel and rank, which every size Simple wins at
 * exceeds).
 */
export const NCCL_RING_PLATEAU_FACTOR = 1.4

/** CollNet Direct's arity serialization: 0.4 µs per local rank (`tuning.cc`: "Add 0.4 us arity serialization latency"). */
export const NCCL_COLLNET_ARITY_LATENCY = us(0.4)

/**
 * LL's bus bandwidth cap: per GPU generation inside one node; across nodes by host CPU
 * (`tuning.cc`, `llMaxBws`, GB/s: Ampere 87.7, Hopper 141, Blackwell 282 on one node;
 * 39.0 on two nodes and 20.4 on more with Intel hosts; AMD hosts 22.5 and 19.0). The
 * case format does not name the host CPU; Intel is taken.
 */
export const ncclLlMaxBandwidth = {
  oneNode: { ampere: 87.7e9, hopper: 141e9, blackwell: 282e9 } as PerGeneration<number>,
  twoNodes: 39.0e9,
  moreNodes: 20.4e9,
} as const

/** Ring LL128 bandwidth per channel (`perChMaxRingLL128Bws`, GB/s). */
export const ncclRingLl128ChannelBandwidth: PerGeneration<PerNodeCount> = {
  ampere: gbps(20, 20, 20),
  hopper: gbps(36.7, 36.7, 36.7),
  blackwell: gbps(40, 40, 40),
}

/** Tree LL128 bandwidth per channel (`perChMaxTreeLL128Bws`, GB/s). */
export const ncclTreeLl128ChannelBandwidth: PerGeneration<PerNodeCount> = {
  ampere: gbps(20, 20, 20),
  hopper: gbps(36.7, 36.7, 29.0),
  blackwell: gbps(55.6, 31.67, 20.0),
}

/** Tree bandwidth per channel (`perChMaxTreeBws`, GB/s). */
export const ncclTreeChannelBandwidth: PerGeneration<PerNodeCount> = {
  ampere: gbps(24.0, 23.6, 17.8),
  hopper: gbps(38.7, 41.4, 36.0),
  blackwell: gbps(70.0, 42.8, 24.0),
}

/** NVLS tree bandwidth per channel (`perChMaxNVLSTreeBws`, GB/s; no NVLS tree on one node). */
export const ncclNvlsTreeChannelBandwidth: PerGeneration<PerNodeCount> = {
  ampere: gbps(24.0, 23.6, 17.8),
  hopper: gbps(0, 57.7, 45.5),
  blackwell: gbps(0, 96.0, 80.0),
}

/** NVLink SHARP efficiency (`tuning.cc`, `nvlsEfficiency`): Hopper 0.85, Blackwell 0.74 (no NVLS before Hopper). */
export const ncclNvlsEfficiency: PerGeneration<number> = { ampere: 0.85, hopper: 0.85, blackwell: 0.74 }

/**
 * Tree LL's bandwidth relative to tree Simple's: 1/3.8 (`tuning.cc`: `busBw * 1.0 / 3.8`),
 * capped by LL's bus bandwidth cap.
 */
export const NCCL_TREE_LL_FRACTION = 1 / 3.8

/** Tree LL128's bandwidth relative to tree Simple's: 7/9 on one node, 120/128 across nodes (`tuning.cc`). */
export const ncclTreeLl128Fraction = { oneNode: 7 / 9, acrossNodes: 120 / 128 } as const

/**
 * NCCL's correction of tree bandwidth for medium sizes ("Trees are not perfectly sticking
 * to the model for medium sizes", `tuning.cc`, `treeCorrectionFactor`): entry i
 * multiplies the bandwidth of messages of 64·2^i to 64·2^(i+1) bytes; applied to tree
 * all-reduce below 2^29 B (23 entries) and, on Blackwell x86 hosts, to NVLS tree below
 * 2^30 B (24 entries).
 */
export const ncclTreeCorrection: { readonly [P in NcclProtocolName]: ReadonlyArray<number> } = {
  LL: [1.0, 1.0, 1.0, 1.0, 0.9, 0.8, 0.7, 0.7, 0.7, 0.7, 0.6, 0.5, 0.4, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0],
  LL128: [1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.8, 0.8, 0.8, 0.7, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.8, 0.9, 0.9, 0.9, 0.9, 1.0, 1.0, 1.0],
  Simple: [0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.8, 0.7, 0.6, 0.6, 0.5, 0.5, 0.5, 0.5, 0.6, 0.7, 0.8, 0.7, 0.7, 0.8, 0.9, 0.9, 0.9],
}

/**
 * NVLink bandwidth NCCL's topology assumes per link (`topo.h`, GB/s per direction):
 * SM80 20.0, SM90 20.6, SM100 40.1 of the nominal 25, 25 and 50: 0.80, 0.82 and 0.80.
 * They support `SCALE_UP_EFFICIENCY` (0.8), which applies to every generation.
 */
export const ncclNvlinkBandwidthPerLink = { ampere: 20.0e9, hopper: 20.6e9, blackwell: 40.1e9 } as const

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** Whether `name` is one of NCCL's protocols (its figures apply). */
export const isNcclProtocol = (name: string): name is NcclProtocolName => (ncclProtocolNames as ReadonlyArray<string>).includes(name)

/** NCCL's node-count column: 0 for one node, 1 for two, 2 for more (`index2` in `ncclTopoTuneModel`). */
export const nodeCountIndex = (domains: number): 0 | 1 | 2 => (domains <= 1 ? 0 : domains === 2 ? 1 : 2)

/** LL's bus bandwidth cap for a group of `generation` GPUs over `domains` nodes. */
export const llMaxBandwidth = (generation: GpuGeneration, domains: number): number =>
  domains <= 1 ? ncclLlMaxBandwidth.oneNode[generation] : domains === 2 ? ncclLlMaxBandwidth.twoNodes : ncclLlMaxBandwidth.moreNodes

/** ⌊log2 d⌋, NCCL's `log2i` (0 for d = 1): the network depth NCCL charges a tree over d nodes. */
export const log2i = (d: number): number => (d <= 1 ? 0 : Math.floor(Math.log2(d)))

/**
 * The generation NCCL tunes `device` as: its own (`Device.generation`; Ada, sm89, is in
 * NCCL's Ampere class; AMD CDNA 3 has no NCCL figures and takes Hopper's), else read from
 * its formats as `@meshplan/topology` documents it (fp4 → Blackwell, fp8 → Hopper); a
 * device that lists neither but whose name is a Hopper or Blackwell part (`H100`, `H200`,
 * `H800`, `H20`, `GH200`; `B100`, `B200`, `B300`, `GB200`, `GB300`: a measured case that
 * gives only bf16 figures) is that; else Ampere.
 */
export const generationOf = (device: Device): GpuGeneration => {
  switch (device.generation) {
    case 'ampere':
    case 'ada':
      return 'ampere'
    case 'hopper':
    case 'cdna3':
      return 'hopper'
    case 'blackwell':
      return 'blackwell'
    default:
      if (device.peak.fp4 !== undefined) return 'blackwell'
      if (device.peak.fp8 !== undefined) return 'hopper'
      return /\bG?B(100|200|300)\b/i.test(device.name) ? 'blackwell' : /\bG?H(100|200|800|20)\b/i.test(device.name) ? 'hopper' : 'ampere'
  }
}
