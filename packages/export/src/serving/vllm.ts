/**
 * vLLM: `vllm serve MODEL` with the plan's degrees, formats, batch limits and memory
 * fraction, from one table per release ({@link vllmReleases}; a new release is a new
 * row). What a release can run, read in its documentation and sources:
 *
 * - attention: tensor-parallel over `--tensor-parallel-size` GPUs, pipelined over
 *   `--pipeline-parallel-size` stages, data-parallel over `--data-parallel-size` ranks;
 *   no context parallelism of the prompt.
 * - MoE layers: over all TP × DP GPUs of a stage, tensor-parallel by default (EP 1,
 *   ETP = TP × DP) or expert-parallel with `--enable-expert-parallel` (EP = TP × DP,
 *   ETP 1, each expert whole on one GPU): `FusedMoEParallelConfig.make`
 *   (`vllm/model_executor/layers/fused_moe/config.py`) flattens TP across DP and, with
 *   expert parallelism, sets `ep_size = tp_size · dp_size`, `tp_size = 1`. No other EP.
 * - multi-node: a replica inside a node runs with vLLM's own processes, the DP ranks of
 *   each node started by a `vllm serve` per node (`--data-parallel-size-local`,
 *   `--data-parallel-start-rank`, `--headless` on all but node 0); a replica over several
 *   nodes needs Ray (`--distributed-executor-backend ray`).
 * - an uneven pipeline split: the layers per stage in `VLLM_PP_LAYER_PARTITION`.
 *
 * `--max-num-seqs` and `--max-num-batched-tokens` apply per DP rank (data_parallel_deployment:
 * "--max-num-seqs applies per DP rank"); `--gpu-memory-utilization` is the share of the
 * device the engine may use, weights, activations and KV cache together.
 *
 * @example
 * import { vllmEngine, vllmReleases } from '@meshplan/export'
 * const engine = vllmEngine(vllmReleases[0]!)
 * engine.strategyProblems(model, cluster, strategy({ tp: 2, dp: 64, ep: 64, etp: 2 })) // [{ code: 'expert-layout', ... }]
 */
import type { Architecture } from '@meshplan/model'
import { isEvenSplit, layersOfStage, type Strategy } from '@meshplan/parallelism'
import { devicesPerNode, type Cluster } from '@meshplan/topology'
import { checkpointOf, fractionDown, nodesFor, problem, servingOnly, tilingProblem, type EngineRelease, type Problem } from '../engine'
import { argvOf, envOf, forNodes, placeholdersOf, setting, type Documented, type Launch, type NodeCommand, type Setting } from '../launch'
import { dtypeWord, quantizedOnline, servingEngine, servingSpace, type ServingDeployment, type ServingEngine, type ServingFigures, type ServingRelease } from './export'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The settings a vLLM release takes, each a documented flag or variable. */
export interface VllmKeys {
  readonly tensorParallel: Documented
  readonly pipelineParallel: Documented
  readonly dataParallel: Documented
  readonly dataParallelLocal: Documented
  readonly dataParallelAddress: Documented
  readonly dataParallelRpcPort: Documented
  readonly dataParallelStartRank: Documented
  readonly headless: Documented
  readonly dataParallelBackend: Documented
  readonly rayDataParallelPacking: Documented
  readonly expertParallel: Documented
  readonly executorBackend: Documented
  readonly layerPartition: Documented
  readonly maxNumSeqs: Documented
  readonly maxNumBatchedTokens: Documented
  readonly gpuMemoryUtilization: Documented
  readonly maxModelLen: Documented
  readonly dtype: Documented
  readonly quantization: Documented
  readonly kvCacheDtype: Documented
}

/** One vLLM release: where its table was read, its keys, and what it runs. */
export interface VllmRelease extends ServingRelease<VllmKeys> {
  /** Whether the MoE data-parallel deployment (attention DP synchronised with the experts) is documented with pipeline parallelism. */
  readonly moeDataParallelWithPipeline: boolean
  /** The port node 0 listens on for the DP ranks of the other nodes (the documentation's example). */
  readonly rpcPort: number
  /** Ray's port on node 0 (`ray start --head` default). */
  readonly rayPort: number
}

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

const args = 'vllm/engine/arg_utils.py EngineArgs.add_cli_args'

