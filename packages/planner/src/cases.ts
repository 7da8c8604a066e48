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
 * import { defaultCostModels } from '@meshplan/cost-models'
 * import { predictCases } from '@meshplan/planner'
 * const report = predictCases(defaultCostModels)(JSON.parse(text))
 * // right({ cases: [{ id, kind, metric, predicted, measured, error, note }], summary: { byKind, byMetric } })
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import * as t from 'io-ts'
import {
  caseContextOf,
  clusterFromHardware,
  collectiveMetrics,
  defaultHardwareLatency,
  CollectiveWorkload,
  Hardware,
  MoeExchangeWorkload,
  moeExchangeOps,
  predictCase,
  predictMoeExchangeCase,
  summarize,
} from '@meshplan/collectives'
import { attentionEfficiency, FLASH2_ATTENTION_CEILINGS, FLASH_V1_ATTENTION_CEILINGS, withAttentionKernel, withEfficiency, type AttentionKernel, type ComputeModel, type GemmGeneration } from '@meshplan/compute'
import { fractionReserve } from '@meshplan/memory'
import { decodePrecision, defaultPrecision, fromHuggingFace, type Architecture, type Precision } from '@meshplan/model'
import { describe, strategy, worldOf, type Strategy } from '@meshplan/parallelism'
import type { Cluster } from '@meshplan/topology'
import { closed, decodeWith, numberWhere, oneOf, positiveInt, rerootIssues, type DecodeIssue } from '@meshplan/units'
import { defaultTrainingAssumptions, type CostModels } from '@meshplan/cost-models'
import {
  decodeInferenceWorkload,
  engineModel,
  estimateDisaggregated,
  estimateInference,
  compareVersions,
  genericEngine,
  type DisaggregatedEstimate,
  type Engine,
  type EngineModel,
  type EngineOptions as EngineOptions_,
  type InferenceEstimate,
  type InferenceInput,
  type InferenceWorkload,
  type PoolInput,
} from '@meshplan/inference'
import { decodeTrainingWorkload, estimateTraining, type TrainingEstimate, type TrainingInput } from '@meshplan/training'
import { decodeParallelism, type ParallelismExtras } from './plan-file'

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
  /** Where the number comes from, for grouping: the engine's name and version (`vllm 0.11.0`), else the case's `source`. */
  readonly source?: string
  /** The GPU's tensor-core generation, read from its peaks as the compute model reads it (`ampere`, `hopper`, `blackwell`). */
  readonly generation?: string
  /** The weights' format (`bf16`, `fp8`, `fp4`, ...); `bf16` when the case gives no precision. */
  readonly format?: string
  /** The inference workload's mode (`static`, `max_throughput`, `latency`), else the kind (`training`, `collective`). */
  readonly mode?: string
  /** Whether the model routes tokens to experts (a Hugging Face config with more than one routed expert); absent for a collective. */
  readonly moe?: boolean
}

/** Absolute errors of a set of predicted cases. */
export interface ErrorStats {
  readonly cases: number
  readonly predicted: number
  readonly median: number | null
  /** The 90th percentile of the absolute errors (nearest rank). */
  readonly p90: number | null
  readonly mean: number | null
  readonly worst: { readonly id: string; readonly error: number } | null
}

export interface CaseReport {
  readonly format: 'meshplan-validate/1'
  readonly cases: ReadonlyArray<CaseResult>
  readonly summary: CaseSummary
}

/** Error statistics over all predicted cases and per group. */
export interface CaseSummary {
  readonly all: ErrorStats
  readonly byKind: Readonly<Partial<Record<CaseKind, ErrorStats>>>
  readonly byMetric: Readonly<Record<string, ErrorStats>>
  /** Per engine name and version (or source): see {@link CaseResult.source}. */
  readonly bySource: Readonly<Record<string, ErrorStats>>
  readonly byGeneration: Readonly<Record<string, ErrorStats>>
  readonly byFormat: Readonly<Record<string, ErrorStats>>
  readonly byMode: Readonly<Record<string, ErrorStats>>
}

const Envelope = closed({ format: t.literal('meshplan-cases/1'), cases: t.array(t.unknown) }, {}, 'a case file { format: "meshplan-cases/1", cases: [...] }')

/** What a case may set about the engine that produced it (`FORMAT.md`, `engine.options`). */
export const EngineOptions = closed(
  {},
  {
    attention_kernel: oneOf(['flash', 'unfused'] as const),
    tp_comm_overlap: t.boolean,
    pp_comm_overlap: t.boolean,
    two_batch_overlap: t.boolean,
    attention_dp_balance: t.boolean,
    cuda_graphs: t.boolean,
    custom_all_reduce: t.boolean,
    gpu_memory_utilization: numberWhere('a fraction in (0, 1]', (n) => n > 0 && n <= 1),
    attention_backend: t.string,
  },
  'engine options { attention_kernel?, tp_comm_overlap?, pp_comm_overlap?, two_batch_overlap?, attention_dp_balance?, cuda_graphs?, custom_all_reduce?, gpu_memory_utilization?, attention_backend? }',
)
export type EngineOptions = t.TypeOf<typeof EngineOptions>

