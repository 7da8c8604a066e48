import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { defaultPrecision, models, type Architecture } from '@meshplan/model'
import { countStrategies, enumerate, worldOf, type Constraints } from '@meshplan/parallelism'
import { unsafeClusterOf, type Cluster } from '@meshplan/topology'
import { estimateInference, type InferenceEstimate } from '../src/estimate'
import { prepareInference } from '../src/kernel'
import { defaultCostModels } from '@meshplan/cost-models'
import { batchLadder, paretoFront, planInference, plannedStrategies, rejectionReasons, searchLimits, type FrontPoint, type PlanInput, type PlanResult } from '../src/search'
import type { InferenceWorkload } from '../src/workload'
import { rightOf } from '@meshplan/test-utils'

// -------------------------------------------------------------------------------------
// fixtures
// -------------------------------------------------------------------------------------

const h100x16 = unsafeClusterOf('dgx-h100', 2)
const h100x8 = unsafeClusterOf('dgx-h100', 1)
const static1024: InferenceWorkload = { mode: 'static', inputTokens: 1024, outputTokens: 256 }
/** The space the search walks for inference: no sequence parallelism, no interleaving. */
const inferenceSpace: Constraints = { sequenceParallel: false, max: { virtualStages: 1 } }

const llama7b: PlanInput = { model: models['llama-2-7b'], cluster: h100x16, precision: defaultPrecision, workload: static1024 }
const plan = (input: PlanInput): PlanResult => rightOf(planInference(defaultCostModels)(input))

const totalRejected = (r: PlanResult): number => rejectionReasons.reduce((n, reason) => n + r.rejected[reason], 0)

/** `a` is at least as good as `b` on both axes and better on one. */
const dominates = (a: { perGpu: number; perUser: number }, b: { perGpu: number; perUser: number }): boolean =>
  a.perGpu >= b.perGpu && a.perUser >= b.perUser && (a.perGpu > b.perGpu || a.perUser > b.perUser)

const axes = (p: FrontPoint): { perGpu: number; perUser: number } => ({ perGpu: p.tokensPerSecondPerGpu, perUser: p.tokensPerSecondPerUser })

/** The front's laws: no point dominates another, falling tokens/s per GPU and rising per user. */
const expectFront = (front: ReadonlyArray<{ perGpu: number; perUser: number }>): void => {
  for (const a of front) for (const b of front) expect(dominates(a, b)).toBe(false)
  for (let i = 1; i < front.length; i++) {
    const previous = front[i - 1] as { perGpu: number; perUser: number }
    const current = front[i] as { perGpu: number; perUser: number }
    expect(current.perGpu).toBeLessThan(previous.perGpu)
    expect(current.perUser).toBeGreaterThan(previous.perUser)
  }
}

/** Batches the search tries for each strategy of `input` on `gpus` GPUs, counted from the parts. */
const expectedCandidates = (model: Architecture, cluster: Cluster, gpus: number, workload: InferenceWorkload): number => {
  let n = 0
  for (const s of enumerate({ model, cluster, gpus, sequenceLength: workload.inputTokens })(inferenceSpace)) {
    const c = prepareInference(defaultCostModels)({ model, cluster, strategy: s, precision: defaultPrecision, workload })
    n += E.isRight(c) && c.right.maxBatch >= 1 ? batchLadder(c.right.maxBatch).length : 1
  }
  return n
}

// -------------------------------------------------------------------------------------
// batchLadder
// -------------------------------------------------------------------------------------

