import * as E from 'fp-ts/Either'
import { defaultCostModels } from '@meshplan/cost-models'
import { peakOf } from '@meshplan/compute'
import { figure, inferenceSteps, rooflinePlot, rooflinePoints, toSvg, trainingStep } from '../src'
import { right, servingEstimate, servingInput, trainingEstimate, trainingInput } from './fixtures'
import { expectClose, labelsOf, marksOf, parseSvg, textsOf } from '@meshplan/test-utils'

describe('the roofline of a serving step', () => {
  const e = servingEstimate()
  const steps = right(inferenceSteps(defaultCostModels, servingInput, e))
  const device = servingInput.cluster.device

  it('re-times the estimate\'s steps: the operators add up to its compute of each phase', () => {
    const [prefill, decode] = steps
    expectClose(prefill?.step.seconds ?? NaN, e.breakdown.prefill.computeBound + e.breakdown.prefill.memoryBound, 1e-9)
    expectClose(decode?.step.seconds ?? NaN, e.breakdown.decode.computeBound + e.breakdown.decode.memoryBound, 1e-9)
  })

  it('puts every operator with FLOPs and bytes under its roof, min(peak, intensity x bandwidth)', () => {
    const points = rooflinePoints(steps)
    expect(points.length).toBeGreaterThan(10)
    for (const p of points) {
      const peak = right(peakOf(device, p.dtype as 'bf16'))
      expect(p.achieved).toBeLessThanOrEqual(Math.min(peak, p.intensity * device.memoryBandwidth) * (1 + 1e-9))
      expect(p.intensity).toBeCloseTo(p.flops / p.bytes, 9)
    }
    // decode at batch 8 per GPU reads its weights for few tokens: its GEMMs are memory-bound
    expect(points.filter((p) => p.phase === 'decode' && p.operator === 'mlp-up').every((p) => p.bound === 'memory')).toBe(true)
  })

  it('draws a point per operator, the roof and its axis titles', async () => {
    const root = parseSvg(await toSvg(figure('estimate', [right(rooflinePlot(steps, device))])))
    const points = rooflinePoints(steps)
    const labels = labelsOf(root, 'roofline_operators')
    expect(labels).toHaveLength(points.length)
    expect(labels.filter((l) => l.startsWith('decode '))).toHaveLength(points.filter((p) => p.phase === 'decode').length)
    expect(marksOf(root, 'roofline_roofs')).toHaveLength(1)
    expect(textsOf(root)).toEqual(expect.arrayContaining(["Roofline of a step's operators", 'arithmetic intensity (FLOP/byte)', 'FLOP/s']))
  })

  it('refuses a step without operators', () => {
    expect(E.isLeft(rooflinePlot([], device))).toBe(true)
  })
})

describe('the roofline of a training step', () => {
  it('times one micro-batch forward and backward on the slowest stage: about the estimate\'s compute of it', () => {
    const input = trainingInput()
    const e = trainingEstimate(input)
    const [step] = right(trainingStep(defaultCostModels, input, e))
    const slowest = e.stages.reduce((a, s) => (s.microBatch.total > a.microBatch.total ? s : a))
    const compute = slowest.microBatch.forward + slowest.microBatch.backward + slowest.microBatch.recompute
    // the search's fast path prices a layer once and multiplies; the operators are the same forms
    expect(step?.step.seconds ?? 0).toBeGreaterThan(0.9 * compute)
    expect(step?.step.seconds ?? 0).toBeLessThan(1.1 * compute)
    expect(rooflinePoints(step === undefined ? [] : [step]).some((p) => p.pass === 'backward')).toBe(true)
  })
})
