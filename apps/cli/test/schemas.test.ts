// The JSON Schemas of the `--json` outputs (schemas/): one file per name of json.ts's
// `schemaVersions`, and every output of a real run validates against its schema. The
// schemas are closed, so a renamed or added field fails: the mutations below check that
// they can fail, key by key, through every object of every output.
import * as fs from 'node:fs'
import * as path from 'node:path'
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020'
import { schemaId, schemaVersions, type SchemaName } from '../src/json'
import { meshplan, tempFile } from './cli'

const schemaDir = path.join(__dirname, '..', 'schemas')
const repository = path.join(__dirname, '..', '..', '..')
const examplePlan = path.join(repository, 'examples', 'reference-plan.yaml')
const calibration = path.join(repository, 'validation', 'calibration.json')
const baseUri = 'https://meshplan.dev/schemas/'
/** Pieces the outputs share (strategy, violation, workloads): a schema file that is no output. */
const sharedFile = 'common.schema.json'

const readJson = (file: string): Record<string, unknown> => JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>
const schemaFiles = fs.readdirSync(schemaDir).filter((f) => f.endsWith('.schema.json'))
const names = Object.keys(schemaVersions) as ReadonlyArray<SchemaName>

// compiled once; strict mode rejects unknown keywords and keywords without their type; the first error
// only (allErrors would report all, five times slower over the mutations)
const ajv = new Ajv2020({ allowUnionTypes: true, strict: true })
for (const file of schemaFiles) ajv.addSchema(readJson(path.join(schemaDir, file)))

const validatorOf = (schema: string): ValidateFunction => {
  const validate = ajv.getSchema(`${baseUri}${schema}`)
  if (validate === undefined) throw new Error(`no schema ${baseUri}${schema}`)
  return validate
}

