import * as E from 'fp-ts/Either'
import { strategy } from '@meshplan/parallelism'
import { parseDocument } from '@meshplan/units'
import { trtllm100, trtllmEngine, trtllmInstance, trtllmReleases } from '../../src'
import { cluster, exportOf, flagValue, launchOf, models, referencePlan, serving } from '../fixtures'

const trtllm = trtllmEngine(trtllm100)

const yamlOf = (text: string): unknown => {
  const parsed = parseDocument(text, 'extra-llm-api-options.yaml')
  return E.isRight(parsed) ? parsed.right : parsed.left.message
}

describe('TensorRT-LLM 1.0.0 table', () => {
  it('is the newest row: trtllm-serve flags and LLM API keys, each with its source', () => {
    expect(trtllmReleases[0]).toBe(trtllm100)
    for (const d of Object.values(trtllm100.keys)) {
      expect(d.place === 'flag' ? d.key.startsWith('--') : /^[a-z_.]+$/.test(d.key)).toBe(true)
      expect(d.source.length).toBeGreaterThan(10)
    }
  })
})

describe('trtllmInstance', () => {
  it('runs attention data-parallel when attention TP is 1 and the experts span the instance', () => {
    expect(trtllmInstance(models['reference-moe'], strategy({ dp: 128, ep: 64, etp: 2 }))).toEqual({ tpSize: 128, attentionDp: 128, instances: 1, gpus: 128 })
    expect(trtllmInstance(models['mixtral-8x7b'], strategy({ tp: 8, ep: 4, etp: 2 }))).toEqual({ tpSize: 8, attentionDp: 1, instances: 1, gpus: 8 })
  })
})

describe('TensorRT-LLM 1.0.0 flags', () => {
  it('dense TP: trtllm-serve --tp_size with the options file and the KV share of the memory left after the weights', () => {
    const x = exportOf(trtllm, serving(models['llama-3.1-70b'], cluster('dgx-h100', 1), { tp: 8 }))
    expect(x.problems).toEqual([])
    const l = launchOf(x)
    const argv = l.commands[0]?.argv ?? []
    expect(argv.slice(0, 2)).toEqual(['trtllm-serve', 'meta-llama/Llama-3.1-70B'])
    expect(flagValue(argv, '--tp_size')).toBe('8')
    expect(flagValue(argv, '--backend')).toBe('pytorch')
    expect(flagValue(argv, '--extra_llm_api_options')).toBe('extra-llm-api-options.yaml')
    const m = 'estimate' in x.planEstimate ? x.planEstimate.estimate.memory : undefined
    // free after weights and buffers: capacity - weights - workspace; the KV cache takes all of it but the reserve
    const free = m === undefined ? NaN : m.capacity - m.weights - m.workspace
    expect(Number(flagValue(argv, '--kv_cache_free_gpu_memory_fraction'))).toBe(m === undefined ? NaN : Math.floor(((free - m.reserve) / free) * 100) / 100)
    expect(yamlOf(l.files[0]?.text ?? '')).toEqual({ dtype: 'bfloat16' })
  })

  it('MoE with EP and MoE TP: --ep_size and moe_tensor_parallel_size, attention TP over the instance', () => {
    const l = launchOf(exportOf(trtllm, serving(models['mixtral-8x7b'], cluster('dgx-h100', 1), { tp: 8, ep: 4, etp: 2 }, {}, { kvCache: 'fp8' })))
    expect(flagValue(l.commands[0]?.argv ?? [], '--ep_size')).toBe('4')
    const options = yamlOf(l.files[0]?.text ?? '') as Record<string, unknown>
    expect(options.moe_tensor_parallel_size).toBe(2)
    expect(options.enable_attention_dp).toBeUndefined()
    expect((options.kv_cache_config as Record<string, unknown>).dtype).toBe('fp8')
  })

  it('dense DP on two nodes: two instances per node on their GPUs and ports', () => {
    const l = launchOf(exportOf(trtllm, serving(models['llama-3.1-8b'], cluster('dgx-h100', 2), { tp: 4, dp: 4 })))
    expect(l.commands.map((c) => [c.firstNode, c.lastNode, c.env, flagValue(c.argv, '--port')])).toEqual([
      [0, 1, [['CUDA_VISIBLE_DEVICES', '0,1,2,3']], '8000'],
      [0, 1, [['CUDA_VISIBLE_DEVICES', '4,5,6,7']], '8001'],
    ])
  })
})

describe('TensorRT-LLM 1.0.0 refusals', () => {
  it('refuses the reference plan (attention TP2 × DP64) and exports attention DP128 over the same experts', () => {
    const x = exportOf(trtllm, referencePlan())
    expect(x.problems.map((p) => p.code)).toEqual(['attention-layout'])
    expect(x.problems[0]?.message).toMatch(/tensor-parallel over all --tp_size = EP × MoE TP = 64 × 2 = 128.*enable_attention_dp.*cannot run attention TP2/)
    const s = x.exported?.strategy
    expect(s === undefined ? undefined : [s.tp, s.dp, s.ep, s.etp]).toEqual([1, 128, 64, 2])
    const l = launchOf(x)
    // one MPI world over the 16 nodes, started from node 0
    expect(l.commands).toHaveLength(1)
    expect(l.commands[0]?.argv.slice(0, 6)).toEqual(['mpirun', '-H', '$INSTANCE_HOSTS', '-np', '128', 'trtllm-llmapi-launch'])
    expect(flagValue(l.commands[0]?.argv ?? [], '--tp_size')).toBe('128')
    expect(yamlOf(l.files[0]?.text ?? '')).toEqual({ dtype: 'bfloat16', enable_attention_dp: true, moe_tensor_parallel_size: 2 })
  })

  it('refuses weights no ModelOpt checkpoint gives (no online quantization in this export)', () => {
    expect(trtllm.precisionProblems(models['llama-3.1-8b'], { weights: 'fp8', activations: 'fp8', kvCache: 'bf16' }).map((p) => p.code)).toEqual(['weight-format'])
    expect(trtllm.precisionProblems(models['kimi-k2'], { weights: 'fp8', activations: 'fp8', kvCache: 'fp8' })).toEqual([])
  })
})
