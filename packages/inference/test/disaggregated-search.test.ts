import * as E from 'fp-ts/Either'
import { defaultCostModels } from '@meshplan/cost-models'
import { defaultPrecision, models } from '@meshplan/model'
import { unsafeClusterOf } from '@meshplan/topology'
import { rightOf } from '@meshplan/test-utils'
import { estimateDisaggregated } from '../src/disaggregated'
import { disaggregatedLimits, planDisaggregated } from '../src/disaggregated-search'
import type { InferenceWorkload } from '../src/workload'

const cluster = unsafeClusterOf('dgx-h100', 1)
const workload: InferenceWorkload = { mode: 'max_throughput', inputTokens: 2048, outputTokens: 256 }
const input = { model: models['llama-3.1-8b'], cluster, precision: defaultPrecision, workload, slo: { maxTtft: 2, maxTpot: 0.03 } }
const link = { bandwidth: cluster.tiers[cluster.tiers.length - 1]?.link.bandwidth ?? 0, latency: cluster.tiers[cluster.tiers.length - 1]?.link.latency ?? 0 }

describe('planDisaggregated', () => {
  const plan = rightOf(planDisaggregated(defaultCostModels)(input))

  it('prices every instance strategy of up to half the node in both roles and keeps the best of each role', () => {
    // instance sizes 1, 2 and 4 of 8 GPUs: Llama 3.1 8B splits over tp 1, 2, 4 with dp filling the rest
    expect(plan.evaluated.strategies).toBeGreaterThanOrEqual(3)
    expect(plan.evaluated.prefillTypes).toBeLessThanOrEqual(disaggregatedLimits.perRole)
    expect(plan.evaluated.decodeTypes).toBeLessThanOrEqual(disaggregatedLimits.perRole)
    expect(plan.top.length).toBeGreaterThan(0)
  })

  it('shows a deployment once: no two of the top have the same GPUs, tokens/s per GPU, TTFT and TPOT', () => {
    const keys = plan.top.map((c) => [c.estimate.gpus, c.estimate.tokensPerSecond.perGpu.toPrecision(12), c.estimate.ttft.toPrecision(12), c.estimate.tpot.toPrecision(12)].join('/'))
    expect(new Set(keys).size).toBe(keys.length)
  })

  it('ranks deployments by output tokens/s per GPU, each meeting the objectives on at most the node', () => {
    const perGpu = plan.top.map((c) => c.estimate.tokensPerSecond.perGpu)
    expect([...perGpu].sort((a, b) => b - a)).toEqual(perGpu)
    for (const c of plan.top) {
      expect(c.estimate.gpus).toBeLessThanOrEqual(8)
      expect(c.estimate.ttft).toBeLessThanOrEqual(2)
      expect(c.estimate.tpot).toBeLessThanOrEqual(0.03)
    }
  })

  it("gives each deployment the estimate its own pools give, and the first the best counts of its two instance types, checked against every count that fits", () => {
    const first = plan.top[0]
    if (first === undefined) throw new Error('no deployment found')
    const estimateOf = (pn: number, dn: number) =>
      estimateDisaggregated(defaultCostModels)({
        prefill: { ...input, workload, strategy: first.prefill.strategy, instances: pn },
        decode: { ...input, workload: first.decode.batchLimit === null ? workload : { ...workload, maxBatch: first.decode.batchLimit }, strategy: first.decode.strategy, instances: dn },
        link,
      })
    const own = rightOf(estimateOf(first.prefill.instances, first.decode.instances))
    expect(own.tokensPerSecond.perGpu).toBeCloseTo(first.estimate.tokensPerSecond.perGpu, 9)
    // by brute force over the counts of the same two types that fit the node and meet the objectives
    const gp = own.prefill.gpus / first.prefill.instances
    const gd = own.decode.gpus / first.decode.instances
    let best = 0
    for (let pn = 1; pn * gp + gd <= 8; pn++)
      for (let dn = 1; pn * gp + dn * gd <= 8; dn++) {
        const e = estimateOf(pn, dn)
        if (E.isRight(e) && e.right.ttft <= 2 && e.right.tpot <= 0.03) best = Math.max(best, e.right.tokensPerSecond.perGpu)
      }
    // the search picks counts from each type's priced rates, not from whole estimates: within 5% of the brute force
    expect(first.estimate.tokensPerSecond.perGpu).toBeGreaterThanOrEqual(best * 0.95)
  })

  it("lowers a decode type's batch limit until its TPOT meets a tight objective", () => {
    const tight = rightOf(planDisaggregated(defaultCostModels)({ ...input, slo: { maxTpot: 0.008 } }))
    for (const c of tight.top) expect(c.estimate.tpot).toBeLessThanOrEqual(0.008)
    expect(tight.top.some((c) => c.decode.batchLimit !== null)).toBe(true)
  })
})
