/**
 * The roofline of a step's operators (Williams, Waterman & Patterson 2009): each operator
 * of one GPU's step at its arithmetic intensity (FLOPs per byte it moves) and the FLOP/s
 * it achieves in the compute model (`count·flops / seconds`), under the device's roof
 * `min(peak, intensity × memory bandwidth)`, one roof per compute format the operators
 * use (fp8 training's embedding and LM head compute at the 16-bit peak), on log scales.
 * An operator sits below its roof by its efficiency (GEMM size, attention keys,
 * element-wise work, memory): @meshplan/compute's `operatorTime`.
 *
 * The operators come from @meshplan/compute's `phaseTime`, re-timed here as the
 * estimates time them: serving (`inferenceSteps`) a prefill and a decode step of the
 * slowest stage at the estimate's micro-batch and mean context; training
 * (`trainingStep`) a forward and backward pass (recomputation included) of one
 * micro-batch on the slowest stage. Operators without FLOPs or bytes (a lookup) have no
 * place on a log scale and are left out.
 *
 * @example
 * import { inferenceSteps, rooflinePlot } from '@meshplan/plots'
 * pipe(inferenceSteps(defaultCostModels, input, estimate), E.chain((steps) => rooflinePlot(steps, input.cluster.device)))
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import { decode, peakOf, phaseTime, prefill, training, type StepTime } from '@meshplan/compute'
import type { CostModels } from '@meshplan/cost-models'
import type { InferenceEstimate, InferenceInput } from '@meshplan/inference'
import type { Device } from '@meshplan/topology'
import type { TrainingEstimate, TrainingInput } from '@meshplan/training'
import type { Dtype } from '@meshplan/units'
import { num, PANEL_WIDTH, tip, type Json, type Plot } from './spec'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A step to draw: its name (`prefill`, `decode`, `training`) and its operators' times. */
export interface NamedStep {
  readonly phase: string
  readonly step: StepTime
}

/** One operator on the roofline: all its instances in the step. */
export interface RooflinePoint {
  readonly [key: string]: Json
  readonly phase: string
  readonly operator: string
  readonly pass: string
  readonly dtype: string
  readonly bound: string
  readonly count: number
  /** FLOPs and bytes of all instances. */
  readonly flops: number
  readonly bytes: number
  /** FLOP per byte. */
  readonly intensity: number
  /** FLOP/s: flops / seconds. */
  readonly achieved: number
  readonly seconds: number
}

