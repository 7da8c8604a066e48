import * as E from 'fp-ts/Either'
import { defaultCostModels } from '@meshplan/cost-models'
import { defaultPrecision, models } from '@meshplan/model'
import { strategy } from '@meshplan/parallelism'
import { unsafeClusterOf } from '@meshplan/topology'
import { rightOf } from '@meshplan/test-utils'
import { estimateDisaggregated, poolLink, type DisaggregatedInput, type PoolInput } from '../src/disaggregated'
import type { InferenceWorkload } from '../src/workload'

// Llama-2-7B, one H100 per instance, 1,000-token prompts and 200-token outputs, the generic engine
const workload: InferenceWorkload = { mode: 'max_throughput', inputTokens: 1000, outputTokens: 200 }
const pool = (instances: number, extra: Partial<InferenceWorkload> = {}): PoolInput => ({
  model: models['llama-2-7b'],
  cluster: unsafeClusterOf('dgx-h100', 1),
  strategy: strategy({}),
  precision: defaultPrecision,
  workload: { ...workload, ...extra },
  instances,
})
const link = { bandwidth: 50e9, latency: 5e-6 }
const at = (prefill: number, decode: number, extra: Partial<InferenceWorkload> = {}): DisaggregatedInput => ({ prefill: pool(prefill, extra), decode: pool(decode, extra), link })

