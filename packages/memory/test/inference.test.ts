import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { defaultPrecision, models, precision, type ModelName } from '@meshplan/model'
import { enumerate, strategy } from '@meshplan/parallelism'
import { devices, unsafeClusterOf } from '@meshplan/topology'
import { inferenceMemory, type InferenceInput } from '../src/inference'
import { defaultMemoryModel } from '../src/model'
import { fixedReserve } from '../src/reserve'
import { bytes } from '@meshplan/units'
import { rightOf } from '@meshplan/test-utils'

const h100 = devices['h100-sxm']
const llama70bTp8: InferenceInput = {
  model: models['llama-2-70b'],
  strategy: strategy({ tp: 8 }),
  precision: defaultPrecision,
  device: h100,
  contextTokens: 4096,
}

describe('inferenceMemory: Llama-2-70B, TP8 on H100 80 GB, bf16, 4096-token sequences', () => {
  const result = inferenceMemory()(llama70bTp8)
  const m = E.isRight(result) ? result.right : undefined

  it('fits the number of sequences worked out by hand', () => {
    // weights per GPU: 8,623,235,072 parameters * 2 = 17,246,470,144 B (see weights.test.ts)
    const weights = 17_246_470_144
    // workspace, a 4096-token chunk: per token 2h + max(attention 2*64*128/8 + 2*1*128 = 2304, SwiGLU 2*28672/8 = 7168) = 16384 + 7168 = 23,552
    // elements of 2 bytes, plus the last position's fp32 logits 4 * 32000 / 8
    const workspace = 4096 * 2 * 23_552 + 4 * 4000
    // reserve: 10% of 80e9
    const reserve = 8e9
    const budget = 80e9 - weights - workspace - reserve
    expect(budget).toBe(54_560_575_872)
    // KV per token per GPU: 327,680 / 8 = 40,960 B; a sequence of 4096 tokens: 167,772,160 B
    const maxKvTokens = Math.floor(budget / 40_960)
    expect(maxKvTokens).toBe(1_332_045)
    expect(m?.tightest.weights).toBe(weights)
    expect(m?.tightest.workspace).toBe(workspace)
    expect(m?.tightest.maxKvTokens).toBe(maxKvTokens)
    expect(m?.maxSequences).toBe(Math.floor(maxKvTokens / 4096))
    expect(m?.maxSequences).toBe(325)
  })

  it('says whether a number of sequences fits', () => {
    const at = (sequences: number) => inferenceMemory()({ ...llama70bTp8, sequences })
    const fitting = at(325)
    expect(E.isRight(fitting) && fitting.right.fits).toBe(true)
    const over = at(326)
    expect(E.isRight(over) && over.right.fits).toBe(false)
    // the KV cache of 100 sequences: 100 * 4096 * 40,960 B
    const hundred = at(100)
    expect(E.isRight(hundred) && hundred.right.tightest.kvCache).toBe(100 * 4096 * 40_960)
  })

  it('does not fit Llama-2-70B on one 80 GB GPU in bf16', () => {
    const r = inferenceMemory()({ ...llama70bTp8, strategy: strategy({}) })
    expect(E.isRight(r) && r.right.fits).toBe(false)
    expect(E.isRight(r) && r.right.maxSequences).toBe(0)
  })

  it('doubles the KV room per token with an fp8 cache', () => {
    const fp8 = inferenceMemory()({ ...llama70bTp8, precision: precision({ kvCache: 'fp8' }) })
    expect(E.isRight(fp8) && fp8.right.tightest.maxKvTokens).toBe(Math.floor(54_560_575_872 / 20_480))
  })

  it('takes a user reserve', () => {
    const r = inferenceMemory({ ...defaultMemoryModel, reserve: fixedReserve(bytes(2e9)) })(llama70bTp8)
    expect(E.isRight(r) && r.right.tightest.kvBudget).toBe(54_560_575_872 + 6e9)
  })
})

describe('inferenceMemory: pipeline stages', () => {
  it('reports each stage, with the LM head on the last', () => {
    const r = inferenceMemory()({ ...llama70bTp8, strategy: strategy({ tp: 4, pp: 2 }) })
    expect(E.isRight(r) && r.right.stages.map((s) => s.parameters.lmHead)).toEqual([0, (32000 * 8192) / 4])
  })
})