/** The roof of one compute format: `min(peak, intensity × bandwidth)`, turning at `ridge = peak / bandwidth`. */
export interface Roof {
  readonly dtype: Dtype
  readonly peak: number
  readonly bandwidth: number
  readonly ridge: number
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The operators of `steps` with FLOPs, bytes and time, as points. */
export const rooflinePoints = (steps: ReadonlyArray<NamedStep>): ReadonlyArray<RooflinePoint> =>
  steps.flatMap(({ phase, step }) =>
    step.operators.flatMap((t) => {
      const op = t.operator
      const flops = op.count * op.flops
      const bytes = op.count * op.bytes
      if (!(flops > 0 && bytes > 0 && t.seconds > 0)) return []
      return [{ phase, operator: op.name, pass: op.pass, dtype: op.dtype, bound: t.bound, count: op.count, flops, bytes, intensity: flops / bytes, achieved: flops / t.seconds, seconds: t.seconds }]
    }),
  )

/** The roofs of the formats `points` compute in on `device`. Left: the device has no peak in one of them. */
export const roofsOf = (points: ReadonlyArray<RooflinePoint>, device: Device): E.Either<string, ReadonlyArray<Roof>> => {
  const roofs: Roof[] = []
  for (const dtype of [...new Set(points.map((p) => p.dtype as Dtype))].sort()) {
    const peak = peakOf(device, dtype)
    if (E.isLeft(peak)) return E.left(peak.left.message)
    roofs.push({ dtype, peak: peak.right, bandwidth: device.memoryBandwidth, ridge: peak.right / device.memoryBandwidth })
  }
  return E.right(roofs)
}

/** The power of ten at or below `x`, and at or above: the ends of a log axis. */
const decadeBelow = (x: number): number => 10 ** Math.floor(Math.log10(x))
const decadeAbove = (x: number): number => 10 ** Math.ceil(Math.log10(x))

/**
 * The roofline of `steps` on `device` (see the module comment): a point per operator,
 * coloured by step, shaped by the roof it sits under, and each format's roof. Left: no
 * operator with FLOPs and bytes, or a format the device has no peak in.
 */
export const rooflinePlot = (steps: ReadonlyArray<NamedStep>, device: Device): E.Either<string, Plot> => {
  const points = rooflinePoints(steps)
  if (points.length === 0) return E.left('no operator with FLOPs and bytes to place on a roofline')
  return pipe(
    roofsOf(points, device),
    E.map((roofs) => {
      // the axes span every operator and every ridge, by whole decades
      const xLow = decadeBelow(Math.min(...points.map((p) => p.intensity), ...roofs.map((r) => r.ridge)) / 2)
      const xHigh = decadeAbove(Math.max(...points.map((p) => p.intensity), ...roofs.map((r) => r.ridge)) * 2)
      const yLow = decadeBelow(Math.min(...points.map((p) => p.achieved), ...roofs.map((r) => xLow * r.bandwidth)))
      const yHigh = decadeAbove(Math.max(...roofs.map((r) => r.peak)) * 1.5)
      // each roof as a polyline: up the bandwidth slope to the ridge, then flat at the peak
      const roofData = roofs.flatMap((r) => {
        const roof = `${r.dtype} peak ${num(r.peak / 1e12)} TFLOP/s, ${num(r.bandwidth / 1e12)} TB/s`
        return [xLow, r.ridge, xHigh].map((intensity, order) => ({ roof, intensity: num(intensity), flops: num(Math.min(r.peak, intensity * r.bandwidth)), order }))
      })
      const x = { field: 'intensity', type: 'quantitative', title: 'arithmetic intensity (FLOP/byte)', scale: { type: 'log', domain: [xLow, xHigh] }, axis: { format: '~s' } } as const
      const y = { field: 'flops', type: 'quantitative', title: 'FLOP/s', scale: { type: 'log', domain: [yLow, yHigh] }, axis: { format: '~s' } } as const
      const phases = [...new Set(points.map((p) => p.phase))]
      return {
        name: 'roofline' as const,
        title: "Roofline of a step's operators",
        subtitle: `${device.name}: ${points.length} operators (${phases.join(', ')})`,
        view: {
          width: PANEL_WIDTH,
          height: 360,
          layer: [
            {
              name: 'roofline_roofs',
              data: { values: roofData },
              mark: { type: 'line', color: '#333333', strokeWidth: 2 },
              encoding: { x, y, detail: { field: 'roof', type: 'nominal' }, order: { field: 'order', type: 'quantitative' }, description: { field: 'roof', type: 'nominal' }, tooltip: [tip('roof', 'roof')] },
            },
            {
              name: 'roofline_operators',
              data: {
                values: points.map((p) => ({
                  ...p,
                  flops: num(p.achieved),
                  intensity: num(p.intensity),
                  work: num(p.flops),
                  bytes: num(p.bytes),
                  seconds: num(p.seconds),
                  achieved: num(p.achieved),
                  // what the point says in the SVG (aria-label)
                  description: `${p.phase} ${p.operator} (${p.pass}, ${p.dtype}, ${p.bound}-bound): ${num(p.intensity)} FLOP/byte, ${num(p.achieved)} FLOP/s`,
                })),
              },
              mark: { type: 'point', filled: true, size: 60, opacity: 0.85 },
              encoding: {
                x,
                y,
                color: { field: 'phase', type: 'nominal', title: 'step', scale: { domain: phases, range: ['#4e79a7', '#f28e2b', '#59a14f'] } },
                shape: { field: 'bound', type: 'nominal', title: 'bound by', scale: { domain: ['compute', 'memory'], range: ['circle', 'triangle-up'] } },
                description: { field: 'description', type: 'nominal' },
                tooltip: [
                  tip('operator', 'operator'),
                  tip('phase', 'step'),
                  tip('pass', 'pass'),
                  tip('dtype', 'format'),
                  tip('bound', 'bound by'),
                  tip('intensity', 'FLOP/byte', '.4~g'),
                  tip('achieved', 'FLOP/s', '.4~s'),
                  tip('seconds', 'seconds', '.4~g'),
                ],
              },
            },
            {
              name: 'roofline_ridges',
              data: { values: roofs.map((r) => ({ intensity: num(r.ridge), flops: num(r.peak), label: `${r.dtype} ridge: ${Number(r.ridge.toPrecision(3))} FLOP/byte` })) },
              mark: { type: 'text', align: 'left', baseline: 'bottom', dx: 4, dy: -4, fontSize: 10, color: '#333333', aria: false },
              encoding: { x, y, text: { field: 'label', type: 'nominal' } },
            },
          ],
        },
      } satisfies Plot
    }),
  )
}

/** The serving estimate's steps as its breakdown times them: a prefill and a decode step of the slowest stage (see the module comment). */
export const inferenceSteps = (models: CostModels, input: InferenceInput, e: InferenceEstimate): E.Either<string, ReadonlyArray<NamedStep>> => {
  const deployment = (rank: number) => ({ arch: input.model, strategy: e.strategy, precision: input.precision, ppRank: rank, serving: true })
  const p = e.breakdown.prefill
  const d = e.breakdown.decode
  const prefillStep = pipe(
    prefill({ tokens: Math.max(1, Math.round(input.workload.inputTokens)), batch: Math.max(1, Math.round(p.batch)) }),
    E.chain(phaseTime(models.compute, deployment(p.stage[0] ?? 0), input.cluster.device)),
  )
  const decodeStep = pipe(
    decode({ batch: Math.max(1, Math.round(d.batch)), context: Math.round(d.context) }),
    E.chain(phaseTime(models.compute, deployment(d.stage[0] ?? 0), input.cluster.device)),
  )
  return pipe(
    prefillStep,
    E.chain((ps) => pipe(decodeStep, E.map((ds): ReadonlyArray<NamedStep> => [{ phase: 'prefill', step: ps }, { phase: 'decode', step: ds }]))),
    E.mapLeft((error) => error.message),
  )
}

/** The training estimate's step: one micro-batch's forward and backward on the slowest stage (see the module comment). */
export const trainingStep = (models: CostModels, input: TrainingInput, e: TrainingEstimate): E.Either<string, ReadonlyArray<NamedStep>> => {
  const slowest = e.stages.reduce<(typeof e.stages)[number] | undefined>((a, s) => (a === undefined || s.microBatch.total > a.microBatch.total ? s : a), undefined)
  const w = input.workload
  return pipe(
    training({ sequence: w.sequenceLength, batch: w.microBatch, recompute: w.recompute }),
    E.chain(phaseTime(models.compute, { arch: input.model, strategy: e.strategy, precision: input.precision, ppRank: slowest?.ranks[0] ?? 0 }, input.cluster.device)),
    E.map((step): ReadonlyArray<NamedStep> => [{ phase: 'training', step }]),
    E.mapLeft((error) => error.message),
  )
}
