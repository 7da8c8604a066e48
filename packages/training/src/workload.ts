/**
 * What a training run asks of one optimizer step: `globalBatch` sequences of
 * `sequenceLength` tokens, split per data-parallel rank into micro-batches of
 * `microBatch` sequences (gradient accumulation over `globalBatch / (microBatch · dp)`
 * of them), with activation recomputation `none`, `selective` or `full` (Korthikanti
 * et al. 2022, sections 4 and 5) and ZeRO stage 0 to 3 (Rajbhandari et al. 2020,
 * section 5). Sequence parallelism and virtual pipeline stages belong to the strategy.
 *
 * Two checks: the workload alone ({@link trainingWorkload}: positive integers, a known
 * recomputation, a ZeRO stage in range) and the workload under a strategy
 * ({@link trainingFits}: the global batch splits into whole micro-batches over the
 * data-parallel ranks, the sequence over the context-parallel ranks, and interleaving
 * gets a whole number of micro-batches per pipeline rank). Errors name the field as a
 * file writes it (`workload.global_batch`).
 *
 * @example
 * import { trainingWorkload, trainingFits } from '@meshplan/training'
 * import { strategy } from '@meshplan/parallelism'
 * const w = { globalBatch: 64, microBatch: 1, sequenceLength: 2048, recompute: 'selective', zeroStage: 0 } as const
 * trainingWorkload(w)                                          // right(w)
 * trainingFits(w, strategy({ tp: 8, pp: 8, dp: 3 }))           // left: workload.global_batch: 64 is not a multiple of micro_batch × dp = 1 × 3 = 3
 * trainingWorkload({ ...w, zeroStage: 4 as 0 })                // left: workload.zero_stage: expected 0, 1, 2 or 3, got 4
 */
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import type { ZeroStage } from '@meshplan/memory'
import type { Strategy } from '@meshplan/parallelism'
import { closed, decodeWith, oneOf, physical, physicalCount, type DecodeIssue } from '@meshplan/units'
import { estimateError, gradientReduces, type EstimateError, type GradientReduce } from '@meshplan/cost-models'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export const recomputeModes = ['none', 'selective', 'full'] as const
export type RecomputeMode = (typeof recomputeModes)[number]

export const zeroStages: ReadonlyArray<ZeroStage> = [0, 1, 2, 3]

/**
 * Pipeline schedules: `1f1b` (Narayanan et al. 2021; interleaved when the strategy has
 * virtual stages), `zb-h1` (Qi et al. 2023, "Zero Bubble Pipeline Parallelism", ICLR
 * 2024: the backward split into its input and weight gradients, the weight gradients
 * filling the bubble, 1F1B's memory), `dualpipe` (DeepSeek-V3 report, section 3.2.1:
 * micro-batches fed from both ends, each forward chunk paired with a backward chunk
 * whose all-to-all it hides; two stages' parameters per rank, an even `pp` and an even
 * number of micro-batches).
 */
export const schedules = ['1f1b', 'zb-h1', 'dualpipe'] as const
export type Schedule = (typeof schedules)[number]

export interface TrainingWorkload {
  /** Sequences per optimizer step, over all data-parallel ranks. */
  readonly globalBatch: number
  /** Sequences per micro-batch on one data-parallel rank. */
  readonly microBatch: number
  /** Tokens per sequence. */
  readonly sequenceLength: number
  readonly recompute: RecomputeMode
  readonly zeroStage: ZeroStage
  /**
   * MoE only: `learned` (the router's own routing, the default) or `balanced` (forced
   * even routing). The estimate spreads tokens evenly over the experts either way.
   */
  readonly moeRouting?: MoeRouting
  /** The pipeline schedule (default `1f1b`). */
  readonly schedule?: Schedule
  /**
   * Tensor-parallel collectives overlapped with their GEMMs, chunk by chunk (Megatron-LM
   * `--tp-comm-overlap`, Transformer Engine's userbuffers; it needs sequence
   * parallelism). Absent: the cost models' `tpCommOverlap` assumption (off by default).
   */
  readonly tpCommOverlap?: boolean
  /**
   * The format gradients are accumulated and reduced in: `fp32` (Megatron-LM's bf16
   * default, torchtitan's) or `bf16` (`--grad-reduce-in-bf16`, FSDP's `PURE`). Absent:
   * the cost models' `gradientReduce` assumption (fp32).
   */
  readonly gradientReduce?: GradientReduce
  /**
   * What lives in host memory instead of on the GPU (the kernel's module comment says
   * how each moves): the weights, the stored activations, the optimizer state. Needs the
   * cluster's `host` (memory and link).
   */
  readonly offload?: ReadonlyArray<OffloadKind>
}

