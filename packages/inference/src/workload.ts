/**
 * What a deployment is asked to serve: requests of `inputTokens` prompt tokens that
 * each produce `outputTokens` tokens, in one of three modes (the modes of the measured
 * case format, `shared/validation/FORMAT.md`):
 *
 * - `static`: `batch` sequences per data-parallel rank start together; a prefill of
 *   all of them, then `outputTokens − 1` decode steps (the first token comes out of the
 *   prefill). TensorRT-LLM's `gptSessionBenchmark` measures this.
 * - `max_throughput`: continuous batching with as many sequences in flight as memory
 *   allows (at most `maxBatch`); new prompts are prefilled in the same steps as the
 *   running sequences decode (Orca, Yu et al. 2022; chunked prefill, Agrawal et al.
 *   2024, "Sarathi-Serve").
 * - `latency`: one request at a time (static with batch 1).
 *
 * @example
 * import { inferenceWorkload } from '@meshplan/inference'
 * inferenceWorkload({ mode: 'static', inputTokens: 1024, outputTokens: 256, batch: 32 }) // right(...)
 * inferenceWorkload({ mode: 'static', inputTokens: 1024, outputTokens: 0, batch: 32 })   // left: outputTokens
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import * as t from 'io-ts'
import { closed, decodeWith, numberWhere, oneOf, physical, physicalCount, positiveNumber, type DecodeIssue } from '@meshplan/units'
import { estimateError, type EstimateError } from '@meshplan/cost-models'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export const inferenceModes = ['static', 'max_throughput', 'latency'] as const
export type InferenceMode = (typeof inferenceModes)[number]

/** Speculative decoding: a draft (or MTP head) proposes `draftTokens`, the target verifies them, `acceptanceLength` tokens come out per target step on average (bonus token included). */
export interface Speculative {
  readonly method: SpeculativeMethod
  readonly draftTokens: number
  readonly acceptanceLength: number
}

export const speculativeMethods = ['mtp', 'eagle', 'draft_model', 'ngram'] as const
export type SpeculativeMethod = (typeof speculativeMethods)[number]

/** How request lengths vary around the given means (the case format's `length_distribution`). */
export const lengthDistributions = ['fixed', 'uniform', 'sharegpt'] as const
export type LengthDistribution = (typeof lengthDistributions)[number]

export interface InferenceWorkload {
  readonly mode: InferenceMode
  /** Prompt tokens per request (a mean where lengths vary; need not be whole). */
  readonly inputTokens: number
  /** Output tokens per request (a mean where lengths vary; need not be whole). */
  readonly outputTokens: number
  /** Sequences in flight per data-parallel rank (`static`); 1 in `latency`; the most that fit in `max_throughput`. */
  readonly batch?: number
  /** The engine's limit on sequences in flight per data-parallel rank (`max_throughput` and the search); default {@link defaultMaxBatch}. */
  readonly maxBatch?: number
  /** The engine's limit on tokens in one forward step (the chunked-prefill budget). */
  readonly maxNumTokens?: number
  /** A finite set of requests, all issued at time 0 (the run includes its ramp-down tail). */
  readonly numRequests?: number
  /** Closed loop: this many requests in flight over the whole deployment. */
  readonly concurrency?: number
  /** Open loop: Poisson arrivals, requests per second over the whole deployment. */
  readonly requestRate?: number
  /** How lengths vary around their means (default `fixed`). */
  readonly lengthDistribution?: LengthDistribution
  /** With `uniform`: lengths in [mean·(1 − r), mean·(1 + r)]. */
  readonly rangeRatio?: number
  readonly speculative?: Speculative
  /**
   * Skewed MoE routing: the share of one MoE layer's token-expert assignments its
   * most-loaded expert receives, the other experts sharing the rest evenly (uniform
   * routing: 1/experts, the default). A number in (0, 1]; at least 1/experts, and only
   * for an MoE model (checked where the model is known, `prepareInference`).
   */
  readonly hotExpertShare?: number
}

/**
 * Default limit on sequences in flight per data-parallel rank: 1024. Serving engines
 * cap their batch (vLLM's `max_num_seqs`, TensorRT-LLM's `max_batch_size`) because
 * scheduling and sampling costs grow with it; the largest batch among the measured
 * cases of `shared/validation/calibration.json` is 1024. A planning choice, set it per
 * workload.
 */
export const defaultMaxBatch = 1024

/** A token count that may be a mean: a finite number of at least 1. */
const tokenCount = numberWhere(`a number of tokens from 1 to ${physical.tokens.max.toLocaleString('en-US')} (a mean need not be whole)`, (n) => Number.isFinite(n) && n >= 1 && n <= physical.tokens.max)

/** Sequences or requests. */
const sequences = physicalCount(physical.sequences)

const fraction = numberWhere('a fraction in [0, 1)', (n) => n >= 0 && n < 1)

