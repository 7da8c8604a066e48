import { strategy } from '@meshplan/parallelism'
import { megatronCore0140, megatronEngine, megatronReleases } from '../../src'
import { cluster, flagValue, launchOf, llama405bTraining, models, trainOf, training } from '../fixtures'

const megatron = megatronEngine(megatronCore0140)
const argvOf = (x: ReturnType<typeof trainOf>): ReadonlyArray<string> => launchOf(x).commands[0]?.argv ?? []

describe('Megatron-LM core_v0.14.0 table', () => {
  it('is the newest row, every key a flag of megatron/training/arguments.py', () => {
    expect(megatronReleases[0]).toBe(megatronCore0140)
    for (const d of Object.values(megatronCore0140.keys)) {
      expect(d.key.startsWith('--')).toBe(true)
      expect(d.source).toMatch(/^megatron\/training\/arguments\.py _add_\w+_args/)
    }
  })
})

describe('Megatron-LM core_v0.14.0 flags', () => {
  it("Llama 3 405B's degrees, uneven split, micro and global batch, sequence and model shapes", () => {
    // the plan's ZeRO 2 is refused under a pipeline (below); ZeRO 1 here is what Megatron-LM runs as written
    const x = trainOf(megatron, { ...llama405bTraining(), workload: { ...llama405bTraining().workload, zeroStage: 1, recompute: 'full' } })
    expect(x.problems).toEqual([])
    const l = launchOf(x)
    expect(l.nodes).toBe(1024)
    expect(l.commands.map((c) => [c.firstNode, c.lastNode])).toEqual([
      [0, 0],
      [1, 1023],
    ])
    const argv = l.commands[1]?.argv ?? []
    expect(argv.slice(0, 11)).toEqual(['torchrun', '--nproc_per_node', '8', '--nnodes', '1024', '--node_rank', '$NODE_RANK', '--master_addr', '$MASTER_ADDR', '--master_port', '6000'])
    const want: ReadonlyArray<readonly [string, string | true]> = [
      ['--tensor-model-parallel-size', '8'],
      ['--pipeline-model-parallel-size', '16'],
      ['--decoder-first-pipeline-num-layers', '7'],
      ['--decoder-last-pipeline-num-layers', '7'],
      ['--sequence-parallel', true],
      ['--micro-batch-size', '1'],
      ['--global-batch-size', '2048'],
      ['--seq-length', '8192'],
      ['--use-distributed-optimizer', true],
      ['--recompute-granularity', 'full'],
      ['--recompute-method', 'uniform'],
      ['--bf16', true],
      ['--num-layers', '126'],
      ['--hidden-size', '16384'],
      ['--num-attention-heads', '128'],
      ['--num-query-groups', '8'],
    ]
    for (const [flag, value] of want) expect(`${flag} ${String(flagValue(argv, flag))}`).toBe(`${flag} ${String(value)}`)
    expect(flagValue(argv, '--context-parallel-size')).toBeUndefined()
    expect(flagValue(argv, '--grad-reduce-in-bf16')).toBeUndefined()
  })

  it('interleaved stages: --num-layers-per-virtual-pipeline-stage for the even split, --num-virtual-stages-per-pipeline-rank for an uneven one', () => {
    const c = cluster('dgx-h100', 8)
    // 80 layers over 4 stages of 2 chunks: 80 / 8 = 10 layers per chunk
    const even = argvOf(trainOf(megatron, training(models['llama-3.1-70b'], c, { tp: 8, pp: 4, dp: 2, virtualStages: 2, sequenceParallel: true }, { globalBatch: 64 })))
    expect(flagValue(even, '--num-layers-per-virtual-pipeline-stage')).toBe('10')
    expect(flagValue(even, '--num-virtual-stages-per-pipeline-rank')).toBeUndefined()
    const uneven = argvOf(trainOf(megatron, training(models['llama-3.1-405b'], cluster('dgx-h100', 16), { tp: 8, pp: 8, dp: 2, virtualStages: 2, sequenceParallel: true, pipelineSplit: { embeddingInSplit: true, lossInSplit: true } }, { globalBatch: 64, recompute: 'full' })))
    expect(flagValue(uneven, '--num-virtual-stages-per-pipeline-rank')).toBe('2')
    expect(flagValue(uneven, '--account-for-embedding-in-pipeline-split')).toBe(true)
    expect(flagValue(uneven, '--account-for-loss-in-pipeline-split')).toBe(true)
  })

  it('MoE: expert and expert-tensor degrees, CP, fp8, bf16 gradient reduction, TP overlap', () => {
    const d = training(models['mixtral-8x7b'], cluster('dgx-h100', 4), { tp: 2, cp: 2, dp: 8, ep: 8, etp: 1, sequenceParallel: true }, { globalBatch: 64, gradientReduce: 'bf16', tpCommOverlap: true, recompute: 'selective' }, { activations: 'fp8' })
    const x = trainOf(megatron, d)
    expect(x.problems).toEqual([])
    const argv = argvOf(x)
    expect(flagValue(argv, '--expert-model-parallel-size')).toBe('8')
    expect(flagValue(argv, '--expert-tensor-parallel-size')).toBe('1')
    expect(flagValue(argv, '--context-parallel-size')).toBe('2')
    expect(flagValue(argv, '--num-experts')).toBe('8')
    expect(flagValue(argv, '--moe-router-topk')).toBe('2')
    expect(flagValue(argv, '--fp8-format')).toBe('hybrid')
    expect(flagValue(argv, '--grad-reduce-in-bf16')).toBe(true)
    expect(flagValue(argv, '--tp-comm-overlap')).toBe(true)
    expect(flagValue(argv, '--recompute-granularity')).toBe('selective')
  })

  it('ZeRO 2 and 3 without a pipeline: Megatron FSDP', () => {
    const argv = argvOf(trainOf(megatron, training(models['llama-3.1-8b'], cluster('dgx-h100', 1), { dp: 8 }, { globalBatch: 64, zeroStage: 3 })))
    expect(flagValue(argv, '--use-megatron-fsdp')).toBe(true)
    expect(flagValue(argv, '--data-parallel-sharding-strategy')).toBe('optim_grads_params')
    expect(flagValue(argv, '--ckpt-format')).toBe('fsdp_dtensor')
  })

  it('the optimizer state in host memory: --optimizer-cpu-offload with the precision-aware optimizer', () => {
    const argv = argvOf(trainOf(megatron, training(models['llama-3.1-8b'], cluster('dgx-h100', 1), { tp: 2, dp: 4, sequenceParallel: true }, { globalBatch: 64, offload: ['optimizer'] })))
    expect(flagValue(argv, '--optimizer-cpu-offload')).toBe(true)
    expect(flagValue(argv, '--use-precision-aware-optimizer')).toBe(true)
    expect(flagValue(argv, '--use-distributed-optimizer')).toBe(true)
  })
})