export const offloadKinds = ['weights', 'activations', 'optimizer'] as const
export type OffloadKind = (typeof offloadKinds)[number]

/** The inner loop's bits of an offload list (@meshplan/training's kernel: weights 1, activations 2, optimizer 4). */
export const offloadBits = (kinds: ReadonlyArray<OffloadKind> | undefined): number =>
  (kinds ?? []).reduce((bits, kind) => bits | (kind === 'weights' ? 1 : kind === 'activations' ? 2 : 4), 0)

/** The offload list of the inner loop's bits, in the order of {@link offloadKinds}. */
export const offloadKindsOf = (bits: number): ReadonlyArray<OffloadKind> => offloadKinds.filter((_, i) => (bits & (1 << i)) !== 0)

export const moeRoutings = ['learned', 'balanced'] as const
export type MoeRouting = (typeof moeRoutings)[number]

const zeroStage = new t.Type<ZeroStage, ZeroStage, unknown>(
  'one of 0, 1, 2, 3',
  (u): u is ZeroStage => u === 0 || u === 1 || u === 2 || u === 3,
  (u, c) => (u === 0 || u === 1 || u === 2 || u === 3 ? t.success(u) : t.failure(u, c)),
  (a) => a,
)

/** A training workload as a plan or case file writes it (the case format's fields). */
export const TrainingWorkloadFile = closed(
  { global_batch: physicalCount(physical.sequences), micro_batch: physicalCount(physical.sequences), seq_len: physicalCount(physical.tokens) },
  { recompute: oneOf(recomputeModes), zero_stage: zeroStage, kind: t.literal('training'), moe_routing: oneOf(moeRoutings), schedule: oneOf(schedules), tp_comm_overlap: t.boolean, gradient_reduce: oneOf(gradientReduces), offload: t.readonlyArray(oneOf(offloadKinds)) },
  'TrainingWorkload',
)
export type TrainingWorkloadFile = t.TypeOf<typeof TrainingWorkloadFile>

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const invalid = (message: string): E.Either<EstimateError, never> => E.left(estimateError('invalid-workload', message))

/** Checks a training workload built in code (the fields a file would name in snake_case). */
export const trainingWorkload = (w: TrainingWorkload): E.Either<EstimateError, TrainingWorkload> => {
  for (const [name, value, range] of [
    ['global_batch', w.globalBatch, physical.sequences],
    ['micro_batch', w.microBatch, physical.sequences],
    ['seq_len', w.sequenceLength, physical.tokens],
  ] as const) {
    if (!(Number.isSafeInteger(value) && value >= 1)) return invalid(`workload.${name}: expected a positive integer, got ${value}`)
    if (value > range.max) return invalid(`workload.${name}: expected at most ${range.max.toLocaleString('en-US')} (${range.why}), got ${value}`)
  }
  if (!(recomputeModes as ReadonlyArray<string>).includes(w.recompute)) {
    return invalid(`workload.recompute: expected one of ${recomputeModes.join(', ')}, got ${JSON.stringify(w.recompute)}`)
  }
  if (!zeroStage.is(w.zeroStage)) return invalid(`workload.zero_stage: expected 0, 1, 2 or 3, got ${JSON.stringify(w.zeroStage)}`)
  if (w.schedule !== undefined && !(schedules as ReadonlyArray<string>).includes(w.schedule)) {
    return invalid(`workload.schedule: expected one of ${schedules.join(', ')}, got ${JSON.stringify(w.schedule)}`)
  }
  if (w.offload !== undefined) {
    const unknown = w.offload.find((k) => !(offloadKinds as ReadonlyArray<string>).includes(k))
    if (unknown !== undefined) return invalid(`workload.offload: expected a list of ${offloadKinds.join(', ')}, got ${JSON.stringify(unknown)}`)
  }
  if (w.gradientReduce !== undefined && !gradientReduces.includes(w.gradientReduce)) {
    return invalid(`workload.gradient_reduce: expected one of ${gradientReduces.join(', ')}, got ${JSON.stringify(w.gradientReduce)}`)
  }
  return E.right(w)
}

