// Names are data: a name an object inherits (__proto__, constructor, toString, ...) is never taken for a command, a
// preset, a family, a format, a metric or a field, wherever the command looks a name up.
import type { Output } from '../src/commands'
import { meshplan, tempFile } from './cli'

const inherited = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype']

const expectRefused = (r: Output): void => {
  expect(r.code).toBe(2)
  expect(r.stdout).toBe('')
  expect(r.stderr).not.toContain('internal error')
  expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/)
}

describe.each(inherited)('the name %s', (name) => {
  it('as a command', async () => {
    expectRefused(await meshplan(name))
  })

  it('as a model preset, a system preset, a precision, a mode, a recomputation, a format and a preset kind', async () => {
    expectRefused(await meshplan('estimate', '--model', name, '--cluster', 'dgx-h100'))
    expectRefused(await meshplan('estimate', '--cluster', name))
    expectRefused(await meshplan('estimate', '--precision', name))
    expectRefused(await meshplan('estimate', '--mode', name))
    expectRefused(await meshplan('estimate', '--train', '--global-batch', '8', '--recompute', name))
    expectRefused(await meshplan('dag', 'examples/reference-plan.yaml', '--format', name))
    expectRefused(await meshplan('presets', name))
  })

  it('in a plan file: the model, the system, a claim metric, the workload mode', async () => {
    const plan = (model: string, system: string, metric: string, mode: string) =>
      tempFile('plan.json', JSON.stringify({ format: 'meshplan-plan/1', model, cluster: { system, nodes: 1 }, parallelism: {}, workload: { mode, input_tokens: 8, output_tokens: 8 }, claims: [{ metric, at_most: 1 }] }))
    expectRefused(await meshplan('check', plan(name, 'dgx-h100', 'tpot', 'static')))
    expectRefused(await meshplan('check', plan('llama-2-7b', name, 'tpot', 'static')))
    expectRefused(await meshplan('check', plan('llama-2-7b', 'dgx-h100', name, 'static')))
    expectRefused(await meshplan('check', plan('llama-2-7b', 'dgx-h100', 'tpot', name)))
  })

  it('in a case file: the model family, the workload kind, a collective op; as a metric it is no prediction, with the reason', async () => {
    const model = { model_type: 'llama', hidden_size: 64, num_hidden_layers: 1, num_attention_heads: 1, intermediate_size: 64, vocab_size: 8, max_position_embeddings: 64 }
    const hardware = { num_gpus: 1, gpus_per_node: 1, gpu: { memory_gib: 80, tflops: { bf16: 989 }, hbm_tbps: 3.35 }, scale_up: { bandwidth_gbps: 450 }, scale_out: { bandwidth_gbps: 50 } }
    const inference = { kind: 'inference', batch: 1, input_tokens: 8, output_tokens: 8 }
    const file = (c: object) => tempFile('cases.json', JSON.stringify({ format: 'meshplan-cases/1', cases: [{ id: 'x', source: 's', hardware, ...c }] }))
    expectRefused(await meshplan('validate', file({ model: { ...model, model_type: name }, parallelism: {}, workload: inference, measured: { metric: 'ttft_ms', value: 1 } })))
    expectRefused(await meshplan('validate', file({ model, parallelism: {}, workload: { ...inference, kind: name }, measured: { metric: 'ttft_ms', value: 1 } })))
    expectRefused(await meshplan('validate', file({ workload: { kind: 'collective', op: name, bytes: 8 }, measured: { metric: 'time_us', value: 1 } })))
    const metric = await meshplan('validate', file({ model, parallelism: {}, workload: inference, measured: { metric: name, value: 1 } }), '--json')
    expect(metric.code).toBe(0)
    const report = JSON.parse(metric.stdout) as { cases: Array<{ predicted: number | null; note: string }> }
    expect(report.cases[0]?.predicted).toBeNull()
    expect(report.cases[0]?.note).toContain('is not an inference metric')
  })
})
