/**
 * The operators one GPU runs in a step, with their FLOPs and the bytes they move, after
 * the strategy has split the model: TP splits heads, the FFN and the vocabulary; CP
 * splits the sequence; EP/ETP split the experts (tokens per expert from routing); PP
 * gives the GPU the layers of its stage (the first stage also looks up the embedding,
 * the last runs the final norm and the LM head).
 *
 * Per transformer layer: `attention-norm`, the query/key/value projections (`qkv`; MLA:
 * `q-proj` or `q-down`/`q-up`, `kv-down`, and `kv-up` in prefill and training or the
 * absorbed `q-absorb`/`v-absorb` in decode), the fused `attention` core (scores, softmax
 * and context under the causal mask, FlashAttention style: Q, K, V read once, the score
 * matrix never written), the `output` projection, the two `residual` adds and the
 * `mlp-norm`; then a dense MLP (`mlp-up` — gate and up fused for SwiGLU —,
 * `mlp-activation`, `mlp-down`) or an MoE block (`router`, `shared-expert-up/activation/down`,
 * `moe-permute` — the dispatch and combine permutations —, `expert-up/activation/down`
 * as grouped GEMMs over the experts a step touches).
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
import { isMoeLayer, type Architecture, type Precision } from '@meshplan/model'
import { expertDataParallel, kvHeadsPerGpu, layersOfStage, validateForModel, type Strategy } from '@meshplan/parallelism'
import { bytes as toBytes, bytesPerElement, flops as toFlops, type Bytes, type Dtype, type Flops } from '@meshplan/units'
import type { ComputeModel } from './computeModel'
import { computeError, type ComputeError } from './error'
import { routedShare, validateImbalance } from './moe'
import { causalPairs, decodeKeys, validatePhase, type Phase, type PhaseKind } from './phase'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What the planner's breakdown groups operators by. */
export type Group = 'attention' | 'mlp' | 'moe' | 'lm_head' | 'other'

/** The groups, in display order. */
export const groups: ReadonlyArray<Group> = ['attention', 'mlp', 'moe', 'lm_head', 'other']

/** Which efficiency applies: a GEMM, the fused attention core, or element-wise work. */
export type OperatorKind = 'gemm' | 'attention' | 'elementwise'

/** Forward, backward (twice the forward), or a forward recomputed in the backward pass. */
export type Pass = 'forward' | 'backward' | 'recompute'

/** The operators (see the module comment). */
export type OperatorName =
  | 'embedding'
  | 'attention-norm'
  | 'qkv'
  | 'q-proj'
  | 'q-down'
  | 'q-up'
  | 'kv-down'
  | 'kv-up'
  | 'q-absorb'
  | 'attention'
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
  | 'moe-permute'
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

/** What is deployed: the model, how it is split, its formats, and which pipeline stage this GPU serves. */
export interface Deployment {
  readonly arch: Architecture
  readonly strategy: Strategy
  readonly precision: Precision
  /** Pipeline rank of the GPU (0-based); default the last stage (it runs the LM head). */
  readonly ppRank?: number
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
  /** Tokens through the LM head: all of them in training; the last of each sequence (`batch`) in inference. */
  lmTokens: 4,
  /** Token-expert assignments on this GPU per MoE layer. */
  routed: 5,
  /** Expected distinct local experts touched per MoE layer. */
  touched: 6,
} as const
export type QuantityName = keyof typeof Quantity
const QUANTITIES = 7

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
  /** GEMMs: `m = q[mFrom] / q[perFrom]`, `batch = q[perFrom] · copies`. */
  readonly gemm?: { readonly n: number; readonly k: number; readonly mFrom: number; readonly perFrom: number; readonly copies: number }
}

