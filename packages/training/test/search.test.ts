import { availableParallelism } from 'node:os'
import * as E from 'fp-ts/Either'
import type { ZeroStage } from '@meshplan/memory'
import { defaultPrecision, models, type Architecture } from '@meshplan/model'
import { countStrategies, defaultOrder, describe as describeStrategy, divisors, enumerate, strategy, type Strategy } from '@meshplan/parallelism'
import { unsafeClusterOf, type Cluster } from '@meshplan/topology'
import type { EstimateError } from '@meshplan/cost-models'
import { estimateTraining, type TrainingEstimate } from '../src/estimate'
import { defaultCostModels } from '@meshplan/cost-models'
import { foldEquivalents, planTraining, plannedCandidates, rankOrders, searchTrainingSlice, trainingSearchLimits, type TrainingCandidate, type TrainingPlan, type TrainingSearchInput, type TrainingSpace } from '../src/search'
import { offloadKindsOf, recomputeModes, scheduleFits, schedules, zeroStages, type RecomputeMode, type Schedule, type TrainingWorkload } from '../src/workload'
import { expectClose, leftOf, rightOf } from '@meshplan/test-utils'

// The worker threads run packages/planner/dist/train-worker.js: build the planner (npx tsc -p tsconfig.build.json) before these tests.

// -------------------------------------------------------------------------------------
// fixtures
// -------------------------------------------------------------------------------------

const h100x8 = unsafeClusterOf('dgx-h100', 1)
const h100x16 = unsafeClusterOf('dgx-h100', 2)
const llama7b = models['llama-2-7b']

const search = async (input: TrainingSearchInput, space: TrainingSpace = {}, options: { top?: number; workers?: number } = {}): Promise<TrainingPlan> =>
  rightOf(await planTraining(defaultCostModels)(input, space, options))

const inputOf = (model: Architecture, cluster: Cluster, globalBatch: number, sequenceLength = 2048): TrainingSearchInput => ({
  model,
  cluster,
  precision: defaultPrecision,
  globalBatch,
  sequenceLength,
})

/** What identifies a candidate and what it is ranked by. */
const summary = (c: TrainingCandidate): { description: string; strategy: Strategy; workload: TrainingWorkload; iterationSeconds: number } => ({
  description: c.description,
  strategy: c.strategy,
  workload: c.workload,
  iterationSeconds: c.iterationSeconds,
})

/** TP communication overlap a candidate of `s` is tried with: on as well as off with sequence parallelism. */
const overlapsOf = (s: Strategy): ReadonlyArray<boolean> => (s.sequenceParallel ? [false, true] : [false])

/** The schedules a candidate of `s` with `m` micro-batches is tried with: those that apply, 1F1B alone when interleaving cannot run. */
const schedulesFor = (s: Strategy, m: number): ReadonlyArray<Schedule> =>
  s.virtualStages > 1 && m % s.pp !== 0 ? ['1f1b'] : schedules.filter((schedule) => scheduleFits(schedule, s, m) === undefined)

/** The candidates the space holds, counted from its parts: per strategy whose dp divides the batch, micro-batch sizes × schedules that apply × modes × stages × rank orders (one, or every distinct one). */
const expectedCandidates = (input: TrainingSearchInput, recompute: number, zero: number, allOrders = false): { strategies: number; candidates: number; batch: number } => {
  let strategies = 0
  let candidates = 0
  let batch = 0
  for (const s of enumerate({ model: input.model, cluster: input.cluster, sequenceLength: input.sequenceLength })()) {
    strategies++
    if (input.globalBatch % s.dp !== 0) batch++
    else {
      const orders = allOrders ? rankOrders(s, input.model.moe !== undefined).length : 1
      for (const mb of divisors(input.globalBatch / s.dp)) candidates += schedulesFor(s, input.globalBatch / s.dp / mb).length * overlapsOf(s).length * recompute * zero * orders
    }
  }
  return { strategies, candidates, batch }
}

const counts = (p: TrainingPlan) => ({ gpus: p.gpus, strategies: p.strategies, candidates: p.candidates, fit: p.fit, rejected: p.rejected })

// -------------------------------------------------------------------------------------
// exhaustiveness: the search against a brute-force loop over estimateTraining
// -------------------------------------------------------------------------------------

/** A candidate that fits, kept in enumeration order. */
interface Row {
  readonly estimate: TrainingEstimate
}