/** vLLM 0.12.0 (December 2025), read in its documentation (docs.vllm.ai/en/v0.12.0) and sources. */
export const vllm0120: VllmRelease = {
  version: '0.12.0',
  source:
    'vLLM 0.12.0: docs.vllm.ai/en/v0.12.0 serving/data_parallel_deployment, serving/expert_parallel_deployment, serving/distributed_serving; vllm/engine/arg_utils.py, vllm/config/parallel.py ParallelConfig, vllm/model_executor/layers/fused_moe/config.py FusedMoEParallelConfig.make, vllm/envs.py',
  keys: {
    tensorParallel: { key: '--tensor-parallel-size', place: 'flag', source: `vllm/config/parallel.py ParallelConfig.tensor_parallel_size; ${args}` },
    pipelineParallel: { key: '--pipeline-parallel-size', place: 'flag', source: `vllm/config/parallel.py ParallelConfig.pipeline_parallel_size; ${args}` },
    dataParallel: { key: '--data-parallel-size', place: 'flag', source: 'vllm/config/parallel.py ParallelConfig.data_parallel_size ("MoE layers will be sharded according to the product of the tensor parallel size and data parallel size"); serving/data_parallel_deployment' },
    dataParallelLocal: { key: '--data-parallel-size-local', place: 'flag', source: 'serving/data_parallel_deployment, "Internal Load Balancing" (DP ranks run on this node)' },
    dataParallelAddress: { key: '--data-parallel-address', place: 'flag', source: 'serving/data_parallel_deployment, "Internal Load Balancing" (node 0 address)' },
    dataParallelRpcPort: { key: '--data-parallel-rpc-port', place: 'flag', source: 'serving/data_parallel_deployment, "Internal Load Balancing"' },
    dataParallelStartRank: { key: '--data-parallel-start-rank', place: 'flag', source: 'serving/data_parallel_deployment ("the cumulative local DP size of previous nodes"); serving/expert_parallel_deployment, "Multi-Node Deployment"' },
    headless: { key: '--headless', place: 'flag', source: 'vllm/entrypoints/cli/serve.py; serving/data_parallel_deployment (every node but the API node runs headless)' },
    dataParallelBackend: { key: '--data-parallel-backend', place: 'flag', source: 'vllm/config/parallel.py ParallelConfig.data_parallel_backend (mp or ray); serving/data_parallel_deployment ("This DP mode can also be used with Ray")' },
    rayDataParallelPacking: { key: 'VLLM_RAY_DP_PACK_STRATEGY', place: 'env', source: 'vllm/envs.py; serving/data_parallel_deployment ("When a single DP group requires multiple nodes ... set VLLM_RAY_DP_PACK_STRATEGY=span"), PR #26367' },
    expertParallel: { key: '--enable-expert-parallel', place: 'flag', source: 'vllm/config/parallel.py ParallelConfig.enable_expert_parallel; fused_moe/config.py FusedMoEParallelConfig.make (ep_size = tp_size × dp_size, expert tp_size 1)' },
    executorBackend: { key: '--distributed-executor-backend', place: 'flag', source: 'vllm/config/parallel.py ParallelConfig.distributed_executor_backend; serving/distributed_serving ("multi-node inference currently requires Ray")' },
    layerPartition: { key: 'VLLM_PP_LAYER_PARTITION', place: 'env', source: 'vllm/envs.py VLLM_PP_LAYER_PARTITION; vllm/distributed/utils.py get_pp_indices (comma-separated layers per pipeline stage)' },
    maxNumSeqs: { key: '--max-num-seqs', place: 'flag', source: 'vllm/config/scheduler.py SchedulerConfig.max_num_seqs; serving/data_parallel_deployment ("--max-num-seqs applies per DP rank")' },
    maxNumBatchedTokens: { key: '--max-num-batched-tokens', place: 'flag', source: 'vllm/config/scheduler.py SchedulerConfig.max_num_batched_tokens (tokens of one scheduler step of a DP rank)' },
    gpuMemoryUtilization: { key: '--gpu-memory-utilization', place: 'flag', source: 'vllm/config/cache.py CacheConfig.gpu_memory_utilization (the fraction of GPU memory for the model executor: weights, activations, KV cache)' },
    maxModelLen: { key: '--max-model-len', place: 'flag', source: 'vllm/config/model.py ModelConfig.max_model_len (prompt and output)' },
    dtype: { key: '--dtype', place: 'flag', source: 'vllm/config/model.py ModelConfig.dtype (auto, half, float16, bfloat16, float, float32)' },
    quantization: { key: '--quantization', place: 'flag', source: 'vllm/config/model.py ModelConfig.quantization; fp8 quantizes a 16-bit checkpoint as it loads (vllm/model_executor/layers/quantization/fp8.py, dynamic scales)' },
    kvCacheDtype: { key: '--kv-cache-dtype', place: 'flag', source: 'vllm/config/cache.py CacheConfig.cache_dtype (auto, fp8, fp8_e4m3, fp8_e5m2)' },
  },
  formats: { onlineWeights: ['fp8'], kvCache: ['fp8'] },
  kvCacheWords: { fp8: 'fp8' },
  moeDataParallelWithPipeline: false,
  rpcPort: 13345,
  rayPort: 6379,
}

