/**
 * SGLang: `python -m sglang.launch_server` with the plan's degrees, formats, batch limits
 * and memory fraction, from one table per release ({@link sglangReleases}). What a
 * release can run, read in its documentation and sources:
 *
 * - an instance runs on `--tp-size` GPUs per pipeline stage (`--pp-size` stages): all of
 *   them, not `tp × dp`. With `--enable-dp-attention` and `--dp-size D`, attention runs
 *   data-parallel over D ranks of `tp-size / D` GPUs each (`tp_size % dp_size == 0`,
 *   `server_args.py` `_handle_data_parallelism`; docs "DP, DPA and SGLang DP Router").
 * - the MoE layers of an instance fold its `tp-size` GPUs as `--ep-size` × MoE TP, MoE
 *   TP = `tp-size / ep-size` (`model_runner.py`: `moe_tp_size = tp_size // moe_ep_size`;
 *   docs "Expert Parallelism": `ep_size < tp_size` runs with the default `none`
 *   all-to-all backend only). In meshplan's terms an instance is EP × ETP GPUs, attention
 *   TP divides it, and the experts are not replicated inside it: a plan whose experts
 *   are replicated (EDP > 1) runs as EDP instances behind a router.
 * - no context parallelism of the prompt; the even pipeline split only (this export).
 * - an instance over several nodes: the same command on each with `--nnodes`,
 *   `--node-rank` and `--dist-init-addr` (docs "Multi-Node Deployment"); several instances
 *   in a node: `--base-gpu-id` and a port each; several instances: the SGLang router.
 *
 * Under DP attention `--chunked-prefill-size` and `--max-running-requests` are the
 * instance's and divided by `--dp-size` per rank (`_handle_data_parallelism`:
 * `chunked_prefill_size // dp_size`; `ModelRunner.initialize`: `max_running_requests //
 * dp_size`), so the export passes the per-rank figures times D.
 * `--mem-fraction-static` is the share of the device for the weights and the KV pool.
 *
 * @example
 * import { sglangEngine, sglangReleases, sglangInstance } from '@meshplan/export'
 * sglangInstance(model, strategy({ tp: 2, dp: 64, ep: 64, etp: 2 })) // { tpSize: 128, attentionDp: 64, instances: 1, ... }
 */
import type { Architecture } from '@meshplan/model'
import type { Strategy } from '@meshplan/parallelism'
import { devicesPerNode, type Cluster } from '@meshplan/topology'
import { checkpointOf, evenSplitOnly, fractionDown, nodesFor, problem, servingOnly, type EngineRelease, type Problem } from '../engine'
import { argvOf, forNodes, placeholdersOf, setting, type Documented, type Launch, type NodeCommand, type Setting } from '../launch'
import { dtypeWord, instanceTiling, quantizedOnline, servingEngine, servingSpace, type ServingDeployment, type ServingEngine, type ServingFigures, type ServingRelease } from './export'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The settings an SGLang release takes. */
export interface SglangKeys {
  readonly modelPath: Documented
  readonly tpSize: Documented
  readonly ppSize: Documented
  readonly dpSize: Documented
  readonly enableDpAttention: Documented
  readonly epSize: Documented
  readonly nnodes: Documented
  readonly nodeRank: Documented
  readonly distInitAddr: Documented
  readonly baseGpuId: Documented
  readonly host: Documented
  readonly port: Documented
  readonly memFractionStatic: Documented
  readonly maxRunningRequests: Documented
  readonly chunkedPrefillSize: Documented
  readonly contextLength: Documented
  readonly dtype: Documented
  readonly quantization: Documented
  readonly kvCacheDtype: Documented
  readonly routerWorkerUrls: Documented
}

export interface SglangRelease extends ServingRelease<SglangKeys> {
  /** The port of the first instance on a node; the others take the next ones. */
  readonly port: number
  /** The port of `--dist-init-addr` on an instance's first node (the documentation's example). */
  readonly distInitPort: number
  readonly routerPort: number
}

