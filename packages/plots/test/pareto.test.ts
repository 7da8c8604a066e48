import * as E from 'fp-ts/Either'
import { figure, num, paretoData, paretoPlot, toSvg } from '../src'
import { right, servingEstimate, servingSearch } from './fixtures'
import { labelsOf, marksOf, parseSvg, textsOf } from '@meshplan/test-utils'

describe('the Pareto front of a serving search', () => {
  const result = servingSearch()
  const plan = servingEstimate()
  let svg: string
  beforeAll(async () => {
    svg = await toSvg(figure('plan', [right(paretoPlot(result, { plan }))]))
  })

  it('draws one point per front entry, each saying its strategy, batch and both rates', () => {
    const root = parseSvg(svg)
    const labels = labelsOf(root, 'pareto_front')
    expect(result.pareto.length).toBeGreaterThan(2)
    expect(labels).toHaveLength(result.pareto.length)
    for (const p of result.pareto) {
      expect(labels).toContain(`${p.description}, batch ${p.batch}: ${num(p.tokensPerSecondPerGpu)} tokens/s per GPU, ${num(p.tokensPerSecondPerUser)} tokens/s per user`)
    }
  })

  it('marks the chosen plan, the first of the ranking, and the plan under audit, once each', () => {
    const root = parseSvg(svg)
    const chosen = result.top[0]
    expect(chosen).toBeDefined()
    expect(labelsOf(root, 'pareto_chosen')).toEqual([`${chosen?.description}, batch ${chosen?.batch}: ${num(chosen?.tokensPerSecond.perGpu ?? 0)} tokens/s per GPU, ${num(chosen?.tokensPerSecond.perUser ?? 0)} tokens/s per user`])
    expect(labelsOf(root, 'pareto_plan')).toEqual([`${plan.description}, batch ${plan.batch}: ${num(plan.tokensPerSecond.perGpu)} tokens/s per GPU, ${num(plan.tokensPerSecond.perUser)} tokens/s per user`])
    expect(textsOf(root)).toContain(`chosen: ${chosen?.description}, batch ${chosen?.batch}`)
    expect(textsOf(root)).toContain(`this plan: ${plan.description}, batch ${plan.batch}`)
  })

  it('has its title and axis titles', () => {
    const texts = textsOf(parseSvg(svg))
    expect(texts).toContain('Pareto front: output tokens/s per GPU against per user')
    expect(texts).toContain('output tokens/s per GPU')
    expect(texts).toContain('output tokens/s per user (1/TPOT)')
  })

  it('joins the front by rising tokens/s per user, along which tokens/s per GPU falls (no point dominates another)', () => {
    const front = paretoData(result).front
    for (let i = 1; i < front.length; i++) {
      expect(front[i]?.tokensPerSecondPerUser).toBeGreaterThanOrEqual(front[i - 1]?.tokensPerSecondPerUser ?? 0)
      expect(front[i]?.tokensPerSecondPerGpu).toBeLessThanOrEqual(front[i - 1]?.tokensPerSecondPerGpu ?? 0)
    }
    // on the screen: more tokens/s per GPU is higher up (a smaller y)
    const ys = marksOf(parseSvg(svg), 'pareto_front').map((m) => Number(/translate\([^,]+,([^)]+)\)/.exec(m.attributes['transform'] ?? '')?.[1]))
    expect(ys).toHaveLength(front.length)
    for (let i = 1; i < ys.length; i++) expect(ys[i]).toBeGreaterThanOrEqual(ys[i - 1] ?? Infinity)
  })

  it('refuses a search without a front: nothing to draw', () => {
    const empty = { ...result, top: [], pareto: [], feasible: 0 }
    expect(E.isLeft(paretoPlot(empty))).toBe(true)
  })
})
