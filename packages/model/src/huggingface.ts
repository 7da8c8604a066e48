/**
 * Import of a Hugging Face `config.json` object into an {@link Architecture}: the
 * boundary where a model handed to meshplan is checked once. Keys are the Hugging Face
 * names; unknown keys are ignored. Every problem is reported at once, each naming the
 * field (`config.num_attention_heads`), the value found and what was expected, both for
 * a missing or malformed field and for fields that disagree (heads not divisible by
 * key-value heads). Never throws.
 *
 * Families (`model_type`): `llama`, `mistral`, `mixtral`, `qwen2`, `qwen3`, `qwen3_moe`,
 * `deepseek_v3`, and `gpt_neox`, which meshplan uses for GPT-3-style dense models
 * (LayerNorm, 2-matrix GELU MLP, biases; learned positions unless the config has
 * rotary settings).
 *
 * @example
 * import { fromHuggingFace } from '@meshplan/model'
 * fromHuggingFace({ model_type: 'llama', hidden_size: 4096, num_hidden_layers: 32,
 *   num_attention_heads: 32, intermediate_size: 11008, vocab_size: 32000,
 *   max_position_embeddings: 4096 }, 'llama-2-7b')
 * // right({ name: 'llama-2-7b', family: 'llama', hidden: 4096, ... })
 */
import * as E from 'fp-ts/Either'
import * as RA from 'fp-ts/ReadonlyArray'
import { sequenceS } from 'fp-ts/Apply'
import { pipe } from 'fp-ts/function'
import * as t from 'io-ts'
import { decodeWith, numberWhere, oneOf, type DecodeIssue } from '@meshplan/units'
import { families, type Architecture, type HeadAttention, type Moe } from './architecture'
import { quantizationOf } from './quantization'

// -------------------------------------------------------------------------------------
// codecs
// -------------------------------------------------------------------------------------

/**
 * Largest size accepted for a dimension or a count (int32). Bounded, unlike the units
 * package's `positiveInt`, so that every parameter and FLOP count stays finite.
 */
const maxSize = 2 ** 31 - 1

/** A finite number passing `test`, reported as `name` otherwise. */
const numberCodec = (name: string, test: (n: number) => boolean): t.Type<number, number, unknown> => numberWhere(name, (n) => Number.isFinite(n) && test(n))

/** A dimension or a count: a whole number from 1 to 2^31 - 1. */
const size = numberCodec('a positive integer (at most 2^31 - 1)', (n) => Number.isInteger(n) && n >= 1 && n <= maxSize)

/**
 * Physical limits of a transformer's shapes, each with its reason: far beyond any
 * published model, and small enough that every count, memory figure and estimate over
 * it stays finite and is computed in bounded time (a layer is walked one at a time).
 */
export const modelLimits = {
  /** The deepest published LLMs have about 200 layers. */
  layers: 4096,
  /** Hidden and intermediate sizes; the widest published is about 53,000 (intermediate of Llama-3.1-405B). */
  width: 2 ** 20,
  /** Vocabularies; the largest published is about 260,000. */
  vocabulary: 2 ** 24,
  /** Attention heads and experts; the most published are 128 heads and 384 experts. */
  heads: 2 ** 16,
} as const

const limited = (what: string, max: number) =>
  numberCodec(`a positive integer, at most ${max.toLocaleString('en-US')} (${what})`, (n) => Number.isInteger(n) && n >= 1 && n <= max)

/** Layers of a model. */
const layers = limited('layers: the deepest published LLMs have about 200', modelLimits.layers)
/** A hidden, intermediate or head dimension. */
const width = limited('a width: the widest published is about 53,000', modelLimits.width)
/** A vocabulary or a context length. */
const vocabulary = limited('tokens: the largest published vocabularies are about 260,000', modelLimits.vocabulary)
/** Heads, experts, experts per token. */
const heads = limited('heads or experts: the most published are 128 heads and 384 experts', modelLimits.heads)
/** A count that may be zero. */
const count = numberCodec('a non-negative integer (at most 2^31 - 1)', (n) => Number.isInteger(n) && n >= 0 && n <= maxSize)

const orNull = <A>(codec: t.Type<A, A, unknown>): t.Type<A | null, A | null, unknown> =>
  new t.Type<A | null, A | null, unknown>(
    `${codec.name} or null`,
    (u): u is A | null => u === null || codec.is(u),
    (u, c) => (u === null ? t.success(null) : codec.validate(u, c)),
    t.identity,
  )

