/**
 * Activation memory of training, per transformer layer and micro-batch, after
 * Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer
 * Models", section 4: with 2-byte activations, 1-byte dropout masks and no
 * parallelism a layer stores `s·b·h·(34 + 5·a·s/h)` bytes: attention `11·sbh + 5·a·s²·b`
 * (QKV input 2, Q and K 4, V 2, output-projection input 2, dropout mask 1; softmax
 * output 2, its dropout mask 1 and output 2 per score), MLP `19·sbh` (input 2, GELU
 * input 8, GELU output 8, dropout mask 1), two layer norms `4·sbh`. Tensor
 * parallelism divides everything but the `10·sbh` outside the TP region (eq. 2);
 * sequence parallelism divides that too (eq. 3); selective recomputation drops the
 * `5·a·s²·b` score term (eq. 4), as FlashAttention-style kernels do, which keep only
 * the fp32 softmax statistics (Dao et al. 2022, section 3.1); full recomputation keeps
 * each layer's input, `2·sbh` (/t with SP) (section 4.1).
 *
 * Generalised here, term by term, to GQA (K and V of `kvHeads` heads, replicated when
 * `tp` exceeds them), SwiGLU (gate, up and their product: `3·f` per token instead of
 * GELU's `2·f`), any activation format, models trained without dropout, context
 * parallelism (each GPU holds `s / cp` tokens; scores against all `s` keys) and MoE
 * layers (each GPU processes `topK` expert inputs per token of its share, the
 * balanced-routing expectation, with each expert's intermediate split over `etp`).
 * With 8-bit activations (FP8 training, Transformer Engine) only the GEMMs' inputs are
 * kept in fp8, the casts TE saves for the backward (the QKV, output-projection, first and
 * second MLP inputs); everything else (norm inputs, Q, K, V, scores, the first MLP GEMM's
 * output) stays 16-bit.
 *
 * @example
 * import { models } from '@meshplan/model'
 * import { strategy } from '@meshplan/parallelism'
 * import { layerActivationBytes } from '@meshplan/memory'
 * // GPT-3 175B, s = 2048, b = 1, no parallelism: 2048 · 12288 · (34 + 5 · 96 · 2048 / 12288) bytes
 * layerActivationBytes({ model: models['gpt3-175b'], strategy: strategy({}), sequenceLength: 2048, microBatch: 1 })(false)
 */
import { bytesPerElement, bytes, type Bytes, type Dtype } from '@meshplan/units'
import type { Architecture } from '@meshplan/model'
import { kvHeadsPerGpu, type Strategy } from '@meshplan/parallelism'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What the activation formulas depend on. */
export interface ActivationInput {
  readonly model: Architecture
  readonly strategy: Strategy
  /** Tokens per sequence. */
  readonly sequenceLength: number
  /** Sequences per micro-batch. */
  readonly microBatch: number
  /** Activation format (default bf16). */
  readonly dtype?: Dtype
  /** Whether the model trains with dropout (default true, as in Korthikanti et al.'s GPT models). */
  readonly dropout?: boolean
  /** FlashAttention-style attention that never stores the score matrix (default false). */
  readonly flashAttention?: boolean
  /** What selective recomputation keeps (default `'attention-core'`, see {@link SelectivePolicy}). */
  readonly selective?: SelectivePolicy
}

/** What a layer keeps for its backward pass. */
export type Recompute = 'none' | 'selective' | 'full'

