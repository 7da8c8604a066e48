import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { defaultPrecision, models } from '@meshplan/model'
import { enumerate, strategy } from '@meshplan/parallelism'
import { devices, unsafeClusterOf } from '@meshplan/topology'
import { bytes } from '@meshplan/units'
import { defaultGradientBytes, fp32GradientBytes, fp8WeightCopyBytes, trainingMemory, zeroStateBytes, type TrainingInput, type ZeroStage } from '../src/training'

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

/** Llama-2-7B on 8 H100s, DP8 under ZeRO-1, one micro-batch of 4096 tokens with full recomputation. */
const llama7bDp8: TrainingInput = {
  model: models['llama-2-7b'],
  strategy: strategy({ dp: 8 }),
  precision: defaultPrecision,
  device: devices['h100-sxm'],
  sequenceLength: 4096,
  microBatch: 1,
  microBatches: 1,
  recompute: 'full',
  zeroStage: 1,
}

describe('trainingMemory: FP8 training keeps fp8 copies of the layer GEMM weights (Transformer Engine)', () => {
  const base = llama7bDp8
  const stage = (input: TrainingInput) => (E.isRight(trainingMemory()(input)) ? (trainingMemory()(input) as E.Right<{ stages: ReadonlyArray<{ weights: number; gradients: number }> }>).right.stages[0] : undefined)

  it('fp8WeightCopyBytes: row-wise and column-wise fp8 copies of bf16 weights, one of fp8 weights, none without fp8 GEMMs', () => {
    expect(fp8WeightCopyBytes({ weights: 'bf16', activations: 'fp8', kvCache: 'bf16' })).toBe(2)
    expect(fp8WeightCopyBytes({ weights: 'fp8', activations: 'fp8', kvCache: 'bf16' })).toBe(1)
    expect(fp8WeightCopyBytes(defaultPrecision)).toBe(0)
  })

  it('Llama-2-7B: 32 layers × (4·4096² + 3·4096·11008) = 6,476,005,376 GEMM weights, 2 bytes of copies each on top of the bf16 weights', () => {
    const gemmWeights = 32 * (4 * 4096 ** 2 + 3 * 4096 * 11008)
    expect(gemmWeights).toBe(6_476_005_376)
    const fp8 = { ...base, precision: { weights: 'bf16', activations: 'fp8', kvCache: 'bf16' } as const }
    // attention parameters as the memory model counts them: the four matrices (no biases in Llama)
    expect((stage(fp8)?.weights ?? 0) - (stage(base)?.weights ?? 0)).toBe(2 * gemmWeights)
    // ZeRO-3 shards them with the weights: an eighth
    expect((stage({ ...fp8, zeroStage: 3 })?.weights ?? 0) - (stage({ ...base, zeroStage: 3 })?.weights ?? 0)).toBeCloseTo((2 * gemmWeights) / 8, 0)
  })

  it('fp8 weights keep fp32 gradients by default and 16-bit ones reduced in bf16 (Megatron-LM --fp8-param-gather, --grad-reduce-in-bf16)', () => {
    const fp8Params = { ...base, precision: { weights: 'fp8', activations: 'fp8', kvCache: 'bf16' } as const }
    // 6,738,415,616 parameters (the kernel tests count them by hand), gradients unsharded under ZeRO-1: 4 bytes each accumulated in fp32
    expect(stage(fp8Params)?.gradients).toBe(4 * 6_738_415_616)
    expect(stage({ ...fp8Params, gradientBytes: defaultGradientBytes(fp8Params.precision) })?.gradients).toBe(2 * 6_738_415_616)
    expect(defaultGradientBytes(fp8Params.precision)).toBe(2)
    expect(fp32GradientBytes(fp8Params.precision)).toBe(4)
  })

  it("Megatron's distributed optimizer: 6 + 12/d bytes per parameter with bf16 weights and fp32 gradients (Megatron Core user guide)", () => {
    // Llama-2-7B DP8 ZeRO-1: weights 2, gradients 4 unsharded, optimizer 12/8 per parameter: 7.5 bytes × 6,738,415,616
    const r = trainingMemory()(base)
    if (E.isLeft(r)) throw new Error(r.left.message)
    const s = r.right.stages[0]
    expect(((s?.weights ?? 0) + (s?.gradients ?? 0) + (s?.optimizer ?? 0)) / 6_738_415_616).toBeCloseTo(6 + 12 / 8, 9)
  })
})

