/**
 * Measured cases (`meshplan-cases/1`, `shared/validation/FORMAT.md`) predicted with the
 * planner's models: each inference case becomes a deployment (its Hugging Face model,
 * a cluster built from its hardware numbers, its strategy, precision and workload)
 * and is estimated; each collective case is priced by @meshplan/collectives; the
 * measured metric is compared with the prediction, `(predicted − measured) / measured`.
 * Each training case becomes a training step (its model, cluster, strategy, precision,
 * global batch, micro-batch, recomputation and ZeRO stage) whose iteration time,
 * tokens/s or MFU is estimated.
 *
 * The file is decoded at the boundary: a file that is not a case file, or a case whose
 * fields are malformed, is a list of issues (JSON path, value, expectation), never a
 * partial report. A well-formed case the models cannot predict (a format the GPU has no
 * peak for, a batch that does not fit) gets `predicted: null` and the reason.
 *
 * @example
 * import { predictCases, defaultPlannerModels } from '@meshplan/planner'
 * const report = predictCases(defaultPlannerModels)(JSON.parse(text))
 * // right({ cases: [{ id, kind, metric, predicted, measured, error, note }], summary: { byKind, byMetric } })
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import * as t from 'io-ts'
import { clusterFromHardware, CollectiveCase, Hardware, predictCase, summarize } from '@meshplan/collectives'
import { decodePrecision, defaultPrecision, fromHuggingFace, type Architecture, type Precision } from '@meshplan/model'
import { decodeStrategy, type Strategy } from '@meshplan/parallelism'
import type { Cluster } from '@meshplan/topology'
import { decodeWith, rerootIssues, type DecodeIssue } from '@meshplan/units'
import { estimateInference, type InferenceEstimate } from './estimate'
import { estimateTraining, type TrainingEstimate } from './estimate-training'
import type { InferenceInput } from './fast'
import type { TrainingInput } from './training'
import { decodeTrainingWorkload } from './training-workload'
import type { PlannerModels } from './models'
import { decodeInferenceWorkload } from './workload'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export const caseKinds = ['inference', 'training', 'collective'] as const
export type CaseKind = (typeof caseKinds)[number]

/** One case predicted, or why not. */
export interface CaseResult {
  readonly id: string
  readonly kind: CaseKind
  readonly metric: string
  readonly measured: number
  /** In the metric's unit; null when the case cannot be predicted. */
  readonly predicted: number | null
  /** (predicted − measured) / measured; null with `predicted`. */
  readonly error: number | null
  /** What the prediction rests on (strategy, batch, algorithm), or the reason there is none. */
  readonly note: string
}

/** Absolute errors of a set of predicted cases. */
export interface ErrorStats {
  readonly cases: number
  readonly predicted: number
  readonly median: number | null
  readonly mean: number | null
  readonly worst: { readonly id: string; readonly error: number } | null
}

export interface CaseReport {
  readonly format: 'meshplan-validate/1'
  readonly cases: ReadonlyArray<CaseResult>
  readonly summary: {
    readonly byKind: Readonly<Partial<Record<CaseKind, ErrorStats>>>
    readonly byMetric: Readonly<Record<string, ErrorStats>>
  }
}

const Envelope = t.type({ format: t.literal('meshplan-cases/1'), cases: t.array(t.unknown) }, 'a case file { format: "meshplan-cases/1", cases: [...] }')

/** A measurement: a finite number above zero (an error is relative to it). */
const positiveNumber = new t.Type<number, number, unknown>(
  'a finite number above zero',
  (u): u is number => typeof u === 'number' && Number.isFinite(u) && u > 0,
  (u, c) => (typeof u === 'number' && Number.isFinite(u) && u > 0 ? t.success(u) : t.failure(u, c)),
  (a) => a,
)

const CaseHead = t.type(
  {
    id: t.string,
    workload: t.type({ kind: t.keyof({ inference: null, training: null, collective: null }) }),
    measured: t.type({ metric: t.string, value: positiveNumber }),
  },
  'a case with id, workload.kind and measured { metric, value }',
)