/** A share of a whole: a number in (0, 1]. */
const share = numberWhere('a share in (0, 1] (uniform routing gives the hottest expert 1/experts)', (n) => n > 0 && n <= 1)

/**
 * The most tokens a draft may propose per step: 64. Engines draft a few (EAGLE's trees
 * and DeepSeek's MTP 1 to 7, n-gram lookup up to about 10); the bound keeps a verify pass
 * of `draftTokens + 1` tokens per sequence a decode pass.
 */
export const MAX_DRAFT_TOKENS = 64

const SpeculativeFile = closed(
  { method: oneOf(speculativeMethods), draft_tokens: physicalCount({ kind: 'count', min: 1, max: MAX_DRAFT_TOKENS, why: 'tokens a draft proposes per step' }), acceptance_length: positiveNumber },
  {},
  'speculative decoding { method, draft_tokens, acceptance_length }',
)

/** A workload as a plan or case file writes it (snake_case, the case format's fields). */
export const InferenceWorkloadFile = closed(
  { input_tokens: tokenCount, output_tokens: tokenCount },
  {
    mode: oneOf(inferenceModes),
    batch: sequences,
    max_batch: sequences,
    kind: t.literal('inference'),
    max_num_tokens: physicalCount(physical.tokens),
    num_requests: sequences,
    concurrency: sequences,
    request_rate: positiveNumber,
    length_distribution: oneOf(lengthDistributions),
    range_ratio: fraction,
    speculative: SpeculativeFile,
    hot_expert_share: share,
  },
  'InferenceWorkload',
)
export type InferenceWorkloadFile = t.TypeOf<typeof InferenceWorkloadFile>

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const positive = (name: string, n: number | undefined): E.Either<EstimateError, void> =>
  n === undefined || (Number.isSafeInteger(n) && n >= 1)
    ? E.right(undefined)
    : E.left(estimateError('invalid-workload', `workload.${name}: expected a positive integer, got ${n}`))

const tokens = (name: string, n: number): E.Either<EstimateError, void> =>
  Number.isFinite(n) && n >= 1 && n <= physical.tokens.max
    ? E.right(undefined)
    : E.left(estimateError('invalid-workload', `workload.${name}: expected a number of tokens, 1 or more, got ${n}`))

/**
 * What the estimate cannot honour yet in `w`, in a sentence, or undefined: a workload
 * that asks for something the models do not represent gets no number rather than the
 * number of a different workload.
 * - Speculative decoding with a separate draft model (`draft_model`): the workload does
 *   not say which model drafts, so its passes cannot be priced (`mtp`, `eagle` and
 *   `ngram` are modelled).
 * - What describes a continuous-batching run applies to `max_throughput` only, where the
 *   batch follows from it: open- and closed-loop arrivals (`requestRate`; `concurrency`
 *   other than one request at a time in `latency` mode) and the engine's per-pass token
 *   budget (`maxNumTokens`); a `static` batch is given and prefilled whole. Lengths that
 *   vary (`lengthDistribution` other than `fixed`) are modelled in every mode: a `static`
 *   batch decodes until its longest output, fewer sequences each step. (`numRequests` in
 *   `static` and `latency` modes is the estimate's own assumption: every batch runs
 *   alike.)
 */
export const unmodelledWorkload = (w: InferenceWorkload): string | undefined => {
  if (w.speculative?.method === 'draft_model') return 'workload.speculative: a separate draft model is not priced (the workload names no draft model; mtp, eagle and ngram are)'
  if (w.mode === 'max_throughput') return undefined
  if (w.requestRate !== undefined) return `workload.request_rate: open-loop arrivals apply to max_throughput (continuous batching), not to ${w.mode} batches`
  if (w.concurrency !== undefined && !(w.mode === 'latency' && w.concurrency === 1)) {
    return `workload.concurrency: closed-loop arrivals apply to max_throughput (continuous batching); ${w.mode} mode takes a batch (latency mode: one request at a time)`
  }
  if (w.maxNumTokens !== undefined) return `workload.max_num_tokens: a per-pass token budget applies to max_throughput (continuous batching); a ${w.mode} batch is prefilled whole`
  return undefined
}

/**
 * Checks a workload built in code: lengths of at least one token (means need not be
 * whole), positive integer batch limits, a mode, a hot-expert share in (0, 1] (its
 * bounds that need the model are `prepareInference`'s), and nothing the estimate cannot honour
 * ({@link unmodelledWorkload}: code `unsupported`).
 */
