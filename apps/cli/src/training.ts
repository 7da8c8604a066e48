/**
 * Training on the command line: `meshplan estimate --train` (or `--case ID` of a case
 * file) prints one step's figures and breakdown; `meshplan plan --train` searches the
 * whole training space, with a progress bar on stderr when it is a terminal.
 */
import * as E from 'fp-ts/Either'
import { encodeStrategy, parseOrder, type Constraints, type Order } from '@meshplan/parallelism'
import { defaultCostModels, type CostModels } from '@meshplan/cost-models'
import {
  checkTrainingPlan,
  decodeTrainingPlan,
  trainingCaseOf,
  trainingClaimMetrics,
  trainingTrust,
  type FigureInterval,
  type ParameterValues,
  type TrainingAudit,
  type TrainingClaimMetric,
  type TrainingFigure,
  type Trust,
} from '@meshplan/planner'
import {
  checkpointBytes,
  estimateTraining,
  goodput,
  LLAMA3_FAILURES_PER_GPU_HOUR,
  planTraining,
  type Goodput,
  type SearchProgress,
  type TrainingCandidate,
  type TrainingEstimate,
  type TrainingInput,
  type TrainingPlan,
  type TrainingSpace,
} from '@meshplan/training'
import { bytesText, count, parseDocument, rateText, secondsRangeText, secondsText, share as pct } from '@meshplan/units'
import type { Deployment } from './deployment'
import type { Flags } from './flags'
import { failureText, issuesMessage, readText, strategyProblems, type InputError } from './inputs'
import { jsonText } from './json'
import { table } from './table'
import { claimVerdictJson, trustJson, trustLines, verdictLineOf } from './reports'

/** Rewrites a planner message's workload field to the flag that sets it. */
const flagNames = (message: string): string =>
  message
    .replace(/workload\.global_batch/g, '--global-batch')
    .replace(/workload\.micro_batch/g, '--micro-batch')
    .replace(/workload\.seq_len/g, '--seq-len')
    .replace(/workload\.recompute/g, '--recompute')
    .replace(/workload\.zero_stage/g, '--zero')
    .replace(/workload\.schedule/g, '--schedule')
    .replace(/workload\.tp_comm_overlap/g, '--tp-comm-overlap')
    .replace('fix a degree (tp, pp, ...), the micro-batch, the recomputation or the ZeRO stage', 'fix a degree (--tp, --pp, ...), --micro-batch, --recompute or --zero')

/** The training step of a case of a case file (`--case ID`). */
/** A training case of a case file: its input, and the cost models as the case adjusts them (its engine's attention kernel, overlap, memory use). */
export const caseInput = (file: string, id: string, base: CostModels = defaultCostModels): E.Either<InputError, { readonly input: TrainingInput; readonly models: CostModels }> => {
  const text = readText(file)
  if (E.isLeft(text)) return text
  const doc = parseDocument(text.right, file)
  if (E.isLeft(doc)) return E.left(doc.left.message)
  const field = (u: unknown, key: string): unknown => (typeof u === 'object' && u !== null && Object.prototype.hasOwnProperty.call(u, key) ? (u as Record<string, unknown>)[key] : undefined)
  const cases = field(doc.right, 'cases')
  if (!Array.isArray(cases)) return E.left(`${file}: expected a case file { format: "meshplan-cases/1", cases: [...] }`)
  const index = cases.findIndex((c) => field(c, 'id') === id)
  if (index < 0) return E.left(`--case: no case "${id}" in ${file}`)
  const kind = field(field(cases[index], 'workload'), 'kind')
  if (kind !== 'training') {
    const what = typeof kind === 'string' ? `it is ${JSON.stringify(kind)}` : 'its workload.kind is not one of "inference", "training", "collective"'
    return E.left(`--case: case "${id}" is not a training case (${what}); --case estimates training cases, meshplan validate predicts every kind`)
  }
  const decoded = trainingCaseOf(cases[index], `cases[${index}]`)
  if (E.isLeft(decoded)) return E.left(issuesMessage(file)(decoded.left))
  if (decoded.right.unmodelled !== undefined) return E.left(`--case: case "${id}" cannot be estimated as written: ${decoded.right.unmodelled}`)
  return E.right({ input: decoded.right.input, models: decoded.right.models(base) })
}

