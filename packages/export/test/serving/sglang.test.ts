import { strategy } from '@meshplan/parallelism'
import { sglang053, sglangEngine, sglangInstance, sglangReleases } from '../../src'
import { cluster, exportOf, flagValue, launchOf, models, referencePlan, serving } from '../fixtures'

const sglang = sglangEngine(sglang053)

describe('SGLang 0.5.3 table', () => {
  it('is the newest row, every key a flag with its source', () => {
    expect(sglangReleases[0]).toBe(sglang053)
    for (const d of Object.values(sglang053.keys)) {
      expect(d.key.startsWith('--')).toBe(true)
      expect(d.source.length).toBeGreaterThan(10)
    }
  })
})

describe('sglangInstance', () => {
  it('folds the reference plan into one instance of tp-size 128, DP attention 64 (TP2 each), EP64 (MoE TP = 128 / 64 = 2)', () => {
    expect(sglangInstance(models['reference-moe'], strategy({ tp: 2, dp: 64, ep: 64, etp: 2 }))).toEqual({ tpSize: 128, attentionDp: 64, instances: 1, gpus: 128 })
  })

  it('runs replicated experts (EDP 4) as 4 instances', () => {
    // TP2 DP16 on 32 GPUs, experts on EP4 × ETP2 = 8: EDP = 32 / 8 = 4 instances of tp-size 8, attention DP 4
    expect(sglangInstance(models['mixtral-8x7b'], strategy({ tp: 2, dp: 16, ep: 4, etp: 2 }))).toEqual({ tpSize: 8, attentionDp: 4, instances: 4, gpus: 8 })
  })

  it('runs a dense model as dp instances of tp GPUs', () => {
    expect(sglangInstance(models['llama-3.1-8b'], strategy({ tp: 2, pp: 2, dp: 4 }))).toEqual({ tpSize: 2, attentionDp: 1, instances: 4, gpus: 4 })
  })
})

describe('SGLang 0.5.3 flags', () => {
  it('runs the reference plan as written: --tp-size 128 --dp-size 64 --enable-dp-attention --ep-size 64 on 16 nodes', () => {
    const x = exportOf(sglang, referencePlan())
    expect(x.problems).toEqual([])
    const l = launchOf(x)
    expect(l.nodes).toBe(16)
    expect(l.commands).toHaveLength(1)
    const c = l.commands[0]
    expect([c?.firstNode, c?.lastNode]).toEqual([0, 15])
    const argv = c?.argv ?? []
    expect(flagValue(argv, '--tp-size')).toBe('128')
    expect(flagValue(argv, '--dp-size')).toBe('64')
    expect(flagValue(argv, '--enable-dp-attention')).toBe(true)
    expect(flagValue(argv, '--ep-size')).toBe('64')
    expect(flagValue(argv, '--nnodes')).toBe('16')
    expect(flagValue(argv, '--node-rank')).toBe('$NODE_RANK')
    expect(flagValue(argv, '--dist-init-addr')).toBe('$MASTER_ADDR:20000')
    // DP attention divides both budgets by --dp-size: the export passes 64 times the per-rank figures
    const e = 'estimate' in x.planEstimate ? x.planEstimate.estimate : undefined
    expect(flagValue(argv, '--max-running-requests')).toBe(String(64 * Math.ceil(e?.batch ?? 0)))
    expect(flagValue(argv, '--chunked-prefill-size')).toBe(String(64 * (e?.maxNumTokens ?? 0)))
    // weights and the KV pool: all but the reserve and the workspace
    const m = e?.memory
    expect(Number(flagValue(argv, '--mem-fraction-static'))).toBe(m === undefined ? NaN : Math.floor(((m.capacity - m.reserve - m.workspace) / m.capacity) * 100) / 100)
  })

  it('runs MoE with EP equal to tp-size on one node, without DP attention', () => {
    const argv = launchOf(exportOf(sglang, serving(models['mixtral-8x7b'], cluster('dgx-h100', 1), { tp: 8, ep: 8, etp: 1 }))).commands[0]?.argv ?? []
    expect(flagValue(argv, '--tp-size')).toBe('8')
    expect(flagValue(argv, '--ep-size')).toBe('8')
    expect(flagValue(argv, '--enable-dp-attention')).toBeUndefined()
  })

  it('runs dense DP as instances with their GPUs and ports, and a router', () => {
    const l = launchOf(exportOf(sglang, serving(models['llama-3.1-8b'], cluster('dgx-h100', 2), { tp: 2, dp: 8 })))
    // 4 instances of 2 GPUs per node, on both nodes, then the router on node 0
    expect(l.commands.map((c) => [c.firstNode, c.lastNode, flagValue(c.argv, '--base-gpu-id') ?? '0', flagValue(c.argv, '--port')])).toEqual([
      [0, 1, '0', '30000'],
      [0, 1, '2', '30001'],
      [0, 1, '4', '30002'],
      [0, 1, '6', '30003'],
      [0, 0, '0', '31000'],
    ])
    expect(l.commands[4]?.argv.slice(0, 3)).toEqual(['python', '-m', 'sglang_router.launch_router'])
    expect(l.placeholders.map((p) => p.name)).toContain('$WORKER_URLS')
  })

  it('runs a dense model on two nodes as one instance with node ranks', () => {
    const l = launchOf(exportOf(sglang, serving(models['llama-3.1-405b'], cluster('dgx-h100', 2), { tp: 16 }, {}, { weights: 'fp8', activations: 'fp8' })))
    const argv = l.commands[0]?.argv ?? []
    expect(flagValue(argv, '--tp-size')).toBe('16')
    expect(flagValue(argv, '--nnodes')).toBe('2')
    expect(flagValue(argv, '--quantization')).toBe('fp8')
  })
})

describe('SGLang 0.5.3 refusals', () => {
  it('refuses experts folded over fewer GPUs than attention TP, and exports the nearest fold', () => {
    // attention TP8 and experts on EP2 × ETP2 = 4 GPUs: an instance runs its MoE over all of its tp-size GPUs
    const d = serving(models['mixtral-8x7b'], cluster('dgx-h100', 1), { tp: 8, ep: 2, etp: 2 })
    const x = exportOf(sglang, d)
    expect(x.problems.map((p) => p.code)).toEqual(['expert-layout'])
    const s = x.exported?.strategy
    expect(s === undefined ? undefined : (s.ep * s.etp) % s.tp).toBe(0)
  })

  it('refuses an uneven pipeline split and context parallelism', () => {
    const c = cluster('dgx-h100', 2)
    expect(sglang.strategyProblems(models['llama-3.1-405b'], c, strategy({ tp: 4, pp: 4, pipelineSplit: { embeddingInSplit: true, lossInSplit: true } })).map((p) => p.code)).toEqual(['pipeline-split'])
    expect(sglang.strategyProblems(models['llama-3.1-8b'], c, strategy({ tp: 8, cp: 2 })).map((p) => p.code)).toEqual(['context-parallel'])
  })
})
