/**
 * The laws of the algebra as plain predicates over numbers, shared by `validate`
 * (which turns a false one into a violation with a suggestion) and `enumerate`
 * (which only walks degrees that satisfy them), so the two can never disagree.
 * Sources are given in `validate.ts`.
 *
 * @example
 * import { tpSplitsAttention } from '@meshplan/parallelism'
 * tpSplitsAttention(models['llama-2-70b'])(16) // true: 64 heads split, 8 KV heads replicated twice
 */
import { denseLayerCount, type Architecture } from '@meshplan/model'
import { divides } from './arithmetic'
import type { PipelineSplit } from './strategy'

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** `tp` divides the query heads and, for MHA/GQA, the KV heads divide `tp` or are divided by it. */
export const tpSplitsAttention =
  (model: Architecture) =>
  (tp: number): boolean => {
    const attention = model.attention
    if (!divides(tp, attention.heads)) return false
    return attention.kind === 'mla' || divides(tp, attention.kvHeads) || divides(attention.kvHeads, tp)
  }

/** `tp` divides the dense FFN size (when there are dense layers) and the shared experts' FFN size. */
export const tpSplitsMlp =
  (model: Architecture) =>
  (tp: number): boolean => {
    if (denseLayerCount(model) > 0 && !divides(tp, model.mlp.ffn)) return false
    const moe = model.moe
    return moe === undefined || moe.sharedExperts === 0 || divides(tp, moe.sharedExperts * moe.sharedExpertFfn)
  }

/** `pp * virtualStages` divides the layers, and interleaving has more than one stage. */
export const ppSplitsLayers =
  (model: Architecture) =>
  (pp: number, virtualStages: number): boolean =>
    divides(pp * virtualStages, model.layers) && (virtualStages === 1 || pp > 1)

/**
 * The numbers of an uneven split (Megatron-Core `TransformerConfig.__post_init__`, uneven
 * PP): the layers and stages left between the first and the last stage once the given
 * ones are taken out.
 */
export const middleOfSplit = (layers: number, pp: number, split: PipelineSplit): { readonly layers: number; readonly stages: number } => ({
  layers: layers - (split.firstStageLayers ?? 0) - (split.lastStageLayers ?? 0),
  stages: pp - (split.firstStageLayers === undefined ? 0 : 1) - (split.lastStageLayers === undefined ? 0 : 1),
})

/** A split with layer counts does not also count the embedding or the loss as a layer (Megatron-Core refuses both). */
export const splitKindsExclusive = (split: PipelineSplit): boolean =>
  !((split.firstStageLayers !== undefined || split.lastStageLayers !== undefined) && (split.embeddingInSplit === true || split.lossInSplit === true))

/** The first and last stages' layers are whole numbers of chunks: each a multiple of `virtualStages`. */
export const edgeStagesSplitChunks = (split: PipelineSplit, virtualStages: number): boolean =>
  [split.firstStageLayers, split.lastStageLayers].every((n) => n === undefined || (Number.isInteger(n) && n >= 1 && n % virtualStages === 0))

/**
 * The middle of an uneven split: middle layers exactly when there are middle stages, and
 * each middle stage holding a whole number of chunks: `stages · virtualStages` divides the
 * middle layers.
 */
export const middleSplitsEvenly = (layers: number, pp: number, virtualStages: number, split: PipelineSplit): boolean => {
  const middle = middleOfSplit(layers, pp, split)
  if (middle.layers < 0) return false
  if (middle.stages === 0) return middle.layers === 0
  return middle.layers > 0 && divides(middle.stages * virtualStages, middle.layers)
}

/** With the embedding and/or the loss counted as a layer, `pp · virtualStages` divides `layers + [embedding] + [loss]`. */
export const accountedSplitsEvenly = (layers: number, pp: number, virtualStages: number, split: PipelineSplit): boolean =>
  divides(pp * virtualStages, layers + (split.embeddingInSplit === true ? 1 : 0) + (split.lossInSplit === true ? 1 : 0))

/** `ep` divides the routed experts (a dense model allows only 1). */
export const epSplitsExperts =
  (model: Architecture, redundant = 0) =>
  (ep: number): boolean =>
    model.moe === undefined ? ep === 1 : divides(ep, model.moe.experts + redundant)

/** `etp` divides the expert FFN size (a dense model allows only 1). */
export const etpSplitsExpert =
  (model: Architecture) =>
  (etp: number): boolean =>
    model.moe === undefined ? etp === 1 : divides(etp, model.moe.expertFfn)

/** MoE layers re-fold a stage of `stageWidth = tp * dp * cp` GPUs as `ep * etp * edp`. */
export const expertsFold = (stageWidth: number, ep: number, etp: number): boolean => divides(ep * etp, stageWidth)

/** Load-balanced causal context parallelism cuts the sequence into `2 * cp` equal chunks. */
export const cpSplitsSequence = (sequenceLength: number | undefined, cp: number): boolean =>
  cp === 1 || sequenceLength === undefined || divides(2 * cp, sequenceLength)

/** Sequence parallelism needs `tp > 1` and, with a known length, `tp` dividing each GPU's tokens. */
export const spFits = (sequenceLength: number | undefined, tp: number, cp: number, sequenceParallel: boolean): boolean =>
  !sequenceParallel || (tp > 1 && (sequenceLength === undefined || divides(tp, sequenceLength / cp)))

/**
 * KV heads one GPU of a TP group of `tp` holds: `kvHeads / tp` when `tp` splits them,
 * one (replicated `tp / kvHeads` times) when `tp` exceeds them (Megatron-LM GQA). For
 * MLA, the one latent shared by all heads, held whole: 1.
 */
export const kvHeadsPerGpu =
  (model: Architecture) =>
  (tp: number): number =>
    model.attention.kind === 'mla' ? 1 : Math.max(1, model.attention.kvHeads / tp)