/** The training input of flags over a deployment (model, cluster, strategy, precision). */
export const trainingInputOf = (d: Deployment, t: Flags): E.Either<InputError, TrainingInput> => {
  if (t.globalBatch === undefined) return E.left('--global-batch: required for training (sequences per optimizer step)')
  const order = orderOf(t)
  if (E.isLeft(order)) return order
  return E.right({
    model: d.model,
    cluster: d.cluster,
    strategy: d.strategy,
    precision: d.precision,
    ...(order.right === undefined ? {} : { order: order.right }),
    workload: {
      globalBatch: t.globalBatch,
      microBatch: t.microBatch ?? 1,
      sequenceLength: t.seqLen ?? 4096,
      recompute: t.recompute ?? 'none',
      zeroStage: t.zero ?? 0,
      ...(t.schedule === undefined || t.schedule === '1f1b' ? {} : { schedule: t.schedule }),
      ...(t.tpCommOverlap === true ? { tpCommOverlap: true } : {}),
      ...(t.offload === undefined || t.offload.length === 0 ? {} : { offload: t.offload }),
      ...(t.gradReduce === undefined ? {} : { gradientReduce: t.gradReduce }),
    },
  })
}

// -------------------------------------------------------------------------------------
// estimate
// -------------------------------------------------------------------------------------


export type Result = { readonly code: number; readonly stdout: string; readonly stderr: string }

/** What the goodput flags ask: the checkpoint's write rate and the restart time (both needed), a failure rate and an interval (optional). */
export interface GoodputOptions {
  readonly checkpointBandwidth: number
  readonly restartSeconds: number
  readonly failuresPerGpuHour?: number
  readonly intervalSeconds?: number
}

/** The goodput flags' request, none when none is given, or the one that is missing. */
export const goodputOptionsOf = (t: Flags): E.Either<InputError, GoodputOptions | undefined> => {
  const asked = t.checkpointBandwidth !== undefined || t.restart !== undefined || t.failureRate !== undefined || t.checkpointInterval !== undefined
  if (!asked) return E.right(undefined)
  if (t.checkpointBandwidth === undefined) return E.left('--checkpoint-bandwidth: the goodput needs the rate a checkpoint is written at, all GPUs together (e.g. 100GB/s)')
  if (t.restart === undefined) return E.left('--restart: the goodput needs the time from a failure to training again (e.g. 10min)')
  return E.right({
    checkpointBandwidth: t.checkpointBandwidth,
    restartSeconds: t.restart,
    ...(t.failureRate === undefined ? {} : { failuresPerGpuHour: t.failureRate }),
    ...(t.checkpointInterval === undefined ? {} : { intervalSeconds: t.checkpointInterval }),
  })
}

/** The goodput of a run of estimate `e`: checkpoints of its model's state written at the options' rate. */
export interface RunGoodput extends Goodput {
  readonly failuresPerGpuHour: number
  readonly checkpointBytes: number
  readonly intervalSteps: number
}

const goodputField: Record<string, string> = {
  failuresPerGpuHour: '--failure-rate',
  checkpointSeconds: '--checkpoint-bandwidth',
  restartSeconds: '--restart',
  intervalSeconds: '--checkpoint-interval',
  gpus: '--gpus',
}

const runGoodput = (models: CostModels, input: TrainingInput, e: TrainingEstimate, o: GoodputOptions): E.Either<InputError, RunGoodput> => {
  const size = checkpointBytes(models, input.model, input.precision)
  const rate = o.failuresPerGpuHour ?? LLAMA3_FAILURES_PER_GPU_HOUR
  const g = goodput({
    gpus: e.gpus,
    failuresPerGpuHour: rate,
    checkpointSeconds: size / o.checkpointBandwidth,
    restartSeconds: o.restartSeconds,
    ...(o.intervalSeconds === undefined ? {} : { intervalSeconds: o.intervalSeconds }),
  })
  if (E.isLeft(g)) return E.left(`${goodputField[g.left.field] ?? g.left.field}: ${g.left.message}`)
  return E.right({ ...g.right, failuresPerGpuHour: rate, checkpointBytes: size, intervalSteps: Math.max(1, Math.round(g.right.intervalSeconds / e.iterationSeconds)) })
}

