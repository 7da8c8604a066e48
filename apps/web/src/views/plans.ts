/**
 * The serving search's answer: what was searched, the ranked plans, and the Pareto plot
 * of tokens/s per GPU against tokens/s per user (`pareto-plot.ts`: @meshplan/plots'
 * Pareto figure, rendered to SVG once Vega has loaded).
 */
import type { PlanResult, Ranking } from '@meshplan/inference'
import { h, row, table } from '../dom'
import { bytesText, count, rate, secondsText } from '../format'
import { paretoFigureSvg } from '../pareto-plot'

const rankingText: Readonly<Record<Ranking, string>> = {
  tokens_per_second_per_gpu: 'output tokens/s per GPU',
  request_latency: 'request latency (one request at a time)',
}

/** The search's result: counts, ranked plans, the plot. */
export const plansView = (r: PlanResult, seconds: number, objectives: boolean): HTMLElement => {
  const rejected = Object.entries(r.rejected)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${count(n)} ${reason}`)
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
      `searched ${count(r.strategies)} valid strategies on ${r.gpuCounts.join(', ')} GPUs, ${count(r.candidates)} (strategy, batch) candidates in ${secondsText(seconds)}: ${count(r.feasible)} feasible${rejected.length > 0 ? `; rejected: ${rejected.join(', ')}` : ''}`,
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
            ['#', 'strategy', 'GPUs', 'batch', 'tok/s/GPU', 'tok/s/user', 'tok/s total', 'TTFT', 'TPOT', 'memory/GPU', 'decode bound by'],
            r.top.map((e, i) =>
              row({ 'data-description': e.description, 'data-per-gpu': String(e.tokensPerSecond.perGpu) }, [
                String(i + 1),
                e.description,
                String(e.gpus),
                String(e.batch),
                rate(e.tokensPerSecond.perGpu),
                rate(e.tokensPerSecond.perUser),
                count(e.tokensPerSecond.total),
                secondsText(e.ttft),
                secondsText(e.tpot),
                bytesText(e.memory.perGpu),
                e.breakdown.decode.bottleneck,
              ]),
            ),
          ),
        ],
    h('h4', {}, `Pareto front, tokens/s per GPU against tokens/s per user (${r.pareto.length} points; the first ranked plan circled)`),
    plot,
  )
}
