/**
 * Named models: each is the Hugging Face `config.json` of the published model (trimmed
 * to the fields meshplan reads) run through {@link fromHuggingFace}, so the presets
 * exercise the importer, and each carries its source. `reference-moe` is the model of
 * a hand-written deployment plan, completed with documented assumptions.
 *
 * @example
 * import { modelPreset, models } from '@meshplan/model'
 * models['mixtral-8x7b'].moe?.experts // 8
 * modelPreset('deepsek-v3')           // left({ code: 'unknown-model', suggestion: 'deepseek-v3', ... })
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import * as O from 'fp-ts/Option'
import { closestName, describeIssue } from '@meshplan/units'
import type { Architecture } from './architecture'
import { fromHuggingFace } from './huggingface'

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * A preset from its config. The configs below are constants checked by the tests, so a
 * failure here is a bug in this file, reported when the module loads.
 */
const preset = (name: string, source: string, config: Readonly<Record<string, unknown>>): Architecture =>
  pipe(
    fromHuggingFace(config, name),
    E.fold(
      (issues) => {
        throw new Error(`preset ${name} does not import: ${issues.map(describeIssue).join('; ')}`)
      },
      (arch) => ({ ...arch, source }),
    ),
  )

const llama2 = { model_type: 'llama', vocab_size: 32000, max_position_embeddings: 4096, tie_word_embeddings: false }
const llama31 = { model_type: 'llama', vocab_size: 128256, max_position_embeddings: 131072, tie_word_embeddings: false, rope_theta: 500000 }

/** What DeepSeek-V3 and Kimi-K2 share: MLA ranks and head sizes, the hidden and expert sizes, one shared expert, top-8. */
const deepSeekV3Shapes = {
  hidden_size: 7168,
  num_hidden_layers: 61,
  intermediate_size: 18432,
  moe_intermediate_size: 2048,
  n_shared_experts: 1,
  num_experts_per_tok: 8,
  moe_layer_freq: 1,
  kv_lora_rank: 512,
  q_lora_rank: 1536,
  qk_nope_head_dim: 128,
  qk_rope_head_dim: 64,
  v_head_dim: 128,
  tie_word_embeddings: false,
}
const llama4 = {
  model_type: 'llama4_text',
  hidden_size: 5120,
  num_hidden_layers: 48,
  num_attention_heads: 40,
  num_key_value_heads: 8,
  head_dim: 128,
  intermediate_size: 8192,
  intermediate_size_mlp: 16384,
  num_experts_per_tok: 1,
  attention_chunk_size: 8192,
  vocab_size: 202048,
  tie_word_embeddings: false,
}
const llama4Vision = { hidden_size: 1408, intermediate_size: 5632, num_hidden_layers: 34, image_size: 336, patch_size: 14, pixel_shuffle_ratio: 0.5, projector_input_dim: 4096, projector_output_dim: 4096, vision_output_dim: 4096 }
const gptOss = {
  model_type: 'gpt_oss',
  hidden_size: 2880,
  num_attention_heads: 64,
  num_key_value_heads: 8,
  head_dim: 64,
  intermediate_size: 2880,
  num_experts_per_tok: 4,
  attention_bias: true,
  sliding_window: 128,
  vocab_size: 201088,
  max_position_embeddings: 131072,
  tie_word_embeddings: false,
  quantization_config: { quant_method: 'mxfp4', modules_to_not_convert: ['model.layers.*.self_attn', 'model.layers.*.mlp.router', 'model.embed_tokens', 'lm_head'] },
}

// -------------------------------------------------------------------------------------
// presets
// -------------------------------------------------------------------------------------

