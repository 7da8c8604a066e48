/**
 * The pipeline schedule of a training step: each pipeline stage's GPU over time, its
 * forward and backward passes of every micro-batch, the exposed communication after each,
 * and the bubbles where it waits.
 *
 * Construction. The estimate gives, per class of stages, one micro-batch's forward `F`,
 * backward `B` and recomputation `R` seconds and its `total`, which adds the exposed
 * communication, the compute lost to communication beside it and exposed offload traffic:
 * `c = total − F − B − R`. A pass of the timeline is a compute block, `F` forward or `B + R`
 * backward, followed by its share of `c` in proportion to its compute (`c·F/(F+B+R)` after a
 * forward, the rest after a backward), drawn as communication; with `v` virtual stages
 * (interleaved), each of a GPU's `v` model chunks takes `1/v` of each.
 * Each GPU runs its passes in the order of Megatron-LM's schedules
 * (`megatron/core/pipeline_parallel/schedules.py`; Narayanan et al. 2021, section 2.2):
 * - 1F1B (PipeDream-Flush), `v = 1`: stage `r` of `p` runs `w = min(p − r − 1, m)` forwards,
 *   then alternates one forward and one backward, then the `w` backwards left;
 * - interleaved 1F1B, `v > 1` (`m` a multiple of `p`): the `k`-th forward of a GPU is
 *   micro-batch `⌊k/(p·v)⌋·p + k mod p` of chunk `⌊k/p⌋ mod v` (backwards take the chunks
 *   in reverse), after `w = min(2·(p − r − 1) + (v − 1)·p, m·v)` warm-up forwards.
 * A forward of micro-batch `j` on chunk `c` of stage `r` starts when the previous stage
 * (or, on stage 0, the last stage's previous chunk) has finished it; a backward when the
 * next stage (or, on the last stage, stage 0's next chunk) has finished its backward;
 * every pass also waits for the GPU's previous pass. The timeline is the earliest start of
 * every pass under these two rules, so its length can differ from the estimate's pipeline
 * time (`m·t_max + (Σ t_i − t_max)/v`, which the kernel uses) where stages are unequal:
 * the plot's title gives both. What follows the pipeline (the gradient reduction after
 * the drain, the optimizer step) is not drawn. ZB-H1 and DualPipe, whose passes split the
 * backward, are not drawn.
 *
 * @example
 * import { pipelineTimeline, schedulePlot } from '@meshplan/plots'
 * pipelineTimeline(trainingEstimate) // right({ stages: 4, microBatches: 8, virtualStages: 1, blocks: [...], seconds })
 */
import * as E from 'fp-ts/Either'
import type { TrainingEstimate } from '@meshplan/training'
import { formatSeconds } from '@meshplan/units'
import { colourScale, num, PANEL_WIDTH, tip, type Json, type Plot } from './spec'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export const blockKinds = ['forward', 'backward', 'communication', 'bubble'] as const
export type BlockKind = (typeof blockKinds)[number]

/** One block of the timeline: a pass, the communication after it, or a wait, on one stage's GPU, seconds from the step's start. */
export interface ScheduleBlock {
  readonly stage: number
  readonly kind: BlockKind
  /** The micro-batch and model chunk of a pass and of its communication; null for a bubble. */
  readonly microBatch: number | null
  readonly chunk: number | null
  readonly start: number
  readonly end: number
}

export interface PipelineTimeline {
  readonly schedule: '1f1b' | 'interleaved'
  readonly stages: number
  readonly microBatches: number
  readonly virtualStages: number
  /** Every stage's blocks, by stage then start. */
  readonly blocks: ReadonlyArray<ScheduleBlock>
  /** When the last pass ends. */
  readonly seconds: number
  /** The estimate's pipeline time for comparison, `m·t_max + bubble`. */
  readonly estimateSeconds: number
}

/** Passes a timeline draws at most (forwards and backwards): past this the bars are below a pixel. */
export const MAX_PASSES = 16384

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

interface Pass {
  readonly forward: boolean
  readonly microBatch: number
  readonly chunk: number
}