describe('trainingMemory: uneven pipeline stages (Megatron-Core), Llama-3.1-405B over 16 stages', () => {
  it('the first and last stages hold 7 layers when the embedding and the loss count as one each, the others 8', () => {
    const r = trainingMemory()({
      model: models['llama-3.1-405b'],
      strategy: strategy({ tp: 8, pp: 16, dp: 1, sequenceParallel: true, pipelineSplit: { embeddingInSplit: true, lossInSplit: true } }),
      precision: defaultPrecision,
      device: devices['h100-sxm'],
      sequenceLength: 8192,
      microBatch: 1,
      microBatches: 16,
      recompute: 'full',
      zeroStage: 1,
    })
    expect(E.isRight(r)).toBe(true)
    if (E.isRight(r)) {
      // full recomputation keeps each layer's input: the stage's layers × in-flight micro-batches × 2·s·h/tp
      const input = (2 * 8192 * 16384) / 8
      const s = r.right.stages
      expect(s).toHaveLength(16)
      // stage 1 holds 8 layers and 15 micro-batches in flight, stage 14 8 layers and 2, plus the largest layer rebuilt once
      expect((s[1]?.activations ?? 0) - (s[2]?.activations ?? 0)).toBeCloseTo(8 * input, 0)
      expect((s[0]?.parameters.attention ?? 0) / (s[1]?.parameters.attention ?? 1)).toBeCloseTo(7 / 8, 12)
      expect((s[15]?.parameters.attention ?? 0) / (s[1]?.parameters.attention ?? 1)).toBeCloseTo(7 / 8, 12)
    }
  })
})

describe('trainingMemory: offload to host memory (Calculon, Isaev et al. 2023), Llama-2-7B DP8 ZeRO-1, no recomputation', () => {
  const input: TrainingInput = { ...llama7bDp8, recompute: 'none', hostMemory: bytes(250e9) }
  const first = (i: TrainingInput) => {
    const r = trainingMemory()(i)
    if (E.isLeft(r)) throw new Error(r.left.message)
    return r.right.stages[0] as NonNullable<(typeof r.right.stages)[number]>
  }
  const none = first(input)
  const all = first({ ...input, offload: { weights: true, activations: true, optimizer: true } })

  it('weights: the GPU keeps two of the 32 layers\' worth (2/32 of 2 bytes × 6,738,415,616), the host all of them', () => {
    const w = first({ ...input, offload: { weights: true } })
    expect(none.weights).toBe(2 * 6_738_415_616)
    expect(w.weights).toBeCloseTo((2 / 32) * 2 * 6_738_415_616, 0)
    expect(w.host).toBe(2 * 6_738_415_616)
    expect(w.gradients).toBe(none.gradients)
  })

  it('optimizer: 12/8 bytes per parameter move to the host, two layers\' worth stay', () => {
    const o = first({ ...input, offload: { optimizer: true } })
    expect(none.optimizer).toBeCloseTo((12 / 8) * 6_738_415_616, 0)
    expect(o.host).toBeCloseTo((12 / 8) * 6_738_415_616, 0)
    expect(o.optimizer).toBeCloseTo((2 / 32) * (12 / 8) * 6_738_415_616, 0)
  })

  it('activations: the GPU keeps two layers of the stored ones, the host all 32 layers of the micro-batch in flight', () => {
    const a = first({ ...input, offload: { activations: true } })
    // no pipeline: one micro-batch in flight; every layer stores the same bytes, so the GPU keeps 2/32 of the layers' part
    const edges = none.activations - a.host
    expect(a.activations - edges).toBeCloseTo((2 / 32) * a.host, 0)
    expect(a.host).toBeGreaterThan(0)
  })

  it('fits only while the host holds what is offloaded: all three need more than a 10 GB share', () => {
    expect(all.total).toBeLessThan(none.total)
    expect(all.fits).toBe(true)
    expect(first({ ...input, offload: { weights: true, activations: true, optimizer: true }, hostMemory: bytes(10e9) }).fits).toBe(false)
    // without host memory given, nothing can be offloaded
    const withoutHost: TrainingInput = { ...llama7bDp8, recompute: 'none' }
    expect(first({ ...withoutHost, offload: { weights: true } }).fits).toBe(false)
    expect(first(withoutHost).fits).toBe(true)
  })
})
