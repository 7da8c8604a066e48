// The JSON Schemas of the plan file (schemas/plan.schema.json, meshplan-plan/1) and of the
// case file (schemas/cases.schema.json, meshplan-cases/1), as a user's validator reads them
// through the packages' exports, with the workload and cluster schemas they refer to by $id:
// they accept the repository's plan and every one of its measured cases, and they agree
// with the decoders (decodePlan, predictCases) on valid and invalid documents, unknown
// fields included. What they cannot check (a model's consistency, unique ids) is listed as such.
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020'
import { caseAlgorithms, caseProtocols, collectiveOps, moeExchangeOps } from '@meshplan/collectives'
import { defaultCostModels } from '@meshplan/cost-models'
import { deepSeekFields, families, familyAliases, modelNames, storageDtypes } from '@meshplan/model'
import { dtypes, parseDocument } from '@meshplan/units'
import { claimMetrics, decodePlan, decodeTrainingPlan, predictCases } from '../src'

const repository = path.join(__dirname, '..', '..', '..')
const schemaFiles = [
  '@meshplan/inference/schemas/inference-workload.schema.json',
  '@meshplan/training/schemas/training-workload.schema.json',
  '@meshplan/topology/schemas/cluster.schema.json',
  '@meshplan/planner/schemas/plan.schema.json',
  '@meshplan/planner/schemas/cases.schema.json',
].map((specifier) => require.resolve(specifier))

type Obj = Record<string, unknown>
const obj = (u: unknown): Obj => u as Obj
const readJson = (file: string): Obj => JSON.parse(fs.readFileSync(file, 'utf8')) as Obj

// compiled once, in strict mode (unknown keywords are errors)
const ajv = new Ajv2020({ strictRequired: false, allowUnionTypes: true })
for (const file of schemaFiles) ajv.addSchema(readJson(file))
/** Whether a value validates against the schema of `id` (a plain boolean: no narrowing). */
const validator = (id: string): ((value: unknown) => boolean) => {
  const v: ValidateFunction | undefined = ajv.getSchema(id)
  if (v === undefined) throw new Error(`no schema ${id}`)
  return (value) => v(value)
}
const planId = 'https://meshplan.dev/schemas/meshplan-plan/1'
const casesId = 'https://meshplan.dev/schemas/meshplan-cases/1'
const validatePlan = validator(planId)
const validateCases = validator(casesId)
const validateCase = validator(`${casesId}#/$defs/case`)

const planSchema = readJson(path.join(__dirname, '..', 'schemas', 'plan.schema.json')) as {
  properties: { model: { anyOf: [{ enum: ReadonlyArray<string> }, unknown] } }
  $defs: {
    dtype: { enum: ReadonlyArray<string> }
    textConfig: { anyOf: [{ properties: { model_type: { enum: ReadonlyArray<string> } } }, { required: ReadonlyArray<string> }] }
    claim: {
      properties: { metric: { enum: ReadonlyArray<string> } }
      allOf: ReadonlyArray<{ if: { properties: { metric: { enum: ReadonlyArray<string> } } }; then: { properties: { equals: { $ref?: string; type?: string } } } }>
    }
  }
}
const casesSchema = readJson(path.join(__dirname, '..', 'schemas', 'cases.schema.json')) as {
  $defs: {
    collectiveWorkload: { properties: { op: { enum: ReadonlyArray<string> }; algorithm: { enum: ReadonlyArray<string> }; protocol: { enum: ReadonlyArray<string> } } }
    moeExchangeWorkload: { properties: { op: { enum: ReadonlyArray<string> }; dtype: { enum: ReadonlyArray<string> } } }
  }
}

const referencePlan = ((): Obj => {
  const file = path.join(repository, 'examples', 'reference-plan.yaml')
  const doc = parseDocument(fs.readFileSync(file, 'utf8'), file)
  if (E.isLeft(doc)) throw new Error(doc.left.message)
  return obj(doc.right)
})()
const calibration = readJson(path.join(repository, 'validation', 'calibration.json')) as { format: string; cases: ReadonlyArray<Obj> }