/** A long duration in the unit a person reads it in: hours from 2 h, minutes from 2 min, else seconds. */
const durationText = (t: number): string =>
  t >= 7200 ? `${(t / 3600).toPrecision(3)} h` : t >= 120 ? `${(t / 60).toPrecision(3)} min` : secondsText(t)

const renderGoodput = (g: RunGoodput, gpus: number, given: GoodputOptions): string => {
  const rate = given.failuresPerGpuHour === undefined ? `${g.failuresPerGpuHour.toExponential(2)} per GPU-hour (Llama 3 405B's pre-training; --failure-rate to give yours)` : `${g.failuresPerGpuHour.toExponential(2)} per GPU-hour`
  const interval = given.intervalSeconds === undefined ? `${durationText(g.intervalSeconds)}, about ${count(g.intervalSteps)} steps (Daly's optimum; Young's √(2δM): ${durationText(g.youngIntervalSeconds)})` : `${durationText(g.intervalSeconds)}, about ${count(g.intervalSteps)} steps (given; the optimum ${durationText(g.optimalIntervalSeconds)} would train ${pct(g.optimalGoodput)})`
  return [
    'time lost to failures and checkpoints (Daly 2006: failures at random, each redoing the work since the last checkpoint)',
    table(
      ['figure', 'value'],
      [
        ['failures', `${rate}: one every ${durationText(g.mtbfSeconds)} on ${count(gpus)} GPUs`],
        ['checkpoint', `${bytesText(g.checkpointBytes)} (weights and optimizer state), written in ${durationText(g.checkpointSeconds)}`],
        ['restart', durationText(g.restartSeconds)],
        ['checkpoint interval', interval],
        ['goodput', `${pct(g.goodput)} of the wall time trains`],
      ],
    ),
  ].join('\n')
}

/** The JSON of a training estimate (schema `meshplan/estimate-training`). */
export const trainingEstimateJson = (e: TrainingEstimate, g: RunGoodput | null = null) => ({
  strategy: encodeStrategy(e.strategy),
  description: e.description,
  gpus: e.gpus,
  workload: e.workload,
  microBatches: e.microBatches,
  iterationSeconds: e.iterationSeconds,
  tokensPerSecond: e.tokensPerSecond,
  tokensPerSecondPerGpu: e.tokensPerSecondPerGpu,
  modelFlopsPerSecondPerGpu: e.modelFlopsPerGpu,
  mfu: e.mfu,
  mfuFullAttention: e.mfuFullAttention,
  bubbleFraction: e.bubbleFraction,
  breakdown: e.breakdown,
  stages: e.stages,
  memory: { peakBytes: e.memory.peak, capacityBytes: e.memory.capacity, hostBytes: e.memory.host, hostCapacityBytes: e.memory.hostCapacity, fits: e.memory.fits },
  goodput:
    g === null
      ? null
      : {
          failuresPerGpuHour: g.failuresPerGpuHour,
          mtbfSeconds: g.mtbfSeconds,
          checkpointBytes: g.checkpointBytes,
          checkpointSeconds: g.checkpointSeconds,
          restartSeconds: g.restartSeconds,
          intervalSeconds: g.intervalSeconds,
          intervalSteps: g.intervalSteps,
          optimalIntervalSeconds: g.optimalIntervalSeconds,
          youngIntervalSeconds: g.youngIntervalSeconds,
          goodput: g.goodput,
          optimalGoodput: g.optimalGoodput,
        },
})

/** A training estimate as text: the figures, where the step goes, and each stage. */
/** The JSON field each training figure is printed as. */
const trainingFields: Readonly<Record<TrainingFigure, string>> = {
  iterationSeconds: 'iterationSeconds',
  tokensPerSecondPerGpu: 'tokensPerSecondPerGpu',
  modelFlopsPerGpu: 'modelFlopsPerSecondPerGpu',
  mfu: 'mfu',
}

const trainingNames: Readonly<Record<TrainingFigure, string>> = {
  iterationSeconds: 'iteration time',
  tokensPerSecondPerGpu: 'tokens/s per GPU',
  modelFlopsPerGpu: 'model FLOP/s per GPU',
  mfu: 'MFU',
}

