/**
 * The estimate of one training step: the figures a search ranks by (iteration time,
 * tokens/s and model FLOP/s per GPU, MFU), where the time goes (compute, the pipeline
 * bubble, exposed communication per kind, the optimizer step: they add up to the
 * iteration), and per pipeline stage what one micro-batch costs and the memory of one
 * GPU. Built on the same constants and arithmetic as the search ({@link evaluateTraining}),
 * so an estimate reports exactly what a search ranks; the memory per stage is
 * @meshplan/memory's `trainingMemory`, which the fast path reproduces.
 *
 * MFU counts model FLOPs without recomputation, `6N + attention` per token (Megatron-LM
 * reports it so: Korthikanti et al. 2022, section 6; Chowdhery et al. 2022, appendix B),
 * with the attention a causal model must compute (each query attends to the keys before
 * it), so that it never exceeds 1; `mfuFullAttention` is the papers' count (attention
 * over the whole sequence), to compare with published MFUs.
 *
 * @example
 * import { defaultCostModels } from '@meshplan/cost-models'
 * import { estimateTraining } from '@meshplan/training'
 * import { models, defaultPrecision } from '@meshplan/model'
 * import { presets } from '@meshplan/topology'
 * import { strategy } from '@meshplan/parallelism'
 * const e = estimateTraining(defaultCostModels)({
 *   model: models['gpt3-175b'], cluster, precision: defaultPrecision,
 *   strategy: strategy({ tp: 8, pp: 8, dp: 16, sequenceParallel: true }),
 *   workload: { globalBatch: 1536, microBatch: 1, sequenceLength: 2048, recompute: 'selective', zeroStage: 1 },
 * })
 * // right({ iterationSeconds, mfu, breakdown: { compute, bubble, exposed, optimizer }, stages: [...], memory: { fits } })
 */
import * as E from 'fp-ts/Either'
import { trainingMemory, type TrainingMemory } from '@meshplan/memory'
import { describe, validate, worldOf, type Strategy } from '@meshplan/parallelism'
import { estimateError, unphysical, type CostModels, type EstimateError } from '@meshplan/cost-models'
import {
  activationConstants,
  activationFlags,
  epOverlapOf,
  evaluateTraining,
  microConstants,
  recomputeIndex,
  stageTimes,
  strategyConstants,
  trainingContext,
  trainingFigures,
  trainingStageSeconds,
  tpOverlapOf,
  type StageTimes,
  type StrategyConstants,
  type TrainingInput,
} from './kernel'
import { offloadBits, trainingFits, type TrainingWorkload } from './workload'
import { bytes } from '@meshplan/units'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Seconds of one step by where they go; they add up to the iteration time. */
export interface TrainingBreakdown {
  /** The slowest stage's forward, backward and recomputation over all micro-batches. */
  readonly compute: number
  /** Compute lost to the SMs that communication running beside it occupies (`commSmShare` of each hidden second). */
  readonly contention: number
  /** The pipeline's fill and drain. */
  readonly bubble: number
  /** Communication on the critical path, per kind (dp includes the reduction after the drain and ZeRO's gathers). */
  readonly exposed: Readonly<Record<'tp' | 'cp' | 'ep' | 'pp' | 'dp', number>>
  /** Offload traffic on the host link the compute leaves exposed. */
  readonly offload: number
  readonly optimizer: number
}

/** One class of pipeline stages (the same layers and role). */
export interface TrainingStageEstimate {
  readonly ranks: ReadonlyArray<number>
  readonly layers: number
  readonly moeLayers: number
  /** What it holds beyond its layers. */
  readonly holds: ReadonlyArray<'embedding' | 'lm_head'>
  /** One micro-batch on one GPU of the stage, seconds. */
  readonly microBatch: {
    readonly forward: number
    readonly backward: number
    readonly recompute: number
    readonly communication: Readonly<Record<'tp' | 'cp' | 'ep' | 'pp' | 'dp', number>>
    readonly hidden: number
    /** Host-link traffic of offload, and what of it the compute leaves exposed. */
    readonly offload: number
    readonly offloadExposed: number
    readonly total: number
  }
  /** Bytes on one GPU of the class's fullest rank. */
  readonly memory: {
    readonly weights: number
    readonly gradients: number
    readonly optimizer: number
    readonly activations: number
    readonly reserve: number
    readonly total: number
    /** Bytes offloaded to host memory. */
    readonly host: number
    readonly fits: boolean
  }
}

