/**
 * torchtitan: `torchrun ... -m torchtitan.train --job.config_file job.toml` with the
 * plan's degrees, step, sharding, recomputation and formats in the job's TOML, from one
 * table per release ({@link torchtitanReleases}). What a release can run, read in its
 * `torchtitan/config/job_config.py`, `torchtitan/distributed/parallel_dims.py`,
 * `torchtitan/distributed/pipeline_parallel.py` and `models/llama3/infra/parallelize.py`:
 *
 * - the models of its model registry only (`[model] name`, `flavor`).
 * - data parallelism replicated (`data_parallel_replicate_degree`, DDP: ZeRO 0) or
 *   sharded by FSDP2 (`data_parallel_shard_degree`): parameters resharded after the
 *   forward (`fsdp_reshard_after_forward = "always"`, ZeRO 3) or kept until the backward
 *   (`"never"`, ZeRO 2, FSDP's `SHARD_GRAD_OP`). No ZeRO 1 (the optimizer state alone
 *   sharded). With CP, FSDP shards over the CP ranks too (`ParallelDims.build_mesh`:
 *   fsdp = dp_shard × cp), so ZeRO 0 with CP is not torchtitan's.
 * - tensor parallelism with the norms split along the sequence (`apply_tp`:
 *   `SequenceParallel`), so TP without sequence parallelism is not torchtitan's.
 * - experts over `expert_parallel_degree` ranks folded from the sharded DP, CP and TP
 *   ranks (`ParallelDims`: efsdp = fsdp × tp / (etp × ep)), with ETP equal to TP or 1
 *   ("Currently we only support ETP=TP or ETP=1").
 * - the 1F1B and Interleaved1F1B schedules of a pipeline (its ZBV and DualPipeV
 *   schedules are V-shaped, another placement than meshplan's ZB-H1 and DualPipe).
 * - gradients reduced in fp32 (`mixed_precision_reduce`: "float32" only); offload of
 *   parameters, gradients and optimizer state together (`enable_cpu_offload`, FSDP).
 *
 * The pipeline split: torchtitan counts the embedding and the output as
 * `pipeline_parallel_first_stage_less_layers` / `..._last_stage_less_layers` layers
 * (`generate_llm_fqn_per_model_part`); the export finds the counts that give the plan's
 * layers per stage, else writes `module_fqns_per_model_part` stage by stage.
 *
 * @example
 * import { torchtitanEngine, torchtitanReleases } from '@meshplan/export'
 * const engine = torchtitanEngine(torchtitanReleases[0]!)
 * engine.modelProblems(models['mixtral-8x7b']) // [{ code: 'model', message: 'torchtitan v0.2.2 has no model flavor for mixtral-8x7b ...' }]
 */
import type { Architecture, Precision } from '@meshplan/model'
import { isEvenSplit, layersOfStage, type Strategy } from '@meshplan/parallelism'
import { devicesPerNode } from '@meshplan/topology'
import type { TrainingWorkload } from '@meshplan/training'
import { nodesFor, problem, type EngineRelease, type Problem } from '../engine'
import { tomlText } from '../files'
import { forNodes, placeholdersOf, setting, type ConfigFile, type Documented, type Launch, type NodeCommand, type Setting } from '../launch'
import type { TrainingDeployment, TrainingEngine } from './export'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The job-config keys a torchtitan release takes (`[section] key`, written `section.key`). */
export interface TorchtitanKeys {
  readonly modelName: Documented
  readonly modelFlavor: Documented
  readonly converters: Documented
  readonly hfAssetsPath: Documented
  readonly localBatchSize: Documented
  readonly globalBatchSize: Documented
  readonly seqLen: Documented
  readonly mixedPrecisionParam: Documented
  readonly enableCpuOffload: Documented
  readonly dataParallelReplicateDegree: Documented
  readonly dataParallelShardDegree: Documented
  readonly fsdpReshardAfterForward: Documented
  readonly tensorParallelDegree: Documented
  readonly enableAsyncTensorParallel: Documented
  readonly compileEnable: Documented
  readonly pipelineParallelDegree: Documented
  readonly pipelineParallelSchedule: Documented
  readonly pipelineParallelMicrobatchSize: Documented
  readonly pipelineParallelLayersPerStage: Documented
  readonly firstStageLessLayers: Documented
  readonly lastStageLessLayers: Documented
  readonly moduleFqnsPerModelPart: Documented
  readonly contextParallelDegree: Documented
  readonly expertParallelDegree: Documented
  readonly expertTensorParallelDegree: Documented
  readonly activationCheckpointMode: Documented
  readonly selectiveAcOption: Documented
  readonly moeForceLoadBalance: Documented
  readonly configFile: Documented
}

