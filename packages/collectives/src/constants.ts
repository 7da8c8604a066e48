/**
 * Calibration defaults of the collective model, each a named constant with where its
 * value comes from. Bandwidth efficiencies are fractions of a link's nominal
 * per-direction bandwidth that NCCL's kernels reach on large messages; protocols carry
 * what distinguishes NCCL's LL, LL128 and Simple. NCCL's own latency and bandwidth
 * tables (per algorithm, protocol, fabric, GPU generation and node count) are in
 * `tuning`; the algorithms read both. `defaultEfficiencies` and `defaultProtocols`
 * gather the defaults; a user replaces any of them with measured values through
 * `withEfficiencies` / a model's `protocols`.
 *
 * @example
 * import { SCALE_UP_EFFICIENCY, defaultEfficiencies } from '@meshplan/collectives'
 * SCALE_UP_EFFICIENCY                  // 0.8
 * defaultEfficiencies.inSwitch         // 0.85
 */
import { seconds, type Seconds } from '@meshplan/units'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Bandwidth efficiencies, each a fraction in (0, 1] (`inSwitch` and `tree` multiply
 * the scale-up or algorithm bandwidth they refine).
 */
export interface Efficiencies {
  /** Point-to-point kernels (ring, tree chain, all-to-all) on the scale-up fabric. */
  readonly scaleUp: number
  /** GPU-direct RDMA over each GPU's NIC share. */
  readonly scaleOut: number
  /** In-switch reduction (NVLink SHARP), relative to `scaleUp`. */
  readonly inSwitch: number
  /** In-network reduction on the scale-out switches (InfiniBand SHARP, CollNet), relative to `scaleOut`. */
  readonly inNetwork: number
  /** Tree algorithms (double binary tree, chain), relative to their links. */
  readonly tree: number
  /** A single send/recv pair on the scale-up fabric (absolute fraction of the link). */
  readonly pointToPoint: number
}

/**
 * A wire protocol, NCCL-style: how much of the bandwidth it delivers and what it costs
 * in latency. Every algorithm is priced with each protocol it supports and the fastest
 * wins, as NCCL's tuner picks an (algorithm, protocol) pair. For NCCL's protocols (by
 * name: `LL`, `LL128`, `Simple`) the built-in algorithms take their latencies and
 * bandwidth caps from NCCL's tables (`tuning`), per algorithm; `baseLatency` and
 * `hopLatencyScale` price a protocol of another name (base + link latency × scale per
 * step).
 */
export interface Protocol {
  readonly name: string
  /** Fraction of the algorithm's bandwidth the protocol delivers (ring, p2p). */
  readonly bandwidthFraction: number
  /** Fixed cost of one collective call with this protocol (NCCL's ring figure for NCCL's protocols). */
  readonly baseLatency: Seconds
  /** Multiplies the link latency of each step, for a protocol without NCCL figures. */
  readonly hopLatencyScale: number
}

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

const microseconds = (n: number): Seconds => seconds(n * 1e-6)

/**
 * 0.80 of NVLink/NVSwitch per-direction bandwidth for ring and chain kernels. NCCL's
 * topology rates an NVLink at 20.0 (sm80), 20.6 (sm90) and 40.1 GB/s (sm100) of the
 * nominal 25, 25 and 50 (`topo.h`, `SM*_NVLINK_BW`; `ncclNvlinkBandwidthPerLink`):
 * 0.80, 0.82, 0.80. Older NCCL capped sm80 rings at 235 GB/s of 300 (0.78); the
 * 8×A100 nccl-tests all_reduce plateau is ~230 GB/s (0.77); 8×H100 rings plateau near
 * 360–370 GB/s of 450 (0.80–0.82).
 */
export const SCALE_UP_EFFICIENCY = 0.8

/**
 * 0.92 of each GPU's NIC share for GPU-direct RDMA. An estimate: InfiniBand NDR/HDR
 * deliver ~0.95–0.97 of line rate as payload (64b/66b encoding, headers at a 4 KiB
 * MTU) and NCCL's proxy thread loses a few percent more; 0.92 is also the factor
 * NCCL's tuner applies to its tree and LL128 bandwidths (`busBw * 0.92`, "120/128").
 */
export const SCALE_OUT_EFFICIENCY = 0.92

/**
 * 0.85: NCCL's `nvlsEfficiency` for Hopper (`tuning.cc`), which NCCL multiplies into the
 * NVLS graph's bandwidth, itself the point-to-point bandwidth (here
 * `SCALE_UP_EFFICIENCY`): 0.8 × 0.85 = 0.68 of NVLink for NVLS. It is Hopper's figure:
 * NCCL rates Blackwell's NVLink SHARP at 0.74, so on a Blackwell group NVLS runs at
 * `inSwitch` × 0.74 / 0.85 (`ncclNvlsEfficiency`).
 */
export const IN_SWITCH_EFFICIENCY = 0.85

