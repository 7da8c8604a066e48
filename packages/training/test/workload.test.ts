import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { strategy } from '@meshplan/parallelism'
import type { DecodeIssue } from '@meshplan/units'
import type { EstimateError } from '@meshplan/cost-models'
import {
  decodeTrainingWorkload,
  microBatchesOf,
  recomputeModes,
  trainingFits,
  trainingWorkload,
  zeroStages,
  type TrainingWorkload,
} from '../src/workload'
import { leftOf, rightOf } from '@meshplan/test-utils'

// -------------------------------------------------------------------------------------
// helpers
// -------------------------------------------------------------------------------------

const paths = (issues: ReadonlyArray<DecodeIssue>): ReadonlyArray<string> => issues.map((i) => i.path).sort()

const valid: TrainingWorkload = { globalBatch: 64, microBatch: 1, sequenceLength: 2048, recompute: 'selective', zeroStage: 0 }

// -------------------------------------------------------------------------------------
// trainingWorkload: the workload alone
// -------------------------------------------------------------------------------------

describe('trainingWorkload', () => {
  it('accepts a valid workload of every recomputation and ZeRO stage and returns it unchanged', () => {
    for (const recompute of recomputeModes) {
      for (const zeroStage of zeroStages) {
        const w: TrainingWorkload = { ...valid, recompute, zeroStage }
        expect(rightOf(trainingWorkload(w))).toEqual(w)
      }
    }
  })

  it('knows exactly the three recomputation modes and ZeRO stages 0 to 3', () => {
    expect([...recomputeModes]).toEqual(['none', 'selective', 'full'])
    expect([...zeroStages]).toEqual([0, 1, 2, 3])
  })

  const fields = [
    ['globalBatch', 'global_batch'],
    ['microBatch', 'micro_batch'],
    ['sequenceLength', 'seq_len'],
  ] as const
  const bad: ReadonlyArray<[number, string]> = [
    [0, '0'],
    [-1, '-1'],
    [1.5, '1.5'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    // 2^53 = 9,007,199,254,740,992 is not a safe integer
    [2 ** 53, '9007199254740992'],
  ]
  for (const [field, name] of fields) {
    for (const [value, shown] of bad) {
      it(`rejects ${field} = ${shown} as invalid-workload naming workload.${name}`, () => {
        const e: EstimateError = leftOf(trainingWorkload({ ...valid, [field]: value }))
        expect(e.code).toBe('invalid-workload')
        expect(e.message).toBe(`workload.${name}: expected a positive integer, got ${shown}`)
      })
    }
  }

  it('rejects an unknown recomputation naming workload.recompute, the modes and the value', () => {
    const e = leftOf(trainingWorkload({ ...valid, recompute: 'partial' as TrainingWorkload['recompute'] }))
    expect(e.code).toBe('invalid-workload')
    expect(e.message).toBe('workload.recompute: expected one of none, selective, full, got "partial"')
  })

  for (const [stage, shown] of [
    [4, '4'],
    [-1, '-1'],
    [1.5, '1.5'],
    ['1', '"1"'],
  ] as const) {
    it(`rejects ZeRO stage ${shown} naming workload.zero_stage`, () => {
      const e = leftOf(trainingWorkload({ ...valid, zeroStage: stage as unknown as TrainingWorkload['zeroStage'] }))
      expect(e.code).toBe('invalid-workload')
      expect(e.message).toBe(`workload.zero_stage: expected 0, 1, 2 or 3, got ${shown}`)
    })
  }

  it('reports the first bad field in file order: global_batch before micro_batch before seq_len before recompute before zero_stage', () => {
    const all = { globalBatch: 0, microBatch: 0, sequenceLength: 0, recompute: 'x', zeroStage: 9 } as unknown as TrainingWorkload
    expect(leftOf(trainingWorkload(all)).message).toMatch(/^workload\.global_batch:/)
    expect(leftOf(trainingWorkload({ ...all, globalBatch: 1 })).message).toMatch(/^workload\.micro_batch:/)
    expect(leftOf(trainingWorkload({ ...all, globalBatch: 1, microBatch: 1 })).message).toMatch(/^workload\.seq_len:/)
    expect(leftOf(trainingWorkload({ ...all, globalBatch: 1, microBatch: 1, sequenceLength: 1 })).message).toMatch(/^workload\.recompute:/)
    expect(leftOf(trainingWorkload({ ...all, globalBatch: 1, microBatch: 1, sequenceLength: 1, recompute: 'none' })).message).toMatch(/^workload\.zero_stage:/)
  })

  it('law: counts up to 2^31 − 1, a known mode and a stage in 0..3 are accepted', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 1 << 20 }),
        fc.integer({ min: 1, max: 1 << 20 }),
        fc.constantFrom(...recomputeModes),
        fc.constantFrom(...zeroStages),
        (globalBatch, microBatch, sequenceLength, recompute, zeroStage) => {
          const w: TrainingWorkload = { globalBatch, microBatch, sequenceLength, recompute, zeroStage }
          expect(rightOf(trainingWorkload(w))).toEqual(w)
        },
      ),
    )
  })

  it('law: a count beyond 2^31 − 1 (a global batch of 2^53 − 1, say) is refused, naming the field and the limit', () => {
    fc.assert(
      fc.property(fc.constantFrom('globalBatch', 'microBatch', 'sequenceLength'), fc.integer({ min: 2 ** 31, max: Number.MAX_SAFE_INTEGER }), (field, value) => {
        const e = leftOf(trainingWorkload({ globalBatch: 8, microBatch: 1, sequenceLength: 8, recompute: 'none', zeroStage: 0, [field]: value }))
        expect(e.code).toBe('invalid-workload')
        expect(e.message).toContain('expected at most 2,147,483,647')
      }),
    )
  })
})