export interface TorchtitanRelease {
  readonly version: string
  readonly source: string
  readonly keys: TorchtitanKeys
  /** meshplan model presets and the model name and flavor of the release's registry that are them. */
  readonly models: Readonly<Record<string, readonly [string, string]>>
  readonly configFile: string
  readonly masterPort: number
}

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

const jc = (section: string, key: string, note = ''): Documented => ({
  key: `${section}.${key}`,
  place: 'file',
  source: `torchtitan/config/job_config.py ${section[0]?.toUpperCase() ?? ''}${section.slice(1).replace(/_(\w)/g, (_m, c: string) => c.toUpperCase())}.${key}${note === '' ? '' : ` (${note})`}`,
})

/** torchtitan v0.2.2 (February 2026), its job config and distributed code at that tag. */
export const torchtitan022: TorchtitanRelease = {
  version: 'v0.2.2',
  source:
    'torchtitan v0.2.2: torchtitan/config/job_config.py, torchtitan/distributed/parallel_dims.py (ParallelDims), torchtitan/distributed/pipeline_parallel.py (pipeline_llm, generate_llm_fqn_per_model_part), torchtitan/models/llama3/infra/parallelize.py (apply_tp, apply_fsdp), torchtitan/train.py, run_train.sh',
  keys: {
    modelName: jc('model', 'name'),
    modelFlavor: jc('model', 'flavor'),
    converters: jc('model', 'converters', 'quantize.linear.float8: torchtitan/components/quantization/float8.py'),
    hfAssetsPath: { key: '--model.hf_assets_path', place: 'flag', source: 'torchtitan/config/job_config.py Model.hf_assets_path (a command-line override of the TOML, torchtitan/config/manager.py)' },
    localBatchSize: jc('training', 'local_batch_size', 'per data-parallel rank'),
    globalBatchSize: jc('training', 'global_batch_size', 'train.py: gradient accumulation steps = global / (local × dp)'),
    seqLen: jc('training', 'seq_len'),
    mixedPrecisionParam: jc('training', 'mixed_precision_param', 'bfloat16 or float32'),
    enableCpuOffload: jc('training', 'enable_cpu_offload', 'parameters, gradients and optimizer state in FSDP'),
    dataParallelReplicateDegree: jc('parallelism', 'data_parallel_replicate_degree', 'DDP'),
    dataParallelShardDegree: jc('parallelism', 'data_parallel_shard_degree', 'FSDP'),
    fsdpReshardAfterForward: jc('parallelism', 'fsdp_reshard_after_forward', 'default, always or never; parallelize.py apply_fsdp'),
    tensorParallelDegree: jc('parallelism', 'tensor_parallel_degree', 'parallelize.py apply_tp: the norms SequenceParallel'),
    enableAsyncTensorParallel: jc('parallelism', 'enable_async_tensor_parallel', 'only effective with compile enabled'),
    compileEnable: jc('compile', 'enable'),
    pipelineParallelDegree: jc('parallelism', 'pipeline_parallel_degree'),
    pipelineParallelSchedule: jc('parallelism', 'pipeline_parallel_schedule', '1F1B, Interleaved1F1B, ...'),
    pipelineParallelMicrobatchSize: jc('parallelism', 'pipeline_parallel_microbatch_size'),
    pipelineParallelLayersPerStage: jc('parallelism', 'pipeline_parallel_layers_per_stage', 'pipeline_llm: stages = ceil((layers + first less + last less) / this)'),
    firstStageLessLayers: jc('parallelism', 'pipeline_parallel_first_stage_less_layers', 'default 1: the embedding counts as a layer'),
    lastStageLessLayers: jc('parallelism', 'pipeline_parallel_last_stage_less_layers', 'default 1: the output counts as a layer'),
    moduleFqnsPerModelPart: jc('parallelism', 'module_fqns_per_model_part'),
    contextParallelDegree: jc('parallelism', 'context_parallel_degree'),
    expertParallelDegree: jc('parallelism', 'expert_parallel_degree'),
    expertTensorParallelDegree: jc('parallelism', 'expert_tensor_parallel_degree', '"we only support either etp = tp or etp = 1"'),
    activationCheckpointMode: jc('activation_checkpoint', 'mode', 'selective, full, memory_budget or none; default selective'),
    selectiveAcOption: jc('activation_checkpoint', 'selective_ac_option', "'op' for op-level, an integer n for every nth layer"),
    moeForceLoadBalance: jc('debug', 'moe_force_load_balance'),
    configFile: { key: '--job.config_file', place: 'flag', source: 'torchtitan/config/job_config.py Job.config_file; run_train.sh' },
  },
  models: {
    'llama-3.1-8b': ['llama3', '8B'],
    'llama-3.1-70b': ['llama3', '70B'],
    'llama-3.1-405b': ['llama3', '405B'],
    'deepseek-v3': ['deepseek_v3', '671B'],
    'qwen3-235b-a22b': ['qwen3', '235B-A22B'],
    'llama-4-scout': ['llama4', '17bx16e'],
    'llama-4-maverick': ['llama4', '17bx128e'],
    'gpt-oss-20b': ['gpt_oss', '20b'],
    'gpt-oss-120b': ['gpt_oss', '120b'],
  },
  configFile: 'job.toml',
  masterPort: 29500,
}

