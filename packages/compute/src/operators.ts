/**
 * The operators one GPU runs in a step, with their FLOPs and the bytes they move, after
 * the strategy has split the model: TP splits heads, the FFN and the vocabulary; CP
 * splits the sequence; EP/ETP split the experts (tokens per expert from routing); PP
 * gives the GPU the layers of its stage (the first stage also looks up the embedding,
 * the last runs the final norm and the LM head).
 *
 * Per transformer layer: `attention-norm`, the query/key/value projections (`qkv`, then
 * `qk-norm` where the model norms each head's query and key; MLA:
 * `q-proj` or `q-down`/`q-up`, `kv-down`, and `kv-up` in prefill and training or the
 * absorbed `q-absorb`/`v-absorb` in decode), the fused `attention` core (scores, softmax
 * and context under the causal mask, FlashAttention style: Q, K, V read once, the score
 * matrix never written) or, with the compute model's `attentionKernel: 'unfused'` in
 * prefill and training, the unfused core as Megatron-LM ran it in 2021-22
 * (`attention-scores`, `attention-softmax`, `attention-context`: see
 * {@link AttentionKernel}), the `output` projection, the two `residual` adds and the
 * `mlp-norm`; then a dense MLP (`mlp-up` — gate and up fused for SwiGLU —,
 * `mlp-activation`, `mlp-down`) or an MoE block (`router`, `shared-expert-up/activation/down`,
 * `moe-route`, `moe-sort`, `moe-dispatch`, `expert-up/activation/down` as grouped GEMMs
 * over the experts a step touches, `moe-combine`).
 *
 * FLOPs: 2 per multiply-accumulate (Kaplan et al. 2020, table 1), GEMM `2·m·n·k`;
 * attention `2·(qk + v head dims)` per query-key pair per head (Hoffmann et al. 2022,
 * appendix F) over the causal pairs; element-wise work with the per-element counts below.
 * Bytes: weights read in the weights' format (a routed expert's only when the step
 * touches it), activations read and written in the activations' format, the KV cache
 * read (decode) and written (inference) in its own format.
 *
 * Training: the backward pass costs twice the forward, operator by operator (the
 * gradients with respect to inputs and to weights are each a GEMM of the forward's
 * size: Narayanan et al. 2021, section 5.1), so each backward operator is its forward
 * operator run twice (`count` doubled). Recomputation (Korthikanti et al. 2022) adds
 * the forward again: `selective` the attention core, `full` every operator inside the
 * transformer layers.
 *
 * FP8 training (8-bit activations in training, Transformer Engine's recipe: Micikevicius
 * et al. 2022, "FP8 Formats for Deep Learning", section 4; NVIDIA Transformer Engine,
 * "Using FP8 with Transformer Engine"): the GEMMs of the transformer layers compute in
 * fp8 and read fp8 inputs and fp8 weight copies; their outputs, the norms, the residual
 * stream, the attention core and the loss stay 16-bit (the casts to fp8 are fused into
 * the norm and the activation before each GEMM, TE's `LayerNormLinear` and
 * `LayerNormMLP`); the embedding and the LM head stay 16-bit GEMMs at the 16-bit peak
 * (`wide`), as Megatron-LM keeps its output layer outside TE's fp8 modules.
 *
 * Quantized serving (fp8, int8, fp4 activations) is the same up to the weights: the GEMMs
 * read their inputs in the narrow format and write 16-bit outputs, and the residual
 * stream, the norms' and activations' inputs and the attention's operands stay 16-bit
 * (vLLM's `apply_fp8_linear` quantizes the input and calls `cutlass_scaled_mm` with
 * `out_dtype=input.dtype`; its CUTLASS kernels write only bf16 or fp16,
 * csrc/quantization/cutlass_w8a8/c3x/scaled_mm_blockwise_sm100_fp8.cu; TensorRT-LLM's
 * fp8 and NVFP4 GEMMs likewise fuse the quantization into the norm or activation before
 * them). The KV cache is read and written in its own format. A quantized checkpoint that
 * leaves the LM head 16-bit (ModelOpt's fp8 and NVFP4 checkpoints exclude `lm_head`; the
 * import reads it from `quantization_config`) serves it as a 16-bit GEMM at the 16-bit peak.
 *
 * Every operator is a linear function of a few per-step quantities (tokens on the GPU,
 * query-key pairs, LM-head tokens, routed assignments, experts touched): an
 * {@link OperatorForm} holds its coefficients, computed once per deployment. The fast
 * path evaluates the forms directly; {@link operators} turns them into records.
 *
 * @example
 * import { operators, defaultComputeModel, prefill } from '@meshplan/compute'
 * import { models, defaultPrecision } from '@meshplan/model'
 * import { strategy } from '@meshplan/parallelism'
 * const deployment = { arch: models['llama-2-7b'], strategy: strategy({}), precision: defaultPrecision }
 * // right([{ name: 'embedding', ... }, { name: 'attention-norm', ... }, { name: 'qkv', gemm: { m: 2048, n: 12288, k: 4096, batch: 1 }, count: 32, ... }, ...])
 * pipe(prefill({ tokens: 2048 }), E.chain(operators(defaultComputeModel, deployment)))
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import { attentionWindowOf, isMoeLayer, weightBytesPerParameter, type Architecture, type AttentionWindow, type Precision, type WeightComponent } from '@meshplan/model'
import { expertDataParallel, kvHeadsPerGpu, layersOfStage, validateForModel, type Strategy } from '@meshplan/parallelism'
import { bytes as toBytes, bytesPerElement, flops as toFlops, type Bytes, type Dtype, type Flops } from '@meshplan/units'
import type { ComputeModel } from './computeModel'
import { computeError, type ComputeError } from './error'
import { routedShare, validateImbalance } from './moe'
import { decodeKeys, layerPairs, validatePhase, type Phase, type PhaseKind } from './phase'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What the planner's breakdown groups operators by. */
export type Group = 'attention' | 'mlp' | 'moe' | 'lm_head' | 'other'