const emptyList = new t.Type<ReadonlyArray<never>, ReadonlyArray<never>, unknown>(
  'an empty list (meshplan models dense layers only before the MoE ones, or every step-th layer as MoE)',
  (u): u is ReadonlyArray<never> => Array.isArray(u) && u.length === 0,
  (u, c) => (Array.isArray(u) && u.length === 0 ? t.success([]) : t.failure(u, c)),
  t.identity,
)

const configObject = 'a config.json object'

/** `model_type`, which picks the family and so the other fields read. */
const ModelType = t.type({ model_type: oneOf(families) }, configObject)

/** Fields every family has. */
const Common = t.intersection([
  t.type(
    {
      hidden_size: width,
      num_hidden_layers: layers,
      num_attention_heads: heads,
      intermediate_size: width,
      vocab_size: vocabulary,
      max_position_embeddings: size,
    },
    configObject,
  ),
  t.partial(
    {
      _name_or_path: t.string,
      num_key_value_heads: heads,
      head_dim: width,
      tie_word_embeddings: t.boolean,
      attention_bias: t.boolean,
      mlp_bias: t.boolean,
      sliding_window: orNull(size),
      use_sliding_window: t.boolean,
    },
    configObject,
  ),
])
type Common = t.TypeOf<typeof Common>

const Mixtral = t.type({ num_local_experts: heads, num_experts_per_tok: heads }, configObject)

const Qwen3Moe = t.intersection([
  t.type({ num_experts: heads, num_experts_per_tok: heads, moe_intermediate_size: width }, configObject),
  t.partial({ decoder_sparse_step: size, mlp_only_layers: emptyList }, configObject),
])

/** DeepSeek's `moe_layer_freq`: only 1 (every layer after the dense ones) is modelled. */
const one = numberCodec('1 (every layer after first_k_dense_replace is MoE)', (n) => n === 1)

const DeepSeekV3 = t.intersection([
  t.type(
    {
      n_routed_experts: heads,
      num_experts_per_tok: heads,
      moe_intermediate_size: width,
      n_shared_experts: count,
      first_k_dense_replace: count,
      kv_lora_rank: width,
      q_lora_rank: orNull(width),
      qk_nope_head_dim: width,
      qk_rope_head_dim: width,
      v_head_dim: width,
    },
    configObject,
  ),
  t.partial({ moe_layer_freq: one }, configObject),
])

const GptNeox = t.partial(
  {
    rotary_pct: numberCodec('a fraction from 0 to 1', (n) => n >= 0 && n <= 1),
    rotary_emb_base: numberCodec('a positive number', (n) => n > 0),
    rope_theta: numberCodec('a positive number', (n) => n > 0),
  },
  configObject,
)

// -------------------------------------------------------------------------------------
// families
// -------------------------------------------------------------------------------------

type Issues = ReadonlyArray<DecodeIssue>
type Result<A> = E.Either<Issues, A>
type KnownFamily = (typeof families)[number]

/** What a family decides beyond the common fields. */
type FamilyPart = Pick<Architecture, 'attention' | 'mlp' | 'norm' | 'positions'> & { readonly moe?: Moe }

/** Decodes a family's own fields; on success, how to finish its part from the common ones. */
type FamilyReader = (config: unknown) => Result<(c: Common) => FamilyPart>

const root = 'config'

const issue = (field: string, value: unknown, expected: string): DecodeIssue => ({ path: `${root}.${field}`, value, expected })

/** Q/K/V attention from the common fields; `extra` sets the family's biases and norms. */
const headAttention = (c: Common, extra: Partial<Pick<HeadAttention, 'qkvBias' | 'outputBias' | 'qkNorm'>> = {}): HeadAttention => {
  const kvHeads = c.num_key_value_heads ?? c.num_attention_heads
  const bias = c.attention_bias ?? false
  return {
    kind: kvHeads === c.num_attention_heads ? 'mha' : 'gqa',
    heads: c.num_attention_heads,
    kvHeads,
    headDim: c.head_dim ?? Math.floor(c.hidden_size / c.num_attention_heads),
    qkvBias: extra.qkvBias ?? bias,
    outputBias: extra.outputBias ?? bias,
    qkNorm: extra.qkNorm ?? false,
  }
}

const swiglu = (c: Common): Architecture['mlp'] => ({ kind: 'swiglu', ffn: c.intermediate_size, bias: c.mlp_bias ?? false })

