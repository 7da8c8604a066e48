/**
 * Parameter counts of a decoder-only transformer, per block and in total, and the
 * parameters one token is routed through ("active per token") in a mixture of experts.
 *
 * Every count is an exact integer derived from the shapes in {@link Architecture}; the
 * per-block functions are the constants the memory and cost models reuse.
 *
 * Convention for `activePerToken` (the one Mistral and DeepSeek publish): everything
 * except the routed experts a token is *not* sent to, i.e. attention, norms, dense
 * MLPs, routers, the `topK` routed and all shared experts of every MoE layer, *and* the
 * input embedding and the LM head. DeepSeek's README_WEIGHTS.md states its 36.7B
 * "activation parameters" include "0.9B for Embedding and 0.9B for the output Head";
 * Mistral's 12.9B for Mixtral-8x7B is only reached with the embedding included.
 * `activeNonEmbeddingPerToken` leaves the input embedding (a table lookup, no
 * multiplication) out.
 *
 * @example
 * import { models, parameterCounts } from '@meshplan/model'
 * parameterCounts(models['llama-2-7b']).total // 6_738_415_616
 */
import type { Architecture } from './architecture'
import { denseLayerCount, isMoeLayer, moeLayerCount, normsPerLayer } from './architecture'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Parameters of a whole model, by component (each summed over all layers). */
export interface ParameterCounts {
  /** Token embedding table `vocab × hidden`, plus the learned position table when there is one. */
  readonly embedding: number
  /** Attention of all layers: projections, their biases and the norms inside attention. */
  readonly attention: number
  /** Dense MLPs of the dense layers. */
  readonly denseMlp: number
  /** Routers (gates) of the MoE layers. */
  readonly router: number
  /** All routed experts of all MoE layers. */
  readonly routedExperts: number
  /** All shared experts of all MoE layers. */
  readonly sharedExperts: number
  /** Per-layer norms (before attention and before the MLP) and the final norm. */
  readonly norms: number
  /** Output projection to the vocabulary; 0 when tied to the embedding. */
  readonly lmHead: number
  /** A vision encoder and its projector ({@link Architecture.encoderParameters}); 0 for a text-only model. */
  readonly encoder: number
  /** Everything above. */
  readonly total: number
  /**
   * Parameters a token goes through: `total` minus the `experts - topK` routed experts
   * it is not sent to in each MoE layer. Includes the input embedding and the LM head
   * (the convention of DeepSeek's README_WEIGHTS.md and of Mistral's Mixtral numbers).
   */
  readonly activePerToken: number
  /** `activePerToken` without the input embedding (and learned position) table. */
  readonly activeNonEmbeddingPerToken: number
}

// -------------------------------------------------------------------------------------
// operations: one block
// -------------------------------------------------------------------------------------

/**
 * Weight matrices of one layer's attention (no biases, no norms): what a token
 * multiplies. MHA/GQA: Q `h·H·d`, K and V `h·kv·d` each, O `H·d·h` (Vaswani et al.
 * 2017, section 3.2.2; GQA: Ainslie et al. 2023). MLA (DeepSeek-V3 report, section
 * 2.1.1, equations 1-11; the weights of DeepSeek-V3 `modeling_deepseek.py`): q_a `h·q_lora`
 * and q_b `q_lora·H·(nope+rope)` (or q `h·H·(nope+rope)` without a query low rank),
 * kv_a `h·(kv_lora+rope)`, kv_b `kv_lora·H·(nope+v)`, o `H·v·h`.
 */
export const attentionMatrixParameters = (arch: Architecture): number => {
  const a = arch.attention
  const h = arch.hidden
  if (a.kind === 'mla') {
    const qkHeadDim = a.qkNopeHeadDim + a.qkRopeHeadDim
    const query = a.qLoraRank === null ? h * a.heads * qkHeadDim : h * a.qLoraRank + a.qLoraRank * a.heads * qkHeadDim
    const keyValue = h * (a.kvLoraRank + a.qkRopeHeadDim) + a.kvLoraRank * a.heads * (a.qkNopeHeadDim + a.vHeadDim)
    const output = a.heads * a.vHeadDim * h
    return query + keyValue + output
  }
  return h * a.heads * a.headDim + 2 * h * a.kvHeads * a.headDim + a.heads * a.headDim * h
}

/**
 * One layer's attention: {@link attentionMatrixParameters} plus the vectors. MHA/GQA:
 * Q, K, V biases `(H + 2·kv)·d` (Qwen2, GPT), output bias `h` (GPT), Qwen3's per-head
 * RMSNorm on queries and keys `2·d`. MLA: the RMSNorms after the latents, q_a_norm
 * `q_lora` (when there is a query low rank) and kv_a_norm `kv_lora` (DeepSeek-V3
 * report, section 4.2: "additional RMSNorm layers after the compressed latent vectors").
 */
export const attentionParameters = (arch: Architecture): number => {
  const a = arch.attention
  if (a.kind === 'mla') return attentionMatrixParameters(arch) + (a.qLoraRank ?? 0) + a.kvLoraRank
  const qkvBias = a.qkvBias ? (a.heads + 2 * a.kvHeads) * a.headDim : 0
  const outputBias = a.outputBias ? arch.hidden : 0
  const qkNorm = a.qkNorm ? 2 * a.headDim : 0
  const sinks = a.sinks === true ? a.heads : 0
  return attentionMatrixParameters(arch) + qkvBias + outputBias + qkNorm + sinks
}

/**
 * Weight matrices of one dense MLP: GELU up/down `2·h·f` (Vaswani et al. 2017, section
 * 3.3; GPT-3), SwiGLU gate/up/down `3·h·f` (Shazeer 2020, "GLU Variants Improve
 * Transformer"; Llama).
 */