/** The groups, in display order. */
export const groups: ReadonlyArray<Group> = ['attention', 'mlp', 'moe', 'lm_head', 'other']

/**
 * The attention core's kernel. `flash` (the default): one fused kernel that never writes
 * the score matrix and skips the masked half (Dao et al. 2022, "FlashAttention"; Dao
 * 2023, "FlashAttention-2"), as Megatron-Core, torchtitan, LLM Foundry and every current
 * serving engine run it. `unfused`: Megatron-LM's `CoreAttention` of 2021-22 (Shoeybi
 * et al. 2019; Korthikanti et al. 2022, section 4.1 and figure 4): a batched GEMM writes
 * the full `s × s` score matrix of every head (`torch.baddbmm`; the causal mask is
 * applied after, so all `s²` scores are computed), a fused kernel scales, masks and
 * soft-maxes it (`FusedScaleMaskSoftmax`: reads the scores, writes the probabilities),
 * training applies dropout to them (reads them, writes the dropped probabilities and a
 * 1-byte mask), and a second batched GEMM multiplies them by the values. Decode steps
 * keep the fused form: one query row per sequence is a matrix-vector product that
 * engines run as one kernel either way.
 */
export type AttentionKernel = 'flash' | 'unfused'

/** The attention kernels. */
export const attentionKernels: ReadonlyArray<AttentionKernel> = ['flash', 'unfused']

/** Which efficiency applies: a GEMM, the fused attention core, or element-wise work. */
export type OperatorKind = 'gemm' | 'attention' | 'elementwise'

/** Forward, backward (twice the forward), or a forward recomputed in the backward pass. */
export type Pass = 'forward' | 'backward' | 'recompute'

/** The operators (see the module comment). */
export type OperatorName =
  | 'embedding'
  | 'attention-norm'
  | 'qkv'
  | 'qk-norm'
  | 'q-proj'
  | 'q-down'
  | 'q-up'
  | 'kv-down'
  | 'kv-up'
  | 'q-absorb'
  | 'attention'
  | 'attention-scores'
  | 'attention-softmax'
  | 'attention-context'
  | 'v-absorb'
  | 'output'
  | 'residual'
  | 'mlp-norm'
  | 'mlp-up'
  | 'mlp-activation'
  | 'mlp-down'
  | 'router'
  | 'shared-expert-up'
  | 'shared-expert-activation'
  | 'shared-expert-down'
  | 'moe-route'
  | 'moe-sort'
  | 'moe-dispatch'
  | 'moe-combine'
  | 'expert-up'
  | 'expert-activation'
  | 'expert-down'
  | 'final-norm'
  | 'lm-head'
  | 'loss'

/** The shape of one GEMM: `(m × k) · (k × n)`; `batch` GEMMs of that shape per instance (experts touched, heads). */
export interface GemmShape {
  readonly m: number
  readonly n: number
  readonly k: number
  readonly batch: number
  /** The batch's members are experts and `m` their mean routed tokens: a grouped GEMM pads each expert's rows to its block (`ComputeModel.expertRowBlock`). */
  readonly grouped?: boolean
}

/** One operator on one GPU. `flops` and bytes are for one instance; it runs `count` times in the step. */
export interface Operator {
  readonly name: OperatorName
  readonly group: Group
  readonly kind: OperatorKind
  readonly pass: Pass
  /** The format it computes in. */
  readonly dtype: Dtype
  /** Instances in the step: layers of its kind on this GPU (1 for embedding and LM head), doubled for backward. */
  readonly count: number
  readonly flops: Flops
  /** `weightBytes + activationBytes + kvCacheBytes`. */
  readonly bytes: Bytes
  readonly weightBytes: Bytes
  readonly activationBytes: Bytes
  readonly kvCacheBytes: Bytes
  /** GEMMs: the shape the efficiency model sees. */
  readonly gemm?: GemmShape
  /** Attention: query rows and the mean keys each attends to. */
  readonly attention?: { readonly queries: number; readonly keys: number }
}

/**
 * How many times its forward a fused (FlashAttention) attention core costs in the
 * backward: 2.5, where other operators cost 2. It recomputes the score and probability
 * blocks before its four gradient GEMMs, five GEMMs against the forward's two (Dao et al.
 * 2022, "FlashAttention", section 3.1 and algorithm 4; Dao-AILab/flash-attention's
 * `benchmarks/benchmark_flash_attention.py` counts the backward as 2.5 times the
 * forward's FLOPs). The unfused kernel keeps its scores and pays 2.
 */
export const FLASH_BACKWARD_RATIO = 2.5

/** What an operator's backward costs in units of its forward: {@link FLASH_BACKWARD_RATIO} for the fused attention core, 2 for every other. */
export const backwardRatio = (name: OperatorName): number => (name === 'attention' ? FLASH_BACKWARD_RATIO : 2)

/** The operators of the attention core (what selective recomputation re-runs): the fused kernel, or the three of the unfused one. */
export const isAttentionCore = (name: OperatorName): boolean =>
  name === 'attention' || name === 'attention-scores' || name === 'attention-softmax' || name === 'attention-context'

/** What is deployed: the model, how it is split, its formats, and which pipeline stage this GPU serves. */
export interface Deployment {
  readonly arch: Architecture
  readonly strategy: Strategy
  readonly precision: Precision
  /** Pipeline rank of the GPU (0-based); default the last stage (it runs the LM head). */
  readonly ppRank?: number
  /** A serving engine's passes, not a training step: the GEMMs keep the serving share of their ceiling (`Efficiency['gemm']`). Default false. */
  readonly serving?: boolean
}