/** The vLLM releases of the table, newest first. */
export const vllmReleases: ReadonlyArray<VllmRelease> = [vllm0120]

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** `release` as the export reads it. */
export const vllmEngine = (release: VllmRelease): ServingEngine => {
  const identity: EngineRelease = { name: 'vllm', version: release.version, kind: 'serving', command: 'vllm serve', source: release.source }
  const name = `vLLM ${release.version}`
  const strategyProblems = (model: Architecture, cluster: Cluster, s: Strategy): ReadonlyArray<Problem> => {
    const width = s.tp * s.dp
    const problems: Problem[] = [...servingOnly(identity, s)]
    if (s.cp > 1) problems.push(problem('context-parallel', `${name} has no context parallelism of the prompt (cp ${s.cp}): a sequence runs on one TP group`))
    if (model.moe !== undefined) {
      const tensorParallel = s.ep === 1 && s.etp === width
      const expertParallel = s.ep === width && s.etp === 1
      if (!tensorParallel && !expertParallel) {
        problems.push(
          problem(
            'expert-layout',
            `${name} splits the experts of a layer over all TP × DP = ${s.tp} × ${s.dp} = ${width} GPUs of a stage: tensor-parallel (EP1 ETP${width}), or with ${release.keys.expertParallel.key} expert-parallel (EP${width} ETP1, each expert whole on one GPU); it cannot run EP${s.ep} ETP${s.etp}`,
          ),
        )
      }
      if (s.dp > 1 && s.pp > 1 && !release.moeDataParallelWithPipeline) {
        problems.push(problem('data-parallel-pipeline', `${name} documents attention data parallelism with MoE (DP ${s.dp}) beside tensor parallelism, not beside pipeline parallelism (PP ${s.pp})`))
      }
    }
    problems.push(...tilingProblem(identity, cluster, s.tp * s.pp, 'replica (TP × PP GPUs)'))
    return problems
  }
  return servingEngine(identity, release.formats, strategyProblems, { ...servingSpace, unevenPipelines: true }, (d, figures) => vllmLaunch(release, d, figures))
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The settings of the deployment every node's command carries. */
const commonSettings = (release: VllmRelease, d: ServingDeployment, f: ServingFigures): ReadonlyArray<Setting> => {
  const k = release.keys
  const s = d.strategy
  const p = d.precision
  const usable = (f.memory.capacity - f.memory.reserve) / f.memory.capacity
  const kvWord = release.kvCacheWords[p.kvCache]
  const partition = isEvenSplit(s.pipelineSplit) ? undefined : Array.from({ length: s.pp }, (_, r) => layersOfStage(d.model, s)(r).length).join(',')
  return [
    setting(k.tensorParallel, 'attention tensor parallelism', s.tp),
    ...(s.pp > 1 ? [setting(k.pipelineParallel, 'pipeline stages', s.pp)] : []),
    ...(partition === undefined ? [] : [setting(k.layerPartition, 'decoder layers per pipeline stage (uneven split)', partition)]),
    ...(s.dp > 1 ? [setting(k.dataParallel, 'data-parallel ranks', s.dp)] : []),
    ...(d.model.moe !== undefined && s.ep > 1 ? [setting(k.expertParallel, `expert parallelism EP${s.ep} (TP × DP), each expert whole`, true)] : []),
    setting(k.dtype, 'activations (16-bit computation)', dtypeWord(p)),
    ...(quantizedOnline(d.model, p) ? [setting(k.quantization, `${p.weights} weights quantized as the 16-bit checkpoint loads`, p.weights)] : []),
    ...(kvWord === undefined ? [] : [setting(k.kvCacheDtype, `${p.kvCache} KV cache`, kvWord)]),
    setting(k.maxModelLen, 'longest request (prompt + output tokens)', f.contextTokens),
    setting(k.maxNumSeqs, 'sequences in flight per DP rank', f.batch),
    setting(k.maxNumBatchedTokens, 'tokens per forward pass of a DP rank', f.tokensPerPass),
    setting(k.gpuMemoryUtilization, 'share of each GPU the engine may use (all but the reserve)', fractionDown(usable)),
  ]
}

/** The launch of `d` on vLLM `release` (see the module comment for the node layouts). */
export const vllmLaunch = (release: VllmRelease, d: ServingDeployment, f: ServingFigures): Launch => {
  const k = release.keys
  const s = d.strategy
  const perNode = devicesPerNode(d.cluster)
  const replica = s.tp * s.pp
  const world = replica * s.dp
  const nodes = nodesFor(d.cluster, world)
  const base = ['vllm', 'serve', checkpointOf(d.model)]
  const common = commonSettings(release, d, f)
  const env = envOf(common)
  const commands: NodeCommand[] = []
  const extra: Setting[] = []
  const notes: string[] = []
  if (nodes === 1) {
    commands.push(forNodes(0, 0, 'the server and every rank', env, argvOf(base, common)))
  } else if (replica <= perNode) {
    // each node runs its DP ranks; node 0 also the API server
    const local = perNode / replica
    const full = Math.floor(world / perNode)
    const lastLocal = (world - full * perNode) / replica
    const dpSettings = (ranks: number) => [setting(k.dataParallelLocal, 'DP ranks on this node', ranks), setting(k.dataParallelAddress, "node 0's address", '$MASTER_ADDR'), setting(k.dataParallelRpcPort, "node 0's port for the other nodes' ranks", release.rpcPort)]
    const headless = [setting(k.headless, 'no API server on this node', true), setting(k.dataParallelStartRank, 'first DP rank of this node', `$((NODE_RANK * ${local}))`)]
    extra.push(...dpSettings(local), ...headless)
    commands.push(forNodes(0, 0, `API server and DP ranks 0-${local - 1}`, env, argvOf(base, [...common, ...dpSettings(local)])))
    if (full > 1) commands.push(forNodes(1, full - 1, `${local} DP ranks of the node, headless`, env, argvOf(base, [...common, ...dpSettings(local), ...headless])))
    if (lastLocal > 0) commands.push(forNodes(full, full, `${lastLocal} DP ranks, headless`, env, argvOf(base, [...common, ...dpSettings(lastLocal), ...headless])))
    notes.push(`one vllm serve per node: node 0 serves the API (port 8000) and DP ranks 0-${local - 1}; node r runs DP ranks from ${local}r headless and reaches node 0 at $MASTER_ADDR:${release.rpcPort}`)
  } else {
    // a replica over several nodes: one Ray cluster, one vllm serve on node 0
    const ray = [setting(k.executorBackend, 'workers of a replica over several nodes run under Ray', 'ray')]
    const rayDp = s.dp > 1 ? [setting(k.dataParallelBackend, 'DP ranks placed by Ray', 'ray'), setting(k.rayDataParallelPacking, 'one DP rank may span several nodes', 'span')] : []
    extra.push(...ray, ...rayDp)
    const serve = [...common, ...ray, ...rayDp]
    // the variables on every node's Ray too, so that the workers Ray starts there see them
    const rayEnv = envOf(serve)
    commands.push(forNodes(0, 0, 'Ray head', rayEnv, ['ray', 'start', '--head', '--port', String(release.rayPort)]))
    commands.push(forNodes(1, nodes - 1, 'Ray workers (join the head before the server starts)', rayEnv, ['ray', 'start', '--address', `$MASTER_ADDR:${release.rayPort}`, '--block']))
    commands.push(forNodes(0, 0, 'the server: places every rank on the Ray cluster', envOf(serve), argvOf(base, serve)))
    notes.push(`a replica takes ${replica} GPUs, more than a node's ${perNode}: start Ray on every node (head on node 0, then the others), then the one vllm serve on node 0 places every worker`)
  }
  const settings = [...common, ...extra]
  return { nodes, commands, files: [], settings, notes, placeholders: placeholdersOf(commands, []) }
}
