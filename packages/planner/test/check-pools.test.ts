import * as E from 'fp-ts/Either'
import { defaultCostModels } from '@meshplan/cost-models'
import { batchLadder, estimateDisaggregated } from '@meshplan/inference'
import { layout } from '@meshplan/parallelism'
import { checkDisaggregated, checkPlan, decodePlan, decodeTrainingPlan, disaggregatedGraph, type Plan } from '../src'
import { exampleDocument, planOf } from './fixtures'

/** Llama 3.1 8B on one DGX H100 node: `prefill` single-GPU prefill instances, one DP4 decode instance. */
const split = (prefill: number, claims: ReadonlyArray<Record<string, unknown>>): Plan =>
  planOf({
    format: 'meshplan-plan/1',
    model: 'llama-3.1-8b',
    cluster: { system: 'dgx-h100', nodes: 1 },
    pools: { prefill: { instances: prefill, parallelism: { tp: 1 } }, decode: { instances: 1, parallelism: { dp: 4 } } },
    workload: { mode: 'max_throughput', input_tokens: 1024, output_tokens: 256 },
    claims,
  })

describe('the audit of a disaggregated plan', () => {
  it('counts both pools (4 x 1 + 1 x 4 = 8 GPUs), prices the KV cache over NVLink (both pools in one node) and matches the estimate claim by claim', () => {
    const plan = split(4, [
      { metric: 'gpus_used', equals: 8 },
      { metric: 'ttft', at_most: '2s' },
      { metric: 'tpot', at_most: '50ms' },
    ])
    const a = checkDisaggregated(defaultCostModels)(plan)
    expect(a.gpus).toBe(8)
    expect(a.link.bandwidth).toBe(450e9)
    const pools = plan.pools
    if (pools === undefined) throw new Error('pools')
    const pool = (p: typeof pools.prefill) => ({ model: plan.model, cluster: p.cluster, strategy: p.strategy, precision: plan.precision, workload: plan.workload, instances: p.instances })
    const direct = estimateDisaggregated(defaultCostModels)({ prefill: pool(pools.prefill), decode: pool(pools.decode), link: a.link })
    if (E.isLeft(direct)) throw new Error(direct.left.message)
    expect(a.claims.map((c) => c.computed)).toEqual([8, direct.right.ttft, direct.right.tpot])
    expect(a.claims.every((c) => c.holds)).toBe(true)
    expect(a.passes).toBe(true)
    // the searches ran on the plan's cluster under its latency claims
    expect(a.best?.top.every((c) => c.estimate.ttft <= 2 && c.estimate.tpot <= 0.05)).toBe(true)
    expect(a.colocated?.top.every((e) => e.ttft <= 2 && e.tpot <= 0.05)).toBe(true)
  })

  it('refuses pools that need more GPUs than the cluster has: 6 x 1 + 1 x 4 = 10 of 8, no estimate, every figure claim unjudged', () => {
    const a = checkDisaggregated(defaultCostModels)(split(6, [{ metric: 'ttft', at_most: '2s' }]))
    expect(a.violations.map((v) => v.message)).toEqual(['the prefill pool (6) and the decode pool (4) together use 10 GPUs; the cluster has 8'])
    expect(a.estimate).toBeNull()
    expect(a.problem).toBe('the pools break 1 law of the algebra')
    expect(a.claims[0]?.computed).toBeNull()
    expect(a.passes).toBe(false)
  })

  it('judges throughput and latency together over the decode pool\'s batch limits 1, 2, 4, ... up to the most that fit', () => {
    const holds = checkDisaggregated(defaultCostModels)(split(4, [{ metric: 'output_tokens_per_s', at_least: 1 }, { metric: 'tpot', at_most: '1s' }]))
    const e = holds.estimate
    if (e === null || holds.joint === null) throw new Error('no estimate')
    expect(holds.joint.points).toBe(batchLadder(e.decode.maxBatch).length)
    expect(holds.joint.together).toBe(true)
    expect(holds.joint.point?.holds).toEqual({ output_tokens_per_s: true, tpot: true })
    // a billion tokens/s at no point, nor on any deployment of one node
    const never = checkDisaggregated(defaultCostModels)(split(4, [{ metric: 'output_tokens_per_s', at_least: 1e9 }, { metric: 'tpot', at_most: '1s' }]))
    expect(never.joint?.together).toBe(false)
    expect(never.joint?.smallest).toBeNull()
    expect(never.joint?.smallestProblem).toMatch(/^no co-located deployment of 1 to 8 GPUs, and no disaggregated deployment/)
    // the best it does within the TPOT claim is the plan's own estimate at its largest batch limit (prefill-bound beyond it)
    expect(never.joint?.bestThroughputMeetingLatency?.outputTokensPerSecond).toBeCloseTo(never.estimate?.tokensPerSecond.total ?? 0, 6)
  })

  it('reads experts per GPU from the pool that holds the most: DeepSeek-V3 over EP16 prefill with 32 redundant slots, (256 + 32)/16 = 18 in each of 58 MoE layers = 1,044 whole experts', () => {
    const plan = planOf({ ...exampleDocument('deepseek-v3-disaggregated.yaml'), claims: [{ metric: 'experts_per_gpu', equals: 1044 }, { metric: 'gpus_used', equals: 96 }] })
    const a = checkDisaggregated(defaultCostModels)(plan)
    expect(a.claims.map((c) => [c.computed, c.holds])).toEqual([
      [1044, true],
      [96, true],
    ])
    expect(a.claims[0]?.detail).toMatch(/^the prefill pool: each GPU holds 18 experts in each of its 58 MoE layers/)
  })
})

