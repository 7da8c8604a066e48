import * as E from 'fp-ts/Either'
import { defaultCostModels } from '@meshplan/cost-models'
import { batchLadder, estimateInference, type InferenceEstimate } from '@meshplan/inference'
import { jointClaims, type Plan } from '../src'
import { exampleDocument, planOf } from './fixtures'

const reference = (): Record<string, unknown> => exampleDocument('reference-plan.yaml')

/** A dense plan on one H100 node with a throughput and a TPOT claim. */
const dense = (claims: ReadonlyArray<Record<string, unknown>>): Plan =>
  planOf({
    format: 'meshplan-plan/1',
    model: 'llama-3.1-8b',
    cluster: { system: 'dgx-h100', nodes: 1 },
    parallelism: { tp: 1, dp: 8 },
    workload: { mode: 'static', input_tokens: 1024, output_tokens: 256, batch: 8 },
    claims,
  })

/** The plan's own estimates, static, at every batch of the ladder up to the most that fit: what the joint verdict must agree with. */
const staticLadder = (plan: Plan): ReadonlyArray<InferenceEstimate> => {
  const { model, cluster, strategy, precision, workload } = plan
  const one = estimateInference(defaultCostModels)({ model, cluster, strategy, precision, workload: { ...workload, batch: 1 } })
  if (E.isLeft(one)) throw new Error(one.left.message)
  return batchLadder(one.right.memory.maxBatch).flatMap((batch) => {
    const e = estimateInference(defaultCostModels)({ model, cluster, strategy, precision, workload: { ...workload, batch } })
    return E.isRight(e) && e.right.memory.fits ? [e.right] : []
  })
}

describe('jointClaims', () => {
  it('is null without both a throughput and a latency claim', () => {
    expect(jointClaims(defaultCostModels)(dense([{ metric: 'tpot', at_most: '50ms' }]))).toBeNull()
    expect(jointClaims(defaultCostModels)(dense([{ metric: 'output_tokens_per_s', at_least: 1000 }]))).toBeNull()
  })

  it('finds the point with the most tokens/s whose TPOT meets its claim: the largest static batch under it, as the ladder shows by hand', () => {
    const plan = dense([
      { metric: 'output_tokens_per_s', at_least: 1000 },
      { metric: 'tpot', at_most: '12ms' },
    ])
    const j = jointClaims(defaultCostModels)(plan)
    expect(j?.together).toBe(true)
    // by hand over the static ladder: the most tokens/s among the batches whose TPOT is at most 12 ms
    const meeting = staticLadder(plan).filter((e) => e.tpot <= 0.012)
    const most = Math.max(...meeting.map((e) => e.tokensPerSecond.total))
    // continuous batching may beat every static batch under the same TPOT; never the other way round
    expect(j?.point?.outputTokensPerSecond).toBeGreaterThanOrEqual(most)
    expect(j?.point?.tpot).toBeLessThanOrEqual(0.012)
    expect(j?.point?.holds).toEqual({ output_tokens_per_s: true, tpot: true })
  })

  it("says the reference plan's 450,000 tokens/s and 2 ms TPOT hold at no batch, with the closest points", () => {
    const plan = planOf(reference())
    const j = jointClaims(defaultCostModels)(plan)
    expect(j?.metrics).toEqual(['output_tokens_per_s', 'tpot'])
    expect(j?.together).toBe(false)
    expect(j?.point).toBeNull()
    // no point reaches a 2 ms TPOT: the lowest it reaches is at batch 1, far above it
    expect(j?.bestThroughputMeetingLatency).toBeNull()
    expect(j?.lowestLatency?.batch).toBe(1)
    expect(j?.lowestLatency?.tpot).toBeGreaterThan(0.002)
    // the lowest TPOT among the points that serve 450,000 tokens/s: the smallest static batch that reaches it, by hand over the ladder
    const ladder = staticLadder(plan)
    const first = ladder.find((e) => e.tokensPerSecond.total >= 450_000)
    expect(j?.bestLatencyMeetingThroughput?.outputTokensPerSecond).toBeGreaterThanOrEqual(450_000)
    expect(j?.bestLatencyMeetingThroughput?.tpot).toBeLessThanOrEqual(first?.tpot ?? 0)
    expect(j?.smallest).toBeNull()
    expect(j?.smallestProblem).toBe('no deployment of 1 to 128 GPUs of this cluster makes every claim hold together')
  }, 60_000)

  it('names the smallest deployment of the cluster that makes the claims hold together when the plan as written cannot', () => {
    // TP1 replicas of an 8B model decode no faster than about 8.8 ms a token; a 6 ms TPOT needs a wider tensor-parallel group
    const plan = dense([
      { metric: 'output_tokens_per_s', at_least: 300 },
      { metric: 'tpot', at_most: '6ms' },
    ])
    const j = jointClaims(defaultCostModels)(plan)
    expect(j?.together).toBe(false)
    expect(j?.lowestLatency?.tpot).toBeGreaterThan(0.006)
    // by hand: TP2 at batch 1 is above 6 ms, TP4 below it, so no 2-GPU deployment can and a 4-GPU one can
    const at = (tp: number, batch: number) => {
      const e = estimateInference(defaultCostModels)({ ...plan, strategy: { ...plan.strategy, tp, dp: 1 }, workload: { ...plan.workload, batch } })
      if (E.isLeft(e)) throw new Error(e.left.message)
      return e.right
    }
    expect(at(2, 1).tpot).toBeGreaterThan(0.006)
    expect(at(4, 2).tpot).toBeLessThan(0.006)
    expect(at(4, 2).tokensPerSecond.total).toBeGreaterThan(300)
    expect(j?.smallest?.gpus).toBe(4)
    expect(j?.smallest?.tpot).toBeLessThanOrEqual(0.006)
    expect(j?.smallest?.outputTokensPerSecond).toBeGreaterThanOrEqual(300)
    expect(j?.smallestProblem).toBeNull()
}, 60_000)
})