/** Decodes a training workload of a file at `path` (default `workload`): recomputation defaults to `none`, ZeRO to 0. */
export const decodeTrainingWorkload = (u: unknown, path = 'workload'): E.Either<ReadonlyArray<DecodeIssue>, TrainingWorkload> =>
  E.map(
    (f: TrainingWorkloadFile): TrainingWorkload => ({
      globalBatch: f.global_batch,
      microBatch: f.micro_batch,
      sequenceLength: f.seq_len,
      recompute: f.recompute ?? 'none',
      zeroStage: f.zero_stage ?? 0,
      ...(f.moe_routing === undefined ? {} : { moeRouting: f.moe_routing }),
      ...(f.schedule === undefined || f.schedule === '1f1b' ? {} : { schedule: f.schedule }),
      ...(f.tp_comm_overlap === undefined ? {} : { tpCommOverlap: f.tp_comm_overlap }),
      ...(f.gradient_reduce === undefined ? {} : { gradientReduce: f.gradient_reduce }),
      ...(f.offload === undefined || f.offload.length === 0 ? {} : { offload: offloadKindsOf(offloadBits(f.offload)) }),
    }),
  )(decodeWith(TrainingWorkloadFile, path)(u))

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/**
 * Why `schedule` cannot run strategy `s` with `m` micro-batches, or undefined when it can:
 * ZB-H1 and DualPipe need a pipeline and are defined without virtual stages; DualPipe needs an even `pp` and
 * an even number of micro-batches (DeepSeek-V3 report, section 3.2.1).
 */
export const scheduleFits = (schedule: Schedule, s: Strategy, m: number): string | undefined => {
  if (schedule === '1f1b') return undefined
  if (s.pp < 2) return `workload.schedule: ${schedule} is a pipeline schedule; with pp = 1 there is no pipeline (1F1B is the same step)`
  if (s.virtualStages > 1) return `workload.schedule: ${schedule} runs without virtual stages (virtual_pipeline ${s.virtualStages})`
  if (schedule === 'dualpipe' && (s.pp < 2 || s.pp % 2 !== 0)) return `workload.schedule: dualpipe needs an even pipeline degree of 2 or more, got pp = ${s.pp}`
  if (schedule === 'dualpipe' && m % 2 !== 0) return `workload.schedule: dualpipe needs an even number of micro-batches, got ${m}`
  return undefined
}

/** Micro-batches each pipeline runs per step: `globalBatch / (microBatch · dp)`. */
export const microBatchesOf = (w: TrainingWorkload, s: Strategy): number => w.globalBatch / (w.microBatch * s.dp)

/**
 * Checks `w` under strategy `s`: the workload itself, then
 * - the global batch is a whole number of micro-batches on every data-parallel rank
 *   (Megatron-LM's `--global-batch-size` must be divisible by micro-batch × dp);
 * - the sequence splits evenly over the context-parallel ranks;
 * - with virtual stages, the micro-batches are a multiple of the pipeline degree
 *   (Megatron-LM's interleaved schedule, `schedules.py`, asserts it).
 */
export const trainingFits = (w: TrainingWorkload, s: Strategy): E.Either<EstimateError, TrainingWorkload> => {
  const checked = trainingWorkload(w)
  if (E.isLeft(checked)) return checked
  const per = w.microBatch * s.dp
  if (w.globalBatch % per !== 0) {
    return invalid(`workload.global_batch: ${w.globalBatch} is not a multiple of micro_batch × dp = ${w.microBatch} × ${s.dp} = ${per}`)
  }
  if (w.sequenceLength % s.cp !== 0) return invalid(`workload.seq_len: ${w.sequenceLength} tokens cannot be split evenly over cp = ${s.cp}`)
  const m = microBatchesOf(w, s)
  const fit = scheduleFits(w.schedule ?? '1f1b', s, m)
  if (fit !== undefined) return invalid(fit)
  if (w.tpCommOverlap === true && !s.sequenceParallel) {
    return invalid('workload.tp_comm_overlap: overlapping the tensor-parallel collectives with their GEMMs needs sequence parallelism (Megatron-LM refuses --tp-comm-overlap without --sequence-parallel)')
  }
  if (s.virtualStages > 1 && m % s.pp !== 0) {
    return invalid(
      `workload.global_batch: the interleaved schedule (virtual stages ${s.virtualStages}) needs micro-batches in multiples of pp = ${s.pp}; ${w.globalBatch} / (${w.microBatch} × ${s.dp}) = ${m}`,
    )
  }
  return E.right(w)
}