describe("inferenceMemory: an engine's sampler peak (vLLM's start-up profile)", () => {
  // the forward pass's workspace of a 4096-token chunk, worked out above: 4096 * 2 * 23,552 + 4 * 4000 = 192,953,984 B
  const forward = 4096 * 2 * 23_552 + 4 * 4000
  it('is the workspace where it is the larger, on the last pipeline stage only', () => {
    // 1024 sequences over a 32,000-entry vocabulary at 14 bytes a logit: 458,752,000 B
    const sampler = 1024 * 32_000 * 14
    expect(sampler).toBe(458_752_000)
    const one = rightOf(inferenceMemory()({ ...llama70bTp8, samplerBytes: sampler }))
    expect(one.tightest.workspace).toBe(sampler)
    // the KV budget loses the difference: 54,560,575,872 - (458,752,000 - 192,953,984)
    expect(one.tightest.kvBudget).toBe(54_294_777_856)
    const two = rightOf(inferenceMemory()({ ...llama70bTp8, strategy: strategy({ tp: 4, pp: 2 }), samplerBytes: sampler }))
    expect(two.stages.map((s) => s.workspace)).toEqual([4096 * 2 * (16_384 + 2 * 28_672 / 4) + (4 * 32_000) / 4, sampler])
  })

  it('leaves the workspace alone where the forward pass holds more', () => {
    const r = rightOf(inferenceMemory()({ ...llama70bTp8, samplerBytes: forward - 1 }))
    expect(r.tightest.workspace).toBe(forward)
  })
})

describe('inferenceMemory: bad input is an error value', () => {
  it('rejects zero, fractional and NaN sizes, naming the field', () => {
    const field = (input: InferenceInput) => {
      const r = inferenceMemory()(input)
      return E.isLeft(r) ? r.left.field : 'accepted'
    }
    expect(field({ ...llama70bTp8, contextTokens: 0 })).toBe('contextTokens')
    expect(field({ ...llama70bTp8, contextTokens: Number.NaN })).toBe('contextTokens')
    expect(field({ ...llama70bTp8, sequences: 1.5 })).toBe('sequences')
    expect(field({ ...llama70bTp8, prefillChunkTokens: -1 })).toBe('prefillChunkTokens')
    expect(field({ ...llama70bTp8, samplerBytes: -1 })).toBe('samplerBytes')
    expect(field({ ...llama70bTp8, samplerBytes: Number.NaN })).toBe('samplerBytes')
    expect(field({ ...llama70bTp8, samplerBytes: Number.POSITIVE_INFINITY })).toBe('samplerBytes')
  })

  it('rejects a strategy that breaks a law', () => {
    const r = inferenceMemory()({ ...llama70bTp8, strategy: strategy({ tp: 3 }) })
    expect(E.isLeft(r) && r.left.code).toBe('invalid-strategy')
  })
})

describe('inferenceMemory: every answer is finite and non-negative', () => {
  const names: ReadonlyArray<ModelName> = ['llama-2-7b', 'mixtral-8x7b', 'reference-moe', 'deepseek-v3', 'gpt3-175b', 'qwen3-235b-a22b']
  it('holds for random presets, valid strategies, precisions and workloads', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.constantFrom(8, 16, 64),
        fc.nat(),
        fc.constantFrom('bf16', 'fp8', 'int4' as const),
        fc.integer({ min: 1, max: 200_000 }),
        fc.option(fc.integer({ min: 1, max: 4096 }), { nil: undefined }),
        (name, gpus, pick, dtype, contextTokens, sequences) => {
          const model = models[name]
          const cluster = unsafeClusterOf('dgx-h100', gpus / 8)
          const all = [...enumerate({ model, cluster })({ max: { virtualStages: 1 }, sequenceParallel: false })]
          fc.pre(all.length > 0)
          const s = all[pick % all.length]
          if (s === undefined) return
          const r = inferenceMemory()({ model, strategy: s, precision: precision({ weights: dtype, kvCache: dtype === 'int4' ? 'fp8' : dtype }), device: h100, contextTokens, ...(sequences === undefined ? {} : { sequences }) })
          expect(E.isRight(r)).toBe(true)
          if (E.isRight(r)) {
            for (const stage of r.right.stages) {
              for (const value of [stage.weights, stage.kvCache, stage.workspace, stage.reserve, stage.total, stage.kvBudget, stage.maxKvTokens, stage.maxSequences, stage.kvBytesPerToken]) {
                expect(Number.isFinite(value)).toBe(true)
                expect(value).toBeGreaterThanOrEqual(0)
              }
            }
          }
        },
      ),
      { numRuns: 200 },
    )
  })
})