/** The passes of stage `r` in the order it runs them (see the module comment). */
export const passOrder = (p: number, m: number, v: number, r: number): ReadonlyArray<Pass> => {
  const total = m * v
  const warmup = Math.min(v === 1 ? p - r - 1 : 2 * (p - r - 1) + (v - 1) * p, total)
  const of = (k: number, forward: boolean): Pass => {
    if (v === 1) return { forward, microBatch: k, chunk: 0 }
    const chunk = Math.floor(k / p) % v
    return { forward, microBatch: Math.floor(k / (p * v)) * p + (k % p), chunk: forward ? chunk : v - 1 - chunk }
  }
  const out: Pass[] = []
  for (let k = 0; k < warmup; k++) out.push(of(k, true))
  for (let i = 0; i < total - warmup; i++) out.push(of(warmup + i, true), of(i, false))
  for (let k = total - warmup; k < total; k++) out.push(of(k, false))
  return out
}

/**
 * The timeline of `e`'s pipeline (see the module comment). Left: a schedule the plot does
 * not draw (ZB-H1, DualPipe), an interleaved one without a multiple of `p` micro-batches,
 * or more than {@link MAX_PASSES} passes.
 */
export const pipelineTimeline = (e: TrainingEstimate): E.Either<string, PipelineTimeline> => {
  const schedule = e.workload.schedule ?? '1f1b'
  if (schedule !== '1f1b') return E.left(`the schedule plot draws 1F1B and its interleaved form, not ${schedule === 'zb-h1' ? 'ZB-H1' : 'DualPipe'}`)
  const p = e.strategy.pp
  const v = e.strategy.virtualStages
  const m = e.microBatches
  if (!Number.isInteger(m) || m < 1) return E.left(`the schedule plot needs a whole number of micro-batches, got ${m}`)
  if (v > 1 && m % p !== 0) return E.left(`an interleaved schedule needs a multiple of pp (${p}) micro-batches, got ${m}`)
  if (2 * p * m * v > MAX_PASSES) return E.left(`${(2 * p * m * v).toLocaleString('en-US')} passes (${p} stages x ${m} micro-batches x ${v} chunks x forward and backward) are more than the plot draws (${MAX_PASSES.toLocaleString('en-US')})`)
  // per stage: a chunk's forward and backward compute, and the communication after each
  const times = Array.from({ length: p }, (_, r) => {
    const s = e.stages.find((c) => c.ranks.includes(r))
    const mb = s?.microBatch
    const forward = (mb?.forward ?? 0) / v
    const backward = ((mb?.backward ?? 0) + (mb?.recompute ?? 0)) / v
    const communication = Math.max(0, (mb?.total ?? 0) / v - forward - backward)
    const compute = forward + backward
    return { forward, backward, afterForward: compute > 0 ? (communication * forward) / compute : 0, afterBackward: compute > 0 ? (communication * backward) / compute : communication }
  })
  const orders = Array.from({ length: p }, (_, r) => passOrder(p, m, v, r))
  const key = (forward: boolean, r: number, chunk: number, j: number): number => ((forward ? 0 : 1) * p * v + chunk * p + r) * m + j
  const ends = new Map<number, number>()
  /** When what a pass waits for (on another stage) ends: 0 when it waits for nothing, undefined when that has not run yet. */
  const ready = (r: number, pass: Pass): number | undefined => {
    const { forward, chunk, microBatch: j } = pass
    if (forward) {
      if (r > 0) return ends.get(key(true, r - 1, chunk, j))
      return chunk > 0 ? ends.get(key(true, p - 1, chunk - 1, j)) : 0
    }
    if (r < p - 1) return ends.get(key(false, r + 1, chunk, j))
    return chunk < v - 1 ? ends.get(key(false, 0, chunk + 1, j)) : ends.get(key(true, r, chunk, j))
  }
  const next = new Array<number>(p).fill(0)
  const free = new Array<number>(p).fill(0)
  const blocks: ScheduleBlock[][] = Array.from({ length: p }, () => [])
  let left = orders.reduce((s, o) => s + o.length, 0)
  while (left > 0) {
    let progress = false
    for (let r = 0; r < p; r++) {
      const order = orders[r] ?? []
      const t = times[r]
      for (let pass = order[next[r] ?? 0]; pass !== undefined && t !== undefined; pass = order[next[r] ?? 0]) {
        const after = ready(r, pass)
        if (after === undefined) break
        const start = Math.max(free[r] ?? 0, after)
        const compute = pass.forward ? t.forward : t.backward
        const communication = pass.forward ? t.afterForward : t.afterBackward
        const stageBlocks = blocks[r] ?? []
        const gapFrom = free[r] ?? 0
        if (start > gapFrom) stageBlocks.push({ stage: r, kind: 'bubble', microBatch: null, chunk: null, start: gapFrom, end: start })
        stageBlocks.push({ stage: r, kind: pass.forward ? 'forward' : 'backward', microBatch: pass.microBatch, chunk: pass.chunk, start, end: start + compute })
        if (communication > 0) stageBlocks.push({ stage: r, kind: 'communication', microBatch: pass.microBatch, chunk: pass.chunk, start: start + compute, end: start + compute + communication })
        const end = start + compute + communication
        ends.set(key(pass.forward, r, pass.chunk, pass.microBatch), end)
        free[r] = end
        next[r] = (next[r] ?? 0) + 1
        left--
        progress = true
      }
    }
    // the orders are Megatron-LM's, which never wait on each other in a cycle; a guard, not a case
    if (!progress) return E.left('the pipeline schedule deadlocks (a bug in the schedule plot)')
  }
  const seconds = Math.max(...free)
  for (let r = 0; r < p; r++) {
    const end = free[r] ?? 0
    if (end < seconds) blocks[r]?.push({ stage: r, kind: 'bubble', microBatch: null, chunk: null, start: end, end: seconds })
  }
  const tMax = Math.max(...e.stages.map((s) => s.microBatch.total))
  return E.right({ schedule: v > 1 ? 'interleaved' : '1f1b', stages: p, microBatches: m, virtualStages: v, blocks: blocks.flat(), seconds, estimateSeconds: m * tMax + e.breakdown.bubble })
}