interface BruteForce {
  readonly ranked: ReadonlyArray<Row>
  readonly candidates: number
  readonly memory: number
  readonly interleaving: number
  readonly unexpected: ReadonlyArray<EstimateError>
}

/** Every (strategy, micro-batch dividing the per-replica batch, recomputation, ZeRO stage) through the public estimate, ranked. */
const bruteForce = (input: TrainingSearchInput, recomputes: ReadonlyArray<RecomputeMode>, zeros: ReadonlyArray<ZeroStage>): BruteForce => {
  const rows: Row[] = []
  const unexpected: EstimateError[] = []
  let candidates = 0
  let memory = 0
  let interleaving = 0
  for (const s of enumerate({ model: input.model, cluster: input.cluster, sequenceLength: input.sequenceLength })()) {
    if (input.globalBatch % s.dp !== 0) continue
    for (const microBatch of divisors(input.globalBatch / s.dp)) {
      for (const recompute of recomputes) {
        for (const zeroStage of zeros) {
          for (const [schedule, overlap] of schedulesFor(s, input.globalBatch / s.dp / microBatch).flatMap((h) => overlapsOf(s).map((o) => [h, o] as const))) {
            candidates++
            const workload: TrainingWorkload = {
              globalBatch: input.globalBatch,
              microBatch,
              sequenceLength: input.sequenceLength,
              recompute,
              zeroStage,
              ...(schedule === '1f1b' ? {} : { schedule }),
              ...(overlap ? { tpCommOverlap: true } : {}),
            }
            const estimate = (w: TrainingWorkload) => estimateTraining(defaultCostModels)({ model: input.model, cluster: input.cluster, precision: input.precision, strategy: s, workload: w })
            let r = estimate(workload)
            // where it does not fit and the cluster has host memory: the fastest offload that fits, first of equals in the search's order
            if (E.isRight(r) && !r.right.memory.fits && input.cluster.host !== undefined) {
              for (const bits of [1, 2, 4, 3, 5, 6, 7]) {
                const o = estimate({ ...workload, offload: offloadKindsOf(bits) })
                if (E.isRight(o) && o.right.memory.fits && (E.isLeft(r) || !r.right.memory.fits || o.right.iterationSeconds < r.right.iterationSeconds)) r = o
              }
            }
            if (E.isLeft(r)) {
              // the only thing the enumeration lets through: interleaving without whole micro-batches per pipeline rank
              if (r.left.code === 'invalid-workload' && r.left.message.includes('interleaved schedule')) interleaving++
              else unexpected.push(r.left)
            } else if (!r.right.memory.fits) memory++
            else rows.push({ estimate: r.right })
          }
        }
      }
    }
  }
  // shortest iteration first, ties in enumeration order (Array.prototype.sort is stable)
  const ranked = [...rows].sort((a, b) => a.estimate.iterationSeconds - b.estimate.iterationSeconds)
  return { ranked, candidates, memory, interleaving, unexpected }
}

