/**
 * MoE token exchange as DeepEP runs it: dispatch sends each token's hidden state to the
 * ranks holding its top-k experts, combine brings the experts' outputs back to the
 * token's rank. Two kernels (DeepEP, deepseek-ai/DeepEP `docs/legacy.md`, V1):
 * - `normal` (throughput; training and prefill): a token crosses the scale-out network
 *   at most once per remote scale-up domain (to the GPU of the same rail there), which
 *   forwards it over NVLink to the ranks of the domain that hold its experts; both
 *   fabrics work at once, so the slower bounds the time.
 * - `low_latency` (decode): one direct RDMA write per (token, expert) pair to the
 *   expert's rank, NVLink for ranks of the same domain; no de-duplication.
 *
 * Routing is taken as uniform over the experts, which are spread evenly over the group's
 * ranks (E/n per rank); a token's k experts are distinct. Dispatch messages are `fp8`
 * by default (one byte per channel and an fp32 scale per 128 channels), combine messages
 * `bf16`, as DeepEP sends them.
 *
 * @example
 * import { defaultCollectiveModel, moeExchange } from '@meshplan/collectives'
 * const dispatch = moeExchange(defaultCollectiveModel)(cluster)
 * dispatch({ op: 'moe_dispatch', tokensPerRank: 128, hidden: 7168, topK: 8, numExperts: 256, kernel: 'low_latency' }, span)
 * // right({ seconds: 1.18e-4, bandwidth: 6.4e10, bottleneck: 'scale-out', ... }) on 16 H800 over 2 nodes
 */
import * as E from 'fp-ts/Either'
import type { Cluster, GroupSpan } from '@meshplan/topology'
import { bytesPerElement, bytesPerSecond, seconds, type BytesPerSecond, type Dtype, type Seconds } from '@meshplan/units'
import type { CollectiveError } from './error'
import type { CollectiveModel } from './model'
import { shapeOf, type GroupShape } from './shape'
import type { Efficiencies } from './constants'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The two token-exchange operations, named as in the case format (`workload.op`). */
export const moeExchangeOps = ['moe_dispatch', 'moe_combine'] as const
export type MoeExchangeOp = (typeof moeExchangeOps)[number]

/** DeepEP's two kernels, named as in the case format (`workload.kernel`). */
export const moeKernels = ['normal', 'low_latency'] as const
export type MoeKernel = (typeof moeKernels)[number]

/** One exchange: the case format's MoE workload, in camelCase. */
export interface MoeExchange {
  readonly op: MoeExchangeOp
  /** Tokens each rank sends (before top-k replication); an average may be fractional. */
  readonly tokensPerRank: number
  /** Hidden size: channels per token. */
  readonly hidden: number
  /** Experts per token. */
  readonly topK: number
  /** Routed experts, spread evenly over the group's ranks. */
  readonly numExperts: number
  /** Wire format; default `fp8` for dispatch, `bf16` for combine (DeepEP's). */
  readonly dtype?: Dtype
  /** Default `normal`. */
  readonly kernel?: MoeKernel
  /**
   * Group-limited routing: the experts form `groups` equal groups (consecutive experts,
   * as ranks hold them) and a token picks its experts inside its `selected` best groups
   * (DeepSeek-V3's node-limited routing; DeepEP's benchmarks route so, a group per node).
   * Absent: any expert.
   */
  readonly routingGroups?: { readonly groups: number; readonly selected: number }
}

/** The price of one exchange, per rank. */
export interface MoeExchangeEstimate {
  readonly op: MoeExchangeOp
  readonly kernel: MoeKernel
  readonly dtype: Dtype
  readonly ranks: number
  readonly seconds: Seconds
  /** Bytes of one token's message: channels × element size, the fp32 scales of an 8-bit or 4-bit format, DeepEP's low-latency header. */
  readonly bytesPerToken: number
  /** Bytes each rank sends (dispatch) or receives (combine) across the scale-out network. */
  readonly scaleOutBytes: number
  /** Bytes each rank sends or receives over the scale-up fabric. */
  readonly scaleUpBytes: number
  /** Which fabric bounds the time (`none` for a group of one rank). */
  readonly bottleneck: 'scale-up' | 'scale-out' | 'none'
  /**
   * The bytes DeepEP's benchmarks divide by the time to report a bandwidth: normal
   * kernels across domains, one message per domain a token reaches, its own included
   * (`test_internode.py`, "RDMA"); in one domain, the messages a rank receives, its own
   * included (`test_intranode.py`, "NVL"); low-latency kernels, one message per (token,
   * expert) pair (`test_low_latency.py`).
   */
  readonly reportedBytes: number
  /** DeepEP's reported bandwidth: `reportedBytes / seconds` (0 for a group of one rank). */
  readonly bandwidth: BytesPerSecond
}

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