const llamaLike = (c: Common, extra: Parameters<typeof headAttention>[1] = {}): FamilyPart => ({
  attention: headAttention(c, extra),
  mlp: swiglu(c),
  norm: 'rmsnorm',
  positions: 'rope',
})

/** A family with fields of its own, read with `codec`. */
const withFields =
  <A>(codec: t.Type<A, unknown, unknown>, finish: (c: Common, a: A) => FamilyPart): FamilyReader =>
  (config) =>
    pipe(
      decodeWith(codec, root)(config),
      E.map((a) => (c: Common) => finish(c, a)),
    )

/** A family that needs only the common fields. */
const commonOnly =
  (finish: (c: Common) => FamilyPart): FamilyReader =>
  () =>
    E.right(finish)

/** How each `model_type` reads its fields (after the Hugging Face `configuration_*.py` and `modeling_*.py` of each). */
const familyReaders: { readonly [F in KnownFamily]: FamilyReader } = {
  llama: commonOnly((c) => llamaLike(c)),
  mistral: commonOnly((c) => llamaLike(c)),
  // Qwen2: bias on the Q, K and V projections, none on the output (`Qwen2Attention`).
  qwen2: commonOnly((c) => llamaLike(c, { qkvBias: true, outputBias: false })),
  // Qwen3: RMSNorm on each query and key head (`q_norm`, `k_norm`).
  qwen3: commonOnly((c) => llamaLike(c, { qkNorm: true })),
  // Mixtral: every layer MoE, each expert the shape of `intermediate_size`.
  mixtral: withFields(Mixtral, (c, m) => ({
    ...llamaLike(c),
    moe: {
      experts: m.num_local_experts,
      topK: m.num_experts_per_tok,
      expertFfn: c.intermediate_size,
      sharedExperts: 0,
      sharedExpertFfn: 0,
      firstDenseLayers: 0,
      step: 1,
      routerBias: false,
    },
  })),
  // Qwen3-MoE: layer i is MoE when (i + 1) % decoder_sparse_step == 0; `norm_topk_prob` is ignored.
  qwen3_moe: withFields(Qwen3Moe, (c, m) => ({
    ...llamaLike(c, { qkNorm: true }),
    moe: {
      experts: m.num_experts,
      topK: m.num_experts_per_tok,
      expertFfn: m.moe_intermediate_size,
      sharedExperts: 0,
      sharedExpertFfn: 0,
      firstDenseLayers: 0,
      step: m.decoder_sparse_step ?? 1,
      routerBias: false,
    },
  })),
  // DeepSeek-V3: MLA, `first_k_dense_replace` dense layers, then MoE with shared experts
  // of `moe_intermediate_size` each and a router bias (`e_score_correction_bias`).
  deepseek_v3: withFields(DeepSeekV3, (c, d) => ({
    attention: {
      kind: 'mla',
      heads: c.num_attention_heads,
      qLoraRank: d.q_lora_rank,
      kvLoraRank: d.kv_lora_rank,
      qkNopeHeadDim: d.qk_nope_head_dim,
      qkRopeHeadDim: d.qk_rope_head_dim,
      vHeadDim: d.v_head_dim,
    },
    mlp: swiglu(c),
    moe: {
      experts: d.n_routed_experts,
      topK: d.num_experts_per_tok,
      expertFfn: d.moe_intermediate_size,
      sharedExperts: d.n_shared_experts,
      sharedExpertFfn: d.n_shared_experts === 0 ? 0 : d.moe_intermediate_size,
      firstDenseLayers: d.first_k_dense_replace,
      step: 1,
      routerBias: true,
    },
    norm: 'rmsnorm',
    positions: 'rope',
  })),
  // GPT-3 style (Brown et al. 2020; Megatron GPT): biases everywhere unless
  // `attention_bias: false`, LayerNorm, 2-matrix GELU MLP; rotary only when configured
  // (`rotary_pct` > 0, or a rotary base without `rotary_pct`, whose default is 0.25).
  gpt_neox: withFields(GptNeox, (c, g) => {
    const bias = c.attention_bias ?? true
    const rotary = g.rotary_pct ?? (g.rotary_emb_base !== undefined || g.rope_theta !== undefined ? 0.25 : 0)
    return {
      attention: headAttention(c, { qkvBias: bias, outputBias: bias }),
      mlp: { kind: 'gelu', ffn: c.intermediate_size, bias: c.mlp_bias ?? true },
      norm: 'layernorm',
      positions: rotary > 0 ? 'rope' : 'learned',
    }
  }),
}

