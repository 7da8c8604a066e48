/**
 * Parameters one GPU holds, by component, after sharding by a strategy: the numbers
 * every memory figure starts from.
 *
 * Sharding (Shoeybi et al. 2019 for TP; Megatron-Core for the rest):
 * - attention projections are split over `tp`; KV projections are replicated when `tp`
 *   exceeds the KV heads (each GPU keeps one KV head's projections); for MLA the query
 *   and KV down-projections (`q_a`, `kv_a`) are replicated across `tp` (Megatron-Core
 *   builds them as duplicated linear layers) and the up-projections and output are split;
 * - dense MLPs and shared experts are split over `tp`; routers are replicated;
 * - each MoE layer holds `experts / ep` routed experts, each split over `etp`;
 * - a pipeline stage holds its layers (interleaved chunks included); the first stage the
 *   embedding and the last the LM head, each split over `tp` (with tied embeddings and
 *   `pp > 1` the last stage keeps its own copy, as Megatron-LM does);
 * - norms and biases that are not split are counted whole on every GPU.
 *
 * @example
 * import { models } from '@meshplan/model'
 * import { strategy } from '@meshplan/parallelism'
 * import { stageParameters } from '@meshplan/memory'
 * stageParameters(models['llama-2-70b'], strategy({ tp: 8 }))(0).total // 68.98e9 / 8, about 8.62e9
 */
import {
  attentionMatrixParameters,
  attentionParameters,
  denseMlpParameters,
  expertParameters,
  finalNormParameters,
  isMoeLayer,
  normParameters,
  routerParameters,
  sharedExpertParameters,
  weightBytesPerParameter,
  type Architecture,
  type Precision,
} from '@meshplan/model'
import { kvHeadsPerGpu, layersOfStage, type Strategy } from '@meshplan/parallelism'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Parameters on one GPU of a pipeline stage, by component. */
export interface StageParameters {
  readonly attention: number
  readonly denseMlp: number
  readonly sharedExperts: number
  readonly router: number
  /** Routed-expert parameters on this GPU: its `experts / ep` experts of each MoE layer, `1 / etp` of each. */
  readonly routedExperts: number
  readonly norms: number
  readonly embedding: number
  readonly lmHead: number
  /** A vision encoder and its projector (first stage, split over `tp`). */
  readonly encoder: number
  /** Everything above. */
  readonly total: number
  /** The part replicated over the expert data-parallel group (`routedExperts`); the rest over `dp * cp`. */
  readonly expertTotal: number
  /** `total - expertTotal`. */
  readonly denseTotal: number
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** Attention parameters of one layer on one GPU of the TP group. */
export const attentionParametersPerGpu =
  (model: Architecture) =>
  (tp: number): number => {
    const a = model.attention
    const h = model.hidden
    if (a.kind === 'mla') {
      const qkHeadDim = a.qkNopeHeadDim + a.qkRopeHeadDim
      const queryDown = a.qLoraRank === null ? 0 : h * a.qLoraRank + a.qLoraRank
      const queryUp = a.qLoraRank === null ? h * a.heads * qkHeadDim : a.qLoraRank * a.heads * qkHeadDim
      const keyValueDown = h * (a.kvLoraRank + a.qkRopeHeadDim) + a.kvLoraRank
      const keyValueUp = a.kvLoraRank * a.heads * (a.qkNopeHeadDim + a.vHeadDim)
      const output = a.heads * a.vHeadDim * h
      return queryDown + keyValueDown + (queryUp + keyValueUp + output) / tp
    }
    const kvPerGpu = kvHeadsPerGpu(model)(tp)
    const query = (h * a.heads * a.headDim) / tp
    const keyValue = 2 * h * kvPerGpu * a.headDim
    const output = (a.heads * a.headDim * h) / tp
    // biases and norms: what is left of attentionParameters once the matrices are taken out, split like their matrices (approximately: over tp)
    const vectors = (attentionParameters(model) - attentionMatrixParameters(model)) / tp
    return query + keyValue + output + vectors
  }

/** The parameters one GPU of pipeline stage `ppRank` holds under `s` (assumes `s` satisfies the laws). */
export const stageParameters =
  (model: Architecture, s: Strategy) =>
  (ppRank: number): StageParameters => {
    const layers = layersOfStage(model, s)(ppRank)
    const moe = model.moe
    let attention = 0
    let denseMlp = 0
    let sharedExperts = 0
    let router = 0
    let routedExperts = 0
    let norms = 0
    const attentionPerLayer = attentionParametersPerGpu(model)(s.tp)
    const moeLayer = isMoeLayer(model)
    for (const layer of layers) {
      attention += attentionPerLayer
      norms += normParameters(model)
      if (moe !== undefined && moeLayer(layer)) {
        sharedExperts += (moe.sharedExperts * sharedExpertParameters(model)) / s.tp
        router += routerParameters(model)
        routedExperts += ((moe.experts / s.ep) * expertParameters(model)) / s.etp
      } else {
        denseMlp += denseMlpParameters(model) / s.tp
      }
    }
    const first = ppRank === 0
    const last = ppRank === s.pp - 1
    const table = (model.vocab * model.hidden) / s.tp
    const positions = model.positions === 'learned' ? model.maxPositions * model.hidden : 0
    const embedding = first ? table + positions : 0
    // the LM head: its own matrix when untied; with tied embeddings, a copy on the last stage only when it is not also the first
    const lmHead = last && (!model.tiedEmbeddings || !first) ? table : 0
    if (last) norms += finalNormParameters(model)
    // vLLM and SGLang shard the vision encoders' linear layers over the TP group
    const encoder = first ? (model.encoderParameters ?? 0) / s.tp : 0
    const total = attention + denseMlp + sharedExperts + router + routedExperts + norms + embedding + lmHead + encoder
    return {
      attention,
      denseMlp,
      sharedExperts,
      router,
      routedExperts,
      norms,
      embedding,
      lmHead,
      encoder,
      total,
      expertTotal: routedExperts,
      denseTotal: total - routedExperts,
    }
  }

/**
 * Bytes of the weights of `p` under `precision`: each component at its bytes per
 * parameter (`weightBytesPerParameter` of @meshplan/model: the precision's format, or a
 * quantized checkpoint's with its scales where it quantizes and 16-bit elsewhere).
 */
export const stageWeightBytes = (model: Architecture, precision: Precision, p: StageParameters): number => {
  const per = weightBytesPerParameter(model, precision)
  return (
    p.attention * per('attention') +
    p.denseMlp * per('denseMlp') +
    p.sharedExperts * per('sharedExperts') +
    p.router * per('router') +
    p.routedExperts * per('routedExperts') +
    p.norms * per('norms') +
    p.embedding * per('embedding') +
    p.lmHead * per('lmHead') +
    p.encoder * per('encoder')
  )
}
