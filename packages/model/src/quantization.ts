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
 */
import type { Architecture } from './architecture'
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
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const field = (u: unknown, key: string): unknown =>
  typeof u === 'object' && u !== null && !Array.isArray(u) && Object.prototype.hasOwnProperty.call(u, key) ? (u as Record<string, unknown>)[key] : undefined

const intOf = (bits: unknown): StorageDtype | undefined => (bits === 4 ? 'int4' : bits === 8 ? 'int8' : undefined)

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
  const only = (weights: StorageDtype | undefined, activations?: StorageDtype): Quantization | undefined =>
    weights === undefined ? undefined : { method, weights, ...(activations === undefined ? {} : { activations }) }
  switch (m) {
    case 'fp8':
      return only('fp8', typeof field(q, 'activation_scheme') === 'string' ? 'fp8' : undefined)
    case 'fbgemm_fp8':
      return only('fp8', 'fp8')
    case 'modelopt': {
      const algo = String(field(q, 'quant_algo') ?? '').toUpperCase()
      return algo === 'FP8' ? only('fp8', 'fp8') : algo === 'NVFP4' ? only('fp4', 'fp4') : undefined
    }
    case 'mxfp4':
      return only('fp4')
    case 'awq':
    case 'gptq':
      return only(intOf(field(q, 'bits')))
    case 'bitsandbytes':
      return field(q, 'load_in_4bit') === true ? only('int4') : field(q, 'load_in_8bit') === true ? only('int8') : undefined
    case 'compressed-tensors': {
      const groups = field(q, 'config_groups')
      const first = typeof groups === 'object' && groups !== null ? Object.values(groups as Record<string, unknown>)[0] : undefined
      return only(compressedFormat(field(first, 'weights')), compressedFormat(field(first, 'input_activations')))
    }
    default:
      return undefined
  }
}

/**
 * The precision a deployment of `arch` takes when nothing says otherwise: its
 * checkpoint's formats ({@link Quantization}), the rest bf16; all bf16 without one.
 */
export const checkpointPrecision = (arch: Architecture): Precision => {
  const q = arch.quantization
  return q === undefined ? defaultPrecision : { ...defaultPrecision, weights: q.weights, ...(q.activations === undefined ? {} : { activations: q.activations }) }
}