/** The per-step quantities operators are linear in (indices into a {@link Quantities} vector). */
export const Quantity = {
  /** 1: constant terms (weights read once per instance). */
  one: 0,
  /** Tokens this GPU's attention and dense layers process: `batch·tokens/cp` (prefill, training) or `batch` (decode). */
  tokens: 1,
  /** Tokens of norms and residual adds: `tokens/tp` with sequence parallelism, else `tokens`. */
  normTokens: 2,
  /** Causal query-key pairs per head on this GPU: `batch·causalPairs(n)/cp`, or the decode keys `Σ min(context, window)/cp`. */
  pairs: 3,
  /** Tokens through the LM head: all of them in training; the last of each sequence (`batch`) in a prefill; every token of a decode step (`batch`, or `batch·queries` when it verifies drafted tokens). */
  lmTokens: 4,
  /** Token-expert assignments on this GPU per MoE layer. */
  routed: 5,
  /** Expected distinct local experts touched per MoE layer. */
  touched: 6,
  /** Sequences of the step on this GPU: `batch`. */
  sequences: 7,
  /** Score-matrix elements per head an unfused kernel computes: `batch·tokens·(tokens/cp)`, all of the square (the mask comes after); decode: `queries·keys/cp`. */
  scores: 8,
  /**
   * Cached key positions a decode step reads on this GPU: `Σ min(context, window)/cp`, once
   * per sequence however many queries it brings (the KV cache's bytes are linear in this,
   * its FLOPs in `pairs`); in prefill and training the same as `pairs`.
   */
  keys: 9,
} as const
export type QuantityName = keyof typeof Quantity
const QUANTITIES = Object.keys(Quantity).length

/** A vector of the quantities, indexed by {@link Quantity}. */
export type Quantities = Float64Array

/** An operator as coefficients on the quantities, for one deployment and one phase kind. */
export interface OperatorForm {
  readonly name: OperatorName
  readonly group: Group
  readonly kind: OperatorKind
  /** Inside a transformer layer (recomputed by full recomputation). */
  readonly inLayer: boolean
  readonly count: number
  readonly flops: Float64Array
  readonly weightBytes: Float64Array
  readonly activationBytes: Float64Array
  readonly kvCacheBytes: Float64Array
  /** The sum of the three byte coefficient vectors. */
  readonly bytes: Float64Array
  /**
   * GEMMs: `m = q[mFrom] / q[perFrom]`, `batch = q[perFrom] · copies`; with `keysIn`, that
   * dimension (`n` or `k`) is the keys each query row meets, `q[scores] / q[tokens]` (the
   * unfused attention's batched GEMMs), and the constant there is unused.
   */
  readonly gemm?: { readonly n: number; readonly k: number; readonly mFrom: number; readonly perFrom: number; readonly copies: number; readonly keysIn?: 'n' | 'k' }
  /** Computes at the 16-bit peak whatever the compute format (fp8 training's embedding, LM head and unfused attention). */
  readonly wide?: boolean
}

/** The numbers of a deployment the quantities are computed from. */
export interface ShardShape {
  readonly tp: number
  readonly cp: number
  readonly dp: number
  readonly ep: number
  readonly edp: number
  readonly sequenceParallel: boolean
  /** The model's window: the span, the share of its layers with it, chunked or sliding. */
  readonly attentionWindow: AttentionWindow
  /** Routed experts and top-k, 0 for a dense model. */
  readonly experts: number
  readonly topK: number
  readonly imbalance: number
  readonly ppRank: number
  readonly stageLayers: number
  readonly stageMoeLayers: number
}

/** The forms of one deployment for each phase kind. */
export interface OperatorForms {
  readonly shape: ShardShape
  readonly dtype: Dtype
  /** The format of the forms marked `wide`: the weights' 16-bit format, else bf16. */
  readonly wideDtype: Dtype
  readonly prefill: ReadonlyArray<OperatorForm>
  readonly decode: ReadonlyArray<OperatorForm>
  readonly training: ReadonlyArray<OperatorForm>
}

// -------------------------------------------------------------------------------------
// element-wise constants
// -------------------------------------------------------------------------------------

/**
 * FLOPs per element of the element-wise operators, counted by hand from their
 * definitions (they run memory-bound, so these counts barely move a time):
 * RMSNorm 4 (square, accumulate, scale by the reciprocal root, multiply by the weight;
 * Zhang & Sennrich 2019, equation 4); LayerNorm 8 (mean, subtract, square, accumulate,
 * scale, multiply, shift; Ba et al. 2016); GELU 8 (tanh approximation, Hendrycks &
 * Gimpel 2016: cube, two multiplies, add, tanh, add, two multiplies); SwiGLU 5 per
 * output element (sigmoid ≈ 3, times x, times the up projection; Shazeer 2020);
 * residual 1 per add; MoE combine 2 per element (weight, accumulate); cross-entropy 5
 * per logit (max, subtract, exp, accumulate, and the gradient's subtract); the unfused
 * attention's scaled, masked softmax 5 per score (scale, max, subtract-and-exp, sum,
 * divide) and its dropout 2 (compare a random number, scale).
 */
export const ELEMENTWISE_FLOPS = {
  rmsnorm: 4,
  layernorm: 8,
  gelu: 8,
  swiglu: 5,
  residual: 1,
  combine: 2,
  crossEntropy: 5,
  softmax: 5,
  dropout: 2,
} as const

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** Coefficients as a vector as long as the last quantity used (so a dot product reads no trailing zeros). */
const coefficients = (entries: Partial<Record<QuantityName, number>>): Float64Array => {
  const used = (Object.keys(entries) as QuantityName[]).filter((name) => entries[name] !== 0)
  const c = new Float64Array(Math.max(1, ...used.map((name) => Quantity[name] + 1)))
  for (const name of used) c[Quantity[name]] = entries[name] ?? 0
  return c
}

const sum3 = (a: Float64Array, b: Float64Array, c: Float64Array): Float64Array => {
  const s = new Float64Array(Math.max(a.length, b.length, c.length))
  for (let i = 0; i < s.length; i++) s[i] = (a[i] ?? 0) + (b[i] ?? 0) + (c[i] ?? 0)
  return s
}

const positiveSize = (n: number): boolean => Number.isSafeInteger(n) && n > 0

