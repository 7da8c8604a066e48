/**
 * Model FLOPs for model FLOPs utilization (MFU): the FLOPs a step *must* do, counted
 * the way the papers that report MFU count them (no recomputation, the attention over
 * the whole sequence with no causal discount), so that a planner's MFU compares with
 * published ones. What the GPU actually executes (causal attention, recomputation,
 * replicated work) is the `flops` of a `StepTime`.
 *
 * - Megatron-LM, GPT-style models (Korthikanti et al. 2022, "Reducing Activation
 *   Recomputation in Large Transformer Models", section 6 / appendix A; the model-FLOPs
 *   counterpart of Narayanan et al. 2021, section 5.1, equation 3, which counts full
 *   recomputation as 96·B·s·l·h²·(1 + s/6h + V/16lh)):
 *   `72·B·s·l·h²·(1 + s/(6h) + V/(12·l·h))` per iteration of batch B and sequence s.
 * - The general form (Chowdhery et al. 2022, "PaLM", appendix B): `6N + 12·L·H·Q·T` per
 *   token, N the parameters a token multiplies, L layers, H heads, Q head size, T the
 *   sequence length. With different query-key and value head sizes (MLA) the attention
 *   term is `6·L·H·(Q_qk + Q_v)·T`; a sliding window caps T at the window. For a
 *   GPT-style model (4h FFN, MHA, tied or untied LM head counted once) it equals the
 *   Megatron formula divided by B·s exactly: 6·(12lh² + Vh) + 12·l·h·s.
 *
 * @example
 * import { megatronModelFlops, modelFlopsPerToken, mfu } from '@meshplan/compute'
 * import { models } from '@meshplan/model'
 * megatronModelFlops({ batch: 1536, sequence: 2048, layers: 96, hidden: 12288, vocab: 51200 }) // right(3.386e18)
 * modelFlopsPerToken(2048)(models['gpt3-175b'])   // right(1.0763e12) = 72lh² + 12lhs + 6Vh with V = 50257
 * mfu({ flopsPerToken: 1e12, tokensPerSecond: 1000, gpus: 8, peak: 250e12 })   // right(0.5)
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import { attentionWindowOf, matmulParametersPerToken, meanKeys, type Architecture } from '@meshplan/model'
import { flops as toFlops, type Flops } from '@meshplan/units'
import { positiveFinite, positiveInteger, type ComputeError } from './error'
import { layerPairs } from './phase'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The shape Megatron's formula takes: batch B, sequence s, layers l, hidden h, vocabulary V. */
export interface GptShape {
  readonly batch: number
  readonly sequence: number
  readonly layers: number
  readonly hidden: number
  readonly vocab: number
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const checkShape = (shape: GptShape): E.Either<ComputeError, GptShape> =>
  pipe(
    positiveInteger('batch', 'batch', shape.batch),
    E.chain(() => positiveInteger('sequence length', 'sequence', shape.sequence)),
    E.chain(() => positiveInteger('layers', 'layers', shape.layers)),
    E.chain(() => positiveInteger('hidden size', 'hidden', shape.hidden)),
    E.chain(() => positiveInteger('vocabulary', 'vocab', shape.vocab)),
    E.map(() => shape),
  )

/**
 * Model FLOPs of one iteration, Megatron-LM's formula:
 * `72·B·s·l·h²·(1 + s/(6h) + V/(12·l·h))` (Korthikanti et al. 2022; see the module comment).
 */
export const megatronModelFlops = (shape: GptShape): E.Either<ComputeError, Flops> =>
  pipe(
    checkShape(shape),
    E.map(({ batch: B, sequence: s, layers: l, hidden: h, vocab: V }) => toFlops(72 * B * s * l * h * h * (1 + s / (6 * h) + V / (12 * l * h)))),
  )

/**
 * FLOPs of one iteration with full recomputation, Narayanan et al. 2021, section 5.1,
 * equation 3: `96·B·s·l·h²·(1 + s/(6h) + V/(16·l·h))` (the layers' forward runs twice,
 * the logits once, each backward twice).
 */
export const narayananFlops = (shape: GptShape): E.Either<ComputeError, Flops> =>
  pipe(
    checkShape(shape),
    E.map(({ batch: B, sequence: s, layers: l, hidden: h, vocab: V }) => toFlops(96 * B * s * l * h * h * (1 + s / (6 * h) + V / (16 * l * h)))),
  )

/**
 * Attention head sizes a token's attention multiplies per key: `qk + v` (MHA/GQA:
 * `2·headDim`; MLA in its explicit form: `nope + rope + v`).
 */
const attentionWidth = (arch: Architecture): number => {
  const a = arch.attention
  return a.kind === 'mla' ? a.qkNopeHeadDim + a.qkRopeHeadDim + a.vHeadDim : 2 * a.headDim
}

/**
 * Model FLOPs per trained token at sequence length `sequence`, PaLM appendix B:
 * `6N + 6·L·H·(Q_qk + Q_v)·T` (= `6N + 12·L·H·Q·T` with one head size), N the matmul
 * parameters a token goes through (`matmulParametersPerToken` of @meshplan/model:
 * attention, dense MLP or router + top-k + shared experts, LM head), T capped at the
 * sliding window.
 */
export const modelFlopsPerToken =
  (sequence: number) =>
  (arch: Architecture): E.Either<ComputeError, Flops> =>
    pipe(
      positiveInteger('sequence length', 'sequence', sequence),
      E.map((s) => {
        const keys = meanKeys(arch, s)
        return toFlops(6 * matmulParametersPerToken(arch) + 6 * arch.layers * arch.attention.heads * attentionWidth(arch) * keys)
      }),
    )

/**
 * Model FLOPs per trained token of a causal language model at sequence length
 * `sequence`: `6N + 6·L·H·(Q_qk + Q_v)·P/T`, where `P/T` is the mean keys a query attends
 * to under the causal mask (`causalPairs(T, window)/T`, (T + 1)/2 without a window).
 * These are the FLOPs the model must do, so an MFU counted with them never exceeds 1
 * (the GPU executes at least these, at most at its peak). The papers' formula
 * ({@link modelFlopsPerToken}) counts attention over the whole sequence, twice the
 * causal work: at T = 2048 and h = 12288 (GPT-3) the two differ by 1.4%, at T = 131,072
 * and h = 4096 (Llama-3.1-8B at 128k) the papers' count is 2.1 times this one, and an
 * MFU counted with it can pass 100%.
 */
export const causalModelFlopsPerToken =
  (sequence: number) =>
  (arch: Architecture): E.Either<ComputeError, Flops> =>
    pipe(
      positiveInteger('sequence length', 'sequence', sequence),
      E.map((s) => {
        const keys = layerPairs(s, attentionWindowOf(arch)) / s
        return toFlops(6 * matmulParametersPerToken(arch) + 6 * arch.layers * arch.attention.heads * attentionWidth(arch) * keys)
      }),
    )

/** Model FLOPs per generated or prefilled token at `context` keys, forward only: `2N + 2·L·H·(Q_qk + Q_v)·context`. */
export const inferenceModelFlopsPerToken =
  (context: number) =>
  (arch: Architecture): E.Either<ComputeError, Flops> =>
    pipe(
      positiveFinite('context length', 'context', context),
      E.map((c) => {
        const keys = meanKeys(arch, c)
        return toFlops(2 * matmulParametersPerToken(arch) + 2 * arch.layers * arch.attention.heads * attentionWidth(arch) * keys)
      }),
    )

/** Model FLOPs utilization: `flopsPerToken × tokensPerSecond / (gpus × peak)` (PaLM, section 4.1 and appendix B). */
export const mfu = (p: {
  readonly flopsPerToken: number
  readonly tokensPerSecond: number
  readonly gpus: number
  readonly peak: number
}): E.Either<ComputeError, number> =>
  pipe(
    positiveFinite('model FLOPs per token', 'flopsPerToken', p.flopsPerToken),
    E.chain(() => positiveFinite('tokens per second', 'tokensPerSecond', p.tokensPerSecond)),
    E.chain(() => positiveInteger('GPU count', 'gpus', p.gpus)),
    E.chain(() => positiveFinite('peak FLOP/s', 'peak', p.peak)),
    E.map(() => (p.flopsPerToken * p.tokensPerSecond) / (p.gpus * p.peak)),
  )
