// End-to-end: spawn the built `meshplan` binary as a user would and read what it prints.
import type { Output } from '../src/commands'
import { meshplan, tempFile } from './cli'


describe('meshplan layout of the reference plan (tp 2, dp 64, ep 64, etp 2 on 128 GPUs)', () => {
  const reference = ['--model', 'reference-moe', '--cluster', 'reference', '--nodes', '16', '--tp', '2', '--dp', '64', '--ep', '64', '--etp', '2']
  let r: Output
  beforeAll(async () => {
    r = await meshplan('layout', ...reference)
  })

  it('succeeds and shows the degree product', async () => {
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout).toContain('tp 2 x pp 1 x dp 64 x cp 1 = 128 GPUs; 128 to be used')
    expect(r.stdout).toContain('ep 64 x etp 2 x edp 1')
  })

  it('shows that each GPU holds half of one expert in each of 16 layers: 16 shards, 8 whole experts, not 1', async () => {
    expect(r.stdout).toContain('experts: 1 of 64 per MoE layer, 1/2 of each: 16 expert shards = the parameters of 8 whole experts')
  })

  it('prints the same facts as JSON', async () => {
    const json = JSON.parse((await meshplan('layout', ...reference, '--json')).stdout) as {
      schema: string
      valid: boolean
      placements: Array<{ count: number; expert_shards: number; whole_experts: number; expert_fraction: number }>
      groups: Array<{ kind: string; size: number; span: string; crosses: string | null }>
    }
    expect(json.schema).toBe('meshplan/layout/1')
    expect(json.valid).toBe(true)
    expect(json.placements).toHaveLength(1)
    expect(json.placements[0]).toMatchObject({ count: 128, expert_shards: 16, whole_experts: 8, expert_fraction: 0.5 })
    // the EP all-to-all group: 64 GPUs, every second one, 4 per 8-GPU node, over the 16 nodes
    expect(json.groups.find((g) => g.kind === 'ep')).toMatchObject({ size: 64, span: '64 ranks: 4 per node x 16 nodes', crosses: 'network' })
    expect(json.groups.find((g) => g.kind === 'tp')).toMatchObject({ size: 2, crosses: 'node' })
  })
})

describe('meshplan layout', () => {
  it('exits 1 and lists every broken law with a suggestion', async () => {
    const r = await meshplan('layout', '--model', 'llama-2-70b', '--cluster', 'dgx-h100', '--nodes', '2', '--tp', '3', '--pp', '2')
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('INVALID: 4 laws broken')
    expect(r.stdout).toContain('[world-size] tp * pp * dp * cp = 3 * 2 * 1 * 1 = 6, but 16 GPUs are to be used')
    expect(r.stdout).toContain('suggestion: tp must divide the attention heads (64); nearest: tp = 2 or 4')
  })

  it('exits 0 for a valid strategy and shows pipeline stages', async () => {
    const r = await meshplan('layout', '--model', 'llama-2-70b', '--cluster', 'dgx-h100', '--nodes', '2', '--tp', '8', '--pp', '2')
    expect(r.code).toBe(0)
    // 80 layers over 2 stages: 0-39 and 40-79
    expect(r.stdout).toContain('GPUs 0-7 (8):')
    expect(r.stdout).toContain('layers 0-39 (40, of which 0 MoE)')
    expect(r.stdout).toContain('layers 40-79 (40, of which 0 MoE)')
  })

  it('reads a cluster file in YAML', async () => {
    const file = tempFile('cluster.yaml', 'system: dgx-h100\nnodes: 4\n')
    const r = await meshplan('layout', '--model', 'llama-2-70b', '--cluster', file, '--tp', '8', '--dp', '4', '--json')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ gpus: 32, valid: true })
    const nodes = await meshplan('layout', '--model', 'llama-2-70b', '--cluster', file, '--nodes', '2')
    expect(nodes.code).toBe(2)
    expect(nodes.stderr).toContain('--nodes: applies to a system preset')
  })
})

describe('meshplan: bad input exits 2 with a clear message and no stack trace', () => {
  const expectClean = (r: Output) => {
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/)
  }

  it('suggests the closest preset names', async () => {
    const r = await meshplan('layout', '--model', 'lama-2-70b', '--cluster', 'dgx-h10')
    expectClean(r)
    expect(r.stderr).toContain('did you mean "llama-2-70b"?')
    expect(r.stderr).toContain('did you mean "dgx-h100"?')
  })

  it('rejects a degree that is not a positive integer, and unknown flags', async () => {
    const r = await meshplan('layout', '--tp', 'two')
    expectClean(r)
    expect(r.stderr).toContain('--tp: expected a positive integer, got "two"')
    expectClean(await meshplan('layout', '--tpp', '2'))
    expectClean(await meshplan('frobnicate'))
  })

  it('names the JSON path of a bad field in a cluster file', async () => {
    const file = tempFile('cluster.json', JSON.stringify({ system: 'dgx-h100', nodes: 2, scaleOut: { bandwidth: 'fast' } }))
    const r = await meshplan('layout', '--cluster', file)
    expectClean(r)
    expect(r.stderr).toContain('cluster.scaleOut.bandwidth: expected a bandwidth like "3.35TB/s" or "400Gb/s", from 1 MB/s to 100 TB/s (a memory or link bandwidth; the fastest HBM in 2026 is 8 TB/s), got "fast"')
  })

  it('names the missing field of a Hugging Face config', async () => {
    const file = tempFile('config.json', JSON.stringify({ model_type: 'llama', hidden_size: 4096, num_hidden_layers: 32, vocab_size: 32000, intermediate_size: 11008 }))
    const r = await meshplan('layout', '--model', file, '--cluster', 'dgx-h100')
    expectClean(r)
    expect(r.stderr).toContain('num_attention_heads')
  })

  it('reports an unreadable file and an invalid order', async () => {
    expectClean(await meshplan('layout', '--model', '/nonexistent/config.json'))
    const r = await meshplan('layout', '--order', 'tp-pp')
    expectClean(r)
    expect(r.stderr).toContain('expected the five dimensions tp, cp, ep, dp, pp')
  })
})

describe('meshplan --help', () => {
  it('prints usage with examples and exits 0', async () => {
    const r = await meshplan('--help')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('examples:')
    expect((await meshplan('layout', '--help')).code).toBe(0)
  })
})
