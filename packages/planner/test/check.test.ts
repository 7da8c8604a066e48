import * as E from 'fp-ts/Either'
import { checkPlan, loadImbalance } from '../src/check'
import { defaultCostModels } from '@meshplan/cost-models'
import { decodePlan } from '../src/plan-file'
import { exampleDocument, planOf } from './fixtures'

const reference = (): Record<string, unknown> => exampleDocument('reference-plan.yaml')

describe('loadImbalance: the busiest of n bins over the mean, m balls (Raab & Steger 1998)', () => {
  it('131,072 assignments on 64 GPUs: 1 + sqrt(2 ln 64 · 64 / 131072) = 1.06373', () => {
    // ln 64 = 4.158883; 2 · 4.158883 · 64 = 532.337; / 131072 = 0.0040614; sqrt = 0.063729
    expect(loadImbalance(131_072, 64)).toBeCloseTo(1.063729, 5)
  })

  it('32 tokens x top-2 on 64 GPUs is far from balanced: 1 + sqrt(2 ln 64 · 64 / 64) = 3.884', () => {
    // 2 · 4.158883 = 8.317766; sqrt = 2.884054
    expect(loadImbalance(64, 64)).toBeCloseTo(3.884054, 5)
  })

  it('is 1 for one bin or no traffic, and falls as the load grows', () => {
    expect(loadImbalance(1000, 1)).toBe(1)
    expect(loadImbalance(0, 8)).toBe(1)
    expect(loadImbalance(1e6, 8)).toBeLessThan(loadImbalance(1e3, 8))
  })
})

describe('decodePlan', () => {
  it('decodes the shipped reference plan with its seven claims', () => {
    const plan = planOf(reference())
    expect(plan.strategy).toMatchObject({ tp: 2, pp: 1, dp: 64, ep: 64, etp: 2 })
    expect(plan.workload).toMatchObject({ mode: 'max_throughput', inputTokens: 1024, outputTokens: 256 })
    expect(plan.claims.map((c) => c.metric)).toEqual(['gpus_used', 'experts_per_gpu', 'weight_memory_per_gpu', 'flops_per_gpu', 'output_tokens_per_s', 'tpot', 'load_imbalance'])
    // quantities with units: 69MB = 69e6 B, 0.09TFLOPS = 9e10 FLOP/s, 2ms = 0.002 s
    expect(plan.claims.map((c) => c.value)).toEqual([128, 1, 69e6, 9e10, 450_000, 0.002, 1])
  })

  it('takes the formats a config\'s quantization_config declares when the plan gives no precision; a precision given wins', () => {
    const config = { model_type: 'llama', hidden_size: 4096, num_hidden_layers: 32, num_attention_heads: 32, intermediate_size: 11008, vocab_size: 32000, max_position_embeddings: 4096 }
    const quantized = { ...config, quantization_config: { quant_method: 'fp8', activation_scheme: 'dynamic', weight_block_size: [128, 128] } }
    const { precision: _given, ...unstated } = reference()
    const base = { ...unstated, parallelism: { tp: 8 }, claims: [] }
    expect(planOf({ ...base, model: quantized }).precision).toEqual({ weights: 'fp8', activations: 'fp8', kvCache: 'bf16' })
    expect(planOf({ ...base, model: quantized, precision: { weights: 'bf16' } }).precision).toEqual({ weights: 'bf16', activations: 'bf16', kvCache: 'bf16' })
    expect(planOf({ ...base, model: config }).precision).toEqual({ weights: 'bf16', activations: 'bf16', kvCache: 'bf16' })
  })

  it('reports every bad field with its path', () => {
    const bad = { ...reference(), model: 'lama-2-70b', parallelism: { tp: 'two' }, claims: [{ metric: 'speed', equals: 1 }, { metric: 'tpot', at_most: 'soon' }, { metric: 'tpot' }] }
    const r = decodePlan(bad)
    expect(E.isLeft(r)).toBe(true)
    const paths = E.isLeft(r) ? r.left.map((i) => i.path) : []
    expect(paths).toEqual(expect.arrayContaining(['plan.model', 'plan.parallelism.tp', 'plan.claims[0].metric', 'plan.claims[1].at_most', 'plan.claims[2]']))
  })

  it('rejects unknown fields and a wrong format', () => {
    const r = decodePlan({ ...reference(), format: 'meshplan-plan/2', strategy: {} })
    const paths = E.isLeft(r) ? r.left.map((i) => i.path) : []
    expect(paths).toEqual(expect.arrayContaining(['plan.format', 'plan.strategy']))
  })
})