/** The numbers of a deployment the quantities are computed from. */
export interface ShardShape {
  readonly tp: number
  readonly cp: number
  readonly dp: number
  readonly ep: number
  readonly edp: number
  readonly sequenceParallel: boolean
  /** Sliding-window span, or Infinity. */
  readonly window: number
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
 * per logit (max, subtract, exp, accumulate, and the gradient's subtract).
 */
export const ELEMENTWISE_FLOPS = {
  rmsnorm: 4,
  layernorm: 8,
  gelu: 8,
  swiglu: 5,
  residual: 1,
  combine: 2,
  crossEntropy: 5,
} as const

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const coefficients = (entries: Partial<Record<QuantityName, number>>): Float64Array => {
  const c = new Float64Array(QUANTITIES)
  for (const [name, value] of Object.entries(entries) as Array<[QuantityName, number]>) c[Quantity[name]] = value
  return c
}

const sum3 = (a: Float64Array, b: Float64Array, c: Float64Array): Float64Array => {
  const s = new Float64Array(QUANTITIES)
  for (let i = 0; i < QUANTITIES; i++) s[i] = (a[i] ?? 0) + (b[i] ?? 0) + (c[i] ?? 0)
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
        window: arch.slidingWindow ?? Number.POSITIVE_INFINITY,
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

/** The operator forms of one phase kind (see the module comment for the operators and their sources). */
const formsOf = (deployment: Deployment, shape: ShardShape, kind: PhaseKind): ReadonlyArray<OperatorForm> => {
  const { arch, strategy: s, precision } = deployment
  const inference = kind !== 'training'
  const wb = bytesPerElement(precision.weights)
  const ab = bytesPerElement(precision.activations)
  const kvb = bytesPerElement(precision.kvCache)
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
    })
  }

  /** A GEMM `(m × k)·(k × n)`, `copies` of them per `per`: reads the weights and its input, writes its output. */
  const gemm = (
    name: OperatorName,
    group: Group,
    count: number,
    n: number,
    k: number,
    m: QuantityName = 'tokens',
    per: QuantityName = 'one',
    copies = 1,
  ): void =>
    add(name, group, 'gemm', count, {
      flops: { [m]: 2 * n * k * copies },
      weightBytes: { [per]: n * k * copies * wb },
      activationBytes: { [m]: (n + k) * copies * ab },
      gemm: { n, k, mFrom: Quantity[m], perFrom: Quantity[per], copies },
    })

  const normFlops = arch.norm === 'rmsnorm' ? ELEMENTWISE_FLOPS.rmsnorm : ELEMENTWISE_FLOPS.layernorm
  /** A norm over the hidden size: reads and writes each element; its weights stay in the activations' format. */
  const norm = (name: OperatorName, count: number): void =>
    add(name, 'other', 'elementwise', count, {
      flops: { normTokens: normFlops * h },
      weightBytes: { one: (arch.norm === 'rmsnorm' ? 1 : 2) * h * ab },
      activationBytes: { normTokens: 2 * h * ab },
    })

