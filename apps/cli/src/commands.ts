/**
 * The commands: what each does, the flags that apply to it, its help (description,
 * examples, exit codes), and how it runs once its flags are parsed. Each run returns
 * what to print and the exit code: 0 success, 1 a law or a claim fails (or no strategy
 * meets the objectives), 2 invalid input (the message on stderr, never a stack trace).
 */
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import { defaultCostModels, type CostModels } from '@meshplan/cost-models'
import { inferencePlots, paretoPlot, searchPlots, trainingPlots, type Plots } from '@meshplan/plots'
import { engineModels, estimateDisaggregated, estimateInference, inRange, planDisaggregated, planInference, versionNumbers, type EngineModel, type Slo } from '@meshplan/inference'
import { modelNames, models, parameterCounts } from '@meshplan/model'
import { defaultOrder, layout, parseOrder, type Constraints } from '@meshplan/parallelism'
import {
  calibrate,
  checkPlan,
  checkDisaggregated,
  poolsViolations,
  poolsInput,
  type DeploymentGraph,
  costOf,
  fewestGpus,
  fewestGpusDisaggregated,
  isTrainingPlanDocument,
  decodeTrainingPlan,
  deploymentGraph,
  disaggregatedGraph,
  fittedConstants,
  leaveOneSourceOut,
  predictCases,
  servingTrust,
  toDot,
  toJson,
  toMermaid,
  type Audit,
  type CaseReport,
  type LeaveOneSourceOut,
  type Plan,
} from '@meshplan/planner'
import { deviceNames, devices, systemNames, systems } from '@meshplan/topology'
import { formatByteRate, formatBytes, parseDocument, type DecodeIssue } from '@meshplan/units'
import { deploymentFlags, deploymentOf, goodputFlags, inferenceFlags, notApplicable, planOfDocument, readPlan, readPlanDocument, splitFlags, strategyFlags, strategyOf, trainingFlags, withDefaultSplit, type Deployment } from './deployment'
import { priceFor, type FlagName, type ParsedFlags, type Price } from './flags'
import { failureText, issuesMessage, readText, resolveCluster, resolveModel, resolveModels, strategyProblems, writeText } from './inputs'
import { jsonText } from './json'
import { layoutReport, renderLayout } from './layout-report'
import { auditJson, disaggregatedAuditJson, disaggregatedCapacityJson, disaggregatedCapacityLine, renderDisaggregatedAudit, calibrateJson, capacityJson, capacityLine, costLine, calibrationFileJson, disaggregatedJson, estimateJson, planDisaggregatedJson, planJson, renderAudit, renderCalibration, renderCases, renderDisaggregated, renderDisaggregatedPlan, renderEstimate, renderPlan, servingTrustJson, validateJson } from './reports'
import { table } from './table'
import { caseInput, checkTrainingOutput, estimateTrainingOutput, goodputOptionsOf, planTrainingOutput, trainingInputOf } from './training'
import { plotFlagProblems, plotFlags, withPlots } from './plots'
import { engineNames, exportServing, exportTraining, findEngine, isServingEngine, isTrainingEngine, type Engine, type ServingEngine, type TrainingEngine } from '@meshplan/export'
import { exportOutput } from './export'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export type Output = { readonly code: number; readonly stdout: string; readonly stderr: string }

/** A command: its words for `--help`, the flags that apply, and its run. */
export interface CommandSpec {
  readonly name: string
  /** One line, in `meshplan --help`. */
  readonly summary: string
  /** Positional arguments, `[NAME]` when optional. */
  readonly arguments: ReadonlyArray<{ readonly name: string; readonly help: string; readonly required: boolean }>
  readonly flags: ReadonlyArray<FlagName>
  /** Paragraphs after the usage line. */
  readonly description: string
  readonly examples: ReadonlyArray<string>
  readonly exitCodes: string
  readonly run: (positionals: ReadonlyArray<string>, parsed: ParsedFlags) => Output | Promise<Output>
}

// -------------------------------------------------------------------------------------
// helpers
// -------------------------------------------------------------------------------------

const ok = (stdout: string, code = 0): Output => ({ code, stdout, stderr: '' })

const fail = (command: string, messages: ReadonlyArray<string> | string, code = 2): Output => ({ code, stdout: '', stderr: failureText(command, messages) })

/** The example plan shipped with the command (examples/ of this package): the reference EP64 x TP2 plan. */
export const examplePlanFile = path.resolve(__dirname, '..', 'examples', 'reference-plan.yaml')

const shownPath = (file: string): string => {
  const relative = path.relative(process.cwd(), file)
  return relative.startsWith('..') ? file : relative
}

/** The plan file of the first positional (required or not), read; no other positional. */
const planArgument = (command: string, positionals: ReadonlyArray<string>, required: boolean): E.Either<Output, Plan | undefined> => {
  const [file, ...extra] = positionals
  if (extra.length > 0) return E.left(fail(command, `unexpected argument "${extra[0]}"`))
  if (file === undefined) return required ? E.left(fail(command, `expected a plan file (meshplan ${command} PLAN; e.g. ${shownPath(examplePlanFile)})`)) : E.right(undefined)
  const plan = readPlan(file)
  return E.isLeft(plan) ? E.left(fail(command, plan.left)) : E.right(plan.right)
}

const deploymentFrom = (command: string, positionals: ReadonlyArray<string>, parsed: ParsedFlags, required: boolean): E.Either<Output, Deployment> => {
  const plan = planArgument(command, positionals, required)
  if (E.isLeft(plan)) return plan
  const d = deploymentOf(parsed, plan.right)
  return E.isLeft(d) ? E.left(fail(command, d.left)) : E.right(d.right)
}

/** `out` with `notes` as its first lines of standard output, when there are both. */
const withNotes = (out: Output, notes: ReadonlyArray<string>): Output => (notes.length === 0 || out.stdout === '' ? out : { ...out, stdout: `${notes.join('\n')}\n${out.stdout}` })

/** The serving engines the estimates model (@meshplan/inference's records), each name once. */
const servingEngineNames: ReadonlyArray<string> = [...new Set(engineModels.map((m) => m.name))]

/** A record's releases in words: `from 0.8.0`, `below 1.0`, `0.4.0 to below 0.5`. */
const releasesText = (m: EngineModel): string =>
  m.versions.from !== undefined && m.versions.below !== undefined ? `${m.versions.from} to below ${m.versions.below}` : m.versions.from !== undefined ? `from ${m.versions.from}` : m.versions.below !== undefined ? `below ${m.versions.below}` : 'every release'

/**
 * The serving engine `--engine` and `--engine-version` name for a serving estimate or
 * search (@meshplan/inference `engineModels`: its batch limits, chunked prefill, host time
 * and kernels), undefined without `--engine` (the idealised generic engine), or why the
 * flags name none: a training engine, a release no record covers, a version without a
 * number, a version without an engine.
 */
const modelledEngineOf = (command: string, parsed: ParsedFlags): E.Either<Output, EngineModel | undefined> => {
  const { engine, engineVersion } = parsed.flags
  if (engine === undefined) return engineVersion === undefined ? E.right(undefined) : E.left(fail(command, `--engine-version ${engineVersion}: needs --engine (${servingEngineNames.join(', ')})`))
  const records = engineModels.filter((m) => m.name === engine)
  if (records.length === 0) return E.left(fail(command, `--engine ${engine}: a training engine; ${command} models the serving engines ${servingEngineNames.join(', ')} (without --engine, an idealised one)`))
  if (engineVersion === undefined) return E.right(records[0])
  if (versionNumbers(engineVersion).length === 0) return E.left(fail(command, `--engine-version ${JSON.stringify(engineVersion)}: expected a release number, e.g. 0.11.0`))
  const found = records.find((m) => inRange(m.versions, engineVersion))
  return found === undefined ? E.left(fail(command, `--engine-version ${engineVersion}: meshplan models ${engine} releases ${records.map(releasesText).join(', ')}`)) : E.right(found)
}