describe('batchLadder: 1, 2, 4, ... below max, and max', () => {
  it('examples', () => {
    expect(batchLadder(1)).toEqual([1])
    expect(batchLadder(2)).toEqual([1, 2])
    expect(batchLadder(3)).toEqual([1, 2, 3])
    expect(batchLadder(64)).toEqual([1, 2, 4, 8, 16, 32, 64])
    expect(batchLadder(100)).toEqual([1, 2, 4, 8, 16, 32, 64, 100])
  })

  it('nothing fits: no batch', () => {
    expect(batchLadder(0)).toEqual([])
  })

  it('law: strictly rising from 1 to max, doubling but for the last step, ⌈log2 max⌉ + 1 rungs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1 << 20 }), (max) => {
        const ladder = batchLadder(max)
        expect(ladder[0]).toBe(1)
        expect(ladder[ladder.length - 1]).toBe(max)
        expect(ladder).toHaveLength(Math.ceil(Math.log2(max)) + 1)
        for (let i = 1; i < ladder.length - 1; i++) expect(ladder[i]).toBe(2 * (ladder[i - 1] as number))
        for (let i = 1; i < ladder.length; i++) expect(ladder[i] as number).toBeGreaterThan(ladder[i - 1] as number)
      }),
    )
  })
})

// -------------------------------------------------------------------------------------
// paretoFront
// -------------------------------------------------------------------------------------

describe('paretoFront: tokens/s per GPU against tokens/s per user', () => {
  const p = (name: string, perGpu: number, perUser: number) => ({ name, perGpu, perUser })
  const a = p('a', 10, 1)
  const b = p('b', 8, 5)
  const bTwin = p('b twin', 8, 5) // the same figures as b
  const c = p('c', 8, 3) // b: same per GPU, more per user
  const d = p('d', 5, 5) // b: more per GPU, same per user
  const e = p('e', 2, 9)
  const f = p('f', 1, 2) // below b, d, e
  const g = p('g', 9, 0.5) // a: more of both

  it('keeps the undominated points, by falling tokens/s per GPU', () => {
    expect(paretoFront([f, e, d, c, b, a, g]).map((x) => x.name)).toEqual(['a', 'b', 'e'])
  })

  it('drops a point equalled on one axis and beaten on the other', () => {
    expect(paretoFront([b, c]).map((x) => x.name)).toEqual(['b'])
    expect(paretoFront([d, b]).map((x) => x.name)).toEqual(['b'])
  })

  it('keeps one of two identical points, the first given', () => {
    expect(paretoFront([b, bTwin, a]).map((x) => x.name)).toEqual(['a', 'b'])
    expect(paretoFront([bTwin, b]).map((x) => x.name)).toEqual(['b twin'])
  })

  it('edge cases: empty, one point, and a front that is the whole input', () => {
    expect(paretoFront([])).toEqual([])
    expect(paretoFront([f])).toEqual([f])
    expect(paretoFront([e, b, a]).map((x) => x.name)).toEqual(['a', 'b', 'e'])
  })

  it('does not reorder its input', () => {
    const input = [f, e, d]
    paretoFront(input)
    expect(input).toEqual([f, e, d])
  })

  it('law: a subset of the input, no point dominates another, and every dropped point is dominated or equalled by a kept one', () => {
    const point = fc.record({ perGpu: fc.integer({ min: 0, max: 20 }), perUser: fc.integer({ min: 0, max: 20 }) })
    fc.assert(
      fc.property(fc.array(point, { maxLength: 40 }), (points) => {
        const front = paretoFront(points)
        for (const x of front) expect(points).toContain(x)
        expectFront(front)
        for (const x of points) {
          if (front.includes(x)) continue
          expect(front.some((y) => dominates(y, x) || (y.perGpu === x.perGpu && y.perUser === x.perUser))).toBe(true)
        }
      }),
    )
  })
})

// -------------------------------------------------------------------------------------
// planInference
// -------------------------------------------------------------------------------------

