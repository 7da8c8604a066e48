/**
 * A plan file (`meshplan-plan/1`, JSON or YAML): a deployment someone proposes, with
 * the claims they make for it, so that `check` can audit it. Decoded once, at the
 * boundary; every malformed field is reported with its path, the value found and what
 * was expected.
 *
 *     format: meshplan-plan/1
 *     name?: string            source?: string          notes?: string
 *     model: <model preset name> | <Hugging Face config.json object>
 *     cluster: <cluster object: { system, nodes, ... } as in a cluster file>
 *     precision?: { weights?, activations?, kv_cache? }         (default bf16)
 *     parallelism: { tp?, pp?, dp?, cp?, ep?, etp?, sequence_parallel?, virtual_pipeline? }
 *                              (an MoE model without `ep` > 1 and without `etp` gets etp = tp)
 *     workload: { mode?, input_tokens, output_tokens, batch?, max_batch? }
 *     claims?: [ { metric, quote?, equals? | about? | at_most? | at_least?, tolerance? } ]
 *
 * A claim states one figure of the plan: `equals` (exact for counts, within 1e-9
 * otherwise), `about` (within `tolerance`, a fraction, default {@link defaultTolerance}),
 * `at_most` or `at_least`. Values are numbers in the metric's base unit or quantity
 * strings (`"69MB"`, `"2ms"`, `"0.09TFLOPS"`). `quote` keeps the plan's own words.
 *
 * @example
 * import { decodePlan } from '@meshplan/planner'
 * decodePlan(parseDocumentResult) // right({ model, cluster, strategy, precision, workload, claims })
 */
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import { checkpointPrecision, decodePrecision, defaultPrecision, fromHuggingFace, modelPreset, type Architecture, type Precision } from '@meshplan/model'
import { decodeStrategy, withExpertDefault, type Strategy } from '@meshplan/parallelism'
import { decodeClusterFile, type Cluster } from '@meshplan/topology'
import { closed, decodeWith, nonNegativeInt, oneOf, quantity, rerootIssues, type DecodeIssue, type QuantityKind } from '@meshplan/units'
import { decodeInferenceWorkload, type InferenceWorkload } from '@meshplan/inference'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What a claim can be about, and the kind of value it takes. */
export const claimMetrics = {
  /** GPUs the strategy uses (tp · pp · dp · cp). */
  gpus_used: 'count',
  /** Routed experts' worth of parameters one GPU holds, over all its MoE layers. */
  experts_per_gpu: 'number',
  /** Parameter bytes on the fullest GPU. */
  weight_memory_per_gpu: 'bytes',
  /** Weights, KV cache at the workload's batch, workspace and reserve on the fullest GPU. */
  memory_per_gpu: 'bytes',
  /** Model FLOP/s one GPU performs while serving the workload (forward FLOPs of every prompt and output token). */
  flops_per_gpu: 'flopRate',
  output_tokens_per_s: 'number',
  output_tokens_per_s_per_gpu: 'number',
  ttft: 'seconds',
  tpot: 'seconds',
  request_latency: 'seconds',
  /** Routed tokens on the busiest GPU of an MoE layer over the mean (1: perfectly balanced). */
  load_imbalance: 'number',
} as const satisfies Readonly<Record<string, 'count' | 'number' | QuantityKind>>
export type ClaimMetric = keyof typeof claimMetrics

export const comparators = ['equals', 'about', 'at_most', 'at_least'] as const
export type Comparator = (typeof comparators)[number]

export interface Claim {
  readonly metric: ClaimMetric
  readonly comparator: Comparator
  readonly value: number
  /** For `about`: the largest relative deviation that still holds. */
  readonly tolerance: number
  /** The plan's own words, when given. */
  readonly quote?: string
}

/** A decoded serving plan. */
export type Plan = PlanOf<InferenceWorkload, Claim>

/** `about` holds within ±20% unless the claim says otherwise: a "~" in a plan is an estimate, not a figure to three digits. */
export const defaultTolerance = 0.2


const PlanHead = closed(
  { format: t.literal('meshplan-plan/1'), model: t.unknown, cluster: t.unknown, workload: t.unknown },
  { name: t.string, source: t.string, notes: t.string, precision: t.unknown, claims: t.array(t.unknown), parallelism: t.unknown, pools: t.unknown },
  'a plan { format: "meshplan-plan/1", model, cluster, parallelism (or pools), workload, precision?, claims? }',
)