/** The torchtitan releases of the table, newest first. */
export const torchtitanReleases: ReadonlyArray<TorchtitanRelease> = [torchtitan022]

// -------------------------------------------------------------------------------------
// the pipeline split
// -------------------------------------------------------------------------------------

/** The decoder layers per stage `generate_llm_fqn_per_model_part` gives (torchtitan v0.2.2), or undefined where it raises. */
export const torchtitanStageLayers = (stages: number, layers: number, inputWeight: number, outputWeight: number): ReadonlyArray<number> | undefined => {
  if (stages === 1) return [layers]
  const effective = layers + inputWeight + outputWeight
  const perStage = Math.floor(effective / stages)
  const extra = effective % stages
  if (stages > effective || perStage === 0 || inputWeight > perStage || outputWeight > perStage) return undefined
  const out: number[] = []
  let current = 0
  for (let i = 0; i < stages; i++) {
    const share = perStage + (i < extra ? 1 : 0) - (i === 0 ? inputWeight : i === stages - 1 ? outputWeight : 0)
    const taken = Math.max(0, Math.min(share, layers - current))
    out.push(taken)
    current += taken
  }
  return current === layers ? out : undefined
}

/** The layers of each pipeline rank of `s` (all its virtual stages) for `model`. */
const rankLayers = (model: Architecture, s: Strategy): ReadonlyArray<number> => Array.from({ length: s.pp }, (_, r) => layersOfStage(model, s)(r).length)