/** The engine record an estimate follows, for JSON: its name, the releases it covers, its source. */
const engineJson = (m: EngineModel): { readonly name: string; readonly releases: string; readonly source: string } => ({ name: m.name, releases: releasesText(m), source: m.source })

/** An engine record by name and releases: `vllm (from 0.8.0)`. */
const engineTitle = (m: EngineModel): string => `${m.name} (${releasesText(m)})`

/** The engine line of a serving report: which record the numbers follow, and its source. */
const engineLine = (m: EngineModel): string => `engine: ${engineTitle(m)}: batch limits, chunked prefill, host time and kernels as ${m.source}`

// -------------------------------------------------------------------------------------
// estimate
// -------------------------------------------------------------------------------------

const estimateRun = (positionals: ReadonlyArray<string>, parsed: ParsedFlags): Output | Promise<Output> => {
  const { flags, given } = parsed
  const plotting = plotFlagProblems(flags)
  if (plotting.length > 0) return fail('estimate', plotting)
  const calibrated = resolveModels(flags.calibration)
  if (E.isLeft(calibrated)) return fail('estimate', calibrated.left)
  const costModels = calibrated.right.models
  if (flags.case !== undefined) {
    const others = notApplicable(given, [...deploymentFlags, 'redundantExperts', 'price', ...inferenceFlags, ...trainingFlags, 'train', 'engine', 'engineVersion'], 'does not apply with --case (the case gives the deployment, the engine and the step)')
    if (others.length > 0) return fail('estimate', others)
    const [file, ...extra] = positionals
    if (file === undefined) return fail('estimate', '--case: expected a case file (meshplan estimate FILE --case ID)')
    if (extra.length > 0) return fail('estimate', `unexpected argument "${extra[0]}"`)
    const input = caseInput(file, flags.case, costModels)
    if (E.isLeft(input)) return fail('estimate', input.left)
    const asked = goodputOptionsOf(flags)
    if (E.isLeft(asked)) return fail('estimate', asked.left)
    const { input: caseStep, models } = input.right
    const out = estimateTrainingOutput(caseStep, caseStep.model.name, flags.json === true, models, asked.right, calibrated.right.parameters)
    return withPlots('estimate', flags, out, `${caseStep.model.name}: case ${flags.case}`, () => (out.estimate === undefined ? [] : trainingPlots(models, caseStep, out.estimate)))
  }
  if (flags.train === true) {
    const errors = [
      ...notApplicable(given, inferenceFlags, 'applies to serving; a training step is given by --global-batch, --micro-batch, --seq-len, --recompute and --zero'),
      ...notApplicable(given, ['redundantExperts'], 'applies to serving: redundant expert replicas are an inference technique (EPLB), a training step holds each expert once'),
      ...notApplicable(given, ['price'], 'applies to serving: the cost of the tokens a deployment serves'),
      ...notApplicable(given, ['engine', 'engineVersion'], "applies to serving: a serving engine's batching, host time and kernels (a training plan exports to megatron or torchtitan with meshplan export)"),
    ]
    if (errors.length > 0) return fail('estimate', errors)
    const d0 = deploymentFrom('estimate', positionals, parsed, false)
    if (E.isLeft(d0)) return d0.left
    const deployment = withDefaultSplit(d0.right, given)
    const input = trainingInputOf(deployment, flags)
    if (E.isLeft(input)) return fail('estimate', input.left)
    const asked = goodputOptionsOf(flags)
    if (E.isLeft(asked)) return fail('estimate', asked.left)
    const out = estimateTrainingOutput(input.right, deployment.model.name, flags.json === true, costModels, asked.right, calibrated.right.parameters)
    const step = input.right
    return withPlots('estimate', flags, withNotes(out, flags.json === true ? [] : deployment.notes), `${deployment.model.name} on ${deployment.cluster.name}: a training step`, () =>
      out.estimate === undefined ? [] : trainingPlots(costModels, step, out.estimate),
    )
  }
  const engine = modelledEngineOf('estimate', parsed)
  if (E.isLeft(engine)) return engine.left
  const written = planArgument('estimate', positionals, false)
  if (E.isLeft(written)) return written.left
  if (written.right?.pools !== undefined) return disaggregatedRun(written.right, parsed, costModels, engine.right)
  const training = notApplicable(given, [...trainingFlags, ...goodputFlags], 'applies to training; add --train')
  if (training.length > 0) return fail('estimate', training)
  // the plan file read once, above
  const d0 = deploymentOf(parsed, written.right)
  if (E.isLeft(d0)) return fail('estimate', d0.left)
  const deployment = withDefaultSplit(d0.right, given)
  const { model, cluster, strategy, precision, workload } = deployment
  // redundant expert slots: the flag's, else the plan file's (`parallelism.redundant_experts`)
  const redundant = flags.redundantExperts ?? written.right?.redundantExperts
  const input = { model, cluster, strategy, precision, workload, ...(redundant === undefined ? {} : { redundantExperts: redundant }), ...(engine.right === undefined ? {} : { engine: engine.right }) }
  const e = estimateInference(costModels)(input)
  if (E.isLeft(e)) return fail('estimate', strategyProblems(e.left), e.left.code === 'invalid-strategy' ? 1 : 2)
  if (!e.right.memory.fits) {
    const bytes = formatBytes()
    return fail(
      'estimate',
      `batch ${e.right.batch} does not fit: ${bytes(e.right.memory.perGpu)} per GPU of ${bytes(e.right.memory.capacity)}; at most ${e.right.memory.maxBatch} sequences of ${workload.inputTokens + workload.outputTokens} tokens fit per data-parallel rank`,
    )
  }
  const estimated = e.right
  const trust = servingTrust(costModels, { values: calibrated.right.parameters })(input, estimated)
  const price = flags.price === undefined ? undefined : priceFor(flags.price, cluster.device)
  if (price !== undefined && E.isLeft(price)) return fail('estimate', price.left)
  const cost = price === undefined ? undefined : costOf({ gpus: estimated.gpus, outputTokensPerSecond: estimated.tokensPerSecond.total, inputTokensPerSecond: (estimated.tokensPerSecond.total * workload.inputTokens) / workload.outputTokens }, price.right)
  const out = withNotes(
    ok(
      flags.json === true
        ? jsonText('estimate', { ...estimateJson(estimated), ...servingTrustJson(trust), ...(cost === undefined ? {} : { cost }), ...(engine.right === undefined ? {} : { engine: engineJson(engine.right) }) })
        : [renderEstimate(estimated, workload, trust), ...(cost === undefined ? [] : [costLine(cost)]), ...(engine.right === undefined ? [] : [engineLine(engine.right)])].join('\n'),
    ),
    flags.json === true ? [] : deployment.notes,
  )
  return withPlots('estimate', flags, out, `${model.name} on ${cluster.name}: ${estimated.description}`, () => inferencePlots(costModels, input, estimated))
}

/**
 * `estimate` of a disaggregated plan (a plan file with `pools`): each pool as its own
 * deployment on its cluster, the KV cache of each request over the link between them
 * (the scale-up fabric when both pools are one scale-up domain of one cluster, else the
 * slower pool's outermost link), @meshplan/inference's `estimateDisaggregated`.
 */
