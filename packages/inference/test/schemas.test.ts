// The JSON Schema of the inference workload (schemas/inference-workload.schema.json), as
// a user's validator reads it through the package's exports: it accepts the workloads
// of the repository's files, and it agrees with the io-ts decoder on valid and invalid
// documents, unknown fields included.
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import Ajv2020 from 'ajv/dist/2020'
import { parseDocument } from '@meshplan/units'
import { decodeInferenceWorkload, inferenceModes, lengthDistributions, speculativeMethods } from '../src/workload'

const repository = path.join(__dirname, '..', '..', '..')
const schemaFile = require.resolve('@meshplan/inference/schemas/inference-workload.schema.json')
const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as {
  $id: string
  properties: { mode: { enum: ReadonlyArray<string> }; length_distribution: { enum: ReadonlyArray<string> }; speculative: { properties: { method: { enum: ReadonlyArray<string> } } } }
}

// compiled once, in strict mode (unknown keywords are errors)
const validate = new Ajv2020({ strictRequired: false, allowUnionTypes: true }).compile(schema)

const parsed = (file: string): unknown => {
  const doc = parseDocument(fs.readFileSync(path.join(repository, file), 'utf8'), file)
  if (E.isLeft(doc)) throw new Error(doc.left.message)
  return doc.right
}

describe('inference-workload.schema.json', () => {
  it('is meshplan-inference-workload/1, shipped through the package exports', () => {
    expect(schema.$id).toBe('https://meshplan.dev/schemas/meshplan-inference-workload/1')
    expect(fs.realpathSync(schemaFile)).toBe(path.join(__dirname, '..', 'schemas', 'inference-workload.schema.json'))
  })

  it('names what the decoder knows: modes, length distributions, speculative methods', () => {
    expect(schema.properties.mode.enum).toEqual(inferenceModes)
    expect(schema.properties.length_distribution.enum).toEqual(lengthDistributions)
    expect(schema.properties.speculative.properties.method.enum).toEqual(speculativeMethods)
  })

  it('accepts the workload of the reference plan and of every inference case of validation/calibration.json', () => {
    const workloads = [
      (parsed('examples/reference-plan.yaml') as { workload: unknown }).workload,
      ...(parsed('validation/calibration.json') as { cases: Array<{ workload: { kind: string } }> }).cases.map((c) => c.workload).filter((w) => w.kind === 'inference'),
    ]
    expect(workloads.length).toBeGreaterThan(60)
    for (const w of workloads) expect([w, validate(w)]).toEqual([w, true])
  })

  const valid: ReadonlyArray<unknown> = [
    { input_tokens: 1024, output_tokens: 256 },
    { kind: 'inference', mode: 'static', input_tokens: 128, output_tokens: 128, batch: 64, max_batch: 256 },
    { mode: 'max_throughput', input_tokens: 1000.5, output_tokens: 212.4, max_num_tokens: 8192, num_requests: 1000 },
    { mode: 'latency', input_tokens: 1, output_tokens: 1, concurrency: 1 },
    { mode: 'max_throughput', input_tokens: 1024, output_tokens: 1024, request_rate: 2.5, length_distribution: 'uniform', range_ratio: 0.5 },
    { mode: 'latency', input_tokens: 2048, output_tokens: 512, speculative: { method: 'eagle', draft_tokens: 3, acceptance_length: 2.4 } },
  ]
  const invalid: ReadonlyArray<unknown> = [
    null,
    [],
    'static',
    {},
    { input_tokens: 1024 },
    { input_tokens: 0.5, output_tokens: 256 },
    { input_tokens: '1024', output_tokens: 256 },
    { input_tokens: 1024, output_tokens: 256, batch: 1.5 },
    { input_tokens: 1024, output_tokens: 256, batch: 0 },
    { input_tokens: 2 ** 31, output_tokens: 256 },
    { input_tokens: 1024, output_tokens: 256, max_batch: 2 ** 31 },
    { input_tokens: 1024, output_tokens: 256, max_batch: -1 },
    { input_tokens: 1024, output_tokens: 256, mode: 'offline' },
    { input_tokens: 1024, output_tokens: 256, kind: 'training' },
    { input_tokens: 1024, output_tokens: 256, batch_size: 8 },
    { input_tokens: 1024, output_tokens: 256, inputTokens: 1024 },
    { input_tokens: 1024, output_tokens: 256, range_ratio: 1 },
    { input_tokens: 1024, output_tokens: 256, request_rate: 0 },
    { input_tokens: 1024, output_tokens: 256, length_distribution: 'zipf' },
    { input_tokens: 1024, output_tokens: 256, speculative: { method: 'mtp', draft_tokens: 1 } },
    { input_tokens: 1024, output_tokens: 256, speculative: { method: 'mtp', draft_tokens: 1, acceptance_length: 1.8, accepted: 0.8 } },
    { input_tokens: 1024, output_tokens: 256, speculative: { method: 'medusa', draft_tokens: 1, acceptance_length: 1.8 } },
  ]

  it('agrees with decodeInferenceWorkload on valid and invalid documents, unknown fields included', () => {
    const verdicts = (docs: ReadonlyArray<unknown>, byDecoder: boolean) => docs.map((d) => [d, byDecoder ? E.isRight(decodeInferenceWorkload(d)) : validate(d)])
    expect(verdicts(valid, false)).toEqual(valid.map((d) => [d, true]))
    expect(verdicts(invalid, false)).toEqual(invalid.map((d) => [d, false]))
    expect(verdicts([...valid, ...invalid], false)).toEqual(verdicts([...valid, ...invalid], true))
  })
})
