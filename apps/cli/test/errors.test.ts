// A failure's message stays short: the first problems, then how many more there are.
import * as fs from 'node:fs'
import { ERROR_LINES, errorLines } from '../src/inputs'
import { meshplan, tempFile } from './cli'

describe('errorLines', () => {
  it('keeps three problems or fewer as they are, one per line', () => {
    expect(ERROR_LINES).toBe(3)
    expect(errorLines(['a', 'b', 'c'])).toEqual(['a', 'b', 'c'])
    expect(errorLines('one')).toEqual(['one'])
  })

  it('shows the first two of six problems whole, then counts the other 6 − 2 = 4 and names their JSON paths', () => {
    const six = ['f.json: cases[0].a: expected x', 'f.json: cases[0].b: expected y', 'f.json: cases[0].c: expected z', 'plan.workload.input_tokens: expected a positive integer', 'cases[1].gpu.tflops.bf16: got -1', 'no path here']
    expect(errorLines(six)).toEqual([six[0], six[1], 'and 4 more problems: cases[0].c, plan.workload.input_tokens, cases[1].gpu.tflops.bf16'])
  })

  it('names at most 8 paths: 12 more problems name the first 8 and count 12 − 8 = 4 more fields', () => {
    const many = Array.from({ length: 14 }, (_, i) => `cases[${i}].model: expected an object`)
    expect(errorLines(many)[2]).toBe(`and 12 more problems: ${Array.from({ length: 8 }, (_, i) => `cases[${i + 2}].model`).join(', ')} and 4 more fields`)
  })

  it('counts the lines of a message that holds several, and drops empty ones', () => {
    expect(errorLines(['p1\np2', '', 'p3\n\np4'])).toEqual(['p1', 'p2', 'and 2 more problems'])
  })
})

// seven problems: hardware has an unknown field and lacks four (num_gpus, gpus_per_node, scale_up, scale_out); the model
// has a layer count that is not a number and no max_position_embeddings
const file = tempFile(
  'seven.json',
  JSON.stringify({
    format: 'meshplan-cases/1',
    cases: [
      {
        id: 'seven',
        source: 'test',
        model: { model_type: 'llama', hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: true, num_attention_heads: 32, vocab_size: 32000 },
        hardware: { a: 1, gpu: { name: 'x', memory_gib: 80, tflops: { bf16: 989 }, hbm_tbps: 3.35 } },
        precision: { weights: 'bf16', activations: 'bf16', kv_cache: 'bf16' },
        parallelism: { tp: 1, pp: 1, dp: 1 },
        workload: { kind: 'inference', mode: 'static', input_tokens: 128, output_tokens: 128, batch: 1 },
        measured: { metric: 'output_tokens_per_s', value: 100 },
      },
    ],
  }),
)

describe('a case file with seven problems', () => {

  it('exits 2 with three lines: the first two problems, each with its JSON path, then the count of the rest and their paths', async () => {
    const r = await meshplan('validate', file)
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    const lines = r.stderr.split('\n')
    expect(lines).toHaveLength(3)
    expect(lines[0]).toContain('cases[0].hardware.a: no field "a" here')
    expect(lines[1]).toContain('cases[0].hardware.num_gpus')
    expect(lines[2]).toBe('meshplan validate: and 5 more problems: cases[0].hardware.gpus_per_node, cases[0].hardware.scale_up, cases[0].hardware.scale_out, cases[0].model.num_hidden_layers, cases[0].model.max_position_embeddings')
  })
})

describe('one cap, counted once', () => {
  it('a case file of three such cases: 3 · 7 = 21 problems, the first 2 shown and 21 − 2 = 19 counted (a file\'s issues are not cut short before the cap)', async () => {
    const one = JSON.parse(fs.readFileSync(file, 'utf8')) as { format: string; cases: Array<Record<string, unknown>> }
    const three = tempFile('three.json', JSON.stringify({ ...one, cases: [0, 1, 2].map((i) => ({ ...one.cases[0], id: `c${i}` })) }))
    const r = await meshplan('validate', three)
    expect(r.code).toBe(2)
    const lines = r.stderr.split('\n')
    expect(lines).toHaveLength(3)
    expect(lines[2]).toMatch(/^meshplan validate: and 19 more problems: cases\[0\]\.hardware\.gpus_per_node, .* and 11 more fields$/)
  })

  it('a training plan that does not decode fails in three lines, each after "meshplan check: " (six problems: 2 shown, 4 named)', async () => {
    const plan = tempFile(
      'training.yaml',
      ['format: meshplan-plan/1', 'model: llama-2-7b', 'cluster: { system: dgx-h100, nodes: 1 }', 'parallelism: { tp: x, dp: y, pp: z }', 'workload: { kind: training, global_batch: -8, micro_batch: q, seq_len: 0 }', ''].join('\n'),
    )
    const r = await meshplan('check', plan)
    expect(r.code).toBe(2)
    const lines = r.stderr.split('\n')
    expect(lines).toHaveLength(3)
    for (const line of lines) expect(line.startsWith('meshplan check: ')).toBe(true)
    expect(lines[2]).toBe('meshplan check: and 4 more problems: plan.parallelism.dp, plan.workload.global_batch, plan.workload.micro_batch, plan.workload.seq_len')
  })

  it('five bad flags fail in three lines: the first two whole, then "and 3 more problems" (the flag parser goes through the same cap)', async () => {
    const r = await meshplan('estimate', '--tp', '-1', '--pp', '-2', '--dp', 'x', '--cp', '0', '--ep', '-3')
    expect(r.code).toBe(2)
    expect(r.stderr.split('\n')).toEqual([
      'meshplan estimate: --tp: expected a positive integer (1 or more), got "-1"',
      'meshplan estimate: --pp: expected a positive integer (1 or more), got "-2"',
      'meshplan estimate: and 3 more problems',
    ])
  })

  it('a training step that breaks four laws fails in three lines, as a serving one does', async () => {
    const r = await meshplan('estimate', '--train', '--model', 'llama-3.1-8b', '--cluster', 'dgx-h100', '--tp', '3', '--pp', '5', '--global-batch', '7')
    expect(r.code).toBe(1)
    const lines = r.stderr.split('\n')
    expect(lines).toHaveLength(3)
    expect(lines[0]).toBe('meshplan estimate: 15 GPUs asked for, the cluster has 8 (use at most 8 GPUs)')
    expect(lines[2]).toBe('meshplan estimate: and 2 more problems')
  })
})
