// Skewed MoE routing (`workload.hot_expert_share`): the busiest expert-parallel rank when one
// expert of a layer receives a share h of its token-expert assignments, placed as DeepSeek's
// EPLB places it (github.com/deepseek-ai/EPLB, `eplb.py`: replicas one at a time to the expert
// with the largest load per replica, then packed S to a rank), and its effect on the estimate.
import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { defaultCostModels } from '@meshplan/cost-models'
import { defaultPrecision, models, type Architecture } from '@meshplan/model'
import { strategy, type Strategy } from '@meshplan/parallelism'
import { unsafeClusterOf } from '@meshplan/topology'
import { rightOf } from '@meshplan/test-utils'
import { estimateInference } from '../src/estimate'
import { genericEngine } from '../src/engines'
import { prepareInference, type InferenceConstants, type InferenceInput } from '../src/kernel'
import { routedImbalance, skewedImbalance } from '../src/moe'
import { decodeInferenceWorkload, inferenceWorkload, type InferenceWorkload } from '../src/workload'

describe('skewedImbalance: the busiest EP rank over the mean under a hot expert (EPLB replication and packing)', () => {
  it('E = 256, ep = 64, R = 0, h = 0.05: S = 256/64 = 4 slots a rank, c = 0.95/255 = 0.0037255 per cold expert; the hot expert\'s rank carries 0.05 + 3 · 0.0037255 = 0.0611765 of the mean 1/64 = 0.015625: 3.915294', () => {
    expect(skewedImbalance(256, 0, 64, 0.05)).toBeCloseTo(64 * (0.05 + (3 * 0.95) / 255), 12)
    expect(skewedImbalance(256, 0, 64, 0.05)).toBeCloseTo(3.915294, 6)
  })

  it('the same with R = 64 (R = 32 gives S = 288/64 = 4.5, not whole): S = 320/64 = 5. The greedy gives the hot expert replicas while 0.05/n ≥ c = 0.0037255: 0.05/13 = 0.003846 ≥ c, 0.05/14 = 0.003571 < c, so 13 more (14 replicas of 0.003571); the other 51 slots double 51 cold experts (102 replicas of c/2 = 0.0018627), 204 stay single. Heaviest replica c = 0.0037255, plus the 4 lightest 4 · 0.0018627 = 0.0074510: 0.0111765 < 1/64 = 0.015625, so the busiest carries the mean: 1', () => {
    // the packing bound over the mean: 64 · (c + 4 · c/2) = 0.715294, below 1
    expect(64 * (0.95 / 255 + (4 * 0.95) / 255 / 2)).toBeCloseTo(0.715294, 6)
    expect(skewedImbalance(256, 64, 64, 0.05)).toBe(1)
  })

  it('E = 256, R = 32, ep = 72 (DeepSeek-V3\'s 288 slots: S = 4), h = 0.3: c = 0.7/255 = 0.0027451; 0.3/33 = 0.0090909 ≥ c, so all 32 replicas go to the hot expert (33 of 0.0090909); heaviest 0.0090909 plus 3 cold experts 3 · 0.0027451 = 0.0082353: 0.0173262 of the mean 1/72 = 0.0138889: 1.247487', () => {
    expect(skewedImbalance(256, 32, 72, 0.3)).toBeCloseTo(72 * (0.3 / 33 + (3 * 0.7) / 255), 12)
    expect(skewedImbalance(256, 32, 72, 0.3)).toBeCloseTo(1.247487, 6)
    // without the replicas (ep 64 divides the 256 experts): 64 · (0.3 + 3 · 0.0027451) = 19.727059
    expect(skewedImbalance(256, 0, 64, 0.3)).toBeCloseTo(64 * (0.3 + (3 * 0.7) / 255), 12)
  })

  it('Mixtral\'s 8 experts over ep 8, R = 0, h = 0.25: one expert a rank, the hot rank carries 0.25 of the mean 1/8: 2', () => {
    expect(skewedImbalance(8, 0, 8, 0.25)).toBeCloseTo(2, 12)
  })

  it('h = 1/E is uniform routing: 1 (R = 0: S · ep/E = 1; R = 32 over 72: 1/256 + 3 · 1/512 = 0.0097656 < 1/72); one rank or one expert: 1', () => {
    expect(skewedImbalance(256, 0, 64, 1 / 256)).toBeCloseTo(1, 12)
    expect(skewedImbalance(256, 32, 72, 1 / 256)).toBe(1)
    expect(skewedImbalance(256, 0, 1, 0.5)).toBe(1)
    expect(skewedImbalance(1, 0, 1, 1)).toBe(1)
  })

  it('laws: from 1 to ep (the busiest carries at least the mean, at most everything); with R = 0, ep · max(1/ep, h + (S − 1)·c), growing with h', () => {
    const deployment = fc.constantFrom([8, 8], [8, 4], [64, 8], [128, 16], [160, 32], [256, 64], [256, 32]).chain(([experts, ep]) =>
      fc.record({ experts: fc.constant(experts as number), ep: fc.constant(ep as number), redundant: fc.nat({ max: 4 }).map((r) => r * (ep as number)), h: fc.double({ min: 1 / (experts as number), max: 1, noNaN: true }), dh: fc.double({ min: 0, max: 1, noNaN: true }) }),
    )
    fc.assert(
      fc.property(deployment, ({ experts, ep, redundant, h, dh }) => {
        const skewed = skewedImbalance(experts, redundant, ep, h)
        expect(skewed).toBeGreaterThanOrEqual(1)
        expect(skewed).toBeLessThanOrEqual(ep * (1 + 1e-12))
        const slots = experts / ep
        const cold = (1 - h) / (experts - 1)
        expect(skewedImbalance(experts, 0, ep, h)).toBeCloseTo(Math.max(1, ep * (h + (slots - 1) * cold)), 9)
        const hotter = h + (1 - h) * dh
        expect(skewedImbalance(experts, 0, ep, hotter)).toBeGreaterThanOrEqual(skewedImbalance(experts, 0, ep, h) - 1e-9)
      }),
    )
  })
})

