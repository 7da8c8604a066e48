/**
 * Memory of one GPU, stacked by what holds it, against the device's capacity (a dashed
 * rule), in GB (10⁹ bytes, as the command prints them).
 *
 * Serving (`inferenceMemoryPlot`): the fullest pipeline stage's GPU at the estimated
 * batch: weights, KV cache, workspace (the prefill's activations) and reserve (the
 * runtime's own: CUDA context, allocator), the estimate's `memory` parts, which add up
 * to its `perGpu`.
 * Training (`trainingMemoryPlot`): one bar per class of pipeline stages (the same layers
 * and role), the fullest GPU of each: weights, gradients, optimizer state, stored
 * activations and reserve, which add up to the stage's `memory.total`.
 *
 * @example
 * import { inferenceMemoryPlot, trainingMemoryPlot } from '@meshplan/plots'
 * inferenceMemoryPlot(estimate) // { name: 'memory', view: { layer: [segments, capacity rule, its label] } }
 */
import type { InferenceEstimate } from '@meshplan/inference'
import type { TrainingEstimate, TrainingStageEstimate } from '@meshplan/training'
import { formatBytes } from '@meshplan/units'
import { segmentsOf, stackedBarsView, type Segment } from './bars'
import { tip, type Part, type Plot } from './spec'

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const GB = 1e9
const bytesText = formatBytes()

/** The parts in GB. */
const inGigabytes = (parts: ReadonlyArray<readonly [Part, number]>): ReadonlyArray<readonly [Part, number]> => parts.map(([part, bytes]) => [part, bytes / GB])

const bytesTooltip = [tip('bar', 'GPU'), tip('part', 'part'), tip('value', 'GB', ',.4~g'), tip('share', 'share', '.1%')]

const inferenceParts = ['weights', 'KV cache', 'workspace', 'reserve'] as const satisfies ReadonlyArray<Part>

/** A serving estimate's memory per GPU by part, GB (see the module comment). */
export const inferenceMemorySegments = (e: InferenceEstimate): ReadonlyArray<Segment> => {
  const m = e.memory
  return segmentsOf(
    `a GPU: ${bytesText(m.perGpu)} of ${bytesText(m.capacity)}`,
    'GB',
    inGigabytes([
      ['weights', m.weights],
      ['KV cache', m.kvCache],
      ['workspace', m.workspace],
      ['reserve', m.reserve],
    ]),
  )
}

/** Memory of a serving GPU against its capacity (see the module comment). */
export const inferenceMemoryPlot = (e: InferenceEstimate): Plot => {
  const segments = inferenceMemorySegments(e)
  return {
    name: 'memory',
    title: 'Memory per GPU',
    subtitle: `batch ${e.batch}: ${bytesText(e.memory.perGpu)} of ${bytesText(e.memory.capacity)}${e.memory.fits ? '' : ' (does not fit)'}`,
    view: stackedBarsView({
      name: 'memory',
      segments,
      parts: inferenceParts,
      xTitle: 'GB per GPU',
      format: ',.4~g',
      unit: 'GB',
      tooltip: bytesTooltip,
      bars: [...new Set(segments.map((s) => s.bar))],
      limit: { value: e.memory.capacity / GB, label: `capacity ${bytesText(e.memory.capacity)}` },
    }),
  }
}

const trainingParts = ['weights', 'gradients', 'optimizer state', 'activations', 'reserve'] as const satisfies ReadonlyArray<Part>

/** The bar of a class of stages: its ranks. */
export const stageLabel = (s: TrainingStageEstimate): string => {
  const first = s.ranks[0] ?? 0
  const last = s.ranks[s.ranks.length - 1] ?? first
  const ranks = s.ranks.length === 1 ? `stage ${first}` : `stages ${first}-${last}`
  return `${ranks}${s.holds.length === 0 ? '' : ` (+${s.holds.join(', ')})`}: ${bytesText(s.memory.total)}`
}

/** A training estimate's memory per GPU by part, one bar per class of stages, GB (see the module comment). */
export const trainingMemorySegments = (e: TrainingEstimate): ReadonlyArray<Segment> =>
  e.stages.flatMap((s) =>
    segmentsOf(
      stageLabel(s),
      'GB',
      inGigabytes([
        ['weights', s.memory.weights],
        ['gradients', s.memory.gradients],
        ['optimizer state', s.memory.optimizer],
        ['activations', s.memory.activations],
        ['reserve', s.memory.reserve],
      ]),
    ),
  )

/** Memory of a training GPU per class of pipeline stages against its capacity (see the module comment). */
export const trainingMemoryPlot = (e: TrainingEstimate): Plot => {
  const segments = trainingMemorySegments(e)
  return {
    name: 'memory',
    title: 'Memory per GPU by pipeline stage',
    subtitle: `the fullest: ${bytesText(e.memory.peak)} of ${bytesText(e.memory.capacity)}${e.memory.fits ? '' : ' (does not fit)'}`,
    view: stackedBarsView({
      name: 'memory',
      segments,
      parts: trainingParts,
      xTitle: 'GB per GPU',
      format: ',.4~g',
      unit: 'GB',
      tooltip: bytesTooltip,
      bars: e.stages.map(stageLabel),
      limit: { value: e.memory.capacity / GB, label: `capacity ${bytesText(e.memory.capacity)}` },
    }),
  }
}