/** The less-layers counts (0 to 3 each) that give the plan's layers per rank under looped stage placement (stage i on rank i mod pp), if any. */
const lessLayersFor = (model: Architecture, s: Strategy): readonly [number, number] | undefined => {
  const want = rankLayers(model, s)
  const stages = s.pp * s.virtualStages
  // the release's default (1, 1) first, then the counts nearest to it
  const pairs = [0, 1, 2, 3].flatMap((first) => [0, 1, 2, 3].map((last) => [first, last] as const)).sort((x, y) => Math.abs(x[0] - 1) + Math.abs(x[1] - 1) - (Math.abs(y[0] - 1) + Math.abs(y[1] - 1)))
  for (const [first, last] of pairs) {
    {
      if (s.virtualStages > 1 && (model.layers + first + last) % stages !== 0) continue
      const got = torchtitanStageLayers(stages, model.layers, first, last)
      if (got === undefined) continue
      const perRank = Array.from({ length: s.pp }, (_, r) => got.filter((_, i) => i % s.pp === r).reduce((x, y) => x + y, 0))
      if (perRank.every((n, r) => n === want[r])) return [first, last]
    }
  }
  return undefined
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const wide = ['bf16', 'fp32']

/** `release` as the export reads it. */
export const torchtitanEngine = (release: TorchtitanRelease): TrainingEngine => {
  const identity: EngineRelease = { name: 'torchtitan', version: release.version, kind: 'training', command: 'torchtitan.train', source: release.source }
  const name = `torchtitan ${release.version}`
  const modelProblems = (model: Architecture): ReadonlyArray<Problem> =>
    release.models[model.name] === undefined
      ? [problem('model', `${name} has no model flavor for ${model.name} in this table (it has ${Object.keys(release.models).join(', ')})`)]
      : []
  const strategyProblems = (model: Architecture, _cluster: unknown, s: Strategy, w: TrainingWorkload): ReadonlyArray<Problem> => [
    ...(s.tp > 1 && !s.sequenceParallel ? [problem('sequence-parallel', `${name} splits the norms along the sequence whenever it splits tensors (apply_tp: SequenceParallel); TP${s.tp} without sequence parallelism is not its`)] : []),
    ...(model.moe !== undefined && s.ep > 1 && s.etp !== 1 && s.etp !== s.tp ? [problem('expert-layout', `${name} runs ETP equal to TP (${s.tp}) or 1 ("Currently we only support ETP=TP or ETP=1"), not ETP${s.etp}`)] : []),
    ...(model.moe !== undefined && s.ep > 1 && w.zeroStage < 2 && (s.tp * s.cp) % (s.ep * s.etp) !== 0
      ? [problem('expert-layout', `${name} folds the experts from the sharded data-parallel, CP and TP ranks (efsdp = dp_shard × cp × tp / (ep × etp)); with ZeRO ${w.zeroStage} the data-parallel ranks replicate, and EP${s.ep} × ETP${s.etp} does not divide CP × TP = ${s.cp * s.tp}`)]
      : []),
    ...(!isEvenSplit(s.pipelineSplit) && s.virtualStages > 1 && lessLayersFor(model, s) === undefined
      ? [problem('pipeline-split', `${name} cuts interleaved stages by counting the embedding and the output as layers; no such count gives this split's ${rankLayers(model, s).join(' + ')} layers per rank`)]
      : []),
  ]
  const workloadProblems = (_model: Architecture, s: Strategy, w: TrainingWorkload, p: Precision): ReadonlyArray<Problem> => {
    const offload = w.offload ?? []
    const fsdpOffload = offload.length === 2 && offload.includes('weights') && offload.includes('optimizer')
    return [
      ...(w.zeroStage === 1 ? [problem('zero-stage', `${name} shards data parallelism with FSDP2 (ZeRO 2 with fsdp_reshard_after_forward = "never", ZeRO 3 with "always") or replicates it (DDP, ZeRO 0); it has no ZeRO 1`)] : []),
      ...(w.zeroStage === 0 && s.cp > 1 ? [problem('zero-stage', `${name} shards the weights over the CP ranks whenever CP is on (fsdp = dp_shard × cp), so ZeRO 0 with CP${s.cp} is not its`)] : []),
      ...(w.schedule !== undefined && w.schedule !== '1f1b' ? [problem('schedule', `${name}'s zero-bubble and DualPipe schedules are V-shaped (ZBVZeroBubble, DualPipeV), not meshplan's ${w.schedule}; it runs 1F1B and Interleaved1F1B as written`)] : []),
      ...(offload.length > 0 && !(fsdpOffload && w.zeroStage >= 2)
        ? [problem('offload', `${name} offloads the parameters, gradients and optimizer state together under FSDP (training.enable_cpu_offload, ZeRO 2 or 3), not ${offload.join(', ')}${w.zeroStage < 2 ? ` with ZeRO ${w.zeroStage}` : ''}`)]
        : []),
      ...(w.gradientReduce === 'bf16' ? [problem('gradient-reduce', `${name} reduces gradients in fp32 only (training.mixed_precision_reduce: "float32")`)] : []),
      ...(wide.includes(p.activations) || p.activations === 'fp8' ? [] : [problem('activation-format', `${name} trains in bf16 or fp32, with fp8 linears by its float8 converter; not ${p.activations}`)]),
      ...(wide.includes(p.weights) ? [] : [problem('weight-format', `${name} keeps bf16 or fp32 parameters (training.mixed_precision_param), not ${p.weights}`)]),
    ]
  }
  const nearestWorkload = (_model: Architecture, s: Strategy, w: TrainingWorkload): TrainingWorkload => {
    const offload = w.offload ?? []
    const wantsOffload = offload.includes('weights') || offload.includes('optimizer')
    const zeroStage = w.zeroStage === 1 || (w.zeroStage === 0 && (s.cp > 1 || wantsOffload)) ? 2 : w.zeroStage
    const { schedule: _schedule, offload: _offload, gradientReduce: _reduce, ...rest } = w
    return { ...rest, zeroStage, ...(wantsOffload ? { offload: ['weights', 'optimizer'] as const } : {}) }
  }
  return {
    ...identity,
    kind: 'training',
    modelProblems,
    strategyProblems,
    workloadProblems,
    nearestWorkload,
    nearestPrecision: (p) => ({ weights: wide.includes(p.weights) ? p.weights : 'bf16', activations: wide.includes(p.activations) || p.activations === 'fp8' ? p.activations : 'bf16', kvCache: p.kvCache }),
    space: { unevenPipelines: true },
    launch: (d) => torchtitanLaunch(release, d),
  }
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The job config of `d` as settings of `release`'s keys. */
const jobSettings = (release: TorchtitanRelease, d: TrainingDeployment): ReadonlyArray<Setting> => {
  const k = release.keys
  const s = d.strategy
  const w = d.workload
  const p = d.precision
  const [modelName, flavor] = release.models[d.model.name] ?? ['', '']
  const sharded = w.zeroStage >= 2
  const settings: Setting[] = [
    setting(k.modelName, 'the model', modelName),
    setting(k.modelFlavor, `its size (${d.model.name})`, flavor),
    ...(p.activations === 'fp8' ? [setting(k.converters, 'fp8 linear layers (torchao Float8Linear)', ['quantize.linear.float8'])] : []),
    setting(k.localBatchSize, s.pp > 1 ? 'sequences per DP rank per step, split into micro-batches' : 'sequences per micro-batch of a DP rank', s.pp > 1 ? w.globalBatch / s.dp : w.microBatch),
    setting(k.globalBatchSize, 'sequences per optimizer step', w.globalBatch),
    setting(k.seqLen, 'tokens per sequence', w.sequenceLength),
    setting(k.mixedPrecisionParam, 'format of the weights in compute', p.weights === 'fp32' ? 'float32' : 'bfloat16'),
    ...(w.offload !== undefined && w.offload.length > 0 ? [setting(k.enableCpuOffload, 'parameters, gradients and optimizer state in host memory', true)] : []),
    setting(k.dataParallelReplicateDegree, sharded ? 'no replicated data parallelism' : 'data parallelism, replicated (DDP, ZeRO 0)', sharded ? 1 : s.dp),
    setting(k.dataParallelShardDegree, sharded ? `data parallelism, sharded (FSDP, ZeRO ${w.zeroStage})` : 'no sharded data parallelism', sharded ? s.dp : 1),
    ...(sharded ? [setting(k.fsdpReshardAfterForward, w.zeroStage === 3 ? 'weights resharded after the forward (ZeRO 3)' : 'weights kept from forward to backward (ZeRO 2)', w.zeroStage === 3 ? 'always' : 'never')] : []),
    setting(k.tensorParallelDegree, 'tensor parallelism (with sequence parallelism)', s.tp),
    ...(w.tpCommOverlap === true ? [setting(k.enableAsyncTensorParallel, 'TP communication overlapped with its matmuls', true), setting(k.compileEnable, 'as async TP needs', true)] : []),
    setting(k.contextParallelDegree, 'context parallelism', s.cp),
  ]
  if (s.pp > 1) {
    settings.push(
      setting(k.pipelineParallelDegree, 'pipeline stages', s.pp),
      setting(k.pipelineParallelSchedule, s.virtualStages > 1 ? `interleaved 1F1B, ${s.virtualStages} stages per rank` : '1F1B', s.virtualStages > 1 ? 'Interleaved1F1B' : '1F1B'),
      setting(k.pipelineParallelMicrobatchSize, 'sequences per micro-batch', w.microBatch),
    )
    const less = lessLayersFor(d.model, s)
    if (less !== undefined) {
      settings.push(setting(k.firstStageLessLayers, 'the embedding as layers of the first stage', less[0]), setting(k.lastStageLessLayers, 'the output as layers of the last stage', less[1]))
      if (s.virtualStages > 1) settings.push(setting(k.pipelineParallelLayersPerStage, 'layers per stage', (d.model.layers + less[0] + less[1]) / (s.pp * s.virtualStages)))
    } else {
      // the plan's stages written out: the embedding with the first, the norm and output with the last
      let next = 0
      const parts = rankLayers(d.model, s).map((n, r) => {
        const names = [...(r === 0 ? ['tok_embeddings'] : []), ...Array.from({ length: n }, (_, i) => `layers.${next + i}`), ...(r === s.pp - 1 ? ['norm', 'output'] : [])]
        next += n
        return names
      })
      settings.push(setting(k.moduleFqnsPerModelPart, 'the modules of each stage', parts))
    }
  }
  if (d.model.moe !== undefined) {
    settings.push(setting(k.expertParallelDegree, 'expert parallelism', s.ep), setting(k.expertTensorParallelDegree, 'tensor parallelism inside each expert', s.etp))
    if (w.moeRouting === 'balanced') settings.push(setting(k.moeForceLoadBalance, 'tokens spread evenly over the experts', true))
  }
  settings.push(setting(k.activationCheckpointMode, w.recompute === 'none' ? 'no recomputation' : w.recompute === 'full' ? 'recompute whole layers' : "recompute per op (torchtitan's selective policy)", w.recompute))
  if (w.recompute === 'selective') settings.push(setting(k.selectiveAcOption, 'op-level selective recomputation', 'op'))
  return settings
}

/** The launch of `d` on torchtitan `release`: the job's TOML and `torchrun` on every node. */
export const torchtitanLaunch = (release: TorchtitanRelease, d: TrainingDeployment): Launch => {
  const perNode = devicesPerNode(d.cluster)
  const gpus = d.strategy.tp * d.strategy.pp * d.strategy.dp * d.strategy.cp
  const nodes = nodesFor(d.cluster, gpus)
  const local = Math.min(perNode, gpus)
  const settings = jobSettings(release, d)
  const file: ConfigFile = { path: release.configFile, format: 'toml', text: tomlText(settings.filter((x) => x.place === 'file').map((x) => [x.key, x.value] as const)) }
  const flags = [setting(release.keys.configFile, 'the job above', release.configFile), setting(release.keys.hfAssetsPath, "the model's tokenizer files", '$HF_ASSETS_PATH')]
  const argv = [
    'torchrun',
    `--nproc_per_node=${local}`,
    `--nnodes=${nodes}`,
    '--node_rank=$NODE_RANK',
    '--rdzv_backend=c10d',
    `--rdzv_endpoint=$MASTER_ADDR:${release.masterPort}`,
    '-m',
    'torchtitan.train',
    ...flags.flatMap((f) => [f.key, String(f.value)]),
  ]
  const commands: NodeCommand[] = [forNodes(0, 0, 'rendezvous host and its GPUs', [], argv)]
  if (nodes > 1) commands.push(forNodes(1, nodes - 1, 'every other node: the same, its own node rank', [], argv))
  const notes = [
    `write ${release.configFile} (below) on every node; every node runs torchrun with ${local} processes, node 0 hosting the rendezvous at $MASTER_ADDR:${release.masterPort} (run_train.sh's torchrun, over nodes)`,
    'left to you: [training] dataset and steps, [optimizer], [lr_scheduler], [checkpoint]',
  ]
  return { nodes, commands, files: [file], settings: [...settings, ...flags], notes, placeholders: placeholdersOf(commands, [file]) }
}
