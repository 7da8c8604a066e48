/**
 * The deployment graph of a deployment (@meshplan/planner's `deploymentGraph`) for one
 * decode or prefill step, as `meshplan dag` draws it: the mermaid, dot or JSON text,
 * and a simple SVG drawing of it (`graph-svg.ts`).
 */
import * as E from 'fp-ts/Either'
import { defaultCostModels } from '@meshplan/cost-models'
import { estimateInference } from '@meshplan/inference'
import { layout } from '@meshplan/parallelism'
import { deploymentGraph, toDot, toJson, toMermaid, type DeploymentGraph } from '@meshplan/planner'
import { h } from '../dom'
import { graphSvg } from '../graph-svg'
import type { Deployment } from '../inputs'

export type GraphFormat = 'mermaid' | 'dot' | 'json'

/** The graph of `d`'s step in `phase` (the batch its estimate runs, as the command takes it), or why there is none. */
export const graphOf = (d: Deployment, phase: 'decode' | 'prefill'): E.Either<ReadonlyArray<string>, DeploymentGraph> => {
  const estimated = estimateInference(defaultCostModels)(d)
  if (E.isLeft(estimated) && estimated.left.code === 'invalid-strategy') return E.left(estimated.left.violations?.map((v) => `${v.message} (${v.suggestion})`) ?? [estimated.left.message])
  const laid = layout(d.cluster)(d.strategy)
  if (E.isLeft(laid)) return E.left([laid.left.message])
  const batch = E.isRight(estimated) ? estimated.right.batch : (d.workload.batch ?? 1)
  return E.right(
    deploymentGraph({
      model: d.model,
      strategy: d.strategy,
      precision: d.precision,
      layout: laid.right,
      step: { phase, tokensPerReplica: phase === 'decode' ? batch : batch * d.workload.inputTokens },
    }),
  )
}

/** The graph as the text of `format`. */
export const graphText = (g: DeploymentGraph, format: GraphFormat): string => (format === 'mermaid' ? toMermaid(g) : format === 'dot' ? toDot(g) : JSON.stringify(toJson(g), null, 2))

/** The drawing and the text. */
export const graphView = (g: DeploymentGraph, format: GraphFormat): HTMLElement => {
  const drawing = h('div', { class: 'graph-drawing', 'data-testid': 'graph-svg' })
  drawing.innerHTML = graphSvg(g)
  return h(
    'div',
    { class: 'graph' },
    h('p', { class: 'lead' }, g.title),
    drawing,
    h('ul', { class: 'notes' }, g.notes.map((n) => h('li', {}, n))),
    h('h4', {}, `${format} text`),
    h('pre', { class: 'graph-text', 'data-testid': 'graph-text', 'data-format': format }, graphText(g, format)),
  )
}
