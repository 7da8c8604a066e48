/**
 * What is fuzzed: every public decoder of the packages (a file, a flag or a config as
 * a user hands it over) and every estimate over random valid deployments, each with the
 * inputs that exercise it and the laws its output must keep. A target's `check` returns
 * a violation in a sentence, or undefined; a throw is always a violation, and so is an
 * input that takes longer than the target's bound (the campaign measures it).
 *
 * The laws: a decoder never throws; each issue it reports has a JSON path under its
 * root and says what was expected; what it accepts is finite and within the physical
 * ranges of @meshplan/units. An estimate of a valid deployment is either a number or a
 * stated reason (never `unphysical`); its figures are finite, times and rates above
 * zero, memory parts sum to the total, 0 < MFU < 1, and a step's parts sum to the step.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { decodeInferenceWorkload, estimateInference, inferenceModes, planInference, type InferenceWorkload } from '@meshplan/inference'
import { defaultPrecision, forwardFlopsPerToken, fromHuggingFace, modelNames, models, parameterCounts, type Architecture } from '@meshplan/model'
import { decodeStrategy, enumerate, type Strategy } from '@meshplan/parallelism'
import { checkDisaggregated, checkPlan, decodePlan, decodeTrainingPlan, isTrainingPlanDocument, predictCases } from '@meshplan/planner'
import { decodeClusterFile, systemNames, unsafeClusterOf, worldSize, type Cluster } from '@meshplan/topology'
import { decodeTrainingWorkload, estimateTraining, offloadKinds, recomputeModes, zeroStages } from '@meshplan/training'
import { defaultCostModels, gradientReduces, type EstimateError } from '@meshplan/cost-models'
import { inRange, parseDocument, parseQuantity, physical, type DecodeIssue, type QuantityKind } from '@meshplan/units'
import { documentLike, extremeNumber, mutated, oddString } from './mutate'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** One thing fuzzed. */
export interface Target {
  readonly name: string
  readonly description: string
  /** Longest an input may take, ms, before it counts as a hang. */
  readonly boundMs: number
  readonly inputs: fc.Arbitrary<unknown>
  /** What the output breaks, or undefined. May throw: the campaign counts a throw as a violation. */
  readonly check: (input: unknown) => string | undefined
}

// -------------------------------------------------------------------------------------
// seeds: the repository's own well-formed documents
// -------------------------------------------------------------------------------------

const root = path.resolve(__dirname, '..', '..', '..')

const read = (file: string): unknown => {
  const text = fs.readFileSync(path.join(root, file), 'utf8')
  const doc = parseDocument(text, file)
  if (E.isLeft(doc)) throw new Error(doc.left.message)
  return doc.right
}

/** Every JSON file of a directory of the repository. */
const fixtures = (dir: string): ReadonlyArray<unknown> =>
  fs
    .readdirSync(path.join(root, dir))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => read(path.join(dir, f)))

interface RawCase {
  readonly id: string
  readonly model?: unknown
  readonly [key: string]: unknown
}

const seeds = (() => {
  const plan = read('apps/cli/examples/reference-plan.yaml')
  const trainingPlan = read('apps/cli/examples/llama-3.1-405b-training.yaml')
  const cases = (read('validation/calibration.json') as { readonly cases: ReadonlyArray<RawCase> }).cases
  const clusters: ReadonlyArray<unknown> = [
    { system: 'dgx-h100', nodes: 16 },
    { system: 'gb200-nvl72', nodes: 18, scaleOut: { bandwidth: '50GB/s' } },
    { name: 'mine', nodes: 4, devicesPerNode: 8, device: { memory: '80GiB', memoryBandwidth: '3.35TB/s', peak: { bf16: '989TFLOPS', fp8: '1979TFLOPS' } }, scaleUp: { bandwidth: '450GB/s', latency: '1us' }, scaleOut: { bandwidth: '400Gb/s' } },
  ]
  return {
    plan,
    trainingPlan,
    cases,
    clusters,
    // the calibration cases' models and the real config.json files the model package keeps (multimodal, windows, quantization)
    models: [...cases.flatMap((c) => (c.model === undefined ? [] : [c.model])), ...fixtures('packages/model/test/fixtures/hf')],
    strategies: [{ tp: 2, dp: 64, ep: 64, etp: 2 }, { tp: 8, pp: 8, virtual_pipeline: 3, sequence_parallel: true }, {}],
    workloads: cases.map((c) => c['workload']),
  }
})()