describe('the schemas', () => {
  it('are meshplan-plan/1 and meshplan-cases/1, shipped through the package exports', () => {
    expect(readJson(require.resolve('@meshplan/planner/schemas/plan.schema.json')).$id).toBe(planId)
    expect(readJson(require.resolve('@meshplan/planner/schemas/cases.schema.json')).$id).toBe(casesId)
  })

  it('name what the decoders know: presets, families, formats, claims, collectives', () => {
    expect(planSchema.properties.model.anyOf[0].enum).toEqual(modelNames)
    expect(planSchema.$defs.textConfig.anyOf[0].properties.model_type.enum).toEqual([...families, ...Object.keys(familyAliases)])
    expect(planSchema.$defs.textConfig.anyOf[1].required).toEqual(deepSeekFields)
    expect(planSchema.$defs.dtype.enum).toEqual(storageDtypes)
    expect(planSchema.$defs.claim.properties.metric.enum).toEqual(Object.keys(claimMetrics))
    // each metric's values take the codec of its kind, once
    const valueOf = { count: 'integer', number: '#/$defs/claimNumber', bytes: '#/$defs/claimBytes', flopRate: '#/$defs/claimFlopRate', seconds: '#/$defs/claimSeconds' }
    const byMetric = planSchema.$defs.claim.allOf.flatMap((rule) => rule.if.properties.metric.enum.map((m) => [m, rule.then.properties.equals.$ref ?? rule.then.properties.equals.type]))
    expect(Object.fromEntries(byMetric)).toEqual(Object.fromEntries(Object.entries(claimMetrics).map(([m, kind]) => [m, valueOf[kind]])))
    expect(byMetric.length).toBe(Object.keys(claimMetrics).length)
    expect(casesSchema.$defs.collectiveWorkload.properties.op.enum).toEqual(collectiveOps)
    expect(casesSchema.$defs.collectiveWorkload.properties.algorithm.enum).toEqual(caseAlgorithms)
    expect(casesSchema.$defs.collectiveWorkload.properties.protocol.enum).toEqual(caseProtocols)
    expect(casesSchema.$defs.moeExchangeWorkload.properties.op.enum).toEqual(moeExchangeOps)
    expect(casesSchema.$defs.moeExchangeWorkload.properties.dtype.enum).toEqual(dtypes)
  })
})

// -------------------------------------------------------------------------------------
// plan files
// -------------------------------------------------------------------------------------

const llamaConfig = {
  model_type: 'llama',
  _name_or_path: 'meta-llama/Llama-2-7b-hf',
  hidden_size: 4096,
  intermediate_size: 11008,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 32,
  vocab_size: 32000,
  max_position_embeddings: 4096,
  rope_theta: 10000,
  architectures: ['LlamaForCausalLM'],
}
const withClaim = (claim: Obj): Obj => ({ ...referencePlan, claims: [claim] })

