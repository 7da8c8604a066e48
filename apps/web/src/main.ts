/**
 * The page: reads its state from the URL's hash, fills the form, and shows the view of
 * the tab chosen. Cheap answers (the estimate, the deployment graph) are computed here;
 * the audit and the searches run in Web Workers (`engine-client.ts`), the training
 * search with a progress bar and a Cancel button. Every change of a field is written
 * back to the hash (so the link shares the plan) and refreshes the view shortly after.
 */
import './style.css'
import referencePlan from '../../../examples/reference-plan.yaml?raw'
import * as E from 'fp-ts/Either'
import { defaultCostModels } from '@meshplan/cost-models'
import { estimateInference } from '@meshplan/inference'
import { modelNames, storageDtypes } from '@meshplan/model'
import { decodePlan, decodeTrainingPlan, isTrainingPlanDocument } from '@meshplan/planner'
import { systemNames } from '@meshplan/topology'
import { ppSplitsLayers, splitFor } from '@meshplan/parallelism'
import { describeIssue, parseDocument } from '@meshplan/units'
import { fill, h, problems } from './dom'
import type { Job, Reply } from './engine'
import { engineLanes } from './engine-client'
import { deploymentOf, fileNameOf, searchInputOf, trainingInputOf, type Deployment, type FieldProblem, type Resolved } from './inputs'
import { fieldNames, hashOfState, stateOfHash, views, withField, type PageState, type View } from './state'
import { auditView, trainingAuditView } from './views/audit'
import { doesNotFit, estimateFigures } from './views/estimate'
import { exportView, type ExportSource } from './views/export'
import { graphOf, graphView } from './views/graph'
import { plansView } from './views/plans'
import { progressView, trainingPlanView } from './views/training'

// -------------------------------------------------------------------------------------
// the page's elements
// -------------------------------------------------------------------------------------

const byId = <T extends HTMLElement>(id: string): T => {
  const element = document.getElementById(id)
  if (element === null) throw new Error(`the page has no #${id}`)
  return element as T
}

type Field = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement

const isField = (name: string): name is keyof PageState => (fieldNames as ReadonlyArray<string>).includes(name)
const fields = (): ReadonlyArray<Field> => Array.from(document.querySelectorAll<Field>('input[name], select[name], textarea[name]')).filter((f) => isField(f.name))

const options = (select: HTMLSelectElement, values: ReadonlyArray<readonly [string, string]>): void => {
  select.replaceChildren(...values.map(([value, label]) => h('option', { value }, label)))
}

options(document.querySelector<HTMLSelectElement>('select[name=model]') as HTMLSelectElement, modelNames.map((n) => [n, n]))
options(document.querySelector<HTMLSelectElement>('select[name=system]') as HTMLSelectElement, systemNames.map((n) => [n, n]))
options(document.querySelector<HTMLSelectElement>('select[name=precision]') as HTMLSelectElement, [['', "the checkpoint's (else bf16)"], ...storageDtypes.map((d): readonly [string, string] => [d, d])])

// -------------------------------------------------------------------------------------
// state
// -------------------------------------------------------------------------------------

let state: PageState = stateOfHash(location.hash)
const lanes = engineLanes()

/** The form shows `state`. */
const showState = (): void => {
  for (const f of fields()) {
    const value = state[f.name as keyof PageState]
    if (f instanceof HTMLInputElement && f.type === 'radio') f.checked = f.value === value
    else if (f.value !== value) f.value = value
  }
  for (const tab of document.querySelectorAll<HTMLButtonElement>('[data-view]')) tab.setAttribute('aria-selected', String(tab.dataset['view'] === state.view))
  for (const view of views) byId(`view-${view}`).hidden = view !== state.view
}

/** The URL's hash says `state` (replacing the history entry: typing is not navigation). */
const writeHash = (): void => {
  const hash = hashOfState(state)
  if (hash !== location.hash) history.replaceState(null, '', hash === '' ? `${location.pathname}${location.search}` : hash)
}

