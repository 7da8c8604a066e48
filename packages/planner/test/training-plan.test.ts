import * as fs from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import { defaultCostModels } from '@meshplan/cost-models'
import { estimateTraining } from '@meshplan/training'
import { parseDocument } from '@meshplan/units'
import { checkTrainingPlan, decodeTrainingPlan, isTrainingPlanDocument, type TrainingPlanFile } from '../src/training-plan'

const planOf = (u: unknown): TrainingPlanFile => {
  const r = decodeTrainingPlan(u)
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
  return r.right
}

/** Llama 2 7B on one DGX H100: TP 2, DP 4, 64 sequences of 2048 tokens in micro-batches of 2, ZeRO 1. */
const small = (claims: ReadonlyArray<unknown>, parallelism: unknown = { tp: 2, dp: 4 }) => ({
  format: 'meshplan-plan/1',
  model: 'llama-2-7b',
  cluster: { system: 'dgx-h100', nodes: 1 },
  parallelism,
  workload: { kind: 'training', global_batch: 64, micro_batch: 2, seq_len: 2048, zero_stage: 1 },
  claims,
})

describe('training plans', () => {
  it('are told from serving plans by their workload\'s kind, and read with the case format\'s step', () => {
    expect(isTrainingPlanDocument(small([]))).toBe(true)
    expect(isTrainingPlanDocument({ ...small([]), workload: { input_tokens: 1, output_tokens: 1 } })).toBe(false)
    const plan = planOf(small([]))
    expect(plan.workload).toEqual({ globalBatch: 64, microBatch: 2, sequenceLength: 2048, recompute: 'none', zeroStage: 1 })
    expect(plan.strategy).toMatchObject({ tp: 2, dp: 4, pp: 1 })
  })

  it('refuse a serving claim and a value of the wrong kind, each at its path', () => {
    const r = decodeTrainingPlan(small([{ metric: 'ttft', at_most: '2s' }, { metric: 'step_time', about: '10GB' }]))
    expect(E.isLeft(r) && r.left.map((i) => i.path)).toEqual(['plan.claims[0].metric', 'plan.claims[1].about'])
  })

  it('are audited against the training estimate: each claim with its computed value, and the search finds nothing slower than the plan first', async () => {
    const plan = planOf(small([]))
    const e = estimateTraining(defaultCostModels)({ model: plan.model, cluster: plan.cluster, strategy: plan.strategy, precision: plan.precision, workload: plan.workload })
    if (E.isLeft(e)) throw new Error(e.left.message)
    const step = e.right.iterationSeconds
    const audited = await checkTrainingPlan(defaultCostModels)(
      planOf(
        small([
          { metric: 'gpus_used', equals: 8 },
          // within 10% of the estimate: holds; 0.99 MFU: does not
          { metric: 'step_time', about: step * 1.05, tolerance: 0.1 },
          { metric: 'mfu', at_least: 0.99 },
          { metric: 'memory_per_gpu', at_most: '80GB' },
          { metric: 'tokens_per_s', about: (64 * 2048) / step },
        ]),
      ),
    )
    expect(audited.violations).toEqual([])
    expect(audited.claims.map((c) => c.holds)).toEqual([true, true, false, true, true])
    expect(audited.claims[1]?.computed).toBe(step)
    // (computed − claimed) / claimed: 1/1.05 − 1
    expect(audited.claims[1]?.deviation).toBeCloseTo(1 / 1.05 - 1, 12)
    expect(audited.claims[2]?.computed).toBe(e.right.mfu)
    expect(audited.passes).toBe(false)
    // the plan is one of the candidates the search ranks, so its first is at least as fast
    const first = audited.best?.best[0]
    expect(first).toBeDefined()
    expect(first?.iterationSeconds ?? Infinity).toBeLessThanOrEqual(step)
  })

  it('that break a law are not estimated, and no claim holds', async () => {
    const audited = await checkTrainingPlan(defaultCostModels)(planOf(small([{ metric: 'gpus_used', equals: 8 }], { tp: 3, dp: 2 })))
    expect(audited.violations.length).toBeGreaterThan(0)
    expect(audited.estimate).toBeNull()
    expect(audited.claims[0]).toMatchObject({ computed: null, holds: false })
    expect(audited.passes).toBe(false)
  })

  it('examples/llama-3.1-405b-training.yaml: Llama 3 405B on 8,192 H100s, every claim of the paper computed', async () => {
    const file = path.join(__dirname, '..', '..', '..', 'examples', 'llama-3.1-405b-training.yaml')
    const doc = parseDocument(fs.readFileSync(file, 'utf8'), file)
    if (E.isLeft(doc)) throw new Error(doc.left.message)
    const audited = await checkTrainingPlan(defaultCostModels)(planOf(doc.right))
    expect(audited.gpus).toBe(8192)
    // 126 layers over 16 stages: 7, then 14 of 8, then 7 (the paper's section 3.3.2)
    expect(audited.estimate?.stages.map((s) => [s.ranks.length, s.layers])).toEqual([
      [1, 7],
      [14, 8],
      [1, 7],
    ])
    expect(audited.claims.map((c) => c.claim.metric)).toEqual(['gpus_used', 'model_flops_per_gpu', 'mfu_full_attention', 'memory_per_gpu'])
    for (const c of audited.claims) expect(c.computed).not.toBeNull()
    expect(audited.claims[0]?.holds).toBe(true)
  })
})