const againstBruteForce = (name: string, input: TrainingSearchInput, recomputes: ReadonlyArray<RecomputeMode>, zeros: ReadonlyArray<ZeroStage>): void => {
  const top = 10

  describe(`planTraining: ${name}, against brute force`, () => {
    let brute: BruteForce
    let plan: TrainingPlan
    beforeAll(async () => {
      brute = bruteForce(input, recomputes, zeros)
      // one rank order here (Megatron-LM's): the brute force cannot tell orders that place every group alike
      plan = await search(input, { recompute: recomputes, zeroStages: zeros, orders: [defaultOrder] }, { top, workers: 1 })
    })

    it('the brute force meets no error but interleaving, and more than ten candidates fit', () => {
      expect(brute.unexpected).toEqual([])
      expect(brute.ranked.length).toBeGreaterThan(top)
    })

    it('finds the brute-force minimum iteration', () => {
      const best = plan.best[0]
      const minimum = brute.ranked[0]
      if (best === undefined || minimum === undefined) throw new Error('something fits')
      expect(best.iterationSeconds).toBe(Math.min(...brute.ranked.map((r) => r.estimate.iterationSeconds)))
      expect(best.description).toBe(minimum.estimate.description)
      expect(best.workload).toEqual(minimum.estimate.workload)
    })

    it('keeps the ten best of the brute force, in its order (ties in enumeration order), equivalent ones folded the same way', () => {
      // the brute force's ranking as candidates, folded by foldEquivalents: the search must give exactly that
      const asCandidates: ReadonlyArray<TrainingCandidate> = brute.ranked.map(({ estimate: e }) => ({
        strategy: e.strategy,
        workload: e.workload,
        description: e.description,
        iterationSeconds: e.iterationSeconds,
        tokensPerSecondPerGpu: e.tokensPerSecondPerGpu,
        modelFlopsPerGpu: e.modelFlopsPerGpu,
        mfu: e.mfu,
        memoryPerGpu: e.memory.peak,
        hostMemoryPerGpu: e.memory.host,
        microBatches: e.microBatches,
        breakdown: e.breakdown,
      }))
      const expected = foldEquivalents(asCandidates, top)
      expect(plan.best.map(summary)).toEqual(expected.map(summary))
      expect(plan.best.map((c) => c.equivalents?.map((q) => q.description))).toEqual(expected.map((c) => c.equivalents?.map((q) => q.description)))
    })

    it('counts what it rejects as the estimates do: the same candidates, the same fit, the same memory and interleaving rejections', () => {
      expect(plan.candidates).toBe(brute.candidates)
      expect(plan.fit).toBe(brute.ranked.length)
      expect(plan.rejected.memory).toBe(brute.memory)
      expect(plan.rejected.interleaving).toBe(brute.interleaving)
      expect(plan.rejected.batch).toBe(0)
    })

    it('candidates = fit + memory + interleaving rejections, and both equal the count from the parts', () => {
      const parts = expectedCandidates(input, recomputes.length, zeros.length)
      expect(plan.strategies).toBe(parts.strategies)
      expect(plan.strategies).toBe(countStrategies({ model: input.model, cluster: input.cluster, sequenceLength: input.sequenceLength })())
      expect(plan.candidates).toBe(parts.candidates)
      expect(plan.candidates).toBe(plan.fit + plan.rejected.memory + plan.rejected.interleaving)
      expect(plan.rejected.placement).toBe(0)
      expect(plan.workers).toBe(1)
    })

    it('ranks best first', () => {
      for (let i = 1; i < plan.best.length; i++) {
        expect((plan.best[i] as TrainingCandidate).iterationSeconds).toBeGreaterThanOrEqual((plan.best[i - 1] as TrainingCandidate).iterationSeconds)
      }
    })
  })
}

againstBruteForce('Llama-2-7B on one DGX H100, 16 sequences of 2048 tokens, the whole space', inputOf(llama7b, h100x8, 16), recomputeModes, zeroStages)
// an MoE model exercises the expert groups and the constants shared by strategies of the same shard shape; a narrowed space keeps it fast
againstBruteForce('the reference MoE (16 layers, 64 experts) on one DGX H100, 8 sequences of 4096 tokens, selective and full, ZeRO 0 and 3', inputOf(models['reference-moe'], h100x8, 8, 4096), ['selective', 'full'], [0, 3])

describe('planTraining: Llama-2-7B on one DGX H100, 16 sequences of 2048 tokens, the candidates kept', () => {
  const input = inputOf(llama7b, h100x8, 16)
  let plan: TrainingPlan
  beforeAll(async () => {
    plan = await search(input, {}, { top: 10, workers: 1 })
  })

  it('the whole cluster and ten candidates', () => {
    expect(plan.gpus).toBe(8)
    expect(plan.best).toHaveLength(10)
  })

  it('each candidate kept is its estimate: figures, memory and breakdown', () => {
    for (const c of plan.best) {
      const e = rightOf(estimateTraining(defaultCostModels)({ model: input.model, cluster: input.cluster, precision: input.precision, strategy: c.strategy, workload: c.workload }))
      expect(c.description).toBe(describeStrategy(c.strategy))
      expect(c.iterationSeconds).toBe(e.iterationSeconds)
      expect(c.mfu).toBe(e.mfu)
      expect(c.tokensPerSecondPerGpu).toBe(e.tokensPerSecondPerGpu)
      expect(c.modelFlopsPerGpu).toBe(e.modelFlopsPerGpu)
      expect(c.microBatches).toBe(e.microBatches)
      expect(c.breakdown).toEqual(e.breakdown)
      expectClose(c.memoryPerGpu, e.memory.peak)
      expect(c.memoryPerGpu).toBeLessThanOrEqual(h100x8.device.memory)
    }
  })

  it('top 3 is the head of top 10', async () => {
    const three = await search(input, {}, { top: 3, workers: 1 })
    expect(three.best).toHaveLength(3)
    expect(three.best.map(summary)).toEqual(plan.best.slice(0, 3).map(summary))
    expect(counts(three)).toEqual(counts(plan))
  })
})

