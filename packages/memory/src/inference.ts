/**
 * Bytes each GPU holds when serving: weights after sharding, the KV cache of the
 * sequences in flight, the activation workspace of a prefill chunk and the runtime
 * reserve; and from these the most sequences (and KV tokens) that fit, per
 * data-parallel rank. Each pipeline stage is reported, as the first holds the
 * embedding and the last the LM head.
 *
 * @example
 * import * as E from 'fp-ts/Either'
 * import { defaultPrecision, models } from '@meshplan/model'
 * import { strategy } from '@meshplan/parallelism'
 * import { devices } from '@meshplan/topology'
 * import { inferenceMemory } from '@meshplan/memory'
 * const m = inferenceMemory()({ model: models['llama-2-70b'], strategy: strategy({ tp: 8 }), precision: defaultPrecision, device: devices['h100-sxm'], contextTokens: 4096 })
 * if (E.isRight(m)) m.right.maxSequences // sequences of 4096 tokens that fit per TP8 replica
 */
import * as E from 'fp-ts/Either'
import * as O from 'fp-ts/Option'
import { bytes, bytesPerElement, type Bytes } from '@meshplan/units'
import type { Architecture, Precision } from '@meshplan/model'
import { layersOfStage, type Strategy } from '@meshplan/parallelism'
import type { Device } from '@meshplan/topology'
import { checkNonNegative, checkPositiveInteger, checkStrategy, firstError, type MemoryError } from './errors'
import { cachedTokens } from './kv-cache'
import { defaultMemoryModel, type MemoryModel } from './model'
import { stageWeightBytes, type StageParameters } from './weights'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What a serving memory estimate depends on. */
export interface InferenceInput {
  readonly model: Architecture
  readonly strategy: Strategy
  readonly precision: Precision
  readonly device: Device
  /** Tokens a sequence holds at most in the KV cache: input plus output. */
  readonly contextTokens: number
  /** Tokens of one prefill chunk per data-parallel rank (default: {@link defaultPrefillChunkTokens}, at most the context). */
  readonly prefillChunkTokens?: number
  /** Sequences in flight per data-parallel rank, when asked whether they fit. */
  readonly sequences?: number
  /**
   * Bytes the engine's sampler holds at its peak on a GPU of the last pipeline stage,
   * where an engine measures it before sizing its cache (vLLM's start-up profile samples
   * `max_num_seqs` sequences over the whole vocabulary): that stage's workspace is the
   * larger of this and the forward pass's, as the sampler runs once the forward pass has
   * freed its activations. Default 0.
   */
  readonly samplerBytes?: number
}

/** One GPU of a pipeline stage. */
export interface InferenceStage {
  readonly ppRank: number
  readonly parameters: StageParameters
  readonly weights: Bytes
  /** KV bytes one token of one sequence adds to this GPU. */
  readonly kvBytesPerToken: Bytes
  /** KV cache of `sequences` full-length sequences (0 when `sequences` is not given). */
  readonly kvCache: Bytes
  readonly workspace: Bytes
  readonly reserve: Bytes
  /** weights + kvCache + workspace + reserve. */
  readonly total: Bytes
  readonly capacity: Bytes
  /** Bytes left for the KV cache once weights, workspace and reserve are placed (0 when they do not fit). */
  readonly kvBudget: Bytes
  /** Tokens (over all sequences) whose cache fits in `kvBudget`. */
  readonly maxKvTokens: number
  /** Full-length sequences whose cache fits. */
  readonly maxSequences: number
}

/** The serving memory of a deployment. */
export interface InferenceMemory {
  readonly stages: ReadonlyArray<InferenceStage>
  /** The stage that fits the fewest sequences. */
  readonly tightest: InferenceStage
  /** Full-length sequences per data-parallel rank that fit on every stage. */
  readonly maxSequences: number
  /** Weights, workspace and reserve fit, with room for `sequences` (or at least one sequence when not given). */
  readonly fits: boolean
}

/**
 * Default prefill chunk: 8192 tokens, the token budget per forward step of vLLM's
 * chunked prefill for online serving (`max_num_batched_tokens`), a calibration choice.
 */
export const defaultPrefillChunkTokens = 8192

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The serving memory of `input` under `memoryModel` (default: {@link defaultMemoryModel}). */
export const inferenceMemory =
  (memoryModel: MemoryModel = defaultMemoryModel) =>
  (input: InferenceInput): E.Either<MemoryError, InferenceMemory> => {
    const { model, strategy: s, precision, device } = input
    const chunk = input.prefillChunkTokens ?? Math.min(defaultPrefillChunkTokens, input.contextTokens)
    const error = firstError([
      checkPositiveInteger('contextTokens', input.contextTokens),
      checkPositiveInteger('prefillChunkTokens', chunk),
      input.sequences === undefined ? O.none : checkPositiveInteger('sequences', input.sequences),
      input.samplerBytes === undefined ? O.none : checkNonNegative('samplerBytes', input.samplerBytes),
      checkStrategy(model, s),
    ])
    if (O.isSome(error)) return E.left(error.value)
    const tokensPerSequence = cachedTokens(model, input.contextTokens)
    const reserve = memoryModel.reserve(device)
    const forward = memoryModel.inferenceWorkspace({ model, strategy: s, activationBytes: bytesPerElement(precision.activations), chunkTokens: chunk })
    const sampler = input.samplerBytes ?? 0
    const stages = Array.from({ length: s.pp }, (_, ppRank): InferenceStage => {
      const workspace = ppRank === s.pp - 1 && sampler > forward ? bytes(sampler) : forward
      const parameters = memoryModel.stageParameters(model, s)(ppRank)
      const weights = bytes(stageWeightBytes(model, precision, parameters))
      const layers = layersOfStage(model, s)(ppRank).length
      const kvBytesPerToken = memoryModel.kvBytesPerTokenPerGpu(model, precision.kvCache, layers, s.tp, s.cp)
      const kvCache = bytes((input.sequences ?? 0) * tokensPerSequence * kvBytesPerToken)
      const kvBudget = bytes(Math.max(0, device.memory - weights - workspace - reserve))
      const maxKvTokens = kvBytesPerToken > 0 ? Math.floor(kvBudget / kvBytesPerToken) : 0
      return {
        ppRank,
        parameters,
        weights,
        kvBytesPerToken,
        kvCache,
        workspace,
        reserve,
        total: bytes(weights + kvCache + workspace + reserve),
        capacity: device.memory,
        kvBudget,
        maxKvTokens,
        maxSequences: Math.floor(maxKvTokens / tokensPerSequence),
      }
    })
    const tightest = stages.reduce((a, b) => (b.maxSequences < a.maxSequences ? b : a))
    const maxSequences = tightest.maxSequences
    return E.right({ stages, tightest, maxSequences, fits: maxSequences >= (input.sequences ?? 1) })
  }
