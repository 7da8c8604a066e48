/**
 * A decoder-only transformer as the planner sees it: the shapes that decide how
 * many parameters it has, how it can be split and what its KV cache holds. Dense
 * and mixture-of-experts (routed experts with top-k routing, shared experts, leading
 * dense layers); attention as MHA, GQA or MLA (DeepSeek-V2/V3 latent attention);
 * MLP as a 2-matrix GELU or a 3-matrix SwiGLU.
 *
 * @example
 * import { models, moeLayerCount } from '@meshplan/model'
 * moeLayerCount(models['deepseek-v3']) // 58: layers 3..60 (the first 3 are dense)
 */
import type { Quantization } from './quantization'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Hugging Face `model_type` values meshplan imports. */
export const families = [
  'llama',
  'mistral',
  'mixtral',
  'qwen2',
  'qwen3',
  'qwen3_moe',
  'deepseek_v3',
  'gpt_neox',
  'gemma2',
  'gemma3',
  'phi3',
  'llama4',
  'gpt_oss',
  'glm4_moe',
] as const
export type Family = (typeof families)[number] | 'custom'

/** Multi-head (kvHeads = heads) or grouped-query (kvHeads < heads) attention. */
export interface HeadAttention {
  readonly kind: 'mha' | 'gqa'
  readonly heads: number
  readonly kvHeads: number
  readonly headDim: number
  /** Bias on the Q, K and V projections (Qwen2, GPT). */
  readonly qkvBias: boolean
  /** Bias on the output projection (GPT). */
  readonly outputBias: boolean
  /** Per-head RMSNorm on queries and keys (Qwen3): `2 * headDim` parameters per layer. */
  readonly qkNorm: boolean
  /** A learned sink logit per query head (gpt-oss `sinks`): `heads` parameters per layer. */
  readonly sinks?: boolean
}

/**
 * Multi-head latent attention (DeepSeek-V2 paper, section 2.1.2): keys and values are
 * compressed into a `kvLoraRank` latent plus a shared `qkRopeHeadDim` rotary key; only
 * those are cached. Queries optionally go through a `qLoraRank` low-rank projection.
 */
export interface LatentAttention {
  readonly kind: 'mla'
  readonly heads: number
  /** Rank of the query down-projection, or null when queries are projected directly. */
  readonly qLoraRank: number | null
  readonly kvLoraRank: number
  readonly qkNopeHeadDim: number
  readonly qkRopeHeadDim: number
  readonly vHeadDim: number
}

export type Attention = HeadAttention | LatentAttention

/**
 * A feed-forward block: `gelu` is up/down (2 matrices); `swiglu` (Llama) and `geglu`
 * (Gemma: GELU on the gate) are gated, gate/up/down (3 matrices; Shazeer 2020, "GLU
 * Variants Improve Transformer").
 */
export interface Mlp {
  readonly kind: 'gelu' | 'swiglu' | 'geglu'
  /** Intermediate (FFN) size. */
  readonly ffn: number
  /** Biases on the MLP projections (GPT). */
  readonly bias: boolean
}

/** The mixture-of-experts part of a model. */
export interface Moe {
  /** Routed experts per MoE layer. */
  readonly experts: number
  /** Routed experts each token is sent to. */
  readonly topK: number
  /** Intermediate size of one routed expert (SwiGLU). */
  readonly expertFfn: number
  /** Shared experts every token goes through, per MoE layer. */
  readonly sharedExperts: number
  /** Intermediate size of one shared expert (SwiGLU); 0 when there are none. */
  readonly sharedExpertFfn: number
  /** Leading layers that keep a dense MLP (DeepSeek `first_k_dense_replace`). */
  readonly firstDenseLayers: number
  /** After those, every `step`-th layer is MoE (Qwen `decoder_sparse_step`; 1: all of them). */
  readonly step: number
  /** The router has a per-expert bias (DeepSeek-V3 `e_score_correction_bias`, gpt-oss's router bias). */
  readonly routerBias: boolean
  /** Each routed expert has biases on its projections, `2·expertFfn + h` (gpt-oss). */
  readonly expertBias?: boolean
  /**
   * Group-limited routing (DeepSeek `n_group`, `topk_group`): the experts form `groups`
   * equal groups and a token's experts come from the `selected` groups that score highest
   * (DeepSeek-V2 report section 2.1.3, "device-limited routing"; DeepSeek-V3 report
   * section 2.1.2, "node-limited routing": with a group per node, a token reaches at most
   * `selected` nodes). Absent: any expert may be chosen.
   */
  readonly routingGroups?: { readonly groups: number; readonly selected: number }
}