export const inferenceWorkload = (w: InferenceWorkload): E.Either<EstimateError, InferenceWorkload> => {
  if (!(inferenceModes as ReadonlyArray<string>).includes(w.mode)) {
    return E.left(estimateError('invalid-workload', `workload.mode: expected one of ${inferenceModes.join(', ')}, got "${String(w.mode)}"`))
  }
  for (const [name, value] of [
    ['inputTokens', w.inputTokens],
    ['outputTokens', w.outputTokens],
  ] as const) {
    const checked = tokens(name, value)
    if (E.isLeft(checked)) return checked
  }
  for (const [name, value] of [
    ['batch', w.batch],
    ['maxBatch', w.maxBatch],
    ['maxNumTokens', w.maxNumTokens],
    ['numRequests', w.numRequests],
    ['concurrency', w.concurrency],
  ] as const) {
    const checked = positive(name, value)
    if (E.isLeft(checked)) return checked
  }
  if (w.requestRate !== undefined && !(Number.isFinite(w.requestRate) && w.requestRate > 0)) {
    return E.left(estimateError('invalid-workload', `workload.requestRate: expected requests per second above 0, got ${w.requestRate}`))
  }
  const spec = w.speculative
  if (spec !== undefined) {
    if (!(Number.isSafeInteger(spec.draftTokens) && spec.draftTokens >= 1 && spec.draftTokens <= MAX_DRAFT_TOKENS)) {
      return E.left(estimateError('invalid-workload', `workload.speculative.draftTokens: expected a whole number from 1 to ${MAX_DRAFT_TOKENS}, got ${spec.draftTokens}`))
    }
    if (!(spec.acceptanceLength >= 1 && spec.acceptanceLength <= spec.draftTokens + 1)) {
      return E.left(estimateError('invalid-workload', `workload.speculative.acceptanceLength: expected a mean from 1 to draftTokens + 1 = ${spec.draftTokens + 1} tokens per step, got ${spec.acceptanceLength}`))
    }
  }
  if (w.rangeRatio !== undefined && !(w.rangeRatio >= 0 && w.rangeRatio < 1)) {
    return E.left(estimateError('invalid-workload', `workload.rangeRatio: expected a fraction in [0, 1), got ${w.rangeRatio}`))
  }
  if (w.hotExpertShare !== undefined && !(w.hotExpertShare > 0 && w.hotExpertShare <= 1)) {
    return E.left(estimateError('invalid-workload', `workload.hotExpertShare: expected a share in (0, 1] of a layer's token-expert assignments, got ${w.hotExpertShare}`))
  }
  const unmodelled = unmodelledWorkload(w)
  return unmodelled === undefined ? E.right(w) : E.left(estimateError('unsupported', unmodelled))
}

/** Decodes a workload object of a file at `path` (default `workload`); the mode defaults to `static`. */
export const decodeInferenceWorkload = (u: unknown, path = 'workload'): E.Either<ReadonlyArray<DecodeIssue>, InferenceWorkload> =>
  pipe(
    decodeWith(InferenceWorkloadFile, path)(u),
    E.chain((f) => {
      const spec = f.speculative
      return spec !== undefined && spec.acceptance_length > spec.draft_tokens + 1
        ? E.left([{ path: `${path}.speculative.acceptance_length`, value: spec.acceptance_length, expected: `a mean of at most draft_tokens + 1 = ${spec.draft_tokens + 1} tokens per step (the drafted tokens and the one the target adds)` }])
        : spec !== undefined && spec.acceptance_length < 1
          ? E.left([{ path: `${path}.speculative.acceptance_length`, value: spec.acceptance_length, expected: 'a mean of at least 1 token per step (the one the target adds)' }])
          : E.right(f)
    }),
    E.map((f: InferenceWorkloadFile): InferenceWorkload => ({
    mode: f.mode ?? 'static',
    inputTokens: f.input_tokens,
    outputTokens: f.output_tokens,
    ...(f.batch === undefined ? {} : { batch: f.batch }),
    ...(f.max_batch === undefined ? {} : { maxBatch: f.max_batch }),
    ...(f.max_num_tokens === undefined ? {} : { maxNumTokens: f.max_num_tokens }),
    ...(f.num_requests === undefined ? {} : { numRequests: f.num_requests }),
    ...(f.concurrency === undefined ? {} : { concurrency: f.concurrency }),
    ...(f.request_rate === undefined ? {} : { requestRate: f.request_rate }),
    ...(f.length_distribution === undefined ? {} : { lengthDistribution: f.length_distribution }),
    ...(f.range_ratio === undefined ? {} : { rangeRatio: f.range_ratio }),
    ...(f.speculative === undefined
      ? {}
      : { speculative: { method: f.speculative.method, draftTokens: f.speculative.draft_tokens, acceptanceLength: f.speculative.acceptance_length } }),
    ...(f.hot_expert_share === undefined ? {} : { hotExpertShare: f.hot_expert_share }),
    })),
  )

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** Tokens a sequence holds in the KV cache at its end: input plus output, rounded up to a whole token (lengths may be means). */
export const contextTokens = (w: InferenceWorkload): number => Math.ceil(w.inputTokens + w.outputTokens)
