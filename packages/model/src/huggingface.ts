/**
 * Import of a Hugging Face `config.json` object into an {@link Architecture}: the
 * boundary where a model handed to meshplan is checked once. Keys are the Hugging Face
 * names; unknown keys are ignored. Every problem is reported at once, each naming the
 * field (`config.num_attention_heads`), the value found and what was expected, both for
 * a missing or malformed field and for fields that disagree (heads not divisible by
 * key-value heads). Never throws.
 *
 * Families (`model_type`): `llama`, `mistral`, `mixtral`, `qwen2`, `qwen3`, `qwen3_moe`,
 * `deepseek_v3` (and any config with its fields, such as `kimi_k2`), `gemma2`, `gemma3`
 * (and `gemma3_text`), `phi3`, `llama4` (and `llama4_text`), `gpt_oss`, `glm4_moe`, and
 * `gpt_neox`, which meshplan uses for GPT-3-style dense models (LayerNorm, 2-matrix GELU
 * MLP, biases; learned positions unless the config has rotary settings).
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
import { decodeWith, numberWhere, type DecodeIssue } from '@meshplan/units'
import { families, type Architecture, type HeadAttention } from './architecture'
import { quantizationOf, type Quantization } from './quantization'

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
/** An image side or a patch, pixels. */
const pixels = limited('pixels: the largest published encoders take 896-pixel images', 2 ** 16)
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
      layer_types: t.array(t.string),
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

/**
 * DeepSeek's group-limited routing from `n_group` and `topk_group`, when it limits
 * anything: more than one group, fewer selected than there are, and groups that split the
 * experts evenly (Kimi-K2's `n_group: 1` does not limit).
 */
const routingGroupsOf = (experts: number, groups: number | undefined, selected: number | undefined): { readonly routingGroups?: { readonly groups: number; readonly selected: number } } =>
  groups !== undefined && selected !== undefined && groups > 1 && selected < groups && experts % groups === 0 ? { routingGroups: { groups, selected } } : {}

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
  t.partial({ moe_layer_freq: one, n_group: heads, topk_group: heads }, configObject),
])

const GptNeox = t.partial(
  {
    rotary_pct: numberCodec('a fraction from 0 to 1', (n) => n >= 0 && n <= 1),
    rotary_emb_base: numberCodec('a positive number', (n) => n > 0),
    rope_theta: numberCodec('a positive number', (n) => n > 0),
  },
  configObject,
)

const Gemma3 = t.partial({ sliding_window_pattern: size, _sliding_window_pattern: size }, configObject)

const Llama4 = t.intersection([
  t.type({ num_local_experts: heads, num_experts_per_tok: heads, intermediate_size_mlp: width }, configObject),
  t.partial(
    {
      interleave_moe_layer_step: size,
      attention_chunk_size: orNull(size),
      no_rope_layers: t.array(numberCodec('0 or 1', (n) => n === 0 || n === 1)),
      no_rope_layer_interval: size,
    },
    configObject,
  ),
])

const GptOss = t.type({ num_local_experts: heads, num_experts_per_tok: heads }, configObject)

const Glm4Moe = t.intersection([
  t.type(
    { n_routed_experts: heads, num_experts_per_tok: heads, moe_intermediate_size: width, n_shared_experts: count, first_k_dense_replace: count },
    configObject,
  ),
  t.partial({ use_qk_norm: t.boolean }, configObject),
])

/**
 * A vision encoder's `vision_config` (SigLIP in Gemma 3, Llama 4's ViT): the shapes of a
 * ViT (Dosovitskiy et al. 2021), read to count its parameters.
 */
const Vision = t.intersection([
  t.type({ hidden_size: width, intermediate_size: width, num_hidden_layers: layers, image_size: pixels, patch_size: pixels }, 'a vision_config object'),
  t.partial(
    {
      num_channels: limited('channels: images have 3', 64),
      vision_output_dim: width,
      projector_input_dim: width,
      projector_output_dim: width,
      pixel_shuffle_ratio: numberCodec('a fraction from 1/64 to 1 (Llama 4: 0.5)', (n) => n >= 1 / 64 && n <= 1),
    },
    'a vision_config object',
  ),
])
type Vision = t.TypeOf<typeof Vision>

// -------------------------------------------------------------------------------------
// families
// -------------------------------------------------------------------------------------

type Issues = ReadonlyArray<DecodeIssue>
type Result<A> = E.Either<Issues, A>
type KnownFamily = (typeof families)[number]

