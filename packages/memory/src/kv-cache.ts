/**
 * The KV cache: bytes one token adds to one GPU.
 *
 * - MHA and GQA: keys and values, `2 · kvHeads · headDim` elements per layer (Pope et al.
 *   2022, "Efficiently Scaling Transformer Inference", section 2; GQA: Ainslie et al.
 *   2023). Over `tp` the KV heads split; when `tp` exceeds them each GPU keeps one
 *   (replicated `tp / kvHeads` times).
 * - MLA: the compressed latent and the shared rotary key, `kvLoraRank + qkRopeHeadDim`
 *   elements per layer (DeepSeek-V2 paper, section 2.1.2 and table 1), one vector per
 *   token for all heads, so every GPU of the TP group holds it whole.
 * - A pipeline stage holds its layers' cache; context parallelism spreads a sequence's
 *   tokens over `cp` GPUs.
 *
 * @example
 * import { models } from '@meshplan/model'
 * import { kvBytesPerToken } from '@meshplan/memory'
 * kvBytesPerToken(models['llama-2-70b'], 'bf16')  // 2 · 80 · 8 · 128 · 2 = 327,680
 * kvBytesPerToken(models['deepseek-v3'], 'bf16')  // 61 · (512 + 64) · 2 = 70,272
 */
import { bytesPerElement, bytes, type Bytes, type Dtype } from '@meshplan/units'
import { meanCachedTokens, type Architecture } from '@meshplan/model'
import { kvHeadsPerGpu } from '@meshplan/parallelism'

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** Cached elements per token per layer on one GPU of a TP group of `tp`. */
export const kvElementsPerLayer =
  (model: Architecture) =>
  (tp: number): number => {
    const a = model.attention
    if (a.kind === 'mla') return a.kvLoraRank + a.qkRopeHeadDim
    return 2 * kvHeadsPerGpu(model)(tp) * a.headDim
  }

/** KV bytes of one token over all layers of the whole model, unsharded. */
export const kvBytesPerToken = (model: Architecture, dtype: Dtype): Bytes =>
  bytes(model.layers * kvElementsPerLayer(model)(1) * bytesPerElement(dtype))

/** KV bytes one token of a sequence adds to one GPU holding `layers` layers in a TP group of `tp`, with `cp` context parallelism. */
export const kvBytesPerTokenPerGpu = (model: Architecture, dtype: Dtype, layers: number, tp: number, cp: number): Bytes =>
  bytes((layers * kvElementsPerLayer(model)(tp) * bytesPerElement(dtype)) / cp)

/**
 * Tokens of a sequence of `contextTokens` that stay in the cache, per layer averaged
 * over the model's layers (`meanCachedTokens` of @meshplan/model): all of them in a
 * global layer, at most the window in a sliding-window or chunked layer (vLLM's and
 * SGLang's hybrid KV-cache managers free what falls out of the window). The average is
 * the model's: a pipeline stage whose share of window layers differs from the model's
 * is off by that difference.
 */
export const cachedTokens = (model: Architecture, contextTokens: number): number => meanCachedTokens(model, contextTokens)
