/**
 * The Export tab: the launch commands of the deployment on the left, or of the pasted plan
 * file, on one engine (@meshplan/export, what `meshplan export` prints): whether the
 * engine runs the plan as written; when it does not, why, the nearest plan it runs and
 * both estimates; then the commands per node, the files, the placeholders and the notes.
 * Serving engines (vllm, sglang, trtllm) take a serving deployment or plan, training
 * engines (megatron, torchtitan) a training plan file.
 *
 * @example
 * exportOf('sglang', { kind: 'serving', deployment })
 * // right({ engine: SGLang 0.5.3, problems: [], launch: { commands: [...] }, ... })
 */
import * as E from 'fp-ts/Either'
import { defaultCostModels } from '@meshplan/cost-models'
import { describe, worldOf } from '@meshplan/parallelism'
import { commandLine, estimateComparison, exportServing, exportTraining, findEngine, isServingEngine, nodesText, type Launch, type ServingDeployment, type ServingExport, type TrainingDeployment, type TrainingExport } from '@meshplan/export'
import { h, problems, row, table } from '../dom'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What to export: a serving deployment (the form's, or a serving plan file's), or a training plan file's step. */
export type ExportSource = { readonly kind: 'serving'; readonly deployment: ServingDeployment } | { readonly kind: 'training'; readonly deployment: TrainingDeployment }

export type AnyExport = ServingExport | TrainingExport

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The export of `source` on the newest release of engine `name`, or why there is none (the words of `meshplan export`). */
export const exportOf = (name: string, source: ExportSource): E.Either<ReadonlyArray<string>, AnyExport> => {
  const engine = findEngine(name)
  if (E.isLeft(engine)) return E.left([engine.left])
  const e = engine.right
  if (isServingEngine(e)) {
    if (source.kind === 'training') return E.left([`${e.name}: a serving engine; a training plan exports to megatron or torchtitan`])
    return E.right(exportServing(defaultCostModels)(e)(source.deployment))
  }
  if (source.kind === 'serving') return E.left([`${e.name}: a training engine; paste a training plan file (workload kind: training) in the Audit tab and export the plan file`])
  return E.right(exportTraining(defaultCostModels)(e)(source.deployment))
}

const estimatesTable = (x: AnyExport): HTMLElement => {
  const { header, rows } = estimateComparison(x)
  return table('export-estimates', header, rows.map((cells) => row({}, cells)))
}

const launchView = (l: Launch): ReadonlyArray<HTMLElement> => [
  h('h4', {}, `launch (${l.nodes} node${l.nodes === 1 ? '' : 's'})`),
  ...l.commands.map((c) =>
    h(
      'div',
      { class: 'export-command' },
      h('p', { class: 'detail' }, `${nodesText(c)}${c.firstNode === c.lastNode ? '' : c.stride === 1 ? ` ($NODE_RANK = ${c.firstNode} ... ${c.lastNode})` : ' ($NODE_RANK = each of them)'}: ${c.role}`),
      h('pre', { 'data-testid': 'export-command', 'data-first-node': String(c.firstNode), 'data-last-node': String(c.lastNode) }, commandLine(c)),
    ),
  ),
  ...(l.files.length === 0 ? [] : [h('h4', {}, 'files'), ...l.files.flatMap((f) => [h('p', { class: 'detail' }, `${f.path}:`), h('pre', { 'data-testid': 'export-file', 'data-path': f.path }, f.text.trimEnd())])]),
  ...(l.placeholders.length === 0 ? [] : [h('h4', {}, 'placeholders'), h('ul', { 'data-testid': 'export-placeholders' }, l.placeholders.map((p) => h('li', {}, `${p.name}: ${p.meaning}`)))]),
  ...(l.notes.length === 0 ? [] : [h('h4', {}, 'notes'), h('ul', { 'data-testid': 'export-notes' }, l.notes.map((n) => h('li', {}, n)))]),
]

/** An export as the page shows it: the verdict, the problems and the nearest plan, the estimates, the launch. */
export const exportResultView = (x: AnyExport): HTMLElement => {
  const name = `${x.engine.name} ${x.engine.version}`
  const runs = x.problems.length === 0
  const exportedProblem = x.exportedEstimate !== undefined && 'problem' in x.exportedEstimate ? x.exportedEstimate.problem : undefined
  return h(
    'div',
    { class: 'export', 'data-testid': 'export-result', 'data-engine': x.engine.name, 'data-model': x.plan.model.name },
    h('p', { class: 'lead' }, `export of ${x.plan.model.name} on ${x.plan.cluster.name} to ${name} (${x.engine.command})`),
    h('p', {}, `plan: ${describe(x.plan.strategy)} on ${worldOf(x.plan.strategy)} GPUs`),
    h('p', { class: runs ? 'good' : 'bad', 'data-testid': 'export-verdict', 'data-runs': String(runs) }, runs ? `${name} runs the plan as written.` : `${name} cannot run the plan as written:`),
    runs ? null : h('ul', { 'data-testid': 'export-problems' }, x.problems.map((p) => h('li', { 'data-code': p.code }, `${p.code}: ${p.message}`))),
    runs
      ? null
      : x.exported !== undefined
        ? h('p', { 'data-testid': 'export-nearest', 'data-strategy': describe(x.exported.strategy) }, `nearest plan it runs: ${describe(x.exported.strategy)} on ${worldOf(x.exported.strategy)} GPUs${x.changes.length === 0 ? '' : ` (${x.changes.map((c) => `${c.what} ${c.from} -> ${c.to}`).join(', ')})`}`)
        : h('p', { 'data-testid': 'export-nearest' }, `nothing exported: ${x.unexported ?? 'no plan it can run'}`),
    estimatesTable(x),
    x.launch === undefined && x.exported !== undefined ? h('p', { class: 'bad' }, `no launch: ${x.unexported ?? exportedProblem ?? 'the estimate failed'}`) : null,
    x.launch === undefined ? null : launchView(x.launch),
  )
}

/** The Export tab's content: the export of `source` on engine `name`, or why there is none. */
export const exportView = (name: string, source: E.Either<ReadonlyArray<string>, ExportSource>): HTMLElement => {
  const x = E.chain((s: ExportSource) => exportOf(name, s))(source)
  return E.isLeft(x) ? problems('export-problems-input', x.left) : exportResultView(x.right)
}