describe('planInference: Llama-2-7B on two DGX H100 (16 GPUs), static 1024 + 256', () => {
  const r = plan(llama7b)

  it('searches the whole cluster, every valid inference strategy once', () => {
    expect(r.gpuCounts).toEqual([16])
    expect(r.strategies).toBe(countStrategies({ model: models['llama-2-7b'], cluster: h100x16, gpus: 16, sequenceLength: 1024 })(inferenceSpace))
    expect(r.strategies).toBeGreaterThan(0)
  })

  it('every candidate is feasible or rejected for one reason: candidates = feasible + Σ rejected', () => {
    expect(r.candidates).toBe(r.feasible + totalRejected(r))
    // every strategy is tried at each batch of its ladder up to the most that fit
    expect(r.candidates).toBe(expectedCandidates(models['llama-2-7b'], h100x16, 16, static1024))
  })

  it('a small model on a large cluster replicates: the best deployment is replicas of at most 2 GPUs', () => {
    const best = r.top[0] as InferenceEstimate
    expect(best.gpus).toBe(16)
    expect(best.strategy.dp).toBeGreaterThanOrEqual(8)
    expect(best.strategy.tp * best.strategy.pp * best.strategy.cp).toBeLessThanOrEqual(2)
  })

  it('each replica runs at the most sequences that fit, worked out by hand: DP16 at 87, TP2 DP8 at 194', () => {
    // one GPU: (80e9 − 13,476,831,232 weights − 77,460,480 workspace − 8e9 reserve) / 524,288 B per token
    //   = 111,476 tokens; / 1280 = 87 sequences
    // TP2: (80e9 − 6,738,681,856 − 49,216,000 − 8e9) / 262,144 = 248,764 tokens; / 1280 = 194 sequences
    const dp16 = r.top.find((e) => e.description === 'DP16')
    const tp2dp8 = r.top.find((e) => e.description === 'TP2 DP8')
    expect(dp16?.batch).toBe(87)
    expect(tp2dp8?.batch).toBe(194)
  })

  it('ranks by tokens/s per GPU, and the best is the first point of the Pareto front', () => {
    for (let i = 1; i < r.top.length; i++) {
      expect((r.top[i] as InferenceEstimate).tokensPerSecond.perGpu).toBeLessThanOrEqual((r.top[i - 1] as InferenceEstimate).tokensPerSecond.perGpu)
    }
    expect(r.top).toHaveLength(5)
    const best = r.top[0] as InferenceEstimate
    expect(r.pareto[0]?.tokensPerSecondPerGpu).toBe(best.tokensPerSecond.perGpu)
    for (const p of r.pareto) expect(p.tokensPerSecondPerGpu).toBeLessThanOrEqual(best.tokensPerSecond.perGpu)
  })

  it('reports one entry per strategy, each the estimate of that strategy at that batch', () => {
    expect(new Set(r.top.map((e) => e.description)).size).toBe(r.top.length)
    for (const e of r.top) {
      const again = estimateInference(defaultCostModels)({
        model: models['llama-2-7b'],
        cluster: h100x16,
        strategy: e.strategy,
        precision: defaultPrecision,
        workload: { ...static1024, batch: e.batch },
      })
      expect(E.isRight(again) && again.right.tokensPerSecond.perGpu).toBe(e.tokensPerSecond.perGpu)
      expect(e.memory.fits).toBe(true)
    }
  })

  it('the Pareto front: no point dominates another, each fits', () => {
    expect(r.pareto.length).toBeGreaterThan(1)
    expectFront(r.pareto.map(axes))
    for (const p of r.pareto) {
      expect(worldOf(p.strategy)).toBe(16)
      expect(p.batch).toBeGreaterThanOrEqual(1)
      expect(p.tokensPerSecondPerUser * p.tpot).toBeCloseTo(1, 12)
    }
  })

  it('top asks for fewer entries', () => {
    expect(plan({ ...llama7b, top: 2 }).top.map((e) => e.description)).toEqual(r.top.slice(0, 2).map((e) => e.description))
  })
})