describe('plan.schema.json', () => {
  it('accepts examples/reference-plan.yaml', () => {
    expect(validatePlan(referencePlan)).toBe(true)
  })

  const { name: _name, source: _source, notes: _notes, precision: _precision, claims: _claims, ...minimal } = referencePlan
  const valid: ReadonlyArray<Obj> = [
    referencePlan,
    minimal,
    { ...minimal, model: llamaConfig, parallelism: { tp: 8, sequence_parallel: true } },
    { ...minimal, model: llamaConfig, parallelism: { pp: 2, embedding_in_pipeline_split: true, loss_in_pipeline_split: true } },
    { ...minimal, model: llamaConfig, parallelism: { pp: 4, first_stage_layers: 7, last_stage_layers: 7 } },
    { ...minimal, model: { ...llamaConfig, model_type: 'mixtral', num_local_experts: 8, num_experts_per_tok: 2 } },
    { ...minimal, cluster: { nodes: 2, devicesPerNode: 8, device: 'h100-sxm', scaleUp: { bandwidth: '450GB/s' }, scaleOut: { bandwidth: '400Gb/s' } } },
    { ...minimal, workload: { kind: 'inference', mode: 'static', input_tokens: 512, output_tokens: 128, batch: 32 } },
    withClaim({ metric: 'memory_per_gpu', at_most: '64GB' }),
    withClaim({ metric: 'ttft', at_most: 0.5, quote: 'TTFT under 500 ms' }),
    withClaim({ metric: 'flops_per_gpu', at_least: '100TFLOPS' }),
    withClaim({ metric: 'load_imbalance', about: 1.2, tolerance: 0.1 }),
    withClaim({ metric: 'gpus_used', equals: 128 }),
  ]
  const invalid: ReadonlyArray<Obj> = [
    { ...referencePlan, format: 'meshplan-plan/2' },
    { ...referencePlan, strategy: { tp: 2 } },
    { ...referencePlan, workload: undefined },
    { ...referencePlan, model: 'llama-9' },
    { ...referencePlan, model: 42 },
    { ...referencePlan, model: { ...llamaConfig, hidden_size: undefined } },
    { ...referencePlan, model: { ...llamaConfig, model_type: 'gpt2' } },
    { ...referencePlan, model: { ...llamaConfig, model_type: 'mixtral' } },
    { ...referencePlan, model: { ...llamaConfig, num_hidden_layers: 0 } },
    { ...referencePlan, model: { ...llamaConfig, num_hidden_layers: 4097 } },
    { ...referencePlan, model: { ...llamaConfig, vocab_size: 2 ** 24 + 1 } },
    { ...referencePlan, parallelism: { dp: 2 ** 20 + 1 } },
    { ...referencePlan, cluster: { system: 'reference', nodes: 16, gpus: 128 } },
    { ...referencePlan, precision: { weights: 'fp12' } },
    { ...referencePlan, precision: { kv: 'fp8' } },
    { ...referencePlan, parallelism: { tp: 0 } },
    { ...referencePlan, parallelism: { tensor_parallel: 2 } },
    { ...referencePlan, parallelism: { pp: 4, first_stage_layers: 0 } },
    { ...referencePlan, parallelism: { pp: 4, first_stage_layers: 2 ** 53 } },
    { ...referencePlan, parallelism: { pp: 4, loss_in_pipeline_split: 'yes' } },
    { ...referencePlan, workload: { input_tokens: 1024 } },
    withClaim({ metric: 'ttft' }),
    withClaim({ metric: 'ttft', at_most: 1, at_least: 0.1 }),
    withClaim({ metric: 'gpus_used', equals: 127.5 }),
    withClaim({ metric: 'gpus_used', equals: '128' }),
    withClaim({ metric: 'memory_per_gpu', at_most: '80Gb' }),
    withClaim({ metric: 'ttft', at_most: '2GB' }),
    withClaim({ metric: 'ttft', at_most: -1 }),
    withClaim({ metric: 'ttft', at_most: null }),
    withClaim({ metric: 'ttft', about: 1, tolerance: -0.1 }),
    withClaim({ metric: 'ttft', at_most: 1, note: 'measured' }),
    withClaim({ metric: 'latency', at_most: 1 }),
  ]
  const json = (d: Obj): unknown => JSON.parse(JSON.stringify(d))

  it('agrees with decodePlan on valid and invalid documents, unknown fields included', () => {
    const verdicts = (docs: ReadonlyArray<Obj>, byDecoder: boolean) => docs.map((d) => [d, byDecoder ? E.isRight(decodePlan(json(d))) : validatePlan(json(d))])
    expect(verdicts(valid, false)).toEqual(valid.map((d) => [d, true]))
    expect(verdicts(invalid, false)).toEqual(invalid.map((d) => [d, false]))
    expect(verdicts([...valid, ...invalid], false)).toEqual(verdicts([...valid, ...invalid], true))
  })

  it('accepts every real config.json the model package keeps, multimodal ones and Kimi-K2 included, as the decoder does', () => {
    const dir = path.join(repository, 'packages', 'model', 'test', 'fixtures', 'hf')
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'))
    expect(files.length).toBeGreaterThanOrEqual(14)
    for (const file of files) {
      const model = readJson(path.join(dir, file))
      expect([file, validatePlan({ ...minimal, model }), E.isRight(decodePlan({ ...minimal, model }))]).toEqual([file, true, true])
    }
    // an unknown model_type without DeepSeek-V3's fields: refused by both
    const unknown = { ...minimal, model: { ...llamaConfig, model_type: 'falcon' } }
    expect([validatePlan(unknown), E.isRight(decodePlan(unknown))]).toEqual([false, false])
    // Gemma 3's text_config may leave out the vocabulary and context (the family's defaults); Llama may not
    const { vocab_size: _v, max_position_embeddings: _m, ...sparse } = llamaConfig as Record<string, unknown>
    for (const [type, accepted] of [['gemma3_text', true], ['llama', false]] as const) {
      const doc = { ...minimal, model: { ...sparse, model_type: type } }
      expect([type, validatePlan(doc), E.isRight(decodePlan(doc))]).toEqual([type, accepted, accepted])
    }
  })

  it('accepts examples/llama-3.1-405b-training.yaml, a training plan, as decodeTrainingPlan does, and refuses what it refuses', () => {
    const file = path.join(repository, 'examples', 'llama-3.1-405b-training.yaml')
    const doc = parseDocument(fs.readFileSync(file, 'utf8'), file)
    if (E.isLeft(doc)) throw new Error(doc.left.message)
    const training = obj(doc.right)
    const agree = (u: unknown): ReadonlyArray<boolean> => [validatePlan(u), E.isRight(decodeTrainingPlan(u))]
    expect(agree(training)).toEqual([true, true])
    // a serving claim in a training plan, a training claim's value of the wrong kind, a serving field in the step, no kind
    const claims = training.claims as ReadonlyArray<Obj>
    const workload = obj(training.workload)
    const { kind: _kind, ...noKind } = workload
    for (const bad of [
      { ...training, claims: [...claims, { metric: 'ttft', at_most: '2s' }] },
      { ...training, claims: [{ metric: 'step_time', about: '10GB' }] },
      { ...training, workload: { ...workload, input_tokens: 1024 } },
      { ...training, workload: noKind },
    ]) {
      expect(agree(bad)).toEqual([false, false])
    }
  })

  it("leaves to the decoder what a schema cannot check: a model's consistency", () => {
    const beyond = { ...minimal, model: { ...llamaConfig, num_key_value_heads: 5 } }
    expect([validatePlan(beyond), E.isRight(decodePlan(beyond))]).toEqual([true, false])
  })
})

