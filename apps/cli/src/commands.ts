/**
 * The commands over the planner: `estimate`, `plan`, `check`, `dag`, `validate`,
 * `presets` and `example`. Each takes its arguments and returns what to print and the
 * exit code: 0 success (check: every claim holds), 1 a law or a claim fails, 2 invalid
 * input (the message on stderr, never a stack trace).
 */
import * as path from 'node:path'
import { parseArgs } from 'node:util'
import * as E from 'fp-ts/Either'
import { modelNames, models, parameterCounts } from '@meshplan/model'
import { layout, type Constraints } from '@meshplan/parallelism'
import { defaultCostModels } from '@meshplan/cost-models'
import { estimateInference, planInference } from '@meshplan/inference'
import { checkPlan, deploymentGraph, predictCases, toDot, toJson, toMermaid, type Audit, type Plan } from '@meshplan/planner'
import { deviceNames, devices, systemNames, systems } from '@meshplan/topology'
import { formatBytes, parseDocument } from '@meshplan/units'
import { deploymentHelp, deploymentOf, deploymentOptions, readPlan, type Deployment, type Flags } from './deployment'
import { issuesMessage, positiveFlag, readText } from './inputs'
import { auditJson, estimateJson, planJson, renderAudit, renderCases, renderEstimate, renderPlan, validateJson } from './reports'
import { table } from './table'
import { caseInput, estimateTrainingOutput, planTrainingOutput, trainingFlags, trainingHelp, trainingInputOf, trainingOptions, wantsTraining } from './training'

export type Output = { readonly code: number; readonly stdout: string; readonly stderr: string }

const ok = (stdout: string, code = 0): Output => ({ code, stdout, stderr: '' })
const fail = (command: string, messages: ReadonlyArray<string> | string): Output => ({
  code: 2,
  stdout: '',
  stderr: (typeof messages === 'string' ? [messages] : messages).map((m) => `meshplan ${command}: ${m}`).join('\n'),
})
const json = (value: unknown): string => JSON.stringify(value, null, 2)

/** The example plan shipped with the command (examples/ of this package): the reference EP64 x TP2 plan. */
export const examplePlanFile = path.resolve(__dirname, '..', 'examples', 'reference-plan.yaml')

type Parsed = { readonly values: Flags; readonly positionals: ReadonlyArray<string> }

const parse = (command: string, args: ReadonlyArray<string>, extra: Record<string, { type: 'string' | 'boolean' }>): E.Either<Output, Parsed> => {
  try {
    const r = parseArgs({ args: [...args], allowPositionals: true, strict: true, options: { ...deploymentOptions, ...extra } })
    return E.right({ values: r.values as Flags, positionals: r.positionals })
  } catch (error) {
    return E.left(fail(command, `${(error as Error).message} (meshplan ${command} --help)`))
  }
}

/** The deployment of a command: a plan file (first positional, optional unless `needPlan`) and the flags. */
const deploymentFrom = (command: string, parsed: Parsed, needPlan: boolean): E.Either<Output, Deployment> => {
  const [file, ...extra] = parsed.positionals
  if (extra.length > 0) return E.left(fail(command, `unexpected argument "${extra[0]}"`))
  if (file === undefined && needPlan) return E.left(fail(command, `expected a plan file (meshplan ${command} PLAN; see ${path.relative(process.cwd(), examplePlanFile)})`))
  let plan: Plan | undefined
  if (file !== undefined) {
    const read = readPlan(file)
    if (E.isLeft(read)) return E.left(fail(command, read.left))
    plan = read.right
  }
  const d = deploymentOf(parsed.values, plan)
  return E.isLeft(d) ? E.left(fail(command, d.left)) : E.right(d.right)
}

// -------------------------------------------------------------------------------------
// estimate
// -------------------------------------------------------------------------------------

