/**
 * Megatron-LM: `torchrun ... pretrain_gpt.py` with the plan's degrees, step, ZeRO stage,
 * recomputation, overlap, formats and the model's shapes, from one table per release
 * ({@link megatronReleases}; a new release is a new row), laid out as the release's own
 * `examples/llama/train_llama3_8b_h100_fp8.sh` launches it. meshplan's strategies are
 * Megatron-Core's (parallel folding: the MoE layers re-fold each stage's TP × DP × CP
 * GPUs as EP × ETP × EDP), so every valid degree has its flag. What a release cannot run:
 *
 * - ZeRO 2 and 3 with a pipeline: `--use-distributed-optimizer` shards the optimizer
 *   state over the data-parallel ranks (ZeRO 1; the gradient buffer stays whole);
 *   gradients and weights are sharded by Megatron FSDP (`--use-megatron-fsdp
 *   --data-parallel-sharding-strategy optim_grads | optim_grads_params`), which the
 *   release documents with TP, EP and CP (`docs/source/api-guide/custom_fsdp.md`), not
 *   with pipeline parallelism. The nearest: ZeRO 1.
 * - the ZB-H1 and DualPipe schedules: 1F1B, interleaved with virtual stages, only.
 * - offload of weights or activations: only the optimizer state has a flag
 *   (`--optimizer-cpu-offload`, with `--use-precision-aware-optimizer`, which needs the
 *   distributed optimizer).
 * - models with attention windows, attention sinks, expert biases or a vision encoder:
 *   this export maps no flags for them.
 *
 * Data, tokenizer, optimizer and learning-rate flags are the user's: the commands name
 * `$DATA_PATH` and `$TOKENIZER_MODEL`, and say what is left out.
 *
 * @example
 * import { megatronEngine, megatronReleases } from '@meshplan/export'
 * const engine = megatronEngine(megatronReleases[0]!)
 * engine.workloadProblems(model, strategy({ tp: 8, pp: 16, dp: 64 }), { ...step, zeroStage: 2 }, precision) // [{ code: 'zero-stage', ... }]
 */
import { isMoeLayer, type Architecture, type Precision } from '@meshplan/model'
import { isEvenSplit, type Strategy } from '@meshplan/parallelism'
import { devicesPerNode } from '@meshplan/topology'
import type { TrainingWorkload } from '@meshplan/training'
import { nodesFor, problem, type EngineRelease, type Problem } from '../engine'
import { argvOf, forNodes, placeholdersOf, setting, type Documented, type Launch, type NodeCommand, type Setting } from '../launch'
import type { TrainingDeployment, TrainingEngine } from './export'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The `pretrain_gpt.py` flags a Megatron-LM release takes, each documented in its `megatron/training/arguments.py`. */
export interface MegatronKeys {
  readonly tensorModelParallelSize: Documented
  readonly pipelineModelParallelSize: Documented
  readonly contextParallelSize: Documented
  readonly expertModelParallelSize: Documented
  readonly expertTensorParallelSize: Documented
  readonly numLayersPerVirtualPipelineStage: Documented
  readonly numVirtualStagesPerPipelineRank: Documented
  readonly decoderFirstPipelineNumLayers: Documented
  readonly decoderLastPipelineNumLayers: Documented
  readonly accountForEmbeddingInPipelineSplit: Documented
  readonly accountForLossInPipelineSplit: Documented
  readonly sequenceParallel: Documented
  readonly microBatchSize: Documented
  readonly globalBatchSize: Documented
  readonly seqLength: Documented
  readonly recomputeGranularity: Documented
  readonly recomputeMethod: Documented
  readonly recomputeNumLayers: Documented
  readonly useDistributedOptimizer: Documented
  readonly useMegatronFsdp: Documented
  readonly dataParallelShardingStrategy: Documented
  readonly ckptFormat: Documented
  readonly noGradientAccumulationFusion: Documented
  readonly tpCommOverlap: Documented
  readonly bf16: Documented
  readonly fp16: Documented
  readonly fp8Format: Documented
  readonly fp8ParamGather: Documented
  readonly gradReduceInBf16: Documented
  readonly optimizerCpuOffload: Documented
  readonly optimizerOffloadFraction: Documented
  readonly usePrecisionAwareOptimizer: Documented
  readonly moeRouterForceLoadBalancing: Documented
  readonly useMcoreModels: Documented
  readonly numLayers: Documented
  readonly hiddenSize: Documented
  readonly ffnHiddenSize: Documented
  readonly numAttentionHeads: Documented
  readonly groupQueryAttention: Documented
  readonly numQueryGroups: Documented
  readonly kvChannels: Documented
  readonly maxPositionEmbeddings: Documented
  readonly positionEmbeddingType: Documented
  readonly normalization: Documented
  readonly swiglu: Documented
  readonly untieEmbeddingsAndOutputWeights: Documented
  readonly disableBiasLinear: Documented
  readonly addQkvBias: Documented
  readonly qkLayernorm: Documented
  readonly multiLatentAttention: Documented
  readonly qLoraRank: Documented
  readonly kvLoraRank: Documented
  readonly qkHeadDim: Documented
  readonly qkPosEmbHeadDim: Documented
  readonly vHeadDim: Documented
  readonly numExperts: Documented
  readonly moeRouterTopk: Documented
  readonly moeFfnHiddenSize: Documented
  readonly moeSharedExpertIntermediateSize: Documented
  readonly moeLayerFreq: Documented
  readonly moeRouterEnableExpertBias: Documented
  readonly dataPath: Documented
  readonly tokenizerType: Documented
  readonly tokenizerModel: Documented
}