/** An SGLang instance for a meshplan strategy (see the module comment). */
export interface SglangInstance {
  /** `--tp-size`: GPUs of the instance per pipeline stage. */
  readonly tpSize: number
  /** `--dp-size` with DP attention: attention data-parallel ranks of the instance (1: none). */
  readonly attentionDp: number
  /** Instances (behind a router when more than one). */
  readonly instances: number
  /** GPUs of an instance, every stage. */
  readonly gpus: number
}

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

const serverArgs = 'python/sglang/srt/server_args.py ServerArgs'

/** SGLang 0.5 (read in the 0.5 series' sources and docs, version.py 0.5.3), the flags stable across it. */
export const sglang053: SglangRelease = {
  version: '0.5.3',
  source:
    'SGLang 0.5.3: python/sglang/srt/server_args.py (ServerArgs, _handle_data_parallelism), python/sglang/srt/model_executor/model_runner.py, docs/advanced_features/server_arguments.md, dp_dpa_smg_guide.md, expert_parallelism.md, docs/references/multi_node_deployment/multi_node.md',
  keys: {
    modelPath: { key: '--model-path', place: 'flag', source: `${serverArgs}.model_path` },
    tpSize: { key: '--tp-size', place: 'flag', source: `${serverArgs}.tp_size (GPUs of the instance per stage; with DP attention, attention TP = tp_size / dp_size)` },
    ppSize: { key: '--pp-size', place: 'flag', source: `${serverArgs}.pp_size` },
    dpSize: { key: '--dp-size', place: 'flag', source: `${serverArgs}.dp_size; _handle_data_parallelism (tp_size % dp_size == 0)` },
    enableDpAttention: { key: '--enable-dp-attention', place: 'flag', source: `${serverArgs}.enable_dp_attention; docs dp_dpa_smg_guide "Activation Logic" (needs --dp-size > 1)` },
    epSize: { key: '--ep-size', place: 'flag', source: `${serverArgs}.ep_size; model_runner.py moe_tp_size = tp_size // moe_ep_size; docs expert_parallelism ("ep_size < tp_size": the none backend only)` },
    nnodes: { key: '--nnodes', place: 'flag', source: `${serverArgs}.nnodes; docs multi_node_deployment` },
    nodeRank: { key: '--node-rank', place: 'flag', source: `${serverArgs}.node_rank; docs multi_node_deployment` },
    distInitAddr: { key: '--dist-init-addr', place: 'flag', source: `${serverArgs}.dist_init_addr (HOST:PORT of the instance's node 0); docs multi_node_deployment` },
    baseGpuId: { key: '--base-gpu-id', place: 'flag', source: `${serverArgs}.base_gpu_id (the first GPU of the node the instance takes)` },
    host: { key: '--host', place: 'flag', source: `${serverArgs}.host` },
    port: { key: '--port', place: 'flag', source: `${serverArgs}.port` },
    memFractionStatic: { key: '--mem-fraction-static', place: 'flag', source: `${serverArgs}.mem_fraction_static (the fraction of the memory used for static allocation: model weights and the KV cache pool)` },
    maxRunningRequests: { key: '--max-running-requests', place: 'flag', source: `${serverArgs}.max_running_requests; model_runner.py ModelRunner.initialize (max_running_requests // dp_size per attention-DP rank)` },
    chunkedPrefillSize: { key: '--chunked-prefill-size', place: 'flag', source: `${serverArgs}.chunked_prefill_size; _handle_data_parallelism (chunked_prefill_size // dp_size under DP attention)` },
    contextLength: { key: '--context-length', place: 'flag', source: `${serverArgs}.context_length (prompt and output)` },
    dtype: { key: '--dtype', place: 'flag', source: `${serverArgs}.dtype (auto, half, float16, bfloat16, float, float32)` },
    quantization: { key: '--quantization', place: 'flag', source: `${serverArgs}.quantization; docs server_arguments ("--quantization fp8 on a fp16 checkpoint")` },
    kvCacheDtype: { key: '--kv-cache-dtype', place: 'flag', source: `${serverArgs}.kv_cache_dtype (auto, fp8_e5m2, fp8_e4m3)` },
    routerWorkerUrls: { key: '--worker-urls', place: 'flag', source: 'sgl-router python -m sglang_router.launch_router --worker-urls; docs dp_dpa_smg_guide "Separate Launch (Multi-Node)"' },
  },
  formats: { onlineWeights: ['fp8'], kvCache: ['fp8'] },
  kvCacheWords: { fp8: 'fp8_e4m3' },
  port: 30000,
  distInitPort: 20000,
  routerPort: 30000,
}