/** The presets by name. */
export const models = {
  'llama-2-7b': preset('llama-2-7b', 'meta-llama/Llama-2-7b-hf config.json; Touvron et al. 2023, "Llama 2", table 1', {
    ...llama2,
    hidden_size: 4096,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: 32,
    intermediate_size: 11008,
  }),
  'llama-2-70b': preset('llama-2-70b', 'meta-llama/Llama-2-70b-hf config.json; Touvron et al. 2023, "Llama 2", table 1', {
    ...llama2,
    hidden_size: 8192,
    num_hidden_layers: 80,
    num_attention_heads: 64,
    num_key_value_heads: 8,
    intermediate_size: 28672,
  }),
  'llama-3.1-8b': preset('llama-3.1-8b', 'meta-llama/Llama-3.1-8B config.json; Llama Team 2024, "The Llama 3 Herd of Models", table 3', {
    ...llama31,
    hidden_size: 4096,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    intermediate_size: 14336,
  }),
  'llama-3.1-70b': preset('llama-3.1-70b', 'meta-llama/Llama-3.1-70B config.json; "The Llama 3 Herd of Models", table 3', {
    ...llama31,
    hidden_size: 8192,
    num_hidden_layers: 80,
    num_attention_heads: 64,
    num_key_value_heads: 8,
    intermediate_size: 28672,
  }),
  'llama-3.1-405b': preset('llama-3.1-405b', 'meta-llama/Llama-3.1-405B config.json; "The Llama 3 Herd of Models", table 3', {
    ...llama31,
    hidden_size: 16384,
    num_hidden_layers: 126,
    num_attention_heads: 128,
    num_key_value_heads: 8,
    intermediate_size: 53248,
  }),
  'mistral-7b': preset('mistral-7b', 'mistralai/Mistral-7B-v0.1 config.json; Jiang et al. 2023, "Mistral 7B", table 1', {
    model_type: 'mistral',
    hidden_size: 4096,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    intermediate_size: 14336,
    vocab_size: 32000,
    max_position_embeddings: 32768,
    sliding_window: 4096,
    tie_word_embeddings: false,
  }),
  'mixtral-8x7b': preset('mixtral-8x7b', 'mistralai/Mixtral-8x7B-v0.1 config.json; Jiang et al. 2024, "Mixtral of Experts", table 1', {
    model_type: 'mixtral',
    hidden_size: 4096,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    intermediate_size: 14336,
    num_local_experts: 8,
    num_experts_per_tok: 2,
    vocab_size: 32000,
    max_position_embeddings: 32768,
    sliding_window: null,
    tie_word_embeddings: false,
  }),
  'qwen2.5-72b': preset('qwen2.5-72b', 'Qwen/Qwen2.5-72B config.json; Qwen Team 2024, "Qwen2.5 Technical Report", table 1', {
    model_type: 'qwen2',
    hidden_size: 8192,
    num_hidden_layers: 80,
    num_attention_heads: 64,
    num_key_value_heads: 8,
    intermediate_size: 29568,
    vocab_size: 152064,
    max_position_embeddings: 131072,
    sliding_window: 131072,
    use_sliding_window: false,
    tie_word_embeddings: false,
  }),
  'qwen3-235b-a22b': preset('qwen3-235b-a22b', 'Qwen/Qwen3-235B-A22B config.json; Qwen Team 2025, "Qwen3 Technical Report", table 2', {
    model_type: 'qwen3_moe',
    hidden_size: 4096,
    num_hidden_layers: 94,
    num_attention_heads: 64,
    num_key_value_heads: 4,
    head_dim: 128,
    intermediate_size: 12288,
    moe_intermediate_size: 1536,
    num_experts: 128,
    num_experts_per_tok: 8,
    decoder_sparse_step: 1,
    mlp_only_layers: [],
    vocab_size: 151936,
    max_position_embeddings: 40960,
    tie_word_embeddings: false,
  }),
  'deepseek-v3': preset(
    'deepseek-v3',
    'deepseek-ai/DeepSeek-V3 config.json (main model, without the MTP module); DeepSeek-AI 2024, "DeepSeek-V3 Technical Report", section 4.2',
    {
      ...deepSeekV3Shapes,
      model_type: 'deepseek_v3',
      num_attention_heads: 128,
      num_key_value_heads: 128,
      n_routed_experts: 256,
      first_k_dense_replace: 3,
      n_group: 8,
      topk_group: 4,
      vocab_size: 129280,
      max_position_embeddings: 163840,
    },
  ),
  'gemma-3-27b': preset('gemma-3-27b', 'google/gemma-3-27b-it config.json; Gemma Team 2025, "Gemma 3 Technical Report", table 1 (417M vision, 1,416M embedding, 25,600M non-embedding parameters)', {
    model_type: 'gemma3',
    text_config: {
      model_type: 'gemma3_text',
      hidden_size: 5376,
      num_hidden_layers: 62,
      num_attention_heads: 32,
      num_key_value_heads: 16,
      head_dim: 128,
      intermediate_size: 21504,
      sliding_window: 1024,
    },
    vision_config: { hidden_size: 1152, intermediate_size: 4304, num_hidden_layers: 27, image_size: 896, patch_size: 14 },
  }),
  'llama-4-scout': preset('llama-4-scout', 'meta-llama/Llama-4-Scout-17B-16E-Instruct config.json; Meta 2025, "The Llama 4 herd" (17B active, 109B total)', {
    model_type: 'llama4',
    text_config: { ...llama4, num_local_experts: 16, interleave_moe_layer_step: 1, max_position_embeddings: 10485760 },
    vision_config: llama4Vision,
  }),
  'llama-4-maverick': preset('llama-4-maverick', 'meta-llama/Llama-4-Maverick-17B-128E-Instruct config.json; Meta 2025, "The Llama 4 herd" (17B active, 400B total)', {
    model_type: 'llama4',
    text_config: { ...llama4, num_local_experts: 128, interleave_moe_layer_step: 2, max_position_embeddings: 1048576 },
    vision_config: llama4Vision,
  }),
  // gpt-oss is released in MXFP4 only: the preset is that checkpoint
  'gpt-oss-20b': preset('gpt-oss-20b', 'openai/gpt-oss-20b config.json; OpenAI 2025, "gpt-oss-120b & gpt-oss-20b Model Card", table 1 (20.91B total)', {
    ...gptOss,
    num_hidden_layers: 24,
    num_local_experts: 32,
  }),
  'gpt-oss-120b': preset('gpt-oss-120b', 'openai/gpt-oss-120b config.json; OpenAI 2025, "gpt-oss-120b & gpt-oss-20b Model Card", table 1 (116.83B total)', {
    ...gptOss,
    num_hidden_layers: 36,
    num_local_experts: 128,
  }),
  'glm-4.5-air': preset('glm-4.5-air', 'zai-org/GLM-4.5-Air config.json; GLM-4.5 Team 2025, "GLM-4.5" (106B total, 12B active)', {
    model_type: 'glm4_moe',
    hidden_size: 4096,
    num_hidden_layers: 46,
    num_attention_heads: 96,
    num_key_value_heads: 8,
    head_dim: 128,
    intermediate_size: 10944,
    moe_intermediate_size: 1408,
    n_routed_experts: 128,
    n_shared_experts: 1,
    num_experts_per_tok: 8,
    first_k_dense_replace: 1,
    attention_bias: true,
    use_qk_norm: false,
    vocab_size: 151552,
    max_position_embeddings: 131072,
    tie_word_embeddings: false,
  }),
  // Kimi-K2 is DeepSeek-V3's architecture (384 experts, 64 heads, 1 dense layer), released in block-wise fp8
  'kimi-k2': preset('kimi-k2', 'moonshotai/Kimi-K2-Instruct config.json; Kimi Team 2025, "Kimi K2" (32B active)', {
    ...deepSeekV3Shapes,
    model_type: 'kimi_k2',
    num_attention_heads: 64,
    num_key_value_heads: 64,
    n_routed_experts: 384,
    first_k_dense_replace: 1,
    vocab_size: 163840,
    max_position_embeddings: 131072,
    quantization_config: { activation_scheme: 'dynamic', fmt: 'e4m3', quant_method: 'fp8', weight_block_size: [128, 128] },
  }),
  // GPT-3 in the gpt_neox family (LayerNorm, GELU, biases, learned positions, embedding tied to the head).
  'gpt3-175b': preset('gpt3-175b', 'Brown et al. 2020, "Language Models are Few-Shot Learners", table 2.1; GPT-2 vocabulary of 50257', {
    model_type: 'gpt_neox',
    hidden_size: 12288,
    num_hidden_layers: 96,
    num_attention_heads: 96,
    intermediate_size: 49152,
    vocab_size: 50257,
    max_position_embeddings: 2048,
    tie_word_embeddings: true,
  }),
  // The deployment plan states only: 16 layers, 64 experts in every layer, hidden size 1024.
  // Assumed (documented in the README): 16 heads of 64 (MHA), SwiGLU experts of FFN 4096,
  // top-2 routing, a 32000 vocabulary, untied embeddings, no shared experts, no dense layers.
  'reference-moe': preset('reference-moe', 'hand-written EP64/TP2 deployment plan (reference/ep64-tp2-deployment-claim.md): 16 layers, 64 experts per layer, hidden 1024; other shapes assumed', {
    model_type: 'mixtral',
    hidden_size: 1024,
    num_hidden_layers: 16,
    num_attention_heads: 16,
    num_key_value_heads: 16,
    intermediate_size: 4096,
    num_local_experts: 64,
    num_experts_per_tok: 2,
    vocab_size: 32000,
    max_position_embeddings: 4096,
    tie_word_embeddings: false,
  }),
} as const satisfies Readonly<Record<string, Architecture>>

