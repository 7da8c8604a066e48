/**
 * Every flag of the command, once: its name on the command line, the placeholder of
 * its value, its help line, and how its text becomes a value. The commands take their
 * flags from this table (`program.ts` defines the commander options from it, and
 * `parseFlags` parses what the user gave with it), so the help a user reads and the
 * parsing that runs cannot drift apart.
 *
 * @example
 * parseFlags(new Map([['tp', '-8']])) // left(['--tp: expected a positive integer (1 or more), got "-8"'])
 * parseFlags(new Map([['maxTpot', '40ms']])) // right({ flags: { maxTpot: 0.04 }, given: Set { 'maxTpot' } })
 */
import * as E from 'fp-ts/Either'
import { offloadKinds, recomputeModes, schedules, zeroStages, type OffloadKind, type RecomputeMode, type Schedule } from '@meshplan/training'
import { gradientReduces, type GradientReduce } from '@meshplan/cost-models'
import { inferenceModes, MAX_DRAFT_TOKENS, type InferenceMode, type Speculative } from '@meshplan/inference'
import type { ZeroStage } from '@meshplan/memory'
import { storageDtypes, type StorageDtype } from '@meshplan/model'
import { plotNames, type PlotName } from '@meshplan/plots'
import { parseQuantity } from '@meshplan/units'
import { devices, type Device } from '@meshplan/topology'
import { engineNames } from '@meshplan/export'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The values of the flags a user gave, parsed. Seconds for durations. */
export interface Flags {
  readonly model?: string
  readonly cluster?: string
  readonly nodes?: number
  readonly tp?: number
  readonly pp?: number
  readonly dp?: number
  readonly cp?: number
  readonly ep?: number
  readonly etp?: number
  readonly vp?: number
  readonly sp?: boolean
  readonly firstStageLayers?: number
  readonly lastStageLayers?: number
  readonly embeddingInPipelineSplit?: boolean
  readonly lossInPipelineSplit?: boolean
  readonly gpus?: number
  readonly order?: string
  readonly precision?: StorageDtype
  readonly weights?: StorageDtype
  readonly activations?: StorageDtype
  readonly kvCache?: StorageDtype
  readonly mode?: InferenceMode
  readonly inputTokens?: number
  readonly outputTokens?: number
  readonly batch?: number
  readonly maxBatch?: number
  readonly speculative?: Speculative
  readonly hotExpertShare?: number
  readonly maxTtft?: number
  readonly maxTpot?: number
  readonly minTokensPerUser?: number
  readonly memoryHeadroom?: number
  readonly maxGpus?: number
  readonly top?: number
  readonly train?: boolean
  readonly globalBatch?: number
  readonly microBatch?: number
  readonly seqLen?: number
  readonly recompute?: RecomputeMode
  readonly zero?: ZeroStage
  readonly schedule?: Schedule
  readonly tpCommOverlap?: boolean
  readonly offload?: ReadonlyArray<OffloadKind>
  readonly gradReduce?: GradientReduce
  readonly workers?: number
  readonly checkpointBandwidth?: number
  readonly restart?: number
  readonly failureRate?: number
  readonly checkpointInterval?: number
  readonly case?: string
  readonly format?: DagFormat
  readonly phase?: DagPhase
  readonly json?: boolean
  readonly svg?: string
  readonly plot?: ReadonlyArray<PlotName>
  readonly leaveOneSourceOut?: boolean
  readonly engine?: string
  readonly engineVersion?: string
  readonly calibration?: string
  readonly out?: string
  readonly redundantExperts?: number
  readonly disaggregated?: boolean
  readonly price?: Price
  readonly targetRate?: number
}

export type FlagName = keyof Flags

export const dagFormats = ['mermaid', 'dot', 'json'] as const
export type DagFormat = (typeof dagFormats)[number]
export const dagPhases = ['decode', 'prefill'] as const
export type DagPhase = (typeof dagPhases)[number]

/** One flag: its value's placeholder (none for a switch), its help, and its parser (the message follows `--name: `). */
export interface FlagSpec<A> {
  readonly placeholder?: string
  readonly help: string
  readonly parse: (text: string) => E.Either<string, A>
}