export interface MegatronRelease {
  readonly version: string
  readonly source: string
  readonly keys: MegatronKeys
  /** torchrun's rendezvous port on node 0 (the release's example scripts). */
  readonly masterPort: number
}

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

const a = (group: string, flag: string, note = ''): Documented => ({ key: flag, place: 'flag', source: `megatron/training/arguments.py ${group}${note === '' ? '' : ` (${note})`}` })

/** Megatron-LM core_v0.14.0 (October 2025), every flag of `megatron/training/arguments.py` at that tag. */
export const megatronCore0140: MegatronRelease = {
  version: 'core_v0.14.0',
  source:
    'Megatron-LM core_v0.14.0: megatron/training/arguments.py (add_megatron_arguments and validate_args), docs/source/api-guide/custom_fsdp.md, megatron/core/optimizer/optimizer_config.py, examples/llama/train_llama3_8b_h100_fp8.sh',
  keys: {
    tensorModelParallelSize: a('_add_distributed_args', '--tensor-model-parallel-size'),
    pipelineModelParallelSize: a('_add_distributed_args', '--pipeline-model-parallel-size'),
    contextParallelSize: a('_add_distributed_args', '--context-parallel-size'),
    expertModelParallelSize: a('_add_moe_args', '--expert-model-parallel-size'),
    expertTensorParallelSize: a('_add_moe_args', '--expert-tensor-parallel-size', 'default: the tensor-parallel size'),
    numLayersPerVirtualPipelineStage: a('_add_distributed_args', '--num-layers-per-virtual-pipeline-stage'),
    numVirtualStagesPerPipelineRank: a('_add_distributed_args', '--num-virtual-stages-per-pipeline-rank', 'validate_args: the way to give virtual stages with an uneven split'),
    decoderFirstPipelineNumLayers: a('_add_distributed_args', '--decoder-first-pipeline-num-layers'),
    decoderLastPipelineNumLayers: a('_add_distributed_args', '--decoder-last-pipeline-num-layers'),
    accountForEmbeddingInPipelineSplit: a('_add_distributed_args', '--account-for-embedding-in-pipeline-split'),
    accountForLossInPipelineSplit: a('_add_distributed_args', '--account-for-loss-in-pipeline-split'),
    sequenceParallel: a('_add_training_args', '--sequence-parallel'),
    microBatchSize: a('_add_training_args', '--micro-batch-size'),
    globalBatchSize: a('_add_training_args', '--global-batch-size'),
    seqLength: a('_add_data_args', '--seq-length'),
    recomputeGranularity: a('_add_training_args', '--recompute-granularity', 'full or selective'),
    recomputeMethod: a('_add_training_args', '--recompute-method', 'uniform or block'),
    recomputeNumLayers: a('_add_training_args', '--recompute-num-layers'),
    useDistributedOptimizer: a('_add_distributed_args', '--use-distributed-optimizer', 'optimizer state sharded over the data-parallel ranks: ZeRO 1'),
    useMegatronFsdp: a('_add_distributed_args', '--use-megatron-fsdp'),
    dataParallelShardingStrategy: a('_add_distributed_args', '--data-parallel-sharding-strategy', 'no_shard, optim, optim_grads (ZeRO 2), optim_grads_params (ZeRO 3); megatron/core/distributed/fsdp/src/README.md'),
    ckptFormat: a('_add_checkpointing_args', '--ckpt-format', 'validate_args: Megatron FSDP only supports fsdp_dtensor'),
    noGradientAccumulationFusion: a('_add_training_args', '--no-gradient-accumulation-fusion', 'docs/source/api-guide/custom_fsdp.md "How to use"'),
    tpCommOverlap: a('_add_training_args', '--tp-comm-overlap', 'overlap of tensor-parallel communication and GEMM kernels'),
    bf16: a('_add_mixed_precision_args', '--bf16'),
    fp16: a('_add_mixed_precision_args', '--fp16'),
    fp8Format: a('_add_transformer_engine_args', '--fp8-format', 'e4m3 or hybrid'),
    fp8ParamGather: a('_add_transformer_engine_args', '--fp8-param-gather'),
    gradReduceInBf16: a('_add_mixed_precision_args', '--grad-reduce-in-bf16', 'validate_args: turns off accumulate_allreduce_grads_in_fp32'),
    optimizerCpuOffload: a('_add_training_args', '--optimizer-cpu-offload'),
    optimizerOffloadFraction: a('_add_training_args', '--optimizer-offload-fraction'),
    usePrecisionAwareOptimizer: a('_add_experimental_args', '--use-precision-aware-optimizer', 'validate_args: required by --optimizer-cpu-offload; optimizer_config.py: only with the distributed optimizer'),
    moeRouterForceLoadBalancing: a('_add_moe_args', '--moe-router-force-load-balancing'),
    useMcoreModels: a('_add_training_args', '--use-mcore-models'),
    numLayers: a('_add_network_size_args', '--num-layers'),
    hiddenSize: a('_add_network_size_args', '--hidden-size'),
    ffnHiddenSize: a('_add_network_size_args', '--ffn-hidden-size'),
    numAttentionHeads: a('_add_network_size_args', '--num-attention-heads'),
    groupQueryAttention: a('_add_network_size_args', '--group-query-attention'),
    numQueryGroups: a('_add_network_size_args', '--num-query-groups'),
    kvChannels: a('_add_network_size_args', '--kv-channels'),
    maxPositionEmbeddings: a('_add_network_size_args', '--max-position-embeddings'),
    positionEmbeddingType: a('_add_network_size_args', '--position-embedding-type', 'learned_absolute or rope'),
    normalization: a('_add_network_size_args', '--normalization', 'LayerNorm or RMSNorm'),
    swiglu: a('_add_network_size_args', '--swiglu'),
    untieEmbeddingsAndOutputWeights: a('_add_network_size_args', '--untie-embeddings-and-output-weights'),
    disableBiasLinear: a('_add_training_args', '--disable-bias-linear'),
    addQkvBias: a('_add_training_args', '--add-qkv-bias'),
    qkLayernorm: a('_add_vision_args', '--qk-layernorm', 'a flag of the vision group that applies to every transformer'),
    multiLatentAttention: a('_add_network_size_args', '--multi-latent-attention'),
    qLoraRank: a('_add_mla_args', '--q-lora-rank'),
    kvLoraRank: a('_add_mla_args', '--kv-lora-rank'),
    qkHeadDim: a('_add_mla_args', '--qk-head-dim'),
    qkPosEmbHeadDim: a('_add_mla_args', '--qk-pos-emb-head-dim'),
    vHeadDim: a('_add_mla_args', '--v-head-dim'),
    numExperts: a('_add_moe_args', '--num-experts'),
    moeRouterTopk: a('_add_moe_args', '--moe-router-topk'),
    moeFfnHiddenSize: a('_add_moe_args', '--moe-ffn-hidden-size'),
    moeSharedExpertIntermediateSize: a('_add_moe_args', '--moe-shared-expert-intermediate-size'),
    moeLayerFreq: a('_add_moe_args', '--moe-layer-freq', 'an int, or a Python list of 0 (dense) and 1 (MoE) per layer'),
    moeRouterEnableExpertBias: a('_add_moe_args', '--moe-router-enable-expert-bias'),
    dataPath: a('_add_data_args', '--data-path'),
    tokenizerType: a('_add_tokenizer_args', '--tokenizer-type'),
    tokenizerModel: a('_add_tokenizer_args', '--tokenizer-model'),
  },
  masterPort: 6000,
}