describe('a disaggregated deployment: a prefill pool and a decode pool meeting in a request rate', () => {
  it('moves a request\'s KV cache over the link: 1,000 tokens · 32 layers · 2 · 32 heads · 128 · 2 bytes = 524.3 MB at 50 GB/s, 10.49 ms', () => {
    const e = rightOf(estimateDisaggregated(defaultCostModels)(at(1, 1)))
    expect(e.transfer.bytesPerRequest).toBe(1000 * 32 * 2 * 32 * 128 * 2)
    expect(e.transfer.seconds).toBeCloseTo(5e-6 + 524288000 / 50e9, 12)
  })

  it('serves at the slower pool\'s rate: more of the limiting pool raises it in proportion, more of the other does nothing', () => {
    const one = rightOf(estimateDisaggregated(defaultCostModels)(at(1, 1)))
    // each pool's rate: instances · dp · what one pass carries / the pass
    expect(one.prefill.requestsPerSecond).toBeCloseTo(one.prefill.tokensPerPass / 1000 / one.prefill.passSeconds, 9)
    expect(one.decode.requestsPerSecond).toBeCloseTo(one.decode.batch / 200 / one.decode.passSeconds, 9)
    expect(one.requestsPerSecond).toBeCloseTo(Math.min(one.prefill.requestsPerSecond, one.decode.requestsPerSecond), 9)
    expect(one.tokensPerSecond.total).toBeCloseTo(one.requestsPerSecond * 200, 6)
    expect(one.tokensPerSecond.perGpu).toBeCloseTo(one.tokensPerSecond.total / 2, 6)
    const limiting = one.limitedBy
    const more = (n: number) => rightOf(estimateDisaggregated(defaultCostModels)(limiting === 'prefill' ? at(n, 1) : at(1, n)))
    const other = rightOf(estimateDisaggregated(defaultCostModels)(limiting === 'prefill' ? at(1, 2) : at(2, 1)))
    expect(other.requestsPerSecond).toBeCloseTo(one.requestsPerSecond, 9)
    const two = more(2)
    if (two.limitedBy === limiting) expect(two.requestsPerSecond).toBeCloseTo(2 * one.requestsPerSecond, 6)
    else expect(two.requestsPerSecond).toBeGreaterThan(one.requestsPerSecond)
  })

  it('TTFT: half a prefill pass of waiting, the pass of the prompt, the transfer and a decode pass; TPOT: a decode pass', () => {
    const e = rightOf(estimateDisaggregated(defaultCostModels)(at(1, 1)))
    // 1,000 tokens fit one pass of the budget
    expect(e.ttft).toBeCloseTo(1.5 * e.prefill.passSeconds + e.transfer.seconds + e.decode.passSeconds, 12)
    expect(e.tpot).toBeCloseTo(e.decode.passSeconds, 12)
    expect(e.requestLatency).toBeCloseTo(e.ttft + 199 * e.tpot, 9)
  })

  it('a closed loop of 16 requests in flight runs the decode pool at 16 sequences, faster per token than full', () => {
    const full = rightOf(estimateDisaggregated(defaultCostModels)(at(1, 1)))
    const sixteen = rightOf(estimateDisaggregated(defaultCostModels)(at(1, 1, { concurrency: 16 })))
    expect(sixteen.decode.batch).toBe(16)
    expect(sixteen.tpot).toBeLessThan(full.tpot)
    // Little's law: 16 in flight over the time each spends
    expect(sixteen.requestsPerSecond).toBeCloseTo(Math.min(16 / sixteen.requestLatency, full.requestsPerSecond), 9)
  })

  it('refuses a pool of no instances, and names the pool a deployment fails in', () => {
    const none = estimateDisaggregated(defaultCostModels)({ ...at(1, 1), decode: pool(0) })
    expect(E.isLeft(none) && none.left.message).toBe('pools.decode.instances: expected a whole number from 1, got 0')
    const wide = estimateDisaggregated(defaultCostModels)({ ...at(1, 1), prefill: { ...pool(1), strategy: strategy({ tp: 16 }) } })
    expect(E.isLeft(wide) && wide.left.message).toMatch(/^the prefill pool: /)
  })

  it('holds each pool\'s memory: the prefill pool the prompts of one pass, the decode pool its batch, 1,200 tokens · 524,288 bytes each', () => {
    const e = rightOf(estimateDisaggregated(defaultCostModels)(at(1, 1)))
    // the prefill pool's pass carries max(budget, prompt) tokens: whole prompts of 1,000 tokens
    expect(e.prefill.memory.sequences).toBe(Math.ceil(e.prefill.tokensPerPass / 1000))
    expect(e.decode.memory.sequences).toBe(e.decode.batch)
    // the same strategy in both pools: the same weights, workspace and reserve; the difference is KV cache,
    // 32 layers · 2 (K and V) · 32 heads · 128 · 2 bytes = 524,288 bytes per token, 1,200 tokens per sequence
    const perSequence = 1200 * 524_288
    expect(e.decode.memory.perGpu - e.prefill.memory.perGpu).toBeCloseTo((e.decode.memory.sequences - e.prefill.memory.sequences) * perSequence, 0)
    // Llama-2-7B's 6,738,415,616 parameters in 16 bits on one GPU
    expect(e.prefill.memory.weights).toBe(6_738_415_616 * 2)
    expect(e.decode.memory.capacity).toBe(80e9)
    expect(e.prefill.memory.fits && e.decode.memory.fits).toBe(true)
    expect(e.decode.maxBatch).toBeGreaterThanOrEqual(e.decode.batch)
  })
})

describe('the link between two pools', () => {
  const node = unsafeClusterOf('dgx-h100', 2)
  it('is NVLink when both pools fit one node of one cluster (4 + 4 of 8 GPUs): 450 GB/s per direction', () => {
    expect(poolLink({ cluster: node, gpus: 4 }, { cluster: node, gpus: 4 }).bandwidth).toBe(450e9)
  })
  it('is the network when they do not (8 + 8 GPUs over two nodes): 400 Gb/s = 50 GB/s per GPU', () => {
    expect(poolLink({ cluster: node, gpus: 8 }, { cluster: node, gpus: 8 }).bandwidth).toBe(50e9)
  })
  it('is the slower network of two clusters, even when each pool is small', () => {
    const other = unsafeClusterOf('dgx-a100-80gb', 1)
    const l = poolLink({ cluster: node, gpus: 1 }, { cluster: other, gpus: 1 })
    expect(l.bandwidth).toBe(25e9)
  })
})