/** The deployment's shape, or why it does not fit the model. */
export const shardShape = (model: ComputeModel, deployment: Deployment): E.Either<ComputeError, ShardShape> => {
  const { arch, strategy: s } = deployment
  const a = arch.attention
  const sizes: Record<string, number> = { hidden: arch.hidden, layers: arch.layers, vocab: arch.vocab, heads: a.heads, ffn: arch.mlp.ffn }
  if (a.kind === 'mla') {
    Object.assign(sizes, { kvLoraRank: a.kvLoraRank, vHeadDim: a.vHeadDim, qkNopeHeadDim: a.qkNopeHeadDim, qkRopeHeadDim: a.qkRopeHeadDim })
    if (a.qLoraRank !== null) sizes['qLoraRank'] = a.qLoraRank
  }
  else Object.assign(sizes, { kvHeads: a.kvHeads, headDim: a.headDim })
  if (arch.moe !== undefined) Object.assign(sizes, { experts: arch.moe.experts, topK: arch.moe.topK, expertFfn: arch.moe.expertFfn })
  for (const [name, value] of Object.entries(sizes)) {
    if (!positiveSize(value)) return E.left(computeError('invalid-model', `${arch.name}: ${name} must be a positive integer, got ${value}`, { [name]: value }))
  }
  if (arch.slidingWindow !== undefined && !positiveSize(arch.slidingWindow)) {
    return E.left(computeError('invalid-model', `${arch.name}: slidingWindow must be a positive integer, got ${arch.slidingWindow}`, { slidingWindow: arch.slidingWindow }))
  }
  const misfit = validateForModel({ model: arch })(s)
  if (E.isLeft(misfit)) {
    const [first] = misfit.left
    return E.left(computeError('invalid-degree', misfit.left.map((v) => v.message).join('; '), { ...first.values }))
  }
  const ppRank = deployment.ppRank ?? s.pp - 1
  if (!(Number.isSafeInteger(ppRank) && ppRank >= 0 && ppRank < s.pp)) {
    return E.left(computeError('invalid-stage', `pipeline rank must be an integer in 0..${s.pp - 1}, got ${ppRank}`, { ppRank, pp: s.pp }))
  }
  return pipe(
    validateImbalance(model.moeImbalance),
    E.map((imbalance) => {
      const layers = layersOfStage(arch, s)(ppRank)
      return {
        tp: s.tp,
        cp: s.cp,
        dp: s.dp,
        ep: s.ep,
        edp: expertDataParallel(s),
        sequenceParallel: s.sequenceParallel,
        // the model's share of window layers, not the stage's: per-layer costs then compose
        // over any split of the layers (the training search builds stages from them), at the
        // price of a stage whose share differs from the model's (gpt-oss's alternation over an odd split)
        attentionWindow: attentionWindowOf(arch),
        experts: arch.moe?.experts ?? 0,
        topK: arch.moe?.topK ?? 0,
        imbalance,
        ppRank,
        stageLayers: layers.length,
        stageMoeLayers: layers.filter(isMoeLayer(arch)).length,
      }
    }),
  )
}

/** The parameter component a GEMM's weights belong to, for their bytes per parameter. */
const componentOf = (name: OperatorName, group: Group): WeightComponent =>
  name === 'router' ? 'router' : name === 'lm-head' ? 'lmHead' : name.startsWith('shared-expert') ? 'sharedExperts' : name.startsWith('expert') ? 'routedExperts' : group === 'mlp' ? 'denseMlp' : 'attention'