describe('the graph of a disaggregated deployment', () => {
  it('draws each pool with its own ids and joins them by one request\'s KV cache: 1,024 tokens · 32 layers · 2 · 8 KV heads · 128 · 2 bytes = 128 MiB', () => {
    const plan = split(4, [])
    const pools = plan.pools
    if (pools === undefined) throw new Error('pools')
    const laid = (p: typeof pools.prefill) => {
      const l = layout(p.cluster)(p.strategy)
      if (E.isLeft(l)) throw new Error(l.left.message)
      return l.right
    }
    const g = disaggregatedGraph(
      { model: plan.model, strategy: pools.prefill.strategy, precision: plan.precision, layout: laid(pools.prefill), instances: 4, step: { phase: 'prefill', tokensPerReplica: 1024 } },
      { model: plan.model, strategy: pools.decode.strategy, precision: plan.precision, layout: laid(pools.decode), instances: 1, step: { phase: 'decode', tokensPerReplica: 16 } },
      1024 * 32 * 2 * 8 * 128 * 2,
      '450 GB/s per GPU',
    )
    expect(g.nodes.every((n) => n.id.startsWith('P_') || n.id.startsWith('D_'))).toBe(true)
    expect(g.stages.map((s) => s.label.split(':')[0])).toEqual(['prefill pool (4 instances of single GPU)', 'decode pool (1 instance of DP4)'])
    const kv = g.edges.at(-1)
    expect(kv).toMatchObject({ from: 'P_lm_head', to: 'D_embedding', bytesPerStep: 134_217_728, repeats: 1 })
    expect(kv?.label).toBe('KV cache of one request, prefill to decode: 128 MiB over 450 GB/s per GPU')
  })
})

describe('redundant experts in a plan file (parallelism.redundant_experts)', () => {
  const deepseek = (parallelism: Record<string, unknown>): Plan =>
    planOf({
      format: 'meshplan-plan/1',
      model: 'deepseek-v3',
      cluster: { system: 'dgx-h100', nodes: 9 },
      precision: { weights: 'fp8', activations: 'fp8', kv_cache: 'bf16' },
      parallelism,
      workload: { mode: 'static', input_tokens: 1024, output_tokens: 256, batch: 8 },
      claims: [{ metric: 'experts_per_gpu', equals: 232 }],
    })

  it('decodes to the plan, and ep divides the slots: DeepSeek-V3 over ep 72 breaks the law with 256 experts, holds with 256 + 32 = 288 slots, 4 a GPU in each of 58 MoE layers = 232', () => {
    const plain = deepseek({ dp: 72, ep: 72 })
    expect(plain.redundantExperts).toBeUndefined()
    const withSlots = deepseek({ dp: 72, ep: 72, redundant_experts: 32 })
    expect(withSlots.redundantExperts).toBe(32)
    const broken = checkPlan(defaultCostModels)(plain)
    expect(broken.violations.map((v) => v.code)).toContain('experts-ep')
    const held = checkPlan(defaultCostModels)(withSlots)
    expect(held.violations).toEqual([])
    expect(held.claims[0]).toMatchObject({ computed: 232, holds: true })
  })

  it('a count that is not a whole number of 0 or more is an error at its path; a training plan refuses them', () => {
    const bad = decodePlan({ format: 'meshplan-plan/1', model: 'deepseek-v3', cluster: { system: 'dgx-h100', nodes: 9 }, parallelism: { dp: 72, ep: 72, redundant_experts: -1 }, workload: { mode: 'static', input_tokens: 8, output_tokens: 8 } })
    expect(E.isLeft(bad) && bad.left.map((i) => i.path)).toEqual(['plan.parallelism.redundant_experts'])
    const training = decodeTrainingPlan({ format: 'meshplan-plan/1', model: 'deepseek-v3', cluster: { system: 'dgx-h100', nodes: 9 }, parallelism: { dp: 72, ep: 72, redundant_experts: 32 }, workload: { kind: 'training', global_batch: 72, micro_batch: 1, seq_len: 1024 } })
    expect(E.isLeft(training) && training.left.map((i) => i.path)).toEqual(['plan.parallelism.redundant_experts'])
  })
})