/**
 * What selective recomputation keeps of a layer.
 * - `'attention-core'`: everything but the attention core's score terms (Korthikanti et
 *   al. 2022, equation 4; Megatron-LM's `--recompute-granularity selective`).
 * - `'every-other-matmul'`: torchtitan's op-level selective checkpointing
 *   (`selective_ac_option = "op"`; `_save_list` and `_apply_ac_to_transformer_block` in
 *   `torchtitan/parallelisms/parallelize_llama.py`, December 2024): each block's input,
 *   the attention kernel's output and softmax statistics, and the output of every
 *   odd-numbered `aten.mm` of the block in call order (Q and V of `wq, wk, wv, wo`; the
 *   gate and the down projection of a SwiGLU MLP's `w1, w3, w2`; the first of a 2-matrix
 *   MLP). The rest (norms, rotary embedding, K, the output projection, the up projection,
 *   the activation) is recomputed in the backward. Float8 GEMMs run as `_scaled_mm`, which
 *   is not in that list, so with 8-bit activations only the input and the attention output
 *   are kept. Applied to dense layers of standard attention; MoE layers and MLA keep
 *   `'attention-core'`, whose op order that list was not written for.
 */
export type SelectivePolicy = 'attention-core' | 'every-other-matmul'
export const selectivePolicies: ReadonlyArray<SelectivePolicy> = ['attention-core', 'every-other-matmul']

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/**
 * Elements per token one GPU keeps of a layer's attention projections: Q and the
 * attention output split over `tp`, K and V of the KV heads it holds (Korthikanti's
 * `Q, K 4sbh + V 2sbh + output-projection input 2sbh` at 2 bytes). For MLA, queries and
 * keys of `nope + rope` dims and values and output of `v` dims, per head, split over `tp`.
 */
export const attentionActivationWidth =
  (model: Architecture) =>
  (tp: number): number =>
    attentionCoreWidth(model)(tp) + attentionOutputWidth(model)(tp)

/** The part of {@link attentionActivationWidth} that is the attention core's input: Q, K and V. */
export const attentionCoreWidth =
  (model: Architecture) =>
  (tp: number): number => {
    const a = model.attention
    return a.kind === 'mla'
      ? (a.heads * (2 * (a.qkNopeHeadDim + a.qkRopeHeadDim) + a.vHeadDim)) / tp
      : (a.heads * a.headDim) / tp + 2 * kvHeadsPerGpu(model)(tp) * a.headDim
  }

/** The part of {@link attentionActivationWidth} that is the output projection's input: the attention output. */
export const attentionOutputWidth =
  (model: Architecture) =>
  (tp: number): number => {
    const a = model.attention
    return (a.heads * (a.kind === 'mla' ? a.vHeadDim : a.headDim)) / tp
  }

/**
 * Bytes per element of what a layer keeps: the GEMMs' inputs in the activations' format
 * (`gemmInput`), everything else at least 16-bit (`kept`); the two agree but for 8-bit
 * activations (see the module comment).
 */
export const storedElementBytes = (dtype: Dtype = 'bf16'): { readonly gemmInput: number; readonly kept: number } => {
  const A = bytesPerElement(dtype)
  return { gemmInput: A, kept: Math.max(2, A) }
}

/** Bytes of the score terms of one layer on one GPU: softmax output, and with dropout its mask and output. */
const scoreBytes = (input: ActivationInput, tokens: number): number => {
  const { model, strategy: s, microBatch: b, sequenceLength } = input
  const A = storedElementBytes(input.dtype).kept
  const perScore = (input.dropout ?? true) ? 2 * A + 1 : A
  return perScore * (model.attention.heads / s.tp) * tokens * sequenceLength * b
}

/** FlashAttention keeps the fp32 softmax log-sum-exp per query and head (Dao et al. 2022, algorithm 2). */
const softmaxStatisticsBytes = (input: ActivationInput, tokens: number): number =>
  4 * (input.model.attention.heads / input.strategy.tp) * tokens * input.microBatch

/**
 * What a layer keeps of its attention scores: the score matrices (`'matrix'`), only the
 * softmax statistics of a FlashAttention-style kernel (`'statistics'`), or nothing,
 * when the core attention is recomputed (`'none'`, selective recomputation).
 */
export type ScoreStorage = 'matrix' | 'statistics' | 'none'

/**
 * Bytes one GPU stores for one layer and one micro-batch, without recomputation of the
 * rest of the layer; `scores` says what is kept of the attention scores (by default the
 * matrices, or the statistics when the input says FlashAttention).
 */
