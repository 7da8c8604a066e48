/**
 * The Pareto front of a serving search: output tokens/s per GPU (what the cluster earns)
 * against output tokens/s per user (what one request sees, 1/TPOT), one point per front
 * entry of `planInference`'s `pareto` (feasible candidates no other beats on both), joined
 * in order of tokens/s per user, with the chosen plan (the first of the ranking, `top[0]`)
 * marked, and optionally a plan under audit marked beside it.
 *
 * @example
 * import { paretoPlot } from '@meshplan/plots'
 * paretoPlot(planInference(defaultCostModels)(input).right)
 * // right({ name: 'pareto', title: 'Pareto front: ...', view: { layer: [front line, front points, chosen, ...] } })
 */
import * as E from 'fp-ts/Either'
import type { InferenceEstimate, PlanResult } from '@meshplan/inference'
import { num, PANEL_WIDTH, tip, type Json, type Plot } from './spec'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** One point of the plot: a front entry, the chosen plan, or the plan under audit (a type, not an interface: it is JSON). */
export type ParetoPoint = {
  readonly strategy: string
  readonly batch: number
  readonly gpus: number | null
  readonly tokensPerSecondPerGpu: number
  readonly tokensPerSecondPerUser: number
  readonly ttftSeconds: number
  readonly tpotSeconds: number
}

/** A point with what it says in the SVG (`aria-label`). */
export type ParetoDatum = ParetoPoint & { readonly description: string }

export interface ParetoOptions {
  /** A plan under audit, marked as such (`check`). */
  readonly plan?: InferenceEstimate
  /** What the chosen plan is called on the plot (default `chosen`; an audit's search: `best alternative`). */
  readonly chosenLabel?: string
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** A point's text (its SVG `aria-label`): strategy, batch and both rates. */
const describePoint = (d: ParetoPoint): string =>
  `${d.strategy}, batch ${d.batch}: ${d.tokensPerSecondPerGpu} tokens/s per GPU, ${d.tokensPerSecondPerUser} tokens/s per user`

const withDescription = (d: ParetoPoint): ParetoDatum => ({ ...d, description: describePoint(d) })

const estimateDatum = (e: InferenceEstimate): ParetoDatum => withDescription({
  strategy: e.description,
  batch: num(e.batch),
  gpus: e.gpus,
  tokensPerSecondPerGpu: num(e.tokensPerSecond.perGpu),
  tokensPerSecondPerUser: num(e.tokensPerSecond.perUser),
  ttftSeconds: num(e.ttft),
  tpotSeconds: num(e.tpot),
})

/** The data of the plot: the front (by rising tokens/s per user), the chosen plan, the plan under audit. */
export const paretoData = (r: PlanResult, options: ParetoOptions = {}): { readonly front: ReadonlyArray<ParetoDatum>; readonly chosen: ParetoDatum | null; readonly plan: ParetoDatum | null } => ({
  front: [...r.pareto]
    .sort((a, b) => a.tokensPerSecondPerUser - b.tokensPerSecondPerUser || b.tokensPerSecondPerGpu - a.tokensPerSecondPerGpu)
    .map((p) => withDescription({
      strategy: p.description,
      batch: num(p.batch),
      gpus: null,
      tokensPerSecondPerGpu: num(p.tokensPerSecondPerGpu),
      tokensPerSecondPerUser: num(p.tokensPerSecondPerUser),
      ttftSeconds: num(p.ttft),
      tpotSeconds: num(p.tpot),
    })),
  chosen: r.top[0] === undefined ? null : estimateDatum(r.top[0]),
  plan: options.plan === undefined ? null : estimateDatum(options.plan),
})

const x = { field: 'tokensPerSecondPerUser', type: 'quantitative', title: 'output tokens/s per user (1/TPOT)', scale: { zero: false, nice: true } } as const
const y = { field: 'tokensPerSecondPerGpu', type: 'quantitative', title: 'output tokens/s per GPU', scale: { zero: false, nice: true } } as const
const tooltip = [
  tip('strategy', 'strategy'),
  tip('batch', 'batch', ',.4~g'),
  tip('tokensPerSecondPerGpu', 'tokens/s per GPU', ',.4~g'),
  tip('tokensPerSecondPerUser', 'tokens/s per user', ',.4~g'),
  tip('ttftSeconds', 'TTFT (s)', '.4~g'),
  tip('tpotSeconds', 'TPOT (s)', '.4~g'),
]

/** A marked point with its label: `which` names its layers (`pareto_<which>`, `pareto_<which>_label`). */
const marked = (which: 'chosen' | 'plan', datum: ParetoDatum, label: string, shape: string, colour: string): ReadonlyArray<Json> => [
  {
    name: `pareto_${which}`,
    data: { values: [datum] },
    mark: { type: 'point', shape, size: 260, filled: false, strokeWidth: 2.5, color: colour },
    encoding: { x, y, tooltip, description: { field: 'description', type: 'nominal' } },
  },
  {
    name: `pareto_${which}_label`,
    data: { values: [{ ...datum, label: `${label}: ${datum.strategy}, batch ${datum.batch}` }] },
    mark: { type: 'text', align: 'left', dx: 10, dy: which === 'chosen' ? -10 : 12, fontSize: 11, color: colour, aria: false },
    encoding: { x, y, text: { field: 'label', type: 'nominal' } },
  },
]

/**
 * The Pareto front of `r`: the front's points joined by a line, the chosen plan (the
 * ranking's first) circled, and `options.plan` marked with a cross. Left: the search found
 * no feasible candidate, so there is no front to draw.
 */
export const paretoPlot = (r: PlanResult, options: ParetoOptions = {}): E.Either<string, Plot> => {
  const d = paretoData(r, options)
  if (d.front.length === 0) return E.left('the search found no feasible candidate: there is no Pareto front to plot')
  return E.right({
    name: 'pareto',
    title: 'Pareto front: output tokens/s per GPU against per user',
    subtitle: `${d.front.length} point${d.front.length === 1 ? '' : 's'}${d.chosen === null ? '' : `; ${options.chosenLabel ?? 'chosen'}: ${d.chosen.strategy}, batch ${d.chosen.batch}`}`,
    view: {
      width: PANEL_WIDTH,
      height: 360,
      layer: [
        { name: 'pareto_line', data: { values: d.front }, mark: { type: 'line', color: '#4e79a7', strokeWidth: 1.5, aria: false }, encoding: { x, y, order: { field: 'tokensPerSecondPerUser', type: 'quantitative' } } },
        { name: 'pareto_front', data: { values: d.front }, mark: { type: 'point', filled: true, size: 50, color: '#4e79a7' }, encoding: { x, y, tooltip, description: { field: 'description', type: 'nominal' } } },
        ...(d.chosen === null ? [] : marked('chosen', d.chosen, options.chosenLabel ?? 'chosen', 'circle', '#e15759')),
        ...(d.plan === null ? [] : marked('plan', d.plan, 'this plan', 'cross', '#f28e2b')),
      ],
    },
  })
}