export const estimateHelp = `meshplan estimate [PLAN] [options]: the figures of one deployment

Inference: TTFT, TPOT, request latency, output tokens/s (total, per GPU, per user),
memory per GPU with the largest batch that fits, and where a step's time goes (per
operator group, compute- or memory-bound, and exposed communication per kind).
Training (--train, or a training case with --case): iteration time, tokens/s and model
FLOP/s per GPU, MFU, the step's breakdown (compute, bubble, exposed communication per
kind, optimizer), and per pipeline stage one micro-batch's times and a GPU's memory.

${deploymentHelp}
${trainingHelp}
  --case ID               with a case file (meshplan-cases/1) as PLAN: estimate that training case
  --json                  print meshplan/estimate/1 JSON (training: meshplan/estimate-training/1)

examples:
  meshplan estimate --model llama-2-70b --cluster dgx-h100 --tp 8 --batch 32
  meshplan estimate --model mixtral-8x7b --cluster dgx-a100-80gb --tp 2 --etp 2 --mode max_throughput
  meshplan estimate examples/reference-plan.yaml --batch 8
  meshplan estimate --train --model gpt3-175b --cluster dgx-a100-80gb --nodes 8 --tp 8 --pp 8 --vp 3 --sp \
      --global-batch 64 --seq-len 2048 --recompute selective
  meshplan estimate validation/calibration.json --case torchtitan-gt-h100-llama3.1-8b-fsdp8-bs2-seq8192-selac-bf16

exit codes: 0 estimated, 1 the strategy breaks a law, 2 invalid input or it does not fit in memory`

export const estimateCommand = (args: ReadonlyArray<string>): Output => {
  const parsed = parse('estimate', args, trainingOptions)
  if (E.isLeft(parsed)) return parsed.left
  const flags = parsed.right.values
  if (flags['help'] === true) return ok(estimateHelp)
  const caseId = flags['case']
  if (typeof caseId === 'string') {
    const [file, ...extra] = parsed.right.positionals
    if (file === undefined) return fail('estimate', '--case: expected a case file (meshplan estimate FILE --case ID)')
    if (extra.length > 0) return fail('estimate', `unexpected argument "${extra[0]}"`)
    const input = caseInput(file, caseId)
    if (E.isLeft(input)) return fail('estimate', input.left)
    return estimateTrainingOutput(input.right, input.right.model.name, flags['json'] === true)
  }
  if (wantsTraining(flags)) {
    const t = trainingFlags(flags)
    const d = deploymentFrom('estimate', parsed.right, false)
    if (E.isLeft(t)) return fail('estimate', t.left)
    if (E.isLeft(d)) return d.left
    const input = trainingInputOf(d.right, t.right)
    if (E.isLeft(input)) return fail('estimate', input.left)
    return estimateTrainingOutput(input.right, d.right.model.name, flags['json'] === true)
  }
  const d = deploymentFrom('estimate', parsed.right, false)
  if (E.isLeft(d)) return d.left
  const { model, cluster, strategy, precision, workload } = d.right
  const e = estimateInference(defaultCostModels)({ model, cluster, strategy, precision, workload })
  if (E.isLeft(e)) {
    const lines = e.left.violations?.map((v) => `${v.message} (${v.suggestion})`) ?? [e.left.message]
    return { ...fail('estimate', lines), code: e.left.code === 'invalid-strategy' ? 1 : 2 }
  }
  if (!e.right.memory.fits) {
    return fail(
      'estimate',
      `batch ${e.right.batch} does not fit: ${formatBytes()(e.right.memory.perGpu)} per GPU of ${formatBytes()(e.right.memory.capacity)}; at most ${e.right.memory.maxBatch} sequences of ${workload.inputTokens + workload.outputTokens} tokens fit per data-parallel rank`,
    )
  }
  return ok(parsed.right.values['json'] === true ? json({ schema: 'meshplan/estimate/1', ...estimateJson(e.right) }) : renderEstimate(e.right, workload))
}

// -------------------------------------------------------------------------------------
// plan
// -------------------------------------------------------------------------------------

const planOptions = {
  ...trainingOptions,
  'max-gpus': { type: 'string' },
  'max-ttft': { type: 'string' },
  'max-tpot': { type: 'string' },
  'min-tokens-per-user': { type: 'string' },
  'memory-headroom': { type: 'string' },
  top: { type: 'string' },
} as const