/** Fields that choose their source when typed into: a pasted config means the config, a preset chosen means the preset. */
const sourceOf: Partial<Record<keyof PageState, readonly [keyof PageState, string]>> = {
  model: ['modelSource', 'preset'],
  config: ['modelSource', 'config'],
  system: ['clusterSource', 'preset'],
  nodes: ['clusterSource', 'preset'],
  clusterFile: ['clusterSource', 'file'],
}

const setField = (name: keyof PageState, value: string): void => {
  state = withField(state, name, value)
  const source = sourceOf[name]
  if (source !== undefined) state = withField(state, source[0], source[1])
  showState()
  writeHash()
  schedule()
}

for (const f of fields()) {
  f.addEventListener(f instanceof HTMLSelectElement || (f instanceof HTMLInputElement && f.type === 'radio') ? 'change' : 'input', () => setField(f.name as keyof PageState, f.value))
  if (f instanceof HTMLTextAreaElement && f.hasAttribute('data-drop')) {
    f.addEventListener('dragover', (event) => event.preventDefault())
    f.addEventListener('drop', (event) => {
      const file = event.dataTransfer?.files[0]
      if (file === undefined) return
      event.preventDefault()
      void file.text().then((text) => setField(f.name as keyof PageState, text))
    })
  }
}

for (const tab of document.querySelectorAll<HTMLButtonElement>('[data-view]')) {
  tab.addEventListener('click', () => setField('view', tab.dataset['view'] ?? 'estimate'))
}

window.addEventListener('hashchange', () => {
  state = stateOfHash(location.hash)
  showState()
  schedule()
})

byId('load-reference-plan').addEventListener('click', () => setField('plan', referencePlan))

byId('share').addEventListener('click', () => {
  const status = byId('share-status')
  navigator.clipboard.writeText(location.href).then(
    () => (status.textContent = 'link copied'),
    () => (status.textContent = `copy this link: ${location.href}`),
  )
})

// -------------------------------------------------------------------------------------
// views
// -------------------------------------------------------------------------------------

/** The problems of the form's fields: a model's or a cluster's under its own fields, the others under the form. */
const showInputProblems = (found: ReadonlyArray<FieldProblem>): void => {
  const names = new Set(found.map((p) => p.field))
  for (const f of fields()) f.setAttribute('aria-invalid', String(names.has(f.name as keyof PageState)))
  const placed = new Set<string>()
  for (const container of document.querySelectorAll<HTMLElement>('[data-problems-for]')) {
    const own = (container.dataset['problemsFor'] ?? '').split(' ')
    const mine = found.filter((p) => own.includes(p.field))
    for (const field of own) placed.add(field)
    fill(container, mine.length === 0 ? null : problems(`problems-${own[own.length - 1] ?? ''}`, [...new Set(mine.map((p) => p.message))]))
  }
  const rest = found.filter((p) => !placed.has(p.field))
  fill(byId('input-problems'), rest.length === 0 ? null : problems('input-problems-list', [...new Set(rest.map((p) => p.message))]))
}

const problemsOf = <A>(r: Resolved<A>): ReadonlyArray<FieldProblem> => (E.isLeft(r) ? r.left : [])

const status = (id: string, text: string, state: 'idle' | 'running' | 'done' | 'failed'): void => {
  const element = byId(id)
  element.textContent = text
  element.dataset['state'] = state
}

const showEstimate = (d: Resolved<Deployment>): void => {
  const out = byId('estimate-out')
  if (E.isLeft(d)) return fill(out, h('p', { class: 'hint' }, 'Fix the fields marked in red to see the estimate.'))
  const e = estimateInference(defaultCostModels)(d.right)
  if (E.isLeft(e)) return fill(out, problems('estimate-problems', e.left.violations?.map((v) => `${v.message} (${v.suggestion})`) ?? [e.left.message]))
  fill(out, e.right.memory.fits ? null : problems('estimate-problems', [doesNotFit(e.right, d.right.workload)]), estimateFigures(e.right, 'estimate', d.right.workload))
}