const disaggregatedRun = (plan: Plan, parsed: ParsedFlags, models: CostModels, engine: EngineModel | undefined): Output => {
  const { flags, given } = parsed
  const refused = notApplicable(given, [...deploymentFlags, 'redundantExperts', 'mode', 'batch', 'maxBatch', 'hotExpertShare', 'train', ...trainingFlags, ...goodputFlags, ...plotFlags], 'does not apply to a disaggregated plan (its pools give each deployment)')
  if (refused.length > 0) return fail('estimate', refused)
  const pools = plan.pools
  if (pools === undefined) return fail('estimate', 'expected a plan with pools')
  const over = poolsViolations(plan)
  if (over.length > 0) return fail('estimate', strategyProblems({ message: '', violations: over }), 1)
  const workload = {
    ...plan.workload,
    ...(flags.inputTokens === undefined ? {} : { inputTokens: flags.inputTokens }),
    ...(flags.outputTokens === undefined ? {} : { outputTokens: flags.outputTokens }),
  }
  const input = poolsInput({ ...plan, pools }, workload)
  const e = estimateDisaggregated(models)(engine === undefined ? input : { ...input, prefill: { ...input.prefill, engine }, decode: { ...input.decode, engine } })
  if (E.isLeft(e)) return fail('estimate', strategyProblems(e.left), e.left.code === 'invalid-strategy' ? 1 : 2)
  // each pool's GPUs at its device's price: the deployment's GPU-hour is their mean, weighted by GPUs
  const prices = flags.price === undefined ? undefined : ([pools.prefill, pools.decode] as const).map((p) => priceFor(flags.price as Price, p.cluster.device))
  const missing = prices?.find(E.isLeft)
  if (missing !== undefined && E.isLeft(missing)) return fail('estimate', missing.left)
  const [pp, dp] = (prices ?? []).map((p) => (E.isRight(p) ? p.right : 0))
  const mean = pp === undefined || dp === undefined ? undefined : (pp * e.right.prefill.gpus + dp * e.right.decode.gpus) / e.right.gpus
  const cost = mean === undefined ? undefined : costOf({ gpus: e.right.gpus, outputTokensPerSecond: e.right.tokensPerSecond.total, inputTokensPerSecond: e.right.inputTokensPerSecond }, mean)
  return flags.json === true
    ? ok(jsonText('estimate-disaggregated', { ...disaggregatedJson(e.right, pools), ...(cost === undefined ? {} : { cost }), ...(engine === undefined ? {} : { engine: engineJson(engine) }) }))
    : ok([renderDisaggregated(e.right, pools, plan.name), ...(cost === undefined ? [] : [costLine(cost)]), ...(engine === undefined ? [] : [engineLine(engine)])].join('\n'))
}

const estimateSpec: CommandSpec = {
  name: 'estimate',
  summary: 'TTFT, TPOT, tokens/s, memory and the time breakdown of one deployment (--train: one training step)',
  arguments: [{ name: 'PLAN', help: 'a plan file (meshplan-plan/1); with --case, a case file (meshplan-cases/1)', required: false }],
  flags: [...deploymentFlags, 'redundantExperts', ...inferenceFlags, 'engine', 'engineVersion', 'price', 'train', ...trainingFlags, ...goodputFlags, 'case', 'calibration', 'json', ...plotFlags],
  description: `Serving: TTFT, TPOT, request latency, output tokens/s (total, per GPU, per user), memory
per GPU with the largest batch that fits, and where a step's time goes (per operator
group, compute- or memory-bound, exposed communication per kind, and the engine's host
work, which sets the pace where it outlasts the pass).
Training (--train, or a training case with --case): iteration time, tokens/s and model
FLOP/s per GPU, MFU, the step's breakdown (compute, bubble, exposed communication per
kind, optimizer), and per pipeline stage one micro-batch's times and a GPU's memory.
With --checkpoint-bandwidth and --restart, also the goodput of a long run: the share of
wall time that trains between failures and checkpoints, at the best checkpoint interval.
Flags override a plan file's fields. An MoE model without expert parallelism shards
its experts over the tensor-parallel GPUs (etp = tp) unless --etp says otherwise.
With --svg FILE, the plots go to FILE as one SVG, one panel each: where a step goes,
memory per GPU against capacity, the roofline of the step's operators, and for
training the pipeline schedule (1F1B or interleaved); --plot names some of them.`,
  examples: [
    'meshplan estimate --model llama-2-70b --cluster dgx-h100 --tp 8 --batch 32',
    'meshplan estimate --model mixtral-8x7b --cluster dgx-h100 --tp 8',
    'meshplan estimate --model mixtral-8x7b --cluster dgx-a100-80gb --tp 2 --mode max_throughput',
    'meshplan estimate examples/reference-plan.yaml --batch 8',
    'meshplan estimate --model llama-3.1-70b --cluster dgx-h100 --tp 8 --mode max_throughput --engine vllm --engine-version 0.11.0',
    'meshplan estimate --model llama-2-70b --cluster dgx-h100 --tp 8 --batch 32 --svg step.svg',
    'meshplan estimate --train --model gpt3-175b --cluster dgx-a100-80gb --nodes 8 --tp 8 --pp 8 --vp 3 --sp --global-batch 64 --seq-len 2048 --recompute selective',
    'meshplan estimate --train --model llama-3.1-8b --cluster dgx-h100 --tp 2 --pp 4 --global-batch 16 --svg schedule.svg --plot schedule,memory',
    'meshplan estimate validation/calibration.json --case llmfoundry-h100-mpt-7b-fsdp8-seq2048-mb6-noac',
    'meshplan estimate --train --model llama-3.1-405b --cluster dgx-h100 --nodes 128 --tp 8 --pp 16 --dp 8 --global-batch 2048 --seq-len 8192 --zero 1 --recompute full --checkpoint-bandwidth 100GB/s --restart 10min',
  ],
  exitCodes: '0 estimated, 1 the strategy breaks a law, 2 invalid input or it does not fit in memory',
  run: estimateRun,
}

// -------------------------------------------------------------------------------------
// plan
// -------------------------------------------------------------------------------------

const objectiveFlags: ReadonlyArray<FlagName> = ['maxTtft', 'maxTpot', 'minTokensPerUser', 'memoryHeadroom', 'maxGpus']

/** The degrees given as flags: constraints of a search (a plan file's strategy is not one). */
const degreeConstraints = (parsed: ParsedFlags, withTraining: boolean): Record<string, ReadonlyArray<number>> => {
  const only: Record<string, ReadonlyArray<number>> = {}
  const { flags } = parsed
  for (const name of ['tp', 'pp', 'dp', 'cp', 'ep', 'etp'] as const) {
    const given = flags[name]
    if (given !== undefined) only[name] = [given]
  }
  if (withTraining && flags.vp !== undefined) only['virtualStages'] = [flags.vp]
  return only
}