// -------------------------------------------------------------------------------------
// case files
// -------------------------------------------------------------------------------------

const caseOf = (kind: string): Obj => {
  const found = calibration.cases.find((c) => obj(c.workload).kind === kind)
  if (found === undefined) throw new Error(`no ${kind} case`)
  return found
}
const inference = caseOf('inference')
const training = caseOf('training')
const collective = caseOf('collective')
const hardware = obj(inference.hardware)
const { parallelism: _parallelism, ...unpooled } = inference
const pool = { instances: 1, parallelism: { tp: 8 } }
const pooled = { ...unpooled, hardware: { ...hardware, num_gpus: 16 }, pools: { prefill: pool, decode: { ...pool, hardware } } }
const exchange = {
  id: 'deepep-dispatch',
  source: 'a test',
  hardware: collective.hardware,
  engine: { name: 'deepep' },
  workload: { kind: 'collective', op: 'moe_dispatch', tokens_per_rank: 4096, hidden: 7168, top_k: 8, num_experts: 256, dtype: 'fp8', kernel: 'normal' },
  measured: { metric: 'time_us', value: 120 },
}
const file = (...cases: ReadonlyArray<Obj>): Obj => ({ format: 'meshplan-cases/1', cases })

describe('cases.schema.json', () => {
  it('accepts validation/calibration.json, every one of its cases', () => {
    expect(validateCases(calibration)).toBe(true)
    expect(calibration.cases.flatMap((c) => (validateCase(c) ? [] : [c.id]))).toEqual([])
    expect(calibration.cases.length).toBeGreaterThan(100)
  })

  const valid: ReadonlyArray<Obj> = [
    file(),
    file(inference),
    file(training),
    file(collective),
    file(exchange),
    file(pooled),
    file({ ...inference, engine: { name: 'vllm', version: '0.6.3', options: { gpu_memory_utilization: 0.9, cuda_graphs: true, attention_backend: 'FLASHINFER' } } }),
    file({ ...inference, parallelism: { ...obj(inference.parallelism), redundant_experts: 0, first_stage_layers: 3, loss_in_pipeline_split: true } }),
    file({ ...collective, workload: { kind: 'collective', op: 'all_gather', bytes: 1e9, protocol: 'll128', in_place: true } }),
  ]
  const invalid: ReadonlyArray<Obj> = [
    { format: 'meshplan-cases/2', cases: [] },
    { ...file(), version: 1 },
    { cases: [] },
    file({ ...inference, tags: ['h100'] }),
    file({ ...inference, id: 7 }),
    file({ ...collective, model: inference.model }),
    file({ ...collective, parallelism: { tp: 1 } }),
    file({ ...collective, workload: { ...obj(collective.workload), bytes: 5e-324 } }),
    file({ ...collective, workload: { ...obj(collective.workload), bytes: 2 ** 51 } }),
    file({ ...inference, model: undefined }),
    file({ ...inference, model: 'llama-2-7b' }),
    file({ ...inference, model: { ...obj(inference.model), model_type: 'gpt2' } }),
    file(unpooled),
    file({ ...inference, hardware: { ...hardware, nic: 'cx7' } }),
    file({ ...inference, hardware: { ...hardware, scale_up: { ...obj(hardware.scale_up), topology: 'torus' } } }),
    file({ ...inference, hardware: { ...hardware, num_gpus: 0 } }),
    file({ ...inference, hardware: { ...hardware, gpu: { ...obj(hardware.gpu), memory_gib: 0 } } }),
    file({ ...inference, hardware: { ...hardware, scale_out: { ...obj(hardware.scale_out), latency_us: 2e6 } } }),
    file({ ...inference, hardware: { ...hardware, scale_up: { ...obj(hardware.scale_up), bandwidth_gbps: 1e6 } } }),
    file({ ...inference, hardware: { ...hardware, scale_up: { ...obj(hardware.scale_up), nvlink_version: 4 } } }),
    file({ ...inference, hardware: { ...hardware, scale_out: { ...obj(hardware.scale_out), rail_optimized: true } } }),
    file({ ...inference, hardware: { ...hardware, gpu: { ...obj(hardware.gpu), tflops: { bf16: 989, fp6: 2000 } } } }),
    file({ ...inference, engine: { name: 'vllm', options: { enforce_eager: true } } }),
    file({ ...inference, engine: { name: 'vllm', options: { gpu_memory_utilization: 0 } } }),
    file({ ...inference, engine: { version: '0.6' } }),
    file({ ...inference, measured: { metric: 'ttft_ms', value: 0 } }),
    file({ ...inference, measured: { metric: 'ttft_ms', value: 10, unit: 'ms' } }),
    file({ ...inference, workload: { ...obj(inference.workload), kind: 'serving' } }),
    file({ ...inference, workload: { ...obj(inference.workload), global_batch: 8 } }),
    file({ ...training, workload: { ...obj(training.workload), input_tokens: 8 } }),
    file({ ...inference, parallelism: { tp_size: 2 } }),
    file({ ...inference, parallelism: { ...obj(inference.parallelism), redundant_experts: -1 } }),
    file({ ...inference, precision: { weights: 'fp8', kv: 'fp8' } }),
    file({ ...pooled, pools: { prefill: pool } }),
    file({ ...pooled, pools: { prefill: { ...pool, gpus: 8 }, decode: pool } }),
    file({ ...collective, workload: { ...obj(collective.workload), tokens_per_rank: 4096 } }),
    file({ ...collective, workload: { ...obj(collective.workload), protocol: 'll64' } }),
    file({ ...exchange, workload: { ...exchange.workload, kernel: 'fast' } }),
    file({ ...exchange, workload: { ...exchange.workload, bytes: 1e6 } }),
  ]
  const json = (d: Obj): unknown => JSON.parse(JSON.stringify(d))

  it('agrees with predictCases on valid and invalid documents, unknown fields included', () => {
    const predict = predictCases(defaultCostModels)
    const verdicts = (docs: ReadonlyArray<Obj>, byDecoder: boolean) => docs.map((d) => [d, byDecoder ? E.isRight(predict(json(d))) : validateCases(json(d))])
    expect(verdicts(valid, false)).toEqual(valid.map((d) => [d, true]))
    expect(verdicts(invalid, false)).toEqual(invalid.map((d) => [d, false]))
    expect(verdicts([...valid, ...invalid], false)).toEqual(verdicts([...valid, ...invalid], true))
  })

  it("leaves to the decoder what a schema cannot check: unique ids, a model's consistency, the pools' GPUs against num_gpus", () => {
    const beyond = [
      file(inference, inference),
      file({ ...inference, model: { ...obj(inference.model), num_key_value_heads: 5 } }),
      file({ ...pooled, hardware: { ...hardware, num_gpus: 12 } }),
    ]
    const predict = predictCases(defaultCostModels)
    expect(beyond.map((d) => [validateCases(d), E.isRight(predict(d))])).toEqual(beyond.map(() => [true, false]))
  })
})