// -------------------------------------------------------------------------------------
// parsers
// -------------------------------------------------------------------------------------

const shown = (text: string): string => JSON.stringify(text)

/** A whole number from 1 to `max` (default 2^31 − 1: counts and degrees, as the files' codecs). */
const positiveInteger =
  (max = 2 ** 31 - 1) =>
  (text: string): E.Either<string, number> => {
    const n = Number(text)
    if (text.trim() === '' || !Number.isFinite(n)) return E.left(`expected a positive integer, got ${shown(text)}`)
    if (n < 1) return E.left(`expected a positive integer (1 or more), got ${shown(text)}`)
    if (!Number.isInteger(n)) return E.left(`expected a whole number, got ${shown(text)}`)
    if (n > max) return E.left(`expected at most ${max.toLocaleString('en-US')}, got ${shown(text)}`)
    return E.right(n)
  }

/** A number of tokens, 1 or more (a mean need not be whole). */
const tokens = (text: string): E.Either<string, number> => {
  const n = Number(text)
  return text.trim() !== '' && Number.isFinite(n) && n >= 1 && n <= 2 ** 31 - 1 ? E.right(n) : E.left(`expected a number of tokens, 1 or more, got ${shown(text)}`)
}

const numberWhere =
  (expected: string, test: (n: number) => boolean) =>
  (text: string): E.Either<string, number> => {
    const n = Number(text)
    return text.trim() !== '' && Number.isFinite(n) && test(n) ? E.right(n) : E.left(`expected ${expected}, got ${shown(text)}`)
  }

/** A price per GPU-hour: one for every GPU, or one per device preset (heterogeneous pools). */
export type Price = number | Readonly<Record<string, number>>

const validPrice = (n: number): boolean => Number.isFinite(n) && n > 0 && n < 1e9

/** `2.49`, or `h100-sxm=2.49,h200=3.1`: device presets (meshplan presets devices) and their prices. */
const priceOf = (text: string): E.Either<string, Price> => {
  if (!text.includes('=')) return numberWhere('a price per GPU-hour above 0, or DEVICE=P,... per device preset', validPrice)(text)
  const out: Record<string, number> = {}
  for (const part of text.split(',')) {
    const [name = '', value = '', ...rest] = part.split('=').map((x) => x.trim())
    if (rest.length > 0 || !(name in devices) || name === 'reference') return E.left(`expected DEVICE=P with DEVICE one of ${Object.keys(devices).filter((d) => d !== 'reference').join(', ')}, got ${shown(part)}`)
    const n = Number(value)
    if (value === '' || !validPrice(n)) return E.left(`expected a price per GPU-hour above 0 for ${name}, got ${shown(value)}`)
    if (name in out) return E.left(`expected each device once, got ${name} twice`)
    out[name] = n
  }
  return E.right(out)
}

const oneOf =
  <S extends string>(values: ReadonlyArray<S>) =>
  (text: string): E.Either<string, S> =>
    (values as ReadonlyArray<string>).includes(text) ? E.right(text as S) : E.left(`expected one of ${values.join(', ')}, got ${shown(text)}`)

/** A duration with its unit (`40ms`, `2s`, `500us`); a bare number is refused, since a plan file's bare number is seconds and a flag's was once milliseconds. */
const duration = (text: string): E.Either<string, number> => {
  if (/^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(text)) return E.left(`give a unit, e.g. "${text.trim()}ms" or "${text.trim()}s", got ${shown(text)}`)
  const parsed = parseQuantity('seconds')(text)
  if (E.isLeft(parsed)) return E.left(`${parsed.left.reason}, got ${shown(text)}`)
  return parsed.right > 0 && Number.isFinite(parsed.right) ? E.right(parsed.right) : E.left(`expected a duration above zero, got ${shown(text)}`)
}