export interface TrainingEstimate {
  readonly description: string
  readonly strategy: Strategy
  readonly workload: TrainingWorkload
  readonly gpus: number
  readonly microBatches: number
  readonly iterationSeconds: number
  readonly tokensPerSecond: number
  readonly tokensPerSecondPerGpu: number
  /** Model FLOP/s per GPU (no recomputation counted; causal attention). */
  readonly modelFlopsPerGpu: number
  /** Model FLOPs utilization, causal attention counted: below 1. */
  readonly mfu: number
  /** The same with attention over the whole sequence, as PaLM and Megatron-LM report it (it can pass 1 at long context). */
  readonly mfuFullAttention: number
  /** The pipeline bubble over the rest of the step (drain and optimizer included), so a little under `(p − 1)/(m·v)` for equal stages. */
  readonly bubbleFraction: number
  readonly breakdown: TrainingBreakdown
  readonly stages: ReadonlyArray<TrainingStageEstimate>
  /** Bytes on the fullest GPU and its capacity; with offload, the most any GPU keeps in host memory and its share of it. */
  readonly memory: { readonly peak: number; readonly capacity: number; readonly host: number; readonly hostCapacity: number; readonly fits: boolean }
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const stagesOf = (k: StrategyConstants, times: ReadonlyArray<StageTimes>, memory: TrainingMemory): ReadonlyArray<TrainingStageEstimate> => {
  const s = k.strategy
  return k.classes.map((cls, i) => {
    const t = times[i] ?? stageTimes()
    const ranks = Array.from({ length: s.pp }, (_, r) => r).filter((r) => k.rankClass[r] === i)
    const fullest = ranks.map((r) => memory.stages[r]).reduce((a, b) => (a === undefined || (b !== undefined && b.total > a.total) ? b : a), undefined)
    return {
      ranks,
      layers: cls.layers,
      moeLayers: cls.moeLayers,
      holds: [...(cls.first === 1 ? (['embedding'] as const) : []), ...(cls.last === 1 ? (['lm_head'] as const) : [])],
      microBatch: {
        forward: t.forward,
        backward: t.forwardBackward - t.forward,
        recompute: t.recompute,
        communication: { tp: t.tp, cp: t.cp, ep: t.ep, pp: t.pp, dp: t.dp },
        hidden: t.hidden,
        offload: t.offload,
        offloadExposed: t.offloadExposed,
        total: t.total,
      },
      memory: {
        weights: fullest?.weights ?? 0,
        gradients: fullest?.gradients ?? 0,
        optimizer: fullest?.optimizer ?? 0,
        activations: fullest?.activations ?? 0,
        reserve: fullest?.reserve ?? 0,
        total: fullest?.total ?? 0,
        host: fullest?.host ?? 0,
        fits: fullest?.fits ?? false,
      },
    }
  })
}

/**
 * Estimates one training step of `input`: checks the strategy against the model and the
 * cluster and the workload against the strategy, then composes the cost models (see the
 * `training` module for how).
 */
export const estimateTraining =
  (models: CostModels) =>
  (input: TrainingInput): E.Either<EstimateError, TrainingEstimate> => {
    const { model, cluster, strategy: s, precision, workload: w } = input
    const fits = trainingFits(w, s)
    if (E.isLeft(fits)) return fits
    const offload = offloadBits(w.offload)
    if (offload !== 0 && cluster.host === undefined) {
      return E.left(estimateError('invalid-workload', `workload.offload: ${JSON.stringify(w.offload)} needs host memory, and the cluster gives none (a cluster file's host: { memory, bandwidth })`))
    }
    const valid = validate({ model, cluster, gpus: worldOf(s), sequenceLength: w.sequenceLength })(s)
    if (E.isLeft(valid)) return E.left(estimateError('invalid-strategy', valid.left.map((v) => v.message).join('; '), valid.left))
    const context = trainingContext(models, {
      model,
      cluster,
      precision,
      sequenceLength: w.sequenceLength,
      ...(input.order === undefined ? {} : { order: input.order }),
      ...(w.gradientReduce === undefined ? {} : { gradientReduce: w.gradientReduce }),
    })
    if (E.isLeft(context)) return context
    const c = context.right
    const k = strategyConstants(c, s)
    if (E.isLeft(k)) return k
    const u = microConstants(c, k.right, s, w.microBatch)
    if (E.isLeft(u)) return u
    const a = activationConstants(c, s, w.microBatch, w.recompute)
    const memory = trainingMemory(models.memory)({
      model,
      strategy: s,
      precision,
      device: cluster.device,
      sequenceLength: w.sequenceLength,
      microBatch: w.microBatch,
      microBatches: w.globalBatch / (w.microBatch * s.dp),
      recompute: w.recompute,
      zeroStage: w.zeroStage,
      gradientBytes: c.gradientBytes,
      ...(offload === 0 ? {} : { offload: { weights: (offload & 1) !== 0, activations: (offload & 2) !== 0, optimizer: (offload & 4) !== 0 } }),
      hostMemory: bytes(c.hostCapacity),
      ...(w.schedule === undefined ? {} : { schedule: w.schedule }),
      ...activationFlags(c.attentionKernel),
      ...(c.selective.policy === 'attention-core' ? {} : { selective: c.selective.policy }),
    })
    if (E.isLeft(memory)) return E.left(estimateError('invalid-workload', memory.left.message))
    const schedule = w.schedule ?? '1f1b'
    const tpOverlap = tpOverlapOf(c, w.tpCommOverlap)
    const f = evaluateTraining(c, k.right, u.right, a, w.globalBatch, w.microBatch, w.recompute, w.zeroStage, trainingFigures(), schedule, tpOverlap, offload)
    const rc = recomputeIndex[w.recompute]
    const times = k.right.classes.map((cls) => trainingStageSeconds(c, s, cls, u.right, rc, w.zeroStage, stageTimes(), epOverlapOf(c, schedule), tpOverlap, a, offload))
    const iteration = f.iteration
    const gpus = worldOf(s)
    const ideal = iteration - f.bubble
    const estimate: TrainingEstimate = {
      description: describe(s),
      strategy: s,
      workload: w,
      gpus,
      microBatches: f.microBatches,
      iterationSeconds: iteration,
      tokensPerSecond: f.tokensPerSecondPerGpu * gpus,
      tokensPerSecondPerGpu: f.tokensPerSecondPerGpu,
      modelFlopsPerGpu: f.modelFlopsPerGpu,
      mfu: f.mfu,
      mfuFullAttention: (f.mfu * c.fullAttentionFlopsPerToken) / c.flopsPerToken,
      bubbleFraction: ideal > 0 ? f.bubble / ideal : 0,
      breakdown: {
        compute: f.compute,
        contention: f.contention,
        bubble: f.bubble,
        exposed: { tp: f.tp, cp: f.cp, ep: f.ep, pp: f.pp, dp: f.dp },
        offload: f.offload,
        optimizer: f.optimizer,
      },
      stages: stagesOf(k.right, times, memory.right),
      memory: {
        peak: memory.right.peak.total,
        capacity: cluster.device.memory,
        host: memory.right.stages.reduce((most, stage) => (stage.host > most ? stage.host : most), 0),
        hostCapacity: c.hostCapacity,
        fits: memory.right.fits,
      },
    }
    const bad = unphysical(estimate, ['iterationSeconds', 'tokensPerSecond', 'tokensPerSecondPerGpu', 'modelFlopsPerGpu', 'mfu'])
    if (bad !== undefined) return E.left(estimateError('unphysical', `${estimate.description}: the models gave an unphysical figure: ${bad}`))
    if (estimate.mfu >= 1) return E.left(estimateError('unphysical', `${estimate.description}: the models gave an MFU of ${estimate.mfu}, at or above 1 (faster than the peak)`))
    return E.right(estimate)
  }
