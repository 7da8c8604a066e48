/**
 * The memory model as a record of functions, so a user can replace one piece (their
 * own runtime reserve, their own activation accounting, a KV cache with a paging
 * overhead) and keep the rest. `defaultMemoryModel` is the implementation documented
 * in each module.
 *
 * @example
 * import { defaultMemoryModel, fixedReserve, type MemoryModel } from '@meshplan/memory'
 * import { bytes } from '@meshplan/units'
 * const mine: MemoryModel = { ...defaultMemoryModel, reserve: fixedReserve(bytes(6e9)) }
 */
import { bytes, type Bytes } from '@meshplan/units'
import type { Architecture } from '@meshplan/model'
import type { Strategy } from '@meshplan/parallelism'
import { attentionActivationWidth, edgeActivationBytes, microBatchesInFlight, storedLayerBytes, type ActivationInput, type Recompute } from './activations'
import { kvBytesPerTokenPerGpu } from './kv-cache'
import { defaultReserve, type Reserve } from './reserve'
import { stageParameters, type StageParameters } from './weights'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Inputs of the inference workspace: the tokens of one prefill chunk on one GPU. */
export interface WorkspaceInput {
  readonly model: Architecture
  readonly strategy: Strategy
  readonly activationBytes: number
  /** Tokens of a prefill chunk per data-parallel rank (all sequences of the chunk together). */
  readonly chunkTokens: number
}

/** The replaceable pieces. */
export interface MemoryModel {
  /** Parameters on one GPU of a pipeline stage. */
  readonly stageParameters: (model: Architecture, s: Strategy) => (ppRank: number) => StageParameters
  /** KV-cache bytes per token of a sequence on one GPU holding `layers` layers. */
  readonly kvBytesPerTokenPerGpu: typeof kvBytesPerTokenPerGpu
  /** Peak activation bytes of one prefill chunk on one GPU (inference). */
  readonly inferenceWorkspace: (input: WorkspaceInput) => Bytes
  /** Activation bytes one layer keeps per micro-batch under a recomputation mode (training). */
  readonly storedLayerBytes: (input: ActivationInput, recompute: Recompute) => (isMoe: boolean) => Bytes
  /** Micro-batches' worth of a stage's layers in flight at its peak (training). */
  readonly microBatchesInFlight: typeof microBatchesInFlight
  /** Activations outside the layers on the first and last stage (training). */
  readonly edgeActivationBytes: typeof edgeActivationBytes
  /** Bytes of optimizer state per parameter: fp32 master weights, Adam's momentum and variance (ZeRO paper, section 3.1: K = 12). */
  readonly optimizerBytesPerParameter: number
  /** Memory a GPU holds back. */
  readonly reserve: Reserve
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * The live activations of one layer while a prefill chunk goes through it, per GPU: the
 * residual stream and the normed input (`2·h` per token), the larger of the attention
 * block's projections (Q, K, V and the attention output) and the MLP block's
 * intermediates (SwiGLU gate and up, `2·f/tp`; GELU `f/tp`; for MoE, `topK` experts'
 * intermediates `2·expertFfn/etp` per token plus the dispatched copies `topK·h`), and
 * the last position's fp32 logits. Layers run one after another, so one layer's worth
 * is the peak. A sizing rule in the spirit of vLLM's profiling run, which measures the
 * peak of a forward pass at the largest batch before it sizes the KV cache.
 */
export const inferenceWorkspace = (input: WorkspaceInput): Bytes => {
  const { model, strategy: s, activationBytes: A } = input
  const tokens = input.chunkTokens / s.cp
  const h = model.hidden
  const a = model.attention
  // the projections, and for MLA the latent it writes to the cache
  const attention = attentionActivationWidth(model)(s.tp) + (a.kind === 'mla' ? a.kvLoraRank + a.qkRopeHeadDim : 0)
  const moe = model.moe
  const denseMlp = ((model.mlp.kind !== 'gelu' ? 2 : 1) * model.mlp.ffn) / s.tp
  const moeMlp = moe === undefined ? 0 : moe.topK * ((2 * moe.expertFfn) / s.etp + h) + (2 * moe.sharedExperts * moe.sharedExpertFfn) / s.tp
  const perToken = 2 * h + Math.max(attention, denseMlp, moeMlp)
  const logits = (4 * model.vocab) / s.tp
  return bytes(tokens * A * perToken + logits)
}

/** The implementation documented in each module. */
export const defaultMemoryModel: MemoryModel = {
  stageParameters,
  kvBytesPerTokenPerGpu,
  inferenceWorkspace,
  storedLayerBytes,
  microBatchesInFlight,
  edgeActivationBytes,
  optimizerBytesPerParameter: 12,
  reserve: defaultReserve,
}


