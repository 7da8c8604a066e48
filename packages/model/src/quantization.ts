/**
 * What a Hugging Face checkpoint's `quantization_config` says of its formats: the
 * weights' format, and the activations' where the method computes in it too (W8A8, W4A4).
 * Read by `fromHuggingFace` into `Architecture.quantization`; a deployment takes it as
 * its default precision unless told otherwise. The methods and their fields are those of
 * Hugging Face transformers' quantization configs (`utils/quantization_config.py`) and
 * of the checkpoints that use them:
 *
 * | `quant_method` | fields read | weights | activations | e.g. |
 * |---|---|---|---|---|
 * | `fp8` | `activation_scheme` | fp8 | fp8 when a scheme is given | DeepSeek-V3 (block-wise, 128 × 128), Qwen3 FP8 |
 * | `fbgemm_fp8` | | fp8 | fp8 | Llama 3.1 405B FP8 |
 * | `modelopt` | `quant_algo` `FP8` / `NVFP4` | fp8 / fp4 | fp8 / fp4 | NVIDIA's FP8 and FP4 checkpoints |
 * | `mxfp4` | | fp4 | (16-bit) | gpt-oss |
 * | `awq`, `gptq` | `bits` 4 / 8 | int4 / int8 | (16-bit) | AWQ and GPTQ checkpoints |
 * | `bitsandbytes` | `load_in_4bit` / `load_in_8bit` | int4 / int8 | (16-bit) | |
 * | `compressed-tensors` | `config_groups.*.weights` `num_bits`, `type` (and `input_activations`) | fp8 / int8 / int4 | fp8 / int8 when given | Neural Magic / Red Hat checkpoints |
 *
 * Any other method, or fields this table does not name, give no quantization: the
 * weights stay in the model's 16-bit format unless a flag or a file says otherwise.
 *
 * Scales. A quantized weight carries its share of the scales it is stored with, as a
 * fraction of its own bytes (`scaleOverhead`): NVFP4, one e4m3 scale per 16 values, `8 /
 * (16·4)` = 12.5% (NVIDIA, "Introducing NVFP4", 2025); MXFP4, one e8m0 scale per 32, `8 /
 * (32·4)` = 6.25% (OCP Microscaling Formats spec v1.0, section 5); AWQ and GPTQ, an fp16
 * scale and a `bits`-bit zero per group of `group_size` (128 by default), `(16 + bits) /
 * (group·bits)` = 3.9% at 4 bits (Lin et al. 2024, "AWQ", section 4; Frantar et al. 2023,
 * "GPTQ"); bitsandbytes 4-bit, an fp32 absmax per 64, 12.5%, or with double quantization
 * an 8-bit one plus an fp32 per 256 blocks, 3.2% (Dettmers et al. 2023, "QLoRA", section
 * 3); block-wise fp8, one fp32 per `128 × 128` block, 0.02%; per-tensor and per-channel
 * scales, none worth counting.
 *
 * Scope. What such checkpoints quantize is the linear layers of the blocks; the
 * embedding, the LM head, the norms and the router stay 16-bit (DeepSeek-V3 report,
 * section 3.3.2; ModelOpt and AWQ leave `lm_head` out). Where the config keeps the
 * attention out too (`modules_to_not_convert`, `ignore` or `exclude_modules` naming
 * `self_attn`, as gpt-oss does), only the MLP and expert weights are quantized.
 */
import type { Architecture } from './architecture'
import { bytesPerElement } from '@meshplan/units'
import { defaultPrecision, type Precision, type StorageDtype } from './precision'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The formats a checkpoint's `quantization_config` gives. */
export interface Quantization {
  /** The config's `quant_method`. */
  readonly method: string
  readonly weights: StorageDtype
  /** Present when the method computes in a narrow format too (fp8 W8A8, NVFP4 W4A4). */
  readonly activations?: StorageDtype
  /** Bytes of scales per byte of quantized weight (see the module comment); 0 when negligible. */
  readonly scaleOverhead: number
  /** `linear`: the blocks' linear layers are quantized; `experts`: only the MLP and expert weights (the attention kept 16-bit). */
  readonly scope: 'linear' | 'experts'
}

/** The parameter components a weight-byte figure is summed over. */
export type WeightComponent = 'attention' | 'denseMlp' | 'sharedExperts' | 'routedExperts' | 'router' | 'norms' | 'embedding' | 'lmHead' | 'encoder'

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const field = (u: unknown, key: string): unknown =>
  typeof u === 'object' && u !== null && !Array.isArray(u) && Object.prototype.hasOwnProperty.call(u, key) ? (u as Record<string, unknown>)[key] : undefined

const intOf = (bits: unknown): StorageDtype | undefined => (bits === 4 ? 'int4' : bits === 8 ? 'int8' : undefined)

const positive = (u: unknown): number | undefined => (typeof u === 'number' && Number.isFinite(u) && u > 0 ? u : undefined)

/** Scale bytes per quantized byte of a group-wise format: a `scaleBits` scale (and a `zeroBits` zero) per `group` values of `bits` bits. */
const groupOverhead = (scaleBits: number, zeroBits: number, group: number, bits: number): number => (scaleBits + zeroBits) / (group * bits)

/** Whether a list of module patterns (`modules_to_not_convert`, `ignore`, `exclude_modules`) keeps the attention out. */
const keepsAttention = (q: unknown): boolean =>
  ['modules_to_not_convert', 'ignore', 'exclude_modules'].some((key) => {
    const list = field(q, key)
    return Array.isArray(list) && list.some((m) => typeof m === 'string' && /self_attn|attention/.test(m))
  })