/** The operator forms of one phase kind (see the module comment for the operators and their sources). */
const formsOf = (deployment: Deployment, shape: ShardShape, kind: PhaseKind, kernel: AttentionKernel): ReadonlyArray<OperatorForm> => {
  const { arch, strategy: s, precision } = deployment
  const inference = kind !== 'training'
  const training = kind === 'training'
  const weightFormat = bytesPerElement(precision.weights)
  const ab = bytesPerElement(precision.activations)
  const kvb = bytesPerElement(precision.kvCache)
  // FP8 training (see the module comment): GEMM inputs and weight copies in the activations' format, everything else at least 16-bit
  const narrowTraining = training && ab < 2
  const gemmIn = ab
  // GEMM outputs, norms, the residual stream: 16-bit at the narrowest, in training and serving alike (see the module comment)
  const act = Math.max(2, ab)
  const wb = training ? Math.min(weightFormat, ab) : weightFormat
  // serving: each GEMM's weights at their bytes per parameter (a quantized checkpoint's carry their scales, what it leaves 16-bit is read 16-bit)
  const perParameter = weightBytesPerParameter(arch, precision)
  // serving narrow weights from a checkpoint that leaves the LM head 16-bit (ModelOpt's fp8 and NVFP4 checkpoints exclude
  // `lm_head`): the head computes in 16 bits on its 16-bit input, the final norm's output, as the `wide` GEMMs of fp8 training do
  const wideServing = ab < 2 && weightFormat < 2 && perParameter('lmHead') >= 2
  const unfused = kernel === 'unfused' && kind !== 'decode'
  const h = arch.hidden
  const tp = s.tp
  const first = shape.ppRank === 0
  const last = shape.ppRank === s.pp - 1
  const layers = shape.stageLayers
  const moeLayers = shape.stageMoeLayers
  const denseLayers = layers - moeLayers
  const forms: OperatorForm[] = []

  const add = (
    name: OperatorName,
    group: Group,
    opKind: OperatorKind,
    count: number,
    parts: {
      readonly flops?: Partial<Record<QuantityName, number>>
      readonly weightBytes?: Partial<Record<QuantityName, number>>
      readonly activationBytes?: Partial<Record<QuantityName, number>>
      readonly kvCacheBytes?: Partial<Record<QuantityName, number>>
      readonly gemm?: OperatorForm['gemm']
      readonly wide?: boolean
    },
  ): void => {
    if (count <= 0) return
    const weightBytes = coefficients(parts.weightBytes ?? {})
    const activationBytes = coefficients(parts.activationBytes ?? {})
    const kvCacheBytes = coefficients(parts.kvCacheBytes ?? {})
    const inLayer = !['embedding', 'final-norm', 'lm-head', 'loss'].includes(name)
    forms.push({
      name,
      group,
      kind: opKind,
      inLayer,
      count,
      flops: coefficients(parts.flops ?? {}),
      weightBytes,
      activationBytes,
      kvCacheBytes,
      bytes: sum3(weightBytes, activationBytes, kvCacheBytes),
      ...(parts.gemm === undefined ? {} : { gemm: parts.gemm }),
      ...(parts.wide === true && (narrowTraining || (inference && wideServing)) ? { wide: true } : {}),
    })
  }

  /**
   * A GEMM `(m × k)·(k × n)`, `copies` of them per `per`: reads the weights and its input
   * (`gemmIn` bytes each), writes its output (`act`). `wide`: a 16-bit GEMM in fp8 training.
   */
  const gemm = (
    name: OperatorName,
    group: Group,
    count: number,
    n: number,
    k: number,
    m: QuantityName = 'tokens',
    per: QuantityName = 'one',
    copies = 1,
    wide = false,
  ): void =>
    add(name, group, 'gemm', count, {
      flops: { [m]: 2 * n * k * copies },
      weightBytes: { [per]: n * k * copies * (training ? (wide ? weightFormat : wb) : perParameter(componentOf(name, group))) },
      activationBytes: { [m]: (n * act + k * (wide ? act : gemmIn)) * copies },
      gemm: { n, k, mFrom: Quantity[m], perFrom: Quantity[per], copies },
      wide,
    })

  const normFlops = arch.norm === 'rmsnorm' ? ELEMENTWISE_FLOPS.rmsnorm : ELEMENTWISE_FLOPS.layernorm
  /** A norm over the hidden size: reads each element, writes it in the next GEMM's input format (the cast fused); its weights stay in the activations' format. */
  const norm = (name: OperatorName, count: number): void =>
    add(name, 'other', 'elementwise', count, {
      flops: { normTokens: normFlops * h },
      weightBytes: { one: (arch.norm === 'rmsnorm' ? 1 : 2) * h * act },
      activationBytes: { normTokens: h * act + h * (name === 'final-norm' ? act : gemmIn) },
    })

  /**
   * The unfused attention core of one layer ({@link AttentionKernel}) for `heads` query
   * heads of `qk` dims (scores) and `v` dims (context) against `kvRead` key and value
   * elements per token read, all 16-bit: the scores GEMM reads Q and K and writes the
   * `s × s` scores; softmax reads them and writes the probabilities; training's dropout
   * reads those, writes the dropped ones and a 1-byte mask; the context GEMM reads them
   * and V and writes the output. The two GEMMs are batched over sequences and heads,
   * `(s/cp) × d · d × s` and `(s/cp) × s · s × d`.
   */
  const unfusedCore = (count: number, qk: number, v: number, keyElements: number, valueElements: number): void => {
    const perSequence = Quantity.sequences
    add('attention-scores', 'attention', 'gemm', count, {
      flops: { scores: 2 * heads * qk },
      activationBytes: { tokens: (heads * qk + cpReads * keyElements) * act, scores: heads * act },
      gemm: { n: 0, k: qk, mFrom: Quantity.tokens, perFrom: perSequence, copies: heads, keysIn: 'n' },
      wide: true,
    })
    const dropout = training
    add('attention-softmax', 'attention', 'elementwise', count, {
      flops: { scores: heads * (ELEMENTWISE_FLOPS.softmax + (dropout ? ELEMENTWISE_FLOPS.dropout : 0)) },
      activationBytes: { scores: heads * (2 * act + (dropout ? 2 * act + 1 : 0)) },
    })
    add('attention-context', 'attention', 'gemm', count, {
      flops: { scores: 2 * heads * v },
      activationBytes: { scores: heads * act, tokens: (cpReads * valueElements + heads * v) * act },
      gemm: { n: v, k: 0, mFrom: Quantity.tokens, perFrom: perSequence, copies: heads, keysIn: 'k' },
      wide: true,
    })
  }

  // Embedding lookup: one row per token read, the hidden state written (first stage).
  add('embedding', 'other', 'elementwise', first ? 1 : 0, { weightBytes: { tokens: h * weightFormat }, activationBytes: { tokens: h * act } })

  // ---------------------------------------------------------------- attention, every layer
  norm('attention-norm', layers)
  const a = arch.attention
  const heads = a.heads / tp
  const cpReads = kind === 'decode' ? 1 : s.cp // K and V of the whole sequence pass through every CP rank (ring attention)
  if (a.kind === 'mla') {
    // DeepSeek-V3 report section 2.1.1 (equations 1-11); the down-projections are replicated over TP.
    const qkDim = a.qkNopeHeadDim + a.qkRopeHeadDim
    const latent = a.kvLoraRank + a.qkRopeHeadDim
    if (a.qLoraRank === null) gemm('q-proj', 'attention', layers, heads * qkDim, h)
    else {
      gemm('q-down', 'attention', layers, a.qLoraRank, h)
      gemm('q-up', 'attention', layers, heads * qkDim, a.qLoraRank)
    }
    gemm('kv-down', 'attention', layers, latent, h)
    const cacheWrite = inference ? latent * kvb : 0
    if (kind === 'decode') {
      // Weight absorption (DeepSeek-V2 paper, section 2.1.2, last paragraph): W_UK folds into the
      // query, W_UV into the output; attention runs over the cached latent, shared by all heads
      // (MQA-like), scores over kvLoraRank + rope, context over kvLoraRank.
      gemm('q-absorb', 'attention', layers, a.kvLoraRank, a.qkNopeHeadDim, 'tokens', 'one', heads)
      add('attention', 'attention', 'attention', layers, {
        flops: { pairs: 2 * heads * (latent + a.kvLoraRank) },
        activationBytes: { tokens: (heads * latent + latent + heads * a.kvLoraRank) * ab },
        kvCacheBytes: { keys: latent * kvb, tokens: cacheWrite },
      })
      gemm('v-absorb', 'attention', layers, a.vHeadDim, a.kvLoraRank, 'tokens', 'one', heads)
    } else {
      // Explicit form: the latent is up-projected to per-head keys and values.
      gemm('kv-up', 'attention', layers, heads * (a.qkNopeHeadDim + a.vHeadDim), a.kvLoraRank)
      if (unfused) {
        unfusedCore(layers, qkDim, a.vHeadDim, heads * qkDim, heads * a.vHeadDim)
        add('attention', 'attention', 'attention', inference ? layers : 0, { kvCacheBytes: { tokens: cacheWrite } })
      } else {
        add('attention', 'attention', 'attention', layers, {
          flops: { pairs: 2 * heads * (qkDim + a.vHeadDim) },
          activationBytes: { tokens: (heads * qkDim + cpReads * heads * (qkDim + a.vHeadDim) + heads * a.vHeadDim) * act },
          kvCacheBytes: { tokens: cacheWrite },
        })
      }
    }
    gemm('output', 'attention', layers, h, heads * a.vHeadDim)
  } else {
    // MHA/GQA (Vaswani et al. 2017 section 3.2.2; Ainslie et al. 2023): TP splits query heads;
    // KV heads split too, or are replicated (one per GPU) when tp exceeds them.
    const d = a.headDim
    const kvHeads = kvHeadsPerGpu(arch)(tp)
    gemm('qkv', 'attention', layers, (heads + 2 * kvHeads) * d, h)
    // Per-head RMSNorm of the queries and keys before RoPE (Qwen3, Gemma 3, OLMo 2: transformers' Qwen3Attention
    // applies `q_norm` and `k_norm` over head_dim): one kernel reads and writes the projected q and k in 16 bits
    // (TensorRT-LLM fuses both norms with RoPE into one; vLLM runs the two norms back to back)
    if (a.qkNorm)
      add('qk-norm', 'attention', 'elementwise', layers, {
        flops: { tokens: ELEMENTWISE_FLOPS.rmsnorm * (heads + kvHeads) * d },
        weightBytes: { one: 2 * d * act },
        activationBytes: { tokens: 2 * (heads + kvHeads) * d * act },
      })
    const perTokenCache = kvHeads * 2 * d * kvb
    if (unfused) {
      unfusedCore(layers, d, d, kvHeads * d, kvHeads * d)
      // the prefill still writes the KV cache
      add('attention', 'attention', 'attention', inference ? layers : 0, { kvCacheBytes: { tokens: perTokenCache } })
    } else {
      add('attention', 'attention', 'attention', layers, {
        flops: { pairs: 2 * heads * 2 * d },
        activationBytes: { tokens: (2 * heads * d + cpReads * kvHeads * 2 * d) * act },
        kvCacheBytes: { tokens: inference ? perTokenCache : 0, keys: kind === 'decode' ? perTokenCache : 0 },
      })
    }
    gemm('output', 'attention', layers, h, heads * d)
  }
  add('residual', 'other', 'elementwise', layers, {
    flops: { normTokens: 2 * ELEMENTWISE_FLOPS.residual * h },
    activationBytes: { normTokens: 2 * 3 * h * act },
  })
  norm('mlp-norm', layers)

  // ---------------------------------------------------------------- dense MLP
  const ffn = arch.mlp.ffn / tp
  if (arch.mlp.kind !== 'gelu') {
    gemm('mlp-up', 'mlp', denseLayers, 2 * ffn, h)
    add('mlp-activation', 'mlp', 'elementwise', denseLayers, {
      flops: { tokens: ELEMENTWISE_FLOPS.swiglu * ffn },
      activationBytes: { tokens: 2 * ffn * act + ffn * gemmIn },
    })
  } else {
    gemm('mlp-up', 'mlp', denseLayers, ffn, h)
    add('mlp-activation', 'mlp', 'elementwise', denseLayers, {
      flops: { tokens: ELEMENTWISE_FLOPS.gelu * ffn },
      activationBytes: { tokens: ffn * act + ffn * gemmIn },
    })
  }
  gemm('mlp-down', 'mlp', denseLayers, h, ffn)

  // ---------------------------------------------------------------- MoE block
  const moe = arch.moe
  if (moe !== undefined) {
    gemm('router', 'moe', moeLayers, moe.experts, h, 'normTokens')
    if (moe.sharedExperts > 0 && moe.sharedExpertFfn > 0) {
      const shared = (moe.sharedExperts * moe.sharedExpertFfn) / tp
      gemm('shared-expert-up', 'moe', moeLayers, 2 * shared, h)
      add('shared-expert-activation', 'moe', 'elementwise', moeLayers, {
        flops: { tokens: ELEMENTWISE_FLOPS.swiglu * shared },
        activationBytes: { tokens: 2 * shared * act + shared * gemmIn },
      })
      gemm('shared-expert-down', 'moe', moeLayers, h, shared)
    }
    // Routing and the permutations around the grouped GEMMs, one kernel each as the engines' MoE runners launch
    // them (TensorRT-LLM's CUTLASS MoE, `cutlass_kernels/moe_gemm/moe_kernels.cu` `runMoe`: the routing kernel,
    // the expert maps' counting sort (`fusedBuildExpertMapsSortFirstToken`, else three kernels),
    // `expandInputRowsKernel`, the GEMMs and the activation, `finalizeMoeRoutingKernel`; vLLM's `fused_moe`:
    // `topk_softmax`, `moe_align_block_size`, the GEMMs gathering their rows, `moe_sum`):
    // - route: the top-k over each token's router logits (fp32), writing k expert ids and weights (4 bytes each)
    add('moe-route', 'moe', 'elementwise', moeLayers, {
      flops: { normTokens: ELEMENTWISE_FLOPS.softmax * moe.experts },
      activationBytes: { normTokens: 4 * moe.experts + 8 * moe.topK },
    })
    // - sort: each assignment's expert id read, its place in the expert-sorted order and back written (4 bytes each)
    add('moe-sort', 'moe', 'elementwise', moeLayers, {
      activationBytes: { routed: 12 },
    })
    // - dispatch: each assignment's token row read and written in expert order, in the GEMM's input format
    add('moe-dispatch', 'moe', 'elementwise', moeLayers, {
      activationBytes: { routed: h * act + h * gemmIn },
    })
    const expertFfn = moe.expertFfn / s.etp
    gemm('expert-up', 'moe', moeLayers, 2 * expertFfn, h, 'routed', 'touched')
    add('expert-activation', 'moe', 'elementwise', moeLayers, {
      flops: { routed: ELEMENTWISE_FLOPS.swiglu * expertFfn },
      activationBytes: { routed: 2 * expertFfn * act + expertFfn * gemmIn },
    })
    gemm('expert-down', 'moe', moeLayers, h, expertFfn, 'routed', 'touched')
    // - combine: each assignment's output row read, weighted and summed into its token's row
    add('moe-combine', 'moe', 'elementwise', moeLayers, {
      flops: { routed: ELEMENTWISE_FLOPS.combine * h },
      activationBytes: { routed: h * act, tokens: h * act },
    })
  }

  // ---------------------------------------------------------------- last stage
  norm('final-norm', last ? 1 : 0)
  const vocab = Math.ceil(arch.vocab / tp) // vocabulary-parallel LM head (Megatron-LM)
  gemm('lm-head', 'lm_head', last ? 1 : 0, vocab, h, 'lmTokens', 'one', 1, true)
  if (!inference) {
    add('loss', 'lm_head', 'elementwise', last ? 1 : 0, {
      flops: { lmTokens: ELEMENTWISE_FLOPS.crossEntropy * vocab },
      activationBytes: { lmTokens: vocab * act },
    })
  }
  return forms
}