/** The Hugging Face field holding the number of routed experts, per MoE family. */
const expertsField: { readonly [F in KnownFamily]?: string } = {
  mixtral: 'num_local_experts',
  qwen3_moe: 'num_experts',
  deepseek_v3: 'n_routed_experts',
}

// -------------------------------------------------------------------------------------
// consistency
// -------------------------------------------------------------------------------------

/** Rules between fields: each broken one is an issue on the field to change. */
const consistencyIssues = (family: KnownFamily, c: Common, part: FamilyPart): Issues => {
  const issues: DecodeIssue[] = []
  const a = part.attention
  if (a.kind !== 'mla') {
    if (a.heads % a.kvHeads !== 0)
      issues.push(issue('num_key_value_heads', a.kvHeads, `a divisor of num_attention_heads (${a.heads})`))
    if (c.head_dim === undefined && c.hidden_size % c.num_attention_heads !== 0)
      issues.push(
        issue('num_attention_heads', c.num_attention_heads, `a divisor of hidden_size (${c.hidden_size}), or a head_dim field`),
      )
  }
  const moe = part.moe
  if (moe !== undefined) {
    if (moe.topK > moe.experts)
      issues.push(issue('num_experts_per_tok', moe.topK, `at most ${expertsField[family] ?? 'the number of experts'} (${moe.experts})`))
    if (moe.firstDenseLayers >= c.num_hidden_layers)
      issues.push(issue('first_k_dense_replace', moe.firstDenseLayers, `less than num_hidden_layers (${c.num_hidden_layers})`))
    else if (moe.step > c.num_hidden_layers - moe.firstDenseLayers)
      issues.push(issue('decoder_sparse_step', moe.step, `at most num_hidden_layers (${c.num_hidden_layers}), so that some layer is MoE`))
  }
  return issues
}

// -------------------------------------------------------------------------------------
// import
// -------------------------------------------------------------------------------------

const validation = E.getApplicativeValidation(RA.getSemigroup<DecodeIssue>())

const build = (family: KnownFamily, c: Common, part: FamilyPart, name: string | undefined, config: unknown): Architecture => {
  const window = c.sliding_window ?? undefined
  const quantization = quantizationOf(config)
  const usesWindow =
    family === 'mistral' ||
    family === 'mixtral' ||
    ((family === 'qwen2' || family === 'qwen3' || family === 'qwen3_moe') && c.use_sliding_window === true)
  return {
    name: name ?? (c._name_or_path !== undefined && c._name_or_path !== '' ? c._name_or_path : family),
    family,
    hidden: c.hidden_size,
    layers: c.num_hidden_layers,
    vocab: c.vocab_size,
    tiedEmbeddings: c.tie_word_embeddings ?? false,
    ...part,
    maxPositions: c.max_position_embeddings,
    ...(usesWindow && window !== undefined ? { slidingWindow: window } : {}),
    ...(quantization === undefined ? {} : { quantization }),
  }
}

/**
 * Reads a Hugging Face `config.json` object. `name` defaults to `_name_or_path`, then
 * to `model_type`. Defaults where the config omits a field: `num_key_value_heads` =
 * `num_attention_heads`, `head_dim` = `hidden_size / num_attention_heads`,
 * `tie_word_embeddings` = false (the default of every family's Hugging Face config
 * class), biases as the family has them (`attention_bias`, `mlp_bias` override).
 * `sliding_window` is kept only where the family uses it (Mistral, Mixtral; Qwen with
 * `use_sliding_window: true`). `quantization_config` gives `quantization` where its
 * method is one `quantizationOf` reads. All issues are reported together; never throws.
 */
export const fromHuggingFace = (config: unknown, name?: string): E.Either<ReadonlyArray<DecodeIssue>, Architecture> =>
  pipe(
    sequenceS(validation)({
      family: pipe(
        decodeWith(ModelType, root)(config),
        E.chain(({ model_type }) =>
          pipe(
            familyReaders[model_type](config),
            E.map((finish) => ({ type: model_type, finish })),
          ),
        ),
      ),
      common: decodeWith(Common, root)(config),
    }),
    E.chain(({ family, common }) => {
      const part = family.finish(common)
      const issues = consistencyIssues(family.type, common, part)
      return issues.length > 0 ? E.left(issues) : E.right(build(family.type, common, part, name, config))
    }),
    // a config that is not an object is reported by both codecs: once is enough
    E.mapLeft(RA.uniq({ equals: (x, y) => x.path === y.path && x.expected === y.expected })),
  )
