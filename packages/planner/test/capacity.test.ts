import * as E from 'fp-ts/Either'
import { defaultCostModels } from '@meshplan/cost-models'
import { estimateInference, planDisaggregated } from '@meshplan/inference'
import { defaultPrecision, models } from '@meshplan/model'
import { strategy } from '@meshplan/parallelism'
import { unsafeClusterOf } from '@meshplan/topology'
import { fewestGpus, fewestGpusDisaggregated, requestsPerSecondOf } from '../src'

const cluster = unsafeClusterOf('dgx-h100', 1)
const input = { model: models['llama-3.1-8b'], cluster, precision: defaultPrecision, workload: { mode: 'max_throughput' as const, inputTokens: 1024, outputTokens: 256 }, slo: { maxTpot: 0.03 } }

describe('fewestGpus', () => {
  const right = <A>(e: E.Either<unknown, A>): A => {
    if (E.isLeft(e)) throw new Error(JSON.stringify(e.left))
    return e.right
  }

  it('finds the fewest GPUs that reach the rate: a rate one GPU serves needs one GPU', () => {
    // one H100 serving Llama 3.1 8B within a 30 ms TPOT: whatever it serves, half of it is reached on one GPU
    const one = right(estimateInference(defaultCostModels)({ ...input, strategy: strategy({}), workload: { ...input.workload, maxBatch: 16 } }))
    const c = right(fewestGpus(defaultCostModels)(input, requestsPerSecondOf(one, 256) / 2))
    expect(c.found?.gpus).toBe(1)
    expect(c.served).toBeGreaterThanOrEqual(c.requestsPerSecond)
  })

  it('needs more GPUs for more requests, and none for a rate beyond the most the node serves', () => {
    const most = right(fewestGpus(defaultCostModels)(input, 1e9)).most
    expect(right(fewestGpus(defaultCostModels)(input, 1e9)).found).toBeNull()
    // just below the most the node serves: only the whole node (or close to it) reaches it
    const near = right(fewestGpus(defaultCostModels)(input, most * 0.99))
    expect(near.found?.gpus).toBeGreaterThan(1)
    expect(near.served).toBeGreaterThanOrEqual(most * 0.99)
    // requests/s is output tokens/s over the output length: by hand for the found deployment
    expect(near.served).toBeCloseTo((near.found?.tokensPerSecond.total ?? 0) / 256, 9)
  })
})

describe('fewestGpusDisaggregated', () => {
  const right = <A>(e: E.Either<unknown, A>): A => {
    if (E.isLeft(e)) throw new Error(JSON.stringify(e.left))
    return e.right
  }

  it('searches sizes 2, 4, 8 of one node smallest first and stops at the first whose search reaches the rate; no smaller size does', () => {
    const most = right(fewestGpusDisaggregated(defaultCostModels)(input, 1e9))
    expect(most.found).toBeNull()
    expect(most.sizes).toEqual([2, 4, 8])
    expect(most.served).toBe(most.most)
    // what 2 GPUs serve at best, and a little more: the answer needs more than 2
    const two = Math.max(...right(planDisaggregated(defaultCostModels)({ ...input, maxGpus: 2, top: 1000 })).top.map((c) => c.estimate.requestsPerSecond))
    const c = right(fewestGpusDisaggregated(defaultCostModels)(input, two * 1.01))
    expect(c.sizes[0]).toBe(2)
    expect(c.found?.estimate.gpus).toBeGreaterThan(2)
    expect(c.found?.estimate.gpus).toBeLessThanOrEqual(c.sizes[c.sizes.length - 1] ?? 0)
    expect(c.served).toBeGreaterThanOrEqual(two * 1.01)
    expect(c.found?.estimate.tpot).toBeLessThanOrEqual(0.03)
    // and exactly what 2 GPUs serve is found on 2
    expect(right(fewestGpusDisaggregated(defaultCostModels)(input, two)).found?.estimate.gpus).toBe(2)
  })
})