const positiveInstances = new t.Type<number, unknown, unknown>(
  'a whole number of instances from 1',
  (u): u is number => typeof u === 'number',
  (u, c) => (typeof u === 'number' && Number.isSafeInteger(u) && u >= 1 && u <= 1_000_000 ? t.success(u) : t.failure(u, c)),
  (a) => a,
)

const PoolHead = closed({ instances: positiveInstances, parallelism: t.unknown }, { cluster: t.unknown }, 'a pool { instances, parallelism, cluster? }')
const PoolsHead = closed({ prefill: t.unknown, decode: t.unknown }, {}, 'pools { prefill, decode }')

/** Fields of a `parallelism` object beyond the strategy's: redundant expert slots per MoE layer (EPLB), which the algebra takes as a target's, not a strategy's. */
const ParallelismExtras = closed({}, { redundant_experts: nonNegativeInt })
export type ParallelismExtras = t.TypeOf<typeof ParallelismExtras>
const extraKeys: ReadonlyArray<string> = ['redundant_experts']

/** The strategy of a plan's or a case's `parallelism` object, and the fields beyond it (`redundant_experts`), each bad field at its path. */
export const decodeParallelism = (u: unknown, path: string): E.Either<ReadonlyArray<DecodeIssue>, { readonly strategy: Strategy; readonly extras: ParallelismExtras }> => {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) return decodeStrategy(u, path) as E.Either<ReadonlyArray<DecodeIssue>, never>
  const rest: Record<string, unknown> = {}
  const extra: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(u)) (extraKeys.includes(k) ? extra : rest)[k] = v
  const s = decodeStrategy(rest, path)
  const x = decodeWith(ParallelismExtras, path)(extra)
  if (E.isLeft(s) || E.isLeft(x)) return E.left([...(E.isLeft(s) ? s.left : []), ...(E.isLeft(x) ? x.left : [])])
  return E.right({ strategy: s.right, extras: x.right })
}

/** One pool of a disaggregated plan: how many instances of a deployment, its strategy and the cluster it runs on. */
export interface PlanPool {
  readonly instances: number
  readonly strategy: Strategy
  /** Redundant expert slots per MoE layer (`parallelism.redundant_experts`), absent when none. */
  readonly redundantExperts?: number
  /** The pool's own cluster (heterogeneous pools), else the plan's. */
  readonly cluster: Cluster
}