/**
 * Fixed cost of one DeepEP exchange: 35 µs, fitted (`scripts/fit-moe-latency.js`) as the
 * median (35.1 µs), over the 12 rows of DeepEP's low-latency table on H800
 * (`docs/legacy.md`, dispatch and combine at EP 8 to 256), of the measured time less the
 * bytes at this package's link efficiencies; leave-one-out it predicts the rows within
 * -9.5% and +3.9% (all but the EP 128 combine within ±5%). It holds the kernel launch,
 * the exchange of per-expert counts before the data and the completion signals; DeepEP
 * publishes no such figure. The normal kernels take it too (their times are
 * milliseconds).
 */
export const MOE_EXCHANGE_LATENCY = seconds(35e-6)

/** DeepEP's low-latency dispatch message header: 16 bytes per message (`test_low_latency.py`: `hidden + hidden / 128 * 4 + 16`). */
export const LOW_LATENCY_HEADER_BYTES = 16

/** Channels per fp32 scale of DeepEP's fp8 messages: 128 (`per_token_cast_to_fp8`; `fp8_factor = (1 + 4 / 128) / 2`). */
export const FP8_SCALE_GROUP = 128

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/**
 * The probability that a token's k distinct experts, drawn uniformly from E, all avoid a
 * set of s of them (hypergeometric): Π_{i<k} (E - s - i)/(E - i), 0 when they cannot.
 */
export const missProbability = (experts: number, avoided: number, topK: number): number => {
  let p = 1
  for (let i = 0; i < topK; i++) p *= Math.max(0, (experts - avoided - i) / (experts - i))
  return p
}

/** `n` choose `k` as a float (0 outside 0 ≤ k ≤ n). */
const choose = (n: number, k: number): number => {
  if (k < 0 || k > n) return 0
  let r = 1
  for (let i = 0; i < k; i++) r = (r * (n - i)) / (i + 1)
  return r
}

/**
 * The probability that a token's k experts reach a set of `size` consecutive experts (a
 * rank's or a domain's). Uniform routing: `1 − missProbability(E, size, k)`. Group-limited
 * routing (G groups of E/G, S selected, every selected group given one of the k experts at
 * least when k ≥ S, as the best-scoring groups are chosen for their experts):
 * - a set of c whole groups is reached unless none of them is selected,
 *   `1 − C(G − c, S) / C(G, S)`;
 * - a set inside one group is reached when its group is selected (S/G) and one of the k
 *   experts, drawn from the S·E/G of the selected groups, lands in it;
 * - a set that neither holds whole groups nor fits inside one is taken as uniform.
 */
export const reachProbability = (x: Pick<MoeExchange, 'numExperts' | 'topK' | 'routingGroups'>, size: number): number => {
  const uniform = 1 - missProbability(x.numExperts, size, x.topK)
  const g = x.routingGroups
  if (g === undefined || !(g.groups > 1 && g.selected < g.groups && x.numExperts % g.groups === 0 && x.topK >= g.selected)) return uniform
  const perGroup = x.numExperts / g.groups
  if (size >= perGroup && size % perGroup === 0) {
    const c = size / perGroup
    return 1 - choose(g.groups - c, g.selected) / choose(g.groups, g.selected)
  }
  if (size < perGroup && perGroup % size === 0) return (g.selected / g.groups) * (1 - missProbability(g.selected * perGroup, size, x.topK))
  return uniform
}

/** Bytes of one token's message in `dtype`: channels × element size, plus an fp32 scale per 128 channels for a format of a byte or less. */
export const tokenBytes = (hidden: number, dtype: Dtype): number => {
  const element = bytesPerElement(dtype)
  return hidden * element + (element <= 1 ? (hidden / FP8_SCALE_GROUP) * 4 : 0)
}

const invalid = (field: string, value: number, expected: string): CollectiveError => ({
  code: 'invalid-exchange',
  field,
  value,
  message: `${field} must be ${expected}, got ${value}`,
})

const validate = (x: MoeExchange): E.Either<CollectiveError, MoeExchange> => {
  if (!(Number.isFinite(x.tokensPerRank) && x.tokensPerRank > 0)) return E.left(invalid('tokensPerRank', x.tokensPerRank, 'a finite number above zero'))
  if (!(Number.isSafeInteger(x.hidden) && x.hidden > 0)) return E.left(invalid('hidden', x.hidden, 'a whole number from 1'))
  if (!(Number.isSafeInteger(x.numExperts) && x.numExperts > 0)) return E.left(invalid('numExperts', x.numExperts, 'a whole number from 1'))
  if (!(Number.isSafeInteger(x.topK) && x.topK > 0 && x.topK <= x.numExperts)) return E.left(invalid('topK', x.topK, `a whole number from 1 to numExperts (${x.numExperts})`))
  return E.right(x)
}

/** Per-rank traffic of one exchange on `shape`, and the bytes DeepEP reports. */
interface Traffic {
  readonly scaleOut: number
  readonly scaleUp: number
  readonly reported: number
}