/** `text` followed by an interval `(low–high)` in `format`, when there is one. */
const bracketed = (text: string, i: FigureInterval | undefined, format: (x: number) => string): string => (i === undefined ? text : `${text} (${format(i.low)}\u2013${format(i.high)})`)

export const renderTrainingEstimate = (e: TrainingEstimate, modelName: string, trust: Trust<TrainingFigure> = { intervals: {}, sensitivities: [] }): string => {
  const w = e.workload
  const b = e.breakdown
  const parts: Array<[string, number]> = [
    ['compute (slowest stage, all micro-batches)', b.compute],
    ['compute lost to communication beside it (SMs)', b.contention],
    ['pipeline bubble', b.bubble],
    ['exposed TP communication', b.exposed.tp],
    ['exposed CP communication', b.exposed.cp],
    ['exposed EP communication', b.exposed.ep],
    ['exposed PP communication', b.exposed.pp],
    ['exposed DP communication (gradients, ZeRO)', b.exposed.dp],
    ...(w.offload === undefined ? [] : ([['exposed offload traffic (host link)', b.offload]] as Array<[string, number]>)),
    ['optimizer step', b.optimizer],
  ]
  const stageRows = e.stages.map((s) => [
    s.ranks.length === 1 ? `${s.ranks[0]}` : `${s.ranks[0]}-${s.ranks[s.ranks.length - 1]} (${s.ranks.length})`,
    `${s.layers}${s.moeLayers > 0 ? ` (${s.moeLayers} MoE)` : ''}`,
    s.holds.join('+') || '-',
    secondsText(s.microBatch.forward),
    secondsText(s.microBatch.backward),
    s.microBatch.recompute > 0 ? secondsText(s.microBatch.recompute) : '-',
    secondsText(s.microBatch.communication.tp + s.microBatch.communication.cp + s.microBatch.communication.ep + s.microBatch.communication.pp + s.microBatch.communication.dp),
    secondsText(s.microBatch.total),
    bytesText(s.memory.total),
    s.memory.fits ? 'yes' : 'NO',
  ])
  return [
    `${modelName} on ${e.gpus} GPUs: ${e.description}`,
    `step: ${count(w.globalBatch)} sequences of ${count(w.sequenceLength)} tokens, ${count(e.microBatches)} micro-batches of ${w.microBatch} per pipeline, ${w.recompute === "none" ? "no" : w.recompute} recomputation, ZeRO ${w.zeroStage}${w.schedule === undefined ? '' : `, ${w.schedule === 'zb-h1' ? 'ZB-H1' : 'DualPipe'} schedule`}${w.tpCommOverlap === true ? ', TP collectives overlapped with their GEMMs' : ''}${w.offload === undefined ? '' : `, ${w.offload.join(', ')} offloaded to host memory`}${w.gradientReduce === 'bf16' ? ', gradients reduced in bf16' : ''}`,
    '',
    table(
      ['figure', 'value'],
      [
        ['iteration time', trust.intervals.iterationSeconds === undefined ? secondsText(e.iterationSeconds) : secondsRangeText(e.iterationSeconds, trust.intervals.iterationSeconds.low, trust.intervals.iterationSeconds.high)],
        ['tokens/s per GPU', bracketed(count(e.tokensPerSecondPerGpu), trust.intervals.tokensPerSecondPerGpu, count)],
        ['model FLOP/s per GPU', bracketed(rateText(e.modelFlopsPerGpu), trust.intervals.modelFlopsPerGpu, rateText)],
        ['MFU (no recomputation counted)', `${bracketed(pct(e.mfu), trust.intervals.mfu, pct)}; ${pct(e.mfuFullAttention)} counting attention over the whole sequence, as papers report it`],
        ['pipeline bubble / ideal', pct(e.bubbleFraction)],
        ['memory, fullest GPU', `${bytesText(e.memory.peak)} of ${bytesText(e.memory.capacity)}${e.memory.fits ? '' : ' (does not fit)'}`],
        ...(w.offload === undefined ? [] : [['host memory, fullest GPU', `${bytesText(e.memory.host)} of its share ${bytesText(e.memory.hostCapacity)}`]]),
      ],
    ),
    ...trustLines(trust, trainingNames),
    '',
    'where the step goes',
    table(
      ['part', 'seconds', 'share'],
      parts.map(([name, s]) => [name, secondsText(s), pct(s / e.iterationSeconds)]),
    ),
    '',
    'per pipeline stage (one micro-batch on one GPU)',
    table(['ranks', 'layers', 'holds', 'forward', 'backward', 'recompute', 'comm', 'total', 'memory', 'fits'], stageRows),
  ].join('\n')
}