const planRun = (positionals: ReadonlyArray<string>, parsed: ParsedFlags): Output | Promise<Output> => {
  const { flags, given } = parsed
  const plotting = plotFlagProblems(flags)
  if (plotting.length > 0) return fail('plan', plotting)
  const calibrated = resolveModels(flags.calibration)
  if (E.isLeft(calibrated)) return fail('plan', calibrated.left)
  const costModels = calibrated.right.models
  if (flags.train === true) {
    const errors = [
      ...notApplicable(given, plotFlags, 'a training search has no plots yet; draw a plan it finds with estimate --train --svg FILE'),
      ...notApplicable(given, [...inferenceFlags, ...objectiveFlags, 'disaggregated', 'targetRate'], 'applies to serving; a training search ranks by iteration time over the whole cluster'),
      ...notApplicable(given, splitFlags, 'the search cuts the layers itself: evenly, or where they do not divide as Megatron-LM users do (use it with estimate)'),
      ...notApplicable(given, ['engine', 'engineVersion'], "applies to serving searches: a serving engine's batching, host time and kernels"),
    ]
    if (errors.length > 0) return fail('plan', errors)
    const d = deploymentFrom('plan', positionals, parsed, false)
    if (E.isLeft(d)) return d.left
    const constraints: Constraints = { only: degreeConstraints(parsed, true), ...(flags.sp === true ? { sequenceParallel: true } : {}) }
    const planned = planTrainingOutput(d.right, flags, constraints, flags.top ?? 10, flags.json === true, d.right.model.name, costModels)
    return flags.json === true ? planned : planned.then((out) => withNotes(out, d.right.notes))
  }
  // a disaggregated plan file gives the model, cluster and workload of a disaggregated search (its pools are what the search replaces)
  const written = planArgument('plan', positionals, false)
  if (E.isLeft(written)) return written.left
  const disaggregated = flags.disaggregated === true || written.right?.pools !== undefined
  const errors = [
    ...notApplicable(given, trainingFlags, 'applies to training; add --train'),
    ...notApplicable(given, ['workers'], 'applies to training searches (plan --train)'),
    ...(disaggregated ? notApplicable(given, plotFlags, 'a disaggregated search has no plots yet') : []),
    ...notApplicable(given, ['vp', 'sp'], 'a serving search does not vary interleaved stages or sequence parallelism (training techniques); use them with --train or with estimate'),
    ...notApplicable(given, splitFlags, 'a serving search cuts the layers evenly; use an uneven split with estimate'),
  ]
  if (errors.length > 0) return fail('plan', errors)
  const engine = modelledEngineOf('plan', parsed)
  if (E.isLeft(engine)) return engine.left
  const { pools: _pools, ...single } = written.right ?? {}
  const d0 = deploymentOf(parsed, written.right === undefined ? undefined : (single as Plan))
  if (E.isLeft(d0)) return fail('plan', d0.left)
  const deployment = d0.right
  const { model, cluster, precision, workload } = deployment
  const slo: Slo = {
    ...(flags.maxTtft === undefined ? {} : { maxTtft: flags.maxTtft }),
    ...(flags.maxTpot === undefined ? {} : { maxTpot: flags.maxTpot }),
    ...(flags.minTokensPerUser === undefined ? {} : { minTokensPerUser: flags.minTokensPerUser }),
    ...(flags.memoryHeadroom === undefined ? {} : { memoryHeadroom: flags.memoryHeadroom }),
  }
  // what every search of this command shares: the deployment's model, cluster and workload, the degrees the flags fix, the objectives, the GPUs
  const searchInput = { model, cluster, precision, workload, constraints: { only: degreeConstraints(parsed, false) }, slo, ...(flags.maxGpus === undefined ? {} : { maxGpus: flags.maxGpus }), ...(engine.right === undefined ? {} : { engine: engine.right }) }
  const top = flags.top === undefined ? {} : { top: flags.top }
  const started = process.hrtime.bigint()
  const searched = planInference(costModels)({ ...searchInput, ...top })
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  if (E.isLeft(searched)) return fail('plan', flagWords(searched.left.message))
  const r = searched.right
  const code = r.top.length > 0 ? 0 : 1
  const objectives = Object.keys(slo).length > 0
  const header = `plan for ${model.name} on ${cluster.name}: ${workload.mode}, ${workload.inputTokens} prompt + ${workload.outputTokens} output tokens${engine.right === undefined ? '' : `, on ${engineTitle(engine.right)}`}`
  if (disaggregated) {
    const split = planDisaggregated(costModels)({ ...searchInput, ...top })
    if (E.isLeft(split)) return fail('plan', flagWords(split.left.message))
    const all = Number(process.hrtime.bigint() - started) / 1e9
    const found = r.top.length + split.right.top.length > 0 ? 0 : 1
    if (flags.targetRate !== undefined) {
      // the fewest GPUs of either kind that serve the rate
      const co = fewestGpus(costModels)(searchInput, flags.targetRate)
      if (E.isLeft(co)) return fail('plan', flagWords(co.left.message))
      const apart = fewestGpusDisaggregated(costModels)(searchInput, flags.targetRate)
      if (E.isLeft(apart)) return fail('plan', flagWords(apart.left.message))
      const reached = co.right.found === null && apart.right.found === null ? 1 : 0
      return flags.json === true
        ? ok(jsonText('plan-disaggregated', { ...planDisaggregatedJson(r, split.right, objectives), target: { coLocated: capacityJson(co.right), disaggregated: disaggregatedCapacityJson(apart.right) } }), reached)
        : withNotes(ok([header, renderPlan(r, seconds, objectives), '', renderDisaggregatedPlan(r, split.right, all), '', capacityLine(co.right), disaggregatedCapacityLine(apart.right)].join('\n'), reached), deployment.notes)
    }
    return flags.json === true
      ? ok(jsonText('plan-disaggregated', planDisaggregatedJson(r, split.right, objectives)), found)
      : withNotes(ok([header, renderPlan(r, seconds, objectives), '', renderDisaggregatedPlan(r, split.right, all)].join('\n'), found), deployment.notes)
  }
  if (flags.targetRate !== undefined) {
    const capacity = fewestGpus(costModels)(searchInput, flags.targetRate)
    if (E.isLeft(capacity)) return fail('plan', flagWords(capacity.left.message))
    const reached = capacity.right.found === null ? 1 : 0
    return flags.json === true
      ? ok(jsonText('plan', { ...planJson(r, objectives), target: capacityJson(capacity.right) }), reached)
      : withNotes(ok([header, renderPlan(r, seconds, objectives), '', capacityLine(capacity.right)].join('\n'), reached), deployment.notes)
  }
  const out = flags.json === true ? ok(jsonText('plan', planJson(r, objectives)), code) : withNotes(ok([header, renderPlan(r, seconds, objectives)].join('\n'), code), deployment.notes)
  return withPlots('plan', flags, out, header, () => searchPlots(costModels, { model, cluster, precision, workload }, r))
}

/** A search's message in the command's words: the input fields it names as the flags that set them. */
const flagWords = (message: string): string => message.replace('(tp, ep, ...)', '(--tp, --ep, ...)').replace('(maxGpus)', '(--max-gpus)')

const planSpec: CommandSpec = {
  name: 'plan',
  summary: 'search strategies and batches; rank them; the Pareto front (--train: training plans)',
  arguments: [{ name: 'PLAN', help: 'a plan file (meshplan-plan/1): its model, cluster and workload', required: false }],
  flags: [...deploymentFlags, ...inferenceFlags, 'engine', 'engineVersion', ...objectiveFlags, 'top', 'targetRate', 'disaggregated', 'train', ...trainingFlags, 'workers', 'calibration', 'json', ...plotFlags],
  description: `Enumerates every valid strategy (tp, pp, dp, cp, ep, etp; dp replicas included) on all
GPUs of the cluster, or on every divisor of --max-gpus, and batches 1, 2, 4, ... up to
the most that fit; keeps those that meet the objectives; ranks them by output tokens/s
per GPU (--mode latency: by request latency); prints the best and the Pareto front of
tokens/s per GPU against tokens/s per user. Degrees given as flags fix that degree.
Without objectives the ranking favours the largest batches, whose TTFT and TPOT can be
long: give --max-ttft and --max-tpot for an interactive service.
With --train, every valid (tp, pp, dp, cp, ep, etp, vp, sp), micro-batch, recomputation and
ZeRO stage is evaluated (degrees, --micro-batch, --recompute and --zero given as flags
narrow it) and ranked by iteration time; a progress bar goes to stderr when it is a
terminal.
With --svg FILE (serving), the plots go to FILE as one SVG, one panel each: the Pareto
front with the chosen plan (the first row) marked, then the chosen plan's step
breakdown, memory per GPU and roofline; --plot names some of them (--plot pareto).`,
  examples: [
    'meshplan plan --model llama-3.1-8b --cluster dgx-h100 --nodes 4',
    'meshplan plan --model llama-3.1-70b --cluster dgx-h100 --nodes 2 --max-tpot 40ms --max-ttft 2s',
    'meshplan plan --model llama-2-70b --cluster dgx-h100 --nodes 2 --mode max_throughput --max-tpot 50ms',
    'meshplan plan examples/reference-plan.yaml --max-tpot 20ms',
    'meshplan plan --model llama-3.1-70b --cluster dgx-h100 --nodes 2 --max-tpot 40ms --svg pareto.svg --plot pareto',
    'meshplan plan --train --model gpt3-175b --cluster dgx-h100 --nodes 128 --global-batch 1536 --seq-len 2048',
    'meshplan plan --model deepseek-v3 --cluster dgx-h100 --nodes 16 --precision fp8 --disaggregated --max-ttft 2s --max-tpot 50ms',
  ],
  exitCodes: '0 a strategy meets the objectives, 1 none does, 2 invalid input',
  run: planRun,
}

// -------------------------------------------------------------------------------------
// check and example
// -------------------------------------------------------------------------------------

/** The audit of `plan` with the flags over it. */
const auditOfPlan = (command: string, plan: Plan, parsed: ParsedFlags, models: CostModels = defaultCostModels): E.Either<Output, Audit> => {
  const d = deploymentOf(parsed, plan)
  if (E.isLeft(d)) return E.left(fail(command, d.left))
  const { model, cluster, strategy, precision, workload } = d.right
  return E.right(checkPlan(models)({ ...plan, model, cluster, strategy, precision, workload }))
}

