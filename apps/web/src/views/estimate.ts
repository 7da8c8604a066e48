/**
 * The estimate of one serving deployment: TTFT, TPOT, request latency, output tokens/s
 * (in total, per GPU, per user), memory per GPU with the largest batch that fits, and
 * where a step of the slowest stage goes: the figures `meshplan estimate` prints.
 */
import type { InferenceEstimate } from '@meshplan/inference'
import { figure, h, row, table } from '../dom'
import { bytesText, count, rate, secondsText } from '../format'

/** The estimate's figures; `prefix` names them (`estimate-ttft`, `audit-ttft`). */
export const estimateFigures = (e: InferenceEstimate, prefix: string, workload: { readonly inputTokens: number; readonly outputTokens: number }): HTMLElement => {
  const m = e.memory
  const phases = ['prefill', 'decode'] as const
  const groups = Object.keys(e.breakdown.decode.compute) as ReadonlyArray<keyof InferenceEstimate['breakdown']['decode']['compute']>
  return h(
    'div',
    { class: 'estimate', 'data-testid': `${prefix}-estimate` },
    h('p', { class: 'lead', 'data-testid': `${prefix}-description` }, `${e.description} on ${e.gpus} GPUs: ${e.mode}, ${workload.inputTokens} prompt + ${workload.outputTokens} output tokens, batch ${e.batch} per data-parallel rank`),
    h(
      'div',
      { class: 'figures' },
      figure(`${prefix}-ttft`, 'TTFT', secondsText(e.ttft), e.ttft),
      figure(`${prefix}-tpot`, 'TPOT', secondsText(e.tpot), e.tpot),
      figure(`${prefix}-request-latency`, 'request latency', secondsText(e.requestLatency), e.requestLatency),
      figure(`${prefix}-tokens-total`, 'output tokens/s', count(e.tokensPerSecond.total), e.tokensPerSecond.total),
      figure(`${prefix}-tokens-per-gpu`, 'per GPU', rate(e.tokensPerSecond.perGpu), e.tokensPerSecond.perGpu),
      figure(`${prefix}-tokens-per-user`, 'per user', rate(e.tokensPerSecond.perUser), e.tokensPerSecond.perUser),
      figure(`${prefix}-memory`, 'memory per GPU', `${bytesText(m.perGpu)} of ${bytesText(m.capacity)}`, m.perGpu),
      figure(`${prefix}-max-batch`, 'most sequences per DP rank', count(m.maxBatch), m.maxBatch),
    ),
    h('p', { class: 'detail' }, `memory per GPU: weights ${bytesText(m.weights)}, KV cache ${bytesText(m.kvCache)}, workspace ${bytesText(m.workspace)}, reserve ${bytesText(m.reserve)}`),
    h('h4', {}, 'where a step of the slowest pipeline stage goes (one micro-batch)'),
    table(
      `${prefix}-breakdown`,
      ['phase', 'step', ...groups, 'exposed communication', 'host', 'bound by'],
      phases.map((phase) => {
        const b = e.breakdown[phase]
        const c = b.communication
        return row({ 'data-phase': phase }, [
          phase,
          secondsText(b.seconds),
          ...groups.map((g) => (b.compute[g] > 0 ? secondsText(b.compute[g]) : '-')),
          `${secondsText(b.exposedCommunication)} (tp ${secondsText(c.tp)}, ep ${secondsText(c.ep)}, pp ${secondsText(c.pp)}, cp ${secondsText(c.cp)})`,
          b.host > 0 ? secondsText(b.host) : '-',
          b.bottleneck,
        ])
      }),
    ),
  )
}

/** Why an estimate that does not fit is no answer, in the command's words. */
export const doesNotFit = (e: InferenceEstimate, workload: { readonly inputTokens: number; readonly outputTokens: number }): string =>
  `batch ${e.batch} does not fit: ${bytesText(e.memory.perGpu)} per GPU of ${bytesText(e.memory.capacity)}; at most ${e.memory.maxBatch} sequences of ${workload.inputTokens + workload.outputTokens} tokens fit per data-parallel rank`
