import * as E from 'fp-ts/Either'
import { fromHuggingFace } from '../src/huggingface'
import { checkpointPrecision, quantizationOf, weightBytesPerParameter } from '../src/quantization'
import { llamaConfig as llama } from './configs'
import { models } from '../src/presets'

const q = (quantization_config: unknown) => quantizationOf({ ...llama, quantization_config })

describe('quantizationOf: what a checkpoint\'s quantization_config says of its formats', () => {
  it('DeepSeek-V3\'s block-wise fp8 with dynamic activation scales: fp8 weights and activations (W8A8)', () => {
    // deepseek-ai/DeepSeek-V3 config.json
    expect(q({ activation_scheme: 'dynamic', fmt: 'e4m3', quant_method: 'fp8', weight_block_size: [128, 128] })).toMatchObject({ method: 'fp8', weights: 'fp8', activations: 'fp8' })
    // without an activation scheme, the weights alone
    expect(q({ quant_method: 'fp8', weight_block_size: [128, 128] })).toMatchObject({ method: 'fp8', weights: 'fp8' })
    expect(q({ quant_method: 'fp8', weight_block_size: [128, 128] })?.activations).toBeUndefined()
  })

  it('NVIDIA ModelOpt FP8 and NVFP4, gpt-oss\'s MXFP4, AWQ and GPTQ by bits, bitsandbytes, compressed-tensors', () => {
    expect(q({ quant_method: 'modelopt', quant_algo: 'FP8' })).toMatchObject({ method: 'modelopt', weights: 'fp8', activations: 'fp8' })
    expect(q({ quant_method: 'modelopt', quant_algo: 'NVFP4' })).toMatchObject({ method: 'modelopt', weights: 'fp4', activations: 'fp4' })
    expect(q({ quant_method: 'mxfp4', modules_to_not_convert: ['model.layers.*.self_attn'] })).toMatchObject({ method: 'mxfp4', weights: 'fp4' })
    expect(q({ bits: 4, group_size: 128, quant_method: 'awq', version: 'gemm', zero_point: true })).toMatchObject({ method: 'awq', weights: 'int4' })
    expect(q({ bits: 8, quant_method: 'gptq' })).toMatchObject({ method: 'gptq', weights: 'int8' })
    expect(q({ quant_method: 'bitsandbytes', load_in_4bit: true })).toMatchObject({ method: 'bitsandbytes', weights: 'int4' })
    expect(q({ quant_method: 'fbgemm_fp8' })).toMatchObject({ method: 'fbgemm_fp8', weights: 'fp8', activations: 'fp8' })
    const ct = { quant_method: 'compressed-tensors', config_groups: { group_0: { weights: { num_bits: 8, type: 'float' }, input_activations: { num_bits: 8, type: 'float' } } } }
    expect(q(ct)).toMatchObject({ method: 'compressed-tensors', weights: 'fp8', activations: 'fp8' })
    const w4a16 = { quant_method: 'compressed-tensors', config_groups: { group_0: { weights: { num_bits: 4, type: 'int' } } } }
    expect(q(w4a16)).toMatchObject({ method: 'compressed-tensors', weights: 'int4' })
  })

  it('gives nothing for no config, an unknown method, odd bits or odd shapes, and never throws', () => {
    expect(quantizationOf(llama)).toBeUndefined()
    expect(q({ quant_method: 'hqq', nbits: 4 })).toBeUndefined()
    expect(q({ quant_method: 'awq', bits: 3 })).toBeUndefined()
    expect(q({ quant_method: 'modelopt', quant_algo: 'W4A8_AWQ' })).toBeUndefined()
    expect(q('fp8')).toBeUndefined()
    expect(q(null)).toBeUndefined()
    expect(q({ quant_method: 42 })).toBeUndefined()
    expect(q({ quant_method: 'compressed-tensors', config_groups: null })).toBeUndefined()
    expect(quantizationOf(null)).toBeUndefined()
  })

  it('reaches the architecture through fromHuggingFace, absent when the config has none', () => {
    const fp8 = fromHuggingFace({ ...llama, quantization_config: { quant_method: 'fp8', activation_scheme: 'dynamic' } })
    expect(E.isRight(fp8) && fp8.right.quantization).toMatchObject({ method: 'fp8', weights: 'fp8', activations: 'fp8' })
    const plain = fromHuggingFace(llama)
    expect(E.isRight(plain) && 'quantization' in plain.right).toBe(false)
  })
})

