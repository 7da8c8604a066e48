import * as E from 'fp-ts/Either'
import { defaultCostModels } from '@meshplan/cost-models'
import { choose, inferencePlots, searchPlots, trainingPlots, type Plots } from '../src'
import { right, servingEstimate, servingInput, servingSearch, trainingEstimate, trainingInput } from './fixtures'

const names = (plots: Plots) => plots.map(([name]) => name)

describe('the plots of each answer', () => {
  it('a serving estimate: breakdown, memory, roofline; a search: its front first, then its chosen plan\'s', () => {
    expect(names(inferencePlots(defaultCostModels, servingInput, servingEstimate()))).toEqual(['breakdown', 'memory', 'roofline'])
    const search = searchPlots(defaultCostModels, servingInput, servingSearch())
    expect(names(search)).toEqual(['pareto', 'breakdown', 'memory', 'roofline'])
    expect(search.every(([, p]) => E.isRight(p))).toBe(true)
  })

  it('a training estimate: breakdown, memory, schedule, roofline; a ZB-H1 step has no schedule to draw', () => {
    expect(names(trainingPlots(defaultCostModels, trainingInput(), trainingEstimate()))).toEqual(['breakdown', 'memory', 'schedule', 'roofline'])
    const zb = trainingInput({ schedule: 'zb-h1' })
    const schedule = trainingPlots(defaultCostModels, zb, trainingEstimate(zb)).find(([name]) => name === 'schedule')?.[1]
    expect(schedule !== undefined && E.isLeft(schedule) ? schedule.left : '').toMatch(/ZB-H1/)
  })
})

describe('choose', () => {
  const zb = trainingInput({ schedule: 'zb-h1' })
  const plots = trainingPlots(defaultCostModels, zb, trainingEstimate(zb))

  it('by default keeps what can be drawn, with a note for what cannot', () => {
    const chosen = right(choose(plots))
    expect(chosen.plots.map((p) => p.name)).toEqual(['breakdown', 'memory', 'roofline'])
    expect(chosen.notes).toHaveLength(1)
    expect(chosen.notes[0]).toMatch(/^schedule: /)
  })

  it('keeps the plots asked for, in the answer\'s order', () => {
    expect(right(choose(plots, ['roofline', 'memory'])).plots.map((p) => p.name)).toEqual(['memory', 'roofline'])
  })

  it('refuses a plot asked for that cannot be drawn, or that the answer does not have', () => {
    expect(E.isLeft(choose(plots, ['schedule']))).toBe(true)
    const pareto = choose(plots, ['pareto'])
    expect(E.isLeft(pareto) ? pareto.left[0] : '').toMatch(/^pareto: not a plot of this answer/)
  })
})
