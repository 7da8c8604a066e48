/**
 * What a serving engine does on its own, as one record per engine and version range
 * that a user can replace: how many sequences it keeps in flight and how many tokens
 * one forward pass may carry (its batch sizing), whether a prompt's chunks ride in the
 * same forward pass as the running sequences' decode tokens, what the host costs per
 * forward pass, where CUDA graphs stop, and whether the tensor-parallel all-reduce runs
 * on the engine's own one-shot kernel inside a node. The estimate reads an
 * {@link EngineModel}; {@link engineModel} picks the record for an engine's name and
 * version from {@link engineModels} (or a registry of your own) and applies the
 * options a run sets.
 *
 * Every default below names the file, function and version of the engine it was read
 * from; a record whose version range the sources do not cover falls back to the
 * documented {@link genericEngine}.
 *
 * @example
 * import { engineModel, estimateInference } from '@meshplan/inference'
 * const vllm = engineModel({ name: 'vllm', version: '0.11.0' })       // max_num_seqs 1024, 8192 tokens per step on an H100
 * const eager = engineModel({ name: 'vllm', version: '0.11.0', options: { cudaGraphs: false } })
 * const mine = { ...vllm, host: { ...vllm.host, perSequenceSeconds: 5e-6 } } // my own measurement
 * estimateInference(defaultCostModels)({ ...input, engine: mine })
 */