describe('checkPlan on the reference plan', () => {
  const audit = checkPlan(defaultCostModels)(planOf(reference()))
  const verdict = (metric: string) => audit.claims.find((c) => c.claim.metric === metric)

  it('finds no broken law and estimates the plan', () => {
    expect(audit.violations).toEqual([])
    expect(audit.problem).toBeNull()
    expect(audit.estimate).not.toBeNull()
    expect(audit.passes).toBe(false)
  })

  it('computes 128 GPUs, 8 whole experts and 336,136,192 bytes of weights per GPU', () => {
    expect(verdict('gpus_used')).toMatchObject({ holds: true, computed: 128, deviation: 0 })
    // 1 expert per layer / ep, 1/2 of it (etp 2), 16 MoE layers: 16 shards x 1/2 = 8
    expect(verdict('experts_per_gpu')).toMatchObject({ holds: false, computed: 8, deviation: 7 })
    // 168,068,096 parameters x 2 B (the hand count is in apps/cli/test/commands.test.ts)
    expect(verdict('weight_memory_per_gpu')).toMatchObject({ holds: false, computed: 336_136_192 })
  })

  it('gives no deviation, never Infinity, for a claim so small the ratio overflows (the fuzz campaign\'s TTFT at most 5e-324 s)', () => {
    const tiny = checkPlan(defaultCostModels)(planOf({ ...reference(), claims: [{ metric: 'ttft', at_most: 5e-324 }, { metric: 'gpus_used', equals: 0 }] }))
    expect(tiny.claims.map((c) => [c.holds, c.deviation])).toEqual([
      [false, null],
      [false, null],
    ])
    expect(tiny.claims[0]?.computed).toBeGreaterThan(0)
  })

  it('computes the load imbalance from the estimate: 64 replicas x batch x top-2 assignments over 64 GPUs', () => {
    const batch = audit.estimate?.batch ?? 0
    expect(verdict('load_imbalance')?.computed).toBeCloseTo(loadImbalance(64 * batch * 2, 64), 12)
  })

  it('says what holds holds: the same plan claiming the computed values passes', () => {
    const honest = {
      ...reference(),
      claims: [
        { metric: 'gpus_used', equals: 128 },
        { metric: 'experts_per_gpu', equals: 8 },
        { metric: 'weight_memory_per_gpu', about: '336MB', tolerance: 0.01 },
        { metric: 'output_tokens_per_s', at_least: Math.floor(audit.estimate?.tokensPerSecond.total ?? 0) },
        { metric: 'tpot', at_most: (audit.estimate?.tpot ?? 0) * 1.001 },
      ],
    }
    const again = checkPlan(defaultCostModels)(planOf(honest))
    expect(again.claims.map((c) => c.holds)).toEqual([true, true, true, true, true])
    expect(again.passes).toBe(true)
  })

  it('names a better strategy for the same model, cluster and workload', () => {
    const best = audit.best?.top[0]
    expect(best).toBeDefined()
    expect(best?.tokensPerSecond.perGpu ?? 0).toBeGreaterThanOrEqual(audit.estimate?.tokensPerSecond.perGpu ?? Infinity)
  })
})

describe('checkPlan on a plan that breaks the algebra', () => {
  it('lists the violations, computes what it can and fails the rest', () => {
    const audit = checkPlan(defaultCostModels)(planOf({ ...reference(), parallelism: { tp: 3, dp: 64, ep: 64, etp: 2 } }))
    expect(audit.violations.length).toBeGreaterThan(0)
    expect(audit.problem).toContain('breaks')
    expect(audit.estimate).toBeNull()
    // 3 x 64 = 192 GPUs: computed, and not the claimed 128
    expect(audit.claims.find((c) => c.claim.metric === 'gpus_used')).toMatchObject({ computed: 192, holds: false })
    expect(audit.claims.find((c) => c.claim.metric === 'tpot')).toMatchObject({ computed: null, holds: false })
    expect(audit.passes).toBe(false)
  })
})

describe('decodePlan: a Hugging Face model inline', () => {
  it('names a bad field of the inline config at plan.model.<field>', () => {
    const r = decodePlan({ ...reference(), model: { model_type: 'llama', hidden_size: 'x', num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 8, vocab_size: 10 } })
    const paths = E.isLeft(r) ? r.left.map((i) => i.path) : []
    expect(paths).toContain('plan.model.hidden_size')
  })
})
