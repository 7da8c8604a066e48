import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import type { DecodeIssue } from '@meshplan/units'
import type { EstimateError } from '@meshplan/cost-models'
import { contextTokens, decodeInferenceWorkload, defaultMaxBatch, inferenceModes, inferenceWorkload, type InferenceWorkload } from '../src/workload'
import { leftOf, rightOf } from '@meshplan/test-utils'

// -------------------------------------------------------------------------------------
// helpers
// -------------------------------------------------------------------------------------

const paths = (issues: ReadonlyArray<DecodeIssue>): ReadonlyArray<string> => issues.map((i) => i.path).sort()

const valid: InferenceWorkload = { mode: 'static', inputTokens: 1024, outputTokens: 256, batch: 32 }

// -------------------------------------------------------------------------------------
// inferenceWorkload: workloads built in code
// -------------------------------------------------------------------------------------

describe('inferenceWorkload', () => {
  it('accepts a valid workload of every mode and returns it unchanged', () => {
    for (const mode of inferenceModes) {
      const w: InferenceWorkload = { ...valid, mode, maxBatch: 512 }
      expect(rightOf(inferenceWorkload(w))).toEqual(w)
    }
  })

  it('accepts the smallest workload: one prompt token, one output token, batch 1', () => {
    const w: InferenceWorkload = { mode: 'latency', inputTokens: 1, outputTokens: 1, batch: 1, maxBatch: 1 }
    expect(rightOf(inferenceWorkload(w))).toEqual(w)
  })

  it('accepts a workload without batch or maxBatch (the search chooses the batch)', () => {
    const w: InferenceWorkload = { mode: 'static', inputTokens: 1024, outputTokens: 256 }
    expect(rightOf(inferenceWorkload(w))).toEqual(w)
  })

  const lengths = ['inputTokens', 'outputTokens'] as const
  const limits = ['batch', 'maxBatch'] as const
  const bad: ReadonlyArray<[number, string]> = [
    [0, '0'],
    [-1, '-1'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    // 2^53 = 9,007,199,254,740,992 is not a safe integer
    [2 ** 53, '9007199254740992'],
  ]
  for (const field of limits) {
    for (const [value, shown] of [...bad, [1.5, '1.5'] as [number, string]]) {
      it(`rejects ${field} = ${shown} as invalid-workload naming workload.${field}`, () => {
        const e: EstimateError = leftOf(inferenceWorkload({ ...valid, [field]: value }))
        expect(e.code).toBe('invalid-workload')
        expect(e.message).toBe(`workload.${field}: expected a positive integer, got ${shown}`)
      })
    }
  }
  for (const field of lengths) {
    for (const [value, shown] of [...bad, [0.5, '0.5'] as [number, string]]) {
      it(`rejects ${field} = ${shown} as invalid-workload naming workload.${field}`, () => {
        const e: EstimateError = leftOf(inferenceWorkload({ ...valid, [field]: value }))
        expect(e.code).toBe('invalid-workload')
        expect(e.message).toBe(`workload.${field}: expected a number of tokens, 1 or more, got ${shown}`)
      })
    }
    it(`accepts a mean ${field} that is not whole (1.5): the case format's means need not be`, () => {
      expect(rightOf(inferenceWorkload({ ...valid, [field]: 1.5 }))[field]).toBe(1.5)
    })
  }

  it('rejects an unknown mode naming workload.mode, the modes and the value', () => {
    const e = leftOf(inferenceWorkload({ ...valid, mode: 'fastest' as InferenceWorkload['mode'] }))
    expect(e.code).toBe('invalid-workload')
    expect(e.message).toBe('workload.mode: expected one of static, max_throughput, latency, got "fastest"')
  })

  it('law: a workload of positive safe integers is accepted whatever the mode', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...inferenceModes),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.option(fc.integer({ min: 1, max: 4096 }), { nil: undefined }),
        (mode, inputTokens, outputTokens, batch) => {
          const w: InferenceWorkload = batch === undefined ? { mode, inputTokens, outputTokens } : { mode, inputTokens, outputTokens, batch }
          expect(E.isRight(inferenceWorkload(w))).toBe(true)
        },
      ),
    )
  })

  it('law: a batch limit that is not a positive integer, or a length below one token, is rejected, naming its field', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(fc.constantFrom(...limits), fc.oneof(fc.integer({ max: 0 }), fc.double({ noInteger: true }), fc.constant(Number.NaN))),
          fc.tuple(fc.constantFrom(...lengths), fc.oneof(fc.double({ max: 0.999, noNaN: true }), fc.constant(Number.NaN))),
        ),
        ([field, value]) => {
          const e = leftOf(inferenceWorkload({ ...valid, [field]: value }))
          expect(e.code).toBe('invalid-workload')
          expect(e.message.startsWith(`workload.${field}: `)).toBe(true)
        },
      ),
    )
  })
})