/** A rate in bytes per second with its unit (`100GB/s`). */
const byteRate = (text: string): E.Either<string, number> => {
  const parsed = parseQuantity('byteRate')(text)
  if (E.isLeft(parsed)) return E.left(`${parsed.left.reason}, got ${shown(text)}`)
  return parsed.right > 0 && Number.isFinite(parsed.right) ? E.right(parsed.right) : E.left(`expected a rate above zero, got ${shown(text)}`)
}

const text = (what: string) => (value: string): E.Either<string, string> => (value.trim() === '' ? E.left(`expected ${what}, got ""`) : E.right(value))

const zero = (value: string): E.Either<string, ZeroStage> => {
  const z = zeroStages.find((s) => String(s) === value.trim())
  return z === undefined ? E.left(`expected 0, 1, 2 or 3, got ${shown(value)}`) : E.right(z)
}

const on = (): E.Either<string, boolean> => E.right(true)

/** A comma-separated list of plot names. */
const plotList = (text: string): E.Either<string, ReadonlyArray<PlotName>> => {
  const parts = text.split(',').map((p) => p.trim())
  const bad = parts.find((p) => !(plotNames as ReadonlyArray<string>).includes(p))
  return bad === undefined ? E.right(plotNames.filter((k) => parts.includes(k))) : E.left(`expected a comma-separated list of ${plotNames.join(', ')}, got ${shown(text)}`)
}

/** Speculative decoding as `METHOD:DRAFT:ACCEPT`: `mtp`, `eagle` or `ngram`, tokens drafted per step, mean tokens produced per step. */
const speculativeSpec = (text: string): E.Either<string, Speculative> => {
  const [method, draft, accept, ...rest] = text.split(':').map((p) => p.trim())
  const draftTokens = Number(draft)
  const acceptanceLength = Number(accept)
  if (rest.length > 0 || !(method === 'mtp' || method === 'eagle' || method === 'ngram')) {
    return E.left(`expected METHOD:DRAFT:ACCEPT with METHOD mtp, eagle or ngram (a separate draft model is not priced), e.g. mtp:3:2.4, got ${shown(text)}`)
  }
  if (!(Number.isSafeInteger(draftTokens) && draftTokens >= 1 && draftTokens <= MAX_DRAFT_TOKENS)) return E.left(`expected DRAFT, the tokens drafted per step, a whole number from 1 to ${MAX_DRAFT_TOKENS}, got ${shown(text)}`)
  if (!(acceptanceLength >= 1 && acceptanceLength <= draftTokens + 1)) return E.left(`expected ACCEPT, the mean tokens produced per step, from 1 to DRAFT + 1 = ${draftTokens + 1}, got ${shown(text)}`)
  return E.right({ method, draftTokens, acceptanceLength })
}

/** A comma-separated list of offload kinds, or `none`. */
const offloadList = (text: string): E.Either<string, ReadonlyArray<OffloadKind>> => {
  if (text.trim() === 'none') return E.right([])
  const parts = text.split(',').map((p) => p.trim())
  const bad = parts.find((p) => !(offloadKinds as ReadonlyArray<string>).includes(p))
  return bad === undefined ? E.right(offloadKinds.filter((k) => parts.includes(k))) : E.left(`expected none or a comma-separated list of ${offloadKinds.join(', ')}, got ${shown(text)}`)
}

// -------------------------------------------------------------------------------------
// the table
// -------------------------------------------------------------------------------------

