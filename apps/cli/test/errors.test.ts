// A failure's message stays short: the first problems, then how many more there are.
import { ERROR_LINES, errorLines } from '../src/commands'
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

describe('a case file with seven problems', () => {
  // hardware: an unknown field and four missing fields (num_gpus, gpus_per_node, scale_up, scale_out); the model: a layer count
  // that is not a number and no max_position_embeddings
  const file = tempFile(
    'six.json',
    JSON.stringify({
      format: 'meshplan-cases/1',
      cases: [
        {
          id: 'six',
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