// -------------------------------------------------------------------------------------
// decodeInferenceWorkload: workloads from a file
// -------------------------------------------------------------------------------------

describe('decodeInferenceWorkload', () => {
  it('reads the snake_case fields of a file into a workload', () => {
    const w = decodeInferenceWorkload({ kind: 'inference', mode: 'max_throughput', input_tokens: 8, output_tokens: 4, batch: 3, max_batch: 64 })
    expect(rightOf(w)).toEqual({ mode: 'max_throughput', inputTokens: 8, outputTokens: 4, batch: 3, maxBatch: 64 })
  })

  it('defaults the mode to static and leaves batch and maxBatch absent (not undefined)', () => {
    const w = rightOf(decodeInferenceWorkload({ input_tokens: 1024, output_tokens: 256 }))
    expect(w).toEqual({ mode: 'static', inputTokens: 1024, outputTokens: 256 })
    expect('batch' in w).toBe(false)
    expect('maxBatch' in w).toBe(false)
  })

  it('reports a bad length at its JSON path under the given root, with the value found', () => {
    const issues = leftOf(decodeInferenceWorkload({ input_tokens: 0, output_tokens: 256 }, 'plan.workload'))
    expect(issues).toEqual([{ path: 'plan.workload.input_tokens', value: 0, expected: 'a number of tokens from 1 to 2,147,483,647 (a mean need not be whole)' }])
  })

  it('uses the root "workload" by default', () => {
    const issues = leftOf(decodeInferenceWorkload({ input_tokens: 128, output_tokens: -1 }))
    expect(paths(issues)).toEqual(['workload.output_tokens'])
  })

  it('reports a missing required field at its path', () => {
    const issues = leftOf(decodeInferenceWorkload({ output_tokens: 1 }, 'plan.workload'))
    expect(paths(issues)).toEqual(['plan.workload.input_tokens'])
  })

  it('rejects an unknown key, naming it and the known fields', () => {
    const issues = leftOf(decodeInferenceWorkload({ input_tokens: 1, output_tokens: 1, batchh: 3 }, 'plan.workload'))
    expect(issues).toHaveLength(1)
    const issue = issues[0] as DecodeIssue
    expect(issue.path).toBe('plan.workload.batchh')
    expect(issue.value).toBe(3)
    expect(issue.expected).toContain('batchh')
    expect(issue.expected).toContain('max_batch')
  })

  it('reports every bad field at once: below one token, non-numeric, unknown mode, wrong kind, zero batch, fractional limit', () => {
    const issues = leftOf(
      decodeInferenceWorkload({ input_tokens: 0.5, output_tokens: 'x', mode: 'fast', kind: 'training', batch: 0, max_batch: 2.5 }, 'plan.workload'),
    )
    expect(paths(issues)).toEqual([
      'plan.workload.batch',
      'plan.workload.input_tokens',
      'plan.workload.kind',
      'plan.workload.max_batch',
      'plan.workload.mode',
      'plan.workload.output_tokens',
    ])
    const mode = issues.find((i) => i.path === 'plan.workload.mode')
    expect(mode?.value).toBe('fast')
    expect(mode?.expected).toContain('static')
  })

  it('rejects a value that is not an object at the root path', () => {
    expect(paths(leftOf(decodeInferenceWorkload(null, 'cases[3].workload')))).toEqual(['cases[3].workload'])
    expect(paths(leftOf(decodeInferenceWorkload([1, 2], 'w')))).toEqual(['w'])
  })

  it('law: what it decodes, inferenceWorkload accepts', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.option(fc.constantFrom(...inferenceModes), { nil: undefined }),
        (input, output, mode) => {
          const file = mode === undefined ? { input_tokens: input, output_tokens: output } : { input_tokens: input, output_tokens: output, mode }
          const w = rightOf(decodeInferenceWorkload(file))
          expect(w.mode).toBe(mode ?? 'static')
          expect(E.isRight(inferenceWorkload(w))).toBe(true)
        },
      ),
    )
  })
})

// -------------------------------------------------------------------------------------
// operations and constants
// -------------------------------------------------------------------------------------

describe('contextTokens', () => {
  it('is input plus output: 1024 + 256 = 1280', () => {
    expect(contextTokens(valid)).toBe(1280)
  })
})

describe('defaultMaxBatch', () => {
  it('is 1024, the largest batch among the measured cases', () => {
    expect(defaultMaxBatch).toBe(1024)
  })
})