// -------------------------------------------------------------------------------------
// worker threads
// -------------------------------------------------------------------------------------

describe('planTraining: one thread or several, the same answer', () => {
  const input = inputOf(llama7b, h100x16, 32)

  it('Llama-2-7B on 16 GPUs, 32 sequences: workers 1 and 2 give the same best list and counts', async () => {
    const one = await search(input, {}, { workers: 1 })
    const two = await search(input, {}, { workers: 2 })
    expect(one.workers).toBe(1)
    expect(two.workers).toBe(2)
    expect(one.best.length).toBe(10)
    expect(two.best.map(summary)).toEqual(one.best.map(summary))
    expect(two.best).toEqual(one.best)
    expect(counts(two)).toEqual(counts(one))
  }, 60_000)

  it('three workers asked (at most the cores are started), and a narrowed space, agree too', async () => {
    const space: TrainingSpace = { recompute: ['selective', 'full'], zeroStages: [1, 3], max: { tp: 4 } }
    const one = await search(input, space, { workers: 1, top: 5 })
    const three = await search(input, space, { workers: 3, top: 5 })
    expect(three.workers).toBe(Math.min(3, availableParallelism()))
    expect(three.best.map(summary)).toEqual(one.best.map(summary))
    expect(counts(three)).toEqual(counts(one))
  }, 60_000)

  it('slices of the strategies add up to the whole: counts sum, and the best of the whole is the best of the slices', () => {
    const whole = rightOf(searchTrainingSlice(defaultCostModels, input, {}, { index: 0, of: 1 }, 5))
    const slices = [0, 1, 2].map((index) => rightOf(searchTrainingSlice(defaultCostModels, input, {}, { index, of: 3 }, 5)))
    const sum = (f: (r: typeof whole) => number): number => slices.reduce((a, r) => a + f(r), 0)
    expect(sum((r) => r.strategies)).toBe(whole.strategies)
    expect(sum((r) => r.candidates)).toBe(whole.candidates)
    expect(sum((r) => r.fit)).toBe(whole.fit)
    expect(sum((r) => r.rejected.memory)).toBe(whole.rejected.memory)
    expect(sum((r) => r.rejected.interleaving)).toBe(whole.rejected.interleaving)
    expect(sum((r) => r.rejected.placement)).toBe(whole.rejected.placement)
    const bestOfSlices = Math.min(...slices.flatMap((r) => r.best.map((b) => b.candidate.iterationSeconds)))
    expect(whole.best[0]?.candidate.iterationSeconds).toBe(bestOfSlices)
    // each slice took the strategies index, index + 3, ...: the first entry of a ranked order is the strategy's index
    slices.forEach((r, index) => {
      for (const b of r.best) expect((b.order[0] ?? -1) % 3).toBe(index)
    })
  })

  it('models other than the default run on the calling thread, with the same answer', async () => {
    const mine = { ...defaultCostModels }
    const plan = rightOf(await planTraining(mine)(input, {}, { workers: 2, top: 5 }))
    const one = await search(input, {}, { workers: 1, top: 5 })
    expect(plan.workers).toBe(1)
    expect(plan.best.map(summary)).toEqual(one.best.map(summary))
  })
})

// -------------------------------------------------------------------------------------
// counts and narrowings
// -------------------------------------------------------------------------------------