export const layerActivationBytes =
  (input: ActivationInput) =>
  (isMoe: boolean, scores: ScoreStorage = (input.flashAttention ?? false) ? 'statistics' : 'matrix'): Bytes => {
    const { model, strategy: s, microBatch: b } = input
    // G: a GEMM's input (the activations' format); A: everything else kept (at least 16-bit)
    const { gemmInput: G, kept: A } = storedElementBytes(input.dtype)
    const mask = (input.dropout ?? true) ? 1 : 0
    const tokens = input.sequenceLength / s.cp
    const h = model.hidden
    const outsideTp = s.sequenceParallel ? s.tp : 1
    // outside the TP region: 2 layer-norm inputs (A each), the QKV input and the MLP input (G each), 2 dropout masks
    const replicated = (tokens * b * h * (2 * A + 2 * G + 2 * mask)) / outsideTp
    const attention = tokens * b * (A * attentionCoreWidth(model)(s.tp) + G * attentionOutputWidth(model)(s.tp))
    let mlp: number
    const moe = model.moe
    if (isMoe && moe !== undefined) {
      // each GPU receives topK expert inputs per token of its share: input (G) and output (A) of h each, and the SwiGLU
      // intermediates of expertFfn / etp each: gate and up (A), their product, the down projection's input (G)
      const expertTokens = (tokens * b * moe.topK) / outsideTp
      const routed = expertTokens * (h * (G + A) + (moe.expertFfn / s.etp) * (2 * A + G))
      const shared = moe.sharedExperts > 0 ? tokens * b * ((moe.sharedExperts * moe.sharedExpertFfn) / s.tp) * (2 * A + G) : 0
      const routerLogits = (tokens * b * 4 * moe.experts) / outsideTp
      mlp = routed + shared + routerLogits
    } else {
      // SwiGLU: gate and up (A), their product (G); GELU: its input (A), its output (G)
      const kept = model.mlp.kind !== 'gelu' ? 2 : 1
      mlp = tokens * b * ((model.mlp.ffn / s.tp) * (kept * A + G))
    }
    const kept = scores === 'matrix' ? scoreBytes(input, tokens) : scores === 'statistics' ? softmaxStatisticsBytes(input, tokens) : 0
    return bytes(replicated + attention + mlp + kept)
  }

/** Bytes one GPU keeps per layer and micro-batch under full recomputation: the layer's input (Korthikanti section 4.1). */
export const layerInputBytes = (input: ActivationInput): Bytes => {
  const A = storedElementBytes(input.dtype).kept
  const s = input.strategy
  return bytes(((input.sequenceLength / s.cp) * input.microBatch * input.model.hidden * A) / (s.sequenceParallel ? s.tp : 1))
}

/** Whether `'every-other-matmul'` applies to a layer of `model` (see {@link SelectivePolicy}): dense layers of standard attention. */
export const everyOtherMatmulApplies = (model: Architecture, isMoe: boolean): boolean => !isMoe && model.attention.kind !== 'mla'

/**
 * Bytes one GPU keeps per dense layer and micro-batch under torchtitan's op-level
 * selective checkpointing (`'every-other-matmul'`, see {@link SelectivePolicy}), 16-bit
 * at least (`A`): the block's input (`h`, split over `tp` with sequence parallelism), the
 * attention output (`heads·d/tp`) and its fp32 log-sum-exp, then with 16-bit GEMMs the
 * outputs of Q (`heads·d/tp`) and V (`kv·d` of the KV heads this GPU holds) and of the
 * MLP's gate (`ffn/tp`) and down projection (`h`: the partial sum before its reduction),
 * or of a 2-matrix MLP's first GEMM (`ffn/tp`). Llama 3.1 8B, no parallelism, bf16:
 * `2·(4096 + 4096 + 4096 + 1024 + 14336 + 4096) + 4·32 = 63,616` bytes per token.
 */