  // Embedding lookup: one row per token read, the hidden state written (first stage).
  add('embedding', 'other', 'elementwise', first ? 1 : 0, { weightBytes: { tokens: h * wb }, activationBytes: { tokens: h * ab } })

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
        kvCacheBytes: { pairs: latent * kvb, tokens: cacheWrite },
      })
      gemm('v-absorb', 'attention', layers, a.vHeadDim, a.kvLoraRank, 'tokens', 'one', heads)
    } else {
      // Explicit form: the latent is up-projected to per-head keys and values.
      gemm('kv-up', 'attention', layers, heads * (a.qkNopeHeadDim + a.vHeadDim), a.kvLoraRank)
      add('attention', 'attention', 'attention', layers, {
        flops: { pairs: 2 * heads * (qkDim + a.vHeadDim) },
        activationBytes: { tokens: (heads * qkDim + cpReads * heads * (qkDim + a.vHeadDim) + heads * a.vHeadDim) * ab },
        kvCacheBytes: { tokens: cacheWrite },
      })
    }
    gemm('output', 'attention', layers, h, heads * a.vHeadDim)
  } else {
    // MHA/GQA (Vaswani et al. 2017 section 3.2.2; Ainslie et al. 2023): TP splits query heads;
    // KV heads split too, or are replicated (one per GPU) when tp exceeds them.
    const d = a.headDim
    const kvHeads = kvHeadsPerGpu(arch)(tp)
    gemm('qkv', 'attention', layers, (heads + 2 * kvHeads) * d, h)
    const perTokenCache = kvHeads * 2 * d * kvb
    add('attention', 'attention', 'attention', layers, {
      flops: { pairs: 2 * heads * 2 * d },
      activationBytes: { tokens: (2 * heads * d + cpReads * kvHeads * 2 * d) * ab },
      kvCacheBytes: { tokens: inference ? perTokenCache : 0, pairs: kind === 'decode' ? perTokenCache : 0 },
    })
    gemm('output', 'attention', layers, h, heads * d)
  }
  add('residual', 'other', 'elementwise', layers, {
    flops: { normTokens: 2 * ELEMENTWISE_FLOPS.residual * h },
    activationBytes: { normTokens: 2 * 3 * h * ab },
  })
  norm('mlp-norm', layers)

  // ---------------------------------------------------------------- dense MLP
  const ffn = arch.mlp.ffn / tp
  if (arch.mlp.kind === 'swiglu') {
    gemm('mlp-up', 'mlp', denseLayers, 2 * ffn, h)
    add('mlp-activation', 'mlp', 'elementwise', denseLayers, {
      flops: { tokens: ELEMENTWISE_FLOPS.swiglu * ffn },
      activationBytes: { tokens: 3 * ffn * ab },
    })
  } else {
    gemm('mlp-up', 'mlp', denseLayers, ffn, h)
    add('mlp-activation', 'mlp', 'elementwise', denseLayers, {
      flops: { tokens: ELEMENTWISE_FLOPS.gelu * ffn },
      activationBytes: { tokens: 2 * ffn * ab },
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
        activationBytes: { tokens: 3 * shared * ab },
      })
      gemm('shared-expert-down', 'moe', moeLayers, h, shared)
    }
    add('moe-permute', 'moe', 'elementwise', moeLayers, {
      flops: { routed: ELEMENTWISE_FLOPS.combine * h },
      activationBytes: { routed: 4 * h * ab },
    })
    const expertFfn = moe.expertFfn / s.etp
    gemm('expert-up', 'moe', moeLayers, 2 * expertFfn, h, 'routed', 'touched')
    add('expert-activation', 'moe', 'elementwise', moeLayers, {
      flops: { routed: ELEMENTWISE_FLOPS.swiglu * expertFfn },
      activationBytes: { routed: 3 * expertFfn * ab },
    })
    gemm('expert-down', 'moe', moeLayers, h, expertFfn, 'routed', 'touched')
  }

  // ---------------------------------------------------------------- last stage
  norm('final-norm', last ? 1 : 0)
  const vocab = Math.ceil(arch.vocab / tp) // vocabulary-parallel LM head (Megatron-LM)
  gemm('lm-head', 'lm_head', last ? 1 : 0, vocab, h, 'lmTokens')
  if (!inference) {
    add('loss', 'lm_head', 'elementwise', last ? 1 : 0, {
      flops: { lmTokens: ELEMENTWISE_FLOPS.crossEntropy * vocab },
      activationBytes: { lmTokens: vocab * ab },
    })
  }
  return forms
}

