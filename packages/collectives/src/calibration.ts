/**
 * Collective cases of a measured-case file (`meshplan-cases/1`, see the validation
 * FORMAT.md): decoding them at the boundary, turning a case's `hardware` object into a
 * cluster and the group of its `num_gpus` ranks, predicting the measured metric
 * (`busbw_gbps` or `time_us`) as nccl-tests (or DeepEP's benchmarks, for an MoE token
 * exchange) would print it, and summarising the errors,
 * `(predicted - measured) / measured`, as a markdown table.
 *
 * What the format does not say is read from where it can be: the scale-out fabric
 * (InfiniBand, RoCE, GPUDirect-TCPXO), which sets the network latency when the case
 * gives none, from the case's `notes` and `source` (`CaseContext`); how nccl-tests drove
 * the GPUs (one process per node or per GPU) from nccl-tests' own conventions.
 *
 * @example
 * import { calibrationTable, defaultCollectiveModel, predictCaseFile } from '@meshplan/collectives'
 * const results = predictCaseFile(defaultCollectiveModel)(JSON.parse(text))
 * console.log(calibrationTable(results)) // | id | metric | predicted | measured | error | ...
 */
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import type { Cluster, GroupSpan, Link, Tier } from '@meshplan/topology'
import { latencies, spanOf } from '@meshplan/topology'
import { bytes, bytesPerSecond, closed, decodeWith, describeIssue, dtypes, flopsPerSecond, numberWhere, oneOf, physical, physicalCount, physicalNumber, positiveInt, positiveNumber, seconds } from '@meshplan/units'
import type { Dtype, FlopsPerSecond, Seconds } from '@meshplan/units'
import { estimate, type CollectiveModel } from './model'
import { moeExchange, moeExchangeOps, moeKernels } from './moe-exchange'
import { busFactor, collectiveOps } from './op'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

const positive = positiveNumber

/** The scale-out link of a case's hardware: GB/s (1e9 B/s) per GPU per direction, µs per hop. */
/** GB/s (1e9 B/s), within the physical range of a bandwidth. */
const gbps = physicalNumber(physical.bandwidth, 1e9, 'GB/s')
/** µs, within the physical range of a latency. */
const microseconds = physicalNumber(physical.latency, 1e-6, 'µs')

export const HardwareLink = closed(
  { bandwidth_gbps: gbps },
  { latency_us: microseconds, in_network_reduction: t.boolean },
  'a link { bandwidth_gbps, latency_us?, in_network_reduction? }',
)
export type HardwareLink = t.TypeOf<typeof HardwareLink>

/** How the GPUs of a node are connected: through a switch (NVSwitch) or point to point (`full_mesh`, MI300X Infinity Fabric). */
export const scaleUpTopologies = ['switch', 'full_mesh'] as const

/** The scale-up link of a case's hardware: a link, and how the node's GPUs reach each other. */
export const ScaleUpLink = closed(
  { bandwidth_gbps: gbps },
  { latency_us: microseconds, in_network_reduction: t.boolean, topology: oneOf(scaleUpTopologies), link_gbps: gbps },
  'a scale-up link { bandwidth_gbps, latency_us?, in_network_reduction?, topology?, link_gbps? }',
)
export type ScaleUpLink = t.TypeOf<typeof ScaleUpLink>

/** Dense peak TFLOP/s per dtype, e.g. `{ "bf16": 989, "fp8": 1979 }`. */
const tflops = physicalNumber(physical.peakRate, 1e12, 'TFLOP/s')
const Tflops = closed({}, Object.fromEntries(dtypes.map((d) => [d, tflops])) as Record<Dtype, typeof tflops>, `TFLOP/s per dtype { ${dtypes.join(', ')} }`)

/** A case's GPU: memory in GiB, dense peak in TFLOP/s per dtype, memory bandwidth in TB/s. */
export const HardwareGpu = closed(
  {},
  { name: t.string, memory_gib: physicalNumber(physical.deviceMemory, 2 ** 30, 'GiB'), tflops: Tflops, hbm_tbps: physicalNumber(physical.bandwidth, 1e12, 'TB/s') },
  'a gpu { name?, memory_gib?, tflops?, hbm_tbps? }',
)