/**
 * Forms already built, per architecture: they are a function of the architecture, the
 * formats, the phase kind, the attention kernel and the few numbers of the deployment
 * {@link formsOf} reads (tp, cp, etp, whether the stage is the first or the last, its
 * layers and MoE layers), so the strategies of a search that differ in the rest (dp, ep,
 * pp beyond the stage, the order of the ranks) share them. Forms are never written after
 * they are built. At most {@link FORMS_PER_ARCH} per architecture are kept.
 */
const formsCache = new WeakMap<Deployment['arch'], Map<string, ReadonlyArray<OperatorForm>>>()
const FORMS_PER_ARCH = 4096

const sharedForms = (deployment: Deployment, shape: ShardShape, kind: PhaseKind, kernel: AttentionKernel): ReadonlyArray<OperatorForm> => {
  const { arch, strategy: s, precision: p } = deployment
  const key = `${kind}/${kernel}/${p.weights}/${p.activations}/${p.kvCache}/${s.tp}/${s.cp}/${s.etp}/${shape.ppRank === 0}/${shape.ppRank === s.pp - 1}/${shape.stageLayers}/${shape.stageMoeLayers}`
  let known = formsCache.get(arch)
  const hit = known?.get(key)
  if (hit !== undefined) return hit
  const forms = formsOf(deployment, shape, kind, kernel)
  if (known === undefined) {
    known = new Map()
    formsCache.set(arch, known)
  }
  if (known.size >= FORMS_PER_ARCH) known.clear()
  known.set(key, forms)
  return forms
}