export const planHelp = `meshplan plan [PLAN] [options]: search strategies and batches for a model on a cluster

Enumerates every valid strategy (tp, pp, dp, cp, ep, etp; dp replicas included) on all
GPUs of the cluster, or on every divisor of --max-gpus, and batches 1, 2, 4, ... up to
the most that fit; keeps those that meet the objectives; ranks by output tokens/s per
GPU; prints the best and the Pareto front of tokens/s per GPU against tokens/s per user.

${deploymentHelp}
objectives:
  --max-ttft MS --max-tpot MS           milliseconds
  --min-tokens-per-user N               tokens/s one request sees (1/TPOT)
  --memory-headroom F                   fraction of GPU memory to leave free (e.g. 0.1)
  --max-gpus N                          use at most N GPUs
  --top N                               strategies to list (default 5)
  --json                                print meshplan/plan/1 JSON (training: meshplan/plan-training/1)
${trainingHelp}
  --workers N                           search threads (default: the cores, when the space is large)
  With --train, every valid (tp, pp, dp, cp, ep, etp, vp, sp), micro-batch, recomputation and
  ZeRO stage on all GPUs of the cluster is evaluated (degrees, --micro-batch, --recompute and
  --zero given as flags narrow it) and ranked by iteration time; a progress bar goes to stderr
  when it is a terminal.

examples:
  meshplan plan --model llama-3.1-8b --cluster dgx-h100 --nodes 4
  meshplan plan --model llama-2-70b --cluster dgx-h100 --nodes 2 --max-tpot 50 --mode max_throughput
  meshplan plan examples/reference-plan.yaml --max-tpot 20
  meshplan plan --train --model gpt3-175b --cluster dgx-h100 --nodes 128 --global-batch 1536 --seq-len 2048

exit codes: 0 a strategy meets the objectives, 1 none does, 2 invalid input`

const numberFlag = (flag: string, value: string | boolean | undefined, test: (n: number) => boolean, expected: string): E.Either<string, number | undefined> => {
  if (typeof value !== 'string') return E.right(undefined)
  const n = Number(value)
  return value.trim() !== '' && Number.isFinite(n) && test(n) ? E.right(n) : E.left(`--${flag}: expected ${expected}, got "${value}"`)
}

export const planCommand = (args: ReadonlyArray<string>): Output | Promise<Output> => {
  const parsed = parse('plan', args, planOptions)
  if (E.isLeft(parsed)) return parsed.left
  const f = parsed.right.values
  if (f['help'] === true) return ok(planHelp)
  const d = deploymentFrom('plan', parsed.right, false)
  if (wantsTraining(f)) {
    const t = trainingFlags(f)
    const top = positiveFlag('top', typeof f['top'] === 'string' ? f['top'] : undefined)
    const errors = [...(E.isLeft(t) ? t.left : []), ...(E.isLeft(top) ? [top.left] : [])]
    if (errors.length > 0 || E.isLeft(t) || E.isLeft(top)) return fail('plan', errors)
    if (E.isLeft(d)) return d.left
    const only: Record<string, ReadonlyArray<number>> = {}
    for (const name of ['tp', 'pp', 'dp', 'cp', 'ep', 'etp', 'vp'] as const) {
      const given = positiveFlag(name, typeof f[name] === 'string' ? f[name] : undefined)
      if (E.isRight(given) && given.right !== undefined) only[name === 'vp' ? 'virtualStages' : name] = [given.right]
    }
    return planTrainingOutput(d.right, t.right, { only, ...(f['sp'] === true ? { sequenceParallel: true } : {}) }, top.right ?? 10, f['json'] === true, d.right.model.name)
  }
  if (E.isLeft(d)) return d.left
  const positive = (n: number) => n > 0
  const flags = {
    maxTtft: numberFlag('max-ttft', f['max-ttft'], positive, 'milliseconds above 0'),
    maxTpot: numberFlag('max-tpot', f['max-tpot'], positive, 'milliseconds above 0'),
    minTokensPerUser: numberFlag('min-tokens-per-user', f['min-tokens-per-user'], positive, 'tokens/s above 0'),
    memoryHeadroom: numberFlag('memory-headroom', f['memory-headroom'], (n) => n >= 0 && n < 1, 'a fraction in [0, 1)'),
    maxGpus: positiveFlag('max-gpus', typeof f['max-gpus'] === 'string' ? f['max-gpus'] : undefined),
    top: positiveFlag('top', typeof f['top'] === 'string' ? f['top'] : undefined),
  }
  const errors = Object.values(flags).flatMap((r) => (E.isLeft(r) ? [r.left] : []))
  if (errors.length > 0) return fail('plan', errors)
  const value = <A>(r: E.Either<string, A>): A | undefined => (E.isRight(r) ? r.right : undefined)
  const { model, cluster, precision, workload } = d.right
  // a plan file's strategy is not a constraint of the search; degrees given as flags are
  const only: Record<string, ReadonlyArray<number>> = {}
  for (const name of ['tp', 'pp', 'dp', 'cp', 'ep', 'etp'] as const) {
    const given = value(positiveFlag(name, typeof f[name] === 'string' ? f[name] : undefined))
    if (given !== undefined) only[name] = [given]
  }
  const constraints: Constraints = { only }
  const maxTtft = value(flags.maxTtft)
  const maxTpot = value(flags.maxTpot)
  const minTokensPerUser = value(flags.minTokensPerUser)
  const memoryHeadroom = value(flags.memoryHeadroom)
  const maxGpus = value(flags.maxGpus)
  const top = value(flags.top)
  const started = process.hrtime.bigint()
  const r = planInference(defaultCostModels)({
    model,
    cluster,
    precision,
    workload,
    constraints,
    slo: {
      ...(maxTtft === undefined ? {} : { maxTtft: maxTtft / 1e3 }),
      ...(maxTpot === undefined ? {} : { maxTpot: maxTpot / 1e3 }),
      ...(minTokensPerUser === undefined ? {} : { minTokensPerUser }),
      ...(memoryHeadroom === undefined ? {} : { memoryHeadroom }),
    },
    ...(maxGpus === undefined ? {} : { maxGpus }),
    ...(top === undefined ? {} : { top }),
  })
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const code = r.top.length > 0 ? 0 : 1
  if (f['json'] === true) return ok(json(planJson(r)), code)
  const header = `plan for ${model.name} on ${cluster.name}: ${workload.mode}, ${workload.inputTokens} prompt + ${workload.outputTokens} output tokens`
  return ok([header, renderPlan(r, seconds)].join('\n'), code)
}