describe('planTraining: counts and the space', () => {
  it('GPT-3 175B on 8 GPUs fits nowhere: fit 0, an empty best list, every candidate rejected for memory or interleaving', async () => {
    const input = inputOf(models['gpt3-175b'], h100x8, 8)
    const plan = await search(input)
    const parts = expectedCandidates(input, 3, 4, true)
    expect(plan.fit).toBe(0)
    expect(plan.best).toEqual([])
    expect(plan.strategies).toBe(parts.strategies)
    expect(plan.candidates).toBe(parts.candidates)
    expect(plan.candidates).toBeGreaterThan(0)
    expect(plan.rejected.memory + plan.rejected.interleaving + plan.rejected.placement).toBe(plan.candidates)
  })

  it('strategies whose dp does not divide the global batch are counted once each, as batch rejections', async () => {
    // 12 sequences: dp = 8 does not divide 12; dp = 1, 2 and 4 do
    const input = inputOf(llama7b, h100x8, 12)
    const plan = await search(input)
    const parts = expectedCandidates(input, 3, 4, true)
    const dp8 = Array.from(enumerate({ model: llama7b, cluster: h100x8, sequenceLength: 2048 })()).filter((s) => s.dp === 8).length
    expect(dp8).toBeGreaterThan(0)
    expect(plan.rejected.batch).toBe(dp8)
    expect(plan.rejected.batch).toBe(parts.batch)
    expect(plan.strategies).toBe(parts.strategies)
    expect(plan.candidates).toBe(parts.candidates)
    expect(plan.candidates).toBe(plan.fit + plan.rejected.memory + plan.rejected.interleaving + plan.rejected.placement)
    for (const c of plan.best) expect(12 % c.strategy.dp).toBe(0)
  })

  it('a narrowed space: micro-batches of 1, full recomputation and ZeRO 3 only; 1 × 1 × 1 candidate per strategy', async () => {
    const input = inputOf(llama7b, h100x8, 16)
    const space: TrainingSpace = { microBatches: [1], recompute: ['full'] as ReadonlyArray<RecomputeMode>, zeroStages: [3] as ReadonlyArray<ZeroStage> }
    const plan = await search(input, space)
    // micro-batches of 1: 16 per replica at most, an even number, so every schedule applies where the strategy allows it
    expect(plan.candidates).toBe(
      Array.from(enumerate({ model: llama7b, cluster: h100x8, sequenceLength: 2048 })()).reduce(
        (n, s) => n + (16 % s.dp === 0 ? schedulesFor(s, 16 / s.dp).length * overlapsOf(s).length * rankOrders(s, false).length : 0),
        0,
      ),
    )
    expect(plan.candidates).toBe(plan.fit + plan.rejected.memory + plan.rejected.interleaving + plan.rejected.placement)
    expect(plan.best.length).toBeGreaterThan(0)
    for (const c of plan.best) expect(c.workload).toMatchObject({ microBatch: 1, recompute: 'full', zeroStage: 3, globalBatch: 16, sequenceLength: 2048 })
  })

  it('the GPUs to use: 8 of the 16, the strategies of 8 GPUs', async () => {
    const plan = await search({ ...inputOf(llama7b, h100x16, 16), gpus: 8 })
    expect(plan.gpus).toBe(8)
    expect(plan.strategies).toBe(countStrategies({ model: llama7b, cluster: h100x16, gpus: 8, sequenceLength: 2048 })())
    for (const c of plan.best) expect(c.strategy.tp * c.strategy.pp * c.strategy.dp * c.strategy.cp).toBe(8)
  })
})

// -------------------------------------------------------------------------------------
// bad input
// -------------------------------------------------------------------------------------

describe('planTraining: bad input', () => {
  const bad = async (input: TrainingSearchInput, options: { workers?: number } = {}): Promise<EstimateError> =>
    leftOf(await planTraining(defaultCostModels)(input, {}, options))

  for (const globalBatch of [0, -4, 1.5]) {
    it(`a global batch of ${globalBatch}: invalid-workload naming workload.global_batch`, async () => {
      const e = await bad(inputOf(llama7b, h100x8, globalBatch))
      expect(e.code).toBe('invalid-workload')
      expect(e.message).toBe(`workload.global_batch: expected a positive integer, got ${globalBatch}`)
    })
  }

  it('a global batch of 0 with two workers: the same error', async () => {
    const e = await bad(inputOf(llama7b, h100x16, 0), { workers: 2 })
    expect(e.code).toBe('invalid-workload')
    expect(e.message).toContain('workload.global_batch')
  }, 60_000)

  it('a sequence length of 0: invalid-workload naming workload.seq_len', async () => {
    const e = await bad(inputOf(llama7b, h100x8, 16, 0))
    expect(e.code).toBe('invalid-workload')
    expect(e.message).toMatch(/^workload\.seq_len:/)
  })

  for (const gpus of [0, 9, 2.5]) {
    it(`${gpus} GPUs of a cluster of 8: invalid-workload naming gpus`, async () => {
      const e = await bad({ ...inputOf(llama7b, h100x8, 16), gpus })
      expect(e.code).toBe('invalid-workload')
      expect(e.message).toBe(`gpus: expected 1 to 8 (the cluster's GPUs), got ${gpus}`)
    })
  }
})

