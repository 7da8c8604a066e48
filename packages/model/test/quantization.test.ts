import * as E from 'fp-ts/Either'
import { fromHuggingFace } from '../src/huggingface'
import { checkpointPrecision, quantizationOf } from '../src/quantization'
import { llamaConfig as llama } from './configs'
import { models } from '../src/presets'

const q = (quantization_config: unknown) => quantizationOf({ ...llama, quantization_config })

describe('quantizationOf: what a checkpoint\'s quantization_config says of its formats', () => {
  it('DeepSeek-V3\'s block-wise fp8 with dynamic activation scales: fp8 weights and activations (W8A8)', () => {
    // deepseek-ai/DeepSeek-V3 config.json
    expect(q({ activation_scheme: 'dynamic', fmt: 'e4m3', quant_method: 'fp8', weight_block_size: [128, 128] })).toEqual({ method: 'fp8', weights: 'fp8', activations: 'fp8' })
    // without an activation scheme, the weights alone
    expect(q({ quant_method: 'fp8', weight_block_size: [128, 128] })).toEqual({ method: 'fp8', weights: 'fp8' })
  })

  it('NVIDIA ModelOpt FP8 and NVFP4, gpt-oss\'s MXFP4, AWQ and GPTQ by bits, bitsandbytes, compressed-tensors', () => {
    expect(q({ quant_method: 'modelopt', quant_algo: 'FP8' })).toEqual({ method: 'modelopt', weights: 'fp8', activations: 'fp8' })
    expect(q({ quant_method: 'modelopt', quant_algo: 'NVFP4' })).toEqual({ method: 'modelopt', weights: 'fp4', activations: 'fp4' })
    expect(q({ quant_method: 'mxfp4', modules_to_not_convert: ['model.layers.*.self_attn'] })).toEqual({ method: 'mxfp4', weights: 'fp4' })
    expect(q({ bits: 4, group_size: 128, quant_method: 'awq', version: 'gemm', zero_point: true })).toEqual({ method: 'awq', weights: 'int4' })
    expect(q({ bits: 8, quant_method: 'gptq' })).toEqual({ method: 'gptq', weights: 'int8' })
    expect(q({ quant_method: 'bitsandbytes', load_in_4bit: true })).toEqual({ method: 'bitsandbytes', weights: 'int4' })
    expect(q({ quant_method: 'fbgemm_fp8' })).toEqual({ method: 'fbgemm_fp8', weights: 'fp8', activations: 'fp8' })
    const ct = { quant_method: 'compressed-tensors', config_groups: { group_0: { weights: { num_bits: 8, type: 'float' }, input_activations: { num_bits: 8, type: 'float' } } } }
    expect(q(ct)).toEqual({ method: 'compressed-tensors', weights: 'fp8', activations: 'fp8' })
    const w4a16 = { quant_method: 'compressed-tensors', config_groups: { group_0: { weights: { num_bits: 4, type: 'int' } } } }
    expect(q(w4a16)).toEqual({ method: 'compressed-tensors', weights: 'int4' })
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
    expect(E.isRight(fp8) && fp8.right.quantization).toEqual({ method: 'fp8', weights: 'fp8', activations: 'fp8' })
    const plain = fromHuggingFace(llama)
    expect(E.isRight(plain) && 'quantization' in plain.right).toBe(false)
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
