// The JSON Schema of the training workload (schemas/training-workload.schema.json), as a
// user's validator reads it through the package's exports: it accepts the workloads of
// the repository's training cases, and it agrees with the io-ts decoder on valid and
// invalid documents, unknown fields included.
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import Ajv2020 from 'ajv/dist/2020'
import { decodeTrainingWorkload, moeRoutings, recomputeModes, zeroStages } from '../src/workload'

const repository = path.join(__dirname, '..', '..', '..')
const schemaFile = require.resolve('@meshplan/training/schemas/training-workload.schema.json')
const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as {
  $id: string
  properties: { recompute: { enum: ReadonlyArray<string> }; zero_stage: { enum: ReadonlyArray<number> }; moe_routing: { enum: ReadonlyArray<string> } }
}

// compiled once, in strict mode (unknown keywords are errors)
const validate = new Ajv2020({ strictRequired: false, allowUnionTypes: true }).compile(schema)

describe('training-workload.schema.json', () => {
  it('is meshplan-training-workload/1, shipped through the package exports', () => {
    expect(schema.$id).toBe('https://meshplan.dev/schemas/meshplan-training-workload/1')
    expect(fs.realpathSync(schemaFile)).toBe(path.join(__dirname, '..', 'schemas', 'training-workload.schema.json'))
  })

  it('names what the decoder knows: recomputation, ZeRO stages, MoE routings', () => {
    expect(schema.properties.recompute.enum).toEqual(recomputeModes)
    expect(schema.properties.zero_stage.enum).toEqual(zeroStages)
    expect(schema.properties.moe_routing.enum).toEqual(moeRoutings)
  })

  it('accepts the workload of every training case of validation/calibration.json', () => {
    const file = JSON.parse(fs.readFileSync(path.join(repository, 'validation', 'calibration.json'), 'utf8')) as { cases: Array<{ workload: { kind: string } }> }
    const workloads = file.cases.map((c) => c.workload).filter((w) => w.kind === 'training')
    expect(workloads.length).toBeGreaterThan(10)
    for (const w of workloads) expect([w, validate(w)]).toEqual([w, true])
  })

  const valid: ReadonlyArray<unknown> = [
    { global_batch: 64, micro_batch: 1, seq_len: 2048 },
    { kind: 'training', global_batch: 1536, micro_batch: 1, seq_len: 2048, recompute: 'selective', zero_stage: 1 },
    { global_batch: 256, micro_batch: 2, seq_len: 8192, recompute: 'full', zero_stage: 3, moe_routing: 'balanced' },
  ]
  const invalid: ReadonlyArray<unknown> = [
    null,
    [],
    {},
    { global_batch: 64, micro_batch: 1 },
    { global_batch: 64, micro_batch: 1.5, seq_len: 2048 },
    { global_batch: 0, micro_batch: 1, seq_len: 2048 },
    { global_batch: 2 ** 31, micro_batch: 1, seq_len: 2048 },
    { global_batch: 64, micro_batch: 1, seq_len: '2048' },
    { global_batch: 64, micro_batch: 1, seq_len: 2048, recompute: 'partial' },
    { global_batch: 64, micro_batch: 1, seq_len: 2048, zero_stage: 4 },
    { global_batch: 64, micro_batch: 1, seq_len: 2048, kind: 'inference' },
    { global_batch: 64, micro_batch: 1, seq_len: 2048, moe_routing: 'random' },
    // the output of `estimate --train --json` names the sequence `sequence_length`; a file names it `seq_len`
    { global_batch: 64, micro_batch: 1, sequence_length: 2048 },
    { global_batch: 64, micro_batch: 1, seq_len: 2048, gradient_accumulation: 4 },
  ]

  it('agrees with decodeTrainingWorkload on valid and invalid documents, unknown fields included', () => {
    const verdicts = (docs: ReadonlyArray<unknown>, byDecoder: boolean) => docs.map((d) => [d, byDecoder ? E.isRight(decodeTrainingWorkload(d)) : validate(d)])
    expect(verdicts(valid, false)).toEqual(valid.map((d) => [d, true]))
    expect(verdicts(invalid, false)).toEqual(invalid.map((d) => [d, false]))
    expect(verdicts([...valid, ...invalid], false)).toEqual(verdicts([...valid, ...invalid], true))
  })
})