/** What is wrong with `value` under its own `schema` field, one line per error; empty when valid. */
const errorsOf = (value: unknown): ReadonlyArray<string> => {
  const schema = (value as { readonly schema?: unknown }).schema
  if (typeof schema !== 'string') return ['no schema field']
  const validate = validatorOf(schema)
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`)
}

describe('schema files', () => {
  it.each(names)('%s has its file, whose $id, title and schema field are meshplan/<name>/<version>', (name) => {
    const file = path.join(schemaDir, `${name}.schema.json`)
    expect(fs.existsSync(file)).toBe(true)
    const s = readJson(file) as { $schema: string; $id: string; title: string; properties: { schema: { const: string } }; required: ReadonlyArray<string> }
    expect(s.$schema).toBe('https://json-schema.org/draft/2020-12/schema')
    expect(s.$id).toBe(`${baseUri}${schemaId(name)}`)
    expect(s.title).toBe(schemaId(name))
    expect(s.properties.schema.const).toBe(schemaId(name))
    expect(s.required).toContain('schema')
  })

  it('has no file beyond the outputs and their shared pieces', () => {
    expect([...schemaFiles].sort()).toEqual([...names.map((n) => `${n}.schema.json`), sharedFile].sort())
  })

  it('describes every field: each property schema has a description', () => {
    const missing: string[] = []
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) return node.forEach((x, i) => walk(x, `${at}/${i}`))
      if (typeof node !== 'object' || node === null) return
      const o = node as Record<string, unknown>
      if (typeof o.properties === 'object' && o.properties !== null) {
        for (const [k, p] of Object.entries(o.properties)) {
          const described = typeof (p as { description?: unknown }).description === 'string' || typeof (p as { $ref?: unknown }).$ref === 'string'
          if (!described) missing.push(`${at}/properties/${k}`)
        }
      }
      for (const [k, v] of Object.entries(o)) walk(v, `${at}/${k}`)
    }
    for (const file of schemaFiles) walk(readJson(path.join(schemaDir, file)), file)
    expect(missing).toEqual([])
  })
})

/** A plan whose deployment has two pipeline stages (a dense model on one node). */
/** Two sources of two cases each from the repository cases, for a leave-one-source-out run of a few seconds. */
const twoSources = (): string => {
  const ids = ['trtllm-v0.9-h100-llama2-7b-tp1-b896-128-128-tput', 'trtllm-v0.9-a100-80-llama2-70b-tp4-b1024-128-128-tput', 'lmdeploy-a100-llama2-7b-tp1-b1-128-128-tput', 'lmdeploy-a100-llama2-70b-tp4-b1-128-2048-tpot']
  const all = (JSON.parse(fs.readFileSync(calibration, 'utf8')) as { cases: Array<{ id: string }> }).cases
  return tempFile('two-sources.json', JSON.stringify({ format: 'meshplan-cases/1', cases: ids.map((id) => all.find((c) => c.id === id)) }))
}

const pipelinePlan = (): string =>
  tempFile(
    'pipeline.yaml',
    ['format: meshplan-plan/1', 'model: llama-2-7b', 'cluster: { system: dgx-h100, nodes: 1 }', 'parallelism: { tp: 4, pp: 2 }', 'workload: { mode: static, input_tokens: 512, output_tokens: 128, batch: 8 }', ''].join('\n'),
  )

const lawlessTrainingPlan = (): string =>
  tempFile(
    'lawless-training.yaml',
    ['format: meshplan-plan/1', 'model: llama-2-7b', 'cluster: { system: dgx-h100, nodes: 1 }', 'parallelism: { tp: 3, dp: 2 }', 'workload: { kind: training, global_batch: 8, micro_batch: 1, seq_len: 2048 }', 'claims: [{ metric: mfu, at_least: 0.5 }]', ''].join('\n'),
  )

interface Run {
  readonly name: SchemaName
  readonly what: string
  readonly args: () => ReadonlyArray<string>
  readonly code: number
  /** What it says on stderr, when it says something. */
  readonly stderr?: RegExp
}

// every output, in the cases that change its shape (null or absent fields, empty lists, MoE, pipelines)
const runs: ReadonlyArray<Run> = [
  { name: 'estimate', what: 'a dense model, static batch', args: () => ['estimate', '--model', 'llama-2-70b', '--cluster', 'dgx-h100', '--tp', '8', '--batch', '16'], code: 0 },
  { name: 'estimate', what: 'an MoE model, max_throughput', args: () => ['estimate', '--model', 'mixtral-8x7b', '--cluster', 'dgx-h100', '--tp', '8', '--mode', 'max_throughput'], code: 0 },
  { name: 'estimate', what: 'with its cost', args: () => ['estimate', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--batch', '64', '--price', '2.49'], code: 0 },
  { name: 'estimate', what: 'a pipeline of a plan file', args: () => ['estimate', pipelinePlan()], code: 0 },
  { name: 'estimate', what: 'an uneven pipeline chosen by default', args: () => ['estimate', '--model', 'llama-3.1-405b', '--cluster', 'dgx-h100', '--nodes', '2', '--tp', '4', '--pp', '4'], code: 0 },
  {
    name: 'estimate-training',
    what: 'an uneven pipeline given by flags',
    args: () => ['estimate', '--train', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--tp', '2', '--pp', '4', '--first-stage-layers', '6', '--last-stage-layers', '10', '--global-batch', '64', '--seq-len', '2048'],
    code: 0,
  },
  {
    name: 'estimate-training',
    what: 'estimate --train, two pipeline stages',
    args: () => ['estimate', '--train', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--tp', '2', '--pp', '2', '--dp', '2', '--global-batch', '64', '--seq-len', '2048'],
    code: 0,
  },
  {
    name: 'estimate-training',
    what: 'with its goodput',
    args: () => ['estimate', '--train', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--tp', '2', '--pp', '2', '--dp', '2', '--global-batch', '64', '--seq-len', '2048', '--checkpoint-bandwidth', '10GB/s', '--restart', '5min'],
    code: 0,
  },
  { name: 'estimate-training', what: 'a training case', args: () => ['estimate', calibration, '--case', 'llmfoundry-h100-fp8-mpt-3b-fsdp8-seq2048-mb10-noac'], code: 0 },
  {
    name: 'estimate-training',
    what: 'a step that does not fit (printed, exit 2)',
    args: () => ['estimate', '--train', '--model', 'llama-2-70b', '--cluster', 'dgx-h100', '--global-batch', '8', '--seq-len', '2048'],
    code: 2,
    stderr: /does not fit/,
  },
  { name: 'estimate-disaggregated', what: 'the DeepSeek-V3 disaggregated example', args: () => ['estimate', path.join(repository, 'examples', 'deepseek-v3-disaggregated.yaml')], code: 0 },
  { name: 'estimate-disaggregated', what: 'with its cost', args: () => ['estimate', path.join(repository, 'examples', 'deepseek-v3-disaggregated.yaml'), '--price', '3'], code: 0 },
  { name: 'plan-disaggregated', what: 'Llama 3.1 8B on one node, both kinds', args: () => ['plan', '--model', 'llama-3.1-8b', '--cluster', 'dgx-h100', '--disaggregated', '--max-tpot', '50ms'], code: 0 },
  { name: 'plan-disaggregated', what: 'the fewest GPUs of each kind for a request rate', args: () => ['plan', '--model', 'llama-3.1-8b', '--cluster', 'dgx-h100', '--disaggregated', '--max-tpot', '50ms', '--target-rate', '20'], code: 0 },
  { name: 'plan-disaggregated', what: 'a request rate neither kind serves', args: () => ['plan', '--model', 'llama-3.1-8b', '--cluster', 'dgx-h100', '--disaggregated', '--max-tpot', '50ms', '--target-rate', '1e9'], code: 1 },
  { name: 'plan', what: 'no objectives', args: () => ['plan', '--model', 'llama-2-7b', '--cluster', 'dgx-h100'], code: 0 },
  { name: 'plan', what: 'objectives that reject candidates', args: () => ['plan', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--max-tpot', '10ms', '--max-ttft', '500ms'], code: 0 },
  { name: 'plan', what: 'the fewest GPUs for a request rate', args: () => ['plan', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--max-tpot', '40ms', '--target-rate', '5'], code: 0 },
  { name: 'plan', what: 'a request rate no deployment serves', args: () => ['plan', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--max-tpot', '40ms', '--target-rate', '100000'], code: 1 },
  { name: 'plan', what: 'latency mode', args: () => ['plan', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--mode', 'latency'], code: 0 },
  { name: 'plan', what: 'objectives nothing meets', args: () => ['plan', '--model', 'llama-2-70b', '--cluster', 'dgx-h100', '--max-tpot', '1us'], code: 1 },
  { name: 'plan-training', what: 'llama-2-7b on one node', args: () => ['plan', '--train', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--global-batch', '64', '--seq-len', '2048'], code: 0 },
  { name: 'check', what: 'a plan that breaks laws (no estimate)', args: () => ['check', pipelinePlan(), '--tp', '3'], code: 1 },
  { name: 'check', what: 'a plan that holds', args: () => ['check', pipelinePlan()], code: 0 },
  { name: 'check-disaggregated', what: 'the DeepSeek-V3 disaggregated example', args: () => ['check', path.join(repository, 'examples', 'deepseek-v3-disaggregated.yaml')], code: 0 },
  { name: 'dag', what: 'the DeepSeek-V3 disaggregated example', args: () => ['dag', path.join(repository, 'examples', 'deepseek-v3-disaggregated.yaml'), '--format', 'json'], code: 0 },
  { name: 'check-training', what: 'the Llama 3 405B training plan (claims that fail)', args: () => ['check', path.join(repository, 'examples', 'llama-3.1-405b-training.yaml')], code: 1 },
  { name: 'check-training', what: 'a training plan that breaks a law', args: () => ['check', lawlessTrainingPlan()], code: 1 },
  { name: 'validate', what: 'the repository cases', args: () => ['validate', calibration], code: 0 },
  { name: 'validate', what: 'leave one source out', args: () => ['validate', twoSources(), '--leave-one-source-out'], code: 0 },
  { name: 'calibrate', what: 'cases the defaults already fit (nothing written)', args: () => ['calibrate', twoSources()], code: 1 },
  { name: 'dag', what: 'the reference plan, decode', args: () => ['dag', examplePlan, '--format', 'json'], code: 0 },
  { name: 'dag', what: 'a pipeline, prefill', args: () => ['dag', pipelinePlan(), '--format', 'json', '--phase', 'prefill'], code: 0 },
  { name: 'presets', what: 'every kind', args: () => ['presets'], code: 0 },
  { name: 'presets', what: 'devices only', args: () => ['presets', 'devices'], code: 0 },
  { name: 'example', what: 'the reference plan', args: () => ['example'], code: 0 },
  { name: 'layout', what: 'a valid dense strategy', args: () => ['layout', '--model', 'llama-2-70b', '--cluster', 'dgx-h100', '--nodes', '2', '--tp', '8', '--pp', '2'], code: 0 },
  { name: 'layout', what: 'an MoE strategy with notes', args: () => ['layout', '--model', 'deepseek-v3', '--cluster', 'hgx-h800', '--nodes', '4', '--dp', '32', '--ep', '32'], code: 0 },
  { name: 'layout', what: 'redundant experts over ep 72', args: () => ['layout', '--model', 'deepseek-v3', '--cluster', 'dgx-h100', '--nodes', '9', '--dp', '72', '--ep', '72', '--redundant-experts', '32'], code: 0 },
  { name: 'layout', what: 'an uneven pipeline split', args: () => ['layout', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--tp', '2', '--pp', '4', '--first-stage-layers', '6', '--last-stage-layers', '10'], code: 0 },
  { name: 'layout', what: 'a strategy that breaks laws', args: () => ['layout', '--model', 'llama-2-70b', '--cluster', 'dgx-h100', '--nodes', '2', '--tp', '3'], code: 1 },
  { name: 'export', what: 'a dense plan vLLM runs as written', args: () => ['export', '--model', 'llama-3.1-70b', '--cluster', 'dgx-h100', '--tp', '8', '--engine', 'vllm'], code: 0 },
  { name: 'export', what: 'the reference plan refused by vLLM, the nearest plan over nodes', args: () => ['export', examplePlan, '--engine', 'vllm'], code: 1 },
  { name: 'export', what: 'the reference plan on TensorRT-LLM, with its options file', args: () => ['export', examplePlan, '--engine', 'trtllm'], code: 1 },
  { name: 'export', what: 'a training plan refused by Megatron-LM', args: () => ['export', path.join(repository, 'examples', 'llama-3.1-405b-training.yaml'), '--engine', 'megatron'], code: 1 },
  {
    name: 'export',
    what: 'a torchtitan job with a list in its TOML',
    args: () => ['export', '--train', '--model', 'llama-3.1-8b', '--cluster', 'dgx-h100', '--tp', '2', '--dp', '4', '--sp', '--global-batch', '64', '--seq-len', '4096', '--zero', '2', '--activations', 'fp8', '--engine', 'torchtitan'],
    code: 0,
  },
  {
    name: 'export',
    what: 'a model torchtitan does not have: nothing exported',
    args: () => ['export', '--train', '--model', 'mixtral-8x7b', '--cluster', 'dgx-h100', '--tp', '8', '--ep', '8', '--etp', '1', '--sp', '--global-batch', '64', '--zero', '2', '--engine', 'torchtitan'],
    code: 1,
  },
]

/** What a run prints, run once (the mutations below reuse the outputs). */
const outputOf = ((): ((run: Run) => Promise<Awaited<ReturnType<typeof meshplan>>>) => {
  const ran = new Map<Run, ReturnType<typeof meshplan>>()
  return (run) => {
    const found = ran.get(run) ?? meshplan(...run.args(), ...(run.name === 'dag' ? [] : ['--json']))
    ran.set(run, found)
    return found
  }
})()

describe('every output validates against its schema', () => {
  it('runs every output', () => {
    expect(new Set(runs.map((r) => r.name))).toEqual(new Set(names))
  })

  it.each(runs.map((r) => [r.name, r.what, r] as const))('%s: %s', async (_name, _what, run) => {
    const r = await outputOf(run)
    if (run.stderr === undefined) expect(r.stderr).toBe('')
    else expect(r.stderr).toMatch(run.stderr)
    expect(r.code).toBe(run.code)
    const value = JSON.parse(r.stdout) as Record<string, unknown>
    expect(Object.keys(value)[0]).toBe('schema')
    expect(value.schema).toBe(schemaId(run.name))
    expect(errorsOf(value)).toEqual([])
  }, 30_000)
})

// -------------------------------------------------------------------------------------
// the schemas can fail
// -------------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/** Objects whose keys are data (a metric's name, a law's numbers), not fields: any key is allowed. */
const isRecordOfData = (at: ReadonlyArray<string>): boolean => {
  const last = at[at.length - 1]
  return ['by_metric', 'by_source', 'by_generation', 'by_format', 'by_mode', 'values', 'constants', 'parameters', 'holds'].includes(last ?? '')
}

/** The path of every object of `value` whose keys are fields, through the first element of each array. */
const objectsOf = (value: Json, at: ReadonlyArray<string> = []): ReadonlyArray<ReadonlyArray<string>> => {
  if (Array.isArray(value)) return value.length === 0 ? [] : objectsOf(value[0] as Json, [...at, '0'])
  if (typeof value !== 'object' || value === null) return []
  return [...(isRecordOfData(at) ? [] : [at]), ...Object.entries(value).flatMap(([k, v]) => objectsOf(v, [...at, k]))]
}

const objectAt = (value: Json, at: ReadonlyArray<string>): { [key: string]: Json } => {
  let node: Json = value
  for (const step of at) node = (node as { [key: string]: Json })[step] as Json
  return node as { [key: string]: Json }
}

/** A copy of `value` with `edit` applied to the object at `at`. */
const editAt = (value: Json, at: ReadonlyArray<string>, edit: (o: { [key: string]: Json }) => void): Json => {
  const copy = structuredClone(value)
  edit(objectAt(copy, at))
  return copy
}

/** `value`'s errors with the object at `at` edited by `edit` (in place; `value` is restored, keys in their order). */
const errorsWithEdit = (value: Json, at: ReadonlyArray<string>, edit: (entries: ReadonlyArray<[string, Json]>) => ReadonlyArray<[string, Json]>): ReadonlyArray<string> => {
  const o = objectAt(value, at)
  const entries = Object.entries(o)
  const rebuild = (next: ReadonlyArray<[string, Json]>): void => {
    for (const k of Object.keys(o)) delete o[k]
    for (const [k, v] of next) o[k] = v
  }
  rebuild(edit(entries))
  try {
    return errorsOf(value)
  } finally {
    rebuild(entries)
  }
}

describe('the schemas can fail', () => {
  let outputs: ReadonlyArray<{ readonly run: Run; readonly value: Json }> = []
  beforeAll(async () => {
    outputs = await Promise.all(runs.map(async (run) => ({ run, value: JSON.parse((await outputOf(run)).stdout) as Json })))
  }, 60_000)

  it('rejects every output with any one field renamed, or one field added, in every object of its shape', () => {
    const accepted: string[] = []
    const tried = new Set<string>()
    for (const { run, value } of outputs) {
      for (const at of objectsOf(value)) {
        const edits: ReadonlyArray<readonly [string, (entries: ReadonlyArray<[string, Json]>) => ReadonlyArray<[string, Json]>]> = [
          [`${[...at, '+added_field'].join('.')}`, (entries) => [...entries, ['added_field', 0]]],
          ...Object.keys(objectAt(value, at))
            .filter((key) => at.length > 0 || key !== 'schema')
            .map((key) => [[...at, key].join('.'), (entries: ReadonlyArray<[string, Json]>) => entries.map(([k, v]): [string, Json] => [k === key ? `${k}_renamed` : k, v])] as const),
        ]
        for (const [what, edit] of edits) {
          const field = `${run.name}: ${what}`
          if (tried.has(field)) continue
          tried.add(field)
          if (errorsWithEdit(value, at, edit).length === 0) accepted.push(`${field} (${run.what})`)
        }
      }
    }
    expect(accepted).toEqual([])
    expect(tried.size).toBeGreaterThan(1000)
  })

  const output = (name: SchemaName): Json => {
    const found = outputs.find((o) => o.run.name === name)
    if (found === undefined) throw new Error(`no output of ${name}`)
    return found.value
  }

  it.each([
    ['estimate', [], 'ttft_seconds'],
    ['estimate', ['memory'], 'fits'],
    ['estimate', ['breakdown', 'decode', 'compute'], 'moe'],
    ['plan', ['top', '0'], 'strategy'],
    ['plan', ['pareto', '0'], 'tpot'],
    ['check', [], 'estimate'],
    ['example', ['check'], 'claims'],
    ['example', ['plan', 'top', '0', 'memory'], 'max_batch'],
    ['estimate-training', ['stages', '0', 'micro_batch'], 'total'],
    ['plan-training', ['best', '0', 'workload'], 'zero_stage'],
    ['validate', ['cases', '0'], 'predicted'],
    ['dag', ['edges', '0'], 'bytes_per_step'],
    ['layout', ['strategy'], 'edp'],
    ['export', ['launch'], 'commands'],
    ['export', ['launch', 'settings', '0'], 'source'],
  ] as const)('rejects %s without %j.%s (a field always present)', (name, at, key) => {
    const without = editAt(output(name), at, (o) => {
      expect(o).toHaveProperty(key)
      delete o[key]
    })
    expect(errorsOf(without).join('\n')).toMatch(`must have required property '${key}'`)
  })

  it.each([
    ['estimate', [], 'gpus', 8.5],
    ['estimate', [], 'mode', 'offline'],
    ['estimate', ['strategy'], 'tp', 0],
    ['example', ['check', 'claims', '0'], 'metric', 'gpus'],
    ['validate', ['cases', '0'], 'predicted', 'n/a'],
    ['presets', ['devices', '0'], 'bf16', '989TFLOPS'],
    ['dag', ['nodes', '0'], 'module', 'lm_head'],
  ] as const)('rejects %s with %j.%s = %j (a value of the wrong type or range)', (name, at, key, wrong) => {
    expect(errorsOf(editAt(output(name), at, (o) => void (o[key] = wrong)))).not.toEqual([])
  })

  it("rejects a dag node's group without its size and count (given together or not at all)", () => {
    const node = editAt(output('dag'), ['nodes', '0'], (o) => {
      expect(o).toHaveProperty('group_kind')
      delete o.group_size
    })
    expect(errorsOf(node).join('\n')).toMatch(/when property group_kind is present .*"missingProperty":"group_size"/)
  })

  it('rejects an output under another schema version, and a field added at the top', () => {
    const estimate = validatorOf(schemaId('estimate'))
    expect(estimate({ ...(output('estimate') as object), schema: 'meshplan/estimate/1' })).toBe(false)
    expect(() => errorsOf({ ...(output('estimate') as object), schema: 'meshplan/estimate/1' })).toThrow(/no schema/)
    expect(errorsOf({ ...(output('estimate') as object), extra: 1 })).not.toEqual([])
    // the shared bodies are closed where they are used: an example's check has no schema field
    expect(errorsOf(editAt(output('example'), ['check'], (o) => void (o.schema = 'meshplan/check/2')))).not.toEqual([])
  })

  it('accepts a check whose search for a better strategy was refused (best null, with the reason)', () => {
    const refused = editAt(output('check'), [], (o) => {
      o.best = null
      o.best_problem = 'the search would evaluate more than 20,000 strategies (the limit, about 20 s)'
    })
    expect(errorsOf(refused)).toEqual([])
    expect(errorsOf(editAt(refused, [], (o) => void (o.best_problem = 20_000)))).not.toEqual([])
  })

  it('accepts data keys in records: a metric of any name, a law with other numbers', () => {
    expect(errorsOf(editAt(output('validate'), ['summary', 'by_metric'], (o) => void (o['first_token_ms'] = Object.values(o)[0] as Json)))).toEqual([])
    expect(errorsOf(editAt(output('layout'), [], (o) => void ((o.violations as Json[]).push({ code: 'new-law', message: 'm', values: { any_name: 1 }, suggestion: 's' }))))).toEqual([])
  })
})