/** Every flag of the command. */
export const flagSpecs: { readonly [K in FlagName]-?: FlagSpec<NonNullable<Flags[K]>> } = {
  model: { placeholder: 'NAME|FILE|ORG/NAME', help: 'a model preset (meshplan presets models), a Hugging Face config.json, or a Hub id read from the local Hugging Face cache (HF_HOME)', parse: text('a preset name, a file or a Hub id') },
  cluster: { placeholder: 'NAME|FILE', help: 'a system preset with --nodes (meshplan presets systems), or a cluster file (JSON or YAML)', parse: text('a preset name or a file') },
  nodes: { placeholder: 'N', help: 'nodes of the system preset (default 1)', parse: positiveInteger() },
  tp: { placeholder: 'N', help: 'tensor-parallel degree (default 1)', parse: positiveInteger() },
  pp: { placeholder: 'N', help: 'pipeline-parallel degree (default 1)', parse: positiveInteger() },
  dp: { placeholder: 'N', help: 'data-parallel degree (default 1)', parse: positiveInteger() },
  cp: { placeholder: 'N', help: 'context-parallel degree (default 1)', parse: positiveInteger() },
  ep: { placeholder: 'N', help: 'expert-parallel degree of MoE layers (default 1)', parse: positiveInteger() },
  etp: { placeholder: 'N', help: 'tensor-parallel degree inside each expert (default: tp when ep is 1, else 1)', parse: positiveInteger() },
  vp: { placeholder: 'N', help: 'virtual pipeline stages per pipeline rank (default 1)', parse: positiveInteger() },
  sp: { help: 'Megatron sequence parallelism with tp', parse: on },
  firstStageLayers: { placeholder: 'N', help: 'uneven pipeline: decoder layers on the first stage (Megatron-LM --decoder-first-pipeline-num-layers)', parse: positiveInteger() },
  lastStageLayers: { placeholder: 'N', help: 'uneven pipeline: decoder layers on the last stage (--decoder-last-pipeline-num-layers)', parse: positiveInteger() },
  embeddingInPipelineSplit: { help: 'uneven pipeline: the embedding counts as a layer of the first stage (--account-for-embedding-in-pipeline-split)', parse: on },
  lossInPipelineSplit: { help: 'uneven pipeline: the LM head and loss count as a layer of the last stage (--account-for-loss-in-pipeline-split)', parse: on },
  gpus: { placeholder: 'N', help: 'GPUs the strategy must use (default: all of the cluster)', parse: positiveInteger() },
  order: { placeholder: 'ORDER', help: 'rank order, fastest-varying first (default tp-cp-ep-dp-pp); plan --train: search only this order (default: every order with TP innermost that places the groups differently)', parse: text('an order like tp-cp-ep-dp-pp') },
  precision: { placeholder: 'F', help: `weights, activations and KV cache in F (${storageDtypes.join(', ')})`, parse: oneOf(storageDtypes) },
  weights: { placeholder: 'F', help: 'the weights\' format', parse: oneOf(storageDtypes) },
  activations: { placeholder: 'F', help: 'the activations\' format', parse: oneOf(storageDtypes) },
  kvCache: { placeholder: 'F', help: 'the KV cache\'s format', parse: oneOf(storageDtypes) },
  mode: { placeholder: 'M', help: `${inferenceModes.join(', ')} (default static)`, parse: oneOf(inferenceModes) },
  inputTokens: { placeholder: 'N', help: 'prompt tokens per request (default 1024)', parse: tokens },
  outputTokens: { placeholder: 'N', help: 'output tokens per request (default 256)', parse: tokens },
  batch: { placeholder: 'N', help: 'sequences per data-parallel rank (static mode)', parse: positiveInteger() },
  maxBatch: { placeholder: 'N', help: 'the engine\'s limit on sequences in flight per data-parallel rank (default 1024)', parse: positiveInteger() },
  speculative: {
    placeholder: 'SPEC',
    help: 'speculative decoding METHOD:DRAFT:ACCEPT: an MTP module, an EAGLE head or n-gram lookup (mtp, eagle, ngram), the tokens it drafts per step, the mean tokens each step produces (e.g. mtp:3:2.4)',
    parse: speculativeSpec,
  },
  hotExpertShare: {
    placeholder: 'F',
    help: 'MoE: the share of a layer\'s token-expert assignments its most-loaded expert receives, the others sharing the rest evenly (default: uniform routing, 1/experts; e.g. 0.05); the busiest expert-parallel rank carries it, relieved by redundant expert slots as DeepSeek\'s EPLB places them',
    parse: numberWhere('a share in (0, 1] of a layer\'s token-expert assignments (uniform routing gives the hottest expert 1/experts)', (n) => n > 0 && n <= 1),
  },
  maxTtft: { placeholder: 'TIME', help: 'objective: time to first token at most TIME (e.g. 2s, 500ms)', parse: duration },
  maxTpot: { placeholder: 'TIME', help: 'objective: time per output token at most TIME (e.g. 40ms)', parse: duration },
  minTokensPerUser: { placeholder: 'N', help: 'objective: output tokens/s one request sees (1/TPOT) at least N', parse: numberWhere('tokens/s above 0', (n) => n > 0) },
  memoryHeadroom: { placeholder: 'F', help: 'objective: leave this fraction of each GPU\'s memory free (e.g. 0.1)', parse: numberWhere('a fraction in [0, 1)', (n) => n >= 0 && n < 1) },
  maxGpus: { placeholder: 'N', help: 'use at most N GPUs: every divisor of N is a deployment size', parse: positiveInteger() },
  top: { placeholder: 'N', help: 'rows to list (default 5; training 10)', parse: positiveInteger(1000) },
  train: { help: 'training instead of serving', parse: on },
  globalBatch: { placeholder: 'N', help: 'training: sequences per optimizer step (required)', parse: positiveInteger() },
  microBatch: { placeholder: 'N', help: 'training: sequences per micro-batch (default 1; plan: every divisor)', parse: positiveInteger() },
  seqLen: { placeholder: 'N', help: 'training: tokens per sequence (default 4096)', parse: positiveInteger() },
  recompute: { placeholder: 'R', help: `training: activation recomputation, ${recomputeModes.join(', ')} (default none; plan: all)`, parse: oneOf(recomputeModes) },
  zero: { placeholder: 'N', help: 'training: ZeRO stage 0-3 (default 0; plan: all)', parse: zero },
  tpCommOverlap: { help: 'training: overlap the tensor-parallel collectives with their GEMMs (Megatron-LM --tp-comm-overlap; needs --sp); plan: on only', parse: on },
  offload: {
    placeholder: 'LIST',
    help: `training: keep ${offloadKinds.join(', ')} (comma-separated) in host memory, or none; needs the cluster's host memory. Plan: try only these where a candidate does not fit (default all)`,
    parse: offloadList,
  },
  gradReduce: { placeholder: 'F', help: `training: gradients accumulated and reduced in ${gradientReduces.join(' or ')} (default fp32, as Megatron-LM and torchtitan)`, parse: oneOf(gradientReduces) },
  schedule: { placeholder: 'S', help: `training: pipeline schedule, ${schedules.join(', ')} (default 1f1b, interleaved with --vp; plan: all that apply)`, parse: oneOf(schedules) },
  workers: { placeholder: 'N', help: 'training search threads (default: the cores, when the space is large)', parse: positiveInteger(1024) },
  checkpointBandwidth: { placeholder: 'RATE', help: 'training goodput: the rate a checkpoint is written at, all GPUs together (e.g. 100GB/s); with --restart', parse: byteRate },
  restart: { placeholder: 'TIME', help: 'training goodput: time from a failure to training again: detect, reschedule, load (e.g. 10min); with --checkpoint-bandwidth', parse: duration },
  failureRate: { placeholder: 'F', help: 'training goodput: failures per GPU-hour (default 1.97e-5, Llama 3 405B\'s pre-training)', parse: numberWhere('failures per GPU-hour above 0 and below 1', (n) => n > 0 && n < 1) },
  checkpointInterval: { placeholder: 'TIME', help: 'training goodput: time between checkpoints (default: the interval that loses least, Daly 2006)', parse: duration },
  case: { placeholder: 'ID', help: 'with a case file (meshplan-cases/1) as the file: estimate that training case', parse: text('a case id') },
  format: { placeholder: 'F', help: `${dagFormats.join(', ')} (default mermaid)`, parse: oneOf(dagFormats) },
  phase: { placeholder: 'P', help: `${dagPhases.join(' or ')} (default decode)`, parse: oneOf(dagPhases) },
  json: { help: 'print JSON (its schema is named in the output\'s "schema" field)', parse: on },
  svg: { placeholder: 'FILE', help: 'write the command\'s plots to FILE as one SVG, stacked as panels (all that apply, or those of --plot)', parse: text('a file name') },
  plot: { placeholder: 'LIST', help: `with --svg: the plots to draw, comma-separated, of ${plotNames.join(', ')} (default: every one the command has)`, parse: plotList },
  leaveOneSourceOut: { help: 'validate: predict each source (engine release) with the fitted constants refitted without its cases', parse: on },
  engine: { placeholder: 'NAME', help: `export: the engine to launch on, ${engineNames.join(', ')}; estimate and plan: the serving engine whose batching, host time and kernels to model, vllm, sglang or trtllm (default an idealised engine)`, parse: oneOf(engineNames) },
  engineVersion: { placeholder: 'V', help: "export: the engine release of its table (default: the newest); estimate and plan: the release whose record to model (default: the newest record's)", parse: text('a release, e.g. 0.12.0') },
  redundantExperts: {
    placeholder: 'N',
    help: 'MoE: redundant expert slots per layer, replicas of hot experts (DeepSeek EPLB): ep divides the routed experts + N (e.g. DeepSeek-V3 with 32 over ep 72)',
    parse: positiveInteger(1 << 20),
  },
  price: {
    placeholder: 'P',
    help: 'serving: the price of one GPU-hour (e.g. 2.49), or one per device preset (h100-sxm=2.49,h200=3.1: pools on different GPUs): the cost of an hour of the deployment and of a million tokens it serves',
    parse: priceOf,
  },
  targetRate: {
    placeholder: 'R',
    help: 'plan: the fewest GPUs (a deployment size dividing the cluster, or --max-gpus) that serve R requests/s within the objectives',
    parse: numberWhere('requests per second above 0', (n) => n > 0 && n < 1e12),
  },
  disaggregated: { help: 'plan: also search disaggregated deployments (a prefill pool and a decode pool) beside the co-located ones', parse: on },
  calibration: { placeholder: 'FILE', help: 'a calibration (meshplan-calibration/1, written by meshplan calibrate): the models with its parameters instead of the defaults', parse: text('a file name') },
  out: { placeholder: 'FILE', help: 'calibrate: where to write the calibration (meshplan-calibration/1); only written when it beats the defaults cross-validated', parse: text('a file name') },
}