describe('foldEquivalents: the same plan up to a symmetry, shown once', () => {
  const candidate = (degrees: Partial<Strategy>, microBatch: number, iterationSeconds: number, memoryPerGpu = 60e9): TrainingCandidate => {
    const s = { tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, sequenceParallel: false, virtualStages: 1, ...degrees }
    return {
      strategy: s,
      workload: { globalBatch: 1536, microBatch, sequenceLength: 2048, recompute: 'none', zeroStage: 3 },
      description: describeStrategy(s),
      iterationSeconds,
      tokensPerSecondPerGpu: (1536 * 2048) / iterationSeconds / 1024,
      modelFlopsPerGpu: 2e14,
      mfu: 0.6,
      memoryPerGpu,
      hostMemoryPerGpu: 0,
      microBatches: 1,
      breakdown: { compute: iterationSeconds, contention: 0, bubble: 0, exposed: { tp: 0, cp: 0, ep: 0, pp: 0, dp: 0 }, offload: 0, optimizer: 0 },
    }
  }

  it('folds CP8 DP128 with micro-batches of 6 into CP4 DP256 with 3 when every figure agrees, keeps a different step and a different tp apart', () => {
    const a = candidate({ cp: 4, dp: 256 }, 3, 15.2)
    const b = candidate({ cp: 8, dp: 128 }, 6, 15.2 * (1 + 1e-12))
    const slower = candidate({ cp: 16, dp: 64 }, 12, 15.4)
    const tp2 = candidate({ tp: 2, cp: 2, dp: 256 }, 3, 15.2)
    const moreMemory = candidate({ cp: 2, dp: 512 }, 1, 15.2, 70e9)
    const folded = foldEquivalents([a, b, slower, tp2, moreMemory], 10)
    expect(folded.map((c) => c.description)).toEqual(['CP4 DP256', 'CP16 DP64', 'TP2 CP2 DP256', 'CP2 DP512'])
    expect(folded[0]?.equivalents?.map((q) => [q.description, q.workload.microBatch])).toEqual([['CP8 DP128', 6]])
    expect(folded.slice(1).every((c) => c.equivalents?.length === 0)).toBe(true)
  })

  it('keeps at most top rows, folding later equivalents into them', () => {
    const rows = [candidate({ cp: 4, dp: 256 }, 3, 15.2), candidate({ cp: 16, dp: 64 }, 12, 15.4), candidate({ cp: 8, dp: 128 }, 6, 15.2)]
    const folded = foldEquivalents(rows, 1)
    expect(folded).toHaveLength(1)
    expect(folded[0]?.equivalents?.map((q) => q.description)).toEqual(['CP8 DP128'])
  })

  it('leaves no two rows of a search the same step: Llama 2 7B on 16 H100s, 4,096-token sequences', async () => {
    const plan = await search(inputOf(llama7b, h100x16, 64, 4096), { recompute: ['none'], zeroStages: [1, 3] }, { workers: 1, top: 20 })
    expect(plan.best.length).toBe(20)
    const again = foldEquivalents(plan.best, 20)
    expect(again.map((c) => c.equivalents?.length)).toEqual(plan.best.map(() => 0))
  })
})

