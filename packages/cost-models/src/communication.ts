/**
 * The bytes a layer moves per collective, shared by the inference and the training
 * estimates (and the deployment graph), so that they cannot disagree: the wire format
 * of activations, and the tokens an MoE layer's dispatch sends.
 *
 * @example
 * import { communicationBytes, dispatchBytes } from '@meshplan/cost-models'
 * communicationBytes({ weights: 'fp8', activations: 'fp8', kvCache: 'fp8' }) // 2: the all-reduce stays 16-bit
 * dispatchBytes(strategy({ tp: 2, dp: 64, ep: 64, etp: 2 }), 2, 4096, 2, 1024) // 1024 tokens · 2 experts · 4096 · 2 B
 */
import type { Precision } from '@meshplan/model'
import type { Strategy } from '@meshplan/parallelism'
import { bytesPerElement } from '@meshplan/units'

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/**
 * Bytes of an activation element on the wire: the activations' format, at least 16
 * bits. 8-bit activations quantize the inputs of the GEMMs; the GEMMs' outputs, the
 * residual stream and the tensor-parallel all-reduce stay in 16-bit (TensorRT-LLM's
 * FP8 recipe, and NVIDIA Transformer Engine's FP8 training recipe: "FP8 is used for
 * the GEMM inputs, outputs stay in higher precision").
 */
export const communicationBytes = (precision: Precision): number => Math.max(2, bytesPerElement(precision.activations))

/**
 * Bytes one GPU sends in the dispatch all-to-all of one MoE layer (the combine returns
 * as much) for `tokens` tokens of one replica: `tokens/cp · (etp/tp) · topK · hidden ·
 * elementBytes`. Each token must reach the `etp` shards of each of its `topK` experts
 * (Megatron-Core's all-to-all token dispatcher; DeepSeek-V3 report, section 3.2.2);
 * the `tp` ranks of an attention group that hold a copy of it share that work (with
 * sequence parallelism each holds `1/tp` of the tokens and sends to all `etp` shards:
 * the same total). With etp = tp, each GPU dispatches its tokens once to its own EP
 * group; with attention data parallelism (tp = etp = 1), each GPU its own tokens.
 */
export const dispatchBytes = (s: Strategy, topK: number, hidden: number, elementBytes: number, tokens: number): number =>
  (tokens / s.cp) * (s.etp / s.tp) * topK * hidden * elementBytes

