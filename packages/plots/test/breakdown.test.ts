import * as fc from 'fast-check'
import { commKinds } from '@meshplan/cost-models'
import type { StepBreakdown } from '@meshplan/inference'
import { exposedByKind, figure, inferenceBreakdownPlot, inferenceBreakdownSegments, toSvg, trainingBreakdownPlot, trainingBreakdownSegments } from '../src'
import { servingEstimate, trainingEstimate } from './fixtures'
import { expectClose, labelsOf, parseSvg, textsOf } from '@meshplan/test-utils'

const sum = (xs: ReadonlyArray<number>): number => xs.reduce((a, b) => a + b, 0)

describe('exposed communication per kind', () => {
  const step = (communication: StepBreakdown['communication'], exposedCommunication: number): StepBreakdown =>
    ({ communication, exposedCommunication, seconds: 0, compute: {}, computeBound: 0, memoryBound: 0, bottleneck: 'communication', stage: [0], batch: 1, context: 1 }) as unknown as StepBreakdown

  it('exposes a kind that cannot overlap whole, and hides the rest among those that can', () => {
    // tp 2 ms never overlaps, ep 3 ms may, 1 ms of compute hides 1 ms of ep: exposed 2 + 2 = 4 ms
    const exposed = exposedByKind(step({ tp: 2, ep: 3, pp: 0, cp: 0 }, 4), { tp: 0, ep: 1, pp: 0, cp: 1 })
    expect(exposed.tp).toBe(2)
    expect(exposed.ep).toBe(2)
  })

  it('adds up to the estimate\'s exposed communication, each kind between 0 and its whole', () => {
    const time = fc.double({ min: 0, max: 10, noNaN: true })
    const share = fc.double({ min: 0, max: 1, noNaN: true })
    fc.assert(
      fc.property(fc.record({ tp: time, ep: time, pp: time, cp: time }), fc.record({ tp: share, ep: share, pp: share, cp: share }), time, (comm, overlap, compute) => {
        const hideable = commKinds.reduce((s, k) => s + overlap[k] * comm[k], 0)
        const total = commKinds.reduce((s, k) => s + comm[k], 0)
        const exposedTotal = total - Math.min(hideable, compute)
        const exposed = exposedByKind(step(comm, exposedTotal), overlap)
        expect(sum(commKinds.map((k) => exposed[k]))).toBeCloseTo(exposedTotal, 9)
        for (const k of commKinds) {
          expect(exposed[k]).toBeGreaterThanOrEqual(-1e-12)
          expect(exposed[k]).toBeLessThanOrEqual(comm[k] + 1e-12)
        }
      }),
    )
  })
})

describe('where a serving step goes', () => {
  const e = servingEstimate()

  it('splits each phase into compute-bound, memory-bound and exposed communication that add up to its step', () => {
    const segments = inferenceBreakdownSegments(e)
    for (const phase of ['prefill', 'decode'] as const) {
      const mine = segments.filter((s) => s['phase'] === phase)
      expectClose(sum(mine.map((s) => Number(s['seconds']))), e.breakdown[phase].seconds, 1e-5)
      expectClose(sum(mine.map((s) => s.share)), 1, 1e-5)
      expectClose(Number(mine.find((s) => s.part === 'memory-bound')?.['seconds']), e.breakdown[phase].memoryBound, 1e-5)
    }
  })

  it('draws one bar segment per non-zero part, with the phase and step time on the axis', async () => {
    const root = parseSvg(await toSvg(figure('estimate', [inferenceBreakdownPlot(e)])))
    const segments = inferenceBreakdownSegments(e)
    expect(labelsOf(root, 'breakdown_segments')).toEqual(segments.map((s) => s.description))
    expect(labelsOf(root, 'breakdown_segments').some((l) => l.startsWith('decode step: ') && l.includes(': memory-bound '))).toBe(true)
    const texts = textsOf(root)
    expect(texts).toContain('Where a step goes')
    expect(texts).toContain('share of the step')
    expect(texts.some((t) => t.startsWith('prefill step: '))).toBe(true)
  })
})

describe('where a training step goes', () => {
  const e = trainingEstimate()

  it('has the estimate\'s parts, which add up to the iteration', () => {
    const segments = trainingBreakdownSegments(e)
    expectClose(sum(segments.map((s) => s.value)), e.iterationSeconds, 1e-5)
    expectClose(segments.find((s) => s.part === 'compute')?.value ?? NaN, e.breakdown.compute, 1e-5)
    expectClose(segments.find((s) => s.part === 'bubble')?.value ?? NaN, e.breakdown.bubble, 1e-5)
    // a pipeline of 4 stages has a bubble; one GPU's tensor parallelism exposes TP communication
    expect(segments.map((s) => s.part)).toEqual(expect.arrayContaining(['compute', 'bubble', 'exposed TP', 'optimizer']))
  })

  it('draws a segment per part with its seconds, under its title', async () => {
    const root = parseSvg(await toSvg(figure('estimate', [trainingBreakdownPlot(e)])))
    expect(labelsOf(root, 'breakdown_segments')).toHaveLength(trainingBreakdownSegments(e).length)
    expect(textsOf(root)).toEqual(expect.arrayContaining(['Where an iteration goes', 'seconds']))
  })
})