/** A case's `hardware` object (the measured-case format's fields, no others). */
export const Hardware = closed(
  { num_gpus: physicalCount(physical.devices), gpus_per_node: physicalCount(physical.devices), scale_up: ScaleUpLink, scale_out: HardwareLink },
  { gpu: HardwareGpu },
  'a hardware object { num_gpus, gpus_per_node, gpu?, scale_up, scale_out }',
)
export type Hardware = t.TypeOf<typeof Hardware>

/** Collective algorithms a case may force. */
export const caseAlgorithms = ['ring', 'tree', 'nvls', 'nvls_tree', 'collnet'] as const
/** Wire protocols a case may force. */
export const caseProtocols = ['ll', 'll128', 'simple'] as const

/**
 * A message of a collective case: from 1 byte to 2^50 (1 PiB), nccl-tests' sizes being
 * whole bytes from a few up to tens of GiB; a smaller "size" (5e-324) made a bus
 * bandwidth of 0.
 */
const messageBytes = numberWhere('a size in bytes from 1 to 2^50', (n) => n >= 1 && n <= 2 ** 50)

/** The workload of a collective case: one operation of `bytes` (nccl-tests' convention). */
export const CollectiveWorkload = closed(
  { kind: t.literal('collective'), op: oneOf(collectiveOps), bytes: messageBytes },
  { algorithm: oneOf(caseAlgorithms), protocol: oneOf(caseProtocols), in_place: t.boolean },
  'a collective workload { kind: "collective", op, bytes, algorithm?, protocol?, in_place? }',
)
export type CollectiveWorkload = t.TypeOf<typeof CollectiveWorkload>

/** The workload of an MoE token-exchange case. */
export const MoeExchangeWorkload = closed(
  {
    kind: t.literal('collective'),
    op: oneOf(moeExchangeOps),
    tokens_per_rank: positiveInt,
    hidden: positiveInt,
    top_k: positiveInt,
    num_experts: positiveInt,
  },
  { dtype: oneOf(dtypes), kernel: oneOf(moeKernels) },
  'an MoE exchange workload { kind: "collective", op, tokens_per_rank, hidden, top_k, num_experts, dtype?, kernel? }',
)
export type MoeExchangeWorkload = t.TypeOf<typeof MoeExchangeWorkload>

/** What a collective case can measure. */
export const collectiveMetrics = ['busbw_gbps', 'time_us'] as const

/**
 * The fields of a collective case this package reads: its id, hardware, collective
 * workload and measurement (the rest of the case format is the planner's to check).
 */
export const CollectiveCase = t.type({
  id: t.string,
  hardware: Hardware,
  workload: CollectiveWorkload,
  measured: t.type({ metric: oneOf(collectiveMetrics), value: positive }),
})
export type CollectiveCase = t.TypeOf<typeof CollectiveCase>

/** The fields of an MoE token-exchange case this package reads. */
export const MoeExchangeCase = t.type({
  id: t.string,
  hardware: Hardware,
  workload: MoeExchangeWorkload,
  measured: t.type({ metric: oneOf(collectiveMetrics), value: positive }),
})
export type MoeExchangeCase = t.TypeOf<typeof MoeExchangeCase>

/**
 * What a case says beside its hardware and workload, in words: its `notes` and
 * `source`, and its `engine.name`. The fabric of the network is read from the words
 * (`fabricNamedIn`); an engine other than nccl-tests has no nccl-tests launch floor.
 */
export interface CaseContext {
  readonly notes?: string
  readonly source?: string
  readonly engine?: string
}

/** Scale-out fabrics with figures of their own. */
export const scaleOutFabrics = ['infiniband', 'roce', 'tcpxo'] as const
export type ScaleOutFabric = (typeof scaleOutFabrics)[number]

/** One case predicted, or the reason it could not be. */
export interface CaseResult {
  readonly id: string
  readonly metric: string
  readonly measured: number
  /** In the metric's unit (GB/s or µs); null when the case could not be predicted. */
  readonly predicted: number | null
  /** (predicted - measured) / measured; null with `predicted`. */
  readonly error: number | null
  /** `algorithm/protocol` that won, or the reason there is no prediction. */
  readonly note: string
}

