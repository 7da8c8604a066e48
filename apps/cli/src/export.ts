/**
 * `meshplan export`: a plan's launch on one engine release (@meshplan/export), as text or
 * as JSON (`meshplan/export/1`). The text says whether the engine runs the plan as
 * written; when it does not, why, the nearest plan it runs and both estimates side by
 * side; then the commands per node, the files, the placeholders, the notes and every
 * setting with its source.
 */
import type { InferenceEstimate } from '@meshplan/inference'
import { describe, encodeStrategy, worldOf } from '@meshplan/parallelism'
import { commandLine, estimateComparison, nodesText, type Change, type EstimateOrProblem, type Launch, type Problem, type ServingExport, type TrainingExport } from '@meshplan/export'
import type { TrainingEstimate } from '@meshplan/training'
import { jsonText } from './json'
import { table } from './table'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export type AnyExport = ServingExport | TrainingExport

// -------------------------------------------------------------------------------------
// JSON
// -------------------------------------------------------------------------------------

const servingSummary = (e: InferenceEstimate) => ({
  kind: 'serving' as const,
  gpus: e.gpus,
  batch: e.batch,
  ttftSeconds: e.ttft,
  tpotSeconds: e.tpot,
  outputTokensPerSecond: e.tokensPerSecond.total,
  outputTokensPerSecondPerGpu: e.tokensPerSecond.perGpu,
  memoryPerGpuBytes: e.memory.perGpu,
  memoryCapacityBytes: e.memory.capacity,
  fits: e.memory.fits,
})

const trainingSummary = (e: TrainingEstimate) => ({
  kind: 'training' as const,
  gpus: e.gpus,
  iterationSeconds: e.iterationSeconds,
  tokensPerSecond: e.tokensPerSecond,
  tokensPerSecondPerGpu: e.tokensPerSecondPerGpu,
  mfu: e.mfu,
  memoryPeakBytes: e.memory.peak,
  memoryCapacityBytes: e.memory.capacity,
  fits: e.memory.fits,
})

const summaryOf = (x: EstimateOrProblem<InferenceEstimate | TrainingEstimate> | undefined) => {
  if (x === undefined || !('estimate' in x)) return null
  const e = x.estimate
  return 'iterationSeconds' in e ? trainingSummary(e) : servingSummary(e)
}

const problemOf = (x: EstimateOrProblem<unknown> | undefined): string | null => (x !== undefined && 'problem' in x ? x.problem : null)

const launchJson = (l: Launch) => ({
  nodes: l.nodes,
  commands: l.commands.map((c) => ({
    firstNode: c.firstNode,
    lastNode: c.lastNode,
    nodeStride: c.stride,
    role: c.role,
    env: c.env.map(([name, value]) => ({ name, value })),
    argv: c.argv,
    line: commandLine(c),
  })),
  files: l.files,
  settings: l.settings,
  notes: l.notes,
  placeholders: l.placeholders,
})

/** The JSON of an export (`meshplan/export/1`). */
export const exportJson = (x: AnyExport) => ({
  engine: { name: x.engine.name, version: x.engine.version, kind: x.engine.kind, command: x.engine.command, source: x.engine.source },
  model: x.plan.model.name,
  cluster: x.plan.cluster.name,
  plan: { strategy: encodeStrategy(x.plan.strategy), description: describe(x.plan.strategy), gpus: worldOf(x.plan.strategy) },
  runsAsWritten: x.problems.length === 0,
  problems: x.problems,
  exported: x.exported === undefined ? null : { strategy: encodeStrategy(x.exported.strategy), description: describe(x.exported.strategy), gpus: worldOf(x.exported.strategy), changes: x.changes },
  estimates: { plan: summaryOf(x.planEstimate), planProblem: problemOf(x.planEstimate), exported: summaryOf(x.exportedEstimate), exportedProblem: problemOf(x.exportedEstimate) },
  launch: x.launch === undefined ? null : launchJson(x.launch),
  unexported: x.unexported ?? null,
})

