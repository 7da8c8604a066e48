/**
 * TensorRT-LLM: `trtllm-serve MODEL` (PyTorch backend) with the plan's degrees, formats,
 * batch limits and memory fraction, and the extra LLM API options YAML
 * (`--extra_llm_api_options`) for what has no flag, from one table per release
 * ({@link trtllmReleases}). What a release can run, read in its documentation and sources:
 *
 * - an instance runs on `--tp_size` GPUs per stage (`--pp_size` stages). Attention is
 *   tensor-parallel over all of them, or data-parallel over them with
 *   `enable_attention_dp: true` (attention TP 1); nothing between
 *   (`tensorrt_llm/llmapi/llm_args.py` `BaseLlmArgs.enable_attention_dp`).
 * - the MoE layers fold the same GPUs as `--ep_size` × `moe_tensor_parallel_size`
 *   (`tensorrt_llm/mapping.py` `Mapping`: `moe_tp_size * moe_ep_size * moe_cluster_size
 *   == tp_size`), so the experts are not replicated inside an instance: a plan whose
 *   experts are replicated (EDP > 1) runs as EDP instances.
 * - an instance over several nodes is one MPI world, started from its first node with
 *   `mpirun ... trtllm-llmapi-launch trtllm-serve` (docs "trtllm-serve", multi-node);
 *   the other nodes run nothing themselves.
 * - no context parallelism, the even pipeline split only, and no online quantization
 *   (quantized weights come as a ModelOpt checkpoint) in this export.
 *
 * `--max_batch_size` and `--max_num_tokens` are a rank's scheduler's (with attention DP,
 * each rank schedules its own requests); `--kv_cache_free_gpu_memory_fraction` is the
 * share of the memory left after the weights and buffers that the KV cache takes.
 *
 * @example
 * import { trtllmInstance } from '@meshplan/export'
 * trtllmInstance(model, strategy({ tp: 1, dp: 128, ep: 64, etp: 2 })) // { tpSize: 128, attentionDp: 128, instances: 1, gpus: 128 }
 */
import type { Architecture } from '@meshplan/model'
import type { Strategy } from '@meshplan/parallelism'
import { devicesPerNode, type Cluster } from '@meshplan/topology'
import { checkpointOf, evenSplitOnly, fractionDown, nodesFor, problem, servingOnly, type EngineRelease, type Problem } from '../engine'
import { yamlText } from '../files'
import { argvOf, forNodes, placeholdersOf, setting, type ConfigFile, type Documented, type Launch, type NodeCommand, type Setting } from '../launch'
import { dtypeWord, instanceTiling, servingEngine, servingSpace, type ServingDeployment, type ServingEngine, type ServingFigures, type ServingRelease } from './export'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The settings a TensorRT-LLM release takes: `trtllm-serve` flags and LLM API option keys. */
export interface TrtllmKeys {
  readonly backend: Documented
  readonly host: Documented
  readonly port: Documented
  readonly tpSize: Documented
  readonly ppSize: Documented
  readonly epSize: Documented
  readonly maxBatchSize: Documented
  readonly maxNumTokens: Documented
  readonly maxSeqLen: Documented
  readonly kvCacheFreeGpuMemoryFraction: Documented
  readonly extraLlmApiOptions: Documented
  readonly enableAttentionDp: Documented
  readonly moeTensorParallelSize: Documented
  readonly dtype: Documented
  readonly kvCacheDtype: Documented
  readonly kvCacheFraction: Documented
}

export interface TrtllmRelease extends ServingRelease<TrtllmKeys> {
  readonly port: number
  /** The YAML file the commands pass to `--extra_llm_api_options`. */
  readonly optionsFile: string
}

/** A TensorRT-LLM instance for a meshplan strategy (see the module comment). */
export interface TrtllmInstance {
  /** `--tp_size`: GPUs of the instance per stage. */
  readonly tpSize: number
  /** Attention data-parallel ranks (`enable_attention_dp`), 1 without. */
  readonly attentionDp: number
  readonly instances: number
  readonly gpus: number
}

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

const serve = 'tensorrt_llm/commands/serve.py serve (click options)'
const llmArgs = 'tensorrt_llm/llmapi/llm_args.py BaseLlmArgs'