/** The SGLang releases of the table, newest first. */
export const sglangReleases: ReadonlyArray<SglangRelease> = [sglang053]

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The instance of `s` (see the module comment); its degrees are whole numbers only when the engine can run `s`. */
export const sglangInstance = (model: Architecture, s: Strategy): SglangInstance => {
  const expertGroup = model.moe === undefined ? s.tp : s.ep * s.etp
  const tpSize = Math.max(s.tp, expertGroup)
  return { tpSize, attentionDp: tpSize / s.tp, instances: (s.tp * s.dp) / tpSize, gpus: tpSize * s.pp }
}

/** `release` as the export reads it. */
export const sglangEngine = (release: SglangRelease): ServingEngine => {
  const identity: EngineRelease = { name: 'sglang', version: release.version, kind: 'serving', command: 'python -m sglang.launch_server', source: release.source }
  const name = `SGLang ${release.version}`
  const strategyProblems = (model: Architecture, cluster: Cluster, s: Strategy): ReadonlyArray<Problem> => {
    const problems: Problem[] = [...servingOnly(identity, s), ...evenSplitOnly(identity, s)]
    if (s.cp > 1) problems.push(problem('context-parallel', `${name}: this export maps no context parallelism of the prompt (cp ${s.cp})`))
    if (model.moe !== undefined) {
      const group = s.ep * s.etp
      if (group % s.tp !== 0) {
        problems.push(
          problem(
            'expert-layout',
            `${name} runs the MoE layers of an instance over all its --tp-size GPUs (--ep-size × MoE TP) and attention over --tp-size / --dp-size of them: experts on EP${s.ep} × ETP${s.etp} = ${group} GPUs would leave attention TP${s.tp} wider than the instance`,
          ),
        )
      }
    }
    problems.push(...instanceTiling(identity, cluster, sglangInstance(model, s), 'instance (--tp-size × --pp-size GPUs)'))
    return problems
  }
  return servingEngine(identity, release.formats, strategyProblems, servingSpace, (d, figures) => sglangLaunch(release, d, figures))
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const instanceSettings = (release: SglangRelease, d: ServingDeployment, f: ServingFigures, i: SglangInstance): ReadonlyArray<Setting> => {
  const k = release.keys
  const s = d.strategy
  const p = d.precision
  const kvWord = release.kvCacheWords[p.kvCache]
  const m = f.memory
  return [
    setting(k.tpSize, i.attentionDp > 1 ? `GPUs of the instance per stage (attention TP${s.tp} × DP${i.attentionDp})` : 'tensor parallelism', i.tpSize),
    ...(s.pp > 1 ? [setting(k.ppSize, 'pipeline stages', s.pp)] : []),
    ...(i.attentionDp > 1 ? [setting(k.dpSize, 'attention data-parallel ranks of the instance', i.attentionDp), setting(k.enableDpAttention, `attention data-parallel, TP${s.tp} each`, true)] : []),
    ...(d.model.moe !== undefined && s.ep > 1 ? [setting(k.epSize, `expert parallelism (MoE TP = ${i.tpSize} / ${s.ep} = ${s.etp})`, s.ep)] : []),
    setting(k.dtype, 'activations (16-bit computation)', dtypeWord(p)),
    ...(quantizedOnline(d.model, p) ? [setting(k.quantization, `${p.weights} weights quantized as the 16-bit checkpoint loads`, p.weights)] : []),
    ...(kvWord === undefined ? [] : [setting(k.kvCacheDtype, `${p.kvCache} KV cache`, kvWord)]),
    setting(k.contextLength, 'longest request (prompt + output tokens)', f.contextTokens),
    setting(k.maxRunningRequests, i.attentionDp > 1 ? `sequences in flight, ${f.batch} per attention-DP rank × ${i.attentionDp}` : 'sequences in flight', f.batch * i.attentionDp),
    setting(k.chunkedPrefillSize, i.attentionDp > 1 ? `prompt tokens per pass, ${f.tokensPerPass} per attention-DP rank × ${i.attentionDp}` : 'prompt tokens per pass', f.tokensPerPass * i.attentionDp),
    setting(k.memFractionStatic, 'share of each GPU for the weights and the KV pool', fractionDown((m.capacity - m.reserve - m.workspace) / m.capacity)),
    setting(k.host, 'listen on every interface', '0.0.0.0'),
  ]
}

/** The launch of `d` on SGLang `release` (see the module comment). */
export const sglangLaunch = (release: SglangRelease, d: ServingDeployment, f: ServingFigures): Launch => {
  const k = release.keys
  const i = sglangInstance(d.model, d.strategy)
  const perNode = devicesPerNode(d.cluster)
  const nodes = nodesFor(d.cluster, i.gpus * i.instances)
  const base = ['python', '-m', 'sglang.launch_server', k.modelPath.key, checkpointOf(d.model)]
  const common = instanceSettings(release, d, f, i)
  const commands: NodeCommand[] = []
  const extra: Setting[] = []
  const notes: string[] = []
  const serve = (settings: ReadonlyArray<Setting>): ReadonlyArray<string> => argvOf(base, [...common, ...settings])
  if (i.gpus > perNode) {
    // an instance over several nodes: the same command on each, its node rank within the instance
    const span = i.gpus / perNode
    const multi = (addr: string): ReadonlyArray<Setting> => [
      setting(k.nnodes, 'nodes of the instance', span),
      setting(k.nodeRank, 'rank of this node in the instance', i.instances === 1 ? '$NODE_RANK' : `$((NODE_RANK % ${span}))`),
      setting(k.distInitAddr, "the instance's first node", addr),
      setting(k.port, 'HTTP port', release.port),
    ]
    const addr = i.instances === 1 ? `$MASTER_ADDR:${release.distInitPort}` : `$INSTANCE_ADDR:${release.distInitPort}`
    extra.push(...multi(addr))
    commands.push(forNodes(0, nodes - 1, i.instances === 1 ? 'every node of the instance, with its node rank' : `instance NODE_RANK / ${span}, node NODE_RANK % ${span} of it`, [], serve(multi(addr))))
    notes.push(`an instance takes ${i.gpus} GPUs, ${span} nodes: each of its nodes runs the same command with its rank in the instance; the instance's node 0 serves HTTP on port ${release.port}`)
  } else {
    // several instances per node: a GPU range and a port each
    const perNodeInstances = Math.min(perNode / i.gpus, i.instances)
    for (let slot = 0; slot < perNodeInstances; slot++) {
      const slotSettings = [...(slot > 0 ? [setting(k.baseGpuId, 'first GPU of this instance on the node', slot * i.gpus)] : []), setting(k.port, 'HTTP port of this instance', release.port + slot)]
      if (slot === 1) extra.push(...slotSettings)
      commands.push(forNodes(0, nodes - 1, perNodeInstances > 1 ? `instance ${slot + 1} of ${perNodeInstances} on each node (GPUs ${slot * i.gpus}-${(slot + 1) * i.gpus - 1})` : 'one instance per node', [], serve(slotSettings)))
    }
    if (perNodeInstances === 1) extra.push(setting(k.port, 'HTTP port', release.port))
  }
  if (i.instances > 1) {
    const router = setting(k.routerWorkerUrls, 'the instances behind one endpoint', '$WORKER_URLS')
    extra.push(router)
    commands.push(forNodes(0, 0, 'the router: one endpoint over every instance', [], ['python', '-m', 'sglang_router.launch_router', router.key, router.value as string, '--host', '0.0.0.0', '--port', String(release.routerPort + 1000)]))
    notes.push(`${i.instances} instances serve independently; the router on node 0 (port ${release.routerPort + 1000}) spreads requests over them`)
  }
  if (d.model.moe !== undefined && d.strategy.ep > 1 && d.strategy.etp > 1) notes.push(`EP${d.strategy.ep} with MoE TP${d.strategy.etp} (ep-size < tp-size) runs with the default --moe-a2a-backend none (all-gather/all-reduce dispatch), the only backend SGLang documents for it`)
  const settings = [...common, ...extra]
  return { nodes, commands, files: [], settings, notes, placeholders: placeholdersOf(commands, []) }
}