/** The operator forms of a deployment for each phase kind, or why the deployment does not fit. */
export const operatorForms = (model: ComputeModel, deployment: Deployment): E.Either<ComputeError, OperatorForms> =>
  pipe(
    shardShape(model, deployment),
    E.map((shape) => {
      // each phase's forms are built on first use: an inference planner never pays for training's
      const built: Partial<Record<PhaseKind, ReadonlyArray<OperatorForm>>> = {}
      const kernel = model.attentionKernel ?? 'flash'
      const once = (kind: PhaseKind): ReadonlyArray<OperatorForm> => (built[kind] ??= sharedForms(deployment, shape, kind, kernel))
      const weights = deployment.precision.weights
      return {
        shape,
        dtype: model.computeDtype(deployment.precision),
        wideDtype: weights === 'bf16' || weights === 'fp16' ? weights : 'bf16',
        get prefill() {
          return once('prefill')
        },
        get decode() {
          return once('decode')
        },
        get training() {
          return once('training')
        },
      }
    }),
  )

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/**
 * Fills `q` with the quantities of a step: `kind`, `batch` sequences, `tokens` per
 * sequence (prefill, training; ignored in decode), and for decode `keys`, the keys read
 * over all sequences (`Σ` of each context's keys, `windowedKeys` of @meshplan/model). Plain arithmetic, no allocation.
 */
export const fillQuantities = (q: Quantities, shape: ShardShape, kind: PhaseKind, batch: number, tokens: number, keys: number, queries = 1): Quantities => {
  const decoding = kind === 'decode'
  // a decode step of speculative decoding verifies `queries` tokens of each sequence at once: they pass every
  // layer and the LM head as tokens, attend to the same cached keys (read once), and to each other (left out: a few keys)
  const onGpu = decoding ? batch * queries : (batch * tokens) / shape.cp
  q[Quantity.one] = 1
  q[Quantity.tokens] = onGpu
  q[Quantity.normTokens] = shape.sequenceParallel ? onGpu / shape.tp : onGpu
  q[Quantity.pairs] = decoding ? (keys * queries) / shape.cp : (batch * layerPairs(tokens, shape.attentionWindow)) / shape.cp
  q[Quantity.keys] = decoding ? keys / shape.cp : (q[Quantity.pairs] ?? 0)
  q[Quantity.lmTokens] = kind === 'prefill' ? batch : onGpu
  q[Quantity.sequences] = batch
  q[Quantity.scores] = decoding ? (keys * queries) / shape.cp : (batch * tokens * tokens) / shape.cp
  if (shape.experts > 0) {
    const share = routedShare({
      experts: shape.experts,
      topK: shape.topK,
      ep: shape.ep,
      edp: shape.edp,
      dp: shape.dp,
      replicaTokens: decoding ? batch * queries : batch * tokens,
      imbalance: shape.imbalance,
    })
    q[Quantity.routed] = share.assignments
    q[Quantity.touched] = share.expertsTouched
  } else {
    q[Quantity.routed] = 0
    q[Quantity.touched] = 0
  }
  return q
}