import { parameterCounts, type Architecture, type Precision } from '@meshplan/model'
import { defaultMaxBatch } from './workload'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The options of a run that change what an engine does (the case format's `engine.options`). */
export interface EngineOptions {
  /** CUDA graphs on (true) or off (false, eager launches). */
  readonly cudaGraphs?: boolean
  /** The engine's one-shot all-reduce inside a node (true) or NCCL always (false). */
  readonly customAllReduce?: boolean
  /** The scheduler balances prompt chunks across attention-DP ranks (TensorRT-LLM's ADP balance). */
  readonly attentionDpBalance?: boolean
  /** MoE token exchange overlapped with the other micro-batch's compute (SGLang's two-batch overlap). */
  readonly twoBatchOverlap?: boolean
  /** The attention kernel as the engine names it; recorded, it does not change the estimate (see the README). */
  readonly attentionBackend?: string
}

/** The software that serves: its name, version and the options of the run. */
export interface Engine {
  readonly name: string
  readonly version?: string
  readonly options?: EngineOptions
}

/** What an engine's defaults depend on: the device and the deployment. */
export interface EngineContext {
  /** Device memory, bytes. */
  readonly deviceMemory: number
  /** Device name as the cluster gives it (lower case compared). */
  readonly deviceName: string
  readonly tp: number
  readonly pp: number
  /** GPUs of one replica (tp · pp · cp; attention-DP ranks count one each). */
  readonly replicaGpus: number
  /** Full-length sequences whose KV cache fits on one data-parallel rank (@meshplan/memory). */
  readonly kvSequences: number
  /** KV-cache tokens that fit on one data-parallel rank. */
  readonly kvTokens: number
  readonly inputTokens: number
  readonly outputTokens: number
  /** The model's longest context (`max_position_embeddings`), which engines take as `max_model_len`. */
  readonly maxModelLength: number
  /** The CPU the engine's host process runs on ({@link hostCpuOf}). */
  readonly hostCpu: HostCpu
  /** The model served and its formats, for an engine that sizes itself from them (trtllm-bench, {@link trtllmBenchRequests}). */
  readonly model: Architecture
  readonly precision: Precision
  /** GPUs of one engine instance: its tensor-parallel group with the attention-DP ranks that share its experts counted in (TensorRT-LLM's `tensor_parallel_size`), times `pp`. */
  readonly instanceGpus: number
}

/** What an engine knows of the deployment before it sizes its KV cache: its context without the cache's size. */
export type EngineSetup = Omit<EngineContext, 'kvSequences' | 'kvTokens'>

/**
 * What an engine measures before it sizes its KV cache, where it measures it (vLLM's
 * start-up profile): a forward pass of `tokens` tokens, then its sampler over
 * `sequences` sequences' logits, each entry of the vocabulary holding
 * `samplerBytesPerLogit` bytes at the sampler's peak. The cache gets what the weights,
 * the larger of the two peaks (@meshplan/memory's workspace at that many tokens, and the
 * sampler's) and the reserve leave. A workload's `maxNumTokens` and `maxBatch` replace
 * `tokens` and `sequences`, as the engine's flags would.
 */
export interface StartupProfile {
  readonly tokens: (c: EngineSetup) => number
  readonly sequences: (c: EngineSetup) => number
  readonly samplerBytesPerLogit: number
}

/**
 * The CPU beside the GPUs: `grace` for the Grace superchips (GH200, GB200, GB300, whose
 * GPU shares a module with an Arm Neoverse V2 CPU), `x86` otherwise.
 */
export type HostCpu = 'x86' | 'grace'

/**
 * How an engine admits sequences into the KV cache: `reserve` holds a request's full
 * length from its start (TensorRT-LLM's `GUARANTEED_NO_EVICT`), `on-demand` allocates
 * blocks as tokens are produced and preempts when memory runs out (vLLM, SGLang), so the
 * cache holds sequences at their current, not their final, length.
 */
export type Admission = 'reserve' | 'on-demand'

/** The host's work per forward pass (scheduling, input preparation, sampling, detokenisation). */
export interface HostCost {
  /** Seconds per forward pass whatever its size. */
  readonly stepSeconds: number
  /** Seconds per sequence of the pass. */
  readonly perSequenceSeconds: number
  /** The engine prepares pass n+1 while pass n runs (a pass takes the longer of the two), else the host's time adds to every pass. */
  readonly overlapped: boolean
  /** Seconds the host spends launching one transformer layer's kernels without CUDA graphs: such a pass takes at least its layers' launches. */
  readonly eagerLayerSeconds: number
}

/** The engine's one-shot/two-shot all-reduce inside a node. */
export interface CustomAllReduce {
  /** Messages below this go one-shot for a group of `ranks` ranks, bytes. */
  readonly oneShotBelow: (ranks: number) => number
  /** Messages at or above this go to NCCL, bytes. */
  readonly maxBytes: number
  /** Fixed seconds of one pass of the kernel (a barrier across the peers and the launch). */
  readonly latencySeconds: number
  /** Groups it runs on (sizes); larger or multi-node groups use NCCL. */
  readonly ranks: ReadonlyArray<number>
}

/**
 * How the engine moves tokens to their experts and back under expert parallelism:
 * `deepep` (DeepEP's dispatch and combine, @meshplan/collectives `moeExchange`), or
 * `allgather-reducescatter` (every attention-DP rank's tokens gathered to every rank, the
 * experts' outputs reduce-scattered back; with the attention tensor-parallel instead,
 * the tokens are on every rank already and the MoE output's reduction is the TP
 * all-reduce).
 */
export type ExpertExchange = 'deepep' | 'allgather-reducescatter'

/** One engine (and version range) as the estimate sees it. */
export interface EngineModel {
  readonly name: string
  /** The versions the record describes: at least `from`, below `below` (either open). */
  readonly versions: { readonly from?: string; readonly below?: string }
  /** Where its defaults were read. */
  readonly source: string
  /** Most sequences in flight per data-parallel rank (`max_num_seqs`, `max_batch_size`). */
  readonly maxBatch: (c: EngineContext) => number
  /** Most tokens in one forward pass (`max_num_batched_tokens`, `chunked_prefill_size`, `max_num_tokens`). */
  readonly maxNumTokens: (c: EngineContext) => number
  /** Prompt chunks share the forward pass of the running sequences' decode tokens (one pass, weights read once); else a prefill is a pass of its own. */
  readonly fusedChunkedPrefill: boolean
  readonly admission: Admission
  readonly cudaGraphs: boolean
  /** Largest decode batch (sequences) replayed from a CUDA graph; larger passes launch eagerly. */
  readonly cudaGraphMaxBatch: (c: EngineContext) => number
  readonly host: HostCost
  /**
   * The host's cost on a given host CPU, given the record's `host` (the x86 host's), where
   * it differs; absent, `host` on every CPU. The built-in records change only their own
   * published `host`: one you replace applies on every CPU.
   */
  readonly hostOn?: (cpu: HostCpu, host: HostCost) => HostCost
  /** Its own all-reduce inside a node, or undefined for NCCL always. */
  readonly customAllReduce: CustomAllReduce | undefined
  /** The scheduler balances prompt chunks across attention-DP ranks. */
  readonly attentionDpBalance: boolean
  /** MoE exchange hidden behind the other micro-batch's compute. */
  readonly twoBatchOverlap: boolean
  /** The expert exchange under expert parallelism. */
  readonly expertExchange: ExpertExchange
  /** What it measures before sizing its KV cache; absent, the memory model's workspace for a prefill chunk alone. */
  readonly startupProfile?: StartupProfile | undefined
}

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

const GiB = 2 ** 30
const KiB = 2 ** 10
const MiB = 2 ** 20

/**
 * vLLM's custom all-reduce (`csrc/custom_all_reduce.cuh`, `CustomAllreduce::allreduce`,
 * the `REDUCE_CASE` macro, as in v0.11): one-shot (every rank reads every peer's buffer
 * and reduces) for 2 ranks, below 512 KiB for up to 4 ranks, below 256 KiB for up to 8;
 * two-shot (reduce-scatter, then all-gather, through peer memory) above; groups of 2, 4,
 * 6 or 8 ranks in one node only (`CustomAllreduce._SUPPORTED_WORLD_SIZES`), messages below
 * `max_size = 8 MiB` (`vllm/distributed/device_communicators/custom_all_reduce.py`),
 * NCCL beyond. Its fixed latency: 5.9 µs, the one-shot all-reduce of 512 bytes over 8
 * H100s measured in SGLang PR #2904 ("optimize custom allreduce kernel", table "custom
 * allreduce", tp 8), against 10.1 µs for vLLM's kernel without CUDA graphs in the same
 * table; the latency is the graph-captured kernel's, as both engines run it.
 */
export const vllmCustomAllReduce: CustomAllReduce = {
  oneShotBelow: (ranks) => (ranks <= 2 ? 8 * MiB : ranks <= 4 ? 512 * KiB : 256 * KiB),
  maxBytes: 8 * MiB,
  latencySeconds: 5.9e-6,
  ranks: [2, 4, 6, 8],
}

/**
 * The host's time to launch one transformer layer's kernels from PyTorch eager mode:
 * 262.5 µs. A decode step of Llama 3.1 8B (32 layers) on an H100 SXM5 takes 8.4 ms
 * eager and 5.1 ms replayed from a CUDA graph (cloudai.pt, "CUDA Graphs + torch.compile:
 * 1.65x LLM Decode Speedup"): at batch 1 the eager step is bound by the host's
 * launches, 8.4 ms / 32 layers. A pass the engine does not replay from a graph takes
 * at least its layers times this.
 */
export const EAGER_LAYER_SECONDS = 8.4e-3 / 32

/**
 * vLLM V1's host time per forward pass whatever its size: 0.43 ms, the scheduler's
 * `schedule()` (0.2 ms), the model runner's `_update_states` (0.18 ms) and input
 * preparation (0.05 ms) of a decode step, as vLLM PR #42131 ("Decode fast path for
 * scheduler and model runner") measures them before its fast path.
 */
export const VLLM_V1_STEP_SECONDS = 0.43e-3

/**
 * vLLM V1's host time per running sequence per pass: 1.12 µs, `Scheduler.update_from_output`
 * at 0.287 ms for a batch of 256 (vLLM PR #46112, "Reduce update_from_output CPU
 * overhead for decode batches", micro-benchmark before the change). The scheduler's other
 * per-request loops are not measured there and not counted.
 */
export const VLLM_V1_SEQUENCE_SECONDS = 0.287e-3 / 256

/**
 * Bytes per logit (one sequence, one vocabulary entry) vLLM's sampler holds at its peak
 * in the start-up profile: 14. `GPUModelRunner.profile_run` (v0.11) samples
 * `min(max_num_seqs, max_num_batched_tokens)` sequences with top-k and top-p set
 * (`_dummy_sampler_run`), through FlashInfer's kernel, vLLM's default on CUDA until PR
 * #26859 ("Disable FlashInfer sampler by default", after v0.11.0): the model's 16-bit
 * logits (2 bytes), their fp32 copy (`Sampler.forward`, 4), and in
 * `flashinfer.sampling.top_k_top_p_sampling_from_logits` the top-k-masked logits (4) and
 * their softmax (4). Logits are gathered to the whole vocabulary on every
 * tensor-parallel rank. A check: a 1.2B-parameter model with a 128,256-entry vocabulary
 * at 256 sequences reports a 0.45 GiB "torch peak memory increase" (vLLM v0.10 log in a
 * public GPU-memory note), against 0.43 GiB for 14 bytes a logit.
 */
export const VLLM_SAMPLER_BYTES_PER_LOGIT = 2 + 4 + 4 + 4

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const isA100 = (c: Pick<EngineContext, 'deviceName'>): boolean => c.deviceName.toLowerCase().includes('a100')

/** vLLM V1's larger defaults apply: a device of at least 70 GiB that is not an A100. */
const vllmLargeDefaults = (c: Pick<EngineContext, 'deviceMemory' | 'deviceName'>): boolean => c.deviceMemory >= 70 * GiB && !isA100(c)
const vllmV1Seqs = (c: Pick<EngineContext, 'deviceMemory' | 'deviceName'>): number => (vllmLargeDefaults(c) ? 1024 : 256)
const vllmV1Tokens = (c: Pick<EngineContext, 'deviceMemory' | 'deviceName'>): number => (vllmLargeDefaults(c) ? 8192 : 2048)

/**
 * vLLM's V1 engine (the default from v0.8.0): `vllm/engine/arg_utils.py`,
 * `EngineArgs._set_default_args` (v0.11, the OpenAI server's usage context, which
 * `vllm serve` and every serving benchmark use): on a device of at least 70 GiB that is
 * not an A100, `max_num_seqs` 1024 and `max_num_batched_tokens` 8192; otherwise 256 and
 * 2048. Chunked prefill is always on in V1 (same function): prompt chunks and decode
 * tokens share one forward pass under the token budget. KV blocks are allocated as
 * tokens arrive (PagedAttention; Kwon et al. 2023, section 4.2). CUDA graphs replay
 * decode batches up to `min(2 · max_num_seqs, 512)` (`vllm/config/vllm.py`,
 * `VllmConfig._set_cudagraph_sizes`, `max_cudagraph_capture_size`), capped by the token
 * budget. The scheduler runs between passes (async scheduling is opt-in in v0.11), so
 * the host's time adds to every pass. The custom all-reduce is on by default
 * (`disable_custom_all_reduce = False`). Before sizing the KV cache the worker profiles a
 * forward pass of `max_num_batched_tokens` tokens and a sampler run over `max_num_seqs`
 * sequences (`GPUModelRunner.profile_run`, `_dummy_sampler_run`) and keeps the peak out
 * of the cache ({@link VLLM_SAMPLER_BYTES_PER_LOGIT}).
 */
export const vllmV1: EngineModel = {
  name: 'vllm',
  versions: { from: '0.8.0' },
  source: 'vllm/engine/arg_utils.py EngineArgs._set_default_args; vllm/config/vllm.py VllmConfig._set_cudagraph_sizes (v0.11)',
  maxBatch: vllmV1Seqs,
  maxNumTokens: vllmV1Tokens,
  fusedChunkedPrefill: true,
  admission: 'on-demand',
  cudaGraphs: true,
  cudaGraphMaxBatch: (c) => Math.min(2 * vllmV1.maxBatch(c), 512, vllmV1.maxNumTokens(c)),
  host: { stepSeconds: VLLM_V1_STEP_SECONDS, perSequenceSeconds: VLLM_V1_SEQUENCE_SECONDS, overlapped: false, eagerLayerSeconds: EAGER_LAYER_SECONDS },
  customAllReduce: vllmCustomAllReduce,
  attentionDpBalance: false,
  twoBatchOverlap: false,
  expertExchange: 'allgather-reducescatter',
  startupProfile: { tokens: vllmV1Tokens, sequences: vllmV1Seqs, samplerBytesPerLogit: VLLM_SAMPLER_BYTES_PER_LOGIT },
}

/**
 * vLLM's V0 engine (before v0.8.0): `vllm/engine/arg_utils.py` (v0.7): `max_num_seqs`
 * 256 (`EngineArgs.__post_init__`); chunked prefill off unless the model's context exceeds
 * 32K (`create_engine_config`), so a prompt is a forward pass of its own, scheduled before
 * the running sequences' decode (the V0 scheduler's prefill-first policy), up to
 * `max(max_model_len, 2048)` tokens (the model's context length). The host's work per decode step left the GPU idle
 * for about 4 ms (vLLM RFC #6854, "Multi-Step Scheduling": "each highlighted redbox is
 * about 4ms of GPU bubble" per decode step of the baseline, 5-13 ms in its text); we
 * take 4 ms per pass. Its start-up profile (`ModelRunner.profile_run`, PyTorch's own
 * sampler, not FlashInfer's) is not modelled: the memory model's workspace for a prefill
 * chunk stands for it. The rest as in {@link vllmV1}.
 */
export const vllmV0: EngineModel = {
  ...vllmV1,
  versions: { below: '0.8.0' },
  source: 'vllm/engine/arg_utils.py EngineArgs.__post_init__, create_engine_config (v0.7)',
  maxBatch: () => 256,
  maxNumTokens: (c) => Math.max(2048, c.maxModelLength),
  fusedChunkedPrefill: false,
  cudaGraphMaxBatch: () => 256,
  host: { stepSeconds: 4e-3, perSequenceSeconds: 0, overlapped: false, eagerLayerSeconds: EAGER_LAYER_SECONDS },
  startupProfile: undefined,
}

/**
 * SGLang (v0.4 and later, read at v0.5.x): `python/sglang/srt/server_args.py`,
 * `ServerArgs._handle_gpu_memory_settings`: `chunked_prefill_size` 8192 below 160 GiB of
 * device memory from 60 GiB (H100, H200), 16384 above (B200), 4096 from 35 to 60 GiB,
 * 2048 below; `cuda_graph_max_bs` 256 for tp < 4 and 512 otherwise on those 60-160 GiB
 * parts, 512 above, 32 or 160 from 35 to 60 GiB, 24 or 80 from 20 to 35 GiB, 8 below. `max_running_requests` defaults to
 * `min(max_total_num_tokens // 2, req_to_token_pool.size)`
 * (`python/sglang/srt/managers/tp_worker.py`), the pool sized from 2048 to 4096 requests
 * (`model_runner.py`); we take its lower end, 2048. A prefill ("extend") batch is a pass
 * of its own: mixing prompt chunks into decode batches is opt-in
 * (`enable_mixed_chunk = False`). The overlap scheduler (v0.4's "zero-overhead batch
 * scheduler", LMSYS blog 2024-12-04) prepares the next batch while the GPU runs the
 * current one. The custom all-reduce is on by default (`disable_custom_all_reduce =
 * False`). Without `--moe-a2a-backend deepep` (its default is `none`), attention-DP ranks
 * gather their tokens before the MoE and scatter the outputs after it.
 */
export const sglang: EngineModel = {
  name: 'sglang',
  versions: { from: '0.4.0' },
  source: 'python/sglang/srt/server_args.py ServerArgs._handle_gpu_memory_settings; python/sglang/srt/managers/tp_worker.py (v0.5.x)',
  maxBatch: (c) => Math.min(2048, Math.floor(c.kvTokens / 2)),
  maxNumTokens: (c) => (c.deviceMemory < 35 * GiB ? 2048 : c.deviceMemory < 60 * GiB ? 4096 : c.deviceMemory < 160 * GiB ? 8192 : 16384),
  fusedChunkedPrefill: false,
  admission: 'on-demand',
  cudaGraphs: true,
  cudaGraphMaxBatch: (c) =>
    c.deviceMemory >= 160 * GiB ? 512 : c.deviceMemory >= 60 * GiB ? (c.tp < 4 ? 256 : 512) : c.deviceMemory >= 35 * GiB ? (c.tp < 4 ? 32 : 160) : c.deviceMemory >= 20 * GiB ? (c.tp < 4 ? 24 : 80) : 8,
  host: { stepSeconds: 0, perSequenceSeconds: 0, overlapped: true, eagerLayerSeconds: EAGER_LAYER_SECONDS },
  customAllReduce: vllmCustomAllReduce,
  attentionDpBalance: false,
  twoBatchOverlap: false,
  expertExchange: 'allgather-reducescatter',
}

/**
 * The share of the memory left after the weights that trtllm-bench's sizing gives the KV
 * cache: 0.95 when `trtllm-bench build` sizes a TensorRT engine (`build.py`,
 * `get_benchmark_engine_settings`'s default), 0.90 when `trtllm-bench throughput` sizes
 * the PyTorch backend (its `--kv_cache_free_gpu_mem_fraction` default, passed to
 * `get_settings`).
 */
export const TRTLLM_BUILD_KV_FRACTION = 0.95
export const TRTLLM_BENCH_KV_FRACTION = 0.9

/**
 * What trtllm-bench sets from the requests it reckons fit ({@link trtllmBenchRequests},
 * its cache given `fraction` of the memory left): `max_batch_size`, which CUDA graphs
 * cover too (its `cuda_graph_config` takes it as the largest batch), and `max_num_tokens`.
 */
const trtllmBenchSizing = (fraction: number): Pick<EngineModel, 'maxBatch' | 'maxNumTokens' | 'cudaGraphMaxBatch'> => {
  const maxBatch = (c: EngineContext): number => trtllmBatch(trtllmBenchRequests(c, fraction), c.pp)
  return { maxBatch, maxNumTokens: (c) => trtllmTokens(trtllmBenchRequests(c, fraction), c.pp, c.inputTokens, c.outputTokens), cudaGraphMaxBatch: maxBatch }
}

/**
 * trtllm-bench's engine sizing (`tensorrt_llm/bench/build/tuning.py`,
 * `calc_engine_setting` and `finetune_setting`): the requests whose KV cache fits,
 * `min(kv_requests, 4096) / pp`, rounded up to a multiple of 32 (at least 64) below 256,
 * of 128 below 1024, of 256 above; the token budget `min(batch · (1 + input/output),
 * 32768)`, rounded up to 256 (at least 2048) below 4096, to 512 below 8192, to 1024
 * above, `kv_requests` being the tool's own reckoning of what fits
 * ({@link trtllmBenchRequests}), not the runtime's; the runtime never holds more
 * sequences than its cache fits, so the batch is the fewer of the two. With attention
 * data parallelism each rank's scheduler takes the whole instance's `max_batch_size`.
 * The batch manager puts context (prompt) chunks and generation tokens in one
 * forward pass (in-flight batching) and reserves each request's full length
 * (`GUARANTEED_NO_EVICT`, the capacity scheduler's default). The C++ runtime and the
 * PyTorch backend's overlap scheduler (TensorRT-LLM docs, "Overlap Scheduler": on by
 * default) keep the host off the critical path. Its all-reduce picks a one-shot or
 * two-shot kernel inside a node for small messages (AllReduceStrategy AUTO), by a rule
 * we have not read from its source: the record leaves NCCL in place, and a run that
 * states `customAllReduce` gets vLLM's kernel model ({@link vllmCustomAllReduce}). Attention-DP ranks
 * gather their tokens for the MoE and reduce-scatter the outputs (the all-to-all path is
 * for multi-node NVLink systems); an assumption, not read from its source.
 */
export const trtllm: EngineModel = {
  name: 'trtllm',
  versions: { below: '1.0' },
  source: 'tensorrt_llm/bench/build/tuning.py calc_engine_setting, finetune_setting; build.py get_benchmark_engine_settings',
  ...trtllmBenchSizing(TRTLLM_BUILD_KV_FRACTION),
  fusedChunkedPrefill: true,
  admission: 'reserve',
  cudaGraphs: true,
  host: { stepSeconds: 0, perSequenceSeconds: 0, overlapped: true, eagerLayerSeconds: EAGER_LAYER_SECONDS },
  customAllReduce: undefined,
  attentionDpBalance: false,
  twoBatchOverlap: false,
  expertExchange: 'allgather-reducescatter',
}

/**
 * TensorRT-LLM's host time per running sequence per pass on an x86 host, PyTorch
 * backend: 13.8 µs, the sampler's host work at a batch of 1000 on an x86 server with an
 * L40S (TensorRT-LLM PR #11983, "reduce logprobs=0 overhead in TorchSampler": 13.8 ms
 * before the change). The scheduler's and the KV-cache manager's own per-request work is
 * not measured there and not counted.
 */
export const TRTLLM_TORCH_SEQUENCE_SECONDS = 13.8e-3 / 1000

/**
 * The same on a Grace host: 34.4 µs, the per-iteration bubble of 8.8 ms that
 * `TorchSampler.update_requests` leaves over 256 requests on a GB200 (TensorRT-LLM PR
 * #16564, "Add batched-pybind fast-path in TorchSampler.update_requests"): the loop is
 * single-threaded Python, and a Neoverse V2 core runs it slower than the x86 hosts.
 */
export const TRTLLM_TORCH_SEQUENCE_SECONDS_GRACE = 8.8e-3 / 256

const trtllmTorchHost: HostCost = { stepSeconds: 0, perSequenceSeconds: TRTLLM_TORCH_SEQUENCE_SECONDS, overlapped: true, eagerLayerSeconds: EAGER_LAYER_SECONDS }
const trtllmTorchHostGrace: HostCost = { ...trtllmTorchHost, perSequenceSeconds: TRTLLM_TORCH_SEQUENCE_SECONDS_GRACE }

/**
 * TensorRT-LLM from 1.0, where the PyTorch backend is the default (`trtllm-bench`'s
 * `--backend pytorch`): the same sizing and scheduling as {@link trtllm}, but the
 * executor's loop is Python (`tensorrt_llm/_torch/pyexecutor/py_executor.py`): every
 * pass, the host samples and updates each running request one by one. The overlap
 * scheduler prepares pass n+1 while pass n runs, so that work costs only where it is
 * longer than the GPU's pass: at large batches of a small model.
 */
export const trtllmPytorch: EngineModel = {
  ...trtllm,
  versions: { from: '1.0' },
  source: 'tensorrt_llm/bench/build/tuning.py calc_engine_setting, finetune_setting; tensorrt_llm/bench/benchmark/utils/general.py get_settings; tensorrt_llm/_torch/pyexecutor/py_executor.py (PyTorch backend, 1.0)',
  ...trtllmBenchSizing(TRTLLM_BENCH_KV_FRACTION),
  host: trtllmTorchHost,
  hostOn: (cpu, host) => (cpu === 'grace' && host === trtllmTorchHost ? trtllmTorchHostGrace : host),
}

/**
 * An engine the registry does not know: continuous batching with chunked prefill fused
 * into the decode step (Sarathi-Serve, Agrawal et al. 2024, as every current engine
 * does), at most 1024 sequences per data-parallel rank (the largest batch among the
 * measured cases; {@link defaultMaxBatch}) and 8192 tokens per pass (vLLM's budget on
 * an H100), each request's full length reserved, CUDA graphs on every decode batch, no
 * host time on the critical path, NCCL for every collective but the expert exchange,
 * which goes as DeepEP's kernels. An idealised engine: it gives the hardware's bound
 * under those limits.
 */
export const genericEngine: EngineModel = {
  name: 'generic',
  versions: {},
  source: 'documented generic defaults (packages/inference/src/engines.ts)',
  maxBatch: () => defaultMaxBatch,
  maxNumTokens: () => 8192,
  fusedChunkedPrefill: true,
  admission: 'reserve',
  cudaGraphs: true,
  cudaGraphMaxBatch: () => Number.POSITIVE_INFINITY,
  host: { stepSeconds: 0, perSequenceSeconds: 0, overlapped: true, eagerLayerSeconds: EAGER_LAYER_SECONDS },
  customAllReduce: undefined,
  attentionDpBalance: false,
  twoBatchOverlap: false,
  expertExchange: 'deepep',
}

/** The built-in records, most specific first. */
export const engineModels: ReadonlyArray<EngineModel> = [vllmV1, vllmV0, sglang, trtllmPytorch, trtllm]

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The host CPU beside a device of this name: Grace for the superchips (GH200, GB200, GB300), x86 otherwise. */
export const hostCpuOf = (deviceName: string): HostCpu => (/\bg[hb]\d{3}/i.test(deviceName) || /grace/i.test(deviceName) ? 'grace' : 'x86')

/** The record's host cost on `cpu` ({@link EngineModel.hostOn}). */
export const hostCostOn = (model: EngineModel, cpu: HostCpu): HostCost => (model.hostOn === undefined ? model.host : model.hostOn(cpu, model.host))

/**
 * The requests trtllm-bench believes fit (`tuning.py`, `calc_engine_setting`), from its
 * own arithmetic rather than the runtime's: the instance's `n` GPUs' memory less the
 * checkpoint (all parameters at 1 byte for fp8, 0.5 for fp4, else 2: `BYTES_PER_ELEM`),
 * times `fraction`, over `2 · layers · max(n/pp, kv heads) · head size · (1 byte for an
 * fp8 KV cache, else 2)` per token and `input + output` tokens per request. The model's
 * figures are its `config.json`'s (`bench/build/dataclasses.py`, `ModelConfig`): a
 * latent-attention config (DeepSeek) gives `num_key_value_heads` = the query heads and
 * no `head_dim`, so the head size is `hidden / heads`: the tool reckons such a cache at
 * `2 · 128 · 56` values per token and layer where the runtime stores 576, and sizes the
 * batch far below what fits. The runtime then holds the fewer of that batch and what its
 * cache really fits.
 */
export const trtllmBenchRequests = (c: EngineContext, fraction: number): number => {
  const w = c.precision.weights
  const bytesPerParameter = w === 'fp8' ? 1 : w === 'fp4' ? 0.5 : 2
  const kvBytes = c.precision.kvCache === 'fp8' ? 1 : 2
  const a = c.model.attention
  const heads = a.kind === 'mla' ? a.heads : a.kvHeads
  const headSize = a.kind === 'mla' ? Math.floor(c.model.hidden / a.heads) : a.headDim
  const tp = Math.max(1, Math.floor(c.instanceGpus / Math.max(1, c.pp)))
  const perToken = 2 * c.model.layers * Math.max(tp, heads) * headSize * kvBytes
  const available = c.instanceGpus * c.deviceMemory - parameterCounts(c.model).total * bytesPerParameter
  const requests = (available * fraction) / (perToken * (c.inputTokens + c.outputTokens))
  return Number.isFinite(requests) && requests > 0 ? requests : 0
}

/** trtllm-bench's `finetune_setting` batch for the `requests` it believes fit. */
export const trtllmBatch = (requests: number, pp: number): number => {
  const raw = Math.min(requests, 4096) / pp
  if (raw < 256) return Math.max(64, 32 * Math.ceil(raw / 32))
  if (raw < 1024) return 128 * Math.ceil(raw / 128)
  return 256 * Math.ceil(raw / 256)
}

/** trtllm-bench's `finetune_setting` token budget: `min(raw batch · (1 + input/output), 32768)` (the batch before its rounding), rounded. */
export const trtllmTokens = (requests: number, pp: number, inputTokens: number, outputTokens: number): number => {
  const raw = Math.min((Math.min(requests, 4096) / pp) * (1 + inputTokens / outputTokens), 32768)
  if (raw < 4096) return Math.max(2048, 256 * Math.ceil(raw / 256))
  if (raw < 8192) return 512 * Math.ceil(raw / 512)
  return 1024 * Math.ceil(raw / 1024)
}

/** A version string's numbers (`1.2.0rc1` → [1, 2, 0]; what follows the numbers is ignored). */
export const versionNumbers = (version: string): ReadonlyArray<number> => {
  const match = /^v?(\d+(?:\.\d+)*)/.exec(version.trim())
  return match === null ? [] : (match[1] ?? '').split('.').map(Number)
}

/** −1, 0 or 1 as version `a` is below, equal to or above `b` (missing parts are 0). */
export const compareVersions = (a: string, b: string): number => {
  const x = versionNumbers(a)
  const y = versionNumbers(b)
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0)
    if (d !== 0) return d < 0 ? -1 : 1
  }
  return 0
}