describe('planTraining: uneven pipelines', () => {
  // a Llama-2-7B of 30 layers: pp 4 and pp 8 cannot hold equal shares, (30 + 2) / 4 = 8 and (30 + 2) / 8 = 4 can with the embedding and the loss counted
  const model = { ...llama7b, name: 'llama-2-7b-30-layers', layers: 30 }
  const input = inputOf(model, h100x8, 16)
  const space: TrainingSpace = { recompute: ['none'], zeroStages: [1], microBatches: [1] }

  it('tries the pipeline degrees that need a split, with it, priced as estimateTraining prices them; unevenPipelines: false keeps the even ones', async () => {
    const plan = await search(input, space, { workers: 1, top: 1000 })
    const split = plan.best.filter((c) => c.strategy.pipelineSplit !== undefined)
    expect([...new Set(split.map((c) => c.strategy.pp))].sort((a, b) => a - b)).toEqual([4, 8])
    // without interleaving both count the embedding and the loss; pp 8 with 3 virtual stages has 6 + 6 × 3 + 6 (30 + 2 is no multiple of 24)
    expect(split.filter((c) => c.strategy.virtualStages === 1).every((c) => c.strategy.pipelineSplit?.embeddingInSplit === true && c.strategy.pipelineSplit.lossInSplit === true)).toBe(true)
    expect(split.find((c) => c.strategy.pp === 8 && c.strategy.virtualStages === 3)?.strategy.pipelineSplit).toEqual({ firstStageLayers: 6, lastStageLayers: 6 })
    for (const c of split) {
      const e = rightOf(estimateTraining(defaultCostModels)({ model, cluster: h100x8, precision: defaultPrecision, strategy: c.strategy, workload: c.workload }))
      expectClose(c.iterationSeconds, e.iterationSeconds, 1e-12)
    }
    const even = await search(input, { ...space, unevenPipelines: false }, { workers: 1, top: 1000 })
    expect(even.best.some((c) => c.strategy.pipelineSplit !== undefined)).toBe(false)
    // 30 = 2 · 3 · 5: of pp 1, 2, 4, 8 on 8 GPUs only 1 and 2 divide; the others come in with their split
    expect(plan.strategies).toBe(countStrategies({ model, cluster: h100x8, sequenceLength: 2048 })({ unevenPipelines: true }))
    expect(even.strategies).toBe(countStrategies({ model, cluster: h100x8, sequenceLength: 2048 })())
    expect(plan.strategies).toBeGreaterThan(even.strategies)
    expect(plannedCandidates(input, space).candidates).toBe(plan.candidates)
  })
})

describe('planTraining: the work is counted before it starts', () => {
  it('counts exactly the candidates the search evaluates', async () => {
    const input: TrainingSearchInput = { model: models['llama-2-7b'], cluster: unsafeClusterOf('dgx-h100', 1), precision: defaultPrecision, globalBatch: 16, sequenceLength: 2048 }
    for (const space of [{}, { recompute: ['selective'] as const }, { microBatches: [1, 2], zeroStages: [0, 1] as const }]) {
      const plan = rightOf(await planTraining(defaultCostModels)(input, space, { workers: 1 }))
      expect(plannedCandidates(input, space).candidates).toBe(plan.candidates)
    }
  })

  it('refuses a space of more candidates than the limit before evaluating any, naming the limit', async () => {
    // Llama-3.1-8B on 128 nodes (1,024 GPUs, 1,071 strategies) with a global batch of 2^10·3^3·5·7·11·13 = 138,378,240
    // sequences: every dp divides it and leaves hundreds of micro-batch sizes, times 3 recomputations × 4 ZeRO stages
    expect(trainingSearchLimits.candidates).toBe(5_000_000)
    const input: TrainingSearchInput = { model: models['llama-3.1-8b'], cluster: unsafeClusterOf('dgx-h100', 128), precision: defaultPrecision, globalBatch: 138_378_240, sequenceLength: 4096 }
    const planned = plannedCandidates(input, {})
    expect(planned.candidates).toBeGreaterThan(trainingSearchLimits.candidates)
    const r = await planTraining(defaultCostModels)(input, {}, { workers: 1 })
    const e = leftOf(r)
    expect(e.code).toBe('too-large')
    expect(e.message).toContain('more than the limit of 5,000,000')
    expect(e.message).toContain('fix a degree')
  })
})