/** A preset name. */
export type ModelName = keyof typeof models

/** Every preset name. */
export const modelNames: ReadonlyArray<ModelName> = Object.keys(models) as ReadonlyArray<ModelName>

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** A name that is not a preset, with the nearest preset name when one is close. */
export interface UnknownModel {
  readonly code: 'unknown-model'
  readonly name: string
  readonly known: ReadonlyArray<ModelName>
  /** The closest preset name (`closestName` of @meshplan/units: a name containing it, or a near typo), or null. */
  readonly suggestion: ModelName | null
  readonly message: string
}

const isModelName = (name: string): name is ModelName => Object.prototype.hasOwnProperty.call(models, name)

/** The preset called `name`, or why there is none (with a "did you mean"). */
export const modelPreset = (name: string): E.Either<UnknownModel, Architecture> => {
  if (isModelName(name)) return E.right(models[name])
  const closest = O.toNullable(closestName(modelNames)(name))
  const suggestion = closest !== null && isModelName(closest) ? closest : null
  const hint = suggestion === null ? '' : ` (did you mean "${suggestion}"?)`
  return E.left({
    code: 'unknown-model',
    name,
    known: modelNames,
    suggestion,
    message: `unknown model preset "${name}"${hint}; known: ${modelNames.join(', ')}`,
  })
}