/** The operator forms of a deployment for each phase kind, or why the deployment does not fit. */
export const operatorForms = (model: ComputeModel, deployment: Deployment): E.Either<ComputeError, OperatorForms> =>
  pipe(
    shardShape(model, deployment),
    E.map((shape) => {
      // each phase's forms are built on first use: an inference planner never pays for training's
      const built: Partial<Record<PhaseKind, ReadonlyArray<OperatorForm>>> = {}
      const once = (kind: PhaseKind): ReadonlyArray<OperatorForm> => (built[kind] ??= formsOf(deployment, shape, kind))
      return {
        shape,
        dtype: model.computeDtype(deployment.precision),
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
 * over all sequences (`Σ min(context, window)`). Plain arithmetic, no allocation.
 */
export const fillQuantities = (q: Quantities, shape: ShardShape, kind: PhaseKind, batch: number, tokens: number, keys: number): Quantities => {
  const decoding = kind === 'decode'
  const onGpu = decoding ? batch : (batch * tokens) / shape.cp
  q[Quantity.one] = 1
  q[Quantity.tokens] = onGpu
  q[Quantity.normTokens] = shape.sequenceParallel ? onGpu / shape.tp : onGpu
  q[Quantity.pairs] = decoding ? keys / shape.cp : (batch * causalPairs(tokens, shape.window)) / shape.cp
  q[Quantity.lmTokens] = kind === 'training' ? onGpu : batch
  if (shape.experts > 0) {
    const share = routedShare({
      experts: shape.experts,
      topK: shape.topK,
      ep: shape.ep,
      edp: shape.edp,
      dp: shape.dp,
      replicaTokens: decoding ? batch : batch * tokens,
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
      return fillQuantities(q, shape, 'decode', phase.batch, 0, decodeKeys(phase, shape.window))
    case 'training':
      return fillQuantities(q, shape, 'training', phase.batch, phase.sequence, 0)
  }
}

/** `Σ c[i]·q[i]`. */
export const evaluate = (c: Float64Array, q: Quantities): number => {
  let total = 0
  for (let i = 0; i < QUANTITIES; i++) total += (c[i] ?? 0) * (q[i] ?? 0)
  return total
}

/** GEMM `m` of a form at quantities `q` (the mean tokens per GEMM of a grouped GEMM). */
export const gemmM = (form: OperatorForm, q: Quantities): number =>
  form.gemm === undefined ? 0 : (q[form.gemm.mFrom] ?? 0) / (q[form.gemm.perFrom] ?? 1)

/** An operator record: the form evaluated at `q`, run `count × countFactor` times. */
export const materialize = (form: OperatorForm, q: Quantities, dtype: Dtype, pass: Pass, countFactor = 1): Operator => {
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
    dtype,
    count: form.count * countFactor,
    flops: toFlops(evaluate(form.flops, q)),
    bytes: toBytes(weightBytes + activationBytes + kvCacheBytes),
    weightBytes: toBytes(weightBytes),
    activationBytes: toBytes(activationBytes),
    kvCacheBytes: toBytes(kvCacheBytes),
    ...(g === undefined ? {} : { gemm: { m: gemmM(form, q), n: g.n, k: g.k, batch: (q[g.perFrom] ?? 0) * g.copies } }),
    ...(form.kind === 'attention' ? { attention: { queries: tokens, keys: (q[Quantity.pairs] ?? 0) / tokens } } : {}),
  }
}

/** Whether recomputation `recompute` re-runs the forward of `form`. */
export const recomputes = (recompute: 'none' | 'selective' | 'full', form: OperatorForm): boolean =>
  recompute === 'full' ? form.inLayer : recompute === 'selective' && form.name === 'attention'

/**
 * The operators one GPU runs in `phase` under `deployment`, or why there are none (a
 * deployment that does not fit, a bad phase). Training lists the forward operators,
 * then the backward ones (each its forward with `count` doubled), then the recomputed.
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
  const forward = list.map((f) => materialize(f, q, forms.dtype, 'forward'))
  if (phase.kind !== 'training') return forward
  const backward = list.map((f) => materialize(f, q, forms.dtype, 'backward', 2))
  const recomputed = list.filter((f) => recomputes(phase.recompute, f)).map((f) => materialize(f, q, forms.dtype, 'recompute'))
  return [...forward, ...backward, ...recomputed]
}