/** The job last started in each lane, so that a refresh with the same inputs does not run it again. */
const lastJob = new Map<string, string>()

const startOnce = (lane: string, job: Job, onReply: (reply: Reply) => void): boolean => {
  const key = JSON.stringify(job)
  if (lastJob.get(lane) === key) return false
  lastJob.set(lane, key)
  lanes.start(lane, job, onReply)
  return true
}

const showPlans = (): void => {
  const input = searchInputOf(state)
  if (E.isLeft(input)) {
    lanes.cancel('plans')
    lastJob.delete('plans')
    status('plans-status', 'Fix the fields marked in red to search.', 'failed')
    return fill(byId('plans-out'))
  }
  const objectives = Object.keys(input.right.slo ?? {}).length > 0
  const started = startOnce('plans', { kind: 'search', input: input.right }, (reply) => {
    if (reply.kind === 'search') {
      status('plans-status', '', 'done')
      fill(byId('plans-out'), plansView(reply.result, reply.seconds, objectives))
    } else if (reply.kind === 'problems') {
      status('plans-status', '', 'failed')
      fill(byId('plans-out'), problems('plans-problems', reply.problems))
    }
  })
  if (started) status('plans-status', 'searching…', 'running')
}

const showAudit = (): void => {
  const started = startOnce('audit', { kind: 'audit', text: state.plan }, (reply) => {
    const out = byId('audit-out')
    if (reply.kind === 'audit') fill(out, auditView(reply.audit))
    else if (reply.kind === 'training-audit') fill(out, trainingAuditView(reply.audit))
    else if (reply.kind === 'problems') fill(out, problems('audit-problems', reply.problems))
    else return
    status('audit-status', '', reply.kind === 'problems' ? 'failed' : 'done')
  })
  if (started) status('audit-status', state.plan.trim() === '' ? '' : 'auditing…', 'running')
}

/** The deployment a pasted plan file gives (for its graph). */
const planDeployment = (text: string): E.Either<ReadonlyArray<string>, Deployment> => {
  if (text.trim() === '') return E.left(['plan: paste or drop a plan file in the Audit tab'])
  const doc = parseDocument(text, fileNameOf(text, 'plan'))
  if (E.isLeft(doc)) return E.left([doc.left.message])
  if (isTrainingPlanDocument(doc.right)) return E.left(['the deployment graph draws a serving step, and this plan file is a training plan (workload kind: training); its audit is in the Audit tab'])
  const plan = decodePlan(doc.right)
  return E.isLeft(plan) ? E.left(plan.left.map(describeIssue)) : E.right(plan.right)
}

const showGraph = (d: Resolved<Deployment>): void => {
  const out = byId('graph-out')
  const deployment = state.graphSource === 'plan' ? planDeployment(state.plan) : E.mapLeft((found: ReadonlyArray<FieldProblem>) => found.map((p) => p.message))(d)
  if (E.isLeft(deployment)) return fill(out, problems('graph-problems', deployment.left))
  const g = graphOf(deployment.right, state.graphPhase)
  fill(out, E.isLeft(g) ? problems('graph-problems', g.left) : graphView(g.right, state.graphFormat))
}

/** What the Export tab exports: the deployment on the left, or the pasted plan file (serving or training, its pipeline split as the form's). */
const exportSource = (d: Resolved<Deployment>): E.Either<ReadonlyArray<string>, ExportSource> => {
  if (state.exportSource === 'deployment') return E.isLeft(d) ? E.left(['Fix the fields marked in red to export the deployment.']) : E.right({ kind: 'serving', deployment: d.right })
  const text = state.plan
  if (text.trim() === '') return E.left(['plan: paste or drop a plan file in the Audit tab'])
  const doc = parseDocument(text, fileNameOf(text, 'plan'))
  if (E.isLeft(doc)) return E.left([doc.left.message])
  if (isTrainingPlanDocument(doc.right)) {
    const plan = decodeTrainingPlan(doc.right)
    return E.isLeft(plan) ? E.left(plan.left.map(describeIssue)) : E.right({ kind: 'training', deployment: plan.right })
  }
  const plan = decodePlan(doc.right)
  if (E.isLeft(plan)) return E.left(plan.left.map(describeIssue))
  const s = plan.right.strategy
  // the split `meshplan export` takes when the layers do not divide into the stages
  const split = s.pipelineSplit !== undefined || s.pp < 2 || ppSplitsLayers(plan.right.model)(s.pp, s.virtualStages) ? undefined : splitFor(plan.right.model.layers, s.pp, s.virtualStages)
  return E.right({ kind: 'serving', deployment: split === undefined ? plan.right : { ...plan.right, strategy: { ...s, pipelineSplit: split } } })
}

