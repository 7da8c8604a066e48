/**
 * The serving search's answer: what was searched, the ranked plans, and the Pareto plot
 * of tokens/s per GPU against tokens/s per user (`pareto-plot.ts`: @meshplan/plots'
 * Pareto figure, rendered to SVG once Vega has loaded).
 */
import type { PlanResult } from '@meshplan/inference'
import { planColumns, planRows, rankingText, searchSummaryText } from '@meshplan/planner'
import { h, row, table } from '../dom'
import { paretoFigureSvg } from '../pareto-plot'

/** The search's result: counts, ranked plans, the plot. */
export const plansView = (r: PlanResult, seconds: number, objectives: boolean): HTMLElement => {
  const plot = h('div', { class: 'plot', 'data-testid': 'pareto-plot' })
  plot.dataset['state'] = 'drawing'
  plot.textContent = 'drawing the plot…'
  paretoFigureSvg(r).then(
    (svg) => {
      plot.innerHTML = svg
      plot.dataset['state'] = 'done'
    },
    (error: unknown) => {
      plot.textContent = `the plot cannot be drawn: ${error instanceof Error ? error.message : String(error)}`
      plot.dataset['state'] = 'failed'
    },
  )
  return h(
    'div',
    { class: 'plans' },
    h(
      'p',
      { class: 'lead', 'data-testid': 'plans-summary' },
      searchSummaryText(r, seconds),
    ),
    r.top.length === 0
      ? h('p', { class: 'bad', 'data-testid': 'plans-none' }, 'no strategy meets the objectives')
      : [
          h('h4', {}, `best strategies by ${rankingText[r.rankedBy]}`),
          objectives || r.rankedBy !== 'tokens_per_second_per_gpu'
            ? null
            : h('p', { class: 'note' }, 'no objectives were given: the ranking favours the largest batches that fit, whose TTFT and TPOT can be long; give a max TTFT and a max TPOT (e.g. 2s, 50ms) for an interactive service'),
          table(
            'plans-table',
            planColumns,
            planRows(r).map((cells, i) => {
              const e = r.top[i]
              return row({ 'data-description': e?.description ?? '', 'data-per-gpu': String(e?.tokensPerSecond.perGpu ?? '') }, cells)
            }),
          ),
        ],
    h('h4', {}, `Pareto front, tokens/s per GPU against tokens/s per user (${r.pareto.length} points; the first ranked plan circled)`),
    plot,
  )
}