// -------------------------------------------------------------------------------------
// check
// -------------------------------------------------------------------------------------

export const checkHelp = `meshplan check PLAN [options]: audit a plan someone wrote

Reads a plan file (meshplan-plan/1, JSON or YAML: model, cluster, parallelism,
workload, claims) and reports every law of the algebra it breaks, each claim as holds
or does not hold with the computed value and how far off it is, and the best strategy
the planner finds for the same model, cluster and workload.

${deploymentHelp}
  --json                  print meshplan/check/1 JSON

examples:
  meshplan check examples/reference-plan.yaml
  meshplan check examples/reference-plan.yaml --mode static --batch 32 --output-tokens 512

exit codes: 0 every claim holds and no law is broken, 1 something fails, 2 invalid input`

/** The audit the arguments ask for, or the output that says why there is none. */
const auditOf = (command: string, args: ReadonlyArray<string>): E.Either<Output, { readonly audit: Audit; readonly json: boolean }> => {
  const parsed = parse(command, args, {})
  if (E.isLeft(parsed)) return parsed
  if (parsed.right.values['help'] === true) return E.left(ok(command === 'example' ? exampleHelp : checkHelp))
  const d = deploymentFrom(command, parsed.right, true)
  if (E.isLeft(d)) return d
  const base = d.right.plan
  if (base === undefined) return E.left(fail(command, 'expected a plan file'))
  const { model, cluster, strategy, precision, workload } = d.right
  return E.right({ audit: checkPlan(defaultCostModels)({ ...base, model, cluster, strategy, precision, workload }), json: parsed.right.values['json'] === true })
}

export const checkCommand = (args: ReadonlyArray<string>): Output => {
  const r = auditOf('check', args)
  if (E.isLeft(r)) return r.left
  const { audit, json: asJson } = r.right
  return ok(asJson ? json(auditJson(audit)) : renderAudit(audit), audit.passes ? 0 : 1)
}

// -------------------------------------------------------------------------------------
// dag
// -------------------------------------------------------------------------------------