describe('planTraining: offload to host memory, Llama-2-70B on one DGX H100, 16 sequences of 4096 tokens, no recomputation', () => {
  const input = inputOf(models['llama-2-70b'], h100x8, 16, 4096)
  const space: TrainingSpace = { recompute: ['none'], schedules: ['1f1b'] }
  let plan: TrainingPlan
  let none: TrainingPlan
  beforeAll(async () => {
    plan = await search(input, space, { top: 10, workers: 1 })
    none = await search(input, { ...space, offload: [] }, { top: 10, workers: 1 })
  })

  it('nothing fits without offload; with it, plans fit, each one offloading', () => {
    expect(none.fit).toBe(0)
    expect(plan.fit).toBeGreaterThan(0)
    expect(plan.candidates).toBe(none.candidates)
    for (const c of plan.best) expect(c.workload.offload?.length ?? 0).toBeGreaterThan(0)
  })

  it('each kept offload is the fastest that fits for its candidate, and the same candidate without it does not fit', () => {
    for (const c of plan.best.slice(0, 3)) {
      const estimate = (w: TrainingWorkload) => rightOf(estimateTraining(defaultCostModels)({ model: input.model, cluster: input.cluster, precision: input.precision, strategy: c.strategy, workload: w }))
      const { offload: _kept, ...bare } = c.workload
      expect(estimate(bare).memory.fits).toBe(false)
      const fitting = [1, 2, 3, 4, 5, 6, 7].map((bits) => estimate({ ...bare, offload: offloadKindsOf(bits) })).filter((e) => e.memory.fits)
      expect(c.iterationSeconds).toBe(Math.min(...fitting.map((e) => e.iterationSeconds)))
    }
  })

  it('a cluster without host memory offers no offload', async () => {
    const { host: _host, ...bare } = h100x8
    const p = await search({ ...input, cluster: bare }, space, { top: 3, workers: 1 })
    expect(p.fit).toBe(0)
  })
})

describe('rankOrders: which tier each group runs on', () => {
  it('TP4 CP2 DP8 (dense): two distinct orders, the CP pairs in a node (Megatron-LM\'s) or the DP pairs', () => {
    const orders = rankOrders(strategy({ tp: 4, cp: 2, dp: 8 }), false)
    expect(orders.map((o) => o.join('-'))).toEqual(['tp-cp-ep-dp-pp', 'tp-ep-dp-cp-pp'])
  })

  it('TP2 PP4 DP2 (dense): PP may come before DP (Megatron-LM\'s tp-pp-dp mapping); every order starts with TP', () => {
    const orders = rankOrders(strategy({ tp: 2, pp: 4, dp: 2 }), false).map((o) => o.join('-'))
    expect(orders).toEqual(['tp-cp-ep-dp-pp', 'tp-cp-ep-pp-dp'])
  })

  it('an MoE model keeps pp last, and orders EP against DP for the experts: EP8 over DP16 of TP1', () => {
    const orders = rankOrders(strategy({ pp: 2, dp: 16, ep: 8 }), true).map((o) => o.join('-'))
    for (const o of orders) expect(o.endsWith('-pp')).toBe(true)
    expect(orders.length).toBeGreaterThan(1)
    expect(new Set(orders).size).toBe(orders.length)
  })

  it('only one order when a single dimension besides TP is above 1', () => {
    expect(rankOrders(strategy({ tp: 8, dp: 16 }), false)).toHaveLength(1)
  })
})

describe('planTraining: rank orders, GPT-3 175B on 16 DGX A100s, 512 sequences of 2048 tokens', () => {
  const input = inputOf(models['gpt3-175b'], unsafeClusterOf('dgx-a100-80gb', 16), 512)
  const space: TrainingSpace = { recompute: ['selective'], zeroStages: [1], schedules: ['1f1b'], tpCommOverlap: [false], offload: [], microBatches: [1] }
  let plan: TrainingPlan
  let one: TrainingPlan
  beforeAll(async () => {
    plan = await search(input, space, { top: 20, workers: 1 })
    one = await search(input, { ...space, orders: [defaultOrder] }, { top: 20, workers: 1 })
  })

  it('each candidate\'s figures are the estimate of its strategy laid out in its order', () => {
    for (const c of plan.best) {
      const e = rightOf(estimateTraining(defaultCostModels)({ model: input.model, cluster: input.cluster, precision: input.precision, strategy: c.strategy, workload: c.workload, ...(c.order === undefined ? {} : { order: c.order }) }))
      expect(e.iterationSeconds).toBe(c.iterationSeconds)
    }
  })

  it('never worse than one order, and counts what it did not evaluate again', () => {
    expect((plan.best[0] as TrainingCandidate).iterationSeconds).toBeLessThanOrEqual((one.best[0] as TrainingCandidate).iterationSeconds)
    expect(plan.candidates).toBe(plan.fit + plan.rejected.memory + plan.rejected.interleaving + plan.rejected.placement)
    expect(plan.candidates).toBeGreaterThan(one.candidates)
    expect(plan.rejected.placement).toBeGreaterThan(0)
  })
})
