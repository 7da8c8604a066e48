/**
 * From the page's state (the fields as typed, the texts as pasted) to the planner's
 * domain values: a model (a preset, or a Hugging Face config.json decoded by
 * @meshplan/model), a cluster (a system preset and its nodes, or a cluster file decoded
 * by @meshplan/topology), a precision, a serving workload, a strategy and the search's
 * objectives. Every problem is a value naming its field (for a pasted file, the JSON
 * path inside it, the value found and what was expected, as the command reports it),
 * and all of them are returned at once; nothing here throws.
 *
 * @example
 * const d = deploymentOf(stateOfHash('#model=llama-3.1-8b&tp=0'))
 * // left([{ field: 'tp', message: 'tp: expected a positive integer, got "0"' }])
 */
import * as E from 'fp-ts/Either'
import type { ServingDeployment } from '@meshplan/export'
import { checkpointPrecision, fromHuggingFace, modelPreset, precision as makePrecision, storageDtypes, type Architecture, type Precision, type StorageDtype } from '@meshplan/model'
import { inferenceWorkload, type InferenceWorkload, type PlanInput, type Slo } from '@meshplan/inference'
import { ppSplitsLayers, splitFor, strategy, withExpertDefault, type Strategy } from '@meshplan/parallelism'
import { clusterOf, isSystemName, readClusterFile, type Cluster } from '@meshplan/topology'
import { describeIssue, parseDocument, parseSeconds, type DecodeIssue } from '@meshplan/units'
import type { PageState } from './state'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A problem with one field of the page (for a pasted file, the file's field). */
export interface FieldProblem {
  readonly field: keyof PageState
  readonly message: string
}

export type Resolved<A> = E.Either<ReadonlyArray<FieldProblem>, A>

/** A deployment the page estimates, draws and exports (@meshplan/export's `ServingDeployment`: model, cluster, strategy, precision, workload). */
export type Deployment = ServingDeployment

/** What a serving search is asked (a `PlanInput` without functions: it crosses to the Web Worker). */
export type SearchInput = Omit<PlanInput, 'engine'>

/** The file name a pasted text is parsed as: YAML unless it starts like JSON (YAML would read that too). */
export const fileNameOf = (text: string, base: string): string => (/^\s*[[{]/.test(text) ? `${base}.json` : `${base}.yaml`)

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const problem = (field: keyof PageState, message: string): ReadonlyArray<FieldProblem> => [{ field, message }]

/** The issues of a decoded file as problems of `field`, each as `path: expected X, got Y`. */
export const issueProblems = (field: keyof PageState, issues: ReadonlyArray<DecodeIssue>): ReadonlyArray<FieldProblem> => issues.map((issue) => ({ field, message: describeIssue(issue) }))

/** A whole number from 1 up in `field`. */
export const positiveInteger = (field: keyof PageState, text: string): Resolved<number> => {
  const n = Number(text.trim())
  return text.trim() !== '' && Number.isSafeInteger(n) && n >= 1 ? E.right(n) : E.left(problem(field, `${field}: expected a positive integer, got ${JSON.stringify(text)}`))
}

/** A whole number from 1 up, or nothing when the field is empty. */
const optionalInteger = (field: keyof PageState, text: string): Resolved<number | undefined> => (text.trim() === '' ? E.right(undefined) : positiveInteger(field, text))

/** A duration such as `2s` or `40ms`, or nothing when the field is empty. */
const optionalSeconds = (field: keyof PageState, text: string): Resolved<number | undefined> => {
  if (text.trim() === '') return E.right(undefined)
  const parsed = parseSeconds(text.trim())
  return E.isLeft(parsed) ? E.left(problem(field, `${field}: ${parsed.left.reason}, got ${JSON.stringify(text)}`)) : E.right(parsed.right)
}

/** A number above zero, or nothing when the field is empty. */
const optionalPositive = (field: keyof PageState, text: string): Resolved<number | undefined> => {
  if (text.trim() === '') return E.right(undefined)
  const n = Number(text.trim())
  return Number.isFinite(n) && n > 0 ? E.right(n) : E.left(problem(field, `${field}: expected a number above 0, got ${JSON.stringify(text)}`))
}

/** The model's name for a pasted config: its `_name_or_path` when it has one. */
const configName = (doc: unknown): string => {
  const name = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>)['_name_or_path'] : undefined
  return typeof name === 'string' && name.trim() !== '' && name.length <= 200 ? name : 'config.json'
}

/** The model: a preset by name, or a pasted Hugging Face config.json (JSON or YAML). */
export const modelOf = (s: PageState): Resolved<Architecture> => {
  if (s.modelSource === 'preset') {
    const m = modelPreset(s.model)
    return E.isLeft(m) ? E.left(problem('model', m.left.message)) : m
  }
  if (s.config.trim() === '') return E.left(problem('config', 'config: paste or drop a Hugging Face config.json'))
  const doc = parseDocument(s.config, fileNameOf(s.config, 'config'))
  if (E.isLeft(doc)) return E.left(problem('config', doc.left.message))
  const m = fromHuggingFace(doc.right, configName(doc.right))
  return E.isLeft(m) ? E.left(issueProblems('config', m.left)) : m
}

/** The cluster: a system preset with its nodes, or a pasted cluster file (JSON or YAML). */
export const clusterOfState = (s: PageState): Resolved<Cluster> => {
  if (s.clusterSource === 'file') {
    if (s.clusterFile.trim() === '') return E.left(problem('clusterFile', 'clusterFile: paste or drop a cluster file'))
    const c = readClusterFile(s.clusterFile, fileNameOf(s.clusterFile, 'cluster'))
    return E.isLeft(c) ? E.left(issueProblems('clusterFile', c.left)) : c
  }
  if (!isSystemName(s.system)) return E.left(problem('system', `system: no preset "${s.system}"`))
  const nodes = positiveInteger('nodes', s.nodes)
  if (E.isLeft(nodes)) return nodes
  const c = clusterOf(s.system, nodes.right)
  return E.isLeft(c) ? E.left(problem('nodes', c.left.message)) : c
}

/** The formats: one for weights, activations and KV cache, or (empty) the checkpoint's own, else bf16. */
const precisionOf = (s: PageState, model: Architecture): Resolved<Precision> => {
  if (s.precision === '') return E.right(checkpointPrecision(model))
  const isFormat = (f: string): f is StorageDtype => (storageDtypes as ReadonlyArray<string>).includes(f)
  return isFormat(s.precision) ? E.right(makePrecision({ weights: s.precision, activations: s.precision, kvCache: s.precision })) : E.left(problem('precision', `precision: not a format: "${s.precision}"`))
}

/** The serving workload: the mode, the prompt and output tokens, and (static mode) the batch. */
export const workloadOf = (s: PageState): Resolved<InferenceWorkload> => {
  const input = positiveInteger('inputTokens', s.inputTokens)
  const output = positiveInteger('outputTokens', s.outputTokens)
  const batch = s.mode === 'static' ? optionalInteger('batch', s.batch) : E.right(undefined)
  const found = [input, output, batch].flatMap((r) => (E.isLeft(r) ? r.left : []))
  if (found.length > 0 || E.isLeft(input) || E.isLeft(output) || E.isLeft(batch)) return E.left(found)
  const w: InferenceWorkload = { mode: s.mode, inputTokens: input.right, outputTokens: output.right, ...(batch.right === undefined ? {} : { batch: batch.right }) }
  const checked = inferenceWorkload(w)
  return E.isLeft(checked) ? E.left(problem('mode', checked.left.message)) : checked
}

const degreeFields = ['tp', 'pp', 'dp', 'cp', 'ep'] as const

/**
 * The strategy of the degree fields, with Megatron-Core's defaults the command applies:
 * an MoE model's experts split over the TP group (etp = tp) unless ep or etp is given,
 * and where the layers do not divide into the stages, the uneven split Megatron-LM users take.
 */
export const strategyOf = (s: PageState, model: Architecture): Resolved<Strategy> => {
  const degrees = degreeFields.map((f) => positiveInteger(f, s[f]))
  const etp = optionalInteger('etp', s.etp)
  const found = [...degrees, etp].flatMap((r) => (E.isLeft(r) ? r.left : []))
  if (found.length > 0) return E.left(found)
  const [tp = 1, pp = 1, dp = 1, cp = 1, ep = 1] = degrees.map((r) => (E.isRight(r) ? r.right : 1))
  const etpGiven = E.isRight(etp) ? etp.right : undefined
  const base = withExpertDefault(model.moe !== undefined, etpGiven !== undefined)(strategy({ tp, pp, dp, cp, ep, ...(etpGiven === undefined ? {} : { etp: etpGiven }) }))
  if (base.pp < 2 || ppSplitsLayers(model)(base.pp, base.virtualStages)) return E.right(base)
  const split = splitFor(model.layers, base.pp, base.virtualStages)
  return E.right(split === undefined ? base : { ...base, pipelineSplit: split })
}

/** Every problem of `results` at once, or their values. */
const all = <T extends ReadonlyArray<Resolved<unknown>>>(results: T): E.Either<ReadonlyArray<FieldProblem>, { readonly [K in keyof T]: T[K] extends Resolved<infer A> ? A : never }> => {
  const found = results.flatMap((r) => (E.isLeft(r) ? r.left : []))
  return found.length > 0 ? E.left(found) : E.right(results.map((r) => (E.isRight(r) ? r.right : undefined)) as never)
}

/** The deployment the fields describe; every problem at once. */
export const deploymentOf = (s: PageState): Resolved<Deployment> => {
  const model = modelOf(s)
  const rest = all([clusterOfState(s), workloadOf(s)] as const)
  if (E.isLeft(model)) return E.left([...model.left, ...(E.isLeft(rest) ? rest.left : [])])
  const own = all([precisionOf(s, model.right), strategyOf(s, model.right)] as const)
  if (E.isLeft(rest) || E.isLeft(own)) return E.left([...(E.isLeft(rest) ? rest.left : []), ...(E.isLeft(own) ? own.left : [])])
  const [cluster, workload] = rest.right
  const [precision, chosen] = own.right
  return E.right({ model: model.right, cluster, workload, precision, strategy: chosen })
}

/** What the serving search is asked: the deployment's model, cluster, precision and workload, and the objectives. */
export const searchInputOf = (s: PageState): Resolved<SearchInput> => {
  const model = modelOf(s)
  const found = all([clusterOfState(s), workloadOf(s), optionalSeconds('maxTtft', s.maxTtft), optionalSeconds('maxTpot', s.maxTpot), optionalPositive('minTokensPerUser', s.minTokensPerUser), optionalInteger('maxGpus', s.maxGpus), positiveInteger('top', s.top)] as const)
  if (E.isLeft(model) || E.isLeft(found)) return E.left([...(E.isLeft(model) ? model.left : []), ...(E.isLeft(found) ? found.left : [])])
  const precision = precisionOf(s, model.right)
  if (E.isLeft(precision)) return precision
  const [cluster, workload, maxTtft, maxTpot, minTokensPerUser, maxGpus, top] = found.right
  const slo: Slo = {
    ...(maxTtft === undefined ? {} : { maxTtft }),
    ...(maxTpot === undefined ? {} : { maxTpot }),
    ...(minTokensPerUser === undefined ? {} : { minTokensPerUser }),
  }
  return E.right({ model: model.right, cluster, precision: precision.right, workload, slo, top, ...(maxGpus === undefined ? {} : { maxGpus }) })
}

/** What the training search is asked: the model, cluster and precision, the global batch, the sequence length and how many plans to keep. */
export const trainingInputOf = (s: PageState): Resolved<{ readonly model: Architecture; readonly cluster: Cluster; readonly precision: Precision; readonly globalBatch: number; readonly sequenceLength: number; readonly top: number }> => {
  const model = modelOf(s)
  const found = all([clusterOfState(s), positiveInteger('globalBatch', s.globalBatch), positiveInteger('seqLen', s.seqLen), positiveInteger('trainTop', s.trainTop)] as const)
  if (E.isLeft(model) || E.isLeft(found)) return E.left([...(E.isLeft(model) ? model.left : []), ...(E.isLeft(found) ? found.left : [])])
  const precision = precisionOf(s, model.right)
  if (E.isLeft(precision)) return precision
  const [cluster, globalBatch, sequenceLength, top] = found.right
  return E.right({ model: model.right, cluster, precision: precision.right, globalBatch, sequenceLength, top })
}
