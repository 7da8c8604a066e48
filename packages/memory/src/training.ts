/**
 * Bytes each GPU holds when training with mixed-precision Adam: parameters, gradients
 * and optimizer state, sharded by ZeRO over the data-parallel group (expert parameters
 * over the expert data-parallel group), and the activations of the micro-batches in
 * flight on its pipeline stage. Reported per stage; the first stage holds the most
 * activations under 1F1B.
 *
 * ZeRO (Rajbhandari et al. 2020, "ZeRO: Memory Optimizations Toward Training Trillion
 * Parameter Models", section 5 and figure 1), for Ψ parameters, K bytes of optimizer
 * state per parameter and a group of N_d GPUs, with 2-byte weights and gradients:
 * stage 0 `(2 + 2 + K)·Ψ`; stage 1 (optimizer states) `(2 + 2)·Ψ + K·Ψ/N_d`; stage 2
 * (+ gradients) `2·Ψ + (2 + K)·Ψ/N_d`; stage 3 (+ parameters) `(2 + 2 + K)·Ψ/N_d`.
 * Gradients are at least 16-bit whatever the weights' format (fp8 parameters keep bf16
 * gradients: Megatron-LM's `--fp8-param-gather`).
 *
 * FP8 training (8-bit activations: the layers' GEMMs in fp8, Transformer Engine) keeps
 * fp8 copies of the GEMM weights of the transformer layers between micro-batches ("FP8
 * weight caching", "Using FP8 with Transformer Engine"), one row-wise and one
 * column-wise (transposed) per weight, as Hopper's fp8 tensor cores read both (TE,
 * "Performance Considerations: Handling transposes"): {@link fp8WeightCopyBytes} per
 * such parameter, sharded like the weights. They are counted with the weights. The
 * embedding, the LM head, the norms and the router stay 16-bit and have none.
 *
 * @example
 * import { zeroStateBytes } from '@meshplan/memory'
 * zeroStateBytes(7.5e9, 64, 1, 2, 2, 12).total // 31.4e9: the ZeRO paper's example, stage 1
 */
import * as E from 'fp-ts/Either'
import * as O from 'fp-ts/Option'
import { bytes, bytesPerElement, type Bytes } from '@meshplan/units'
import { isMoeLayer, type Architecture, type Precision } from '@meshplan/model'
import { expertDataParallel, layersOfStage, type Strategy } from '@meshplan/parallelism'
import type { Device } from '@meshplan/topology'
import type { ActivationInput, Recompute, SelectivePolicy } from './activations'
import { checkPositiveInteger, checkStrategy, firstError, type MemoryError } from './errors'
import { defaultMemoryModel, type MemoryModel } from './model'
import type { StageParameters } from './weights'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** ZeRO stages: 0 none, 1 optimizer states, 2 and gradients, 3 and parameters. */
export type ZeroStage = 0 | 1 | 2 | 3

