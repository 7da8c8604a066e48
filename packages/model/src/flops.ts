/**
 * Floating-point operations per token of a forward pass and of a training step.
 *
 * Conventions: 2 FLOPs per multiply-accumulate of every matrix multiplication a token
 * passes through (Kaplan et al. 2020, "Scaling Laws for Neural Language Models", table
 * 1: `C_forward ≈ 2N + 2·n_layer·n_ctx·d_attn`). That is the attention projections, the
 * dense MLP or the router with the `topK` routed and the shared experts, and the LM
 * head (also when tied: the matmul happens); not the embedding lookup, biases, norms,
 * softmax or activations. Attention over a context adds the score `QKᵀ` and the context
 * `A·V` products, `2·2·layers·heads·headDim·context` (Hoffmann et al. 2022,
 * "Training Compute-Optimal Large Language Models", appendix F; Kaplan's table 1
 * counts only the first half). A training step is forward + backward = 3 × forward
 * (Kaplan section 2.1; Narayanan et al. 2021, "Efficient Large-Scale Language Model
 * Training on GPU Clusters Using Megatron-LM", section 5.1, without recomputation).
 *
 * @example
 * import { forwardFlopsPerToken, models } from '@meshplan/model'
 * forwardFlopsPerToken(4096)(models['llama-2-7b']) // 15_361_638_400: 2 × 6.61e9 matmul weights + 2.15e9 attention
 */
import { flops, type Flops } from '@meshplan/units'
import type { Architecture } from './architecture'
import { denseLayerCount, meanKeys, moeLayerCount } from './architecture'
import {
  attentionMatrixParameters,
  denseMlpMatrixParameters,
  expertMatrixParameters,
  sharedExpertParameters,
} from './parameters'

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/**
 * Weights one token multiplies in a forward pass: per layer the attention matrices,
 * per dense layer the MLP matrices, per MoE layer the router gate `h·E` and `topK`
 * routed plus all shared experts, and the LM head `V·h` (tied or not).
 */
export const matmulParametersPerToken = (arch: Architecture): number => {
  const moe = arch.moe
  const moeBlock =
    moe === undefined ? 0 : arch.hidden * moe.experts + moe.topK * expertMatrixParameters(arch) + moe.sharedExperts * sharedExpertParameters(arch)
  return (
    arch.layers * attentionMatrixParameters(arch) +
    denseLayerCount(arch) * denseMlpMatrixParameters(arch) +
    moeLayerCount(arch) * moeBlock +
    arch.vocab * arch.hidden
  )
}

/** FLOPs of the weight matmuls of one token's forward pass: `2 ×` {@link matmulParametersPerToken} (Kaplan et al. 2020, table 1). */
export const matmulFlopsPerToken = (arch: Architecture): Flops => flops(2 * matmulParametersPerToken(arch))

/**
 * FLOPs of one token attending to `context` keys (itself included), over all layers:
 * `2·heads·qkHeadDim·context` for the scores and `2·heads·vHeadDim·context` for the
 * weighted values (Hoffmann et al. 2022, appendix F). MHA/GQA: both head dims are
 * `headDim` (GQA shares keys, not work). MLA in its explicit form, as in training:
 * `qkHeadDim = nope + rope`, `vHeadDim = v` (DeepSeek-V3 report, section 2.1.1); the
 * weight-absorbed decode form works in the latent space and costs more. In a window
 * layer the token sees at most the window's keys ({@link meanKeys}: averaged over the
 * layers, window layers and global ones).
 */
export const attentionFlopsPerToken =
  (context: number) =>
  (arch: Architecture): Flops => {
    const keys = meanKeys(arch, context)
    const a = arch.attention
    const perHead = a.kind === 'mla' ? a.qkNopeHeadDim + a.qkRopeHeadDim + a.vHeadDim : 2 * a.headDim
    return flops(2 * arch.layers * a.heads * perHead * keys)
  }

/** Forward FLOPs of one token attending to `context` keys: matmuls plus attention. */
export const forwardFlopsPerToken =
  (context: number) =>
  (arch: Architecture): Flops =>
    flops(matmulFlopsPerToken(arch) + attentionFlopsPerToken(context)(arch))

/**
 * Training FLOPs of one token (forward and backward, no recomputation): `3 ×` forward,
 * the backward pass costing two forwards (gradients with respect to activations and to
 * weights; Kaplan et al. 2020 section 2.1, Narayanan et al. 2021 section 5.1).
 */
export const trainingFlopsPerToken =
  (context: number) =>
  (arch: Architecture): Flops =>
    flops(3 * forwardFlopsPerToken(context)(arch))