/** The export last shown, so that a refresh with the same inputs does not compute it again (the nearest plan's search takes a moment). */
let lastExport: { readonly key: string; readonly view: HTMLElement } | undefined

const showExport = (d: Resolved<Deployment>): void => {
  const key = JSON.stringify([state.exportEngine, state.exportSource, state.exportSource === 'plan' ? state.plan : hashOfState(state)])
  if (lastExport?.key !== key) lastExport = { key, view: exportView(state.exportEngine, exportSource(d)) }
  fill(byId('export-out'), lastExport.view)
}

const startTraining = (): void => {
  const input = trainingInputOf(state)
  showInputProblems(problemsOf(input))
  if (E.isLeft(input)) return status('training-status', 'Fix the fields marked in red to search.', 'failed')
  const { top, ...search } = input.right
  const out = byId('training-out')
  const cancel = byId<HTMLButtonElement>('training-cancel')
  cancel.disabled = false
  status('training-status', 'searching…', 'running')
  fill(out)
  let updates = 0
  byId('training-status').dataset['updates'] = '0'
  lanes.start('training', { kind: 'train', input: search, top }, (reply) => {
    if (reply.kind === 'progress') {
      // how many progress messages arrived, for whoever checks that the bar moved
      byId('training-status').dataset['updates'] = String(++updates)
      return fill(out, progressView(reply.progress))
    }
    cancel.disabled = true
    if (reply.kind === 'train') {
      status('training-status', '', 'done')
      fill(out, trainingPlanView(reply.plan, search.model.name))
    } else if (reply.kind === 'problems') {
      status('training-status', '', 'failed')
      fill(out, problems('training-problems', reply.problems))
    }
  })
}

byId('training-start').addEventListener('click', startTraining)
byId('training-cancel').addEventListener('click', () => {
  lanes.cancel('training')
  byId<HTMLButtonElement>('training-cancel').disabled = true
  status('training-status', 'cancelled', 'idle')
})

/** Shows the current view from the current state. */
const refresh = (): void => {
  const d = deploymentOf(state)
  const shown: Record<View, () => void> = {
    estimate: () => {
      showInputProblems(problemsOf(d))
      showEstimate(d)
    },
    plans: () => {
      showInputProblems(problemsOf(searchInputOf(state)))
      showPlans()
    },
    audit: () => {
      showInputProblems([])
      showAudit()
    },
    graph: () => {
      showInputProblems(state.graphSource === 'deployment' ? problemsOf(d) : [])
      showGraph(d)
    },
    training: () => showInputProblems(problemsOf(trainingInputOf(state))),
    export: () => {
      showInputProblems(state.exportSource === 'deployment' ? problemsOf(d) : [])
      showExport(d)
    },
  }
  shown[state.view]()
}

let timer: ReturnType<typeof setTimeout> | undefined
/** Refreshes shortly after the last change (typing a number is several changes). */
const schedule = (): void => {
  if (timer !== undefined) clearTimeout(timer)
  timer = setTimeout(refresh, 250)
}

showState()
refresh()

if ('serviceWorker' in navigator && import.meta.env.PROD && location.protocol !== 'file:') {
  navigator.serviceWorker.register('./sw.js').catch(() => undefined)
}