/** The audit of the plan of `positionals` with the flags over it. */
const auditOf = (command: string, positionals: ReadonlyArray<string>, parsed: ParsedFlags, models: CostModels = defaultCostModels): E.Either<Output, Audit> => {
  const plan = planArgument(command, positionals, true)
  if (E.isLeft(plan)) return plan
  if (plan.right === undefined) return E.left(fail(command, 'expected a plan file'))
  return auditOfPlan(command, plan.right, parsed, models)
}

/** A serving audit's plots: the plan's estimate plots, then the search's Pareto front with the plan marked. */
const auditPlots = (a: Audit, models: CostModels): Plots => {
  const { model, cluster, strategy, precision, workload } = a.plan
  const none = E.left(`the plan cannot be estimated: ${a.problem ?? 'no estimate'}`)
  return [
    ...(a.estimate === null ? ([['breakdown', none], ['memory', none], ['roofline', none]] as const) : inferencePlots(models, { model, cluster, strategy, precision, workload }, a.estimate)),
    ['pareto', a.best === null ? E.left(`no search for alternatives: ${a.bestProblem ?? 'refused'}`) : paretoPlot(a.best, { chosenLabel: 'best alternative', ...(a.estimate === null ? {} : { plan: a.estimate }) })],
  ]
}

const checkSpec: CommandSpec = {
  name: 'check',
  summary: 'audit a plan: laws of the algebra, every claim, and the best alternative',
  arguments: [{ name: 'PLAN', help: 'a plan file (meshplan-plan/1, JSON or YAML)', required: true }],
  flags: [...deploymentFlags, ...inferenceFlags, 'calibration', 'json', ...plotFlags],
  description: `Reads a plan file (meshplan-plan/1: model, cluster, parallelism, workload, claims) and
reports every law of the algebra it breaks, each claim as holds or does not hold with
the computed value and how far off it is, and the best strategy the planner finds for
the same model, cluster and workload. Flags override a serving plan's fields.
A training plan (workload kind: training; claims such as step_time, mfu, tokens_per_s,
memory_per_gpu) is audited against the training estimate and the training search; its
file gives the whole step, so only --json, --svg and --plot apply.
With --svg FILE, the plots go to FILE as one SVG, one panel each: the plan's step
breakdown, memory per GPU and roofline, then (serving) the Pareto front of the search
with the plan and the best alternative marked, or (training) the pipeline schedule;
--plot names some of them.`,
  examples: [
    'meshplan check examples/reference-plan.yaml',
    'meshplan check examples/reference-plan.yaml --mode static --batch 32 --output-tokens 512',
    'meshplan check examples/llama-3.1-405b-training.yaml',
    'meshplan check examples/reference-plan.yaml --svg audit.svg',
  ],
  exitCodes: '0 every claim holds and no law is broken, 1 something fails, 2 invalid input',
  run: (positionals, parsed) => {
    const plotting = plotFlagProblems(parsed.flags)
    if (plotting.length > 0) return fail('check', plotting)
    const calibrated = resolveModels(parsed.flags.calibration)
    if (E.isLeft(calibrated)) return fail('check', calibrated.left)
    const costModels = calibrated.right.models
    const [file, ...extra] = positionals
    // one read of the file: a training plan or a serving plan (auditOf reports a missing or an extra argument)
    let audit: E.Either<Output, Audit>
    if (file !== undefined && extra.length === 0) {
      const doc = readPlanDocument(file)
      if (E.isLeft(doc)) return fail('check', doc.left)
      if (isTrainingPlanDocument(doc.right)) {
        const others = notApplicable(parsed.given, [...deploymentFlags, ...inferenceFlags], 'does not apply to a training plan (its file gives the whole step)')
        if (others.length > 0) return fail('check', others)
        return checkTrainingOutput(doc.right, file, parsed.flags.json === true, costModels).then((out) =>
          withPlots('check', parsed.flags, out, `audit of ${out.audit?.plan.name ?? shownPath(file)}`, () => (out.audit === undefined || out.audit.estimate === null ? [] : trainingPlots(costModels, out.audit.plan, out.audit.estimate))),
        )
      }
      const plan = planOfDocument(file, doc.right)
      if (E.isLeft(plan)) return fail('check', plan.left)
      if (plan.right.pools !== undefined) {
        const others = notApplicable(parsed.given, [...deploymentFlags, ...inferenceFlags, ...plotFlags], 'does not apply to a disaggregated plan (its pools give each deployment)')
        if (others.length > 0) return fail('check', others)
        const a = checkDisaggregated(costModels)(plan.right)
        return ok(parsed.flags.json === true ? jsonText('check-disaggregated', disaggregatedAuditJson(a)) : renderDisaggregatedAudit(a), a.passes ? 0 : 1)
      }
      audit = auditOfPlan('check', plan.right, parsed, costModels)
    } else audit = auditOf('check', positionals, parsed, costModels)
    if (E.isLeft(audit)) return audit.left
    const a = audit.right
    const out = ok(parsed.flags.json === true ? jsonText('check', auditJson(a)) : renderAudit(a), a.passes ? 0 : 1)
    return withPlots('check', parsed.flags, out, `audit of ${a.plan.name}`, () => auditPlots(a, costModels))
  },
}

const exampleSpec: CommandSpec = {
  name: 'example',
  summary: 'the built-in example: check of the reference EP64 x TP2 plan, then plan',
  arguments: [],
  flags: ['json'],
  description: `Audits the reference EP64 x TP2 plan (${shownPath(examplePlanFile)}), then searches
strategies for the same model, cluster and workload. Exits 0 whenever it runs: it
demonstrates an audit, whatever the verdicts.`,
  examples: ['meshplan example', 'meshplan example --json'],
  exitCodes: '0 whenever it runs, 2 invalid input',
  run: (_positionals, parsed) => {
    const audit = auditOf('example', [examplePlanFile], parsed)
    if (E.isLeft(audit)) return audit.left
    // the audit searched the same model, cluster and workload (batch free): that search is the plan
    const a = audit.right
    if (a.best === null) return fail('example', a.bestProblem ?? 'the search was refused')
    if (parsed.flags.json === true) return ok(jsonText('example', { check: auditJson(a), plan: planJson(a.best, false) }))
    const w = a.plan.workload
    const header = `plan for ${a.plan.model.name} on ${a.plan.cluster.name}: ${w.mode}, ${w.inputTokens} prompt + ${w.outputTokens} output tokens`
    return ok([renderAudit(a), '', '—'.repeat(40), '', header, renderPlan(a.best, undefined, false)].join('\n'))
  },
}

// -------------------------------------------------------------------------------------
// dag
// -------------------------------------------------------------------------------------

