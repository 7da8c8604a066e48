import * as E from 'fp-ts/Either'
import { defaultCostModels } from '@meshplan/cost-models'
import { planInference, type PlanResult } from '@meshplan/inference'
import { defaultPrecision, models } from '@meshplan/model'
import { num } from '@meshplan/plots'
import { clusterOf, systems } from '@meshplan/topology'
import { labelsOf, parseSvg, textsOf } from '@meshplan/test-utils'
import { paretoFigureSvg } from '../src/pareto-plot'

const search = (): PlanResult => {
  const cluster = clusterOf(systems['dgx-h100'], 1)
  if (E.isLeft(cluster)) throw new Error(cluster.left.message)
  const r = planInference(defaultCostModels)({ model: models['llama-3.1-8b'], cluster: cluster.right, precision: defaultPrecision, workload: { mode: 'static', inputTokens: 1024, outputTokens: 256 }, slo: { maxTpot: 0.05 } })
  if (E.isLeft(r)) throw new Error(r.left.message)
  return r.right
}

describe('the Pareto plot (@meshplan/plots)', () => {
  const result = search()

  it('has a point for every point of the front, saying its strategy, batch and both rates, and the chosen plan circled', async () => {
    const root = parseSvg(await paretoFigureSvg(result))
    const labels = labelsOf(root, 'pareto_front')
    expect(result.pareto.length).toBeGreaterThan(1)
    expect(labels).toHaveLength(result.pareto.length)
    for (const p of result.pareto) expect(labels).toContain(`${p.description}, batch ${p.batch}: ${num(p.tokensPerSecondPerGpu)} tokens/s per GPU, ${num(p.tokensPerSecondPerUser)} tokens/s per user`)
    const chosen = result.top[0]
    expect(labelsOf(root, 'pareto_chosen')).toEqual([`${chosen?.description}, batch ${chosen?.batch}: ${num(chosen?.tokensPerSecond.perGpu ?? 0)} tokens/s per GPU, ${num(chosen?.tokensPerSecond.perUser ?? 0)} tokens/s per user`])
    expect(textsOf(root)).toContain('output tokens/s per GPU')
  })

  it('says so when the search found nothing to plot', async () => {
    const svg = await paretoFigureSvg({ ...result, top: [], pareto: [], feasible: 0 })
    expect(svg).toContain('there is no Pareto front to plot')
    expect(() => parseSvg(svg)).not.toThrow()
  })
})
