import * as E from 'fp-ts/Either'
import { parseDocument } from '@meshplan/units'
import { tomlText, yamlText } from '../src'

describe('yamlText', () => {
  it('nests dotted keys and reads back as the same object', () => {
    const text = yamlText([
      ['enable_attention_dp', true],
      ['moe_tensor_parallel_size', 2],
      ['kv_cache_config.dtype', 'fp8'],
      ['kv_cache_config.free_gpu_memory_fraction', 0.85],
    ])
    expect(text).toBe('enable_attention_dp: true\nmoe_tensor_parallel_size: 2\nkv_cache_config:\n  dtype: "fp8"\n  free_gpu_memory_fraction: 0.85\n')
    const back = parseDocument(text, 'options.yaml')
    expect(E.isRight(back) && back.right).toEqual({ enable_attention_dp: true, moe_tensor_parallel_size: 2, kv_cache_config: { dtype: 'fp8', free_gpu_memory_fraction: 0.85 } })
  })
})

describe('tomlText', () => {
  it('writes one table per section, lists inline, strings as JSON strings', () => {
    const text = tomlText([
      ['model.name', 'llama3'],
      ['model.converters', ['quantize.linear.float8']],
      ['parallelism.tensor_parallel_degree', 8],
      ['parallelism.module_fqns_per_model_part', [['tok_embeddings', 'layers.0'], ['layers.1', 'norm', 'output']]],
      ['model.flavor', '8B'],
    ])
    expect(text).toBe(
      [
        '[model]',
        'name = "llama3"',
        'converters = ["quantize.linear.float8"]',
        'flavor = "8B"',
        '',
        '[parallelism]',
        'tensor_parallel_degree = 8',
        'module_fqns_per_model_part = [["tok_embeddings", "layers.0"], ["layers.1", "norm", "output"]]',
        '',
      ].join('\n'),
    )
  })

  it('puts keys without a section first and nests sections', () => {
    expect(tomlText([['a.b.c', 1], ['top', false]])).toBe('top = false\n\n[a.b]\nc = 1\n')
  })
})