const dagSpec: CommandSpec = {
  name: 'dag',
  summary: 'the deployment graph of a plan (mermaid, dot or json)',
  arguments: [{ name: 'PLAN', help: 'a plan file (meshplan-plan/1)', required: true }],
  flags: [...deploymentFlags, ...inferenceFlags, 'format', 'phase'],
  description: `The deployment graph of a plan: modules (embedding, attention, router, dispatch,
experts, combine, TP collectives, LM head) as nodes with the GPU groups that run them,
edges with the bytes moved per step; repeated layers and identical pipeline stages are
grouped. The step is one decode step of the workload's batch (default) or its prefill.`,
  examples: ['meshplan dag examples/reference-plan.yaml > plan.mmd', 'meshplan dag examples/reference-plan.yaml --format dot | dot -Tsvg > plan.svg', 'meshplan dag examples/reference-plan.yaml --format json'],
  exitCodes: '0 written, 1 the strategy breaks a law, 2 invalid input',
  run: (positionals, parsed) => {
    const written = planArgument('dag', positionals, true)
    if (E.isLeft(written)) return written.left
    if (written.right?.pools !== undefined) return disaggregatedDag(written.right, parsed)
    const balanced = notApplicable(parsed.given, ['hotExpertShare'], 'the graph draws balanced routing (the estimate charges a hot expert to the busiest rank)')
    if (balanced.length > 0) return fail('dag', balanced)
    const d = deploymentOf(parsed, written.right)
    if (E.isLeft(d)) return fail('dag', d.left)
    const { model, cluster, strategy, precision, workload } = d.right
    const redundant = written.right?.redundantExperts ?? 0
    const phase = parsed.flags.phase ?? 'decode'
    const format = parsed.flags.format ?? 'mermaid'
    const estimated = estimateInference(defaultCostModels)({ model, cluster, strategy, precision, workload, redundantExperts: redundant })
    if (E.isLeft(estimated) && estimated.left.code === 'invalid-strategy') return fail('dag', strategyProblems(estimated.left), 1)
    const laid = layout(cluster)(strategy)
    if (E.isLeft(laid)) return fail('dag', laid.left.message, 1)
    const batch = E.isRight(estimated) ? estimated.right.batch : (workload.batch ?? 1)
    const graph = deploymentGraph({
      model,
      strategy,
      precision,
      layout: laid.right,
      redundantExperts: redundant,
      step: { phase, tokensPerReplica: phase === 'decode' ? batch : batch * workload.inputTokens },
    })
    return graphOutput(graph, format)
  },
}

/**
 * `dag` of a disaggregated plan: the prefill instance's prefill step (the prompts of one
 * pass) and the decode instance's decode step (its running batch, from the estimate),
 * joined by one request's KV cache (@meshplan/planner's `disaggregatedGraph`).
 */
const disaggregatedDag = (plan: Plan, parsed: ParsedFlags): Output => {
  const refused = notApplicable(parsed.given, [...deploymentFlags, ...inferenceFlags, 'phase'], 'does not apply to a disaggregated plan (its pools give each deployment; the prefill pool is drawn prefilling, the decode pool decoding)')
  if (refused.length > 0) return fail('dag', refused)
  const pools = plan.pools
  if (pools === undefined) return fail('dag', 'expected a plan with pools')
  const over = poolsViolations(plan)
  if (over.length > 0) return fail('dag', strategyProblems({ message: '', violations: over }), 1)
  const input = poolsInput({ ...plan, pools })
  const e = estimateDisaggregated(defaultCostModels)(input)
  if (E.isLeft(e)) return fail('dag', strategyProblems(e.left), e.left.code === 'invalid-strategy' ? 1 : 2)
  const laidP = layout(pools.prefill.cluster)(pools.prefill.strategy)
  const laidD = layout(pools.decode.cluster)(pools.decode.strategy)
  if (E.isLeft(laidP)) return fail('dag', `the prefill pool: ${laidP.left.message}`, 1)
  if (E.isLeft(laidD)) return fail('dag', `the decode pool: ${laidD.left.message}`, 1)
  const graph = disaggregatedGraph(
    { model: plan.model, strategy: pools.prefill.strategy, precision: plan.precision, layout: laidP.right, redundantExperts: pools.prefill.redundantExperts ?? 0, instances: pools.prefill.instances, step: { phase: 'prefill', tokensPerReplica: e.right.prefill.tokensPerPass } },
    { model: plan.model, strategy: pools.decode.strategy, precision: plan.precision, layout: laidD.right, redundantExperts: pools.decode.redundantExperts ?? 0, instances: pools.decode.instances, step: { phase: 'decode', tokensPerReplica: Math.max(1, Math.round(e.right.decode.batch)) } },
    e.right.transfer.bytesPerRequest,
    `${formatByteRate()(input.link.bandwidth)} per GPU`,
  )
  return graphOutput(graph, parsed.flags.format ?? 'mermaid')
}

/** A deployment graph in `format`: Mermaid, Graphviz dot, or the `dag` JSON. */
const graphOutput = (graph: DeploymentGraph, format: NonNullable<ParsedFlags['flags']['format']>): Output => {
  if (format === 'json') {
    const { format: _format, ...rest } = toJson(graph)
    return ok(jsonText('dag', rest))
  }
  return ok(format === 'dot' ? toDot(graph) : toMermaid(graph))
}

// -------------------------------------------------------------------------------------
// validate
// -------------------------------------------------------------------------------------

const validateSpec: CommandSpec = {
  name: 'validate',
  summary: 'predict measured cases (meshplan-cases/1) and report the errors',
  arguments: [{ name: 'FILE', help: 'a case file (meshplan-cases/1)', required: true }],
  flags: ['json', 'leaveOneSourceOut', 'calibration'],
  description: `Reads a case file (meshplan-cases/1, validation/FORMAT.md) and prints, per case, the
prediction, the measurement and the error, then the median, p90, mean and worst absolute
error over all cases and per kind, metric, source, hardware generation, format and mode.
A case that asks for what the models do not represent yet gets no number and the field
that asks for it.

With --leave-one-source-out the constants fitted on measured cases (@meshplan/planner's
fittedConstants) are refitted once per source (an engine name and version) without its
cases, and each case is predicted by the fit that never saw it: how the models do on a
release they were not tuned on. It predicts the file about 30 times per source.
With --calibration FILE (written by meshplan calibrate) the cases are predicted with that
calibration's parameters instead of the defaults.`,
  examples: ['meshplan validate validation/calibration.json', 'meshplan validate cases.json --json', 'meshplan validate validation/calibration.json --leave-one-source-out'],
  exitCodes: '0 the file was read and predicted, 2 invalid input',
  run: (positionals, parsed) => {
    if (parsed.flags.calibration !== undefined && parsed.flags.leaveOneSourceOut === true)
      return fail('validate', '--calibration: does not apply with --leave-one-source-out (which refits the fitted constants itself); validate with one or the other')
    const calibrated = resolveModels(parsed.flags.calibration)
    if (E.isLeft(calibrated)) return fail('validate', calibrated.left)
    const [file, ...extra] = positionals
    if (file === undefined) return fail('validate', 'expected a case file (meshplan validate FILE)')
    if (extra.length > 0) return fail('validate', `unexpected argument "${extra[0]}"`)
    const text = readText(file)
    if (E.isLeft(text)) return fail('validate', text.left)
    const doc = parseDocument(text.right, file)
    if (E.isLeft(doc)) return fail('validate', doc.left.message)
    const report: E.Either<ReadonlyArray<DecodeIssue>, CaseReport | LeaveOneSourceOut> =
      parsed.flags.leaveOneSourceOut === true ? leaveOneSourceOut(defaultCostModels, fittedConstants)(doc.right) : predictCases(calibrated.right.models)(doc.right)
    if (E.isLeft(report)) return fail('validate', issuesMessage(file)(report.left))
    return ok(parsed.flags.json === true ? jsonText('validate', validateJson(report.right)) : renderCases(report.right))
  },
}

// -------------------------------------------------------------------------------------
// calibrate
// -------------------------------------------------------------------------------------

/** The cases of every file of `files`, as one case file, or the message of the first that cannot be read. */
const casesOfFiles = (files: ReadonlyArray<string>): E.Either<string, { readonly format: 'meshplan-cases/1'; readonly cases: ReadonlyArray<unknown> }> => {
  const cases: unknown[] = []
  for (const file of files) {
    const text = readText(file)
    if (E.isLeft(text)) return text
    const doc = parseDocument(text.right, file)
    if (E.isLeft(doc)) return E.left(doc.left.message)
    const checked = predictCases(defaultCostModels)({ ...(doc.right as object), cases: [] })
    if (E.isLeft(checked)) return E.left(issuesMessage(file)(checked.left))
    const list = (doc.right as { readonly cases?: unknown }).cases
    if (!Array.isArray(list)) return E.left(`${file}: expected a case file { format: "meshplan-cases/1", cases: [...] }`)
    cases.push(...list)
  }
  return E.right({ format: 'meshplan-cases/1', cases })
}