/** The software that produced a measurement. */
export const EngineFile = closed({ name: t.string }, { version: t.string, options: EngineOptions }, 'an engine { name, version?, options? }')
export type EngineFile = t.TypeOf<typeof EngineFile>

/**
 * A measurement in its metric's unit (ms, s, tokens/s, GB/s, µs): from 1e-6 to 1e12. Wider
 * than any published figure of these metrics, and narrow enough that the error
 * `(predicted − measured) / measured` stays finite (a measurement of 5e-324 made it Infinity).
 */
const measuredValue = numberWhere('a number from 1e-6 to 1e12 in the metric\'s unit', (n) => n >= 1e-6 && n <= 1e12)

/** The fields of a case, every kind (unknown fields are errors with their path). */
const CaseHead = closed(
  {
    id: t.string,
    hardware: t.unknown,
    workload: t.type({ kind: oneOf(caseKinds) }),
    measured: closed({ metric: t.string, value: measuredValue }, {}, 'a measurement { metric, value }'),
  },
  { source: t.string, notes: t.string, model: t.unknown, precision: t.unknown, parallelism: t.unknown, engine: EngineFile, pools: t.unknown },
  'a case { id, source, hardware, workload, measured, model?, precision?, parallelism?, engine?, pools?, notes? }',
)
type CaseHead = t.TypeOf<typeof CaseHead>

/** One pool of a disaggregated deployment. */
const PoolFile = closed({ instances: positiveInt, parallelism: t.unknown }, { hardware: t.unknown }, 'a pool { instances, parallelism, hardware? }')
const PoolsFile = closed({ prefill: PoolFile, decode: PoolFile }, {}, 'pools { prefill, decode }')

/**
 * Metrics an inference case can measure, and how to read each off an estimate. In
 * `static` and `latency` modes every request of a batch sees the same figures, so a mean
 * over requests is the estimate's figure; in `max_throughput` the estimate's TTFT, TPOT
 * and request latency are already the means over the requests of the run its arrivals
 * describe (a finite run with its tail, a closed or an open loop), and its tokens/s is
 * the run's total output over its time.
 */
const inferenceMetrics: Readonly<Record<string, (e: InferenceEstimate, input: InferenceInput) => number>> = {
  output_tokens_per_s: (e) => e.tokensPerSecond.total,
  output_tokens_per_s_per_gpu: (e) => e.tokensPerSecond.perGpu,
  // prompts served per second times their length: a static batch's prefill over its TTFT, a serving run's requests/s
  input_tokens_per_s_per_gpu: (e, i) =>
    e.mode === 'max_throughput' ? (e.tokensPerSecond.total / i.workload.outputTokens) * i.workload.inputTokens / e.gpus : (e.batch * i.strategy.dp * i.workload.inputTokens) / e.ttft / e.gpus,
  ttft_ms: (e) => e.ttft * 1e3,
  tpot_ms: (e) => e.tpot * 1e3,
  request_latency_ms: (e) => e.requestLatency * 1e3,
  mean_request_latency_ms: (e) => e.requestLatency * 1e3,
  mean_ttft_ms: (e) => e.ttft * 1e3,
  mean_tpot_ms: (e) => e.tpot * 1e3,
}