export const denseMlpMatrixParameters = (arch: Architecture): number =>
  (arch.mlp.kind === 'gelu' ? 2 : 3) * arch.hidden * arch.mlp.ffn

/** One dense MLP: {@link denseMlpMatrixParameters} plus biases `f + h` when it has them (GPT). */
export const denseMlpParameters = (arch: Architecture): number =>
  denseMlpMatrixParameters(arch) + (arch.mlp.bias ? arch.mlp.ffn + arch.hidden : 0)

/** The weight matrices of one routed expert, gate/up/down: `3·h·expertFfn`. 0 for a dense model. */
export const expertMatrixParameters = (arch: Architecture): number => (arch.moe === undefined ? 0 : 3 * arch.hidden * arch.moe.expertFfn)

/**
 * One routed expert, a SwiGLU: `3·h·expertFfn` (Mixtral, DeepSeekMoE, Qwen3-MoE), plus
 * biases `2·expertFfn + h` where it has them (gpt-oss `gate_up_proj_bias`,
 * `down_proj_bias`). 0 for a dense model.
 */
export const expertParameters = (arch: Architecture): number =>
  arch.moe === undefined ? 0 : expertMatrixParameters(arch) + (arch.moe.expertBias === true ? 2 * arch.moe.expertFfn + arch.hidden : 0)

/** One shared expert, a bias-free SwiGLU: `3·h·sharedExpertFfn` (DeepSeekMoE, Dai et al. 2024). 0 when there are none. */
export const sharedExpertParameters = (arch: Architecture): number =>
  arch.moe === undefined || arch.moe.sharedExperts === 0 ? 0 : 3 * arch.hidden * arch.moe.sharedExpertFfn

/**
 * The router of one MoE layer: a `h × E` gate, plus a per-expert bias `E` when it has
 * one (DeepSeek-V3's `e_score_correction_bias`, V3 paper section 2.1.2). 0 for a dense model.
 */
export const routerParameters = (arch: Architecture): number =>
  arch.moe === undefined ? 0 : arch.hidden * arch.moe.experts + (arch.moe.routerBias ? arch.moe.experts : 0)

/** Parameters of one norm over the hidden size: RMSNorm has a scale `h`, LayerNorm a scale and a shift `2h`. */
const hiddenNormParameters = (arch: Architecture): number => (arch.norm === 'rmsnorm' ? 1 : 2) * arch.hidden

/**
 * The per-layer norms: two (before attention, before the MLP): RMSNorm `2h`, LayerNorm
 * `4h`; Gemma 2 and 3 add one after each block (`post_attention_layernorm`,
 * `post_feedforward_layernorm`), four in all.
 */
export const normParameters = (arch: Architecture): number => normsPerLayer(arch) * hiddenNormParameters(arch)

/** The norm after the last layer: RMSNorm `h`, LayerNorm `2h`. */
export const finalNormParameters = (arch: Architecture): number => hiddenNormParameters(arch)

/** The MLP part of one MoE layer: all routed experts, all shared experts and the router. */
export const moeBlockParameters = (arch: Architecture): number =>
  arch.moe === undefined
    ? 0
    : arch.moe.experts * expertParameters(arch) + arch.moe.sharedExperts * sharedExpertParameters(arch) + routerParameters(arch)

/** Input embedding `V·h`, plus a learned position table `maxPositions·h` (GPT-2/3). */
export const embeddingParameters = (arch: Architecture): number =>
  arch.vocab * arch.hidden + (arch.positions === 'learned' ? arch.maxPositions * arch.hidden : 0)

/** Output projection `V·h`; 0 when it is tied to the input embedding. */
export const lmHeadParameters = (arch: Architecture): number => (arch.tiedEmbeddings ? 0 : arch.vocab * arch.hidden)

/** All parameters of layer `index` (0-based): attention, the two norms, and its dense MLP or MoE block. */
export const layerParameters =
  (arch: Architecture) =>
  (index: number): number =>
    attentionParameters(arch) + normParameters(arch) + (isMoeLayer(arch)(index) ? moeBlockParameters(arch) : denseMlpParameters(arch))

// -------------------------------------------------------------------------------------
// operations: whole model
// -------------------------------------------------------------------------------------

/** Parameter counts of the whole model by component, with `total` and the active counts. */
export const parameterCounts = (arch: Architecture): ParameterCounts => {
  const moeLayers = moeLayerCount(arch)
  const moe = arch.moe
  const embedding = embeddingParameters(arch)
  const attention = arch.layers * attentionParameters(arch)
  const denseMlp = denseLayerCount(arch) * denseMlpParameters(arch)
  const router = moeLayers * routerParameters(arch)
  const routedExperts = moe === undefined ? 0 : moeLayers * moe.experts * expertParameters(arch)
  const sharedExperts = moe === undefined ? 0 : moeLayers * moe.sharedExperts * sharedExpertParameters(arch)
  const norms = arch.layers * normParameters(arch) + finalNormParameters(arch)
  const lmHead = lmHeadParameters(arch)
  const encoder = arch.encoderParameters ?? 0
  const total = embedding + attention + denseMlp + router + routedExperts + sharedExperts + norms + lmHead + encoder
  const idleExperts = moe === undefined ? 0 : moeLayers * (moe.experts - moe.topK) * expertParameters(arch)
  // a text token does not go through the vision encoder
  const activePerToken = total - idleExperts - encoder
  return {
    embedding,
    attention,
    denseMlp,
    router,
    routedExperts,
    sharedExperts,
    norms,
    lmHead,
    encoder,
    total,
    activePerToken,
    activeNonEmbeddingPerToken: activePerToken - embedding,
  }
}