/** TensorRT-LLM 1.0.0 (September 2025), read in its documentation (nvidia.github.io/TensorRT-LLM/1.0.0, commands/trtllm-serve) and sources. */
export const trtllm100: TrtllmRelease = {
  version: '1.0.0',
  source:
    'TensorRT-LLM 1.0.0: nvidia.github.io/TensorRT-LLM/1.0.0/commands/trtllm-serve; tensorrt_llm/commands/serve.py, tensorrt_llm/llmapi/llm_args.py (BaseLlmArgs, KvCacheConfig), tensorrt_llm/mapping.py (Mapping), tensorrt_llm/llmapi/trtllm-llmapi-launch',
  keys: {
    backend: { key: '--backend', place: 'flag', source: `${serve} (pytorch, tensorrt)` },
    host: { key: '--host', place: 'flag', source: serve },
    port: { key: '--port', place: 'flag', source: serve },
    tpSize: { key: '--tp_size', place: 'flag', source: `${serve}; ${llmArgs}.tensor_parallel_size (GPUs of the instance per stage)` },
    ppSize: { key: '--pp_size', place: 'flag', source: `${serve}; ${llmArgs}.pipeline_parallel_size` },
    epSize: { key: '--ep_size', place: 'flag', source: `${serve}; ${llmArgs}.moe_expert_parallel_size; mapping.py (moe_tp_size * moe_ep_size * moe_cluster_size == tp_size)` },
    maxBatchSize: { key: '--max_batch_size', place: 'flag', source: `${serve} ("Maximum number of requests that the engine can schedule")` },
    maxNumTokens: { key: '--max_num_tokens', place: 'flag', source: `${serve} ("Maximum number of batched input tokens after padding is removed in each batch")` },
    maxSeqLen: { key: '--max_seq_len', place: 'flag', source: `${serve} ("Maximum total length of one request, including prompt and outputs")` },
    kvCacheFreeGpuMemoryFraction: { key: '--kv_cache_free_gpu_memory_fraction', place: 'flag', source: `${serve} ("Free GPU memory fraction reserved for KV Cache, after allocating model weights and buffers")` },
    extraLlmApiOptions: { key: '--extra_llm_api_options', place: 'flag', source: `${serve} ("Path to a YAML file that overwrites the parameters specified by trtllm-serve")` },
    enableAttentionDp: { key: 'enable_attention_dp', place: 'file', source: `${llmArgs}.enable_attention_dp ("Enable attention data parallel")` },
    moeTensorParallelSize: { key: 'moe_tensor_parallel_size', place: 'file', source: `${llmArgs}.moe_tensor_parallel_size ("The tensor parallel size for MoE models's expert weights")` },
    dtype: { key: 'dtype', place: 'file', source: `${llmArgs}.dtype (auto, float16, bfloat16)` },
    kvCacheDtype: { key: 'kv_cache_config.dtype', place: 'file', source: `${llmArgs}.kv_cache_config; llm_args.py KvCacheConfig.dtype (auto, fp8)` },
    kvCacheFraction: { key: 'kv_cache_config.free_gpu_memory_fraction', place: 'file', source: 'llm_args.py KvCacheConfig.free_gpu_memory_fraction (the YAML kv_cache_config replaces the flag\'s, so it is repeated there)' },
  },
  formats: { onlineWeights: [], kvCache: ['fp8'] },
  kvCacheWords: { fp8: 'fp8' },
  port: 8000,
  optionsFile: 'extra-llm-api-options.yaml',
}

/** The TensorRT-LLM releases of the table, newest first. */
export const trtllmReleases: ReadonlyArray<TrtllmRelease> = [trtllm100]

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The instance of `s` (see the module comment); its degrees are whole numbers only when the engine can run `s`. */
export const trtllmInstance = (model: Architecture, s: Strategy): TrtllmInstance => {
  const group = model.moe === undefined ? s.tp : s.ep * s.etp
  const attentionDp = model.moe !== undefined && s.tp === 1 && group > 1 ? group : 1
  const tpSize = model.moe === undefined ? s.tp : group
  return { tpSize, attentionDp, instances: (s.tp * s.dp) / tpSize, gpus: tpSize * s.pp }
}