/** What a training memory estimate depends on. */
export interface TrainingInput {
  readonly model: Architecture
  readonly strategy: Strategy
  /** `weights` is the format of the working weights and gradients (bf16 usually); `activations` of the stored activations. */
  readonly precision: Precision
  readonly device: Device
  readonly sequenceLength: number
  /** Sequences per micro-batch. */
  readonly microBatch: number
  /** Micro-batches per optimizer step on each pipeline: global batch / (micro-batch · dp). */
  readonly microBatches: number
  readonly recompute: Recompute
  readonly zeroStage: ZeroStage
  /** FlashAttention-style attention (default true: no stored score matrix). */
  readonly flashAttention?: boolean
  /** Dropout in the model (default false, as in current LLM recipes; Korthikanti et al.'s GPT runs used it). */
  readonly dropout?: boolean
  /** What `recompute: 'selective'` keeps (default `'attention-core'`; see `SelectivePolicy`). */
  readonly selective?: SelectivePolicy
  /** Bytes per gradient element (default {@link fp32GradientBytes}: accumulated and reduced in fp32, as Megatron-LM and torchtitan run bf16; {@link defaultGradientBytes} for 16-bit reduction). */
  readonly gradientBytes?: number
  /**
   * The pipeline schedule (default `1f1b`; `zb-h1` keeps 1F1B's peak, Qi et al. 2023).
   * `dualpipe` (DeepSeek-V3 report, section 3.2.1 and table 2): each rank holds two
   * stages' parameters (and their gradients and optimizer state), and `pp + 1`
   * micro-batches' activations.
   */
  readonly schedule?: '1f1b' | 'zb-h1' | 'dualpipe'
  /**
   * What lives in host memory instead (Calculon's offload: Isaev et al. 2023, SC'23,
   * section 3): the 16-bit weights (and fp8 copies), the stored activations, the
   * optimizer state. The GPU keeps two layers' worth of each offloaded kind: the one
   * in use and the next in transfer.
   */
  readonly offload?: Offload
  /** The device's share of host memory (what offloaded bytes must fit in; 0 when absent). */
  readonly hostMemory?: Bytes
}

/** What a training run offloads to host memory. */
export interface Offload {
  readonly weights?: boolean
  readonly activations?: boolean
  readonly optimizer?: boolean
}

/**
 * Bytes of fp8 weight copies per GEMM parameter of the transformer layers (see the
 * module comment): with 8-bit activations, a row-wise and a column-wise copy in that
 * format, less the one the weights already are when they are stored in it; 0 otherwise.
 */
export const fp8WeightCopyBytes = (precision: Precision): number => {
  const a = bytesPerElement(precision.activations)
  if (a >= 2) return 0
  return 2 * a - (precision.weights === precision.activations ? a : 0)
}

/** Bytes of gradient elements kept in the weights' format, at least 16-bit (ZeRO's `2Ψ`; Megatron-LM's `--grad-reduce-in-bf16`, FSDP's `PURE`). */
export const defaultGradientBytes = (precision: Precision): number => Math.max(2, bytesPerElement(precision.weights))

/**
 * Bytes of gradient elements accumulated over the micro-batches and reduced in fp32:
 * Megatron-LM's bf16 default (`megatron/training/arguments.py`: "bfloat16 requires
 * gradient accumulation and all-reduce to be done in fp32"), whence its distributed
 * optimizer's `6 + 12/d` bytes per parameter (Megatron Core user guide, "Distributed
 * Optimizer"), and torchtitan's `mixed_precision_reduce = "float32"`.
 */
export const fp32GradientBytes = (precision: Precision): number => Math.max(4, bytesPerElement(precision.weights))

/** Parameter, gradient and optimizer bytes of one GPU. */
export interface StateBytes {
  readonly weights: Bytes
  readonly gradients: Bytes
  readonly optimizer: Bytes
  readonly total: Bytes
}

/** One GPU of a pipeline stage. */
export interface TrainingStage {
  readonly ppRank: number
  readonly parameters: StageParameters
  readonly weights: Bytes
  readonly gradients: Bytes
  readonly optimizer: Bytes
  /** Micro-batches' worth of the stage's layers held at the peak. */
  readonly microBatchesInFlight: number
  readonly activations: Bytes
  readonly reserve: Bytes
  readonly total: Bytes
  readonly capacity: Bytes
  /** Bytes offloaded to host memory, and the device's share of it. */
  readonly host: Bytes
  readonly hostCapacity: Bytes
  readonly fits: boolean
}