/** Metrics a training case can measure, and how to read each off an estimate. */
const trainingMetrics: Readonly<Record<string, (e: TrainingEstimate) => number>> = {
  iteration_time_s: (e) => e.iterationSeconds,
  tokens_per_s: (e) => e.tokensPerSecond,
  tokens_per_s_per_gpu: (e) => e.tokensPerSecondPerGpu,
  // the sources report MFU and model TFLOP/s with attention over the whole sequence (PaLM, appendix B; Megatron-LM)
  mfu: (e) => e.mfuFullAttention,
  model_tflops_per_gpu: (e) => (e.modelFlopsPerGpu * e.mfuFullAttention) / e.mfu / 1e12,
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** Why a case's parallelism asks for what the algebra does not represent yet, if it does (uneven pipeline stages it does: `decodeStrategy`). */
const unmodelledParallelism = (x: ParallelismExtras, kind: CaseKind): string | undefined =>
  kind === 'training' && (x.redundant_experts ?? 0) > 0 ? 'parallelism.redundant_experts: redundant expert replicas in training are not modelled yet (serving estimates honour them)' : undefined

/**
 * Why the estimate cannot honour the engine options of a case as written, if it cannot
 * (the options the models assume are honoured; `attention_kernel`, `tp_comm_overlap` and
 * `pp_comm_overlap` are mapped onto the models by `caseDeployment`).
 */
const unmodelledEngine = (options: EngineOptions | undefined, kind: CaseKind): string | undefined => {
  if (options === undefined) return undefined
  if (kind === 'training' && options.two_batch_overlap === true)
    return 'engine.options.two_batch_overlap: MoE exchange overlapped with the other micro-batch is not modelled for training yet (serving estimates honour it)'
  return undefined
}

interface CaseDeployment<W> {
  readonly model: Architecture
  readonly cluster: Cluster
  readonly strategy: Strategy
  readonly precision: Precision
  readonly workload: W
  /** Models adjusted to what the case states (the engine's memory utilisation). */
  readonly models: (models: CostModels) => CostModels
  /** Redundant expert slots (`parallelism.redundant_experts`), 0 when none. */
  readonly redundantExperts: number
  /** What the case asks that the models cannot honour yet, if anything. */
  readonly unmodelled: string | undefined
  /** The engine that produced the measurement (name, version, the options that change what it does), if the case says. */
  readonly engineSpec: Engine | undefined
  /** Prefill and decode pools (`pools`), decoded, when the case is disaggregated. */
  readonly pools: CasePools | undefined
}

/** One pool of a disaggregated case: instances of one deployment on its hardware. */
interface CasePool {
  readonly instances: number
  readonly strategy: Strategy
  readonly redundantExperts: number
  readonly hardware: Hardware
}

/** A disaggregated case's pools, and the link a request's KV cache crosses between them. */
interface CasePools {
  readonly prefill: CasePool
  readonly decode: CasePool
  readonly link: { readonly bandwidth: number; readonly latency: number }
}

/**
 * The link between a case's pools (FORMAT.md: the KV cache moves over the scale-out
 * network unless both pools share a scale-up domain): the scale-up link when all the
 * case's GPUs fit one scale-up domain of one hardware, else the slower pool's scale-out
 * link, per GPU and direction.
 */
const poolLink = (hardware: Hardware, prefill: Hardware, decode: Hardware): CasePools['link'] => {
  const shared = prefill === decode && hardware.num_gpus <= hardware.gpus_per_node
  const side = (h: Hardware) => (shared ? h.scale_up : h.scale_out)
  const bandwidth = Math.min(side(prefill).bandwidth_gbps, side(decode).bandwidth_gbps) * 1e9
  const latency = Math.max(side(prefill).latency_us ?? 0, side(decode).latency_us ?? 0) * 1e-6 || (shared ? defaultHardwareLatency.scaleUp : defaultHardwareLatency.scaleOut)
  return { bandwidth, latency }
}

/** A case's `engine` as @meshplan/inference's engine records read it. */
const engineSpecOf = (engine: EngineFile | undefined): Engine | undefined => {
  if (engine === undefined) return undefined
  const o = engine.options
  const options: EngineOptions_ = {
    ...(o?.cuda_graphs === undefined ? {} : { cudaGraphs: o.cuda_graphs }),
    ...(o?.custom_all_reduce === undefined ? {} : { customAllReduce: o.custom_all_reduce }),
    ...(o?.attention_dp_balance === undefined ? {} : { attentionDpBalance: o.attention_dp_balance }),
    ...(o?.two_batch_overlap === undefined ? {} : { twoBatchOverlap: o.two_batch_overlap }),
    ...(o?.attention_backend === undefined ? {} : { attentionBackend: o.attention_backend }),
  }
  return { name: engine.name, ...(engine.version === undefined ? {} : { version: engine.version }), options }
}

/** The engine record a case runs on: the case's engine by name and version (@meshplan/inference `engineModel`), else the generic engine. */
const engineOfCase = (spec: Engine | undefined): EngineModel => (spec === undefined ? genericEngine : engineModel(spec))

/**
 * The model, cluster, strategy and precision of an inference or training case with its
 * workload decoded by `workload`, or the issues of its fields (every one, each at its
 * path).
 */
const caseDeployment = <W>(
  u: unknown,
  path: string,
  head: CaseHead,
  workload: (u: unknown, path: string) => E.Either<ReadonlyArray<DecodeIssue>, W>,
): E.Either<ReadonlyArray<DecodeIssue>, CaseDeployment<W>> => {
  const raw = u as { readonly precision?: unknown; readonly workload: unknown }
  const hardware = decodeWith(Hardware, `${path}.hardware`)(head.hardware)
  const model =
    head.model === undefined
      ? E.left([{ path: `${path}.model`, value: undefined, expected: 'a Hugging Face config.json object' }])
      : E.mapLeft(rerootIssues('config', `${path}.model`))(fromHuggingFace(head.model))
  const precision: E.Either<ReadonlyArray<DecodeIssue>, Precision> =
    raw.precision === undefined ? E.right(defaultPrecision) : decodePrecision(raw.precision, `${path}.precision`)
  const pools = head.pools === undefined ? E.right(undefined) : decodeWith(PoolsFile, `${path}.pools`)(head.pools)
  const parallelism =
    head.parallelism !== undefined
      ? decodeParallelism(head.parallelism, `${path}.parallelism`)
      : head.pools !== undefined
        ? E.right({ strategy: strategy({}), extras: {} })
        : E.left([{ path: `${path}.parallelism`, value: undefined, expected: 'a parallelism object (or pools)' }])
  const poolIssues: DecodeIssue[] = []
  const decodedPools: Partial<Record<'prefill' | 'decode', CasePool>> = {}
  if (E.isRight(pools) && pools.right !== undefined && E.isRight(hardware)) {
    for (const role of ['prefill', 'decode'] as const) {
      const pool = (pools.right as t.TypeOf<typeof PoolsFile>)[role]
      const p = decodeParallelism(pool.parallelism, `${path}.pools.${role}.parallelism`)
      const h = pool.hardware === undefined ? E.right(hardware.right) : decodeWith(Hardware, `${path}.pools.${role}.hardware`)(pool.hardware)
      poolIssues.push(...(E.isLeft(p) ? p.left : []), ...(E.isLeft(h) ? h.left : []))
      if (E.isRight(p) && E.isRight(h)) {
        decodedPools[role] = { instances: pool.instances, strategy: p.right.strategy, redundantExperts: (p.right.extras as ParallelismExtras).redundant_experts ?? 0, hardware: h.right }
      }
    }
    const total = Object.values(decodedPools).reduce((n, q) => n + q.instances * worldOf(q.strategy), 0)
    if (poolIssues.length === 0 && total !== hardware.right.num_gpus) {
      poolIssues.push({ path: `${path}.hardware.num_gpus`, value: hardware.right.num_gpus, expected: `the GPUs of both pools, instances times each instance's tp·pp·dp·cp: ${total}` })
    }
  }
  const w = workload(raw.workload, `${path}.workload`)
  const issues = [...[hardware, model, precision, pools, parallelism, w].flatMap((r) => (E.isLeft(r) ? r.left : [])), ...poolIssues]
  if (issues.length > 0 || E.isLeft(hardware) || E.isLeft(model) || E.isLeft(precision) || E.isLeft(parallelism) || E.isLeft(w)) return E.left(issues)
  const utilisation = head.engine?.options?.gpu_memory_utilization
  return E.right({
    model: model.right,
    cluster: clusterFromHardware(hardware.right),
    strategy: parallelism.right.strategy,
    precision: precision.right,
    workload: w.right,
    // the engine's memory utilisation; its attention kernel (@meshplan/compute); Transformer Engine's userbuffers and Megatron's
    // p2p overlap, each a collective hidden up to the compute beside it (@meshplan/cost-models' TrainingAssumptions)
    models: (m: CostModels) => {
      const options = head.engine?.options
      const training = m.training ?? defaultTrainingAssumptions
      return {
        ...m,
        ...(utilisation === undefined ? {} : { memory: { ...m.memory, reserve: fractionReserve(1 - utilisation) } }),
        compute: caseCompute(m.compute, head.engine, options?.attention_kernel),
        training: {
          ...training,
          // Megatron-LM reduces the data-parallel gradients after the backward unless told to overlap them:
          // `--overlap-grad-reduce` is off by default (megatron/training/arguments.py), and the 2021-22 runs predate it
          ...(head.engine?.name === 'megatron' ? { overlapGradReduce: false } : {}),
          // LLM Foundry's reference configs train with FSDP's `mixed_precision: PURE`, which reduces gradients in bf16
          // (llm-foundry scripts/train/yamls); Megatron-LM and torchtitan reduce them in fp32 (the assumption's default)
          ...(head.engine?.name === 'llm-foundry' ? { gradientReduce: 'bf16' as const } : {}),
          // NeMo's FP8 training configs synchronise gradients in bf16 (`optim.grad_sync_dtype: bf16` in NeMo-Framework-Launcher
          // 24.07's conf/training/gpt3/175b_fp8.yaml and mlperf.yaml); its 16-bit configs leave Apex's fp32 default
          ...(head.engine?.name === 'nemo' && precision.right.activations === 'fp8' ? { gradientReduce: 'bf16' as const } : {}),
          // torchtitan's selective checkpointing is its op-level policy in its reference configs (train_configs/*.toml:
          // selective_ac_option = "op"): every other matmul re-run, not only the attention core (@meshplan/memory's SelectivePolicy)
          ...(head.engine?.name === 'torchtitan' ? { selectivePolicy: 'every-other-matmul' as const } : {}),
          ...(options?.tp_comm_overlap === undefined ? {} : { tpCommOverlap: options.tp_comm_overlap ? 1 : 0 }),
          ...(options?.pp_comm_overlap === undefined ? {} : { ppCommOverlap: options.pp_comm_overlap ? 1 : 0 }),
        },
      }
    },
    unmodelled:
      (head.pools !== undefined && head.workload.kind !== 'inference' ? 'pools: prefill and decode pools are a serving deployment' : undefined) ??
      unmodelledParallelism(parallelism.right.extras, head.workload.kind) ??
      unmodelledEngine(head.engine?.options, head.workload.kind),
    engineSpec: engineSpecOf(head.engine),
    redundantExperts: (parallelism.right.extras as ParallelismExtras).redundant_experts ?? 0,
    pools:
      decodedPools.prefill === undefined || decodedPools.decode === undefined
        ? undefined
        : { prefill: decodedPools.prefill, decode: decodedPools.decode, link: poolLink(hardware.right, decodedPools.prefill.hardware, decodedPools.decode.hardware) },
  })
}

const headOf = (u: unknown, path: string): E.Either<ReadonlyArray<DecodeIssue>, CaseHead> => decodeWith(CaseHead, path)(u)

/** A case decoded into what the estimate takes, and what it asks beyond that. */
export interface DecodedCase<I> {
  readonly input: I
  /** The cost models adjusted to what the case states (e.g. the engine's `gpu_memory_utilization`). */
  readonly models: (models: CostModels) => CostModels
  /** What the case asks that the models cannot honour yet, in a sentence naming the field, if anything. */
  readonly unmodelled: string | undefined
}

const decodedCase =
  <W, I>(workload: (u: unknown, path: string) => E.Either<ReadonlyArray<DecodeIssue>, W>, input: (d: CaseDeployment<W>) => I) =>
  (u: unknown, path: string): E.Either<ReadonlyArray<DecodeIssue>, DecodedCase<I>> =>
    pipe(
      headOf(u, path),
      E.chain((head) => caseDeployment(u, path, head, workload)),
      E.map((d) => ({ input: input(d), models: d.models, unmodelled: d.unmodelled })),
    )

/**
 * The fused attention of the training frameworks whose kernel is not the generation's own,
 * by engine name; the others run the default (`ATTENTION_PEAK_EFFICIENCY`).
 * - `llm-foundry`: the runs of its published benchmark tables used its Triton
 *   FlashAttention (`attn_impl` defaulted to `triton` in
 *   `scripts/train/benchmarking/submit_benchmarks.py` when the tables were written,
 *   llm-foundry commits 3e5b960 and 5e85bd6), a first-generation fused kernel:
 *   `FLASH_V1_ATTENTION_CEILINGS`.
 * - `torchtitan`: PyTorch's `scaled_dot_product_attention`, whose flash backend is
 *   FlashAttention-2 (PyTorch 2.2 release notes): `FLASH2_ATTENTION_CEILINGS`, which keeps
 *   0.35 of an H100's peak (FlashAttention-3 paper, abstract).
 */
const frameworkAttention: Readonly<Record<string, Readonly<Record<GemmGeneration, number>>>> = {
  'llm-foundry': FLASH_V1_ATTENTION_CEILINGS,
  torchtitan: FLASH2_ATTENTION_CEILINGS,
}

/**
 * The TensorRT engines `trtllm-bench build` makes compute their prompts' attention in fp8
 * for an fp8 checkpoint: every version of its build command sets
 * `plugin_config.use_fp8_context_fmha` when the quantization is FP8
 * (`tensorrt_llm/bench/build/build.py`, from the first one, which still imported the
 * `hlapi`). That covers TensorRT-LLM's releases with trtllm-bench before 1.0 (from 0.11);
 * from 1.0 the benchmark runs the PyTorch backend, whose choice is not read here, and the
 * 0.9 cases ran hand-built engines whose notes give fp16 context FMHA.
 */
const fp8ContextAttention = (engine: Pick<Engine, 'name' | 'version'> | undefined): boolean =>
  engine !== undefined && engine.name === 'trtllm' && engine.version !== undefined && compareVersions(engine.version, '0.11') >= 0 && compareVersions(engine.version, '1.0') < 0

/**
 * The compute model a case's engine runs: its `attention_kernel` option, the attention
 * kernel of the training frameworks that do not run the generation's own
 * ({@link frameworkAttention}), and TensorRT-LLM's FP8 context attention
 * ({@link fp8ContextAttention}).
 */
const caseCompute = (compute: ComputeModel, engine: Pick<Engine, 'name' | 'version'> | undefined, kernel: AttentionKernel | undefined): ComputeModel => {
  const withKernel = kernel === undefined ? compute : withAttentionKernel(kernel)(compute)
  if (kernel === 'unfused') return withKernel
  const ceilings = engine !== undefined && hasOwn(frameworkAttention, engine.name) ? frameworkAttention[engine.name] : undefined
  const narrow = fp8ContextAttention(engine)
  return ceilings === undefined && !narrow ? withKernel : withEfficiency({ attention: attentionEfficiency({ ...(ceilings === undefined ? {} : { ceiling: ceilings }), narrow }) })(withKernel)
}

/** The deployment an inference case describes (with what it asks beyond the models), or the issues of its fields. */
export const inferenceCaseOf = decodedCase(decodeInferenceWorkload, ({ model, cluster, strategy: s, precision, workload, engineSpec }): InferenceInput => ({ model, cluster, strategy: s, precision, workload, engine: engineOfCase(engineSpec) }))

/** The training step a training case describes (with what it asks beyond the models), or the issues of its fields. */
export const trainingCaseOf = decodedCase(decodeTrainingWorkload, ({ model, cluster, strategy: s, precision, workload }): TrainingInput => ({ model, cluster, strategy: s, precision, workload }))

/** The deployment an inference case describes, or the issues of its fields. */
export const inferenceInputOfCase = (u: unknown, path: string): E.Either<ReadonlyArray<DecodeIssue>, InferenceInput> => E.map((c: DecodedCase<InferenceInput>) => c.input)(inferenceCaseOf(u, path))

/** The training step a training case describes, or the issues of its fields. */
export const trainingInputOfCase = (u: unknown, path: string): E.Either<ReadonlyArray<DecodeIssue>, TrainingInput> => E.map((c: DecodedCase<TrainingInput>) => c.input)(trainingCaseOf(u, path))

const baseOf = (head: CaseHead, kind: CaseKind) => ({ id: head.id, kind, metric: head.measured.metric, measured: head.measured.value })

const noPrediction = (head: CaseHead, kind: CaseKind, note: string): CaseResult => ({ ...baseOf(head, kind), predicted: null, error: null, note })

const predicted = (head: CaseHead, kind: CaseKind, value: number, note: string): CaseResult =>
  Number.isFinite(value) && value > 0
    ? { ...baseOf(head, kind), predicted: value, error: (value - head.measured.value) / head.measured.value, note }
    : noPrediction(head, kind, `the models gave ${value} (${note})`)

const predictTraining = (models: CostModels, u: unknown, path: string, head: CaseHead): E.Either<ReadonlyArray<DecodeIssue>, CaseResult> =>
  pipe(
    caseDeployment(u, path, head, decodeTrainingWorkload),
    E.map((d) => {
      const read = hasOwn(trainingMetrics, head.measured.metric) ? trainingMetrics[head.measured.metric] : undefined
      if (read === undefined) return noPrediction(head, 'training', `metric ${head.measured.metric} is not a training metric (${Object.keys(trainingMetrics).join(', ')})`)
      if (d.unmodelled !== undefined) return noPrediction(head, 'training', d.unmodelled)
      const estimate = estimateTraining(d.models(models))(d)
      if (E.isLeft(estimate)) return noPrediction(head, 'training', estimate.left.message)
      const e = estimate.right
      const w = d.workload
      const fit = e.memory.fits ? '' : '; does not fit in memory'
      return predicted(head, 'training', read(e), `${e.description}, ${e.microBatches} micro-batches of ${w.microBatch}, ${w.recompute} recomputation, MFU ${(e.mfu * 100).toFixed(1)}%${fit}`)
    }),
  )

const predictInference = (models: CostModels, u: unknown, path: string, head: CaseHead): E.Either<ReadonlyArray<DecodeIssue>, CaseResult> =>
  pipe(
    caseDeployment(u, path, head, decodeInferenceWorkload),
    E.map((d) => {
      const read = hasOwn(inferenceMetrics, head.measured.metric) ? inferenceMetrics[head.measured.metric] : undefined
      if (read === undefined) return noPrediction(head, 'inference', `metric ${head.measured.metric} is not an inference metric (${Object.keys(inferenceMetrics).join(', ')})`)
      if (d.unmodelled !== undefined) return noPrediction(head, 'inference', d.unmodelled)
      if (d.pools !== undefined) return predictPools(head, d, d.pools, models)
      const input: InferenceInput = {
        model: d.model,
        cluster: d.cluster,
        strategy: d.strategy,
        precision: d.precision,
        workload: d.workload,
        engine: engineOfCase(d.engineSpec),
        ...(d.redundantExperts > 0 ? { redundantExperts: d.redundantExperts } : {}),
      }
      const estimate = estimateInference(d.models(models))(input)
      if (E.isLeft(estimate)) return noPrediction(head, 'inference', estimate.left.message)
      const e = estimate.right
      const fit = e.memory.fits ? '' : `; batch ${e.batch} does not fit (at most ${e.memory.maxBatch})`
      return predicted(head, 'inference', read(e, input), `${e.description}, ${e.engine}, batch ${e.batch}, ${e.breakdown.decode.bottleneck} decode${fit}`)
    }),
  )

/** Metrics a disaggregated case can measure, read off its estimate (per GPU: over both pools' GPUs, `hardware.num_gpus`). */
const poolMetrics: Readonly<Record<string, (e: DisaggregatedEstimate) => number>> = {
  output_tokens_per_s: (e) => e.tokensPerSecond.total,
  output_tokens_per_s_per_gpu: (e) => e.tokensPerSecond.perGpu,
  input_tokens_per_s_per_gpu: (e) => e.inputTokensPerSecond / e.gpus,
  ttft_ms: (e) => e.ttft * 1e3,
  tpot_ms: (e) => e.tpot * 1e3,
  mean_ttft_ms: (e) => e.ttft * 1e3,
  mean_tpot_ms: (e) => e.tpot * 1e3,
  mean_request_latency_ms: (e) => e.requestLatency * 1e3,
}

/** A disaggregated case: each pool one instance's deployment on its hardware (@meshplan/inference `estimateDisaggregated`). */
const predictPools = (head: CaseHead, d: CaseDeployment<InferenceWorkload>, pools: CasePools, models: CostModels): CaseResult => {
  const read = hasOwn(poolMetrics, head.measured.metric) ? poolMetrics[head.measured.metric] : undefined
  if (read === undefined) return noPrediction(head, 'inference', `metric ${head.measured.metric} is not one a disaggregated deployment reports (${Object.keys(poolMetrics).join(', ')})`)
  const pool = (q: CasePool): PoolInput => ({
    model: d.model,
    cluster: clusterFromHardware({ ...q.hardware, num_gpus: worldOf(q.strategy) }),
    strategy: q.strategy,
    precision: d.precision,
    workload: d.workload,
    engine: engineOfCase(d.engineSpec),
    instances: q.instances,
    ...(q.redundantExperts > 0 ? { redundantExperts: q.redundantExperts } : {}),
  })
  const estimate = estimateDisaggregated(d.models(models))({ prefill: pool(pools.prefill), decode: pool(pools.decode), link: pools.link })
  if (E.isLeft(estimate)) return noPrediction(head, 'inference', estimate.left.message)
  const e = estimate.right
  const what = (q: CasePool) => `${q.instances} x ${describe(q.strategy)}`
  return predicted(
    head,
    'inference',
    read(e),
    `prefill ${what(pools.prefill)}, decode ${what(pools.decode)} at batch ${Math.round(e.decode.batch)}, KV transfer ${(e.transfer.seconds * 1e3).toPrecision(3)} ms, limited by ${e.limitedBy}`,
  )
}

const collectiveFields = (path: string, head: CaseHead): ReadonlyArray<DecodeIssue> =>
  (['model', 'precision', 'parallelism', 'pools'] as const).flatMap((k) =>
    head[k] === undefined ? [] : [{ path: `${path}.${k}`, value: head[k], expected: `no field "${k}" in a collective case` }],
  )

const predictCollective = (models: CostModels, u: unknown, path: string, head: CaseHead): E.Either<ReadonlyArray<DecodeIssue>, CaseResult> => {
  const op = (u as { readonly workload: { readonly op?: unknown } }).workload.op
  const exchange = (moeExchangeOps as ReadonlyArray<unknown>).includes(op)
  const hardware = decodeWith(Hardware, `${path}.hardware`)(head.hardware)
  const workload = exchange
    ? decodeWith(MoeExchangeWorkload, `${path}.workload`)((u as { readonly workload: unknown }).workload)
    : decodeWith(CollectiveWorkload, `${path}.workload`)((u as { readonly workload: unknown }).workload)
  const ranks: ReadonlyArray<DecodeIssue> =
    E.isRight(hardware) && hardware.right.num_gpus < 2
      ? [{ path: `${path}.hardware.num_gpus`, value: hardware.right.num_gpus, expected: 'at least 2 GPUs in a collective case (on one, nothing moves)' }]
      : []
  const issues = [...collectiveFields(path, head), ...[hardware, workload].flatMap((r) => (E.isLeft(r) ? r.left : [])), ...ranks]
  if (issues.length > 0 || E.isLeft(hardware) || E.isLeft(workload)) return E.left(issues)
  const metric = head.measured.metric
  if (!isCollectiveMetric(metric)) return E.right(noPrediction(head, 'collective', `metric ${metric} is not a collective metric (busbw_gbps, time_us)`))
  // the case's words (notes, source) name the fabric where the format has no field for it (@meshplan/collectives' caseContextOf)
  const context = caseContextOf(u)
  const measured = { metric, value: head.measured.value }
  if (exchange) {
    const c = { id: head.id, hardware: hardware.right, workload: workload.right as MoeExchangeWorkload, measured }
    return E.right({ ...predictMoeExchangeCase(models.collectives)(c, context), kind: 'collective' as const })
  }
  const c = { id: head.id, hardware: hardware.right, workload: workload.right as CollectiveWorkload, measured }
  return E.right({ ...predictCase(models.collectives)(c, context), kind: 'collective' as const })
}

const isCollectiveMetric = (m: string): m is (typeof collectiveMetrics)[number] => (collectiveMetrics as ReadonlyArray<string>).includes(m)

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k)