// -------------------------------------------------------------------------------------
// laws
// -------------------------------------------------------------------------------------

/** A violation when an issue has no path under `root`, or says nothing of what was expected. */
const badIssues = (issues: ReadonlyArray<DecodeIssue>, rootName: string | RegExp): string | undefined => {
  if (issues.length === 0) return 'refused with no issue'
  for (const i of issues) {
    const under = typeof rootName === 'string' ? i.path === rootName || i.path.startsWith(`${rootName}.`) || i.path.startsWith(`${rootName}[`) : rootName.test(i.path)
    if (!under) return `an issue at "${i.path}", not under ${String(rootName)}`
    if (typeof i.expected !== 'string' || i.expected.trim() === '') return `an issue at ${i.path} with no expectation`
  }
  return undefined
}

/** Every number of `value` is finite and not negative; the named ones above zero. */
const finite = (value: unknown, where = ''): string | undefined => {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? undefined : `${where || 'a figure'} is ${value}`
  if (typeof value !== 'object' || value === null) return undefined
  for (const [k, v] of Object.entries(value)) {
    const bad = finite(v, where === '' ? k : `${where}.${k}`)
    if (bad !== undefined) return bad
  }
  return undefined
}

/** The reasons an estimate of a valid deployment may give instead of a number. */
const acceptable = (e: EstimateError): string | undefined =>
  e.code === 'unphysical' || typeof e.message !== 'string' || e.message === '' || /NaN|Infinity/.test(e.message) ? `an estimate failed as ${e.code}: ${e.message}` : undefined

const physicalCluster = (c: Cluster): string | undefined => {
  const d = c.device
  if (!inRange(physical.deviceMemory)(d.memory)) return `device memory ${d.memory} out of range`
  if (!inRange(physical.bandwidth)(d.memoryBandwidth)) return `memory bandwidth ${d.memoryBandwidth} out of range`
  for (const [dtype, peak] of Object.entries(d.peak)) if (peak !== undefined && !inRange(physical.peakRate)(peak)) return `peak ${dtype} ${peak} out of range`
  for (const t of c.tiers) {
    if (!inRange(physical.bandwidth)(t.link.bandwidth)) return `tier ${t.name} bandwidth ${t.link.bandwidth} out of range`
    if (!inRange(physical.latency)(t.link.latency)) return `tier ${t.name} latency ${t.link.latency} out of range`
  }
  return worldSize(c) <= physical.devices.max ? undefined : `a cluster of ${worldSize(c)} devices`
}

const inferenceLaws = (model: Architecture, cluster: Cluster, s: Strategy, workload: InferenceWorkload): string | undefined => {
  const r = estimateInference(defaultCostModels)({ model, cluster, strategy: s, precision: defaultPrecision, workload })
  if (E.isLeft(r)) return acceptable(r.left)
  const e = r.right
  const bad = finite({ ttft: e.ttft, tpot: e.tpot, latency: e.requestLatency, rates: e.tokensPerSecond, memory: e.memory, breakdown: e.breakdown })
  if (bad !== undefined) return bad
  if (!(e.ttft > 0 && e.tpot > 0 && e.tokensPerSecond.total > 0)) return `a time or rate is not above zero (TTFT ${e.ttft}, TPOT ${e.tpot}, ${e.tokensPerSecond.total} tokens/s)`
  const m = e.memory
  const parts = m.weights + m.kvCache + m.workspace + m.reserve
  if (Math.abs(parts - m.perGpu) > 1e-6 * m.perGpu) return `memory parts ${parts} do not sum to ${m.perGpu}`
  return undefined
}

// -------------------------------------------------------------------------------------
// generated deployments
// -------------------------------------------------------------------------------------