/** The training memory of a configuration. */
export interface TrainingMemory {
  readonly stages: ReadonlyArray<TrainingStage>
  /** The stage with the largest total. */
  readonly peak: TrainingStage
  readonly fits: boolean
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/**
 * Weights, gradients and optimizer state of `parameters` sharded by ZeRO `stage` over
 * a group of `group` GPUs (Rajbhandari et al. 2020, section 5).
 */
export const zeroStateBytes = (
  parameters: number,
  group: number,
  stage: ZeroStage,
  weightBytes: number,
  gradientBytes: number,
  optimizerBytes: number,
): StateBytes => {
  const weights = (parameters * weightBytes) / (stage >= 3 ? group : 1)
  const gradients = (parameters * gradientBytes) / (stage >= 2 ? group : 1)
  const optimizer = (parameters * optimizerBytes) / (stage >= 1 ? group : 1)
  return { weights: bytes(weights), gradients: bytes(gradients), optimizer: bytes(optimizer), total: bytes(weights + gradients + optimizer) }
}

/**
 * Parameters of the largest ZeRO-3 unit of a stage on one GPU before sharding: a layer's
 * share of the stage's attention and norms (and of anything else outside the root, the
 * MLPs and the experts), with its dense MLP or its MoE block (shared
 * experts, router, its routed experts).
 */
export const largestUnitParameters = (p: StageParameters, layers: number, moeLayers: number): number => {
  if (layers === 0) return 0
  const dense = layers - moeLayers
  // attention, norms and whatever else is not the root, the MLPs or the experts (a vision encoder), per layer
  const common = (p.denseTotal - p.embedding - p.lmHead - p.denseMlp - p.sharedExperts - p.router) / layers
  const denseUnit = dense > 0 ? common + p.denseMlp / dense : 0
  const moeUnit = moeLayers > 0 ? common + (p.sharedExperts + p.router + p.routedExperts) / moeLayers : 0
  return Math.max(denseUnit, moeUnit)
}

/** The training memory of `input` under `memoryModel` (default: {@link defaultMemoryModel}). */
export const trainingMemory =
  (memoryModel: MemoryModel = defaultMemoryModel) =>
  (input: TrainingInput): E.Either<MemoryError, TrainingMemory> => {
    const { model, strategy: s, precision, device } = input
    const zeroError: O.Option<MemoryError> = [0, 1, 2, 3].includes(input.zeroStage)
      ? O.none
      : O.some({ code: 'invalid-input', field: 'zeroStage', message: `zeroStage: expected 0, 1, 2 or 3, got ${input.zeroStage}` })
    const error = firstError([
      checkPositiveInteger('sequenceLength', input.sequenceLength),
      checkPositiveInteger('microBatch', input.microBatch),
      checkPositiveInteger('microBatches', input.microBatches),
      zeroError,
      checkStrategy(model, s),
      input.sequenceLength % s.cp === 0
        ? O.none
        : O.some({ code: 'invalid-input', field: 'sequenceLength', message: `sequenceLength: ${input.sequenceLength} tokens cannot be split over cp = ${s.cp}` }),
    ])
    if (O.isSome(error)) return E.left(error.value)
    const weightBytes = bytesPerElement(precision.weights)
    const gradientBytes = input.gradientBytes ?? fp32GradientBytes(precision)
    const copyBytes = fp8WeightCopyBytes(precision)
    const activation: ActivationInput = {
      model,
      strategy: s,
      sequenceLength: input.sequenceLength,
      microBatch: input.microBatch,
      dtype: precision.activations,
      dropout: input.dropout ?? false,
      flashAttention: input.flashAttention ?? true,
      ...(input.selective === undefined ? {} : { selective: input.selective }),
    }
    const stored = memoryModel.storedLayerBytes(activation, input.recompute)
    const moeLayer = isMoeLayer(model)
    const reserve = memoryModel.reserve(device)
    const stages = Array.from({ length: s.pp }, (_, ppRank): TrainingStage => {
      const parameters = memoryModel.stageParameters(model, s)(ppRank)
      const dense = zeroStateBytes(parameters.denseTotal, s.dp * s.cp, input.zeroStage, weightBytes, gradientBytes, memoryModel.optimizerBytesPerParameter)
      const expert = zeroStateBytes(parameters.expertTotal, expertDataParallel(s), input.zeroStage, weightBytes, gradientBytes, memoryModel.optimizerBytesPerParameter)
      const layers = layersOfStage(model, s)(ppRank)
      let perMicroBatch = 0
      let largestLayer = 0
      let largestStored = 0
      for (const layer of layers) {
        const kept = stored(moeLayer(layer))
        perMicroBatch += kept
        largestStored = Math.max(largestStored, kept)
        largestLayer = Math.max(largestLayer, memoryModel.storedLayerBytes(activation, 'none')(moeLayer(layer)))
      }
      const dualPipe = input.schedule === 'dualpipe'
      const inFlight = dualPipe ? s.pp + 1 : memoryModel.microBatchesInFlight(s.pp, s.virtualStages, input.microBatches, ppRank)
      const copies2 = dualPipe ? 2 : 1
      // full recomputation rebuilds one layer's activations at a time during the backward pass
      const recomputeBuffer = input.recompute === 'full' ? largestLayer : 0
      const offload = input.offload ?? {}
      // an offloaded kind keeps two layers' worth on the GPU, the rest in host memory
      const twoLayers = layers.length > 2 ? 2 / layers.length : 1
      const allStored = perMicroBatch * inFlight
      const storedOnGpu = offload.activations === true ? Math.min(allStored, 2 * largestStored) : allStored
      const activations = bytes(storedOnGpu + recomputeBuffer + memoryModel.edgeActivationBytes(activation, ppRank, inFlight))
      // fp8 copies of the layers' GEMM weights, sharded like the weights (ZeRO-3 over the group)
      const copies =
        copyBytes === 0
          ? 0
          : (copyBytes * (parameters.attention + parameters.denseMlp + parameters.sharedExperts)) / (input.zeroStage >= 3 ? s.dp * s.cp : 1) +
            (copyBytes * parameters.routedExperts) / (input.zeroStage >= 3 ? expertDataParallel(s) : 1)
      // ZeRO-3 gathers unit by unit (Zhao et al. 2023, "PyTorch FSDP", sections 3.3 and 4.2: one transformer layer per
      // unit, at most two all-gathers in flight): the root unit (embedding and LM head) kept from its gather to the end of
      // the backward, the largest layer unit computing and the next one prefetched, and that unit's unsharded
      // gradients before its reduce-scatter
      const gathering = input.zeroStage >= 3 && s.dp * s.cp > 1
      const unit = gathering ? largestUnitParameters(parameters, layers.length, layers.filter(moeLayer).length) : 0
      const gatheredWeights = gathering ? (parameters.embedding + parameters.lmHead + 2 * unit) * weightBytes : 0
      const gatheredGradients = gathering ? unit * gradientBytes : 0
      const ownWeights = dense.weights + expert.weights + copies
      const ownOptimizer = dense.optimizer + expert.optimizer
      const weights = bytes(copies2 * ((offload.weights === true ? twoLayers * ownWeights : ownWeights) + gatheredWeights))
      const gradients = bytes(copies2 * (dense.gradients + expert.gradients + gatheredGradients))
      const optimizer = bytes(copies2 * (offload.optimizer === true ? twoLayers * ownOptimizer : ownOptimizer))
      const host = bytes(copies2 * ((offload.weights === true ? ownWeights : 0) + (offload.optimizer === true ? ownOptimizer : 0)) + (offload.activations === true ? allStored : 0))
      const hostCapacity = input.hostMemory ?? bytes(0)
      const total = bytes(weights + gradients + optimizer + activations + reserve)
      return {
        ppRank,
        parameters,
        weights,
        gradients,
        optimizer,
        microBatchesInFlight: inFlight,
        activations,
        reserve,
        total,
        capacity: device.memory,
        host,
        hostCapacity,
        fits: total <= device.memory && host <= hostCapacity,
      }
    })
    const peak = stages.reduce((a, b) => (b.total > a.total ? b : a))
    return E.right({ stages, peak, fits: stages.every((stage) => stage.fits) })
  }
