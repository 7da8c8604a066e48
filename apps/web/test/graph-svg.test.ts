import * as E from 'fp-ts/Either'
import { models, defaultPrecision } from '@meshplan/model'
import { layout, strategy, type Strategy } from '@meshplan/parallelism'
import { deploymentGraph } from '@meshplan/planner'
import { unsafeClusterOf } from '@meshplan/topology'
import { graphSvg } from '../src/graph-svg'

const graphOf = (s: Strategy, model = models['reference-moe'], nodes = 16) => {
  const laid = layout(unsafeClusterOf('reference', nodes))(s)
  if (E.isLeft(laid)) throw new Error(laid.left.message)
  return deploymentGraph({ model, strategy: s, precision: defaultPrecision, layout: laid.right, step: { phase: 'decode', tokensPerReplica: 32 } })
}

const count = (svg: string, pattern: RegExp): number => [...svg.matchAll(pattern)].length

describe('the drawing of a deployment graph', () => {
  it.each([
    ['the reference EP64 x TP2 plan', strategy({ tp: 2, dp: 64, ep: 64, etp: 2 })],
    ['four pipeline stages', strategy({ tp: 2, pp: 4, dp: 16, ep: 16, etp: 2 })],
    ['eight stages, the middle ones grouped', strategy({ tp: 2, pp: 8, dp: 8, ep: 8, etp: 2 })],
  ])('has a box for every module and an arrow for every edge: %s', (_name, s) => {
    const g = graphOf(s)
    const svg = graphSvg(g)
    expect(count(svg, /<g class="node /g)).toBe(g.nodes.length)
    expect(count(svg, /<path class="edge"/g)).toBe(g.edges.length)
    // every edge is drawn between the boxes it joins
    for (const e of g.edges) expect(svg).toContain(`data-from="${e.from}" data-to="${e.to}"`)
  })
})