// -------------------------------------------------------------------------------------
// text
// -------------------------------------------------------------------------------------

const changesText = (changes: ReadonlyArray<Change>): string => changes.map((c) => `${c.what} ${c.from} -> ${c.to}`).join(', ')

const estimatesText = (x: AnyExport): string => {
  const { header, rows } = estimateComparison(x)
  const planProblem = problemOf(x.planEstimate)
  return [table(header, rows), ...(planProblem === null ? [] : [`(no estimate of the plan: ${planProblem})`])].join('\n')
}

const problemsText = (problems: ReadonlyArray<Problem>): ReadonlyArray<string> => problems.map((p) => `  - ${p.code}: ${p.message}`)

const launchText = (l: Launch): ReadonlyArray<string> => [
  `launch (${l.nodes} node${l.nodes === 1 ? '' : 's'}):`,
  ...l.commands.flatMap((c) => [
    `  ${nodesText(c)}${c.firstNode === c.lastNode ? '' : c.stride === 1 ? ` ($NODE_RANK = ${c.firstNode} ... ${c.lastNode})` : ` ($NODE_RANK = each of them)`}: ${c.role}`,
    `    ${commandLine(c)}`,
  ]),
  ...(l.files.length === 0 ? [] : ['', 'files:', ...l.files.flatMap((f) => [`  ${f.path}:`, ...f.text.trimEnd().split('\n').map((line) => `    ${line}`)])]),
  ...(l.placeholders.length === 0 ? [] : ['', 'placeholders:', ...l.placeholders.map((p) => `  ${p.name}: ${p.meaning}`)]),
  ...(l.notes.length === 0 ? [] : ['', 'notes:', ...l.notes.map((n) => `  - ${n}`)]),
  '',
  'settings (key value: what; source):',
  ...l.settings.map((s) => `  ${s.key}${s.value === true && s.place === 'flag' ? '' : ` ${Array.isArray(s.value) ? JSON.stringify(s.value) : String(s.value)}`}: ${s.name}; ${s.source}`),
]

/** An export as text. */
export const renderExport = (x: AnyExport): string => {
  const e = x.engine
  const name = `${e.name} ${e.version}`
  const lines = [`export of ${x.plan.model.name} on ${x.plan.cluster.name} to ${name} (${e.command})`, `plan: ${describe(x.plan.strategy)} on ${worldOf(x.plan.strategy)} GPUs`, '']
  if (x.problems.length === 0) lines.push(`${name} runs the plan as written.`)
  else {
    lines.push(`${name} cannot run the plan as written:`, ...problemsText(x.problems))
    if (x.exported !== undefined) lines.push(`nearest plan it runs: ${describe(x.exported.strategy)} on ${worldOf(x.exported.strategy)} GPUs${x.changes.length === 0 ? '' : ` (${changesText(x.changes)})`}`)
    else lines.push(`nothing exported: ${x.unexported ?? 'no plan it can run'}`)
  }
  lines.push('', estimatesText(x))
  const exportedProblem = problemOf(x.exportedEstimate)
  if (x.launch === undefined && x.exported !== undefined) lines.push('', `no launch: ${x.unexported ?? exportedProblem ?? 'the estimate failed'}`)
  if (x.launch !== undefined) lines.push('', ...launchText(x.launch))
  return lines.join('\n')
}

/** What `meshplan export` prints and its exit code: 0 the plan as written, 1 refused (the nearest plan when there is one). */
export const exportOutput = (x: AnyExport, asJson: boolean): { readonly code: number; readonly stdout: string; readonly stderr: string } => ({
  code: x.problems.length === 0 && x.launch !== undefined ? 0 : 1,
  stdout: asJson ? jsonText('export', exportJson(x)) : renderExport(x),
  stderr: '',
})