export const everyOtherMatmulLayerBytes = (input: ActivationInput): Bytes => {
  const { model, strategy: s, microBatch: b } = input
  const A = storedElementBytes(input.dtype).kept
  const tokens = (input.sequenceLength / s.cp) * b
  const a = model.attention
  const headDim = a.kind === 'mla' ? a.vHeadDim : a.headDim
  const layerInput = model.hidden / (s.sequenceParallel ? s.tp : 1)
  const attentionOut = attentionOutputWidth(model)(s.tp)
  const statistics = softmaxStatisticsBytes(input, input.sequenceLength / s.cp)
  // 8-bit GEMMs are _scaled_mm, which the save list leaves out: every GEMM output is recomputed
  const matmuls =
    bytesPerElement(input.dtype ?? 'bf16') < 2
      ? 0
      : (a.heads * headDim) / s.tp +
        kvHeadsPerGpu(model)(s.tp) * headDim +
        (model.mlp.kind !== 'gelu' ? model.mlp.ffn / s.tp + model.hidden : model.mlp.ffn / s.tp)
  return bytes(tokens * A * (layerInput + attentionOut + matmuls) + statistics)
}

/** Bytes per layer and micro-batch kept under `recompute`. */
export const storedLayerBytes =
  (input: ActivationInput, recompute: Recompute) =>
  (isMoe: boolean): Bytes => {
    switch (recompute) {
      case 'none':
        return layerActivationBytes(input)(isMoe)
      case 'selective':
        return input.selective === 'every-other-matmul' && everyOtherMatmulApplies(input.model, isMoe)
          ? everyOtherMatmulLayerBytes(input)
          : layerActivationBytes(input)(isMoe, 'none')
      case 'full':
        return layerInputBytes(input)
    }
  }

/**
 * Micro-batches' worth of a stage's layers that pipeline rank `ppRank` holds at its
 * peak, from Megatron-LM's schedules (`schedules.py`): under 1F1B rank i runs
 * `p - i - 1` warm-up forwards before its first backward, so it holds `min(p - i, m)`
 * micro-batches; interleaved with v chunks it runs `2·(p - i - 1) + (v - 1)·p` warm-up
 * chunk-forwards, holding that plus one chunk's activations, each chunk `1/v` of the
 * stage's layers: for the first stage `p + (p - 1)/v`, i.e. `L·(1 + (p - 1)/(p·v))`
 * layers' worth, Korthikanti et al. section 4.2.3. `m` micro-batches per step cap it.
 */
export const microBatchesInFlight = (pp: number, virtualStages: number, microBatches: number, ppRank: number): number => {
  if (virtualStages === 1) return Math.min(pp - ppRank, microBatches)
  const chunks = 2 * (pp - ppRank - 1) + (virtualStages - 1) * pp + 1
  return Math.min(chunks, microBatches * virtualStages) / virtualStages
}

/**
 * Activations outside the layers (Korthikanti section 4.3): the first stage keeps the
 * embedding's dropout mask per micro-batch in flight; the last stage the output
 * layer's, `4·s·b·h/t·(1 + V/h)` bytes at 2-byte activations (layer norm, logits and
 * the cross-entropy's fp32 copies), for the one micro-batch whose loss it computes.
 */
export const edgeActivationBytes = (input: ActivationInput, ppRank: number, inFlight: number): Bytes => {
  const s = input.strategy
  const tokens = input.sequenceLength / s.cp
  const h = input.model.hidden
  const A = storedElementBytes(input.dtype).kept
  const embedding = ppRank === 0 && (input.dropout ?? true) ? (tokens * input.microBatch * h * inFlight) / (s.sequenceParallel ? s.tp : 1) : 0
  const output = ppRank === s.pp - 1 ? ((4 * tokens * input.microBatch * h) / s.tp) * (1 + input.model.vocab / h) * (A / 2) : 0
  return bytes(embedding + output)
}
