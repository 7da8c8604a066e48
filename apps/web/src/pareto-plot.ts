/**
 * The Pareto plot of a serving search, as @meshplan/plots draws it for `meshplan plot`:
 * output tokens/s per GPU against tokens/s per user, one point per front entry (layer
 * `pareto_front`), the chosen plan (the ranking's first) circled (`pareto_chosen`), as a
 * Vega-Lite figure rendered to an SVG string by Vega without a canvas. Each point's
 * `aria-label` says what it is (`TP2 DP4, batch 32: 1480 tokens/s per GPU, 95.1 tokens/s
 * per user`), which is how the tests read it.
 *
 * Vega is loaded with `import()` by @meshplan/plots: Vite puts it in a chunk of its own,
 * fetched the first time a plot is drawn (and cached by the service worker with every
 * other built file).
 *
 * @example
 * paretoFigureSvg(planResult).then((svg) => (element.innerHTML = svg))
 * // '<svg ... class="marks" ...><g class="mark-symbol role-mark pareto_front_marks" ...'
 */
import * as E from 'fp-ts/Either'
import type { PlanResult } from '@meshplan/inference'
import { figure, paretoPlot, toSvg } from '@meshplan/plots'

/** The SVG that shows why there is no plot (a search with no feasible candidate). */
const emptySvg = (reason: string): string =>
  `<svg xmlns="http://www.w3.org/2000/svg" class="pareto-plot" viewBox="0 0 640 80" width="640" height="80" role="img"><text x="320" y="40" text-anchor="middle" class="empty">${reason.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</text></svg>`

/** The Pareto figure of `r` as SVG markup (the front, the chosen plan circled), or an SVG saying why there is none. */
export const paretoFigureSvg = async (r: PlanResult): Promise<string> => {
  const plot = paretoPlot(r)
  if (E.isLeft(plot)) return emptySvg(plot.left)
  return toSvg(figure('Pareto front of the search', [plot.right]))
}
