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
export const families = ['llama', 'mistral', 'mixtral', 'qwen2', 'qwen3', 'qwen3_moe', 'deepseek_v3', 'gpt_neox'] as const
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

/** A feed-forward block: `gelu` is up/down (2 matrices), `swiglu` is gate/up/down (3 matrices). */
export interface Mlp {
  readonly kind: 'gelu' | 'swiglu'
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
  /** The router has a per-expert bias (DeepSeek-V3 `e_score_correction_bias`). */
  readonly routerBias: boolean
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
  /** Sliding-window attention span in tokens, where the config has one (Mistral). */
  readonly slidingWindow?: number
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

/** Query heads. */
export const queryHeads = (arch: Architecture): number => arch.attention.heads

/**
 * Heads whose keys and values are cached separately: `kvHeads` for MHA and GQA; for
 * MLA the latent is one shared vector per token, so 1.
 */
export const kvHeads = (arch: Architecture): number => (arch.attention.kind === 'mla' ? 1 : arch.attention.kvHeads)