/** What a family decides beyond the common fields. */
type FamilyPart = Pick<Architecture, 'attention' | 'mlp' | 'norm' | 'positions'> &
  Partial<Pick<Architecture, 'moe' | 'slidingWindow' | 'windowKind' | 'windowLayers' | 'normsPerLayer'>>

/** Decodes a family's own fields at `root`; on success, how to finish its part from the common ones. */
type FamilyReader = (config: unknown, root: string) => Result<(c: Common) => FamilyPart>

/** Q/K/V attention from the common fields; `extra` sets the family's biases and norms. */
const headAttention = (c: Common, extra: Partial<Pick<HeadAttention, 'qkvBias' | 'outputBias' | 'qkNorm' | 'sinks'>> = {}): HeadAttention => {
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
    ...(extra.sinks === true ? { sinks: true } : {}),
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
  (config, root) =>
    pipe(
      decodeWith(codec, root)(config),
      E.map((a) => (c: Common) => finish(c, a)),
    )

/** A family that needs only the common fields. */
const commonOnly =
  (finish: (c: Common) => FamilyPart): FamilyReader =>
  () =>
    E.right(finish)

/**
 * Which layers attend within the window: the config's `layer_types` (`sliding_attention`
 * or `chunked_attention` against `full_attention`) where it has them, else the family's
 * rule for layer `i`.
 */
const windowLayersOf = (c: Common, rule: (i: number) => boolean): ReadonlyArray<boolean> =>
  Array.from({ length: c.num_hidden_layers }, (_, i) => {
    const type = c.layer_types?.[i]
    return type === undefined ? rule(i) : type !== 'full_attention'
  })

/** A window on the layers `rule` picks (every layer without one), when the config has a window. */
const windowOn = (c: Common, rule?: (i: number) => boolean, kind: 'sliding' | 'chunked' = 'sliding', window = c.sliding_window): Partial<FamilyPart> => {
  if (window === undefined || window === null) return {}
  const layers = rule === undefined && c.layer_types === undefined ? undefined : windowLayersOf(c, rule ?? (() => true))
  return { slidingWindow: window, ...(layers === undefined ? {} : { windowLayers: layers }), ...(kind === 'chunked' ? { windowKind: kind } : {}) }
}

/** Gemma 2 and 3 (Gemma 2 report, section 2; Gemma 3 report, section 2): GeGLU, four norms per layer, tied embeddings. */
const gemmaLike = (c: Common, qkNorm: boolean): FamilyPart => ({
  attention: headAttention(c, { qkNorm }),
  mlp: { kind: 'geglu', ffn: c.intermediate_size, bias: false },
  norm: 'rmsnorm',
  positions: 'rope',
  normsPerLayer: 4,
})

/** How each `model_type` reads its fields (after the Hugging Face `configuration_*.py` and `modeling_*.py` of each). */
const familyReaders: { readonly [F in KnownFamily]: FamilyReader } = {
  llama: commonOnly((c) => llamaLike(c)),
  mistral: commonOnly((c) => ({ ...llamaLike(c), ...windowOn(c) })),
  // Qwen2: bias on the Q, K and V projections, none on the output (`Qwen2Attention`).
  qwen2: commonOnly((c) => ({ ...llamaLike(c, { qkvBias: true, outputBias: false }), ...(c.use_sliding_window === true ? windowOn(c) : {}) })),
  // Qwen3: RMSNorm on each query and key head (`q_norm`, `k_norm`).
  qwen3: commonOnly((c) => ({ ...llamaLike(c, { qkNorm: true }), ...(c.use_sliding_window === true ? windowOn(c) : {}) })),
  // Mixtral: every layer MoE, each expert the shape of `intermediate_size`.
  mixtral: withFields(Mixtral, (c, m) => ({
    ...llamaLike(c),
    ...windowOn(c),
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
    ...(c.use_sliding_window === true ? windowOn(c) : {}),
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
      ...routingGroupsOf(d.n_routed_experts, d.n_group, d.topk_group),
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
  // Gemma 2: sliding-window and global layers alternate, the even layers local
  // (`Gemma2Config.layer_types`: sliding where (i + 1) % 2 != 0). Soft-capping has no weights.
  gemma2: commonOnly((c) => ({ ...gemmaLike(c, false), ...windowOn(c, (i) => (i + 1) % 2 !== 0) })),
  // Gemma 3: five local layers to one global (`sliding_window_pattern` 6: layer i is
  // global when (i + 1) % 6 == 0), RMSNorm on queries and keys (`q_norm`, `k_norm`).
  gemma3: withFields(Gemma3, (c, g) => {
    const pattern = g.sliding_window_pattern ?? g._sliding_window_pattern ?? 6
    return { ...gemmaLike(c, true), ...windowOn(c, (i) => (i + 1) % pattern !== 0) }
  }),
  // Phi-3: the Llama shapes with fused qkv and gate/up projections (same counts), and a
  // sliding window on every layer where the config gives one (`Phi3Attention`).
  phi3: commonOnly((c) => ({ ...llamaLike(c), ...windowOn(c) })),
  // Llama 4 (`modeling_llama4.py`): MoE on every `interleave_moe_layer_step`-th layer
  // (i % step == step - 1), each with one shared expert of `intermediate_size`; dense
  // layers' MLP of `intermediate_size_mlp`; the RoPE layers attend within chunks of
  // `attention_chunk_size`, the NoPE layers (`no_rope_layers[i] == 0`, by default every
  // fourth) to the whole context. The QK norm is an L2 norm without weights.
  llama4: withFields(Llama4, (c, l) => {
    const interval = l.no_rope_layer_interval ?? 4
    const rope = (i: number): boolean => (l.no_rope_layers?.[i] ?? ((i + 1) % interval !== 0 ? 1 : 0)) === 1
    return {
      ...llamaLike(c),
      mlp: { kind: 'swiglu', ffn: l.intermediate_size_mlp, bias: false },
      ...windowOn(c, rope, 'chunked', l.attention_chunk_size ?? undefined),
      moe: {
        experts: l.num_local_experts,
        topK: l.num_experts_per_tok,
        expertFfn: c.intermediate_size,
        sharedExperts: 1,
        sharedExpertFfn: c.intermediate_size,
        firstDenseLayers: 0,
        step: l.interleave_moe_layer_step ?? 1,
        routerBias: false,
      },
    }
  }),
  // gpt-oss (`modeling_gpt_oss.py`; OpenAI's gpt-oss model card, section 2.1): every layer
  // MoE with biased experts and router, biases on Q, K, V and the output, a learned sink
  // per head, and sliding-window layers alternating with global ones (`layer_types`).
  gpt_oss: withFields(GptOss, (c, g) => ({
    ...llamaLike(c, { qkvBias: c.attention_bias ?? true, outputBias: c.attention_bias ?? true, sinks: true }),
    ...windowOn(c, (i) => (i + 1) % 2 !== 0),
    moe: {
      experts: g.num_local_experts,
      topK: g.num_experts_per_tok,
      expertFfn: c.intermediate_size,
      sharedExperts: 0,
      sharedExpertFfn: 0,
      firstDenseLayers: 0,
      step: 1,
      routerBias: true,
      expertBias: true,
    },
  })),
  // GLM-4.5 (`modeling_glm4_moe.py`): GQA with biases on Q, K and V only, optional QK
  // norm, DeepSeek-V3's MoE (leading dense layers, shared experts, router bias).
  glm4_moe: withFields(Glm4Moe, (c, g) => ({
    ...llamaLike(c, { qkvBias: c.attention_bias ?? false, outputBias: false, qkNorm: g.use_qk_norm ?? false }),
    moe: {
      experts: g.n_routed_experts,
      topK: g.num_experts_per_tok,
      expertFfn: g.moe_intermediate_size,
      sharedExperts: g.n_shared_experts,
      sharedExpertFfn: g.n_shared_experts === 0 ? 0 : g.moe_intermediate_size,
      firstDenseLayers: g.first_k_dense_replace,
      step: 1,
      routerBias: true,
    },
  })),
}

/** The Hugging Face field holding the number of routed experts, per MoE family. */
const expertsField: { readonly [F in KnownFamily]?: string } = {
  mixtral: 'num_local_experts',
  qwen3_moe: 'num_experts',
  deepseek_v3: 'n_routed_experts',
  llama4: 'num_local_experts',
  gpt_oss: 'num_local_experts',
  glm4_moe: 'n_routed_experts',
}

/**
 * What each family's Hugging Face configuration class fills in when `config.json` leaves
 * a field out (Google's Gemma 3 configs omit the vocabulary and context length), and
 * `tie_word_embeddings`, whose default differs by family: true for Gemma, false for the
 * others (each `configuration_*.py`).
 */
const familyDefaults: { readonly [F in KnownFamily]?: Readonly<Record<string, unknown>> } = {
  gemma2: { vocab_size: 256000, max_position_embeddings: 8192, head_dim: 256, tie_word_embeddings: true },
  gemma3: { vocab_size: 262208, max_position_embeddings: 131072, head_dim: 256, sliding_window: 4096, tie_word_embeddings: true },
  llama4: { attention_chunk_size: 8192 },
}

/** Other names of a family: the text model inside a multimodal config, and Kimi-K2 (DeepSeek-V3's architecture; Moonshot's config names it `kimi_k2`). */
export const familyAliases: Readonly<Record<string, KnownFamily>> = {
  gemma3_text: 'gemma3',
  llama4_text: 'llama4',
  kimi_k2: 'deepseek_v3',
}

/** Fields that make a config DeepSeek-V3's architecture whatever its `model_type` (MLA and routed experts). */
export const deepSeekFields = ['kv_lora_rank', 'qk_rope_head_dim', 'n_routed_experts', 'first_k_dense_replace'] as const

// -------------------------------------------------------------------------------------
// consistency
// -------------------------------------------------------------------------------------

/** Rules between fields: each broken one is an issue on the field to change. */
const consistencyIssues = (family: KnownFamily, c: Common, part: FamilyPart, root: string): Issues => {
  const issue = (field: string, value: unknown, expected: string): DecodeIssue => ({ path: `${root}.${field}`, value, expected })
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
  if (c.layer_types !== undefined && c.layer_types.length !== c.num_hidden_layers)
    issues.push(issue('layer_types', `${c.layer_types.length} entries`, `one entry per layer (num_hidden_layers: ${c.num_hidden_layers})`))
  const moe = part.moe
  if (moe !== undefined) {
    if (moe.topK > moe.experts)
      issues.push(issue('num_experts_per_tok', moe.topK, `at most ${expertsField[family] ?? 'the number of experts'} (${moe.experts})`))
    if (moe.firstDenseLayers >= c.num_hidden_layers)
      issues.push(issue('first_k_dense_replace', moe.firstDenseLayers, `less than num_hidden_layers (${c.num_hidden_layers})`))
    else if (moe.step > c.num_hidden_layers - moe.firstDenseLayers)
      issues.push(
        issue(family === 'llama4' ? 'interleave_moe_layer_step' : 'decoder_sparse_step', moe.step, `at most num_hidden_layers (${c.num_hidden_layers}), so that some layer is MoE`),
      )
  }
  return issues
}

// -------------------------------------------------------------------------------------
// vision encoders
// -------------------------------------------------------------------------------------

/**
 * Parameters of a ViT vision encoder and its projector into the text model's hidden
 * size `textHidden` (Dosovitskiy et al. 2021; SigLIP in Gemma 3, Llama 4's encoder): per
 * layer the Q, K, V and output projections with biases `4d² + 4d`, the MLP with biases
 * `2·d·f + f + d` and two LayerNorms `4d`; the patch embedding `c·p²·d + d`; a position
 * per patch and a class token `((s/p)² + 1)·d`; the final LayerNorm `2d`; Llama 4's
 * pixel-shuffle adapter (`d/r² → projector_input_dim → projector_output_dim`) where the
 * config has `pixel_shuffle_ratio`; and the projector `(vision_output_dim or d) × textHidden`.
 * Within a few thousand parameters of the published encoders (Gemma 3 report, table 1:
 * 417M for SigLIP), which is what a memory figure needs.
 */
export const visionEncoderParameters = (v: Vision, textHidden: number): number => {
  const d = v.hidden_size
  const f = v.intermediate_size
  const perLayer = 4 * d * d + 4 * d + 2 * d * f + f + d + 4 * d
  const patches = (v.image_size / v.patch_size) ** 2
  const embedding = (v.num_channels ?? 3) * v.patch_size ** 2 * d + d + (patches + 1) * d + 2 * d
  const adapter =
    v.pixel_shuffle_ratio === undefined || v.projector_input_dim === undefined
      ? 0
      : (d / v.pixel_shuffle_ratio ** 2) * v.projector_input_dim + v.projector_input_dim * (v.projector_output_dim ?? v.projector_input_dim)
  const projector = (v.vision_output_dim ?? d) * textHidden
  return v.num_hidden_layers * perLayer + embedding + adapter + projector
}

// -------------------------------------------------------------------------------------
// import
// -------------------------------------------------------------------------------------

const validation = E.getApplicativeValidation(RA.getSemigroup<DecodeIssue>())

const build = (family: KnownFamily, c: Common, part: FamilyPart, name: string, encoder: number, quantization: Quantization | undefined): Architecture => ({
  name,
  family,
  hidden: c.hidden_size,
  layers: c.num_hidden_layers,
  vocab: c.vocab_size,
  tiedEmbeddings: c.tie_word_embeddings ?? false,
  ...part,
  maxPositions: c.max_position_embeddings,
  ...(encoder > 0 ? { encoderParameters: encoder } : {}),
  ...(quantization === undefined ? {} : { quantization }),
})

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u)

/** The family a config's `model_type` (or its fields) names, or the issue saying what is accepted. */
const familyOf = (text: Record<string, unknown>, root: string): Result<KnownFamily> => {
  const type = text['model_type']
  if (typeof type === 'string') {
    if ((families as ReadonlyArray<string>).includes(type)) return E.right(type as KnownFamily)
    if (Object.prototype.hasOwnProperty.call(familyAliases, type)) return E.right(familyAliases[type] as KnownFamily)
  }
  if (deepSeekFields.every((f) => f in text)) return E.right('deepseek_v3')
  const accepted = [...families, ...Object.keys(familyAliases)].map((f) => JSON.stringify(f)).join(', ')
  return E.left([{ path: `${root}.model_type`, value: type, expected: `one of ${accepted} (or a config with DeepSeek-V3's fields: ${deepSeekFields.join(', ')})` }])
}

/**
 * Reads a Hugging Face `config.json` object. `name` defaults to `_name_or_path`, then
 * to `model_type`. A multimodal config (Gemma 3, Llama 4) is read from its `text_config`,
 * with its `vision_config` counted as {@link Architecture.encoderParameters}. Defaults
 * where the config omits a field are those of the family's Hugging Face configuration
 * class: `num_key_value_heads` = `num_attention_heads`, `head_dim` = `hidden_size /
 * num_attention_heads`, `tie_word_embeddings` false (true for Gemma), biases as the
 * family has them (`attention_bias`, `mlp_bias` override), and Gemma's vocabulary and
 * context. Windows: Mistral, Mixtral and Phi-3 on every layer, Qwen with
 * `use_sliding_window: true`, Gemma, gpt-oss and Llama 4 on the layers their rule or
 * `layer_types` picks. `quantization_config` gives `quantization` where its method is one
 * `quantizationOf` reads. All issues are reported together; never throws.
 */
export const fromHuggingFace = (config: unknown, name?: string): E.Either<ReadonlyArray<DecodeIssue>, Architecture> => {
  if (!isObject(config)) return E.left([{ path: 'config', value: config, expected: configObject }])
  const nested = isObject(config['text_config'])
  const root = nested ? 'config.text_config' : 'config'
  const raw = nested ? (config['text_config'] as Record<string, unknown>) : config
  const quantization = quantizationOf(config) ?? quantizationOf(raw)
  return pipe(
    familyOf(nested && raw['model_type'] === undefined ? { ...raw, model_type: config['model_type'] } : raw, root),
    E.chain((family) => {
      const text = { ...familyDefaults[family], ...raw }
      const vision = config['vision_config']
      return pipe(
        sequenceS(validation)({
          finish: familyReaders[family](text, root),
          common: decodeWith(Common, root)(text),
          vision: nested && isObject(vision) ? pipe(decodeWith(Vision, 'config.vision_config')(vision), E.map((v): Vision | undefined => v)) : E.right(undefined),
        }),
        E.chain(({ finish, common, vision }) => {
          const part = finish(common)
          const issues = consistencyIssues(family, common, part, root)
          if (issues.length > 0) return E.left(issues)
          const fallback = common._name_or_path !== undefined && common._name_or_path !== '' ? common._name_or_path : typeof config['model_type'] === 'string' ? config['model_type'] : family
          const encoder = vision === undefined ? 0 : visionEncoderParameters(vision, common.hidden_size)
          return E.right(build(family, common, part, name ?? fallback, encoder, quantization))
        }),
      )
    }),
    // a field reported by two codecs: once is enough
    E.mapLeft(RA.uniq({ equals: (x, y) => x.path === y.path && x.expected === y.expected })),
  )
}