export const dagHelp = `meshplan dag PLAN [--format mermaid|dot|json] [--phase decode|prefill] [options]

The deployment graph of a plan: modules (embedding, attention, router, dispatch,
experts, combine, TP collectives, LM head) as nodes with the GPU groups that run them,
edges with the bytes moved per step; repeated layers and identical pipeline stages are
grouped. The step is one decode step of the workload's batch (default) or its prefill.

${deploymentHelp}
  --format F              mermaid (default), dot or json (meshplan-dag/1)
  --phase P               decode (default) or prefill

examples:
  meshplan dag examples/reference-plan.yaml > plan.mmd
  meshplan dag examples/reference-plan.yaml --format dot | dot -Tsvg > plan.svg

exit codes: 0 written, 1 the strategy breaks a law, 2 invalid input`

export const dagCommand = (args: ReadonlyArray<string>): Output => {
  const parsed = parse('dag', args, { format: { type: 'string' }, phase: { type: 'string' } })
  if (E.isLeft(parsed)) return parsed.left
  const f = parsed.right.values
  if (f['help'] === true) return ok(dagHelp)
  const format = typeof f['format'] === 'string' ? f['format'] : 'mermaid'
  const phase = typeof f['phase'] === 'string' ? f['phase'] : 'decode'
  const errors = [
    ...(['mermaid', 'dot', 'json'].includes(format) ? [] : [`--format: expected mermaid, dot or json, got "${format}"`]),
    ...(['decode', 'prefill'].includes(phase) ? [] : [`--phase: expected decode or prefill, got "${phase}"`]),
  ]
  if (errors.length > 0) return fail('dag', errors)
  const d = deploymentFrom('dag', parsed.right, true)
  if (E.isLeft(d)) return d.left
  const { model, cluster, strategy, precision, workload } = d.right
  const prepared = estimateInference(defaultCostModels)({ model, cluster, strategy, precision, workload })
  if (E.isLeft(prepared) && prepared.left.code === 'invalid-strategy') {
    return { ...fail('dag', prepared.left.violations?.map((v) => `${v.message} (${v.suggestion})`) ?? [prepared.left.message]), code: 1 }
  }
  const laid = layout(cluster)(strategy)
  if (E.isLeft(laid)) return { ...fail('dag', laid.left.message), code: 1 }
  const batch = E.isRight(prepared) ? prepared.right.batch : (workload.batch ?? 1)
  const graph = deploymentGraph({
    model,
    strategy,
    precision,
    layout: laid.right,
    step: { phase: phase as 'decode' | 'prefill', tokensPerReplica: phase === 'decode' ? batch : batch * workload.inputTokens },
  })
  return ok(format === 'json' ? json(toJson(graph)) : format === 'dot' ? toDot(graph) : toMermaid(graph))
}

// -------------------------------------------------------------------------------------
// validate
// -------------------------------------------------------------------------------------

export const validateHelp = `meshplan validate FILE [--json]: predict measured cases and report the errors

Reads a case file (meshplan-cases/1, validation/FORMAT.md) and prints, per case,
the prediction, the measurement and the error, then the median, mean and worst absolute
error per kind and per metric. Inference and collective cases are predicted; training
cases are reported as not supported yet.

examples:
  meshplan validate validation/calibration.json
  meshplan validate cases.json --json

exit codes: 0 the file was read and predicted, 2 invalid input`

export const validateCommand = (args: ReadonlyArray<string>): Output => {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: [...args], allowPositionals: true, strict: true, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } })
  } catch (error) {
    return fail('validate', `${(error as Error).message} (meshplan validate --help)`)
  }
  if (parsed.values['help'] === true) return ok(validateHelp)
  const [file, ...extra] = parsed.positionals
  if (file === undefined) return fail('validate', 'expected a case file (meshplan validate FILE)')
  if (extra.length > 0) return fail('validate', `unexpected argument "${extra[0]}"`)
  const text = readText(file)
  if (E.isLeft(text)) return fail('validate', text.left)
  const doc = parseDocument(text.right, file)
  if (E.isLeft(doc)) return fail('validate', doc.left.message)
  const report = predictCases(defaultCostModels)(doc.right)
  if (E.isLeft(report)) return fail('validate', issuesMessage(file)(report.left))
  return ok(parsed.values['json'] === true ? json(validateJson(report.right)) : renderCases(report.right))
}

// -------------------------------------------------------------------------------------
// presets
// -------------------------------------------------------------------------------------

