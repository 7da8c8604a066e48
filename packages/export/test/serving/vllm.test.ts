import { strategy } from '@meshplan/parallelism'
import { vllm0120, vllmEngine, vllmReleases } from '../../src'
import { cluster, exportOf, flagValue, launchOf, linesOf, models, referencePlan, serving } from '../fixtures'

const vllm = vllmEngine(vllm0120)

describe('vLLM 0.12.0 table', () => {
  it('is the newest row, every key documented with its source', () => {
    expect(vllmReleases[0]).toBe(vllm0120)
    for (const [name, d] of Object.entries(vllm0120.keys)) {
      expect(`${name}: ${d.source.length > 10}`).toBe(`${name}: true`)
      expect(d.place === 'env' ? /^[A-Z_]+$/.test(d.key) : d.key.startsWith('--')).toBe(true)
    }
  })
})

describe('vLLM 0.12.0 flags', () => {
  it('dense TP on one node: one vllm serve with --tensor-parallel-size and the batch limits of the estimate', () => {
    const x = exportOf(vllm, serving(models['llama-3.1-70b'], cluster('dgx-h100', 1), { tp: 8 }))
    expect(x.problems).toEqual([])
    const l = launchOf(x)
    expect(l.nodes).toBe(1)
    expect(l.commands).toHaveLength(1)
    const argv = l.commands[0]?.argv ?? []
    expect(argv.slice(0, 3)).toEqual(['vllm', 'serve', 'meta-llama/Llama-3.1-70B'])
    expect(flagValue(argv, '--tensor-parallel-size')).toBe('8')
    expect(flagValue(argv, '--pipeline-parallel-size')).toBeUndefined()
    const e = 'estimate' in x.planEstimate ? x.planEstimate.estimate : undefined
    // the estimate's sequences in flight and token budget (vLLM V1 on an 80 GB H100: 8192 tokens, vllm/engine/arg_utils.py)
    expect(flagValue(argv, '--max-num-seqs')).toBe(String(Math.ceil(e?.batch ?? 0)))
    expect(flagValue(argv, '--max-num-batched-tokens')).toBe('8192')
    // 1 - the 10% reserve of @meshplan/memory
    expect(flagValue(argv, '--gpu-memory-utilization')).toBe('0.9')
    // 1024 prompt + 256 output tokens
    expect(flagValue(argv, '--max-model-len')).toBe('1280')
  })

  it('TP × PP over two nodes: a Ray cluster and one vllm serve with the Ray executor', () => {
    const l = launchOf(exportOf(vllm, serving(models['llama-3.1-70b'], cluster('dgx-h100', 2), { tp: 8, pp: 2 })))
    expect(l.nodes).toBe(2)
    expect(l.commands.map((c) => [c.firstNode, c.lastNode, c.argv[0]])).toEqual([
      [0, 0, 'ray'],
      [1, 1, 'ray'],
      [0, 0, 'vllm'],
    ])
    expect(linesOf(l)[1]).toBe('ray start --address $MASTER_ADDR:6379 --block')
    const serve = l.commands[2]?.argv ?? []
    expect(flagValue(serve, '--pipeline-parallel-size')).toBe('2')
    expect(flagValue(serve, '--distributed-executor-backend')).toBe('ray')
  })

  it('an uneven pipeline: the layers per stage in VLLM_PP_LAYER_PARTITION', () => {
    // Llama 3.1 405B's 126 layers over 4 stages, the embedding and the loss counted: 32 - 1, 32, 32, 32 - 1
    const d = serving(models['llama-3.1-405b'], cluster('dgx-h100', 2), { tp: 4, pp: 4, pipelineSplit: { embeddingInSplit: true, lossInSplit: true } })
    const l = launchOf(exportOf(vllm, d))
    expect(l.commands.every((c) => c.env.some(([k, v]) => k === 'VLLM_PP_LAYER_PARTITION' && v === '31,32,32,31'))).toBe(true)
  })

  it('MoE with expert parallelism on one node: --enable-expert-parallel, EP = TP', () => {
    const x = exportOf(vllm, serving(models['mixtral-8x7b'], cluster('dgx-h100', 1), { tp: 8, ep: 8, etp: 1 }))
    expect(x.problems).toEqual([])
    expect(flagValue(launchOf(x).commands[0]?.argv ?? [], '--enable-expert-parallel')).toBe(true)
  })

  it('attention DP with EP over two nodes: a vllm serve per node, node 1 headless from rank 8', () => {
    // Kimi K2's checkpoint is fp8 (its quantization_config)
    const x = exportOf(vllm, serving(models['kimi-k2'], cluster('hgx-h200', 2), { dp: 16, ep: 16 }, {}, { weights: 'fp8', activations: 'fp8' }))
    expect(x.problems).toEqual([])
    const [node0, node1] = launchOf(x).commands.map((c) => c.argv)
    expect(flagValue(node0 ?? [], '--data-parallel-size')).toBe('16')
    expect(flagValue(node0 ?? [], '--data-parallel-size-local')).toBe('8')
    expect(flagValue(node0 ?? [], '--data-parallel-address')).toBe('$MASTER_ADDR')
    expect(flagValue(node0 ?? [], '--headless')).toBeUndefined()
    expect(flagValue(node1 ?? [], '--headless')).toBe(true)
    // node 1 of a range of one: the start rank 1 × 8 written in
    expect(flagValue(node1 ?? [], '--data-parallel-start-rank')).toBe('8')
    // the checkpoint is fp8 already: loaded as it is, no online quantization
    expect(flagValue(node0 ?? [], '--quantization')).toBeUndefined()
  })

  it('fp8 weights of a 16-bit checkpoint and an fp8 KV cache: --quantization fp8 --kv-cache-dtype fp8', () => {
    const argv = launchOf(exportOf(vllm, serving(models['llama-3.1-8b'], cluster('dgx-h100', 1), { tp: 1, dp: 8 }, {}, { weights: 'fp8', activations: 'fp8', kvCache: 'fp8' }))).commands[0]?.argv ?? []
    expect(flagValue(argv, '--quantization')).toBe('fp8')
    expect(flagValue(argv, '--kv-cache-dtype')).toBe('fp8')
    expect(flagValue(argv, '--data-parallel-size')).toBe('8')
  })
})

