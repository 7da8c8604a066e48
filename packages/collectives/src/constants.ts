/**
 * Calibration defaults of the collective model, each a named constant with where its
 * value comes from. Bandwidth efficiencies are fractions of a link's nominal
 * per-direction bandwidth that NCCL's kernels reach on large messages; latencies are
 * per collective (base) or per step. The public sources are NCCL's own tuner
 * (`src/graph/tuning.cc`, `src/graph/tuning/nvls.cc`: read for its figures, which is
 * how NCCL itself predicts a collective's time) and published nccl-tests results.
 * `defaultEfficiencies` and `defaultProtocols` gather them; a user replaces any of
 * them with measured values through `withEfficiencies` / a model's `protocols`.
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
 * wins, as NCCL's tuner picks an (algorithm, protocol) pair.
 */
export interface Protocol {
  readonly name: string
  /** Fraction of the algorithm's bandwidth the protocol delivers. */
  readonly bandwidthFraction: number
  /** Fixed cost of one collective call with this protocol. */
  readonly baseLatency: Seconds
  /** Multiplies the link latency of each step. */
  readonly hopLatencyScale: number
}

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

const microseconds = (n: number): Seconds => seconds(n * 1e-6)

/**
 * 0.80 of NVLink/NVSwitch per-direction bandwidth for ring and chain kernels. NCCL's
 * tuner caps the bus bandwidth of sm80 (A100, NVLink 3 at 300 GB/s per direction) at
 * 235 GB/s (`tuning.cc`: `if (compCap80) busBw = std::min(busBw, 235.0f)`), 0.78; the
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
 * 0.85: NCCL's `nvlsEfficiency` for Hopper (`tuning/nvls.cc`; 0.74 for Blackwell),
 * which NCCL multiplies into the NVLS graph's bandwidth, itself the point-to-point
 * bandwidth (here `SCALE_UP_EFFICIENCY`): 0.8 × 0.85 = 0.68 of NVLink for NVLS.
 */
export const IN_SWITCH_EFFICIENCY = 0.85

/** 0.9: NCCL's tuner multiplies CollNet (SHARP) bandwidth by 0.9 (`if (a == NCCL_ALGO_COLLNET) busBw *= .9`). */
export const IN_NETWORK_EFFICIENCY = 0.9

/** 0.9: NCCL's tuner multiplies tree bandwidth by 0.9 (`busBw*.9`; 0.92 in later releases). */
export const TREE_EFFICIENCY = 0.9

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
 * (NCCL's tuner: ring LL `busBw * 0.5`; a quarter in older releases across nodes).
 */
export const LL_BANDWIDTH_FRACTION = 0.5

/**
 * LL's per-step latency relative to the link latency: 0.5. NCCL's per-hop LL latency
 * is 0.14–0.3 of its Simple one (`hwLat`: NVLink ring LL 0.47 vs Simple 3.4 µs; network
 * 2.7 vs 9.6–14 µs); the topology presets' link latencies (1 µs NVLink, 5 µs network)
 * sit between the two, so half of them is kept, a conservative reading.
 */
export const LL_HOP_LATENCY_SCALE = 0.5

/**
 * Extra latency of an NVLS (NVLink SHARP) collective: 25 µs, NCCL's `hwLat` for
 * NVLS/Simple on NVLink (multicast object setup and switch round trips); NVLS runs
 * only with the Simple protocol.
 */
export const NVLS_LATENCY = microseconds(25)

/**
 * Issue cost of each peer of an all-to-all (one send and one receive per peer in an
 * NCCL group): 0.5 µs. An assumption, not calibrated: it makes a 64-rank all-to-all's
 * small-message time grow by ~30 µs over a 2-rank one.
 */
export const ALL_TO_ALL_PEER_LATENCY = microseconds(0.5)

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
 * The protocols of the default model. NCCL's LL128 (0.92 of the bandwidth, between LL
 * and Simple in latency, enabled on NVLink only) is not modelled separately: it
 * matters for mid-size messages on one node, where LL and Simple bracket it.
 */
export const defaultProtocols: ReadonlyArray<Protocol> = [llProtocol, simpleProtocol]