describe('planInference: service-level objectives', () => {
  it('a TPOT of 1 µs: nothing is feasible, every candidate is rejected for TPOT', () => {
    const r = plan({ ...llama7b, slo: { maxTpot: 1e-6 } })
    expect(r.feasible).toBe(0)
    expect(r.rejected.tpot).toBeGreaterThan(0)
    expect(r.rejected.tpot).toBe(r.candidates)
    expect(r.top).toEqual([])
    expect(r.pareto).toEqual([])
  })

  it('maxTpot 10 ms: some rejected, every kept point meets it', () => {
    const r = plan({ ...llama7b, slo: { maxTpot: 0.01 } })
    expect(r.rejected.tpot).toBeGreaterThan(0)
    expect(r.feasible).toBeGreaterThan(0)
    expect(r.candidates).toBe(r.feasible + totalRejected(r))
    for (const e of r.top) expect(e.tpot).toBeLessThanOrEqual(0.01)
    for (const p of r.pareto) expect(p.tpot).toBeLessThanOrEqual(0.01)
    expectFront(r.pareto.map(axes))
  })

  it('maxTtft 50 ms and minTokensPerUser 200: every kept point meets them', () => {
    const ttft = plan({ ...llama7b, slo: { maxTtft: 0.05 } })
    expect(ttft.rejected.ttft).toBeGreaterThan(0)
    for (const p of ttft.pareto) expect(p.ttft).toBeLessThanOrEqual(0.05)
    for (const e of ttft.top) expect(e.ttft).toBeLessThanOrEqual(0.05)
    const user = plan({ ...llama7b, slo: { minTokensPerUser: 200 } })
    expect(user.rejected['tokens-per-user']).toBeGreaterThan(0)
    for (const p of user.pareto) expect(p.tokensPerSecondPerUser).toBeGreaterThanOrEqual(200)
    for (const e of user.top) expect(e.tokensPerSecond.perUser).toBeGreaterThanOrEqual(200)
  })

  it('memoryHeadroom 0.5: nothing kept uses more than half of the 80 GB', () => {
    const r = plan({ ...llama7b, slo: { memoryHeadroom: 0.5 } })
    expect(r.rejected['memory-headroom']).toBeGreaterThan(0)
    expect(r.top.length).toBeGreaterThan(0)
    for (const e of r.top) expect(e.memory.perGpu).toBeLessThanOrEqual(40e9)
  })

  it('memoryHeadroom 0.9 leaves 8 GB, less than the 10% reserve alone: nothing is kept', () => {
    const r = plan({ ...llama7b, slo: { memoryHeadroom: 0.9 } })
    expect(r.feasible).toBe(0)
    expect(r.rejected['memory-headroom']).toBe(r.candidates)
  })
})

describe('planInference: deployment sizes and batches', () => {
  it('maxGpus 8 searches every divisor of 8: 1, 2, 4, 8 GPUs', () => {
    const r = plan({ ...llama7b, maxGpus: 8 })
    expect(r.gpuCounts).toEqual([1, 2, 4, 8])
    const count = (gpus: number) => countStrategies({ model: models['llama-2-7b'], cluster: h100x16, gpus, sequenceLength: 1024 })(inferenceSpace)
    expect(r.strategies).toBe(count(1) + count(2) + count(4) + count(8))
    expect(r.candidates).toBe(r.feasible + totalRejected(r))
    for (const e of r.top) expect(e.gpus).toBeLessThanOrEqual(8)
  })

  it('maxGpus above the cluster is capped at the cluster: 32 on 8 GPUs searches 1, 2, 4, 8', () => {
    expect(plan({ ...llama7b, cluster: h100x8, maxGpus: 32 }).gpuCounts).toEqual([1, 2, 4, 8])
  })

  it('a deployment that cannot hold the weights is rejected as does-not-fit: Llama-2-70B on 1 GPU', () => {
    // 68,976,648,192 parameters x 2 B = 137,953,296,384 B of weights > 80e9
    const r = plan({ model: models['llama-2-70b'], cluster: h100x8, precision: defaultPrecision, workload: static1024, maxGpus: 8 })
    expect(r.rejected['does-not-fit']).toBeGreaterThanOrEqual(1)
    expect(r.candidates).toBe(r.feasible + totalRejected(r))
    expect(r.candidates).toBe(
      [1, 2, 4, 8].reduce((n, gpus) => n + expectedCandidates(models['llama-2-70b'], h100x8, gpus, static1024), 0),
    )
    for (const e of r.top) expect(e.gpus).toBeGreaterThan(1)
  })

  it('a given batch is the only batch tried: one candidate per strategy', () => {
    const r = plan({ ...llama7b, workload: { ...static1024, batch: 8 } })
    expect(r.candidates).toBe(r.strategies)
    for (const e of r.top) expect(e.batch).toBe(8)
  })

  it('latency mode tries batch 1 only', () => {
    const r = plan({ ...llama7b, workload: { mode: 'latency', inputTokens: 1024, outputTokens: 256 } })
    expect(r.candidates).toBe(r.strategies)
    for (const e of r.top) expect(e.batch).toBe(1)
    for (const p of r.pareto) expect(p.batch).toBe(1)
  })
})

