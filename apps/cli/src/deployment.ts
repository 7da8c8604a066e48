/**
 * A deployment from the command line: a plan file (its model, cluster, strategy,
 * precision and workload) and flags that override any of them, or flags alone.
 * Every failure is a message for stderr (the command exits 2); nothing here throws.
 */
import * as E from 'fp-ts/Either'
import { precision as makePrecision, storageDtypes, type Architecture, type Precision, type StorageDtype } from '@meshplan/model'
import { strategy, type Strategy } from '@meshplan/parallelism'
import { inferenceModes, inferenceWorkload, type InferenceMode, type InferenceWorkload } from '@meshplan/inference'
import { decodePlan, type Plan } from '@meshplan/planner'
import type { Cluster } from '@meshplan/topology'
import { parseDocument } from '@meshplan/units'
import { issuesMessage, positiveFlag, readText, resolveCluster, resolveModel, type InputError } from './inputs'

/** Flags naming a model, a cluster and a strategy (`layout` and every deployment command). */
export const strategyOptions = {
  model: { type: 'string' },
  cluster: { type: 'string' },
  nodes: { type: 'string' },
  tp: { type: 'string' },
  pp: { type: 'string' },
  dp: { type: 'string' },
  cp: { type: 'string' },
  ep: { type: 'string' },
  etp: { type: 'string' },
  vp: { type: 'string' },
  sp: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

/** Flags every deployment command accepts (values as parseArgs gives them). */
export const deploymentOptions = {
  ...strategyOptions,
  precision: { type: 'string' },
  weights: { type: 'string' },
  activations: { type: 'string' },
  'kv-cache': { type: 'string' },
  mode: { type: 'string' },
  'input-tokens': { type: 'string' },
  'output-tokens': { type: 'string' },
  batch: { type: 'string' },
  'max-batch': { type: 'string' },
} as const

export type Flags = Readonly<Record<string, string | boolean | undefined>>

export const deploymentHelp = `deployment (flags override the plan file's fields):
  --model NAME|FILE       model preset (meshplan presets) or a Hugging Face config.json
  --cluster NAME|FILE     system preset with --nodes N (default 1), or a cluster file (JSON or YAML)
  --tp --pp --dp --cp --ep --etp --vp N, --sp      degrees (default 1), sequence parallelism
  --precision F           weights, activations and KV cache in F (${storageDtypes.join(', ')}); or
  --weights F --activations F --kv-cache F
workload:
  --mode M                ${inferenceModes.join(', ')} (default static)
  --input-tokens N --output-tokens N     per request (default 1024 and 256)
  --batch N               sequences per data-parallel rank (static)
  --max-batch N           the engine's limit on sequences in flight (default 1024)`

/** The resolved deployment. */
export interface Deployment {
  readonly model: Architecture
  readonly cluster: Cluster
  readonly strategy: Strategy
  readonly precision: Precision
  readonly workload: InferenceWorkload
  readonly plan?: Plan
}

/** Reads and decodes a plan file. */
export const readPlan = (file: string): E.Either<InputError, Plan> => {
  const text = readText(file)
  if (E.isLeft(text)) return text
  const doc = parseDocument(text.right, file)
  if (E.isLeft(doc)) return E.left(doc.left.message)
  const plan = decodePlan(doc.right)
  return E.isLeft(plan) ? E.left(issuesMessage(file)(plan.left)) : plan
}

const dtypeFlag = (flag: string, value: string | boolean | undefined): E.Either<InputError, StorageDtype | undefined> =>
  typeof value !== 'string'
    ? E.right(undefined)
    : (storageDtypes as ReadonlyArray<string>).includes(value)
      ? E.right(value as StorageDtype)
      : E.left(`--${flag}: expected one of ${storageDtypes.join(', ')}, got "${value}"`)

const collect = <A>(errors: InputError[], r: E.Either<InputError, A>): A | undefined => {
  if (E.isLeft(r)) {
    errors.push(r.left)
    return undefined
  }
  return r.right
}

/** The deployment given by `flags` over `plan` (when given); every problem at once. */
export const deploymentOf = (flags: Flags, plan?: Plan): E.Either<ReadonlyArray<InputError>, Deployment> => {
  const errors: InputError[] = []
  const str = (name: string): string | undefined => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined)
  const num = (name: string): number | undefined => collect(errors, positiveFlag(name, str(name)))
  const nodes = num('nodes')
  const model = str('model') === undefined && plan !== undefined ? plan.model : collect(errors, resolveModel(str('model') ?? 'reference-moe'))
  const clusterName = str('cluster')
  const cluster =
    clusterName === undefined && plan !== undefined && nodes === undefined
      ? plan.cluster
      : collect(errors, resolveCluster(clusterName ?? 'reference', nodes ?? (clusterName === undefined ? 16 : undefined)))
  const base = plan?.strategy ?? strategy({})
  const degrees: Record<string, number> = {}
  for (const name of ['tp', 'pp', 'dp', 'cp', 'ep', 'etp', 'vp'] as const) {
    const n = num(name)
    if (n !== undefined) degrees[name === 'vp' ? 'virtualStages' : name] = n
  }
  const s = strategy({ ...base, ...degrees, sequenceParallel: flags['sp'] === true || base.sequenceParallel })
  const all = collect(errors, dtypeFlag('precision', flags['precision']))
  const weights = collect(errors, dtypeFlag('weights', flags['weights']))
  const activations = collect(errors, dtypeFlag('activations', flags['activations']))
  const kvCache = collect(errors, dtypeFlag('kv-cache', flags['kv-cache']))
  const p0 = plan?.precision ?? makePrecision({})
  const precision: Precision = {
    weights: weights ?? all ?? p0.weights,
    activations: activations ?? all ?? p0.activations,
    kvCache: kvCache ?? all ?? p0.kvCache,
  }
  const mode = str('mode')
  if (mode !== undefined && !(inferenceModes as ReadonlyArray<string>).includes(mode)) errors.push(`--mode: expected one of ${inferenceModes.join(', ')}, got "${mode}"`)
  const w0 = plan?.workload
  const batch = num('batch')
  const maxBatch = num('max-batch')
  const workload: InferenceWorkload = {
    mode: (mode as InferenceMode | undefined) ?? w0?.mode ?? 'static',
    inputTokens: num('input-tokens') ?? w0?.inputTokens ?? 1024,
    outputTokens: num('output-tokens') ?? w0?.outputTokens ?? 256,
    ...(batch !== undefined ? { batch } : w0?.batch !== undefined ? { batch: w0.batch } : {}),
    ...(maxBatch !== undefined ? { maxBatch } : w0?.maxBatch !== undefined ? { maxBatch: w0.maxBatch } : {}),
  }
  const checked = inferenceWorkload(workload)
  if (E.isLeft(checked)) errors.push(checked.left.message)
  if (errors.length > 0 || model === undefined || cluster === undefined) return E.left([...new Set(errors)])
  return E.right({ model, cluster, strategy: s, precision, workload, ...(plan === undefined ? {} : { plan }) })
}
