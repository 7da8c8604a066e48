// The JSON Schema of the cluster file (schemas/cluster.schema.json), as a user's validator
// reads it through the package's exports: it accepts the cluster files a user writes (with
// presets, overrides, units), and it agrees with the io-ts decoder on valid and invalid
// documents, unknown fields included. What it cannot check (a string's value in range, a
// node count that fits the scale-up domain, the cluster's size) is listed as such.
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import Ajv2020 from 'ajv/dist/2020'
import { dtypes, parseDocument } from '@meshplan/units'
import { decodeClusterFile, deviceNames, systemNames, systems } from '../src'
import { fullClusterFile } from './fixtures'

const schemaFile = require.resolve('@meshplan/topology/schemas/cluster.schema.json')
const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as {
  $id: string
  properties: { system: { enum: ReadonlyArray<string> }; device: { anyOf: [{ enum: ReadonlyArray<string> }, unknown] } }
  allOf: [unknown, { if: { properties: { system: { not: { enum: ReadonlyArray<string> } } } } }]
  $defs: { device: { properties: { peak: { properties: Record<string, unknown> } } } }
}

// compiled once, in strict mode (unknown keywords are errors)
const validate = new Ajv2020({ strictRequired: false, allowUnionTypes: true }).compile(schema)

const yaml = (text: string): unknown => {
  const doc = parseDocument(text, 'cluster.yaml')
  if (E.isLeft(doc)) throw new Error(doc.left.message)
  return doc.right
}

describe('cluster.schema.json', () => {
  it('is meshplan-cluster/1, shipped through the package exports', () => {
    expect(schema.$id).toBe('https://meshplan.dev/schemas/meshplan-cluster/1')
    expect(fs.realpathSync(schemaFile)).toBe(path.join(__dirname, '..', 'schemas', 'cluster.schema.json'))
  })

  it('names the presets and formats the decoder knows, and the systems with a scale-up domain', () => {
    expect(schema.properties.system.enum).toEqual(systemNames)
    expect(schema.properties.device.anyOf[0].enum).toEqual(deviceNames)
    expect(Object.keys(schema.$defs.device.properties.peak.properties)).toEqual(dtypes)
    expect(systemNames.filter((n) => systems[n].domain !== undefined)).toEqual(schema.allOf[1].if.properties.system.not.enum)
  })

  const full = fullClusterFile

  const valid: ReadonlyArray<unknown> = [
    yaml('system: dgx-h100\nnodes: 16\nscaleOut:\n  bandwidth: 200Gb/s\n'),
    yaml('system: reference\nnodes: 16\n'),
    full,
    { system: 'gb200-nvl72', nodes: 16, device: 'b200', domain: { nodes: 8 } },
    { system: 'reference', nodes: 2, scaleUp: { bandwidth: 3e11, latency: 0 } },
    { system: 'reference', nodes: 2, scaleUp: { bandwidth: '300 GB/s', latency: '0us' } },
    { system: 'dgx-h100', nodes: 2, device: { memory: 80e9, memoryBandwidth: '3.35TB/s', peak: { bf16: '989.4TFLOPS', fp8: 1.9789e15 } } },
    { system: 'hgx-h200', nodes: 4, domain: { nodes: 2, bandwidth: '450GiB/s' } },
  ]
  const invalid: ReadonlyArray<unknown> = [
    null,
    'dgx-h100',
    {},
    { system: 'dgx-h100' },
    { system: 'dgx-h100', nodes: 0 },
    { system: 'dgx-h100', nodes: 1.5 },
    { system: 'dgx-h100', nodes: 2 ** 20 + 1 },
    { system: 'dgx-h100', nodes: 1, scaleOut: { bandwidth: 1e15 } },
    { system: 'dgx-h100', nodes: 1, scaleOut: { latency: 2 } },
    { system: 'dgx-h100', nodes: 1, device: { memory: 1e5, memoryBandwidth: '1TB/s', peak: { bf16: 1e15 } } },
    { system: 'dgx-h101', nodes: 1 },
    { system: 'dgx-h100', nodes: 1, device: 'h100' },
    { system: 'dgx-h100', nodes: 1, gpus: 8 },
    { system: 'dgx-h100', nodes: 1, devices_per_node: 8 },
    { system: 'dgx-h100', nodes: 1, scaleOut: { bandwidth: 0 } },
    { system: 'dgx-h100', nodes: 1, scaleOut: { bandwidth: -1 } },
    { system: 'dgx-h100', nodes: 1, scaleOut: { bandwidth: '0GB/s' } },
    { system: 'dgx-h100', nodes: 1, scaleOut: { bandwidth: 'fast' } },
    { system: 'dgx-h100', nodes: 1, scaleOut: { bandwidth: '50GB' } },
    { system: 'dgx-h100', nodes: 1, scaleUp: { latency: '5GB/s' } },
    { system: 'dgx-h100', nodes: 1, scaleUp: { bandwidth: '450GB/s', sharp: true } },
    { system: 'dgx-h100', nodes: 2, domain: { nodes: 2 } },
    { system: 'dgx-h100', nodes: 1, device: { memroy: '80GB', memoryBandwidth: '1TB/s', peak: { bf16: 1e15 } } },
    { system: 'dgx-h100', nodes: 1, device: { memory: '80Gb', memoryBandwidth: '1TB/s', peak: { bf16: 1e15 } } },
    { system: 'dgx-h100', nodes: 1, device: { memory: '80GB', memoryBandwidth: '1TB/s', peak: {} } },
    { system: 'dgx-h100', nodes: 1, device: { memory: '80GB', memoryBandwidth: '1TB/s', peak: { bf17: 1e15 } } },
    { nodes: 1, devicesPerNode: 8, device: 'h100-sxm', scaleUp: { bandwidth: '450GB/s' } },
    { nodes: 1, devicesPerNode: 8, device: 'h100-sxm', scaleUp: { latency: '1us' }, scaleOut: { bandwidth: '50GB/s' } },
    { ...full, domain: { bandwidth: '100GB/s' } },
    { ...full, device: undefined },
  ]

  it('agrees with decodeClusterFile on valid and invalid documents, unknown fields included', () => {
    const verdicts = (docs: ReadonlyArray<unknown>, byDecoder: boolean) => docs.map((d) => [d, byDecoder ? E.isRight(decodeClusterFile(d)) : validate(JSON.parse(JSON.stringify(d ?? null)))])
    expect(verdicts(valid, false)).toEqual(valid.map((d) => [d, true]))
    expect(verdicts(invalid, false)).toEqual(invalid.map((d) => [d, false]))
    expect(verdicts([...valid, ...invalid], false)).toEqual(verdicts([...valid, ...invalid], true))
  })

  it("leaves to the decoder what a schema cannot check: a string's value, nodes that fit the domain, the cluster's size", () => {
    const beyond: ReadonlyArray<unknown> = [
      { system: 'dgx-h100', nodes: 1, device: { memory: '1e400GB', memoryBandwidth: '1TB/s', peak: { bf16: 1e15 } } },
      { system: 'dgx-h100', nodes: 1, device: { memory: '1000TB', memoryBandwidth: '1TB/s', peak: { bf16: 1e15 } } },
      { system: 'gb200-nvl72', nodes: 20 },
      { system: 'dgx-h100', nodes: 2 ** 20 },
    ]
    expect(beyond.map((d) => [validate(d), E.isRight(decodeClusterFile(d))])).toEqual(beyond.map(() => [true, false]))
  })
})
