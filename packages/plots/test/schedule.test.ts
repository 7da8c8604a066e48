import * as E from 'fp-ts/Either'
import * as fc from 'fast-check'
import type { TrainingEstimate } from '@meshplan/training'
import { figure, num, passOrder, pipelineTimeline, schedulePlot, toSvg, type ScheduleBlock } from '../src'
import { right, trainingEstimate, trainingInput } from './fixtures'
import { labelsOf, parseSvg, textsOf } from '@meshplan/test-utils'

/** `e` with `p` equal stages of forward `f`, backward `b`, exposed communication `c` per micro-batch, `m` micro-batches, `v` chunks. */
const equalStages = (e: TrainingEstimate, p: number, m: number, v: number, f: number, b: number, c = 0): TrainingEstimate => {
  const stage = e.stages[0]
  if (stage === undefined) throw new Error('no stage')
  return {
    ...e,
    strategy: { ...e.strategy, pp: p, virtualStages: v },
    microBatches: m,
    stages: [{ ...stage, ranks: Array.from({ length: p }, (_, r) => r), microBatch: { ...stage.microBatch, forward: f, backward: b, recompute: 0, total: f + b + c } }],
  }
}

const count = (blocks: ReadonlyArray<ScheduleBlock>, kind: string) => blocks.filter((b) => b.kind === kind).length

describe('the order of passes on a stage', () => {
  const shape = fc.record({ p: fc.integer({ min: 1, max: 8 }), groups: fc.integer({ min: 1, max: 4 }), v: fc.integer({ min: 1, max: 3 }) })

  it('runs every (micro-batch, chunk) once forward and once backward, the forward first', () => {
    fc.assert(
      fc.property(shape, ({ p, groups, v }) => {
        const m = p * groups
        for (let r = 0; r < p; r++) {
          const order = passOrder(p, m, v, r)
          expect(order).toHaveLength(2 * m * v)
          const seen = new Map<string, number>()
          order.forEach((pass, i) => {
            const key = `${pass.forward ? 'f' : 'b'}${pass.microBatch}/${pass.chunk}`
            expect(seen.has(key)).toBe(false)
            seen.set(key, i)
          })
          for (let j = 0; j < m; j++) for (let c = 0; c < v; c++) expect(seen.get(`f${j}/${c}`)).toBeLessThan(seen.get(`b${j}/${c}`) ?? -1)
        }
      }),
    )
  })

  it('1F1B: stage r of p warms up with p - r - 1 forwards (Narayanan et al. 2021, figure 4)', () => {
    const names = (r: number) => passOrder(4, 8, 1, r).map((x) => `${x.forward ? 'F' : 'B'}${x.microBatch}`)
    expect(names(1).slice(0, 6)).toEqual(['F0', 'F1', 'F2', 'B0', 'F3', 'B1'])
    expect(names(3).slice(0, 4)).toEqual(['F0', 'B0', 'F1', 'B1'])
    expect(names(0).slice(-4)).toEqual(['B4', 'B5', 'B6', 'B7'])
  })
})

