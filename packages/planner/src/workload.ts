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
 * import { inferenceWorkload } from '@meshplan/planner'
 * inferenceWorkload({ mode: 'static', inputTokens: 1024, outputTokens: 256, batch: 32 }) // right(...)
 * inferenceWorkload({ mode: 'static', inputTokens: 1024, outputTokens: 0, batch: 32 })   // left: outputTokens
 */
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import { closed, decodeWith, oneOf, positiveInt, type DecodeIssue } from '@meshplan/units'
import { plannerError, type PlannerError } from './error'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export const inferenceModes = ['static', 'max_throughput', 'latency'] as const
export type InferenceMode = (typeof inferenceModes)[number]

export interface InferenceWorkload {
  readonly mode: InferenceMode
  readonly inputTokens: number
  readonly outputTokens: number
  /** Sequences in flight per data-parallel rank (`static`); 1 in `latency`; the most that fit in `max_throughput`. */
  readonly batch?: number
  /** The engine's limit on sequences in flight per data-parallel rank (`max_throughput` and the search); default {@link defaultMaxBatch}. */
  readonly maxBatch?: number
}

/**
 * Default limit on sequences in flight per data-parallel rank: 1024. Serving engines
 * cap their batch (vLLM's `max_num_seqs`, TensorRT-LLM's `max_batch_size`) because
 * scheduling and sampling costs grow with it; the largest batch among the measured
 * cases of `shared/validation/calibration.json` is 1024. A planning choice, set it per
 * workload.
 */
export const defaultMaxBatch = 1024

/** A workload as a plan or case file writes it (snake_case, as the case format). */
export const InferenceWorkloadFile = closed(
  { input_tokens: positiveInt, output_tokens: positiveInt },
  { mode: oneOf(inferenceModes), batch: positiveInt, max_batch: positiveInt, kind: t.literal('inference') },
  'InferenceWorkload',
)
export type InferenceWorkloadFile = t.TypeOf<typeof InferenceWorkloadFile>

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const positive = (name: string, n: number | undefined): E.Either<PlannerError, void> =>
  n === undefined || (Number.isSafeInteger(n) && n >= 1)
    ? E.right(undefined)
    : E.left(plannerError('invalid-workload', `workload.${name}: expected a positive integer, got ${n}`))

/** Checks a workload built in code: positive integer lengths and batch, a batch in `static` mode. */
export const inferenceWorkload = (w: InferenceWorkload): E.Either<PlannerError, InferenceWorkload> => {
  if (!(inferenceModes as ReadonlyArray<string>).includes(w.mode)) {
    return E.left(plannerError('invalid-workload', `workload.mode: expected one of ${inferenceModes.join(', ')}, got "${String(w.mode)}"`))
  }
  for (const [name, value] of [
    ['inputTokens', w.inputTokens],
    ['outputTokens', w.outputTokens],
    ['batch', w.batch],
    ['maxBatch', w.maxBatch],
  ] as const) {
    const checked = positive(name, value)
    if (E.isLeft(checked)) return checked
  }
  return E.right(w)
}

/** Decodes a workload object of a file at `path` (default `workload`); the mode defaults to `static`. */
export const decodeInferenceWorkload = (u: unknown, path = 'workload'): E.Either<ReadonlyArray<DecodeIssue>, InferenceWorkload> =>
  E.map((f: InferenceWorkloadFile): InferenceWorkload => ({
    mode: f.mode ?? 'static',
    inputTokens: f.input_tokens,
    outputTokens: f.output_tokens,
    ...(f.batch === undefined ? {} : { batch: f.batch }),
    ...(f.max_batch === undefined ? {} : { maxBatch: f.max_batch }),
  }))(decodeWith(InferenceWorkloadFile, path)(u))

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** Tokens a sequence holds in the KV cache at its end: input plus output. */
export const contextTokens = (w: InferenceWorkload): number => w.inputTokens + w.outputTokens