/** A disaggregated plan's pools (`pools` in the plan file): prompts prefilled on one, decoded on the other. */
export interface PlanPools {
  readonly prefill: PlanPool
  readonly decode: PlanPool
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The kinds of value a claim's metric takes. */
export type MetricKind = 'count' | 'number' | QuantityKind

const valueCodec = (kind: MetricKind): t.Type<number, unknown, unknown> => {
  if (kind === 'count' || kind === 'number') {
    return new t.Type<number, unknown, unknown>(
      kind === 'count' ? 'a whole number' : 'a finite number',
      (u): u is number => typeof u === 'number',
      (u, c) => (typeof u === 'number' && Number.isFinite(u) && u >= 0 && (kind === 'number' || Number.isInteger(u)) ? t.success(u) : t.failure(u, c)),
      (a) => a,
    )
  }
  return quantity(kind, 'nonNegative') as unknown as t.Type<number, unknown, unknown>
}

/** A claim about one of `metrics` (the metric names and the kind of value each takes). */
export interface ClaimOf<M extends string> extends Omit<Claim, 'metric'> {
  readonly metric: M
}

/** Decodes a claim about one of `metrics` at `path`. */
export const decodeClaimOf =
  <M extends string>(metrics: Readonly<Record<M, MetricKind>>) =>
  (u: unknown, path: string): E.Either<ReadonlyArray<DecodeIssue>, ClaimOf<M>> => {
    const names = Object.keys(metrics) as unknown as ReadonlyArray<M>
    const head = decodeWith(
      closed(
        { metric: oneOf(names) },
        { quote: t.string, equals: t.unknown, about: t.unknown, at_most: t.unknown, at_least: t.unknown, tolerance: t.number },
        'a claim { metric, quote?, equals? | about? | at_most? | at_least?, tolerance? }',
      ),
      path,
    )(u)
    if (E.isLeft(head)) return head
    const h = head.right
    const given = comparators.filter((k) => h[k] !== undefined)
    const [comparator] = given
    if (given.length !== 1 || comparator === undefined) {
      return E.left([{ path, value: u, expected: `exactly one of ${comparators.join(', ')} (found ${given.length === 0 ? 'none' : given.join(', ')})` }])
    }
    const value = decodeWith(valueCodec(metrics[h.metric]), `${path}.${comparator}`)(h[comparator])
    if (E.isLeft(value)) return value
    const tolerance = h.tolerance ?? defaultTolerance
    if (!(tolerance >= 0 && Number.isFinite(tolerance))) return E.left([{ path: `${path}.tolerance`, value: h.tolerance, expected: 'a fraction, 0 or more (0.2 = ±20%)' }])
    return E.right({ metric: h.metric, comparator, value: value.right, tolerance, ...(h.quote === undefined ? {} : { quote: h.quote }) })
  }

const decodeClaim: (u: unknown, path: string) => E.Either<ReadonlyArray<DecodeIssue>, Claim> = decodeClaimOf(claimMetrics)

/** A model preset name, or a Hugging Face config.json object. */
const decodeModel = (u: unknown, path: string): E.Either<ReadonlyArray<DecodeIssue>, Architecture> => {
  if (typeof u === 'string') {
    const preset = modelPreset(u)
    return E.isRight(preset) ? preset : E.left([{ path, value: u, expected: `a model preset name or a Hugging Face config object (${preset.left.message})` }])
  }
  return E.mapLeft(rerootIssues('config', path))(fromHuggingFace(u))
}

const hasEtp = (u: unknown): boolean => typeof u === 'object' && u !== null && Object.prototype.hasOwnProperty.call(u, 'etp')

/** What every plan shares; `W` is its workload and `C` its claims. */
export interface PlanOf<W, C> {
  readonly name: string
  readonly source?: string
  readonly notes?: string
  readonly model: Architecture
  readonly cluster: Cluster
  readonly precision: Precision
  readonly strategy: Strategy
  readonly workload: W
  readonly claims: ReadonlyArray<C>
  /** Prefill and decode pools when the plan is disaggregated; `strategy` is then the decode pool's. */
  readonly pools?: PlanPools
  /** Redundant expert slots per MoE layer of the plan's `parallelism` (EPLB: experts + redundant slots, ep divides the slots), absent when none. */
  readonly redundantExperts?: number
}

type Decoder<A> = (u: unknown, path: string) => E.Either<ReadonlyArray<DecodeIssue>, A>

/** Decodes a parsed plan document whose workload `decodeWorkload` and claims `decodeClaimAt` read (`root` names it in errors). */
export const decodePlanWith = <W, C>(u: unknown, root: string, decodeWorkload: Decoder<W>, decodeClaimAt: Decoder<C>): E.Either<ReadonlyArray<DecodeIssue>, PlanOf<W, C>> => {
  const head = decodeWith(PlanHead, root)(u)
  if (E.isLeft(head)) return head
  const h = head.right
  const model = decodeModel(h.model, `${root}.model`)
  const cluster = E.mapLeft(rerootIssues('cluster', `${root}.cluster`))(decodeClusterFile(h.cluster))
  // without a precision, the checkpoint's formats (a config's quantization_config), else bf16
  const precision = h.precision === undefined ? E.right(E.isRight(model) ? checkpointPrecision(model.right) : defaultPrecision) : decodePrecision(h.precision, `${root}.precision`)
  const pools = h.pools === undefined ? E.right(undefined) : decodePools(h.pools, `${root}.pools`, cluster)
  const parallelism = h.parallelism === undefined ? undefined : decodeParallelism(h.parallelism, `${root}.parallelism`)
  const redundant = parallelism !== undefined && E.isRight(parallelism) ? parallelism.right.extras.redundant_experts ?? 0 : 0
  const strategy =
    parallelism !== undefined
      ? E.map((p: { readonly strategy: Strategy }) => p.strategy)(parallelism)
      : h.pools !== undefined
        ? E.right(undefined)
        : E.left([{ path: `${root}.parallelism`, value: undefined, expected: 'a parallelism object (or pools { prefill, decode })' }])
  const workload = decodeWorkload(h.workload, `${root}.workload`)
  const claims = (h.claims ?? []).map((c, i) => decodeClaimAt(c, `${root}.claims[${i}]`))
  const both = h.parallelism !== undefined && h.pools !== undefined ? [{ path: `${root}.pools`, value: h.pools, expected: 'pools or parallelism, not both (a disaggregated plan gives each pool its own parallelism)' }] : []
  const issues = [...both, ...[model, cluster, precision, strategy, workload, pools, ...claims].flatMap((r) => (E.isLeft(r) ? r.left : []))]
  if (issues.length > 0 || E.isLeft(model) || E.isLeft(cluster) || E.isLeft(precision) || E.isLeft(strategy) || E.isLeft(workload) || E.isLeft(pools)) return E.left(issues)
  const moe = model.right.moe !== undefined
  const poolsOf = pools.right === undefined ? undefined : {
    prefill: { ...pools.right.prefill, strategy: withExpertDefault(moe, hasEtp(pools.right.prefill.raw))(pools.right.prefill.strategy) },
    decode: { ...pools.right.decode, strategy: withExpertDefault(moe, hasEtp(pools.right.decode.raw))(pools.right.decode.strategy) },
  }
  const main = strategy.right ?? poolsOf?.decode.strategy
  if (main === undefined) return E.left([{ path: `${root}.parallelism`, value: undefined, expected: 'a parallelism object (or pools { prefill, decode })' }])
  return E.right({
    name: h.name ?? model.right.name,
    ...(h.source === undefined ? {} : { source: h.source }),
    ...(h.notes === undefined ? {} : { notes: h.notes }),
    model: model.right,
    cluster: cluster.right,
    precision: precision.right,
    strategy: strategy.right === undefined ? main : withExpertDefault(moe, hasEtp(h.parallelism))(strategy.right),
    workload: workload.right,
    claims: claims.flatMap((c) => (E.isRight(c) ? [c.right] : [])),
    ...(poolsOf === undefined ? {} : { pools: { prefill: poolOf(poolsOf.prefill), decode: poolOf(poolsOf.decode) } }),
    ...(redundant > 0 ? { redundantExperts: redundant } : {}),
  })
}

/** A decoded pool without what only decoding needs. */
const poolOf = (p: PlanPool): PlanPool => ({ instances: p.instances, strategy: p.strategy, cluster: p.cluster, ...(p.redundantExperts === undefined || p.redundantExperts === 0 ? {} : { redundantExperts: p.redundantExperts }) })

/** A plan's pools at `path`: each with its instances, parallelism and optional own cluster (the plan's `cluster` else). */
const decodePools = (
  u: unknown,
  path: string,
  cluster: E.Either<ReadonlyArray<DecodeIssue>, Cluster>,
): E.Either<ReadonlyArray<DecodeIssue>, Record<'prefill' | 'decode', PlanPool & { readonly raw: unknown }>> => {
  const head = decodeWith(PoolsHead, path)(u)
  if (E.isLeft(head)) return head
  const issues: DecodeIssue[] = []
  const out: Partial<Record<'prefill' | 'decode', PlanPool & { readonly raw: unknown }>> = {}
  for (const role of ['prefill', 'decode'] as const) {
    const at = `${path}.${role}`
    const pool = decodeWith(PoolHead, at)(head.right[role])
    if (E.isLeft(pool)) {
      issues.push(...pool.left)
      continue
    }
    const s = decodeParallelism(pool.right.parallelism, `${at}.parallelism`)
    const c = pool.right.cluster === undefined ? cluster : E.mapLeft(rerootIssues('cluster', `${at}.cluster`))(decodeClusterFile(pool.right.cluster))
    if (E.isLeft(s)) issues.push(...s.left)
    if (E.isLeft(c) && pool.right.cluster !== undefined) issues.push(...c.left)
    if (E.isRight(s) && E.isRight(c)) out[role] = { instances: pool.right.instances, strategy: s.right.strategy, cluster: c.right, raw: pool.right.parallelism, redundantExperts: s.right.extras.redundant_experts ?? 0 }
  }
  return issues.length > 0 || out.prefill === undefined || out.decode === undefined ? E.left(issues) : E.right({ prefill: out.prefill, decode: out.decode })
}

/** Decodes a parsed plan document (`root` names it in errors, default `plan`). */
export const decodePlan = (u: unknown, root = 'plan'): E.Either<ReadonlyArray<DecodeIssue>, Plan> => decodePlanWith(u, root, decodeInferenceWorkload, decodeClaim)

/** Whether a claim (its metric's value of `kind`) holds for the computed value: `equals` exact for counts, within 1e-9 otherwise. */
export const claimHolds = (claim: Omit<Claim, 'metric'>, kind: MetricKind, computed: number): boolean => {
  switch (claim.comparator) {
    case 'equals':
      return kind === 'count' ? computed === claim.value : Math.abs(computed - claim.value) <= 1e-9 * Math.max(1, Math.abs(claim.value))
    case 'about':
      return claim.value === 0 ? computed === 0 : Math.abs(computed - claim.value) <= claim.tolerance * Math.abs(claim.value)
    case 'at_most':
      return computed <= claim.value
    case 'at_least':
      return computed >= claim.value
  }
}
