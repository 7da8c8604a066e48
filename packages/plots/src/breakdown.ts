/**
 * Where a step's time goes, as stacked bars that add up to the step.
 *
 * Serving (`inferenceBreakdownPlot`): one bar per phase (a prefill and a decode step of
 * the slowest pipeline stage, one micro-batch), as shares of the step, whose seconds the
 * bar's label gives: compute under the compute roof, compute under the memory roof, and
 * the communication left exposed per kind. The estimate gives the exposed communication
 * as one budget (`Σ comm − min(Σ overlap_k·comm_k, compute)`: no two collectives hide
 * behind the same compute); the plot splits what is hidden among the kinds in proportion
 * to what each could hide (`overlap_k·comm_k`), so a kind that never overlaps is exposed
 * whole and the parts add up to the estimate's exposed communication.
 *
 * Training (`trainingBreakdownPlot`): one bar of the iteration, in seconds: compute (the
 * slowest stage over all micro-batches), compute lost to communication beside it, the
 * pipeline bubble, exposed TP/CP/EP/PP/DP communication, exposed offload traffic and the
 * optimizer step, the estimate's `breakdown` as it is.
 *
 * @example
 * import { inferenceBreakdownPlot, trainingBreakdownPlot } from '@meshplan/plots'
 * inferenceBreakdownPlot(estimate) // { name: 'breakdown', view: { layer: [prefill and decode bars] } }
 * trainingBreakdownPlot(trainingEstimate)
 */
import { defaultCostModels, commKinds, type CommKind, type Overlap } from '@meshplan/cost-models'
import type { InferenceEstimate, StepBreakdown } from '@meshplan/inference'
import type { TrainingEstimate } from '@meshplan/training'
import { formatSeconds } from '@meshplan/units'
import { segmentsOf, stackedBarsView, type Segment } from './bars'
import { tip, type Part, type Plot } from './spec'

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const seconds = formatSeconds({ digits: 3 })

/**
 * The exposed communication of a serving step per kind: what is hidden (`Σ comm −
 * exposed`) shared among the kinds as `overlap_k·comm_k`; the kinds add up to
 * `b.exposedCommunication`.
 */
export const exposedByKind = (b: StepBreakdown, overlap: Overlap = defaultCostModels.overlap): Readonly<Record<CommKind, number>> => {
  const total = commKinds.reduce((s, k) => s + b.communication[k], 0)
  const hidden = Math.max(0, total - b.exposedCommunication)
  const hideable = commKinds.reduce((s, k) => s + overlap[k] * b.communication[k], 0)
  const out = {} as Record<CommKind, number>
  for (const k of commKinds) out[k] = b.communication[k] - (hideable > 0 ? (hidden * overlap[k] * b.communication[k]) / hideable : 0)
  return out
}

const inferenceParts = ['compute-bound', 'memory-bound', 'exposed TP', 'exposed EP', 'exposed PP', 'exposed CP'] as const satisfies ReadonlyArray<Part>
// commKinds' order: tp, ep, pp, cp
const exposedPart: Readonly<Record<CommKind, Part>> = { tp: 'exposed TP', ep: 'exposed EP', pp: 'exposed PP', cp: 'exposed CP' }

/** The segments of a serving estimate's breakdown: per phase, its parts as shares of the step (`value`, `share`) with their `seconds`. */
export const inferenceBreakdownSegments = (e: InferenceEstimate, overlap: Overlap = defaultCostModels.overlap): ReadonlyArray<Segment> =>
  (['prefill', 'decode'] as const).flatMap((phase) => {
    const b = e.breakdown[phase]
    const exposed = exposedByKind(b, overlap)
    const parts: ReadonlyArray<readonly [Part, number]> = [['compute-bound', b.computeBound], ['memory-bound', b.memoryBound], ...commKinds.map((k) => [exposedPart[k], exposed[k]] as const)]
    // the bars are shares of their step (a prefill and a decode step differ by orders of magnitude); the seconds ride along
    return segmentsOf(`${phase} step: ${seconds(b.seconds)}`, 's', parts, { phase }).map((s) => ({ ...s, seconds: s.value, value: s.share }))
  })

/** Where a serving step goes, prefill and decode (see the module comment). */
export const inferenceBreakdownPlot = (e: InferenceEstimate, overlap: Overlap = defaultCostModels.overlap): Plot => {
  const segments = inferenceBreakdownSegments(e, overlap)
  return {
    name: 'breakdown',
    title: 'Where a step goes',
    subtitle: `${e.description}, batch ${e.batch}: the slowest pipeline stage, one micro-batch`,
    view: stackedBarsView({
      name: 'breakdown',
      segments,
      parts: inferenceParts,
      xTitle: 'share of the step',
      shares: true,
      format: '.1%',
      unit: 'share',
      tooltip: [tip('phase', 'phase'), tip('part', 'part'), tip('seconds', 'seconds', '.4~g'), tip('share', 'share', '.1%')],
      bars: [...new Set(segments.map((s) => s.bar))],
    }),
  }
}

const trainingParts = ['compute', 'SM contention', 'bubble', 'exposed TP', 'exposed CP', 'exposed EP', 'exposed PP', 'exposed DP', 'exposed offload', 'optimizer'] as const satisfies ReadonlyArray<Part>

/** The segments of a training estimate's breakdown, seconds; they add up to the iteration. */
export const trainingBreakdownSegments = (e: TrainingEstimate): ReadonlyArray<Segment> => {
  const b = e.breakdown
  return segmentsOf(`iteration: ${seconds(e.iterationSeconds)}`, 's', [
    ['compute', b.compute],
    ['SM contention', b.contention],
    ['bubble', b.bubble],
    ['exposed TP', b.exposed.tp],
    ['exposed CP', b.exposed.cp],
    ['exposed EP', b.exposed.ep],
    ['exposed PP', b.exposed.pp],
    ['exposed DP', b.exposed.dp],
    ['exposed offload', b.offload],
    ['optimizer', b.optimizer],
  ])
}

/** Where a training step goes (see the module comment). */
export const trainingBreakdownPlot = (e: TrainingEstimate): Plot => {
  const segments = trainingBreakdownSegments(e)
  return {
    name: 'breakdown',
    title: 'Where an iteration goes',
    subtitle: `${e.description}, ${e.microBatches} micro-batches`,
    view: stackedBarsView({ name: 'breakdown', segments, parts: trainingParts, xTitle: 'seconds', format: '.4~g', unit: 'seconds', bars: [...new Set(segments.map((s) => s.bar))] }),
  }
}