/**
 * 0.9: NCCL's tuner multiplied CollNet (SHARP) bandwidth by 0.9 (`if (a == NCCL_ALGO_COLLNET) busBw *= .9`,
 * releases to 2.18); NCCL 2.30 applies 0.85 on Hopper and later to CollNet Direct.
 */
export const IN_NETWORK_EFFICIENCY = 0.9

/** 0.92: NCCL's tuner multiplies tree all-reduce bandwidth by 0.92 (`tuning.cc`: `busBw * .92`; 0.9 in older releases). */
export const TREE_EFFICIENCY = 0.92

/**
 * 0.65 of NVLink for one send/recv pair: nccl-tests sendrecv_perf on 8×A100 (NVLink 3,
 * 300 GB/s per direction) plateaus at ~195 GB/s (li-plus/playground `cuda/nccl.md`);
 * NCCL runs point-to-point on fewer channels than collectives.
 */
export const POINT_TO_POINT_EFFICIENCY = 0.65

/**
 * Simple protocol, fixed cost per call: 8.4 µs, NCCL's `baseLat` for Ring/Simple
 * (`tuning.cc`: Ring { LL 6.6, LL128 14.0, Simple 8.4 } µs).
 */
export const SIMPLE_BASE_LATENCY = microseconds(8.4)

/** LL protocol, fixed cost per call: 6.6 µs, NCCL's `baseLat` for Ring/LL. */
export const LL_BASE_LATENCY = microseconds(6.6)

/**
 * LL moves 8-byte lines holding 4 bytes of data and a 4-byte flag: half the bandwidth
 * (NCCL's tuner: ring LL `busBw * 0.5`, capped by `llMaxBws`).
 */
export const LL_BANDWIDTH_FRACTION = 0.5

/**
 * LL's per-step latency relative to the link latency, for an algorithm or protocol
 * without NCCL figures: 0.5. NCCL's own per-hop LL latency is 0.18–0.3 of Simple's
 * (`hwLatencies`: NVLink ring LL 0.6 vs Simple 3.4 µs; network 2.7 vs 14 µs).
 */
export const LL_HOP_LATENCY_SCALE = 0.5

/** LL128 protocol, fixed cost per call: 14 µs, NCCL's `baseLat` for Ring/LL128 and Tree/LL128. */
export const LL128_BASE_LATENCY = microseconds(14)

/**
 * LL128 moves 128-byte lines holding 120 bytes of data and an 8-byte flag: NCCL's tuner
 * gives ring LL128 0.92 of Simple's bandwidth (`tuning.cc`: `busBw * 0.92`, commented there as 120/128).
 */
export const LL128_BANDWIDTH_FRACTION = 0.92

/** LL128's per-step latency relative to the link latency, for an algorithm without NCCL figures: 0.56, NCCL's ring NVLink ratio 1.9 / 3.4 µs. */
export const LL128_HOP_LATENCY_SCALE = 0.56

/**
 * Latency of an NVLS (NVLink SHARP) collective: 25 µs, NCCL's `hwLatencies` for
 * NVLS/Simple on NVLink (multicast object setup and switch round trips), the whole of
 * NVLS's latency in NCCL's model (`comm->latencies = intraLat`); Simple protocol only.
 */
export const NVLS_LATENCY = microseconds(25)

/** The efficiencies of the default model. */
export const defaultEfficiencies: Efficiencies = {
  scaleUp: SCALE_UP_EFFICIENCY,
  scaleOut: SCALE_OUT_EFFICIENCY,
  inSwitch: IN_SWITCH_EFFICIENCY,
  inNetwork: IN_NETWORK_EFFICIENCY,
  tree: TREE_EFFICIENCY,
  pointToPoint: POINT_TO_POINT_EFFICIENCY,
}

/** NCCL's Simple protocol: full bandwidth, the link latency per step. */
export const simpleProtocol: Protocol = { name: 'Simple', bandwidthFraction: 1, baseLatency: SIMPLE_BASE_LATENCY, hopLatencyScale: 1 }

/** NCCL's LL (low-latency) protocol: half the bandwidth, lower latency. */
export const llProtocol: Protocol = {
  name: 'LL',
  bandwidthFraction: LL_BANDWIDTH_FRACTION,
  baseLatency: LL_BASE_LATENCY,
  hopLatencyScale: LL_HOP_LATENCY_SCALE,
}

/**
 * NCCL's LL128 protocol: 0.92 of the bandwidth, latency between LL's and Simple's. NCCL
 * enables it by default on NVLink nodes (and, from Hopper, across nodes through a NIC
 * behind a PCIe switch), which every system of the presets is.
 */
export const ll128Protocol: Protocol = {
  name: 'LL128',
  bandwidthFraction: LL128_BANDWIDTH_FRACTION,
  baseLatency: LL128_BASE_LATENCY,
  hopLatencyScale: LL128_HOP_LATENCY_SCALE,
}

/** The protocols of the default model: NCCL's three. */
export const defaultProtocols: ReadonlyArray<Protocol> = [llProtocol, ll128Protocol, simpleProtocol]