// -------------------------------------------------------------------------------------
// trainingFits: the workload under a strategy
// -------------------------------------------------------------------------------------

describe('trainingFits', () => {
  it("rejects a global batch that is not a multiple of micro_batch × dp, with the numbers: 64 over 1 × 3 (the module's example)", () => {
    const e = leftOf(trainingFits(valid, strategy({ tp: 8, pp: 8, dp: 3 })))
    expect(e.code).toBe('invalid-workload')
    // 64 = 21 × 3 + 1
    expect(e.message).toBe('workload.global_batch: 64 is not a multiple of micro_batch × dp = 1 × 3 = 3')
  })

  it('rejects 96 sequences in micro-batches of 4 over dp 16: 4 × 16 = 64 does not divide 96', () => {
    const e = leftOf(trainingFits({ ...valid, globalBatch: 96, microBatch: 4 }, strategy({ dp: 16 })))
    expect(e.code).toBe('invalid-workload')
    expect(e.message).toContain('workload.global_batch')
    expect(e.message).toContain('96')
    expect(e.message).toContain('4 × 16 = 64')
  })

  it('accepts 128 sequences in micro-batches of 4 over dp 16: 128 / 64 = 2 micro-batches', () => {
    const w = { ...valid, globalBatch: 128, microBatch: 4 }
    expect(rightOf(trainingFits(w, strategy({ dp: 16 })))).toEqual(w)
    expect(microBatchesOf(w, strategy({ dp: 16 }))).toBe(2)
  })

  it('rejects a sequence the context-parallel ranks cannot split: 2049 tokens over cp = 2', () => {
    const e = leftOf(trainingFits({ ...valid, sequenceLength: 2049 }, strategy({ cp: 2 })))
    expect(e.code).toBe('invalid-workload')
    expect(e.message).toBe('workload.seq_len: 2049 tokens cannot be split evenly over cp = 2')
  })

  it('rejects interleaving when the micro-batches are not a multiple of pp: 20 / (1 × 2) = 10 micro-batches on pp = 4', () => {
    const s = strategy({ pp: 4, dp: 2, virtualStages: 2 })
    const e = leftOf(trainingFits({ ...valid, globalBatch: 20 }, s))
    expect(e.code).toBe('invalid-workload')
    expect(e.message).toContain('workload.global_batch')
    expect(e.message).toContain('virtual stages 2')
    expect(e.message).toContain('pp = 4')
    expect(e.message).toContain('20 / (1 × 2) = 10')
  })

  it('accepts the same 10 micro-batches on pp = 4 without interleaving, and 24 / (1 × 2) = 12 = 3 × 4 with it', () => {
    expect(E.isRight(trainingFits({ ...valid, globalBatch: 20 }, strategy({ pp: 4, dp: 2 })))).toBe(true)
    expect(E.isRight(trainingFits({ ...valid, globalBatch: 24 }, strategy({ pp: 4, dp: 2, virtualStages: 2 })))).toBe(true)
  })

  it('checks the workload itself first: a bad ZeRO stage is reported even when the batch does not split either', () => {
    const e = leftOf(trainingFits({ ...valid, zeroStage: 4 as unknown as TrainingWorkload['zeroStage'] }, strategy({ dp: 3 })))
    expect(e.message).toBe('workload.zero_stage: expected 0, 1, 2 or 3, got 4')
  })

  it('law: accepted exactly when micro_batch·dp divides the global batch, cp the sequence, and (with v > 1) pp the micro-batches', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 512 }),
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom(1, 2, 3, 4, 8),
        fc.constantFrom(1, 2, 3, 4),
        fc.constantFrom(1, 2, 4, 8),
        fc.constantFrom(1, 2, 3),
        fc.integer({ min: 1, max: 4096 }),
        (globalBatch, microBatch, dp, cp, pp, virtualStages, sequenceLength) => {
          const w: TrainingWorkload = { globalBatch, microBatch, sequenceLength, recompute: 'none', zeroStage: 1 }
          const s = strategy({ dp, cp, pp, virtualStages })
          const splits = globalBatch % (microBatch * dp) === 0
          const m = globalBatch / (microBatch * dp)
          const expected = splits && sequenceLength % cp === 0 && (virtualStages === 1 || m % pp === 0)
          const r = trainingFits(w, s)
          expect(E.isRight(r)).toBe(expected)
          if (E.isLeft(r)) {
            expect(r.left.code).toBe('invalid-workload')
            expect(r.left.message).toMatch(splits ? /^workload\.(seq_len|global_batch):/ : /^workload\.global_batch: \d+ is not a multiple/)
          } else {
            // a whole number of micro-batches, and they make up the global batch
            expect(Number.isInteger(microBatchesOf(w, s))).toBe(true)
            expect(microBatchesOf(w, s) * microBatch * dp).toBe(globalBatch)
          }
        },
      ),
    )
  })
})