/** `version` is in the record's range (a missing version matches every range). */
export const inRange = (versions: EngineModel['versions'], version: string | undefined): boolean =>
  version === undefined ||
  versionNumbers(version).length === 0 ||
  ((versions.from === undefined || compareVersions(version, versions.from) >= 0) && (versions.below === undefined || compareVersions(version, versions.below) < 0))

/** `model` with the options of a run applied. */
export const withOptions =
  (options: EngineOptions | undefined) =>
  (model: EngineModel): EngineModel => {
    if (options === undefined || (options.cudaGraphs === undefined && options.customAllReduce === undefined && options.attentionDpBalance === undefined && options.twoBatchOverlap === undefined)) return model
    return {
      ...model,
      ...(options.cudaGraphs === undefined ? {} : { cudaGraphs: options.cudaGraphs }),
      ...(options.customAllReduce === undefined ? {} : { customAllReduce: options.customAllReduce ? (model.customAllReduce ?? vllmCustomAllReduce) : undefined }),
      ...(options.attentionDpBalance === undefined ? {} : { attentionDpBalance: options.attentionDpBalance }),
      ...(options.twoBatchOverlap === undefined ? {} : { twoBatchOverlap: options.twoBatchOverlap }),
    }
  }

/**
 * The record of `engine` (the first of `registry` with its name, lower case, whose
 * range holds its version), with the run's options applied; an unknown engine, or a
 * version no record covers, gets {@link genericEngine} under the engine's name.
 */
export const engineModel = (engine: Engine, registry: ReadonlyArray<EngineModel> = engineModels): EngineModel => {
  const name = engine.name.toLowerCase()
  const found = registry.find((m) => m.name === name && inRange(m.versions, engine.version))
  return withOptions(engine.options)(found ?? { ...genericEngine, name })
}