const predictOne =
  (models: CostModels) =>
  (u: unknown, index: number): E.Either<ReadonlyArray<DecodeIssue>, CaseResult> => {
    const path = `cases[${index}]`
    return pipe(
      headOf(u, path),
      E.chain((head): E.Either<ReadonlyArray<DecodeIssue>, CaseResult> => {
        switch (head.workload.kind) {
          case 'inference':
            return predictInference(models, u, path, head)
          case 'collective':
            return predictCollective(models, u, path, head)
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
  const absolute = results.flatMap((r) => (r.error === null ? [] : [Math.abs(r.error)])).sort((a, b) => a - b)
  // nearest rank: the smallest error at or above which 10% of the cases lie
  const p90 = none ? null : (absolute[Math.max(0, Math.ceil(0.9 * absolute.length) - 1)] ?? null)
  return { cases: results.length, predicted: s.predicted, median: none ? null : s.median, p90, mean: none ? null : s.mean, worst: s.worst ?? null }
}

/** The statistics of `results`: all together, per kind, metric, source, hardware generation, format and mode. */
export const summarizeResults = (results: ReadonlyArray<CaseResult>): CaseSummary => ({
  all: errorStats(results),
  byKind: groupBy(results, (r) => r.kind),
  byMetric: groupBy(results, (r) => r.metric),
  bySource: groupBy(results, (r) => r.source ?? 'unknown'),
  byGeneration: groupBy(results, (r) => r.generation ?? 'unknown'),
  byFormat: groupBy(results, (r) => r.format ?? 'unknown'),
  byMode: groupBy(results, (r) => r.mode ?? r.kind),
})

const stringAt = (o: unknown, ...keys: ReadonlyArray<string>): string | undefined => {
  let v: unknown = o
  for (const k of keys) {
    if (typeof v !== 'object' || v === null || !hasOwn(v, k)) return undefined
    v = (v as Record<string, unknown>)[k]
  }
  return typeof v === 'string' ? v : undefined
}

/** The source a raw case is grouped under: its engine's name and version (`vllm 0.11.0`), else its `source`, else `unknown`. */
export const caseSource = (u: unknown): string => {
  const engine = stringAt(u, 'engine', 'name')
  const version = stringAt(u, 'engine', 'version')
  return engine === undefined ? (stringAt(u, 'source') ?? 'unknown') : version === undefined ? engine : `${engine} ${version}`
}

/**
 * The groups a raw case falls in (see {@link CaseResult}): its source, the generation its
 * `hardware.gpu.tflops` implies (fp4 → blackwell, fp8 → hopper, else ampere, as
 * @meshplan/compute's `gemmGeneration` reads a device), its weights' format and its mode.
 */
/** Whether a case's model routes tokens to experts: one of the Hugging Face keys for the routed experts above 1. */
const isMoeCase = (u: unknown): boolean => {
  const m = typeof u === 'object' && u !== null ? (u as { readonly model?: unknown }).model : undefined
  if (typeof m !== 'object' || m === null) return false
  const r = m as Readonly<Record<string, unknown>>
  return ['num_local_experts', 'n_routed_experts', 'num_experts', 'moe_num_experts'].some((k) => typeof r[k] === 'number' && (r[k] as number) > 1)
}

/** The groups a raw case falls in (source, hardware generation, format, mode, MoE), read as `predictCases` reads them. */
export const caseGroups = (u: unknown): Pick<CaseResult, 'source' | 'generation' | 'format' | 'mode' | 'moe'> => {
  const c = (typeof u === 'object' && u !== null ? u : {}) as { readonly hardware?: { readonly gpu?: { readonly tflops?: unknown } } }
  const tflops = c.hardware?.gpu?.tflops
  const has = (k: string): boolean => typeof tflops === 'object' && tflops !== null && hasOwn(tflops, k)
  const kind = stringAt(u, 'workload', 'kind')
  return {
    source: caseSource(u),
    generation: tflops === undefined ? 'unknown' : has('fp4') ? 'blackwell' : has('fp8') ? 'hopper' : 'ampere',
    format: kind === 'collective' ? 'collective' : (stringAt(u, 'precision', 'weights') ?? 'bf16'),
    mode: kind === 'inference' ? (stringAt(u, 'workload', 'mode') ?? 'static') : (kind ?? 'unknown'),
    ...(kind === 'collective' ? {} : { moe: isMoeCase(u) }),
  }
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
  (models: CostModels) =>
  (file: unknown): E.Either<ReadonlyArray<DecodeIssue>, CaseReport> =>
    pipe(
      decodeWith(Envelope, 'file')(file),
      E.chain(({ cases }) => {
        const results = cases.map(predictOne(models))
        const seen = new Set<string>()
        const duplicates = cases.flatMap((c, i): ReadonlyArray<DecodeIssue> => {
          const id = typeof c === 'object' && c !== null ? (c as { readonly id?: unknown }).id : undefined
          if (typeof id !== 'string') return []
          if (!seen.has(id)) {
            seen.add(id)
            return []
          }
          return [{ path: `cases[${i}].id`, value: id, expected: 'an id unique within the file' }]
        })
        const issues = [...results.flatMap((r) => (E.isLeft(r) ? r.left : [])), ...duplicates]
        if (issues.length > 0) return E.left(issues)
        const ok = results.flatMap((r, i) => (E.isRight(r) ? [{ ...r.right, ...caseGroups(cases[i]) }] : []))
        return E.right({ format: 'meshplan-validate/1' as const, cases: ok, summary: summarizeResults(ok) })
      }),
    )