/** `estimate --train`: the estimate of `input` (printed, and as it is for the plots), or the reason there is none (exit 1 for a broken law, 2 for bad input or memory). */
export const estimateTrainingOutput = (
  input: TrainingInput,
  modelName: string,
  asJson: boolean,
  models: CostModels = defaultCostModels,
  goodputOptions?: GoodputOptions,
  parameters: ParameterValues = {},
): Result & { readonly estimate?: TrainingEstimate } => {
  const e = estimateTraining(models)(input)
  if (E.isLeft(e)) {
    return { code: e.left.code === 'invalid-strategy' ? 1 : 2, stdout: '', stderr: failureText('estimate', strategyProblems({ ...e.left, message: flagNames(e.left.message) })) }
  }
  const g = goodputOptions === undefined ? E.right(null) : runGoodput(models, input, e.right, goodputOptions)
  if (E.isLeft(g)) return { code: 2, stdout: '', stderr: failureText('estimate', g.left) }
  const trust = trainingTrust(models, { values: parameters })(input, e.right)
  const stdout = asJson
    ? jsonText('estimate-training', { ...trainingEstimateJson(e.right, g.right), ...trustJson(trust, trainingFields) })
    : [renderTrainingEstimate(e.right, modelName, trust), ...(g.right === null || goodputOptions === undefined ? [] : ['', renderGoodput(g.right, e.right.gpus, goodputOptions)])].join('\n')
  if (!e.right.memory.fits) {
    const why =
      e.right.memory.peak > e.right.memory.capacity
        ? `${bytesText(e.right.memory.peak)} on the fullest GPU of ${bytesText(e.right.memory.capacity)}`
        : `${bytesText(e.right.memory.host)} offloaded per GPU, beyond its share of host memory, ${bytesText(e.right.memory.hostCapacity)}`
    return { code: 2, stdout, stderr: failureText('estimate', `does not fit: ${why}`) }
  }
  return { code: 0, stdout, stderr: '', estimate: e.right }
}

// -------------------------------------------------------------------------------------
// plan
// -------------------------------------------------------------------------------------