/** The compressed-tensors format of a quantization args object (`{ num_bits, type }`). */
const compressedFormat = (args: unknown): StorageDtype | undefined => {
  const bits = field(args, 'num_bits')
  const type = field(args, 'type')
  if (type === 'float') return bits === 8 ? 'fp8' : bits === 4 ? 'fp4' : undefined
  if (type === 'int') return intOf(bits)
  return undefined
}

/** The quantization a Hugging Face `config.json` declares, or undefined (see the module comment). */
export const quantizationOf = (config: unknown): Quantization | undefined => {
  const q = field(config, 'quantization_config')
  const method = field(q, 'quant_method')
  if (typeof method !== 'string') return undefined
  const m = method.toLowerCase()
  const scope = keepsAttention(q) ? 'experts' : 'linear'
  const only = (weights: StorageDtype | undefined, activations?: StorageDtype, scaleOverhead = 0): Quantization | undefined =>
    weights === undefined ? undefined : { method, weights, ...(activations === undefined ? {} : { activations }), scaleOverhead, scope }
  switch (m) {
    case 'fp8': {
      const block = field(q, 'weight_block_size')
      const blockValues = Array.isArray(block) && block.length === 2 ? block.map(positive) : []
      const [rows, columns] = blockValues
      const overhead = rows !== undefined && columns !== undefined ? 4 / (rows * columns) : 0
      return only('fp8', typeof field(q, 'activation_scheme') === 'string' ? 'fp8' : undefined, overhead)
    }
    case 'fbgemm_fp8':
      return only('fp8', 'fp8')
    case 'modelopt': {
      const algo = String(field(q, 'quant_algo') ?? '').toUpperCase()
      return algo === 'FP8' ? only('fp8', 'fp8') : algo === 'NVFP4' ? only('fp4', 'fp4', groupOverhead(8, 0, 16, 4)) : undefined
    }
    case 'mxfp4':
      return only('fp4', undefined, groupOverhead(8, 0, 32, 4))
    case 'awq':
    case 'gptq': {
      const bits = field(q, 'bits')
      const group = field(q, 'group_size')
      const size = group === undefined ? 128 : positive(group)
      return only(intOf(bits), undefined, size === undefined || typeof bits !== 'number' ? 0 : groupOverhead(16, bits, size, bits))
    }
    case 'bitsandbytes':
      return field(q, 'load_in_4bit') === true
        ? only('int4', undefined, field(q, 'bnb_4bit_use_double_quant') === true ? (8 + 32 / 256) / (64 * 4) : groupOverhead(32, 0, 64, 4))
        : field(q, 'load_in_8bit') === true
          ? only('int8')
          : undefined
    case 'compressed-tensors': {
      const groups = field(q, 'config_groups')
      const first = typeof groups === 'object' && groups !== null ? Object.values(groups as Record<string, unknown>)[0] : undefined
      const weights = field(first, 'weights')
      const format = compressedFormat(weights)
      const bits = field(weights, 'num_bits')
      const group = positive(field(weights, 'group_size'))
      const grouped = field(weights, 'strategy') === 'group' || field(weights, 'strategy') === 'tensor_group'
      // NVFP4 in compressed-tensors: fp8 scales per 16; integer groups: fp16 scales, and zeros when asymmetric
      const overhead =
        !grouped || group === undefined || typeof bits !== 'number'
          ? 0
          : format === 'fp4'
            ? groupOverhead(8, 0, group, bits)
            : groupOverhead(16, field(weights, 'symmetric') === false ? bits : 0, group, bits)
      return only(format, compressedFormat(field(first, 'input_activations')), overhead)
    }
    default:
      return undefined
  }
}

/**
 * The checkpoint's quantization when a deployment loads its weights as they are (the
 * precision's weight format is the checkpoint's), else undefined: then every weight is
 * counted in the precision's format, as chosen.
 */
export const checkpointQuantization = (arch: Architecture, precision: Precision): Quantization | undefined =>
  arch.quantization !== undefined && arch.quantization.weights === precision.weights ? arch.quantization : undefined

/**
 * Bytes one parameter of `component` takes under `precision`: the precision's weight
 * format; or, loading a quantized checkpoint ({@link checkpointQuantization}), that
 * format with its scales for the components the checkpoint quantizes and 2 (16-bit) for
 * the others (see the module comment).
 */
export const weightBytesPerParameter =
  (arch: Architecture, precision: Precision) =>
  (component: WeightComponent): number => {
    const base = bytesPerElement(precision.weights)
    const q = checkpointQuantization(arch, precision)
    if (q === undefined) return base
    const quantized =
      component === 'routedExperts' ||
      component === 'sharedExperts' ||
      component === 'denseMlp' ||
      (component === 'attention' && q.scope === 'linear')
    return quantized ? base * (1 + q.scaleOverhead) : Math.max(2, base)
  }

/**
 * The precision a deployment of `arch` takes when nothing says otherwise: its
 * checkpoint's formats ({@link Quantization}), the rest bf16; all bf16 without one.
 */
export const checkpointPrecision = (arch: Architecture): Precision => {
  const q = arch.quantization
  return q === undefined ? defaultPrecision : { ...defaultPrecision, weights: q.weights, ...(q.activations === undefined ? {} : { activations: q.activations }) }
}