export const presetsHelp = `meshplan presets [models|devices|systems] [--json]: the built-in presets and their sources

examples:
  meshplan presets
  meshplan presets models --json`

export const presetsCommand = (args: ReadonlyArray<string>): Output => {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: [...args], allowPositionals: true, strict: true, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } })
  } catch (error) {
    return fail('presets', `${(error as Error).message} (meshplan presets --help)`)
  }
  if (parsed.values['help'] === true) return ok(presetsHelp)
  const kinds = ['models', 'devices', 'systems'] as const
  const [which, ...extra] = parsed.positionals
  if (extra.length > 0) return fail('presets', `unexpected argument "${extra[0]}"`)
  if (which !== undefined && !(kinds as ReadonlyArray<string>).includes(which)) return fail('presets', `expected one of ${kinds.join(', ')}, got "${which}"`)
  const show = (k: (typeof kinds)[number]) => which === undefined || which === k
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
    return { name, system: s.name, device: s.device.name, devicesPerNode: s.devicesPerNode, scaleUpBandwidth: s.scaleUp.bandwidth, scaleOutBandwidth: s.scaleOut.bandwidth }
  })
  if (parsed.values['json'] === true) {
    return ok(json({ schema: 'meshplan/presets/1', ...(show('models') ? { models: modelRows } : {}), ...(show('devices') ? { devices: deviceRows } : {}), ...(show('systems') ? { systems: systemRows } : {}) }))
  }
  const b = formatBytes()
  const g = (n: number) => `${(n / 1e9).toFixed(2)}B`
  const out: string[] = []
  if (show('models')) out.push('models:', table(['  name', 'layers', 'hidden', 'attention', 'experts', 'parameters', 'active'], modelRows.map((m) => [`  ${m.name}`, String(m.layers), String(m.hidden), m.attention, String(m.experts), g(m.parameters), g(m.active)])), '')
  if (show('devices')) out.push('devices:', table(['  name', 'device', 'memory', 'HBM', 'bf16 dense', 'fp8 dense'], deviceRows.map((d) => [`  ${d.name}`, d.device, b(d.memoryBytes), `${(d.memoryBandwidth / 1e12).toFixed(2)} TB/s`, d.bf16 === null ? '-' : `${(d.bf16 / 1e12).toFixed(0)} TFLOP/s`, d.fp8 === null ? '-' : `${(d.fp8 / 1e12).toFixed(0)} TFLOP/s`])), '')
  if (show('systems')) out.push('systems (use with --cluster NAME --nodes N):', table(['  name', 'system', 'device', 'per node', 'scale-up / GPU', 'scale-out / GPU'], systemRows.map((s) => [`  ${s.name}`, s.system, s.device, String(s.devicesPerNode), `${(s.scaleUpBandwidth / 1e9).toFixed(0)} GB/s`, `${(s.scaleOutBandwidth / 1e9).toFixed(1)} GB/s`])), '')
  return ok(out.join('\n').trimEnd())
}

// -------------------------------------------------------------------------------------
// example
// -------------------------------------------------------------------------------------

export const exampleHelp = `meshplan example [--json]: the built-in example

Audits the reference EP64 x TP2 plan (${path.relative(process.cwd(), examplePlanFile)}), then searches
strategies for the same model, cluster and workload. Exits 0 whenever it runs: it
demonstrates an audit, whatever the verdicts.`

export const exampleCommand = (args: ReadonlyArray<string>): Output => {
  if (args.includes('--help') || args.includes('-h')) return ok(exampleHelp)
  const r = auditOf('example', [examplePlanFile, ...args])
  if (E.isLeft(r)) return r.left
  // the audit searched the same model, cluster and workload (batch free): that search is the plan
  const { audit, json: asJson } = r.right
  if (asJson) return ok(json({ schema: 'meshplan/example/1', check: auditJson(audit), plan: planJson(audit.best) }))
  const w = audit.plan.workload
  const header = `plan for ${audit.plan.model.name} on ${audit.plan.cluster.name}: ${w.mode}, ${w.inputTokens} prompt + ${w.outputTokens} output tokens`
  return ok([renderAudit(audit), '', '—'.repeat(40), '', header, renderPlan(audit.best)].join('\n'))
}