/** A progress bar for a terminal: done/total strategies, candidates/s and the best so far. */
export const progressLine = (p: SearchProgress, width = 24): string => {
  const done = p.totalStrategies > 0 ? p.strategies / p.totalStrategies : 1
  const filled = Math.round(done * width)
  const perSecond = p.seconds > 0 ? p.candidates / p.seconds : 0
  const best = p.best === null ? 'none fits yet' : `best ${p.best.description} ${secondsText(p.best.iterationSeconds)}`
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(done * 100).toFixed(0)}% ${count(p.candidates)} candidates, ${count(perSecond)}/s, ${best}`
}

/**
 * The JSON of a training search (schema `meshplan/plan-training`): the same bytes for
 * the same input whatever the machine, so neither the search's time nor its thread
 * count is in it (the text output says both).
 */
export const trainingPlanJson = (p: TrainingPlan) => ({
  gpus: p.gpus,
  strategies: p.strategies,
  candidates: p.candidates,
  fit: p.fit,
  rejected: p.rejected,
  best: p.best.map((c) => ({
    ...c,
    strategy: encodeStrategy(c.strategy),
    equivalents: (c.equivalents ?? []).map((q) => ({ ...q, strategy: encodeStrategy(q.strategy) })),
  })),
})

const candidateRow = (c: TrainingCandidate, i: number): ReadonlyArray<string> => [
  `${i + 1}`,
  `${c.description}${c.order === undefined ? '' : ` [${c.order.join('-')}]`}`,
  `${c.workload.microBatch}`,
  c.workload.recompute,
  `${c.workload.zeroStage}`,
  `${c.workload.schedule ?? '1f1b'}${c.workload.tpCommOverlap === true ? ', TP overlap' : ''}${c.workload.offload === undefined ? '' : `, offload ${c.workload.offload.join('+')}`}`,
  secondsText(c.iterationSeconds),
  count(c.tokensPerSecondPerGpu),
  pct(c.mfu),
  bytesText(c.memoryPerGpu),
]

export const renderTrainingPlan = (p: TrainingPlan, modelName: string): string =>
  [
    `${modelName} on ${p.gpus} GPUs: ${count(p.candidates)} candidates from ${count(p.strategies)} strategies in ${p.seconds.toFixed(2)} s (${p.workers} thread${p.workers === 1 ? '' : 's'}); ${count(p.fit)} fit`,
    `rejected: ${count(p.rejected.memory)} do not fit in memory, ${count(p.rejected.interleaving)} interleaved without a multiple of pp micro-batches, ${count(p.rejected.placement)} in a rank order that places every group as another does; ${count(p.rejected.batch)} strategies whose dp does not divide the global batch`,
    '',
    p.best.length === 0
      ? 'nothing fits: more GPUs, a smaller micro-batch, recomputation or ZeRO may help'
      : table(['#', 'strategy', 'micro', 'recompute', 'zero', 'schedule', 'iteration', 'tok/s/GPU', 'MFU', 'memory'], p.best.map(candidateRow)),
    ...equivalentLines(p.best),
  ].join('\n')

/** Under the table, each row's equivalent plans (the same step up to a symmetry of the space), when there are any. */
const equivalentLines = (best: ReadonlyArray<TrainingCandidate>): ReadonlyArray<string> => {
  const lines = best.flatMap((c, i) =>
    (c.equivalents ?? []).length === 0
      ? []
      : [
          `  ${i + 1}: ${(c.equivalents ?? [])
            .map((q) => `${q.description}${q.order === undefined ? '' : ` [${q.order.join('-')}]`}, micro-batch ${q.workload.microBatch}${q.workload.zeroStage === c.workload.zeroStage ? '' : `, ZeRO ${q.workload.zeroStage}`}`)
            .join('; ')}`,
        ],
  )
  return lines.length === 0 ? [] : ['', 'the same step, shown once (context and data parallelism traded with the micro-batch, or a ZeRO stage with nothing to shard; every figure equal):', ...lines]
}

/** The rank order `--order` gives, if any. */
const orderOf = (t: Flags): E.Either<string, Order | undefined> =>
  t.order === undefined ? E.right(undefined) : E.mapLeft((e: { readonly message: string }) => `--order: ${e.message}`)(parseOrder(t.order))

/** `plan --train`: searches and prints the best candidates; progress on stderr when it is a terminal. */
export const planTrainingOutput = async (d: Deployment, t: Flags, constraints: Constraints, top: number, asJson: boolean, modelName: string, models: CostModels = defaultCostModels): Promise<Result> => {
  if (t.globalBatch === undefined) return { code: 2, stdout: '', stderr: failureText('plan', '--global-batch: required for training (sequences per optimizer step)') }
  const order = orderOf(t)
  if (E.isLeft(order)) return { code: 2, stdout: '', stderr: failureText('plan', order.left) }
  const space: TrainingSpace = {
    ...(order.right === undefined ? {} : { orders: [order.right] }),
    ...constraints,
    ...(t.microBatch === undefined ? {} : { microBatches: [t.microBatch] }),
    ...(t.recompute === undefined ? {} : { recompute: [t.recompute] }),
    ...(t.zero === undefined ? {} : { zeroStages: [t.zero] }),
    ...(t.schedule === undefined ? {} : { schedules: [t.schedule] }),
    ...(t.tpCommOverlap === true ? { tpCommOverlap: [true] } : {}),
    ...(t.offload === undefined ? {} : { offload: t.offload.length === 0 ? [] : [t.offload] }),
  }
  const tty = process.stderr.isTTY === true
  const onProgress = tty ? (p: SearchProgress): void => void process.stderr.write(`\r${progressLine(p)}\u001b[K`) : undefined
  const plan = await planTraining(models)(
    {
      model: d.model,
      cluster: d.cluster,
      precision: d.precision,
      globalBatch: t.globalBatch,
      sequenceLength: t.seqLen ?? 4096,
      ...(t.gradReduce === undefined ? {} : { gradientReduce: t.gradReduce }),
      ...(order.right === undefined ? {} : { order: order.right }),
    },
    space,
    { top, ...(t.workers === undefined ? {} : { workers: t.workers }), ...(onProgress === undefined ? {} : { onProgress }) },
  )
  if (tty) process.stderr.write('\r\u001b[K')
  if (E.isLeft(plan)) return { code: 2, stdout: '', stderr: failureText('plan', flagNames(plan.left.message)) }
  const stdout = asJson ? jsonText('plan-training', trainingPlanJson(plan.right)) : renderTrainingPlan(plan.right, modelName)
  return { code: 0, stdout, stderr: '' }
}

// -------------------------------------------------------------------------------------
// check of a training plan
// -------------------------------------------------------------------------------------

/** The JSON of a training plan's audit (schema `meshplan/check-training`). */
export const trainingAuditJson = (a: TrainingAudit) => ({
  plan: { name: a.plan.name, source: a.plan.source ?? null, model: a.plan.model.name, strategy: encodeStrategy(a.plan.strategy), gpus: a.gpus },
  workload: a.plan.workload,
  passes: a.passes,
  violations: a.violations,
  problem: a.problem,
  estimate: a.estimate === null ? null : trainingEstimateJson(a.estimate),
  claims: a.claims.map(claimVerdictJson),
  best: a.best === null ? null : trainingPlanJson(a.best),
  bestProblem: a.bestProblem,
})

/** A training plan's audit as text: the laws, the estimate, each claim, and the search's best plans. */
export const renderTrainingAudit = (a: TrainingAudit): string => {
  const s = a.plan.strategy
  const w = a.plan.workload
  const held = a.claims.filter((c) => c.holds).length
  const lines = [
    `audit of ${a.plan.name}${a.plan.source === undefined ? '' : ` (${a.plan.source})`}`,
    `  ${a.plan.model.name}, training: tp ${s.tp} x pp ${s.pp} x dp ${s.dp} x cp ${s.cp} = ${a.gpus} GPUs; ${w.globalBatch} sequences of ${w.sequenceLength} tokens in micro-batches of ${w.microBatch}, ${w.recompute} recomputation, ZeRO ${w.zeroStage}`,
    '',
    a.violations.length === 0 ? 'algebra: every law holds' : `algebra: ${a.violations.length} law${a.violations.length === 1 ? '' : 's'} broken`,
    ...a.violations.map((v) => `  ${v.code}: ${v.message} (${v.suggestion})`),
  ]
  if (a.problem !== null) lines.push(`  cannot be estimated: ${a.problem}`)
  if (a.estimate !== null) lines.push('', 'estimate of the plan as written:', renderTrainingEstimate(a.estimate, a.plan.model.name))
  lines.push('', `claims: ${held} of ${a.claims.length} hold`, ...a.claims.map(verdictLineOf((m: TrainingClaimMetric) => trainingClaimMetrics[m])))
  if (a.bestProblem !== null) lines.push('', `no search for a better plan: ${a.bestProblem}`)
  if (a.best !== null) {
    const mine = a.estimate?.iterationSeconds
    const first = a.best.best[0]
    const gain = first === undefined || mine === undefined || a.estimate?.memory.fits !== true ? '' : ` (the first: ${(mine / first.iterationSeconds).toFixed(2)}x the plan's speed)`
    lines.push('', `the best plans the search finds for the same model, cluster, global batch and sequence length${gain}:`, renderTrainingPlan(a.best, a.plan.model.name))
  }
  lines.push('', a.passes ? 'verdict: the plan holds up' : 'verdict: the plan does not hold up as written')
  return lines.join('\n')
}

/** `check PLAN` for a training plan: decodes it, audits it, prints the audit (exit 0 when it passes, 1 when not); the audit as it is for the plots. */
export const checkTrainingOutput = async (doc: unknown, file: string, asJson: boolean, models: CostModels = defaultCostModels): Promise<Result & { readonly audit?: TrainingAudit }> => {
  const plan = decodeTrainingPlan(doc)
  if (E.isLeft(plan)) return { code: 2, stdout: '', stderr: failureText('check', issuesMessage(file)(plan.left)) }
  const audit = await checkTrainingPlan(models)(plan.right)
  return { code: audit.passes ? 0 : 1, stdout: asJson ? jsonText('check-training', trainingAuditJson(audit)) : renderTrainingAudit(audit), stderr: '', audit }
}