const calibrateSpec: CommandSpec = {
  name: 'calibrate',
  summary: "fit the models' free parameters to your measured cases; write a calibration the other commands take",
  arguments: [{ name: 'CASES...', help: 'case files (meshplan-cases/1): your measurements', required: true }],
  flags: ['out', 'json'],
  description: `Fits the cost models' free parameters (the GEMM share of its ceiling per hardware
generation, the HBM share and the kernels' fixed cost, the fused-attention ceiling, the
NVLink and network shares of a collective) to the measured cases of the files: each
parameter within its physical bounds and pulled towards its default, so that a few
cases cannot carry it far. Prints each parameter's default and fitted value, then per
kind and metric the median absolute error of the defaults and of the calibration, in-sample
and cross-validated (each source's cases predicted by a fit without them; the defaults
are judged on the cases they were themselves fitted on by their leave-one-source-out
error). With --out FILE it writes the calibration (meshplan-calibration/1) only when it
misses less than the defaults cross-validated; estimate, plan, check and validate take
it with --calibration FILE. The fit predicts the cases a few thousand times: about a
minute for a hundred cases.`,
  examples: ['meshplan calibrate validation/calibration.json --out cal.json', 'meshplan calibrate my-h100-runs.json my-a100-runs.json --out cal.json --json', 'meshplan validate my-h100-runs.json --calibration cal.json'],
  exitCodes: '0 calibrated (and written with --out), 1 the calibration does not beat the defaults cross-validated (nothing written), 2 invalid input',
  run: (positionals, parsed) => {
    if (positionals.length === 0) return fail('calibrate', 'expected one or more case files (meshplan calibrate CASES... --out FILE)')
    const file = casesOfFiles(positionals)
    if (E.isLeft(file)) return fail('calibrate', file.left)
    const run = calibrate(defaultCostModels)(file.right)
    if (E.isLeft(run)) return fail('calibrate', issuesMessage(positionals.join(', '))(run.left))
    const r = run.right
    const out = parsed.flags.out
    const written = out !== undefined && r.accepted ? writeText(out, `${JSON.stringify(calibrationFileJson(r), null, 2)}\n`) : E.right(undefined)
    if (E.isLeft(written)) return fail('calibrate', written.left)
    const verdict = !r.accepted ? `not written: ${r.reason}` : out === undefined ? `${r.reason}; give --out FILE to write it` : `wrote ${out}: ${r.reason}`
    return parsed.flags.json === true ? ok(jsonText('calibrate', { ...calibrateJson(r), written: out !== undefined && r.accepted ? out : null }), r.accepted ? 0 : 1) : ok(`${renderCalibration(r)}\n\n${verdict}`, r.accepted ? 0 : 1)
  },
}

// -------------------------------------------------------------------------------------
// export
// -------------------------------------------------------------------------------------

const engineWords = `${engineNames.join(', ')}`

/** The engine `--engine` and `--engine-version` name, or why there is none. */
const engineNamed = (parsed: ParsedFlags): E.Either<Output, Engine> => {
  const { flags } = parsed
  if (flags.engine === undefined) return E.left(fail('export', `--engine: required, one of ${engineWords} (serving: vllm, sglang, trtllm; training: megatron, torchtitan)`))
  const found = findEngine(flags.engine, flags.engineVersion)
  return E.isLeft(found) ? E.left(fail('export', `--engine-version: ${found.left}`)) : E.right(found.right)
}

/** The serving engine the flags name; a training engine is refused with what to give it. */
const servingEngineOf = (parsed: ParsedFlags): E.Either<Output, ServingEngine> =>
  E.chain((e: Engine) => (isServingEngine(e) ? E.right(e) : E.left(fail('export', `--engine ${e.name}: a training engine; give a training plan, or --train with the step's flags (--global-batch, ...)`))))(engineNamed(parsed))

/** The training engine the flags name; a serving engine is refused with what to give it. */
const trainingEngineOf = (parsed: ParsedFlags): E.Either<Output, TrainingEngine> =>
  E.chain((e: Engine) => (isTrainingEngine(e) ? E.right(e) : E.left(fail('export', `--engine ${e.name}: a serving engine; a training plan (or --train) exports to megatron or torchtitan`))))(engineNamed(parsed))

const exportRun = (positionals: ReadonlyArray<string>, parsed: ParsedFlags): Output => {
  const { flags, given } = parsed
  const json = flags.json === true
  const [file, ...extra] = positionals
  if (extra.length > 0) return fail('export', `unexpected argument "${extra[0]}"`)
  const doc = file === undefined ? undefined : readPlanDocument(file)
  if (doc !== undefined && E.isLeft(doc)) return fail('export', doc.left)
  // a training plan file gives the whole step
  if (file !== undefined && doc !== undefined && E.isRight(doc) && isTrainingPlanDocument(doc.right)) {
    const others = notApplicable(given, [...deploymentFlags, ...inferenceFlags, 'train', ...trainingFlags], 'does not apply to a training plan (its file gives the whole step)')
    if (others.length > 0) return fail('export', others)
    const engine = trainingEngineOf(parsed)
    if (E.isLeft(engine)) return engine.left
    const plan = decodeTrainingPlan(doc.right)
    if (E.isLeft(plan)) return fail('export', issuesMessage(file)(plan.left))
    const { model, cluster, strategy, precision, workload } = plan.right
    return exportOutput(exportTraining(defaultCostModels)(engine.right)({ model, cluster, strategy, precision, workload }), json)
  }
  if (flags.train === true) {
    const errors = notApplicable(given, inferenceFlags, 'applies to serving; a training step is given by --global-batch, --micro-batch, --seq-len, --recompute and --zero')
    if (errors.length > 0) return fail('export', errors)
    if (file !== undefined) return fail('export', `--train: ${file} is a serving plan (its workload has no kind: training)`)
    const engine = trainingEngineOf(parsed)
    if (E.isLeft(engine)) return engine.left
    const d0 = deploymentOf(parsed)
    if (E.isLeft(d0)) return fail('export', d0.left)
    const deployment = withDefaultSplit(d0.right, given)
    const input = trainingInputOf(deployment, flags)
    if (E.isLeft(input)) return fail('export', input.left)
    const { model, cluster, strategy, precision, workload } = input.right
    return withNotes(exportOutput(exportTraining(defaultCostModels)(engine.right)({ model, cluster, strategy, precision, workload }), json), json ? [] : deployment.notes)
  }
  const training = notApplicable(given, trainingFlags, 'applies to training; add --train')
  if (training.length > 0) return fail('export', training)
  const engine = servingEngineOf(parsed)
  if (E.isLeft(engine)) return engine.left
  const plan = file === undefined || doc === undefined || E.isLeft(doc) ? E.right(undefined) : planOfDocument(file, doc.right)
  if (E.isLeft(plan)) return fail('export', plan.left)
  if (plan.right?.redundantExperts !== undefined) return fail('export', `${plan.right.name}: parallelism.redundant_experts: the engines' expert load balancer options (EPLB) are not exported yet; give the plan without them to export the rest`)
  const d0 = deploymentOf(parsed, plan.right)
  if (E.isLeft(d0)) return fail('export', d0.left)
  const deployment = withDefaultSplit(d0.right, given)
  const { model, cluster, strategy, precision, workload } = deployment
  return withNotes(exportOutput(exportServing(defaultCostModels)(engine.right)({ model, cluster, strategy, precision, workload }), json), json ? [] : deployment.notes)
}

