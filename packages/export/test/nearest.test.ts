import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { strategy } from '@meshplan/parallelism'
import { ESTIMATE_BUDGET, nearestOf, strategyChanges, strategyDistance, withPlanSplit } from '../src'

const power = fc.integer({ min: 0, max: 5 }).map((k) => 2 ** k)
const strategies = fc.record({ tp: power, pp: power, dp: power, cp: power, ep: power, etp: power, virtualStages: power, sequenceParallel: fc.boolean() }).map((d) => strategy(d))

describe('strategyDistance', () => {
  it('is 0 from a strategy to itself, and positive to any other', () => {
    fc.assert(fc.property(strategies, strategies, (a, b) => strategyDistance(a, a) === 0 && (strategyChanges(a, b).length === 0 || strategyDistance(a, b) > 0)))
  })

  it('counts a halving or doubling of a degree 1, on the same GPUs', () => {
    const plan = strategy({ tp: 2, dp: 64, ep: 64, etp: 2 })
    // tp 2 -> 1 and dp 64 -> 128: two moves of one step each
    expect(strategyDistance(plan, strategy({ tp: 1, dp: 128, ep: 64, etp: 2 }))).toBe(2)
    // ep 64 -> 128 and etp 2 -> 1: two steps
    expect(strategyDistance(plan, strategy({ tp: 2, dp: 64, ep: 128, etp: 1 }))).toBe(2)
  })

  it('adds 2 per halving of the GPUs used', () => {
    const plan = strategy({ tp: 2, dp: 64, ep: 64, etp: 2 })
    // dp 64 -> 32 (1), etp 2 -> 1 (1), 128 -> 64 GPUs (2)
    expect(strategyDistance(plan, strategy({ tp: 2, dp: 32, ep: 64 }))).toBe(4)
    fc.assert(fc.property(strategies, (s) => strategyDistance(s, { ...s, dp: s.dp * 2 }) === 1 && strategyDistance({ ...s, dp: s.dp * 2 }, s) === 3))
  })

  it('counts sequence parallelism 1 and another pipeline split 1/2', () => {
    const s = strategy({ tp: 8, pp: 16, dp: 64 })
    expect(strategyDistance(s, { ...s, sequenceParallel: true })).toBe(1)
    expect(strategyDistance(s, strategy({ tp: 8, pp: 16, dp: 64, pipelineSplit: { embeddingInSplit: true, lossInSplit: true } }))).toBe(0.5)
  })
})

describe('strategyChanges', () => {
  it('names every degree that moved, and the GPUs', () => {
    expect(strategyChanges(strategy({ tp: 2, dp: 64, ep: 64, etp: 2 }), strategy({ dp: 64, ep: 64 }))).toEqual([
      { what: 'tp', from: '2', to: '1' },
      { what: 'etp', from: '2', to: '1' },
      { what: 'GPUs', from: '128', to: '64' },
    ])
  })
})

describe('withPlanSplit', () => {
  it("adds the plan's own cut of a strategy with the plan's stages, when it holds", () => {
    const plan = strategy({ tp: 8, pp: 16, dp: 64, pipelineSplit: { firstStageLayers: 7, lastStageLayers: 7 } })
    const other = strategy({ tp: 8, pp: 16, dp: 32, cp: 2, pipelineSplit: { embeddingInSplit: true, lossInSplit: true } })
    expect(withPlanSplit(plan, other, () => true)).toEqual([{ ...other, pipelineSplit: plan.pipelineSplit }, other])
    expect(withPlanSplit(plan, other, () => false)).toEqual([other])
    expect(withPlanSplit(plan, strategy({ tp: 8, pp: 8, dp: 128 }), () => true)).toEqual([strategy({ tp: 8, pp: 8, dp: 128 })])
  })
})

describe('nearestOf', () => {
  type Fake = { readonly fits: boolean; readonly score: number }
  const run = (cands: ReadonlyArray<{ value: string; distance: number }>, table: Record<string, Fake | undefined>) =>
    nearestOf(
      cands,
      (v: string) => {
        const f = table[v]
        return f === undefined ? E.left('no estimate') : E.right(f)
      },
      (f) => f.fits,
      (f) => f.score,
    )

  it('takes the nearest candidate that fits, whatever nearer ones that do not fit', () => {
    const r = run(
      [
        { value: 'far', distance: 3 },
        { value: 'near-too-big', distance: 1 },
        { value: 'mid', distance: 2 },
      ],
      { far: { fits: true, score: 100 }, 'near-too-big': { fits: false, score: 1000 }, mid: { fits: true, score: 1 } },
    )
    expect(r?.value).toBe('mid')
    expect(r?.fits).toBe(true)
  })

  it('takes the best score among equally near candidates that fit', () => {
    const r = run(
      [
        { value: 'a', distance: 2 },
        { value: 'b', distance: 2 },
        { value: 'c', distance: 2 },
      ],
      { a: { fits: true, score: 1 }, b: { fits: true, score: 5 }, c: { fits: false, score: 9 } },
    )
    expect(r?.value).toBe('b')
  })

  it('falls back to the nearest candidate with an estimate when none fits, and to nothing when none has one', () => {
    const r = run(
      [
        { value: 'none', distance: 0 },
        { value: 'x', distance: 1 },
        { value: 'y', distance: 2 },
      ],
      { x: { fits: false, score: 1 }, y: { fits: false, score: 2 } },
    )
    expect(r?.value).toBe('x')
    expect(r?.fits).toBe(false)
    expect(run([{ value: 'none', distance: 0 }], {})).toBeUndefined()
  })

  it(`estimates at most ${ESTIMATE_BUDGET} candidates`, () => {
    let estimated = 0
    const cands = Array.from({ length: 200 }, (_, i) => ({ value: i, distance: i }))
    const r = nearestOf(
      cands,
      (i: number) => {
        estimated++
        return E.right({ fits: i === 150, score: 0 })
      },
      (f) => f.fits,
      (f) => f.score,
    )
    expect(estimated).toBe(ESTIMATE_BUDGET)
    expect(r?.value).toBe(0)
  })
})