export const flagNames = Object.keys(flagSpecs) as ReadonlyArray<FlagName>

/** `maxTtft` -> `max-ttft`: the name a user types after `--`. */
export const cliName = (name: FlagName): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The flags a user gave, parsed. */
export interface ParsedFlags {
  readonly flags: Flags
  readonly given: ReadonlySet<FlagName>
}

/** Parses the raw values of the flags given (a switch's value is `true`), every problem at once, each naming its flag. */
export const parseFlags = (raw: ReadonlyMap<FlagName, string | boolean>): E.Either<ReadonlyArray<string>, ParsedFlags> => {
  const errors: string[] = []
  const flags: Record<string, unknown> = {}
  for (const [name, value] of raw) {
    const spec = flagSpecs[name] as FlagSpec<unknown>
    const parsed = typeof value === 'boolean' ? E.right(value) : spec.parse(value)
    if (E.isLeft(parsed)) errors.push(`--${cliName(name)}: ${parsed.left}`)
    else flags[name] = parsed.right
  }
  return errors.length > 0 ? E.left(errors) : E.right({ flags: flags as Flags, given: new Set(raw.keys()) })
}

/** `--name` of each flag in `names` that was given. */
export const givenOf = (given: ReadonlySet<FlagName>, names: ReadonlyArray<FlagName>): ReadonlyArray<string> => names.filter((n) => given.has(n)).map((n) => `--${cliName(n)}`)

/** The price of a GPU-hour of `device` under `price`, or why there is none (a list that does not name it). */
export const priceFor = (price: Price, device: Device): E.Either<string, number> => {
  if (typeof price === 'number') return E.right(price)
  const named = Object.entries(price).find(([key]) => devices[key as keyof typeof devices]?.name === device.name)
  return named === undefined ? E.left(`--price: no price for ${device.name} (give its preset name, e.g. ${Object.entries(devices).find(([, d]) => d.name === device.name)?.[0] ?? 'its device'}=P)`) : E.right(named[1])
}