const InferenceCase = t.type({
  model: t.UnknownRecord,
  hardware: Hardware,
  parallelism: t.UnknownRecord,
})

/** Metrics an inference case can measure, and how to read each off an estimate. */
const inferenceMetrics: Readonly<Record<string, (e: InferenceEstimate, input: InferenceInput) => number>> = {
  output_tokens_per_s: (e) => e.tokensPerSecond.total,
  output_tokens_per_s_per_gpu: (e) => e.tokensPerSecond.perGpu,
  input_tokens_per_s_per_gpu: (e, i) => (e.batch * i.strategy.dp * i.workload.inputTokens) / e.ttft / e.gpus,
  ttft_ms: (e) => e.ttft * 1e3,
  tpot_ms: (e) => e.tpot * 1e3,
  request_latency_ms: (e) => e.requestLatency * 1e3,
}

/** Metrics a training case can measure, and how to read each off an estimate. */
const trainingMetrics: Readonly<Record<string, (e: TrainingEstimate) => number>> = {
  iteration_time_s: (e) => e.iterationSeconds,
  tokens_per_s: (e) => e.tokensPerSecond,
  tokens_per_s_per_gpu: (e) => e.tokensPerSecondPerGpu,
  mfu: (e) => e.mfu,
  model_tflops_per_gpu: (e) => e.modelFlopsPerGpu / 1e12,
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The model, cluster, strategy and precision of a case with its workload decoded by `workload`, or the issues of its fields. */
const caseInput = <W>(
  u: unknown,
  path: string,
  workload: (u: unknown, path: string) => E.Either<ReadonlyArray<DecodeIssue>, W>,
): E.Either<ReadonlyArray<DecodeIssue>, { readonly model: Architecture; readonly cluster: Cluster; readonly strategy: Strategy; readonly precision: Precision; readonly workload: W }> =>
  pipe(
    decodeWith(InferenceCase, path)(u),
    E.chain((c) => {
      const raw = u as { readonly precision?: unknown; readonly workload: unknown }
      const model = E.mapLeft(rerootIssues('config', `${path}.model`))(fromHuggingFace(c.model))
      const precision: E.Either<ReadonlyArray<DecodeIssue>, Precision> =
        raw.precision === undefined ? E.right(defaultPrecision) : decodePrecision(raw.precision, `${path}.precision`)
      const s = decodeStrategy(c.parallelism, `${path}.parallelism`)
      const w = workload(raw.workload, `${path}.workload`)
      if (E.isLeft(model) || E.isLeft(precision) || E.isLeft(s) || E.isLeft(w)) {
        return E.left([model, precision, s, w].flatMap((r) => (E.isLeft(r) ? r.left : [])))
      }
      return E.right({ model: model.right, cluster: clusterFromHardware(c.hardware), strategy: s.right, precision: precision.right, workload: w.right })
    }),
  )

/** The deployment an inference case describes, or the issues of its fields. */
export const inferenceInputOfCase = (u: unknown, path: string): E.Either<ReadonlyArray<DecodeIssue>, InferenceInput> => caseInput(u, path, decodeInferenceWorkload)

/** The training step a training case describes, or the issues of its fields. */
export const trainingInputOfCase = (u: unknown, path: string): E.Either<ReadonlyArray<DecodeIssue>, TrainingInput> => caseInput(u, path, decodeTrainingWorkload)

const predictTraining = (models: PlannerModels, u: unknown, path: string, head: t.TypeOf<typeof CaseHead>): E.Either<ReadonlyArray<DecodeIssue>, CaseResult> =>
  pipe(
    trainingInputOfCase(u, path),
    E.map((input) => {
      const base = { id: head.id, kind: 'training' as const, metric: head.measured.metric, measured: head.measured.value }
      const read = trainingMetrics[head.measured.metric]
      if (read === undefined) return { ...base, predicted: null, error: null, note: `metric ${head.measured.metric} is not a training metric` }
      const estimate = estimateTraining(models)(input)
      if (E.isLeft(estimate)) return { ...base, predicted: null, error: null, note: estimate.left.message }
      const e = estimate.right
      const predicted = read(e)
      const w = input.workload
      const fit = e.memory.fits ? '' : '; does not fit in memory'
      return {
        ...base,
        predicted,
        error: (predicted - base.measured) / base.measured,
        note: `${e.description}, ${e.microBatches} micro-batches of ${w.microBatch}, ${w.recompute} recomputation, MFU ${(e.mfu * 100).toFixed(1)}%${fit}`,
      }
    }),
  )

const predictInference = (models: PlannerModels, u: unknown, path: string, head: t.TypeOf<typeof CaseHead>): E.Either<ReadonlyArray<DecodeIssue>, CaseResult> =>
  pipe(
    inferenceInputOfCase(u, path),
    E.map((input) => {
      const base = { id: head.id, kind: 'inference' as const, metric: head.measured.metric, measured: head.measured.value }
      const read = inferenceMetrics[head.measured.metric]
      if (read === undefined) return { ...base, predicted: null, error: null, note: `metric ${head.measured.metric} is not an inference metric` }
      const estimate = estimateInference(models)(input)
      if (E.isLeft(estimate)) return { ...base, predicted: null, error: null, note: estimate.left.message }
      const e = estimate.right
      const predicted = read(e, input)
      const fit = e.memory.fits ? '' : `; batch ${e.batch} does not fit (at most ${e.memory.maxBatch})`
      return { ...base, predicted, error: (predicted - base.measured) / base.measured, note: `${e.description}, batch ${e.batch}, ${e.breakdown.decode.bottleneck} decode${fit}` }
    }),
  )

const predictOne =
  (models: PlannerModels) =>
  (u: unknown, index: number): E.Either<ReadonlyArray<DecodeIssue>, CaseResult> => {
    const path = `cases[${index}]`
    return pipe(
      decodeWith(CaseHead, path)(u),
      E.chain((head): E.Either<ReadonlyArray<DecodeIssue>, CaseResult> => {
        switch (head.workload.kind) {
          case 'inference':
            return predictInference(models, u, path, head)
          case 'collective':
            return pipe(
              decodeWith(CollectiveCase, path)(u),
              E.map((c) => ({ ...predictCase(models.collectives)(c), kind: 'collective' as const })),
            )
          case 'training':
            return predictTraining(models, u, path, head)
        }
      }),
    )
  }

/** Median, mean and worst absolute error of `results` (@meshplan/collectives' `summarize`, null where nothing was predicted). */
export const errorStats = (results: ReadonlyArray<CaseResult>): ErrorStats => {
  const s = summarize(results)
  const none = s.predicted === 0
  return { cases: results.length, predicted: s.predicted, median: none ? null : s.median, mean: none ? null : s.mean, worst: s.worst ?? null }
}

const groupBy = <K extends string>(results: ReadonlyArray<CaseResult>, key: (r: CaseResult) => K): Record<K, ErrorStats> => {
  const groups = new Map<K, CaseResult[]>()
  for (const r of results) groups.set(key(r), [...(groups.get(key(r)) ?? []), r])
  const out = {} as Record<K, ErrorStats>
  for (const [k, rs] of groups) out[k] = errorStats(rs)
  return out
}

/** Predicts every case of a case file, in file order, or lists every malformed field. */
export const predictCases =
  (models: PlannerModels) =>
  (file: unknown): E.Either<ReadonlyArray<DecodeIssue>, CaseReport> =>
    pipe(
      decodeWith(Envelope, 'file')(file),
      E.chain(({ cases }) => {
        const results = cases.map(predictOne(models))
        const issues = results.flatMap((r) => (E.isLeft(r) ? r.left : []))
        if (issues.length > 0) return E.left(issues)
        const ok = results.flatMap((r) => (E.isRight(r) ? [r.right] : []))
        return E.right({
          format: 'meshplan-validate/1' as const,
          cases: ok,
          summary: { byKind: groupBy(ok, (r) => r.kind), byMetric: groupBy(ok, (r) => r.metric) },
        })
      }),
    )