describe('vLLM 0.12.0 refusals', () => {
  it('refuses the reference plan: experts over TP × DP = 128 GPUs are TP128 or EP128, never EP64 ETP2', () => {
    const x = exportOf(vllm, referencePlan())
    expect(x.problems.map((p) => p.code)).toEqual(['expert-layout'])
    expect(x.problems[0]?.message).toMatch(/TP × DP = 2 × 64 = 128.*EP1 ETP128.*EP128 ETP1.*cannot run EP64 ETP2/)
    // EP128 ETP1 would put 64 experts on 128 GPUs, which no law allows; the nearest keeps EP64 whole experts on TP × DP = 64 GPUs
    const s = x.exported?.strategy
    expect(s === undefined ? undefined : [s.ep, s.etp, s.tp * s.dp, s.pp]).toEqual([64, 1, 64, 1])
    expect(x.changes.find((c) => c.what === 'GPUs')).toEqual({ what: 'GPUs', from: '128', to: '64' })
    expect(flagValue(launchOf(x).commands[0]?.argv ?? [], '--enable-expert-parallel')).toBe(true)
    expect('estimate' in x.planEstimate && 'estimate' in (x.exportedEstimate ?? {})).toBe(true)
  })

  it('refuses context parallelism, and MoE data parallelism beside a pipeline', () => {
    expect(vllm.strategyProblems(models['llama-3.1-8b'], cluster('dgx-h100', 1), strategy({ tp: 4, cp: 2 })).map((p) => p.code)).toEqual(['context-parallel'])
    expect(vllm.strategyProblems(models['mixtral-8x7b'], cluster('dgx-h100', 2), strategy({ tp: 2, pp: 2, dp: 4, ep: 8 })).map((p) => p.code)).toEqual(['data-parallel-pipeline'])
  })

  it('refuses int4 weights of a 16-bit checkpoint, and exports the 16-bit ones', () => {
    const x = exportOf(vllm, serving(models['llama-3.1-8b'], cluster('dgx-h100', 1), { tp: 1 }, {}, { weights: 'int4' }))
    expect(x.problems.map((p) => p.code)).toEqual(['weight-format'])
    expect(x.exported?.precision.weights).toBe('bf16')
    expect(x.changes).toContainEqual({ what: 'weights', from: 'int4', to: 'bf16' })
  })
})