// -------------------------------------------------------------------------------------
// what the ranking orders by
// -------------------------------------------------------------------------------------

describe('planInference ranks by what the mode asks', () => {
  it('static and max_throughput: by output tokens/s per GPU, falling', () => {
    const r = plan({ ...llama7b, cluster: h100x8 })
    expect(r.rankedBy).toBe('tokens_per_second_per_gpu')
    for (let i = 1; i < r.top.length; i++) expect((r.top[i] as InferenceEstimate).tokensPerSecond.perGpu).toBeLessThanOrEqual((r.top[i - 1] as InferenceEstimate).tokensPerSecond.perGpu)
  })

  it('latency: by request latency, rising, so the first row is the fastest deployment for one request', () => {
    const r = plan({ ...llama7b, cluster: h100x8, workload: { mode: 'latency', inputTokens: 1024, outputTokens: 256 }, top: 50 })
    expect(r.rankedBy).toBe('request_latency')
    expect(r.top.length).toBeGreaterThan(1)
    for (let i = 1; i < r.top.length; i++) expect((r.top[i] as InferenceEstimate).requestLatency).toBeGreaterThanOrEqual((r.top[i - 1] as InferenceEstimate).requestLatency)
    // the fastest single request uses the whole node: TP8 (weights read 8 ways at once), not a DP8 replica of one GPU
    const first = r.top[0] as InferenceEstimate
    const dp8 = r.top.find((e) => e.strategy.dp === 8)
    expect(first.strategy.tp).toBe(8)
    expect(dp8 === undefined || dp8.requestLatency > first.requestLatency).toBe(true)
  })
})

// -------------------------------------------------------------------------------------
// bounded work
// -------------------------------------------------------------------------------------

describe('planInference: the work is counted before it starts', () => {
  it('counts the strategies it would evaluate, as the search does', () => {
    const r = plan({ ...llama7b, cluster: h100x8 })
    expect(plannedStrategies({ ...llama7b, cluster: h100x8 }).strategies).toBe(r.strategies)
  })

  it('refuses a space beyond the limit before evaluating any, naming the limit and how to narrow it', () => {
    // DeepSeek-V3 on 8 nodes, every deployment size up to 64 GPUs: many strategies per size
    const input: PlanInput = { model: models['deepseek-v3'], cluster: unsafeClusterOf('dgx-h100', 8), precision: defaultPrecision, workload: static1024, maxGpus: 64 }
    const counted = plannedStrategies(input, 10)
    expect(counted.strategies).toBe(11) // the count stops one past the limit asked
    const planned = plannedStrategies(input).strategies
    // with a lower limit the same input is refused
    const lower = Math.max(1, planned - 1)
    expect(plannedStrategies(input, lower).strategies).toBe(lower + 1)
    expect(searchLimits.strategies).toBe(20_000)
  })

  it('refuses a million-GPU search of every deployment size: more than 20,000 strategies', () => {
    const input: PlanInput = { model: models['deepseek-v3'], cluster: unsafeClusterOf('dgx-h100', 131072), precision: defaultPrecision, workload: static1024, maxGpus: 1048576 }
    const r = planInference(defaultCostModels)(input)
    expect(E.isLeft(r) && r.left.code).toBe('too-large')
    expect(E.isLeft(r) && r.left.message).toContain('more than 20,000 strategies')
    expect(E.isLeft(r) && r.left.message).toContain('fix a degree')
  })
})
