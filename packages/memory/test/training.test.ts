import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { defaultPrecision, models } from '@meshplan/model'
import { enumerate, strategy } from '@meshplan/parallelism'
import { devices, unsafeClusterOf } from '@meshplan/topology'
import { trainingMemory, zeroStateBytes, type TrainingInput, type ZeroStage } from '../src/training'

describe('zeroStateBytes: the ZeRO paper example, 7.5B parameters over 64 GPUs (Rajbhandari et al. 2020, figure 1)', () => {
  const psi = 7.5e9
  const gb = (stage: ZeroStage) => zeroStateBytes(psi, 64, stage, 2, 2, 12).total / 1e9

  it('needs 120 GB without ZeRO: (2 + 2 + 12) * 7.5B', () => {
    expect(gb(0)).toBeCloseTo(120, 6)
  })

  it('needs 31.4 GB with optimizer states sharded: 4 * 7.5 + 12 * 7.5 / 64', () => {
    expect(gb(1)).toBeCloseTo(30 + 90 / 64, 6)
    expect(gb(1).toFixed(1)).toBe('31.4')
  })

  it('needs 16.6 GB with gradients too: 2 * 7.5 + 14 * 7.5 / 64', () => {
    expect(gb(2)).toBeCloseTo(15 + 105 / 64, 6)
    expect(gb(2).toFixed(1)).toBe('16.6')
  })

  it('needs 1.9 GB with parameters too: 120 / 64', () => {
    expect(gb(3)).toBeCloseTo(1.875, 6)
  })
})

const gpt3Training: TrainingInput = {
  model: models['gpt3-175b'],
  strategy: strategy({ tp: 8, pp: 8, dp: 8, sequenceParallel: true }),
  precision: defaultPrecision,
  device: devices['a100-80gb'],
  sequenceLength: 2048,
  microBatch: 1,
  microBatches: 64,
  recompute: 'selective',
  zeroStage: 1,
  dropout: true,
  flashAttention: false,
}

describe('trainingMemory: GPT-3 175B, TP8 PP8 DP8 with SP and selective recomputation', () => {
  const r = trainingMemory()(gpt3Training)
  const m = E.isRight(r) ? r.right : undefined

  it('keeps 12 layers of 34 sbh/t per micro-batch, p = 8 micro-batches on the first stage', () => {
    // 96 layers / 8 stages = 12 layers; 34 * 2048 * 12288 / 8 bytes per layer; 8 micro-batches in flight on stage 0
    const layers = 12 * ((34 * 2048 * 12288) / 8)
    const embeddingMask = (2048 * 12288 * 8) / 8 // dropout mask per micro-batch in flight, split by SP
    expect(m?.stages[0]?.microBatchesInFlight).toBe(8)
    expect(m?.stages[0]?.activations).toBe(8 * layers + embeddingMask)
  })

  it('shards the optimizer state over the 8 data-parallel GPUs (ZeRO-1)', () => {
    const first = m?.stages[0]
    expect(first?.optimizer).toBeCloseTo(((first?.parameters.total ?? 0) * 12) / 8, 0)
    expect(first?.weights).toBe((first?.parameters.total ?? 0) * 2)
  })

  it('holds the most activations on the first stage, and fits in 80 GB', () => {
    const acts = m?.stages.map((s) => s.activations) ?? []
    expect(acts[0]).toBe(Math.max(...acts.slice(0, 7)))
    expect(m?.fits).toBe(true)
  })

  it('does not fit without recomputation or sequence parallelism at micro-batch 4', () => {
    const heavy = trainingMemory()({ ...gpt3Training, strategy: strategy({ tp: 8, pp: 8, dp: 8 }), recompute: 'none', microBatch: 4 })
    expect(E.isRight(heavy) && heavy.right.fits).toBe(false)
  })

  it('frees memory with each ZeRO stage', () => {
    const totals = ([0, 1, 2, 3] as const).map((zeroStage) => {
      const x = trainingMemory()({ ...gpt3Training, zeroStage })
      return E.isRight(x) ? x.right.peak.total : NaN
    })
    expect(totals[0]).toBeGreaterThan(totals[1] ?? 0)
    expect(totals[1]).toBeGreaterThan(totals[2] ?? 0)
    expect(totals[2]).toBeGreaterThan(totals[3] ?? 0)
  })
})

describe('trainingMemory: bad input is an error value', () => {
  it('names the field', () => {
    const field = (input: TrainingInput) => {
      const x = trainingMemory()(input)
      return E.isLeft(x) ? x.left.field : 'accepted'
    }
    expect(field({ ...gpt3Training, zeroStage: 4 as ZeroStage })).toBe('zeroStage')
    expect(field({ ...gpt3Training, microBatch: 0 })).toBe('microBatch')
    expect(field({ ...gpt3Training, sequenceLength: 2047, strategy: strategy({ tp: 8, pp: 8, cp: 2, dp: 4 }) })).toBe('sequenceLength')
    expect(field({ ...gpt3Training, strategy: strategy({ tp: 7 }) })).toBe('strategy')
  })
})

describe('trainingMemory: every answer is finite and non-negative', () => {
  it('holds for random valid strategies and workloads', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('llama-2-7b', 'mixtral-8x7b', 'reference-moe', 'gpt3-175b' as const),
        fc.nat(),
        fc.constantFrom('none', 'selective', 'full' as const),
        fc.constantFrom(0, 1, 2, 3 as const),
        fc.constantFrom(1, 2, 4),
        fc.constantFrom(1024, 2048, 4096),
        (name, pick, recompute, zeroStage, microBatch, sequenceLength) => {
          const model = models[name]
          const all = [...enumerate({ model, cluster: unsafeClusterOf('dgx-h100', 4), sequenceLength })({ max: { virtualStages: 2 } })]
          const s = all[pick % all.length]
          if (s === undefined) return
          const x = trainingMemory()({ model, strategy: s, precision: defaultPrecision, device: devices['h100-sxm'], sequenceLength, microBatch, microBatches: 16, recompute, zeroStage })
          expect(E.isRight(x)).toBe(true)
          if (E.isRight(x)) {
            for (const stage of x.right.stages) {
              for (const v of [stage.weights, stage.gradients, stage.optimizer, stage.activations, stage.total, stage.microBatchesInFlight]) {
                expect(Number.isFinite(v)).toBe(true)
                expect(v).toBeGreaterThanOrEqual(0)
              }
            }
          }
        },
      ),
      { numRuns: 150 },
    )
  })
})