const exportSpec: CommandSpec = {
  name: 'export',
  summary: 'the launch commands of a plan on vLLM, SGLang, TensorRT-LLM, Megatron-LM or torchtitan',
  arguments: [{ name: 'PLAN', help: 'a plan file (meshplan-plan/1): a serving plan, or a training plan (workload kind: training)', required: false }],
  flags: ['engine', 'engineVersion', ...deploymentFlags, ...inferenceFlags, 'train', ...trainingFlags, 'json'],
  description: `The commands each node runs to launch the plan on an engine, and the configuration
files they read (TensorRT-LLM's extra LLM API options, torchtitan's job TOML): the plan's
parallelism, formats, batch limits and memory fraction, every flag from the table of
the engine's release with its source (meshplan export --json lists them). Serving:
vllm, sglang, trtllm; training (a training plan, or --train): megatron, torchtitan.
Where the release cannot run the plan as written (an expert layout it has no flag for,
a ZeRO stage, a schedule), it says why, and exports the nearest plan it can run, with
both estimates side by side. Several nodes: one command per node (or per range of nodes,
$NODE_RANK standing for each one's rank), node 0 at $MASTER_ADDR.
Flags override a serving plan's fields; a training plan's file gives the whole step.`,
  examples: [
    'meshplan export --model llama-3.1-70b --cluster dgx-h100 --tp 8 --engine vllm',
    'meshplan export examples/reference-plan.yaml --engine sglang',
    'meshplan export examples/reference-plan.yaml --engine trtllm --json',
    'meshplan export examples/llama-3.1-405b-training.yaml --engine megatron',
    'meshplan export --train --model llama-3.1-8b --cluster dgx-h100 --tp 2 --dp 4 --sp --global-batch 256 --seq-len 8192 --zero 3 --engine torchtitan',
  ],
  exitCodes: '0 the plan as written, 1 the engine cannot run it (the nearest plan it runs is exported when there is one), 2 invalid input',
  run: exportRun,
}

// -------------------------------------------------------------------------------------
// presets
// -------------------------------------------------------------------------------------

const presetKinds = ['models', 'devices', 'systems'] as const

const presetsSpec: CommandSpec = {
  name: 'presets',
  summary: 'the built-in models, devices and systems, with their sources',
  arguments: [{ name: 'KIND', help: presetKinds.join(', '), required: false }],
  flags: ['json'],
  description: 'The built-in presets and their sources: models (meshplan ... --model NAME), devices, and systems (--cluster NAME --nodes N). One kind (presets devices) lists each preset\'s source under its table; --json always has them.',
  examples: ['meshplan presets', 'meshplan presets models --json'],
  exitCodes: '0 printed, 2 invalid input',
  run: (positionals, parsed) => {
    const [which, ...extra] = positionals
    if (extra.length > 0) return fail('presets', `unexpected argument "${extra[0]}"`)
    if (which !== undefined && !(presetKinds as ReadonlyArray<string>).includes(which)) return fail('presets', `expected one of ${presetKinds.join(', ')}, got "${which}"`)
    const show = (k: (typeof presetKinds)[number]) => which === undefined || which === k
    const modelRows = modelNames.map((name) => {
      const m = models[name]
      const counts = parameterCounts(m)
      return { name, layers: m.layers, hidden: m.hidden, attention: m.attention.kind, experts: m.moe?.experts ?? 0, parameters: counts.total, active: counts.activePerToken, source: m.source ?? '' }
    })
    const deviceRows = deviceNames.map((name) => {
      const d = devices[name]
      return { name, device: d.name, memoryBytes: d.memory, memoryBandwidth: d.memoryBandwidth, bf16: d.peak.bf16 ?? null, fp8: d.peak.fp8 ?? null, source: d.source }
    })
    const systemRows = systemNames.map((name) => {
      const s = systems[name]
      return { name, system: s.name, device: s.device.name, devicesPerNode: s.devicesPerNode, scaleUpBandwidth: s.scaleUp.bandwidth, scaleOutBandwidth: s.scaleOut.bandwidth, source: s.source }
    })
    if (parsed.flags.json === true) {
      return ok(jsonText('presets', { ...(show('models') ? { models: modelRows } : {}), ...(show('devices') ? { devices: deviceRows } : {}), ...(show('systems') ? { systems: systemRows } : {}) }))
    }
    const b = formatBytes()
    const g = (n: number) => `${(n / 1e9).toFixed(2)}B`
    const out: string[] = []
    if (show('models')) out.push('models:', table(['  name', 'layers', 'hidden', 'attention', 'experts', 'parameters', 'active'], modelRows.map((m) => [`  ${m.name}`, String(m.layers), String(m.hidden), m.attention, String(m.experts), g(m.parameters), g(m.active)])), '')
    if (show('devices'))
      out.push(
        'devices:',
        table(
          ['  name', 'device', 'memory', 'HBM', 'bf16 dense', 'fp8 dense'],
          deviceRows.map((d) => [`  ${d.name}`, d.device, b(d.memoryBytes), `${(d.memoryBandwidth / 1e12).toFixed(2)} TB/s`, d.bf16 === null ? '-' : `${(d.bf16 / 1e12).toFixed(0)} TFLOP/s`, d.fp8 === null ? '-' : `${(d.fp8 / 1e12).toFixed(0)} TFLOP/s`]),
        ),
        ...(which === 'devices' ? ['', 'sources:', ...deviceRows.map((d) => `  ${d.name}: ${d.source}`)] : []),
        '',
      )
    if (show('systems'))
      out.push(
        'systems (use with --cluster NAME --nodes N):',
        table(
          ['  name', 'system', 'device', 'per node', 'scale-up / GPU', 'scale-out / GPU'],
          systemRows.map((s) => [`  ${s.name}`, s.system, s.device, String(s.devicesPerNode), `${(s.scaleUpBandwidth / 1e9).toFixed(0)} GB/s`, `${(s.scaleOutBandwidth / 1e9).toFixed(1)} GB/s`]),
        ),
        ...(which === 'systems' ? ['', 'sources:', ...systemRows.map((s) => `  ${s.name}: ${s.source}`)] : []),
        '',
      )
    return ok(out.join('\n').trimEnd())
  },
}

// -------------------------------------------------------------------------------------
// layout
// -------------------------------------------------------------------------------------

const layoutSpec: CommandSpec = {
  name: 'layout',
  summary: 'validate a strategy and show its process groups and what each GPU holds',
  arguments: [],
  flags: [...strategyFlags, 'redundantExperts', 'gpus', 'order', 'json'],
  description: `Checks a strategy against the laws of the algebra for a model on a cluster and, when it
holds, shows its process groups (how each spans the cluster: which links it crosses)
and what each GPU holds (layers, heads, experts, embedding and LM head). With
--redundant-experts N each MoE layer has its routed experts + N slots, ep divides the
slots, and the GPUs of the last slots hold replicas (which of them, by expert id).`,
  examples: [
    'meshplan layout --model llama-2-70b --cluster dgx-h100 --nodes 2 --tp 8 --pp 2',
    'meshplan layout --model deepseek-v3 --cluster hgx-h800 --nodes 4 --dp 32 --ep 32',
    'meshplan layout --model deepseek-v3 --cluster dgx-h100 --nodes 9 --dp 72 --ep 72 --redundant-experts 32',
    'meshplan layout --model ./config.json --cluster ./cluster.yaml --tp 4 --dp 2',
  ],
  exitCodes: '0 valid, 1 a law fails, 2 invalid input',
  run: (positionals, parsed) => {
    const { flags, given } = parsed
    if (positionals.length > 0) return fail('layout', `unexpected argument "${positionals[0]}"`)
    const order = flags.order === undefined ? E.right(defaultOrder) : E.mapLeft((e: { readonly message: string }) => `--order: ${e.message}`)(parseOrder(flags.order))
    const model = resolveModel(flags.model ?? 'reference-moe')
    const cluster = flags.cluster === undefined ? resolveCluster('reference', flags.nodes ?? 16) : resolveCluster(flags.cluster, flags.nodes)
    const errors = [order, model, cluster].flatMap((r) => (E.isLeft(r) ? [r.left] : []))
    if (errors.length > 0 || E.isLeft(order) || E.isLeft(model) || E.isLeft(cluster)) return fail('layout', [...new Set(errors)])
    const s = strategyOf(flags, given, model.right)
    const report = layoutReport(model.right, cluster.right, s, order.right, flags.gpus, flags.redundantExperts ?? 0)
    const code = report.valid ? 0 : 1
    return ok(flags.json === true ? jsonText('layout', report) : renderLayout(report, model.right), code)
  },
}

/** Every command, in the order `meshplan --help` lists them. */
export const commandSpecs: ReadonlyArray<CommandSpec> = [planSpec, estimateSpec, checkSpec, exportSpec, dagSpec, validateSpec, calibrateSpec, presetsSpec, layoutSpec, exampleSpec]