/** A Llama-family config of random shape inside the model limits. */
const llamaConfig = fc
  .record({
    heads: fc.integer({ min: 1, max: 64 }),
    kvDivisor: fc.constantFrom(1, 2, 4, 8),
    headDim: fc.constantFrom(32, 64, 128, 256),
    layers: fc.integer({ min: 1, max: 160 }),
    ffn: fc.integer({ min: 64, max: 65_536 }),
    vocab: fc.integer({ min: 8, max: 262_144 }),
  })
  .map(({ heads, kvDivisor, headDim, layers, ffn, vocab }) => ({
    model_type: 'llama',
    hidden_size: heads * headDim,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: heads % kvDivisor === 0 ? heads / kvDivisor : heads,
    intermediate_size: ffn,
    vocab_size: vocab,
    max_position_embeddings: 131_072,
  }))

const anyModel: fc.Arbitrary<Architecture> = fc.oneof(
  fc.constantFrom(...modelNames).map((n) => models[n]),
  llamaConfig.map((c) => {
    const r = fromHuggingFace(c)
    if (E.isLeft(r)) throw new Error(`a generated config did not import: ${JSON.stringify(r.left)}`)
    return r.right
  }),
)

const anyCluster: fc.Arbitrary<Cluster> = fc.record({ system: fc.constantFrom(...systemNames), nodes: fc.constantFrom(1, 2, 4, 8, 16, 64) }).chain(({ system, nodes }) => {
  try {
    return fc.constant(unsafeClusterOf(system, nodes))
  } catch {
    return fc.constant(unsafeClusterOf('dgx-h100', 1))
  }
})

/** A model, a cluster and one of its valid strategies (undefined when the space is empty). */
const deployment = fc.tuple(anyModel, anyCluster, fc.nat(), fc.integer({ min: 1, max: 65_536 })).map(([model, cluster, pick, sequence]) => {
  const some: Strategy[] = []
  for (const s of enumerate({ model, cluster, sequenceLength: sequence })({})) {
    some.push(s)
    if (some.length >= 500) break
  }
  return { model, cluster, strategy: some[pick % Math.max(1, some.length)], sequence }
})

// -------------------------------------------------------------------------------------
// the targets
// -------------------------------------------------------------------------------------

const quantityKinds: ReadonlyArray<QuantityKind> = ['bytes', 'seconds', 'flops', 'flopRate', 'byteRate']