const seconds = formatSeconds({ digits: 3 })

/** The timeline's blocks as the plot's data: stage label, kind, micro-batch, times (seconds). */
const blockData = (t: PipelineTimeline): ReadonlyArray<{ readonly [key: string]: Json }> =>
  t.blocks.map((b) => ({
    stage: `stage ${b.stage}`,
    kind: b.kind,
    microBatch: b.microBatch,
    chunk: b.chunk,
    start: num(b.start),
    end: num(b.end),
    // what the block says in the SVG (aria-label)
    description: `stage ${b.stage}: ${b.kind}${b.microBatch === null ? '' : ` of micro-batch ${b.microBatch}${t.virtualStages > 1 ? ` chunk ${b.chunk ?? 0}` : ''}`}, ${num(b.start)} to ${num(b.end)} s`,
  }))

/** The pipeline schedule of `e` as a Gantt chart: one row per stage, one bar per block (see the module comment). */
export const schedulePlot = (e: TrainingEstimate): E.Either<string, Plot> => {
  const timeline = pipelineTimeline(e)
  if (E.isLeft(timeline)) return timeline
  const t = timeline.right
  const stages = Array.from({ length: t.stages }, (_, r) => `stage ${r}`)
  const name = t.schedule === 'interleaved' ? `interleaved 1F1B, ${t.virtualStages} chunks per GPU` : '1F1B'
  return E.right({
    name: 'schedule',
    title: `Pipeline schedule (${name})`,
    subtitle: `${t.stages} stage${t.stages === 1 ? '' : 's'} x ${t.microBatches} micro-batches in ${seconds(t.seconds)}; the estimate's pipeline: ${seconds(t.estimateSeconds)}`,
    view: {
      width: PANEL_WIDTH,
      height: Math.min(480, Math.max(60, t.stages * 22)),
      layer: [
        {
          name: 'schedule_blocks',
          data: { values: [...blockData(t)] },
          mark: { type: 'bar' },
          encoding: {
            y: { field: 'stage', type: 'ordinal', title: 'pipeline stage (one GPU)', sort: stages },
            x: { field: 'start', type: 'quantitative', title: 'seconds from the start of the step' },
            x2: { field: 'end' },
            color: { field: 'kind', type: 'nominal', title: null, scale: colourScale(['forward', 'backward', 'communication', 'bubble']), legend: { orient: 'bottom', symbolType: 'square' } },
            description: { field: 'description', type: 'nominal' },
            tooltip: [tip('stage', 'stage'), tip('kind', 'block'), tip('microBatch', 'micro-batch', 'd'), ...(t.virtualStages > 1 ? [tip('chunk', 'chunk', 'd')] : []), tip('start', 'start (s)', '.4~g'), tip('end', 'end (s)', '.4~g')],
          },
        },
      ],
    },
  })
}