// -------------------------------------------------------------------------------------
// decodeTrainingWorkload
// -------------------------------------------------------------------------------------

describe('decodeTrainingWorkload', () => {
  it('defaults: no recomputation, ZeRO stage 0', () => {
    expect(rightOf(decodeTrainingWorkload({ global_batch: 8, micro_batch: 2, seq_len: 4096 }))).toEqual({
      globalBatch: 8,
      microBatch: 2,
      sequenceLength: 4096,
      recompute: 'none',
      zeroStage: 0,
    })
  })

  it('reads every field (and the kind) in snake_case', () => {
    expect(
      rightOf(decodeTrainingWorkload({ kind: 'training', global_batch: 1536, micro_batch: 1, seq_len: 2048, recompute: 'full', zero_stage: 3 })),
    ).toEqual({ globalBatch: 1536, microBatch: 1, sequenceLength: 2048, recompute: 'full', zeroStage: 3 })
  })

  it('rejects an unknown field with its path', () => {
    const issues = leftOf(decodeTrainingWorkload({ global_batch: 8, micro_batch: 1, seq_len: 2048, batch: 8 }))
    expect(paths(issues)).toEqual(['workload.batch'])
  })

  it('rejects zero_stage 5 at workload.zero_stage', () => {
    const issues = leftOf(decodeTrainingWorkload({ global_batch: 8, micro_batch: 1, seq_len: 2048, zero_stage: 5 }))
    expect(issues).toHaveLength(1)
    expect(issues[0]).toMatchObject({ path: 'workload.zero_stage', value: 5 })
  })

  it('rejects an unknown recomputation and another kind at their paths, under the path given', () => {
    const issues = leftOf(decodeTrainingWorkload({ kind: 'inference', global_batch: 8, micro_batch: 1, seq_len: 2048, recompute: 'some' }, 'plan.workload'))
    expect(paths(issues)).toEqual(['plan.workload.kind', 'plan.workload.recompute'])
  })

  it('reports every missing or non-positive required field at once', () => {
    const issues = leftOf(decodeTrainingWorkload({ micro_batch: 0, seq_len: 1.5 }))
    expect(paths(issues)).toEqual(['workload.global_batch', 'workload.micro_batch', 'workload.seq_len'])
  })

  it('rejects what is not an object at the root path', () => {
    expect(paths(leftOf(decodeTrainingWorkload([1, 2, 3])))).toEqual(['workload'])
    expect(paths(leftOf(decodeTrainingWorkload(null)))).toEqual(['workload'])
  })

  it('law: whatever decodes passes trainingWorkload unchanged', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1 << 24 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 1 << 18 }),
        fc.option(fc.constantFrom(...recomputeModes), { nil: undefined }),
        fc.option(fc.constantFrom(...zeroStages), { nil: undefined }),
        (global_batch, micro_batch, seq_len, recompute, zero_stage) => {
          const file = {
            global_batch,
            micro_batch,
            seq_len,
            ...(recompute === undefined ? {} : { recompute }),
            ...(zero_stage === undefined ? {} : { zero_stage }),
          }
          const w = rightOf(decodeTrainingWorkload(file))
          expect(w).toEqual({
            globalBatch: global_batch,
            microBatch: micro_batch,
            sequenceLength: seq_len,
            recompute: recompute ?? 'none',
            zeroStage: zero_stage ?? 0,
          })
          expect(rightOf(trainingWorkload(w))).toEqual(w)
        },
      ),
    )
  })
})