/** The quantities of a (valid) phase. */
export const quantitiesOf = (shape: ShardShape, phase: Phase): Quantities => {
  const q = new Float64Array(QUANTITIES)
  switch (phase.kind) {
    case 'prefill':
      return fillQuantities(q, shape, 'prefill', phase.batch, phase.tokens, 0)
    case 'decode':
      return fillQuantities(q, shape, 'decode', phase.batch, 0, decodeKeys(phase, shape.attentionWindow), phase.queries ?? 1)
    case 'training':
      return fillQuantities(q, shape, 'training', phase.batch, phase.sequence, 0)
  }
}

/** `Σ c[i]·q[i]` over the coefficients `c` holds (it stops at the last quantity its form uses). */
export const evaluate = (c: Float64Array, q: Quantities): number => {
  let total = 0
  for (let i = 0; i < c.length; i++) total += (c[i] ?? 0) * (q[i] ?? 0)
  return total
}

/** GEMM `m` of a form at quantities `q` (the mean tokens per GEMM of a grouped GEMM). */
export const gemmM = (form: OperatorForm, q: Quantities): number =>
  form.gemm === undefined ? 0 : (q[form.gemm.mFrom] ?? 0) / (q[form.gemm.perFrom] ?? 1)

/** Keys each query row meets, `q[scores] / q[tokens]`: a batched attention GEMM's `n` (scores) or `k` (context). */
const keysPerQuery = (q: Quantities): number => (q[Quantity.scores] ?? 0) / (q[Quantity.tokens] ?? 1)

/** Whether `form` is a grouped GEMM over the experts a layer's tokens touch (its instances per step are the experts touched). */
export const isGroupedGemm = (form: OperatorForm): boolean => form.gemm !== undefined && form.gemm.perFrom === Quantity.touched

/**
 * The rows a grouped GEMM computes per expert for `m` routed tokens on average, with
 * blocks of `block` rows: at least one block, and half a block of padding on average, as
 * the experts' counts spread over the block (`max(block, m + block/2)`); `m` itself when
 * `block` is 1 or less (no padding).
 */
export const paddedExpertRows = (m: number, block: number): number => (block <= 1 || !(m > 0) ? m : Math.max(block, m + block / 2))

/** GEMM `n` of a form at quantities `q`. */
export const gemmN = (form: OperatorForm, q: Quantities): number =>
  form.gemm === undefined ? 0 : form.gemm.keysIn === 'n' ? keysPerQuery(q) : form.gemm.n

/** GEMM `k` of a form at quantities `q`. */
export const gemmK = (form: OperatorForm, q: Quantities): number =>
  form.gemm === undefined ? 0 : form.gemm.keysIn === 'k' ? keysPerQuery(q) : form.gemm.k

/** An operator record: the form evaluated at `q`, run `count × countFactor` times, in `dtype` (`wideDtype` for a `wide` form). */
export const materialize = (form: OperatorForm, q: Quantities, dtype: Dtype, pass: Pass, countFactor = 1, wideDtype: Dtype = dtype): Operator => {
  const weightBytes = evaluate(form.weightBytes, q)
  const activationBytes = evaluate(form.activationBytes, q)
  const kvCacheBytes = evaluate(form.kvCacheBytes, q)
  const tokens = q[Quantity.tokens] ?? 0
  const g = form.gemm
  return {
    name: form.name,
    group: form.group,
    kind: form.kind,
    pass,
    dtype: form.wide === true ? wideDtype : dtype,
    count: form.count * countFactor,
    flops: toFlops(evaluate(form.flops, q)),
    bytes: toBytes(weightBytes + activationBytes + kvCacheBytes),
    weightBytes: toBytes(weightBytes),
    activationBytes: toBytes(activationBytes),
    kvCacheBytes: toBytes(kvCacheBytes),
    ...(g === undefined ? {} : { gemm: { m: gemmM(form, q), n: gemmN(form, q), k: gemmK(form, q), batch: (q[g.perFrom] ?? 0) * g.copies, ...(isGroupedGemm(form) ? { grouped: true } : {}) } }),
    ...(form.kind === 'attention' ? { attention: { queries: tokens, keys: (q[Quantity.pairs] ?? 0) / tokens } } : {}),
  }
}

/** Whether recomputation `recompute` re-runs the forward of `form` (selective: the attention core, {@link isAttentionCore}). */
export const recomputes = (recompute: 'none' | 'selective' | 'full', form: OperatorForm): boolean =>
  recompute === 'full' ? form.inLayer : recompute === 'selective' && isAttentionCore(form.name)

/**
 * The operators one GPU runs in `phase` under `deployment`, or why there are none (a
 * deployment that does not fit, a bad phase). Training lists the forward operators,
 * then the backward ones (each its forward with `count` doubled, the fused attention core's
 * times {@link FLASH_BACKWARD_RATIO}), then the recomputed.
 */
export const operators =
  (model: ComputeModel, deployment: Deployment) =>
  (phase: Phase): E.Either<ComputeError, ReadonlyArray<Operator>> =>
    pipe(
      validatePhase(phase),
      E.chain((p) => pipe(operatorForms(model, deployment), E.map((forms) => operatorsOf(forms, p)))),
    )

/** The operators of a valid phase from a deployment's forms. */
export const operatorsOf = (forms: OperatorForms, phase: Phase): ReadonlyArray<Operator> => {
  const q = quantitiesOf(forms.shape, phase)
  const list = forms[phase.kind]
  const forward = list.map((f) => materialize(f, q, forms.dtype, 'forward', 1, forms.wideDtype))
  if (phase.kind !== 'training') return forward
  const backward = list.map((f) => materialize(f, q, forms.dtype, 'backward', backwardRatio(f.name), forms.wideDtype))
  const recomputed = list.filter((f) => recomputes(phase.recompute, f)).map((f) => materialize(f, q, forms.dtype, 'recompute', 1, forms.wideDtype))
  return [...forward, ...backward, ...recomputed]
}