const nastyText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.nat({ max: 20_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
  fc.nat({ max: 20_000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`),
  fc.constantFrom('a: !!js/function "f"\n', 'x: !!python/object:os.system ls\n', 'a: &a [1]\nb: *a\n', 'a: 1\n---\nb: 2\n', 'a: 1\na: 2\n', '.nan', '.inf', '__proto__: {x: 1}\n'),
  fc.nat({ max: 30_000 }).map((n) => Array.from({ length: n }, (_, i) => `k${i}: ${i}`).join('\n')),
)

/** A small plan to audit: Llama-2-7B on one node, with a claim of every metric. */
/** Small disaggregated plans with a claim of every metric: a dense model and an MoE model with redundant slots and a hot expert. */
const poolPlans = [
  {
    format: 'meshplan-plan/1',
    model: 'llama-3.1-8b',
    cluster: { system: 'dgx-h100', nodes: 1 },
    pools: { prefill: { instances: 4, parallelism: { tp: 1 } }, decode: { instances: 1, parallelism: { dp: 4 } } },
    workload: { mode: 'max_throughput', input_tokens: 1024, output_tokens: 256 },
    claims: [
      { metric: 'gpus_used', equals: 8 },
      { metric: 'memory_per_gpu', at_most: '80GB' },
      { metric: 'flops_per_gpu', at_least: '1TFLOPS' },
      { metric: 'output_tokens_per_s', at_least: 1000 },
      { metric: 'ttft', at_most: '1s' },
      { metric: 'tpot', at_most: '50ms' },
      { metric: 'request_latency', at_most: '10s' },
      { metric: 'load_imbalance', equals: 1 },
    ],
  },
  {
    format: 'meshplan-plan/1',
    model: 'mixtral-8x7b',
    cluster: { system: 'dgx-h100', nodes: 1 },
    pools: { prefill: { instances: 2, parallelism: { tp: 2, ep: 2, etp: 1 } }, decode: { instances: 1, parallelism: { dp: 4, ep: 4, redundant_experts: 4 } } },
    workload: { mode: 'max_throughput', input_tokens: 2048, output_tokens: 512, hot_expert_share: 0.3 },
    claims: [
      { metric: 'experts_per_gpu', at_most: 100 },
      { metric: 'weight_memory_per_gpu', at_most: '80GB' },
      { metric: 'output_tokens_per_s_per_gpu', at_least: 100 },
      { metric: 'tpot', at_most: '50ms' },
      { metric: 'load_imbalance', at_most: 2 },
    ],
  },
]

const smallPlan = {
  format: 'meshplan-plan/1',
  model: 'llama-2-7b',
  cluster: { system: 'dgx-h100', nodes: 1 },
  parallelism: { tp: 2, dp: 4 },
  workload: { mode: 'static', input_tokens: 512, output_tokens: 128, batch: 8 },
  claims: [
    { metric: 'gpus_used', equals: 8 },
    { metric: 'experts_per_gpu', equals: 0 },
    { metric: 'weight_memory_per_gpu', about: '7GB' },
    { metric: 'memory_per_gpu', at_most: '80GB' },
    { metric: 'flops_per_gpu', at_least: '1TFLOPS' },
    { metric: 'output_tokens_per_s', at_least: 1000 },
    { metric: 'output_tokens_per_s_per_gpu', at_least: 100 },
    { metric: 'ttft', at_most: '1s' },
    { metric: 'tpot', at_most: '50ms' },
    { metric: 'request_latency', at_most: '10s' },
    { metric: 'load_imbalance', equals: 1 },
  ],
}

export const targets: ReadonlyArray<Target> = [
  {
    name: 'document',
    description: 'parseDocument: JSON and YAML text (random text, deep nesting, tags, aliases, duplicate keys, many keys, mutated documents)',
    boundMs: 500,
    inputs: fc.tuple(fc.oneof(nastyText, documentLike([seeds.plan, ...seeds.clusters]).map((d) => JSON.stringify(d) ?? 'null')), fc.constantFrom('x.json', 'x.yaml')),
    check: (input) => {
      const [text, name] = input as [string, string]
      const r = parseDocument(text, name)
      return E.isLeft(r) && !r.left.message.startsWith(`${name}: `) ? `an error that does not name the file: ${r.left.message}` : undefined
    },
  },
  {
    name: 'quantity',
    description: 'parseQuantity of every kind: strings with any number and unit',
    boundMs: 100,
    inputs: fc.tuple(fc.constantFrom(...quantityKinds), fc.oneof(oddString, fc.tuple(extremeNumber, fc.constantFrom('', 'GB', 'GiB', 'TB/s', 'Gb/s', 'TFLOPS', 'ms', 'us', 'PB', 'EFLOP')).map(([n, u]) => `${n}${u}`))),
    check: (input) => {
      const [kind, text] = input as [QuantityKind, string]
      const r = parseQuantity(kind)(text)
      return E.isRight(r) && !(Number.isFinite(r.right) && r.right >= 0) ? `"${text}" parsed to ${r.right}` : undefined
    },
  },
  {
    name: 'cluster',
    description: 'decodeClusterFile: arbitrary JSON and mutated cluster files',
    boundMs: 100,
    inputs: documentLike(seeds.clusters),
    check: (input) => {
      const r = decodeClusterFile(input)
      return E.isLeft(r) ? badIssues(r.left, 'cluster') : physicalCluster(r.right)
    },
  },
  {
    name: 'model',
    description: 'fromHuggingFace: arbitrary JSON and mutated config.json objects of the calibration cases',
    boundMs: 100,
    inputs: documentLike(seeds.models),
    check: (input) => {
      const r = fromHuggingFace(input)
      if (E.isLeft(r)) return badIssues(r.left, 'config')
      const total = parameterCounts(r.right).total
      const perToken = forwardFlopsPerToken(1024)(r.right)
      return Number.isFinite(total) && total > 0 && Number.isFinite(perToken) && perToken > 0 ? undefined : `${total} parameters, ${perToken} FLOPs per token`
    },
  },
  {
    name: 'strategy',
    description: 'decodeStrategy: arbitrary JSON and mutated parallelism objects',
    boundMs: 100,
    inputs: documentLike(seeds.strategies),
    check: (input) => {
      const r = decodeStrategy(input)
      if (E.isLeft(r)) return badIssues(r.left, 'parallelism')
      return Object.values(r.right).every((v) => typeof v === 'boolean' || (Number.isSafeInteger(v) && v >= 1 && v <= physical.devices.max)) ? undefined : `accepted ${JSON.stringify(r.right)}`
    },
  },
  {
    name: 'workload',
    description: 'decodeInferenceWorkload and decodeTrainingWorkload: arbitrary JSON and mutated workloads of the calibration cases',
    boundMs: 100,
    inputs: documentLike(seeds.workloads),
    check: (input) => {
      const i = decodeInferenceWorkload(input)
      const t = decodeTrainingWorkload(input)
      if (E.isLeft(i)) {
        const bad = badIssues(i.left, 'workload')
        if (bad !== undefined) return bad
      } else if (finite(i.right) !== undefined) return finite(i.right)
      if (E.isLeft(t)) return badIssues(t.left, 'workload')
      return finite(t.right)
    },
  },
  {
    name: 'plan',
    description: 'decodePlan (decodeTrainingPlan for a training workload), then the estimate of what it accepts: the reference plan and the Llama 3 training plan mutated',
    boundMs: 2000,
    inputs: documentLike([seeds.plan, seeds.trainingPlan]),
    check: (input) => {
      if (isTrainingPlanDocument(input)) {
        const t = decodeTrainingPlan(input)
        if (E.isLeft(t)) return badIssues(t.left, 'plan')
        const e = estimateTraining(defaultCostModels)({ model: t.right.model, cluster: t.right.cluster, strategy: t.right.strategy, precision: t.right.precision, workload: t.right.workload })
        if (E.isLeft(e)) return acceptable(e.left)
        return Number.isFinite(e.right.iterationSeconds) && e.right.iterationSeconds > 0 && e.right.mfu > 0 && e.right.mfu < 1 ? undefined : `iteration ${e.right.iterationSeconds} s, MFU ${e.right.mfu}`
      }
      const r = decodePlan(input)
      if (E.isLeft(r)) return badIssues(r.left, 'plan')
      const p = r.right
      return inferenceLaws(p.model, p.cluster, p.strategy, p.workload)
    },
  },
  {
    name: 'cases',
    description: 'predictCases: one mutated case of the calibration file at a time (decoded, then predicted)',
    boundMs: 2000,
    inputs: fc.constantFrom(...seeds.cases).chain(mutated).map((c) => ({ format: 'meshplan-cases/1', cases: [c] })),
    check: (input) => {
      const r = predictCases(defaultCostModels)(input)
      if (E.isLeft(r)) return badIssues(r.left, /^(file|cases\[0\])(\.|\[|$)/)
      for (const c of r.right.cases) {
        if (c.predicted !== null && !(Number.isFinite(c.predicted) && c.predicted > 0)) return `${c.id} predicted ${c.predicted}`
        if (c.predicted !== null && !Number.isFinite(c.error ?? Number.NaN)) return `${c.id} error ${c.error}`
        if (typeof c.note !== 'string') return `${c.id} has no note`
      }
      return undefined
    },
  },
  {
    name: 'search',
    description: 'planInference over random models on one or two nodes of every system preset, any mode, with and without objectives: every ranked estimate and every Pareto point finite, the ranking in order',
    boundMs: 10_000,
    inputs: fc.tuple(anyModel, fc.constantFrom(...systemNames), fc.constantFrom(1, 2), fc.constantFrom(...inferenceModes), fc.integer({ min: 1, max: 16_384 }), fc.integer({ min: 1, max: 4096 }), fc.option(fc.double({ min: 1e-4, max: 1, noNaN: true }), { nil: undefined })),
    check: (input) => {
      const [model, system, nodes, mode, prompt, output, maxTpot] = input as [Architecture, (typeof systemNames)[number], number, InferenceWorkload['mode'], number, number, number | undefined]
      let cluster: Cluster
      try {
        cluster = unsafeClusterOf(system, nodes)
      } catch {
        return undefined
      }
      const r = planInference(defaultCostModels)({ model, cluster, precision: defaultPrecision, workload: { mode, inputTokens: prompt, outputTokens: output }, ...(maxTpot === undefined ? {} : { slo: { maxTpot } }) })
      if (E.isLeft(r)) return acceptable(r.left)
      const p = r.right
      const bad = finite({ top: p.top.map((e) => ({ ttft: e.ttft, tpot: e.tpot, rates: e.tokensPerSecond, memory: e.memory })), pareto: p.pareto.map((x) => ({ a: x.tokensPerSecondPerGpu, b: x.tokensPerSecondPerUser, c: x.ttft, d: x.tpot })) })
      if (bad !== undefined) return bad
      for (let i = 1; i < p.top.length; i++) {
        const [a, b] = [p.top[i - 1], p.top[i]]
        if (a === undefined || b === undefined) continue
        const inOrder = p.rankedBy === 'request_latency' ? a.requestLatency <= b.requestLatency : a.tokensPerSecond.perGpu >= b.tokensPerSecond.perGpu
        if (!inOrder) return `row ${i + 1} ranks above row ${i}`
      }
      if (maxTpot !== undefined && p.top.some((e) => e.tpot > maxTpot)) return `a ranked strategy breaks the TPOT objective of ${maxTpot} s`
      return undefined
    },
  },
  {
    name: 'audit',
    description: 'checkPlan of a small plan (Llama-2-7B on one node, a claim of every metric) mutated: every verdict is a finite number or none with a reason',
    boundMs: 10_000,
    inputs: fc.oneof(fc.constant(smallPlan), mutated(smallPlan)),
    check: (input) => {
      const r = decodePlan(input)
      if (E.isLeft(r)) return badIssues(r.left, 'plan')
      const audit = checkPlan(defaultCostModels)(r.right)
      for (const v of audit.claims) {
        if (v.computed !== null && !Number.isFinite(v.computed)) return `${v.claim.metric} computed ${v.computed}`
        if (v.computed === null && v.detail.trim() === '' && audit.problem === null) return `${v.claim.metric} has no value and no reason`
        if (v.deviation !== null && !Number.isFinite(v.deviation)) return `${v.claim.metric} deviation ${v.deviation}`
      }
      if (audit.passes && audit.violations.length > 0) return 'an audit passes with laws broken'
      return undefined
    },
  },
  {
    name: 'pools-audit',
    description: 'checkDisaggregated of small disaggregated plans (a dense model; an MoE model with redundant slots and a hot expert) mutated: every verdict a finite number or none with a reason, every figure of the estimate finite and positive',
    boundMs: 20_000,
    inputs: fc.oneof(fc.constantFrom(...poolPlans), fc.constantFrom(...poolPlans).chain(mutated)),
    check: (input) => {
      const r = decodePlan(input)
      if (E.isLeft(r)) return badIssues(r.left, 'plan')
      if (r.right.pools === undefined) return undefined
      const audit = checkDisaggregated(defaultCostModels)(r.right)
      for (const v of audit.claims) {
        if (v.computed !== null && !Number.isFinite(v.computed)) return `${v.claim.metric} computed ${v.computed}`
        if (v.computed === null && v.detail.trim() === '' && audit.problem === null) return `${v.claim.metric} has no value and no reason`
        if (v.deviation !== null && !Number.isFinite(v.deviation)) return `${v.claim.metric} deviation ${v.deviation}`
      }
      const e = audit.estimate
      if (e !== null) {
        const figures = { ttft: e.ttft, tpot: e.tpot, requestsPerSecond: e.requestsPerSecond, perGpu: e.tokensPerSecond.perGpu, prefillMemory: e.prefill.memory.perGpu, decodeMemory: e.decode.memory.perGpu, transfer: e.transfer.seconds }
        for (const [k, x] of Object.entries(figures)) if (!(Number.isFinite(x) && x > 0)) return `${k} ${x}`
      }
      if (audit.passes && (audit.violations.length > 0 || audit.problem !== null)) return 'an audit passes with laws broken'
      return undefined
    },
  },
  {
    name: 'inference-estimate',
    description: 'estimateInference over random valid deployments: presets and generated Llama shapes, every system preset, any valid strategy, any mode and lengths, with or without speculative decoding',
    boundMs: 5000,
    inputs: fc.tuple(
      deployment,
      fc.constantFrom(...inferenceModes),
      fc.integer({ min: 1, max: 8192 }),
      fc.option(fc.integer({ min: 1, max: 4096 }), { nil: undefined }),
      fc.option(
        fc.tuple(fc.constantFrom('mtp' as const, 'eagle' as const, 'ngram' as const), fc.integer({ min: 1, max: 8 }), fc.double({ min: 0, max: 1, noNaN: true })),
        { nil: undefined },
      ),
      fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    ),
    check: (input) => {
      const [d, mode, output, batch, spec, hot] = input as [
        { model: Architecture; cluster: Cluster; strategy: Strategy | undefined; sequence: number },
        InferenceWorkload['mode'],
        number,
        number | undefined,
        readonly ['mtp' | 'eagle' | 'ngram', number, number] | undefined,
        number | undefined,
      ]
      if (d.strategy === undefined) return undefined
      // a hot expert's share from uniform (1/experts) to everything, for an MoE model
      const experts = d.model.moe?.experts
      const hotExpertShare = hot === undefined || experts === undefined ? undefined : 1 / experts + hot * (1 - 1 / experts)
      // an acceptance length anywhere from 1 to draftTokens + 1
      const speculative = spec === undefined ? undefined : { method: spec[0], draftTokens: spec[1], acceptanceLength: 1 + spec[2] * spec[1] }
      const workload: InferenceWorkload = {
        mode,
        inputTokens: d.sequence,
        outputTokens: output,
        ...(mode === 'static' && batch !== undefined ? { batch } : {}),
        ...(speculative === undefined ? {} : { speculative }),
        ...(hotExpertShare === undefined ? {} : { hotExpertShare }),
      }
      return inferenceLaws(d.model, d.cluster, d.strategy, workload)
    },
  },
  {
    name: 'training-estimate',
    description: 'estimateTraining over random valid deployments, steps, offloads and gradient formats: 0 < MFU < 1, the parts of a step sum to it, each stage\'s memory parts to its total',
    boundMs: 5000,
    inputs: fc.tuple(
      deployment,
      fc.integer({ min: 1, max: 64 }),
      fc.constantFrom(...recomputeModes),
      fc.constantFrom(...zeroStages),
      fc.subarray([...offloadKinds]),
      fc.constantFrom(...gradientReduces),
    ),
    check: (input) => {
      const [d, micro, recompute, zeroStage, offload, gradientReduce] = input as [
        { model: Architecture; cluster: Cluster; strategy: Strategy | undefined; sequence: number },
        number,
        (typeof recomputeModes)[number],
        (typeof zeroStages)[number],
        ReadonlyArray<(typeof offloadKinds)[number]>,
        (typeof gradientReduces)[number],
      ]
      const s = d.strategy
      if (s === undefined) return undefined
      const sequenceLength = d.sequence - (d.sequence % s.cp) || s.cp
      const globalBatch = micro * s.dp * s.pp
      const r = estimateTraining(defaultCostModels)({ model: d.model, cluster: d.cluster, strategy: s, precision: defaultPrecision, workload: { globalBatch, microBatch: micro, sequenceLength, recompute, zeroStage, gradientReduce, ...(offload.length === 0 ? {} : { offload }) } })
      if (E.isLeft(r)) return acceptable(r.left)
      const e = r.right
      const bad = finite({ iteration: e.iterationSeconds, mfu: e.mfu, breakdown: e.breakdown, stages: e.stages.map((st) => ({ microBatch: st.microBatch, memory: { ...st.memory, fits: 0 } })) })
      if (bad !== undefined) return bad
      if (!(e.mfu > 0 && e.mfu < 1)) return `MFU ${e.mfu}`
      const b = e.breakdown
      const sum = b.compute + b.contention + b.bubble + b.optimizer + b.exposed.tp + b.exposed.cp + b.exposed.ep + b.exposed.pp + b.exposed.dp + b.offload
      if (Math.abs(sum - e.iterationSeconds) > 1e-9 * e.iterationSeconds) return `the parts sum to ${sum}, the step is ${e.iterationSeconds}`
      for (const st of e.stages) {
        const m = st.memory
        const parts = m.weights + m.gradients + m.optimizer + m.activations + m.reserve
        if (Math.abs(parts - m.total) > 1e-6 * m.total) return `stage ${st.ranks[0]}: memory parts ${parts} do not sum to ${m.total}`
      }
      return undefined
    },
  },
]