describe('the pipeline timeline', () => {
  const e = trainingEstimate()

  it('draws stages x micro-batches forwards and as many backwards', () => {
    const t = right(pipelineTimeline(e))
    expect(t.stages).toBe(4)
    expect(t.microBatches).toBe(16)
    expect(count(t.blocks, 'forward')).toBe(4 * 16)
    expect(count(t.blocks, 'backward')).toBe(4 * 16)
  })

  it('tiles each stage from 0 to the end: blocks back to back, no two at once', () => {
    const t = right(pipelineTimeline(e))
    for (let r = 0; r < t.stages; r++) {
      const mine = t.blocks.filter((b) => b.stage === r).sort((a, b) => a.start - b.start)
      expect(mine[0]?.start).toBe(0)
      for (let i = 1; i < mine.length; i++) expect(mine[i]?.start).toBeCloseTo(mine[i - 1]?.end ?? NaN, 12)
      expect(mine[mine.length - 1]?.end).toBeCloseTo(t.seconds, 12)
    }
  })

  it('starts a forward after the previous stage\'s, a backward after the next stage\'s', () => {
    const t = right(pipelineTimeline(e))
    const find = (stage: number, kind: string, j: number) => t.blocks.find((b) => b.stage === stage && b.kind === kind && b.microBatch === j)
    for (let j = 0; j < t.microBatches; j++) {
      for (let r = 1; r < t.stages; r++) expect(find(r, 'forward', j)?.start ?? 0).toBeGreaterThanOrEqual(find(r - 1, 'forward', j)?.end ?? Infinity)
      for (let r = 0; r < t.stages - 1; r++) expect(find(r, 'backward', j)?.start ?? 0).toBeGreaterThanOrEqual(find(r + 1, 'backward', j)?.end ?? Infinity)
    }
  })

  it('1F1B with equal stages takes (m + p - 1)(F + B), the bubble of Narayanan et al. 2021, section 2.2', () => {
    // 4 stages, 8 micro-batches, F = 1, B = 2: (8 + 3) x 3 = 33
    expect(right(pipelineTimeline(equalStages(e, 4, 8, 1, 1, 2))).seconds).toBeCloseTo(33, 12)
    // with 0.5 of exposed communication per micro-batch: (8 + 3) x 3.5
    expect(right(pipelineTimeline(equalStages(e, 4, 8, 1, 1, 2, 0.5))).seconds).toBeCloseTo(38.5, 12)
  })

  it('interleaved with v chunks shrinks the bubble to (p - 1)/v passes: (m + (p - 1)/v)(F + B)', () => {
    // 4 stages, 8 micro-batches, 2 chunks, F = 1, B = 2 per micro-batch on a GPU: (8 + 3/2) x 3 = 28.5
    const t = right(pipelineTimeline(equalStages(e, 4, 8, 2, 1, 2)))
    expect(count(t.blocks, 'forward')).toBe(4 * 8 * 2)
    expect(t.seconds).toBeCloseTo(28.5, 12)
  })

  it('refuses what it does not draw: ZB-H1, DualPipe, interleaving without a multiple of pp micro-batches', () => {
    expect(E.isLeft(pipelineTimeline({ ...e, workload: { ...e.workload, schedule: 'zb-h1' } }))).toBe(true)
    expect(E.isLeft(pipelineTimeline({ ...e, workload: { ...e.workload, schedule: 'dualpipe' } }))).toBe(true)
    expect(E.isLeft(pipelineTimeline(equalStages(e, 4, 6, 2, 1, 2)))).toBe(true)
  })

  it('the plot draws a bar per block, stages x micro-batches x 2 passes, with its axis and title', async () => {
    const t = right(pipelineTimeline(e))
    const root = parseSvg(await toSvg(figure('estimate', [right(schedulePlot(e))])))
    const labels = labelsOf(root, 'schedule_blocks')
    expect(labels).toHaveLength(t.blocks.length)
    expect(labels.filter((l) => / forward of micro-batch /.test(l))).toHaveLength(4 * 16)
    expect(labels.filter((l) => / backward of micro-batch /.test(l))).toHaveLength(4 * 16)
    // the first stage runs the last backward, and the step ends with its communication
    const last = labels.filter((l) => l.startsWith('stage 0: ')).pop()
    expect(last).toMatch(new RegExp(`^stage 0: communication of micro-batch 15, [0-9.e-]+ to ${num(t.seconds)} s$`))
    expect(textsOf(root)).toEqual(expect.arrayContaining(['Pipeline schedule (1F1B)', 'pipeline stage (one GPU)', 'seconds from the start of the step']))
  })

  it('an interleaved estimate draws its chunks', () => {
    const v = trainingEstimate(trainingInput({ vp: 2 }))
    const t = right(pipelineTimeline(v))
    expect(t.schedule).toBe('interleaved')
    expect(count(t.blocks, 'forward')).toBe(4 * 16 * 2)
  })
})