/** The absolute errors of the predicted cases. */
export interface ErrorSummary {
  readonly predicted: number
  readonly median: number
  readonly mean: number
  readonly worst: { readonly id: string; readonly error: number } | undefined
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Latency of a link when a case does not give one: topology's presets (`latencies`),
 * 1 µs for a scale-up fabric, 5 µs for the network (InfiniBand or RoCE, the fabrics
 * NCCL's network figures are for); a named fabric adds `fabricExtraLatency`.
 */
export const defaultHardwareLatency = { scaleUp: latencies.nvlink, scaleOut: latencies.network } as const

/**
 * What one network step of a fabric costs beyond NCCL's InfiniBand figures, as the
 * fabric's NCCL network plugin reports it to NCCL's tuner (`latencyInter`, added to
 * every network step, twice with Simple):
 * - InfiniBand and RoCE: 0, NCCL's IB transport reports none (`net_ib/init.cc`:
 *   `props->latency = 0; // Not set`); NCCL's `hwLatencies` NET row is their figure.
 * - GPUDirect-TCPX/TCPXO (GCP A3): 80 µs, the network latency Google's TCPXO scripts
 *   report to NCCL (google/nccl-plugin-gpudirect-tcpxo `tcpxo_scripts/run-nccl.sh`:
 *   `NCCL_GPUDIRECTTCPX_REPORT_NETWORK_LATENCY=80`).
 * AWS EFA is not listed: its plugin reports a tuning figure (aws-ofi-nccl: 150 µs "for
 * historical reasons", or a per-platform value), not a latency.
 */
export const fabricExtraLatency: { readonly [F in ScaleOutFabric]: Seconds } = {
  infiniband: seconds(0),
  roce: seconds(0),
  tcpxo: seconds(80e-6),
}

/**
 * The scale-out fabric a case's words name, if they name one: `TCPX`/`TCPXO` (GCP
 * GPUDirect-TCPX/O); else RoCE or InfiniBand (`InfiniBand`, `IB`, `NDR`, `HDR`, `XDR`)
 * when only one of the two is named ("IB vs RoCE not stated" names neither). The case
 * format has no field for the fabric; a case's `notes` and `source` are where its
 * authors name it.
 */
export const fabricNamedIn = (text: string): ScaleOutFabric | undefined => {
  if (/tcpx/i.test(text)) return 'tcpxo'
  const roce = /\broce\b/i.test(text)
  const infiniband = /infiniband|\bIB\b|\b[NHX]DR\b/.test(text)
  return roce === infiniband ? undefined : roce ? 'roce' : 'infiniband'
}

const fabricOfContext = (context: CaseContext | undefined): ScaleOutFabric | undefined =>
  context === undefined ? undefined : fabricNamedIn(`${context.notes ?? ''} ${context.source ?? ''}`)

/**
 * nccl-tests' host cost per GPU and iteration: 4.315 µs, fitted
 * (`scripts/fit-launch-floor.js`) as the lowest time per GPU of the calibration file's
 * single-node time cases (the 8-byte all-reduce on 8 H100 driven by one thread,
 * 34.52 µs / 8). nccl-tests times `iters` collectives launched back to back and divides
 * (`common.cu`): a thread that drives g GPUs launches g kernels (and NCCL's group
 * bookkeeping) per iteration, so the iterations cannot run faster than g of these.
 * Leave-one-out: fitted on the 1 MiB reduce-scatter instead (5.09 µs), the 8-byte case
 * is predicted +18%; fitted on the 8-byte case, the reduce-scatter −15%.
 */
export const NCCL_TESTS_HOST_COST_PER_GPU = seconds(4.315e-6)

/**
 * GPUs one nccl-tests thread drives, by nccl-tests' own usage (README, "Quick
 * examples"): one process over the node's GPUs inside one node (`-g 8`), one process per
 * GPU across nodes (`mpirun -np 64 -N 8 ... -g 1`). The case format does not say; a
 * case's `notes` often do.
 */
export const ncclTestsGpusPerThread = (hardware: Hardware): number => (hardware.num_gpus <= hardware.gpus_per_node ? hardware.num_gpus : 1)

/**
 * The least time nccl-tests can print for one collective on `hardware`: its host cost
 * per GPU times the GPUs a thread drives. A measured time is the larger of this and the
 * collective's own time: 34.5 µs for any small all-reduce on one 8-GPU node.
 */
export const ncclTestsFloor = (hardware: Hardware): Seconds => seconds(ncclTestsGpusPerThread(hardware) * NCCL_TESTS_HOST_COST_PER_GPU)

const linkOf = (spec: HardwareLink, fallback: number): Link => ({
  bandwidth: bytesPerSecond(spec.bandwidth_gbps * 1e9),
  latency: seconds(spec.latency_us === undefined ? fallback : spec.latency_us * 1e-6),
  inNetworkReduction: spec.in_network_reduction ?? false,
})

/**
 * A case's scale-up link. A `full_mesh` fabric gets its one-peer link: `link_gbps`, else
 * `bandwidth_gbps` shared evenly over the `gpus_per_node − 1` peers (`FORMAT.md`: with
 * `full_mesh`, `bandwidth_gbps` is the sum over a GPU's links); topology's `groupBandwidth`
 * then gives a group of w GPUs (w − 1) such links.
 */
const scaleUpLinkOf = (hardware: Hardware): Link => {
  const link = linkOf(hardware.scale_up, defaultHardwareLatency.scaleUp)
  if (hardware.scale_up.topology !== 'full_mesh' || hardware.gpus_per_node < 2) return link
  const peer = hardware.scale_up.link_gbps === undefined ? link.bandwidth / (hardware.gpus_per_node - 1) : hardware.scale_up.link_gbps * 1e9
  return { ...link, peerBandwidth: bytesPerSecond(peer) }
}

/**
 * A case's hardware as a cluster: a `node` tier (scale-up, `gpus_per_node` wide) and a
 * `network` tier (scale-out, enough nodes for `num_gpus`). Bandwidths are GB/s
 * (1e9 B/s), latencies µs; missing latencies take `defaultHardwareLatency`, the network
 * plus `fabricExtraLatency` of `fabric` when one is named.
 */
export const clusterFromHardware = (hardware: Hardware, fabric?: ScaleOutFabric): Cluster => {
  const gpu = hardware.gpu ?? {}
  const peak: Partial<Record<Dtype, FlopsPerSecond>> = {}
  for (const dtype of dtypes) {
    const tflops = gpu.tflops?.[dtype]
    if (tflops !== undefined) peak[dtype] = flopsPerSecond(tflops * 1e12)
  }
  const tiers: ReadonlyArray<Tier> = [
    { name: 'node', kind: 'scale-up', fanout: hardware.gpus_per_node, link: scaleUpLinkOf(hardware) },
    {
      name: 'network',
      kind: 'scale-out',
      fanout: Math.ceil(hardware.num_gpus / hardware.gpus_per_node),
      link: linkOf(hardware.scale_out, defaultHardwareLatency.scaleOut + (fabric === undefined ? 0 : fabricExtraLatency[fabric])),
    },
  ]
  return {
    name: `${hardware.num_gpus} x ${gpu.name ?? 'GPU'}`,
    device: {
      name: gpu.name ?? 'GPU',
      memory: bytes((gpu.memory_gib ?? 0) * 2 ** 30),
      memoryBandwidth: bytesPerSecond((gpu.hbm_tbps ?? 0) * 1e12),
      peak,
      source: 'a measured case (hardware object)',
    },
    tiers,
  }
}

/** The group of a case: ranks 0 .. num_gpus - 1 of `clusterFromHardware(hardware, fabric)`. */
export const groupOfHardware = (hardware: Hardware, fabric?: ScaleOutFabric): { readonly cluster: Cluster; readonly span: GroupSpan } => {
  const cluster = clusterFromHardware(hardware, fabric)
  return { cluster, span: spanOf(cluster)(Array.from({ length: hardware.num_gpus }, (_, rank) => rank)) }
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/**
 * Predicts one collective case as nccl-tests prints it: the collective's time
 * (`estimate`, with the algorithm and protocol the case forces), at least nccl-tests'
 * launch floor (`ncclTestsFloor`; not for a case whose `context.engine` names another
 * engine), as time in µs or bus bandwidth in GB/s. `in_place` changes nothing: NCCL's
 * algorithms move the same bytes whether the output buffer is the input (an out-of-place
 * ring writes its first step into the output instead of the input), and nccl-tests'
 * two columns differ by noise (34.52 and 34.98 µs in the 8-byte case). `context` gives
 * the case's words, where the network fabric may be named.
 */
export const predictCase =
  (model: CollectiveModel) =>
  (c: CollectiveCase, context?: CaseContext): CaseResult => {
    const base = { id: c.id, metric: c.measured.metric, measured: c.measured.value }
    if (c.hardware.num_gpus < 2) return { ...base, predicted: null, error: null, note: `hardware.num_gpus ${c.hardware.num_gpus}: a collective needs at least 2 GPUs (on one, nothing moves and the bus bandwidth is 0 by definition)` }
    const fabric = fabricOfContext(context)
    const { cluster, span } = groupOfHardware(c.hardware, fabric)
    const { algorithm, protocol } = c.workload
    const options = { ...(algorithm === undefined ? {} : { algorithm }), ...(protocol === undefined ? {} : { protocol }) }
    const result = estimate(model)(cluster)(c.workload.op, c.workload.bytes, span, options)
    if (E.isLeft(result)) return { ...base, predicted: null, error: null, note: result.left.message }
    const ncclTests = context?.engine === undefined || context.engine === 'nccl-tests'
    const floor = ncclTests ? ncclTestsFloor(c.hardware) : 0
    const time = Math.max(result.right.seconds, floor)
    const predicted = c.measured.metric === 'busbw_gbps' ? ((c.workload.bytes / time) * busFactor(c.workload.op)(span.size)) / 1e9 : time * 1e6
    const notes = [
      `${result.right.algorithm}/${result.right.protocol}`,
      ...(time > result.right.seconds ? [`nccl-tests launch floor ${(floor * 1e6).toFixed(1)} µs`] : []),
      ...(fabric === undefined ? [] : [`${fabric} network`]),
    ]
    return { ...base, predicted, error: (predicted - c.measured.value) / c.measured.value, note: notes.join(', ') }
  }

/**
 * Predicts one MoE token-exchange case (`moe_dispatch`, `moe_combine`) with
 * `moeExchange`: time in µs, or `busbw_gbps` as DeepEP reports its bandwidth
 * (`MoeExchangeEstimate.bandwidth`). The group is every GPU of the case (the EP group).
 */
export const predictMoeExchangeCase =
  (model: CollectiveModel) =>
  (c: MoeExchangeCase, context?: CaseContext): CaseResult => {
    const base = { id: c.id, metric: c.measured.metric, measured: c.measured.value }
    const { cluster, span } = groupOfHardware(c.hardware, fabricOfContext(context))
    const w = c.workload
    const exchange = {
      op: w.op,
      tokensPerRank: w.tokens_per_rank,
      hidden: w.hidden,
      topK: w.top_k,
      numExperts: w.num_experts,
      ...(w.dtype === undefined ? {} : { dtype: w.dtype }),
      ...(w.kernel === undefined ? {} : { kernel: w.kernel }),
    }
    const result = moeExchange(model)(cluster)(exchange, span)
    if (E.isLeft(result)) return { ...base, predicted: null, error: null, note: result.left.message }
    const r = result.right
    const predicted = c.measured.metric === 'busbw_gbps' ? r.bandwidth / 1e9 : r.seconds * 1e6
    return { ...base, predicted, error: (predicted - c.measured.value) / c.measured.value, note: `DeepEP ${r.kernel} ${r.dtype}, ${r.bottleneck} bound` }
  }

const isCollectiveWorkload = (u: unknown): boolean =>
  typeof u === 'object' && u !== null && (u as { readonly workload?: { readonly kind?: unknown } }).workload?.kind === 'collective'

const isExchange = (u: unknown): boolean => (moeExchangeOps as ReadonlyArray<unknown>).includes((u as { readonly workload: { readonly op?: unknown } }).workload.op)

/** The words of a raw case: its `notes`, `source` and `engine.name`, where they are strings. */
export const caseContextOf = (u: unknown): CaseContext => {
  const raw = (typeof u === 'object' && u !== null ? u : {}) as { readonly notes?: unknown; readonly source?: unknown; readonly engine?: { readonly name?: unknown } }
  const engine = typeof raw.engine === 'object' && raw.engine !== null ? raw.engine.name : undefined
  return {
    ...(typeof raw.notes === 'string' ? { notes: raw.notes } : {}),
    ...(typeof raw.source === 'string' ? { source: raw.source } : {}),
    ...(typeof engine === 'string' ? { engine } : {}),
  }
}

/**
 * Predicts every collective case (MoE token exchanges included) of a decoded case file (`{ cases: [...] }`), in file
 * order; other cases are skipped. A case that does not decode gets `predicted: null`
 * and the decoding issues as its note.
 */
export const predictCaseFile =
  (model: CollectiveModel) =>
  (file: unknown): ReadonlyArray<CaseResult> => {
    const cases = typeof file === 'object' && file !== null ? (file as { readonly cases?: unknown }).cases : undefined
    if (!Array.isArray(cases)) return []
    return cases.filter(isCollectiveWorkload).map((u: unknown, index) => {
      const context = caseContextOf(u)
      const path = `cases[${index}]`
      const issues = isExchange(u)
        ? E.map((c: MoeExchangeCase) => predictMoeExchangeCase(model)(c, context))(decodeWith(MoeExchangeCase, path)(u))
        : E.map((c: CollectiveCase) => predictCase(model)(c, context))(decodeWith(CollectiveCase, path)(u))
      if (E.isRight(issues)) return issues.right
      const id = (u as { readonly id?: unknown }).id
      return { id: typeof id === 'string' ? id : `#${index}`, metric: '', measured: 0, predicted: null, error: null, note: issues.left.map(describeIssue).join('; ') }
    })
  }

/** Median, mean and worst of the absolute errors of the predicted cases. */
export const summarize = (results: ReadonlyArray<CaseResult>): ErrorSummary => {
  const errors = results.flatMap((r) => (r.error === null ? [] : [{ id: r.id, error: r.error }]))
  const absolute = errors.map((e) => Math.abs(e.error)).sort((a, b) => a - b)
  const count = absolute.length
  const middle = Math.floor(count / 2)
  const median = count === 0 ? 0 : count % 2 === 1 ? (absolute[middle] ?? 0) : ((absolute[middle - 1] ?? 0) + (absolute[middle] ?? 0)) / 2
  const mean = count === 0 ? 0 : absolute.reduce((s, e) => s + e, 0) / count
  const worst = errors.reduce<{ id: string; error: number } | undefined>((w, e) => (w === undefined || Math.abs(e.error) > Math.abs(w.error) ? e : w), undefined)
  return { predicted: count, median, mean, worst }
}

const percent = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`
const figure = (x: number): string => (x >= 100 ? x.toFixed(1) : x.toPrecision(4))

/** The results as a markdown table, followed by the median and worst absolute error. */
export const calibrationTable = (results: ReadonlyArray<CaseResult>): string => {
  const rows = results.map(
    (r) =>
      `| ${r.id} | ${r.metric} | ${r.predicted === null ? '—' : figure(r.predicted)} | ${figure(r.measured)} | ${r.error === null ? '—' : percent(r.error)} | ${r.note} |`,
  )
  const s = summarize(results)
  return [
    '| id | metric | predicted | measured | error | algorithm / note |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    `Median absolute error ${(s.median * 100).toFixed(1)}% over ${s.predicted} cases; worst ${s.worst === undefined ? '—' : `${percent(s.worst.error)} (${s.worst.id})`}.`,
  ].join('\n')
}
