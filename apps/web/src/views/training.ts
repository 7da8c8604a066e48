/**
 * The training search (@meshplan/training's `planTraining`, in the page's Web Worker):
 * its progress bar while it runs, then the best plans ranked by iteration time, as
 * `meshplan plan --train` prints them.
 */
import type { SearchProgress, TrainingCandidate, TrainingPlan } from '@meshplan/training'
import { h, row, table } from '../dom'
import { bytesText, count, secondsText, share } from '../format'

/** How far the search has got: a bar over the strategies, and the candidates, their rate and the best so far. */
export const progressView = (p: SearchProgress): HTMLElement => {
  const done = p.totalStrategies > 0 ? p.strategies / p.totalStrategies : 1
  const perSecond = p.seconds > 0 ? p.candidates / p.seconds : 0
  return h(
    'div',
    { class: 'progress', 'data-testid': 'training-progress' },
    h('progress', { max: String(p.totalStrategies), value: String(p.strategies), 'aria-label': 'strategies searched' }),
    h(
      'span',
      { 'data-testid': 'training-progress-text' },
      `${(done * 100).toFixed(0)}% of ${count(p.totalStrategies)} strategies, ${count(p.candidates)} candidates, ${count(perSecond)}/s, ${p.best === null ? 'none fits yet' : `best ${p.best.description} ${secondsText(p.best.iterationSeconds)}`}`,
    ),
  )
}

const scheduleText = (c: TrainingCandidate): string =>
  `${c.workload.schedule ?? '1f1b'}${c.workload.tpCommOverlap === true ? ', TP overlap' : ''}${c.workload.offload === undefined ? '' : `, offload ${c.workload.offload.join('+')}`}`

/** The search's counts and its best plans. */
export const trainingPlanView = (p: TrainingPlan, modelName: string, testId = 'training-table'): HTMLElement =>
  h(
    'div',
    { class: 'training-plan' },
    h('p', { class: 'lead', 'data-testid': `${testId}-summary` }, `${modelName} on ${p.gpus} GPUs: ${count(p.candidates)} candidates from ${count(p.strategies)} strategies in ${p.seconds.toFixed(2)} s; ${count(p.fit)} fit`),
    h('p', { class: 'detail' }, `rejected: ${count(p.rejected.memory)} do not fit in memory, ${count(p.rejected.interleaving)} interleaved without a multiple of pp micro-batches; ${count(p.rejected.batch)} strategies whose dp does not divide the global batch`),
    p.best.length === 0
      ? h('p', { class: 'bad' }, 'nothing fits: more GPUs, a smaller micro-batch, recomputation or ZeRO may help')
      : table(
          testId,
          ['#', 'strategy', 'micro', 'recompute', 'zero', 'schedule', 'iteration', 'tok/s/GPU', 'MFU', 'memory'],
          p.best.map((c, i) =>
            row({ 'data-description': c.description, 'data-iteration': String(c.iterationSeconds) }, [
              String(i + 1),
              c.description,
              String(c.workload.microBatch),
              c.workload.recompute,
              String(c.workload.zeroStage),
              scheduleText(c),
              secondsText(c.iterationSeconds),
              count(c.tokensPerSecondPerGpu),
              share(c.mfu),
              bytesText(c.memoryPerGpu),
            ]),
          ),
        ),
  )