describe('routedImbalance with a hot expert: the larger of the uniform figure and the skewed one', () => {
  const constants = (over: Partial<Record<string, unknown>>): InferenceConstants =>
    ({ ep: 8, topK: 8, dp: 8, edp: 1, experts: 256, redundantExperts: 0, hotExpertImbalance: 1, attentionDpRanks: 8, maxNumTokens: 8192, engine: genericEngine, input: { workload: { inputTokens: 1024 } }, ...over }) as unknown as InferenceConstants

  it('DP8 EP8, top-8, 64 tokens: uniform 1 + sqrt(2 ln 8 · 8 / 4096) = 1.090127; a skew of 2 wins, one of 1.05 does not; no share (1): the uniform figure', () => {
    expect(routedImbalance(constants({}), 64)).toBeCloseTo(1.090127, 6)
    expect(routedImbalance(constants({ hotExpertImbalance: 2 }), 64)).toBe(2)
    expect(routedImbalance(constants({ hotExpertImbalance: 1.05 }), 64)).toBeCloseTo(1.090127, 6)
  })

  it('no expert parallelism: 1 whatever the share', () => {
    expect(routedImbalance(constants({ ep: 1, hotExpertImbalance: 2 }), 64)).toBe(1)
  })
})

describe('workload.hot_expert_share: decoded, checked, and priced', () => {
  const h100x8 = unsafeClusterOf('dgx-h100', 1)
  const inputOf = (model: Architecture, s: Strategy, workload: InferenceWorkload): InferenceInput => ({ model, cluster: h100x8, strategy: s, precision: defaultPrecision, workload })
  const mixtral = models['mixtral-8x7b']
  const dep8 = strategy({ dp: 8, ep: 8 })
  const static32: InferenceWorkload = { mode: 'static', inputTokens: 1024, outputTokens: 256, batch: 32 }
  const serving: InferenceWorkload = { mode: 'max_throughput', inputTokens: 1024, outputTokens: 256, maxBatch: 64 }

  it('the plan-file key decodes to hotExpertShare; outside (0, 1] it is an error at its path', () => {
    expect(decodeInferenceWorkload({ input_tokens: 1024, output_tokens: 256, hot_expert_share: 0.05 })).toEqual(E.right({ mode: 'static', inputTokens: 1024, outputTokens: 256, hotExpertShare: 0.05 }))
    for (const bad of [0, 2, -0.1, '0.05']) {
      const d = decodeInferenceWorkload({ input_tokens: 1024, output_tokens: 256, hot_expert_share: bad })
      expect(E.isLeft(d) && d.left[0]?.path).toBe('workload.hot_expert_share')
    }
    expect(E.isLeft(inferenceWorkload({ ...static32, hotExpertShare: 1.5 }))).toBe(true)
  })

  it('prepared once: Mixtral DP8 EP8 with h = 0.25 gives hotExpertImbalance 2 (one expert a rank); no share: 1', () => {
    expect(rightOf(prepareInference(defaultCostModels)(inputOf(mixtral, dep8, { ...static32, hotExpertShare: 0.25 }))).hotExpertImbalance).toBeCloseTo(2, 12)
    expect(rightOf(prepareInference(defaultCostModels)(inputOf(mixtral, dep8, static32))).hotExpertImbalance).toBe(1)
  })

  it('TPOT grows with the share for an MoE model over ep 8, static and continuous batching alike; h = 1/8 is the uniform estimate', () => {
    for (const workload of [static32, serving]) {
      const tpot = (share?: number): number => rightOf(estimateInference(defaultCostModels)(inputOf(mixtral, dep8, share === undefined ? workload : { ...workload, hotExpertShare: share }))).tpot
      const none = tpot()
      expect(tpot(1 / 8)).toBeCloseTo(none, 12)
      const shares = [0.2, 0.3, 0.5, 1].map(tpot)
      expect(shares[0]).toBeGreaterThan(none)
      for (let i = 1; i < shares.length; i++) expect(shares[i]).toBeGreaterThan(shares[i - 1] as number)
    }
  })

  it('a dense model or a share below 1/experts is refused, naming workload.hot_expert_share, the value and what was expected', () => {
    const dense = estimateInference(defaultCostModels)(inputOf(models['llama-3.1-8b'], strategy({ dp: 8 }), { ...static32, hotExpertShare: 0.05 }))
    expect(dense).toEqual(E.left(expect.objectContaining({ code: 'invalid-workload', message: 'workload.hot_expert_share: applies to a mixture-of-experts model; llama-3.1-8b has no routed experts (got 0.05)' })))
    const low = estimateInference(defaultCostModels)(inputOf(mixtral, dep8, { ...static32, hotExpertShare: 0.1 }))
    expect(low).toEqual(
      E.left(expect.objectContaining({ code: 'invalid-workload', message: "workload.hot_expert_share: expected a share from 1/experts = 1/8 = 0.125 (uniform routing) to 1 of a layer's token-expert assignments, got 0.1" })),
    )
  })
})

describe('a hot expert barely above uniform', () => {
  it('costs nothing where the routed experts are memory-bound, never less than nothing (fuzzing found a breakdown of -8.7e-19 s)', () => {
    // Kimi K2 over TP64 DP2 EP32 ETP2 on 16 HGX H20 nodes, one request of 17,677 + 7,510 tokens, a share 1/384 + 5.6e-94 of uniform
    const e = estimateInference(defaultCostModels)({
      model: models['kimi-k2'],
      cluster: unsafeClusterOf('hgx-h20', 16),
      strategy: strategy({ tp: 64, dp: 2, ep: 32, etp: 2 }),
      precision: defaultPrecision,
      workload: { mode: 'latency', inputTokens: 17677, outputTokens: 7510, hotExpertShare: 1 / 384 + 5.617080509294691e-94 * (1 - 1 / 384) },
    })
    expect(E.isRight(e)).toBe(true)
    if (E.isRight(e)) expect(e.right.breakdown.decode.computeBound).toBeGreaterThanOrEqual(0)
  })
})