/** The Megatron-LM releases of the table, newest first. */
export const megatronReleases: ReadonlyArray<MegatronRelease> = [megatronCore0140]

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const wide = ['bf16', 'fp16', 'fp32']

/** `release` as the export reads it. */
export const megatronEngine = (release: MegatronRelease): TrainingEngine => {
  const identity: EngineRelease = { name: 'megatron', version: release.version, kind: 'training', command: 'pretrain_gpt.py', source: release.source }
  const name = `Megatron-LM ${release.version}`
  const k = release.keys
  const modelProblems = (model: Architecture): ReadonlyArray<Problem> => [
    ...(model.slidingWindow !== undefined ? [problem('model', `${name}: this export maps no attention window (${model.name} attends within ${model.slidingWindow} tokens on some layers)`)] : []),
    ...(model.attention.kind !== 'mla' && model.attention.sinks === true ? [problem('model', `${name}: this export maps no attention sinks (${model.name})`)] : []),
    ...(model.moe?.expertBias === true ? [problem('model', `${name}: this export maps no expert biases (${model.name})`)] : []),
    ...((model.encoderParameters ?? 0) > 0 ? [problem('model', `${name}: pretrain_gpt.py trains a decoder; ${model.name} has a vision encoder`)] : []),
    ...(model.mlp.kind === 'geglu' ? [problem('model', `${name}: this export maps no GeGLU MLP (${model.name})`)] : []),
  ]
  const workloadProblems = (_model: Architecture, s: Strategy, w: TrainingWorkload, p: Precision): ReadonlyArray<Problem> => [
    ...(w.zeroStage >= 2 && s.pp > 1
      ? [
          problem(
            'zero-stage',
            `${name} shards the optimizer state with ${k.useDistributedOptimizer.key} (ZeRO 1, the gradient buffer whole); gradients (ZeRO 2) and weights (ZeRO 3) are sharded by Megatron FSDP (${k.useMegatronFsdp.key}), which the release documents with TP, EP and CP, not with a pipeline (PP ${s.pp})`,
          ),
        ]
      : []),
    ...(w.schedule !== undefined && w.schedule !== '1f1b' ? [problem('schedule', `${name} runs 1F1B, interleaved with virtual stages; it has no ${w.schedule} schedule`)] : []),
    ...((w.offload ?? []).filter((kind) => kind !== 'optimizer').length > 0
      ? [problem('offload', `${name} offloads only the optimizer state to the host (${k.optimizerCpuOffload.key}); no flag offloads ${(w.offload ?? []).filter((kind) => kind !== 'optimizer').join(' or ')}`)]
      : []),
    ...((w.offload ?? []).includes('optimizer') && w.zeroStage === 0 ? [problem('offload', `${name}: ${k.optimizerCpuOffload.key} needs ${k.usePrecisionAwareOptimizer.key}, which needs the distributed optimizer (ZeRO 1 or more)`)] : []),
    ...(w.tpCommOverlap === true && !s.sequenceParallel ? [problem('tp-comm-overlap', `${name}: ${k.tpCommOverlap.key} needs ${k.sequenceParallel.key}`)] : []),
    ...(wide.includes(p.activations) || p.activations === 'fp8' ? [] : [problem('activation-format', `${name} trains in bf16, fp16 or fp8 (Transformer Engine), not ${p.activations}`)]),
    ...(wide.includes(p.weights) || (p.weights === 'fp8' && p.activations === 'fp8') ? [] : [problem('weight-format', `${name} keeps 16-bit weights, or fp8 ones with fp8 training (${k.fp8ParamGather.key}), not ${p.weights}`)]),
  ]
  const nearestWorkload = (_model: Architecture, s: Strategy, w: TrainingWorkload): TrainingWorkload => {
    const offload = (w.offload ?? []).filter((kind) => kind === 'optimizer')
    const zeroStage = w.zeroStage >= 2 && s.pp > 1 ? 1 : offload.length > 0 && w.zeroStage === 0 ? 1 : w.zeroStage
    const { schedule: _schedule, offload: _offload, tpCommOverlap: _overlap, ...rest } = w
    return {
      ...rest,
      zeroStage,
      ...(offload.length > 0 ? { offload } : {}),
      ...(w.tpCommOverlap === true && s.sequenceParallel ? { tpCommOverlap: true } : {}),
    }
  }
  return {
    ...identity,
    kind: 'training',
    modelProblems,
    strategyProblems: () => [],
    workloadProblems,
    nearestWorkload,
    nearestPrecision: (p) => ({ weights: wide.includes(p.weights) || (p.weights === 'fp8' && p.activations === 'fp8') ? p.weights : 'bf16', activations: wide.includes(p.activations) || p.activations === 'fp8' ? p.activations : 'bf16', kvCache: p.kvCache }),
    space: { unevenPipelines: true },
    launch: (d) => megatronLaunch(release, d),
  }
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The model's shapes as `pretrain_gpt.py` takes them. */
const modelSettings = (k: MegatronKeys, m: Architecture, seqLength: number): ReadonlyArray<Setting> => {
  const att = m.attention
  const settings: Setting[] = [
    setting(k.useMcoreModels, 'Megatron-Core models', true),
    setting(k.numLayers, 'decoder layers', m.layers),
    setting(k.hiddenSize, 'hidden size', m.hidden),
    setting(k.ffnHiddenSize, 'dense MLP size', m.mlp.ffn),
    setting(k.numAttentionHeads, 'attention heads', att.heads),
    setting(k.seqLength, 'tokens per sequence', seqLength),
    setting(k.maxPositionEmbeddings, 'longest context of the model', m.maxPositions),
    setting(k.normalization, 'normalization', m.norm === 'rmsnorm' ? 'RMSNorm' : 'LayerNorm'),
    setting(k.positionEmbeddingType, 'positions', m.positions === 'rope' ? 'rope' : 'learned_absolute'),
  ]
  if (att.kind === 'mla') {
    settings.push(
      setting(k.multiLatentAttention, 'multi-head latent attention', true),
      ...(att.qLoraRank === null ? [] : [setting(k.qLoraRank, 'query down-projection rank', att.qLoraRank)]),
      setting(k.kvLoraRank, 'key-value latent rank', att.kvLoraRank),
      setting(k.qkHeadDim, 'query-key head size without rotary part', att.qkNopeHeadDim),
      setting(k.qkPosEmbHeadDim, 'rotary part of the query-key head', att.qkRopeHeadDim),
      setting(k.vHeadDim, 'value head size', att.vHeadDim),
    )
  } else {
    if (att.kvHeads < att.heads) settings.push(setting(k.groupQueryAttention, 'grouped-query attention', true), setting(k.numQueryGroups, 'KV heads', att.kvHeads))
    if (att.headDim * att.heads !== m.hidden) settings.push(setting(k.kvChannels, 'head size', att.headDim))
    if (att.qkNorm) settings.push(setting(k.qkLayernorm, 'per-head query and key norms', true))
  }
  if (m.mlp.kind === 'swiglu') settings.push(setting(k.swiglu, 'SwiGLU MLP', true))
  if (!m.tiedEmbeddings) settings.push(setting(k.untieEmbeddingsAndOutputWeights, 'separate LM head', true))
  const biases = att.kind !== 'mla' && (att.outputBias || m.mlp.bias)
  if (!biases) settings.push(setting(k.disableBiasLinear, 'no biases on the linear layers', true))
  if (att.kind !== 'mla' && att.qkvBias && !biases) settings.push(setting(k.addQkvBias, 'biases on Q, K and V', true))
  const moe = m.moe
  if (moe !== undefined) {
    settings.push(setting(k.numExperts, 'routed experts per MoE layer', moe.experts), setting(k.moeRouterTopk, 'experts per token', moe.topK), setting(k.moeFfnHiddenSize, 'expert MLP size', moe.expertFfn))
    if (moe.sharedExperts > 0) settings.push(setting(k.moeSharedExpertIntermediateSize, 'shared experts, their MLP sizes together', moe.sharedExperts * moe.sharedExpertFfn))
    if (moe.firstDenseLayers > 0 || moe.step > 1) settings.push(setting(k.moeLayerFreq, 'which layers are MoE (1) or dense (0)', `[${Array.from({ length: m.layers }, (_, i) => (isMoeLayer(m)(i) ? 1 : 0)).join(',')}]`))
    if (moe.routerBias) settings.push(setting(k.moeRouterEnableExpertBias, 'per-expert router bias', true))
  }
  return settings
}

/** The plan's degrees, step and formats as `pretrain_gpt.py` takes them. */
const planSettings = (k: MegatronKeys, d: TrainingDeployment): ReadonlyArray<Setting> => {
  const s = d.strategy
  const w = d.workload
  const p = d.precision
  const split = s.pipelineSplit
  const uneven = !isEvenSplit(split)
  const settings: Setting[] = [setting(k.tensorModelParallelSize, 'tensor parallelism', s.tp)]
  if (s.pp > 1) settings.push(setting(k.pipelineModelParallelSize, 'pipeline stages', s.pp))
  if (s.virtualStages > 1) {
    settings.push(
      uneven
        ? setting(k.numVirtualStagesPerPipelineRank, 'interleaved stages per pipeline rank', s.virtualStages)
        : setting(k.numLayersPerVirtualPipelineStage, `layers per interleaved stage (${s.virtualStages} per rank)`, d.model.layers / (s.pp * s.virtualStages)),
    )
  }
  if (split?.firstStageLayers !== undefined) settings.push(setting(k.decoderFirstPipelineNumLayers, 'decoder layers on the first stage', split.firstStageLayers))
  if (split?.lastStageLayers !== undefined) settings.push(setting(k.decoderLastPipelineNumLayers, 'decoder layers on the last stage', split.lastStageLayers))
  if (split?.embeddingInSplit === true) settings.push(setting(k.accountForEmbeddingInPipelineSplit, 'the embedding counts as a layer of the first stage', true))
  if (split?.lossInSplit === true) settings.push(setting(k.accountForLossInPipelineSplit, 'the LM head and loss count as a layer of the last stage', true))
  if (s.cp > 1) settings.push(setting(k.contextParallelSize, 'context parallelism', s.cp))
  if (d.model.moe !== undefined) {
    settings.push(setting(k.expertModelParallelSize, 'expert parallelism', s.ep), setting(k.expertTensorParallelSize, 'tensor parallelism inside each expert', s.etp))
    if (w.moeRouting === 'balanced') settings.push(setting(k.moeRouterForceLoadBalancing, 'tokens spread evenly over the experts', true))
  }
  if (s.sequenceParallel) settings.push(setting(k.sequenceParallel, 'sequence parallelism', true))
  if (w.tpCommOverlap === true) settings.push(setting(k.tpCommOverlap, 'TP communication overlapped with its GEMMs', true))
  settings.push(setting(k.microBatchSize, 'sequences per micro-batch', w.microBatch), setting(k.globalBatchSize, 'sequences per optimizer step', w.globalBatch))
  if (w.recompute === 'selective') settings.push(setting(k.recomputeGranularity, 'recompute the attention core (Korthikanti et al. 2022)', 'selective'))
  if (w.recompute === 'full') {
    settings.push(
      setting(k.recomputeGranularity, 'recompute whole layers', 'full'),
      setting(k.recomputeMethod, 'every layer a unit', 'uniform'),
      setting(k.recomputeNumLayers, 'layers per recomputed unit', 1),
    )
  }
  if (w.zeroStage === 1 || w.zeroStage >= 2) settings.push(setting(k.useDistributedOptimizer, w.zeroStage === 1 ? 'optimizer state sharded over the DP ranks (ZeRO 1)' : 'the distributed optimizer Megatron FSDP runs with', true))
  if (w.zeroStage >= 2) {
    settings.push(
      setting(k.useMegatronFsdp, `Megatron FSDP (ZeRO ${w.zeroStage})`, true),
      setting(k.dataParallelShardingStrategy, w.zeroStage === 2 ? 'optimizer state and gradients sharded (ZeRO 2)' : 'optimizer state, gradients and weights sharded (ZeRO 3)', w.zeroStage === 2 ? 'optim_grads' : 'optim_grads_params'),
      setting(k.noGradientAccumulationFusion, 'as Megatron FSDP asks', true),
      setting(k.ckptFormat, 'the checkpoint format Megatron FSDP takes', 'fsdp_dtensor'),
    )
  }
  if ((w.offload ?? []).includes('optimizer')) {
    settings.push(
      setting(k.optimizerCpuOffload, 'optimizer state in host memory', true),
      setting(k.optimizerOffloadFraction, 'all of it', 1),
      setting(k.usePrecisionAwareOptimizer, 'as the offload needs', true),
    )
  }
  if (p.activations === 'fp16') settings.push(setting(k.fp16, 'fp16 training', true))
  else if (p.activations !== 'fp32') settings.push(setting(k.bf16, 'bf16 training (fp32 main weights)', true))
  if (p.activations === 'fp8') settings.push(setting(k.fp8Format, 'fp8 GEMMs: e4m3 forward, e5m2 backward', 'hybrid'))
  if (p.weights === 'fp8') settings.push(setting(k.fp8ParamGather, 'fp8 weights gathered', true))
  if (w.gradientReduce === 'bf16') settings.push(setting(k.gradReduceInBf16, 'gradients reduced in bf16', true))
  return settings
}

/** The launch of `d` on Megatron-LM `release`: `torchrun` on every node, the node's rank its own. */
export const megatronLaunch = (release: MegatronRelease, d: TrainingDeployment): Launch => {
  const k = release.keys
  const perNode = devicesPerNode(d.cluster)
  const gpus = d.strategy.tp * d.strategy.pp * d.strategy.dp * d.strategy.cp
  const nodes = nodesFor(d.cluster, gpus)
  const local = Math.min(perNode, gpus)
  // torchrun's flags as the release's examples/llama/train_llama3_8b_h100_fp8.sh writes them
  const torchrun = ['torchrun', '--nproc_per_node', String(local), '--nnodes', String(nodes), '--node_rank', '$NODE_RANK', '--master_addr', '$MASTER_ADDR', '--master_port', String(release.masterPort), 'pretrain_gpt.py']
  const data = [setting(k.dataPath, 'tokenized training data', '$DATA_PATH'), setting(k.tokenizerType, 'the tokenizer kind', 'HuggingFaceTokenizer'), setting(k.tokenizerModel, 'the tokenizer', '$TOKENIZER_MODEL')]
  const settings = [...planSettings(k, d), ...modelSettings(k, d.model, d.workload.sequenceLength), ...data]
  const env: ReadonlyArray<readonly [string, string]> = [['CUDA_DEVICE_MAX_CONNECTIONS', d.workload.zeroStage >= 2 ? '8' : '1']]
  const commands: NodeCommand[] = [forNodes(0, 0, 'rank 0 of the rendezvous and its GPUs', env, argvOf(torchrun, settings))]
  if (nodes > 1) commands.push(forNodes(1, nodes - 1, 'every other node: the same, its own node rank', env, argvOf(torchrun, settings)))
  const notes = [
    `every node runs torchrun with ${local} processes; node ranks 0 to ${nodes - 1}, node 0 at $MASTER_ADDR:${release.masterPort}`,
    'left to you: the optimizer and learning-rate schedule (--lr, --min-lr, --lr-decay-style, --train-iters or --train-samples), --save/--load, logging; the model\'s rotary base and scaling (--rotary-base)',
    d.workload.zeroStage >= 2
      ? 'CUDA_DEVICE_MAX_CONNECTIONS above 1, as Megatron FSDP asserts (validate_args)'
      : 'CUDA_DEVICE_MAX_CONNECTIONS=1, as the release\'s example scripts set it for TP and SP overlap',
  ]
  return { nodes, commands, files: [], settings, notes, placeholders: placeholdersOf(commands, []) }
}