/** A decoder-only transformer. */
export interface Architecture {
  readonly name: string
  readonly family: Family
  readonly hidden: number
  readonly layers: number
  readonly vocab: number
  readonly tiedEmbeddings: boolean
  readonly attention: Attention
  /** The MLP of dense layers (every layer of a dense model). */
  readonly mlp: Mlp
  /** Present for mixture-of-experts models. */
  readonly moe?: Moe
  readonly norm: 'rmsnorm' | 'layernorm'
  /** Rotary positions, or a learned position table of `maxPositions` rows (GPT). */
  readonly positions: 'rope' | 'learned'
  readonly maxPositions: number
  /**
   * Local attention span in tokens, where the model has one: a sliding window (Mistral,
   * Gemma, gpt-oss) or chunks (Llama 4). Which layers use it is `windowLayers`.
   */
  readonly slidingWindow?: number
  /** `sliding`: a query sees the `slidingWindow` keys before it; `chunked`: only the keys of its own chunk of `slidingWindow` tokens (Llama 4 `attention_chunk_size`). Default `sliding`. */
  readonly windowKind?: 'sliding' | 'chunked'
  /** Per layer, whether it attends within the window (the others attend to the whole context); absent: every layer does. */
  readonly windowLayers?: ReadonlyArray<boolean>
  /** Norms per layer over the hidden size: 2 (before attention and before the MLP), or 4 with Gemma's norms after each block too. Default 2. */
  readonly normsPerLayer?: number
  /** Parameters outside the decoder: a vision encoder and its projector (Gemma 3, Llama 4), held by the first pipeline stage. Default 0. */
  readonly encoderParameters?: number
  /** Where the numbers come from. */
  readonly source?: string
  /** The formats the checkpoint's `quantization_config` declares (Hugging Face import), when it has one. */
  readonly quantization?: Quantization
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** Whether layer `index` (0-based) has an MoE block. */
export const isMoeLayer =
  (arch: Architecture) =>
  (index: number): boolean => {
    const moe = arch.moe
    if (moe === undefined || index < moe.firstDenseLayers || index >= arch.layers) return false
    return (index - moe.firstDenseLayers) % moe.step === moe.step - 1
  }

/** Number of MoE layers. */
export const moeLayerCount = (arch: Architecture): number => {
  let count = 0
  for (let i = 0; i < arch.layers; i++) if (isMoeLayer(arch)(i)) count++
  return count
}

/** Number of layers with a dense MLP. */
export const denseLayerCount = (arch: Architecture): number => arch.layers - moeLayerCount(arch)

/** Whether layer `index` (0-based) attends within the window (see {@link Architecture.windowLayers}). */
export const isWindowLayer =
  (arch: Architecture) =>
  (index: number): boolean =>
    arch.slidingWindow !== undefined && (arch.windowLayers === undefined || arch.windowLayers[index] === true)

/** Layers that attend within a window: all of them when the model has a window on every layer, none without a window. */
export const windowLayerCount = (arch: Architecture): number => {
  if (arch.slidingWindow === undefined) return 0
  if (arch.windowLayers === undefined) return arch.layers
  let count = 0
  for (let i = 0; i < arch.layers; i++) if (arch.windowLayers[i] === true) count++
  return count
}

/** The share of layers that attend within the window, 0 to 1. */
export const windowShare = (arch: Architecture): number => windowLayerCount(arch) / arch.layers

/**
 * Where a model's layers attend within a window: the `span` in tokens (Infinity without
 * one), the `share` of the layers that do (0 to 1; the others attend to everything) and
 * whether the window is a chunk (Llama 4) rather than a sliding window.
 */
export interface AttentionWindow {
  readonly span: number
  readonly share: number
  readonly chunked: boolean
}

/** Every layer attends to the whole context. */
export const noWindow: AttentionWindow = { span: Number.POSITIVE_INFINITY, share: 0, chunked: false }

/** The window of a whole model: its span, the share of all its layers with it, its kind. */
export const attentionWindowOf = (arch: Architecture): AttentionWindow =>
  arch.slidingWindow === undefined ? noWindow : { span: arch.slidingWindow, share: windowShare(arch), chunked: arch.windowKind === 'chunked' }

/**
 * Keys one query at position `context` (1-based: itself and what comes before) reads,
 * averaged over the layers: a global layer `context`; a sliding-window layer (Beltagy et
 * al. 2020, "Longformer", section 3.1; Jiang et al. 2023, "Mistral 7B", section 2)
 * `min(context, W)`; a chunked one (Llama 4's `attention_chunk_size`: a query sees the
 * keys of its own chunk of W tokens) `context` within the first chunk and beyond it the
 * mean over a chunk's positions, `(W + 1) / 2`.
 */
export const windowedKeys = (context: number, window: AttentionWindow): number => {
  if (window.share === 0 || context <= window.span) return context
  const local = window.chunked ? (window.span + 1) / 2 : window.span
  return window.share * local + (1 - window.share) * context
}

/** Keys a query at `context` attends to, averaged over all layers of `arch` ({@link windowedKeys}). */
export const meanKeys = (arch: Architecture, context: number): number => windowedKeys(context, attentionWindowOf(arch))

/**
 * Tokens of a sequence of `context` whose keys and values a layer keeps, averaged over
 * the layers: a sliding-window layer keeps the last `W` (vLLM and SGLang free the rest),
 * a chunked layer at most its current chunk of `W`, a global layer all of them.
 */
export const meanCachedTokens = (arch: Architecture, context: number): number => {
  const w = attentionWindowOf(arch)
  return w.share * Math.min(context, w.span) + (1 - w.share) * context
}

/** Norms over the hidden size per layer (see {@link Architecture.normsPerLayer}). */
export const normsPerLayer = (arch: Architecture): number => arch.normsPerLayer ?? 2

/** Query heads. */
export const queryHeads = (arch: Architecture): number => arch.attention.heads

/**
 * Heads whose keys and values are cached separately: `kvHeads` for MHA and GQA; for
 * MLA the latent is one shared vector per token, so 1.
 */
export const kvHeads = (arch: Architecture): number => (arch.attention.kind === 'mla' ? 1 : arch.attention.kvHeads)