describe('Megatron-LM core_v0.14.0 refusals', () => {
  it("refuses Llama 3 405B's ZeRO 2 under a 16-stage pipeline and exports ZeRO 1, recomputing to fit", () => {
    const x = trainOf(megatron, llama405bTraining())
    expect(x.problems.map((p) => p.code)).toEqual(['zero-stage'])
    expect(x.problems[0]?.message).toMatch(/--use-distributed-optimizer \(ZeRO 1.*Megatron FSDP.*not with a pipeline \(PP 16\)/)
    expect(x.exported?.workload.zeroStage).toBe(1)
    expect(x.exported?.strategy.pp).toBe(16)
    const e = x.exportedEstimate !== undefined && 'estimate' in x.exportedEstimate ? x.exportedEstimate.estimate : undefined
    expect(e?.memory.fits).toBe(true)
    expect(flagValue(argvOf(x), '--use-distributed-optimizer')).toBe(true)
    expect(flagValue(argvOf(x), '--use-megatron-fsdp')).toBeUndefined()
  })

  it('refuses a zero-bubble schedule and weight offload', () => {
    const s = strategy({ tp: 8, pp: 4, dp: 2 })
    const w = { globalBatch: 64, microBatch: 1, sequenceLength: 4096, recompute: 'none', zeroStage: 1, schedule: 'zb-h1', offload: ['weights'] } as const
    expect(megatron.workloadProblems(models['llama-3.1-70b'], s, w, { weights: 'bf16', activations: 'bf16', kvCache: 'bf16' }).map((p) => p.code)).toEqual(['schedule', 'offload'])
    const near = megatron.nearestWorkload(models['llama-3.1-70b'], s, w)
    expect([near.schedule, near.offload]).toEqual([undefined, undefined])
  })

  it('refuses a model with attention windows, with nothing to export', () => {
    const x = trainOf(megatron, training(models['gemma-3-27b'], cluster('dgx-h100', 1), { tp: 8 }, { globalBatch: 64 }))
    expect(x.problems.map((p) => p.code)).toContain('model')
    expect(x.launch).toBeUndefined()
    expect(x.unexported).toMatch(/cannot train gemma-3-27b/)
  })
})