/**
 * Normal kernel, per rank, with T tokens of b bytes, p_r the probability a token reaches
 * a given rank and p_d a given domain ({@link reachProbability} of E/n and m E/n experts):
 * scale-out T (d-1) p_d b (one message per remote domain reached); scale-up
 * n T p_r (m-1)/m b (each domain's forwarder receives T p_d tokens from each of the d
 * domains, own included, and sends each to the m p_r / p_d ranks of its domain it
 * reaches, itself excepted). DeepEP reports T d p_d b across domains, n T p_r b in one.
 */
const normalTraffic = (shape: GroupShape, x: MoeExchange, b: number): Traffic => {
  const { size: n, local: m, domains: d } = shape
  const T = x.tokensPerRank
  const perRank = x.numExperts / n
  const reachRank = reachProbability(x, perRank)
  const reachDomain = reachProbability(x, perRank * m)
  return {
    scaleOut: T * (d - 1) * reachDomain * b,
    scaleUp: ((n * T * reachRank * (m - 1)) / m) * b,
    reported: d > 1 ? T * d * reachDomain * b : n * T * reachRank * b,
  }
}

/**
 * Low-latency kernel, per rank: T k messages, one per (token, expert) pair; (n-m)/n of
 * them to ranks of other domains over the network, (m-1)/n to the other ranks of the
 * domain over NVLink, 1/n to itself. DeepEP reports T k b.
 */
const lowLatencyTraffic = (shape: GroupShape, x: MoeExchange, b: number): Traffic => {
  const { size: n, local: m } = shape
  const messages = x.tokensPerRank * x.topK
  return { scaleOut: ((messages * (n - m)) / n) * b, scaleUp: ((messages * (m - 1)) / n) * b, reported: messages * b }
}

/**
 * Seconds of an exchange: the fixed cost plus the slower fabric, the scale-up at Bu
 * (NVLink × `scaleUp` efficiency: 0.8 × 200 = 160 GB/s on H800, DeepEP's "~160 GB/s
 * NVLink maximum") and the network at Bo (NIC share × `scaleOut`: 0.92 × 50 = 46 GB/s
 * for a 400 Gb/s CX7, DeepEP's "~50 GB/s maximum").
 */
const exchangeSeconds = (shape: GroupShape, efficiency: Efficiencies, traffic: Traffic): { readonly seconds: number; readonly bottleneck: 'scale-up' | 'scale-out' } => {
  const up = traffic.scaleUp / (shape.scaleUp.bandwidth * efficiency.scaleUp)
  const out = shape.domains > 1 ? traffic.scaleOut / (shape.scaleOut.bandwidth * efficiency.scaleOut) : 0
  return { seconds: MOE_EXCHANGE_LATENCY + Math.max(up, out), bottleneck: out > up ? 'scale-out' : 'scale-up' }
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/**
 * The time of one DeepEP dispatch or combine over the expert-parallel group `span` of
 * `cluster`, per rank, with the traffic on each fabric and the bandwidth DeepEP would
 * report. Combine moves the same messages as dispatch in the other direction (its
 * normal kernel reduces inside the domain before the network). A group of one rank
 * costs nothing.
 */
export const moeExchange =
  (model: CollectiveModel) =>
  (cluster: Cluster) =>
  (exchange: MoeExchange, span: GroupSpan): E.Either<CollectiveError, MoeExchangeEstimate> => {
    const valid = validate(exchange)
    if (E.isLeft(valid)) return valid
    const shaped = shapeOf(cluster)(span)
    if (E.isLeft(shaped)) return shaped
    const shape = shaped.right
    const kernel = exchange.kernel ?? 'normal'
    const dtype = exchange.dtype ?? (exchange.op === 'moe_dispatch' ? 'fp8' : 'bf16')
    const header = kernel === 'low_latency' && exchange.op === 'moe_dispatch' ? LOW_LATENCY_HEADER_BYTES : 0
    const b = tokenBytes(exchange.hidden, dtype) + header
    const base = { op: exchange.op, kernel, dtype, ranks: shape.size, bytesPerToken: b }
    if (shape.size <= 1) {
      return E.right({ ...base, seconds: seconds(0), scaleOutBytes: 0, scaleUpBytes: 0, bottleneck: 'none', reportedBytes: 0, bandwidth: bytesPerSecond(0) })
    }
    const traffic = kernel === 'low_latency' ? lowLatencyTraffic(shape, exchange, b) : normalTraffic(shape, exchange, b)
    const time = exchangeSeconds(shape, model.efficiency, traffic)
    return E.right({
      ...base,
      seconds: seconds(time.seconds),
      scaleOutBytes: traffic.scaleOut,
      scaleUpBytes: traffic.scaleUp,
      bottleneck: time.bottleneck,
      reportedBytes: traffic.reported,
      bandwidth: bytesPerSecond(traffic.reported / time.seconds),
    })
  }