/** `release` as the export reads it. */
export const trtllmEngine = (release: TrtllmRelease): ServingEngine => {
  const identity: EngineRelease = { name: 'trtllm', version: release.version, kind: 'serving', command: 'trtllm-serve', source: release.source }
  const name = `TensorRT-LLM ${release.version}`
  const strategyProblems = (model: Architecture, cluster: Cluster, s: Strategy): ReadonlyArray<Problem> => {
    const problems: Problem[] = [...servingOnly(identity, s), ...evenSplitOnly(identity, s)]
    if (s.cp > 1) problems.push(problem('context-parallel', `${name}: this export maps no context parallelism (cp ${s.cp})`))
    if (model.moe !== undefined) {
      const group = s.ep * s.etp
      if (s.tp !== group && !(s.tp === 1 && group > 1)) {
        problems.push(
          problem(
            'attention-layout',
            `${name} runs attention either tensor-parallel over all --tp_size = EP × MoE TP = ${s.ep} × ${s.etp} = ${group} GPUs of an instance, or data-parallel over them with enable_attention_dp (attention TP1); it cannot run attention TP${s.tp} beside experts folded over ${group} GPUs`,
          ),
        )
      }
    }
    problems.push(...instanceTiling(identity, cluster, trtllmInstance(model, s), 'instance (--tp_size × --pp_size GPUs)'))
    return problems
  }
  return servingEngine(identity, release.formats, strategyProblems, servingSpace, (d, figures) => trtllmLaunch(release, d, figures))
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const rangeText = (first: number, count: number): string => Array.from({ length: count }, (_, g) => first + g).join(',')

/** The launch of `d` on TensorRT-LLM `release` (see the module comment). */
export const trtllmLaunch = (release: TrtllmRelease, d: ServingDeployment, f: ServingFigures): Launch => {
  const k = release.keys
  const s = d.strategy
  const p = d.precision
  const i = trtllmInstance(d.model, s)
  const m = f.memory
  const perNode = devicesPerNode(d.cluster)
  const nodes = nodesFor(d.cluster, i.gpus * i.instances)
  const free = m.capacity - m.workspace - m.weights
  const kvFraction = Math.min(0.99, Math.max(0.01, fractionDown((free - m.reserve) / free)))
  const kvWord = release.kvCacheWords[p.kvCache]
  const options: ReadonlyArray<Setting> = [
    setting(k.dtype, 'activations (16-bit computation)', dtypeWord(p)),
    ...(i.attentionDp > 1 ? [setting(k.enableAttentionDp, `attention data-parallel over the instance's ${i.tpSize} GPUs (attention TP1)`, true)] : []),
    ...(d.model.moe !== undefined ? [setting(k.moeTensorParallelSize, `tensor parallelism inside each expert (ETP${s.etp})`, s.etp)] : []),
    ...(kvWord === undefined ? [] : [setting(k.kvCacheDtype, `${p.kvCache} KV cache`, kvWord), setting(k.kvCacheFraction, 'share of the memory left after weights and buffers for the KV cache', kvFraction)]),
  ]
  const file: ConfigFile = { path: release.optionsFile, format: 'yaml', text: yamlText(options.map((o) => [o.key, o.value] as const)) }
  const flags: ReadonlyArray<Setting> = [
    setting(k.backend, 'the PyTorch backend (no engine build)', 'pytorch'),
    setting(k.tpSize, i.attentionDp > 1 ? `GPUs of the instance per stage (attention DP${i.attentionDp})` : 'tensor parallelism', i.tpSize),
    ...(s.pp > 1 ? [setting(k.ppSize, 'pipeline stages', s.pp)] : []),
    ...(d.model.moe !== undefined ? [setting(k.epSize, `expert parallelism (EP${s.ep} × MoE TP${s.etp} = ${i.tpSize})`, s.ep)] : []),
    setting(k.maxBatchSize, i.attentionDp > 1 ? 'sequences in flight per attention-DP rank' : 'sequences in flight', f.batch),
    setting(k.maxNumTokens, i.attentionDp > 1 ? 'tokens per forward pass of an attention-DP rank' : 'tokens per forward pass', f.tokensPerPass),
    setting(k.maxSeqLen, 'longest request (prompt + output tokens)', f.contextTokens),
    setting(k.kvCacheFreeGpuMemoryFraction, 'share of the memory left after weights and buffers for the KV cache', kvFraction),
    setting(k.host, 'listen on every interface', '0.0.0.0'),
    setting(k.extraLlmApiOptions, 'the LLM API options without a flag', release.optionsFile),
  ]
  const commands: NodeCommand[] = []
  const extra: Setting[] = []
  const notes: string[] = []
  if (i.gpus > perNode) {
    const span = i.gpus / perNode
    const port = setting(k.port, 'HTTP port', release.port)
    extra.push(port)
    const argv = ['mpirun', '-H', '$INSTANCE_HOSTS', '-np', String(i.gpus), 'trtllm-llmapi-launch', ...argvOf(['trtllm-serve', checkpointOf(d.model)], [...flags, port])]
    commands.push({ ...forNodes(0, nodes - span, i.instances === 1 ? `the instance: one MPI world over its ${span} nodes` : `each instance from its first node (every ${span}th node)`, [], argv), stride: span })
    notes.push(`an instance takes ${i.gpus} GPUs, ${span} nodes, one MPI world: mpirun on its first node starts every rank over ssh (the other nodes run nothing themselves); $INSTANCE_HOSTS lists the instance's nodes as HOST:${perNode}`)
  } else {
    const perNodeInstances = Math.min(perNode / i.gpus, i.instances)
    for (let slot = 0; slot < perNodeInstances; slot++) {
      const port = setting(k.port, 'HTTP port of this instance', release.port + slot)
      if (slot === 0) extra.push(port)
      const env = perNodeInstances > 1 ? ([['CUDA_VISIBLE_DEVICES', rangeText(slot * i.gpus, i.gpus)]] as const) : []
      commands.push(forNodes(0, nodes - 1, perNodeInstances > 1 ? `instance ${slot + 1} of ${perNodeInstances} on each node` : 'one instance per node', env, argvOf(['trtllm-serve', checkpointOf(d.model)], [...flags, port])))
    }
  }
  if (i.instances > 1) notes.push(`${i.instances} instances serve independently, each on its own port: TensorRT-LLM ${release.version} has no router of its own for them, put a load balancer over their endpoints`)
  notes.push(`write ${release.optionsFile} (below) beside the commands on every node`)
  return { nodes, commands, files: [file], settings: [...flags, ...extra, ...options], notes, placeholders: placeholdersOf(commands, [file]) }
}