describe('scales and scope', () => {
  it('each format carries its scales as a share of the quantized bytes, worked by hand', () => {
    // NVFP4: an e4m3 (8-bit) scale per 16 four-bit values: 8 / 64
    expect(q({ quant_method: 'modelopt', quant_algo: 'NVFP4' })?.scaleOverhead).toBe(0.125)
    // MXFP4: an e8m0 (8-bit) scale per 32 four-bit values: 8 / 128
    expect(q({ quant_method: 'mxfp4' })?.scaleOverhead).toBe(0.0625)
    // AWQ 4-bit, groups of 128: an fp16 scale and a 4-bit zero per 512 bits, 20 / 512
    expect(q({ quant_method: 'awq', bits: 4, group_size: 128 })?.scaleOverhead).toBeCloseTo(20 / 512, 12)
    expect(q({ quant_method: 'gptq', bits: 4 })?.scaleOverhead).toBeCloseTo(0.0390625, 12)
    // block-wise fp8: a 4-byte scale per 128 × 128 one-byte weights
    expect(q({ quant_method: 'fp8', weight_block_size: [128, 128] })?.scaleOverhead).toBeCloseTo(4 / 16_384, 12)
    // bitsandbytes NF4: an fp32 absmax per 64 values (32 / 256), or double-quantized (8 + 32/256) / 256
    expect(q({ quant_method: 'bitsandbytes', load_in_4bit: true })?.scaleOverhead).toBe(0.125)
    expect(q({ quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_use_double_quant: true })?.scaleOverhead).toBeCloseTo(8.125 / 256, 12)
    // compressed-tensors W4A16, symmetric groups of 128: an fp16 scale per 512 bits
    const w4 = { quant_method: 'compressed-tensors', config_groups: { g: { weights: { num_bits: 4, type: 'int', strategy: 'group', group_size: 128, symmetric: true } } } }
    expect(q(w4)?.scaleOverhead).toBeCloseTo(16 / 512, 12)
    expect(q({ quant_method: 'fbgemm_fp8' })?.scaleOverhead).toBe(0)
  })

  it('gpt-oss keeps its attention in bf16: only the experts are MXFP4', () => {
    const gptOss = fromHuggingFace({ ...llama, quantization_config: { quant_method: 'mxfp4', modules_to_not_convert: ['model.layers.*.self_attn', 'model.layers.*.mlp.router', 'model.embed_tokens', 'lm_head'] } })
    if (E.isLeft(gptOss)) throw new Error('a valid config')
    expect(gptOss.right.quantization?.scope).toBe('experts')
    const bytes = weightBytesPerParameter(gptOss.right, checkpointPrecision(gptOss.right))
    expect(bytes('routedExperts')).toBe(0.5 * 1.0625)
    expect(bytes('attention')).toBe(2)
    expect(bytes('embedding')).toBe(2)
    expect(bytes('lmHead')).toBe(2)
  })

  it('a linear-scope checkpoint quantizes attention and MLPs, never the embedding, LM head or norms; a precision other than the checkpoint\'s counts every weight in it', () => {
    const nvfp4 = fromHuggingFace({ ...llama, quantization_config: { quant_method: 'modelopt', quant_algo: 'NVFP4' } })
    if (E.isLeft(nvfp4)) throw new Error('a valid config')
    const loaded = weightBytesPerParameter(nvfp4.right, checkpointPrecision(nvfp4.right))
    expect(loaded('attention')).toBe(0.5625)
    expect(loaded('denseMlp')).toBe(0.5625)
    expect(loaded('norms')).toBe(2)
    expect(loaded('lmHead')).toBe(2)
    const chosen = weightBytesPerParameter(nvfp4.right, { weights: 'fp8', activations: 'fp8', kvCache: 'fp8' })
    expect(chosen('attention')).toBe(1)
    expect(chosen('lmHead')).toBe(1)
  })
})

describe('checkpointPrecision', () => {
  it('takes the checkpoint\'s formats, the rest bf16; all bf16 without a quantization_config', () => {
    const fp8 = fromHuggingFace({ ...llama, quantization_config: { quant_method: 'fp8', activation_scheme: 'dynamic' } })
    if (E.isLeft(fp8)) throw new Error('a valid config')
    expect(checkpointPrecision(fp8.right)).toEqual({ weights: 'fp8', activations: 'fp8', kvCache: 'bf16' })
    const awq = fromHuggingFace({ ...llama, quantization_config: { quant_method: 'awq', bits: 4 } })
    if (E.isLeft(awq)) throw new Error('a valid config')
    expect(checkpointPrecision(awq.right)).toEqual({ weights: 'int4', activations: 'bf16', kvCache: 'bf16' })
    expect(checkpointPrecision(models['llama-2-7b'])).toEqual({ weights: 'bf16', activations: 'bf16', kvCache: 'bf16' })
  })
})
