// End-to-end tests of the planner commands: spawn the built `meshplan` binary and read what it prints.
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { Output } from '../src/commands'
import { meshplan, spawnMeshplan, tempFile } from './cli'

const examplePlan = path.join(__dirname, '..', '..', '..', 'examples', 'reference-plan.yaml')
const calibration = path.resolve(__dirname, '../../../validation/calibration.json')

const expectCleanFailure = (r: Output) => {
  expect(r.code).toBe(2)
  expect(r.stdout).toBe('')
  expect(r.stderr).not.toBe('')
  expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/)
}

interface CheckJson {
  schema: string
  passes: boolean
  claims: Array<{ metric: string; holds: boolean; computed: number | null; claimed: number; deviation: number | null }>
  estimate: { gpus: number; batch: number; memory: { weights_bytes: number } }
  best: { top: Array<{ output_tokens_per_second_per_gpu: number }> }
}

describe('meshplan check of the reference plan', () => {
  let text: Output
  let r: Output
  let audit: CheckJson
  beforeAll(async () => {
    text = await meshplan('check', examplePlan)
    r = await meshplan('check', examplePlan, '--json')
    audit = JSON.parse(r.stdout) as CheckJson
  })
  const verdict = (metric: string) => audit.claims.find((c) => c.metric === metric)

  it('exits 1: some claims fail', async () => {
    expect(text.code).toBe(1)
    expect(r.code).toBe(1)
    expect(audit.schema).toBe('meshplan/check/2')
    expect(audit.passes).toBe(false)
  })

  it('reports what holds as holding: 128 of 128 GPUs', async () => {
    expect(verdict('gpus_used')).toMatchObject({ holds: true, computed: 128 })
    expect(text.stdout).toMatch(/holds\s+gpus_used = 128: computed 128/)
  })

  it('fails "1 expert per GPU": 1/2 of 1 expert in each of 16 MoE layers = 8 whole experts', async () => {
    // 64 experts / ep 64 = 1 per layer, 1/etp = 1/2 of it, 16 layers: 16 shards x 1/2 = 8
    expect(verdict('experts_per_gpu')).toMatchObject({ holds: false, computed: 8, claimed: 1 })
  })

  it('fails "~69 MB per GPU": the parameters alone are 168,068,096 x 2 B = 336,136,192 B', async () => {
    // per GPU: embedding 16,000 x 1024 + LM head 16,000 x 1024 (vocab split by tp 2) = 32,768,000;
    // per layer: attention 4 x 1024 x 1024 / 2 = 2,097,152, norms 2 x 1024 = 2,048, router 64 x 1024 = 65,536,
    // one expert's half: 3 x 1024 x 4096 / 2 = 6,291,456; x 16 layers = 135,299,072; + final norm 1024
    // 32,768,000 + 135,299,072 + 1,024 = 168,068,096 parameters
    expect(audit.estimate.memory.weights_bytes).toBe(336_136_192)
    expect(verdict('weight_memory_per_gpu')).toMatchObject({ holds: false, computed: 336_136_192 })
  })

  it('judges every claim of the document: TFLOPS, throughput, TPOT and load balance', async () => {
    for (const metric of ['flops_per_gpu', 'output_tokens_per_s', 'tpot', 'load_imbalance']) {
      const v = verdict(metric)
      expect(v).toBeDefined()
      expect(typeof v?.computed).toBe('number')
    }
    expect(audit.claims).toHaveLength(7)
  })

  it('names the best strategy for the same model, cluster and workload', async () => {
    expect(audit.best.top.length).toBeGreaterThan(0)
    expect(text.stdout).toContain('best strategy the planner finds for the same model, cluster and workload')
  })

  it('takes workload overrides from flags', async () => {
    const static32 = JSON.parse((await meshplan('check', examplePlan, '--json', '--mode', 'static', '--batch', '32')).stdout) as CheckJson
    expect(static32.estimate.batch).toBe(32)
  })
})

describe('meshplan example', () => {
  let r: Output
  beforeAll(async () => {
    r = await meshplan('example')
  })

  it('runs the audit, then the plan, and exits 0', async () => {
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout).toContain('audit of EP64 x TP2 reference deployment')
    expect(r.stdout).toContain('best strategies by output tokens/s per GPU:')
    expect(r.stdout).toContain('Pareto front')
  })
})

describe('meshplan plan', () => {
  type PlanJson = { schema: string; top: Array<{ strategy: { tp: number; dp: number } }>; candidates: number; feasible: number; rejected: Record<string, number> }

  it('finds many small replicas for a small model on a large cluster', async () => {
    // at a fixed batch of 32 per replica, Llama-2-7B on one H100 per replica avoids every collective: 16 replicas win
    const fixed = await meshplan('plan', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--nodes', '2', '--batch', '32', '--json')
    expect(fixed.code).toBe(0)
    const plan = JSON.parse(fixed.stdout) as PlanJson
    expect(plan.schema).toBe('meshplan/plan/2')
    expect(plan.top[0]?.strategy).toMatchObject({ tp: 1, dp: 16 })
    expect(plan.feasible + Object.values(plan.rejected).reduce((a, b) => a + b, 0)).toBe(plan.candidates)
    // with the batch free, memory decides: the winner is still made of at least 8 replicas
    const free = JSON.parse((await meshplan('plan', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--nodes', '2', '--json')).stdout) as PlanJson
    expect(free.top[0]?.strategy.dp).toBeGreaterThanOrEqual(8)
  })

  it('exits 1 when no strategy meets the objectives, and counts why', async () => {
    const r = await meshplan('plan', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--max-tpot', '1ms', '--json')
    expect(r.code).toBe(1)
    const plan = JSON.parse(r.stdout) as { top: unknown[]; rejected: Record<string, number> }
    expect(plan.top).toHaveLength(0)
    expect(plan.rejected['tpot']).toBeGreaterThan(0)
  })

  it('rejects bad objectives with exit 2, and a duration without its unit', async () => {
    const r = await meshplan('plan', '--max-tpot', 'soon')
    expectCleanFailure(r)
    expect(r.stderr).toContain('--max-tpot: ')
    expect(r.stderr).toContain('got "soon"')
    const bare = await meshplan('plan', '--max-tpot', '40')
    expectCleanFailure(bare)
    expect(bare.stderr).toContain('--max-tpot: give a unit, e.g. "40ms" or "40s", got "40"')
  })

  it('takes durations with their units: --max-tpot 40ms is 0.04 s, --max-ttft 2s is 2 s', async () => {
    const r = await meshplan('plan', '--model', 'llama-3.1-8b', '--cluster', 'dgx-h100', '--max-tpot', '40ms', '--max-ttft', '2s', '--json')
    expect(r.code).toBe(0)
    const plan = JSON.parse(r.stdout) as { top: Array<{ tpot_seconds: number; ttft_seconds: number }>; note: string | null }
    for (const e of plan.top) {
      expect(e.tpot_seconds).toBeLessThanOrEqual(0.04)
      expect(e.ttft_seconds).toBeLessThanOrEqual(2)
    }
    expect(plan.note).toBeNull()
  })

  it('says what it ranks by, and why the top rows may be slow, when no objective is given', async () => {
    const r = await meshplan('plan', '--model', 'llama-3.1-8b', '--cluster', 'dgx-h100', '--json')
    const plan = JSON.parse(r.stdout) as { ranked_by: string; note: string | null }
    expect(plan.ranked_by).toBe('tokens_per_second_per_gpu')
    expect(plan.note).toContain('no objectives were given')
    const text = await meshplan('plan', '--model', 'llama-3.1-8b', '--cluster', 'dgx-h100')
    expect(text.stdout).toContain('best strategies by output tokens/s per GPU:')
    expect(text.stdout).toContain('give --max-ttft and --max-tpot')
  })

  it('ranks by request latency in latency mode', async () => {
    const r = await meshplan('plan', '--model', 'llama-3.1-8b', '--cluster', 'dgx-h100', '--mode', 'latency', '--json')
    const plan = JSON.parse(r.stdout) as { ranked_by: string; top: Array<{ request_latency_seconds: number }> }
    expect(plan.ranked_by).toBe('request_latency')
    const latencies = plan.top.map((e) => e.request_latency_seconds)
    expect(latencies).toEqual([...latencies].sort((a, b) => a - b))
  })

  it('refuses a flag that does not apply: --batch in max_throughput, --workers without --train, --global-batch without --train', async () => {
    const batch = await meshplan('plan', '--model', 'llama-3.1-8b', '--cluster', 'dgx-h100', '--mode', 'max_throughput', '--batch', '8')
    expectCleanFailure(batch)
    expect(batch.stderr).toContain('--batch: applies to --mode static only')
    const workers = await meshplan('plan', '--model', 'llama-3.1-8b', '--workers', '2')
    expectCleanFailure(workers)
    expect(workers.stderr).toContain('--workers: applies to training searches')
    const training = await meshplan('plan', '--global-batch', '64')
    expectCleanFailure(training)
    expect(training.stderr).toContain('--global-batch: applies to training; add --train')
    const serving = await meshplan('plan', '--train', '--global-batch', '64', '--max-tpot', '40ms')
    expectCleanFailure(serving)
    expect(serving.stderr).toContain('--max-tpot: applies to serving')
  })

  it('suggests the flag meant, and says a degree must be positive', async () => {
    const typo = await meshplan('plan', '--nodez', '2')
    expectCleanFailure(typo)
    expect(typo.stderr).toContain("unknown option '--nodez'")
    expect(typo.stderr).toContain('did you mean --nodes?')
    const negative = await meshplan('estimate', '--tp', '-8')
    expectCleanFailure(negative)
    expect(negative.stderr).toContain('--tp: expected a positive integer (1 or more), got "-8"')
    const estimateWorkers = await meshplan('estimate', '--workers', '2')
    expectCleanFailure(estimateWorkers)
    expect(estimateWorkers.stderr).toContain("unknown option '--workers'")
  })
})

describe('meshplan estimate', () => {
  it('shards an MoE model\'s experts over TP when there is no expert parallelism: Mixtral-8x7B fits on 8 H100s at TP8', async () => {
    const r = await meshplan('estimate', '--model', 'mixtral-8x7b', '--cluster', 'dgx-h100', '--tp', '8', '--json')
    expect(r.code).toBe(0)
    const e = JSON.parse(r.stdout) as { strategy: { tp: number; ep: number; etp: number }; memory: { weights_bytes: number } }
    expect(e.strategy).toMatchObject({ tp: 8, ep: 1, etp: 8 })
    // 46.7B parameters in bf16 over 8 GPUs: about 11.7 GB each (experts replicated on every GPU would be 90 GB)
    expect(e.memory.weights_bytes).toBeGreaterThan(11e9)
    expect(e.memory.weights_bytes).toBeLessThan(12e9)
    const replicated = await meshplan('estimate', '--model', 'mixtral-8x7b', '--cluster', 'dgx-h100', '--tp', '8', '--etp', '1')
    expectCleanFailure(replicated)
  })

  it('prints the figures and the breakdown of one strategy', async () => {
    const r = await meshplan('estimate', '--model', 'llama-2-70b', '--cluster', 'dgx-h100', '--tp', '8', '--batch', '16')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('TP8 on 8 GPUs')
    expect(r.stdout).toContain('TTFT')
    expect(r.stdout).toContain('where a step of the slowest pipeline stage goes')
  })

  it('exits 1 with every broken law for an invalid strategy', async () => {
    const r = await meshplan('estimate', '--model', 'llama-2-70b', '--cluster', 'dgx-h100', '--tp', '3')
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('tp')
  })

  it('exits 2 when the workload does not fit in memory', async () => {
    const r = await meshplan('estimate', '--model', 'llama-2-70b', '--cluster', 'dgx-h100', '--tp', '8', '--batch', '100000')
    expectCleanFailure(r)
    expect(r.stderr).toContain('does not fit')
  })

  it('exits 2 when the weights alone do not fit', async () => {
    const r = await meshplan('estimate', '--model', 'llama-2-70b', '--cluster', 'dgx-a100-40gb')
    expectCleanFailure(r)
    expect(r.stderr).toContain('leave no room for one sequence')
  })
})

describe('meshplan dag', () => {
  it('writes the reference plan as mermaid, dot and json', async () => {
    const mermaid = await meshplan('dag', examplePlan)
    expect(mermaid.code).toBe(0)
    expect(mermaid.stdout.startsWith('flowchart')).toBe(true)
    expect(mermaid.stdout).toContain('EP all-to-all dispatch')
    expect((await meshplan('dag', examplePlan, '--format', 'dot')).stdout.startsWith('digraph')).toBe(true)
    const json = JSON.parse((await meshplan('dag', examplePlan, '--format', 'json')).stdout) as { schema: string; edges: Array<{ bytes_per_step: number }> }
    expect(json.schema).toBe('meshplan/dag/2')
    expect(json.edges.length).toBeGreaterThan(0)
  })

  it('rejects an unknown format', async () => {
    expectCleanFailure(await meshplan('dag', examplePlan, '--format', 'png'))
  })
})

describe('meshplan validate', () => {
  let r: Output
  beforeAll(async () => {
    r = await meshplan('validate', calibration, '--json')
  })
  const cases = (JSON.parse(fs.readFileSync(calibration, 'utf8')) as { cases: Array<{ id: string; workload: { kind: string } }> }).cases

  it('reports every case, training included, in file order: a number, or null with the reason', async () => {
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout) as { schema: string; cases: Array<{ id: string; predicted: number | null; measured: number; metric: string; note: string; reason?: string }> }
    expect(report.schema).toBe('meshplan/validate/2')
    expect(report.cases.map((c) => c.id)).toEqual(cases.map((c) => c.id))
    expect(cases.some((c) => c.workload.kind === 'training')).toBe(true)
    for (const c of report.cases) {
      // validation/FORMAT.md: null with a reason
      if (c.predicted === null) expect([c.note, c.reason]).toEqual([expect.stringMatching(/not modelled yet/), c.note])
      else expect([c.predicted > 0, c.reason]).toEqual([true, undefined])
    }
    expect(report.cases.filter((c) => c.predicted !== null).length).toBeGreaterThan(cases.length / 2)
  })

  it('prints a table and the summaries as text', async () => {
    const text = await meshplan('validate', calibration)
    expect(text.stdout).toContain('absolute error per kind:')
    expect(text.stdout).toMatch(/inference: median \d+\.\d%, p90 \d+\.\d%/)
    for (const group of ['source', 'hardware generation', 'format', 'mode']) expect(text.stdout).toContain(`absolute error per ${group}:`)
    expect(text.stdout).toMatch(/ {2}trtllm 0\.9\.0: median/)
  })

  it('names the path of a malformed case', async () => {
    const file = tempFile('cases.json', JSON.stringify({ format: 'meshplan-cases/1', cases: [{ id: 'x', workload: { kind: 'inference' } }] }))
    const bad = await meshplan('validate', file)
    expectCleanFailure(bad)
    expect(bad.stderr).toContain('cases[0]')
  })
  it('--leave-one-source-out: each source predicted by constants fitted on the others, listed per source', async () => {
    // two sources of two cases each, so that it runs in seconds
    const ids = ['trtllm-v0.9-h100-llama2-7b-tp1-b896-128-128-tput', 'trtllm-v0.9-a100-80-llama2-70b-tp4-b1024-128-128-tput', 'lmdeploy-a100-llama2-7b-tp1-b1-128-128-tput', 'lmdeploy-a100-llama2-70b-tp4-b1-128-2048-tpot']
    const all = (JSON.parse(fs.readFileSync(calibration, 'utf8')) as { cases: Array<{ id: string }> }).cases
    const file = tempFile('two-sources.json', JSON.stringify({ format: 'meshplan-cases/1', cases: ids.map((id) => all.find((c) => c.id === id)) }))
    const out = await meshplan('validate', file, '--leave-one-source-out', '--json')
    expect(out.code).toBe(0)
    const report = JSON.parse(out.stdout) as { method: string; fits: Array<{ source: string; cases: number; constants: Record<string, number> }>; summary: { all: { predicted: number; p90: number } } }
    expect(report.method).toBe('leave-one-source-out')
    expect(report.fits.map((f) => [f.source, f.cases])).toEqual([
      ['trtllm 0.9.0', 2],
      ['lmdeploy 0.1.0a1', 2],
    ])
    for (const f of report.fits) expect(Object.keys(f.constants)).toEqual(['GEMM_SUSTAINED_FRACTION_AMPERE', 'GEMM_SUSTAINED_FRACTION_HOPPER', 'GEMM_SUSTAINED_FRACTION_BLACKWELL', 'GEMM_SERVING_FRACTION_HOPPER', 'GROUPED_GEMM_K_FACTOR', 'KERNEL_RAMP_SECONDS'])
    expect(report.summary.all.predicted).toBe(4)
    const text = await meshplan('validate', file, '--leave-one-source-out')
    expect(text.stdout).toContain('each source predicted with the fitted constants refitted without its cases:')
    expect(text.stdout).toMatch(/trtllm 0\.9\.0 \(2 cases\): GEMM_SUSTAINED_FRACTION_AMPERE [\d.]+, GEMM_SUSTAINED_FRACTION_HOPPER [\d.]+, GEMM_SUSTAINED_FRACTION_BLACKWELL [\d.]+, GEMM_SERVING_FRACTION_HOPPER [\d.]+, GROUPED_GEMM_K_FACTOR [\d.]+, KERNEL_RAMP_SECONDS/)
  })
})

describe('meshplan estimate --train and plan --train', () => {
  // the case as if Megatron had run fused attention (the file says unfused)
  const fused = (() => {
    const file = JSON.parse(fs.readFileSync(calibration, 'utf8')) as { cases: Array<{ id: string; engine?: unknown }> }
    return tempFile('fused.json', JSON.stringify({ format: 'meshplan-cases/1', cases: file.cases.map((c) => (c.id.startsWith('korthikanti22') ? { ...c, engine: { name: 'megatron' } } : c)) }))
  })()
  const case175b = ['estimate', fused, '--case', 'korthikanti22-175b-a100-seqpar-selective']

  it('estimates a case as written: with its unfused attention (the score matrix through memory) the step is longer than fused', async () => {
    const asWritten = await meshplan('estimate', calibration, '--case', 'korthikanti22-175b-a100-seqpar-selective', '--json')
    const asFused = await meshplan(...case175b, '--json')
    expect([asWritten.code, asFused.code]).toEqual([0, 0])
    const seconds = (r: Output): number => (JSON.parse(r.stdout) as { iteration_seconds: number }).iteration_seconds
    expect(seconds(asWritten)).toBeGreaterThan(seconds(asFused))
  })

  it('estimates the 175B case of the calibration file with a step breakdown and a row per stage class', async () => {
    const r = await meshplan(...case175b)
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('TP8 PP8 VP3 SP')
    expect(r.stdout).toContain('64 micro-batches of 1')
    expect(r.stdout).toContain('where the step goes')
    expect(r.stdout).toContain('pipeline bubble')
    expect(r.stdout).toContain('exposed TP communication')
    // the first and last stages hold the embedding and the LM head; the six in between are one class
    expect(r.stdout).toMatch(/^0 +12 +embedding/m)
    expect(r.stdout).toMatch(/^1-6 \(6\) +12 +-/m)
    expect(r.stdout).toMatch(/^7 +12 +lm_head/m)
  })

  it('--json: the parts of the step add up to the iteration, and the bubble is about (p−1)/(m·v) = 7/192', async () => {
    const r = await meshplan(...case175b, '--json')
    expect(r.code).toBe(0)
    const e = JSON.parse(r.stdout) as {
      schema: string
      iteration_seconds: number
      bubble_fraction: number
      breakdown: { compute: number; bubble: number; optimizer: number; exposed: Record<string, number> }
    }
    expect(e.schema).toBe('meshplan/estimate-training/2')
    const b = e.breakdown
    const sum = b.compute + b.bubble + b.optimizer + Object.values(b.exposed).reduce((a, x) => a + x, 0)
    expect(sum / e.iteration_seconds).toBeCloseTo(1, 9)
    // equal stages would give exactly 7/192 = 3.65%; the first and last stages are slightly slower
    expect(e.bubble_fraction).toBeGreaterThan(0.03)
    expect(e.bubble_fraction).toBeLessThan(0.045)
  })

  it('the same step from flags (preset model and cluster) comes within 15% of the case (its own vocabulary and hardware numbers)', async () => {
    const fromCase = JSON.parse((await meshplan(...case175b, '--json')).stdout) as { iteration_seconds: number }
    const flags = ['--train', '--model', 'gpt3-175b', '--cluster', 'dgx-a100-80gb', '--nodes', '8', '--tp', '8', '--pp', '8', '--vp', '3', '--sp', '--global-batch', '64', '--seq-len', '2048', '--recompute', 'selective']
    const r = await meshplan('estimate', ...flags, '--json')
    expect(r.code).toBe(0)
    const fromFlags = JSON.parse(r.stdout) as { iteration_seconds: number; gpus: number }
    expect(fromFlags.gpus).toBe(64)
    // a preset GPT-3 (vocabulary 50257) on the dgx-a100-80gb preset, against the case's model (51200) and hardware numbers: close, not equal
    expect(Math.abs(fromFlags.iteration_seconds / fromCase.iteration_seconds - 1)).toBeLessThan(0.15)
  })

  it('bad input names the flag and exits 2: ZeRO out of range, a global batch that does not split, a sequence that does not split over cp', async () => {
    const base = ['estimate', '--train', '--model', 'gpt3-175b', '--cluster', 'dgx-a100-80gb', '--nodes', '8', '--tp', '8', '--seq-len', '2048']
    const zero = await meshplan(...base, '--pp', '8', '--global-batch', '64', '--zero', '4')
    expectCleanFailure(zero)
    expect(zero.stderr).toContain('--zero: expected 0, 1, 2 or 3, got "4"')
    const batch = await meshplan(...base, '--pp', '4', '--dp', '2', '--global-batch', '63')
    expectCleanFailure(batch)
    expect(batch.stderr).toContain('--global-batch: 63 is not a multiple of micro_batch × dp = 1 × 2 = 2')
    const sequence = await meshplan(...base, '--pp', '4', '--cp', '2', '--global-batch', '64', '--seq-len', '2047')
    expectCleanFailure(sequence)
    expect(sequence.stderr).toContain('--seq-len: 2047 tokens cannot be split evenly over cp = 2')
  })

  it('a missing global batch, an unknown case and an inference case exit 2 with the reason', async () => {
    const missing = await meshplan('estimate', '--train', '--model', 'llama-2-7b', '--cluster', 'dgx-h100')
    expectCleanFailure(missing)
    expect(missing.stderr).toContain('--global-batch: required for training')
    const unknown = await meshplan('estimate', calibration, '--case', 'no-such-case')
    expectCleanFailure(unknown)
    expect(unknown.stderr).toContain('no case "no-such-case"')
    const inference = await meshplan('estimate', calibration, '--case', 'trtllm-v0.9-h100-llama2-7b-tp1-b1-128-ttft')
    expectCleanFailure(inference)
    expect(inference.stderr).toContain('is not a training case (it is "inference")')
    // a kind that is not a string (an object with a toString) is named, not converted
    const odd = tempFile('odd.json', JSON.stringify({ format: 'meshplan-cases/1', cases: [{ id: 'x', workload: { kind: { toString: 1 } } }] }))
    const r = await meshplan('estimate', odd, '--case', 'x')
    expectCleanFailure(r)
    expect(r.stderr).toContain('its workload.kind is not one of')
    expectCleanFailure(await meshplan('estimate', tempFile('null.json', 'null'), '--case', 'x'))
  })

  it('plan --train searches, ranks by iteration time, counts the rejections, and prints no progress when stderr is not a terminal', async () => {
    const r = await meshplan('plan', '--train', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--global-batch', '64', '--seq-len', '2048', '--top', '3', '--json')
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    const p = JSON.parse(r.stdout) as {
      schema: string
      candidates: number
      fit: number
      rejected: { memory: number; interleaving: number; placement: number; batch: number }
      best: Array<{ iteration_seconds: number; workload: { global_batch: number } }>
    }
    expect(p.schema).toBe('meshplan/plan-training/3')
    expect(p.candidates).toBe(p.fit + p.rejected.memory + p.rejected.interleaving + p.rejected.placement)
    expect(p.best).toHaveLength(3)
    expect(p.best.map((b) => b.iteration_seconds)).toEqual([...p.best.map((b) => b.iteration_seconds)].sort((a, b) => a - b))
    expect(p.best.every((b) => b.workload.global_batch === 64)).toBe(true)
    const text = await meshplan('plan', '--train', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--global-batch', '64', '--seq-len', '2048', '--tp', '2')
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/candidates from \d+ strategies/)
    expect(text.stdout).toMatch(/^1 +TP2/m)
  })
})

describe('meshplan estimate --train / plan --train: offload to host memory and the gradient format', () => {
  const step = ['--train', '--model', 'llama-2-70b', '--cluster', 'dgx-h100', '--nodes', '1', '--tp', '8', '--sp', '--global-batch', '16', '--micro-batch', '2', '--seq-len', '4096']

  it('Llama-2-70B on 8 H100s does not fit; with its weights and optimizer state in host memory it does, and says what moves over the link', async () => {
    const bare = await meshplan('estimate', ...step)
    expect(bare.code).toBe(2)
    expect(bare.stderr).toMatch(/does not fit/)
    const off = await meshplan('estimate', ...step, '--offload', 'weights,optimizer')
    expect(off.code).toBe(0)
    expect(off.stdout).toMatch(/weights, optimizer offloaded to host memory/)
    expect(off.stdout).toMatch(/host memory, fullest GPU +[\d.]+ GB of its share 250 GB/)
    expect(off.stdout).toMatch(/exposed offload traffic \(host link\)/)
  })

  it('refuses an unknown kind with the list, and offload on a cluster that gives no host memory', async () => {
    const bad = await meshplan('estimate', ...step, '--offload', 'weights,kv')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--offload: expected none or a comma-separated list of weights, activations, optimizer, got "weights,kv"/)
    const file = tempFile('bare-cluster.yaml', 'nodes: 1\ndevicesPerNode: 8\ndevice: h100-sxm\nscaleUp: { bandwidth: 450GB/s }\nscaleOut: { bandwidth: 50GB/s }\n')
    const none = await meshplan('estimate', ...step.map((a) => (a === 'dgx-h100' ? file : a)).filter((a, i, all) => !(a === '--nodes' || all[i - 1] === '--nodes')), '--offload', 'weights')
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/workload\.offload.*needs host memory/)
  })

  it('plan --train keeps offload to what does not fit otherwise; --offload none finds nothing for Llama-2-70B on 8 GPUs', async () => {
    const plan = ['plan', '--train', '--model', 'llama-2-70b', '--cluster', 'dgx-h100', '--nodes', '1', '--global-batch', '16', '--seq-len', '4096', '--recompute', 'none']
    const found = await meshplan(...plan)
    expect(found.code).toBe(0)
    expect(found.stdout).toMatch(/^1 +TP\d.*offload/m)
    const none = await meshplan(...plan, '--offload', 'none')
    expect(none.stdout).toMatch(/nothing fits/)
  })

  it('--grad-reduce bf16 halves the gradients a GPU keeps (ZeRO 0, DP1: 2 bytes instead of 4 per parameter)', async () => {
    const args = ['estimate', ...step, '--offload', 'weights,optimizer', '--json']
    const fp32 = JSON.parse((await meshplan(...args)).stdout) as { stages: ReadonlyArray<{ memory: { gradients: number } }> }
    const bf16 = JSON.parse((await meshplan(...args, '--grad-reduce', 'bf16')).stdout) as { stages: ReadonlyArray<{ memory: { gradients: number } }> }
    expect(fp32.stages[0]?.memory.gradients).toBeCloseTo(2 * (bf16.stages[0]?.memory.gradients ?? 0), 0)
  })
})

describe('meshplan estimate --train / plan --train: rank orders', () => {
  const step = ['--train', '--model', 'gpt3-175b', '--cluster', 'dgx-a100-80gb', '--nodes', '16', '--tp', '4', '--cp', '2', '--dp', '16', '--sp', '--global-batch', '512', '--seq-len', '2048', '--recompute', 'selective', '--zero', '1', '--json']

  it('estimate --train --order lays the groups out in that order: the DP pairs in a node instead of the CP pairs changes the step', async () => {
    const cpInNode = JSON.parse((await meshplan('estimate', ...step)).stdout) as { iteration_seconds: number; breakdown: { exposed: { cp: number; dp: number } } }
    const dpInNode = JSON.parse((await meshplan('estimate', ...step, '--order', 'tp-dp-cp-ep-pp')).stdout) as typeof cpInNode
    expect(dpInNode.iteration_seconds).not.toBe(cpInNode.iteration_seconds)
    expect(dpInNode.breakdown.exposed.cp).not.toBe(cpInNode.breakdown.exposed.cp)
  })

  it('refuses an order that is not a permutation of the five dimensions', async () => {
    const r = await meshplan('estimate', ...step, '--order', 'tp-dp-pp')
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--order: order "tp-dp-pp": expected the five dimensions/)
  })
})

describe('meshplan estimate --train: goodput', () => {
  const step = ['estimate', '--train', '--model', 'gpt3-175b', '--cluster', 'dgx-a100-80gb', '--nodes', '8', '--tp', '8', '--pp', '8', '--sp', '--global-batch', '64', '--seq-len', '2048', '--recompute', 'selective']

  it('says what failures and checkpoints cost at Daly\'s interval: GPT-3\'s 2.45 TB written at 100 GB/s, restarts of 10 min, 1e-3 failures per GPU-hour on 64 GPUs', async () => {
    const r = await meshplan(...step, '--checkpoint-bandwidth', '100GB/s', '--restart', '10min', '--failure-rate', '1e-3', '--json')
    expect(r.code).toBe(0)
    interface GoodputJson {
      mtbf_seconds: number
      checkpoint_bytes: number
      checkpoint_seconds: number
      young_interval_seconds: number
      optimal_interval_seconds: number
      goodput: number
      optimal_goodput: number
    }
    const g = (JSON.parse(r.stdout) as { goodput: GoodputJson }).goodput
    // M = 3600 / (64 · 1e-3) = 56,250 s; δ = 14 B · Ψ / 1e11 B/s
    expect(g.mtbf_seconds).toBeCloseTo(56_250, 6)
    expect(g.checkpoint_seconds).toBeCloseTo(g.checkpoint_bytes / 1e11, 9)
    expect(Math.abs(g.checkpoint_bytes / 2.45e12 - 1)).toBeLessThan(0.01)
    // Young's √(2δM) with δ ≈ 24.5 s: √(2 · 24.5 · 56,250) ≈ 1,660 s; Daly's a little below it
    expect(g.young_interval_seconds).toBeCloseTo(Math.sqrt(2 * g.checkpoint_seconds * 56_250), 6)
    expect(g.optimal_interval_seconds).toBeLessThan(g.young_interval_seconds)
    expect(g.goodput).toBe(g.optimal_goodput)
    expect(g.goodput).toBeGreaterThan(0.9)
    expect(g.goodput).toBeLessThan(1)
    const text = await meshplan(...step, '--checkpoint-bandwidth', '100GB/s', '--restart', '10min')
    expect(text.stdout).toContain('time lost to failures and checkpoints')
    expect(text.stdout).toMatch(/failures +1\.97e-5 per GPU-hour \(Llama 3 405B's pre-training/)
    expect(text.stdout).toMatch(/goodput +\d+\.\d% of the wall time trains/)
  })

  it('is null without the flags; a half-given request, or one on serving, exits 2 naming the flag', async () => {
    const plain = JSON.parse((await meshplan(...step, '--json')).stdout) as { goodput: unknown }
    expect(plain.goodput).toBeNull()
    const half = await meshplan(...step, '--restart', '10min')
    expectCleanFailure(half)
    expect(half.stderr).toContain('--checkpoint-bandwidth: the goodput needs the rate a checkpoint is written at')
    const serving = await meshplan('estimate', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--checkpoint-bandwidth', '1GB/s')
    expectCleanFailure(serving)
    expect(serving.stderr).toContain('--checkpoint-bandwidth: applies to training; add --train')
    const bare = await meshplan(...step, '--checkpoint-bandwidth', '100', '--restart', '10min')
    expectCleanFailure(bare)
    expect(bare.stderr).toContain('--checkpoint-bandwidth')
  })
})

describe('a checkpoint\'s formats (quantization_config)', () => {
  // DeepSeek-R1's config from the calibration file, with DeepSeek-V3's block-wise fp8 quantization_config
  const deepseek = (quantized: boolean): string => {
    const file = JSON.parse(fs.readFileSync(calibration, 'utf8')) as { cases: Array<{ id: string; model: Record<string, unknown> }> }
    const found = file.cases.find((c) => c.id === 'gpustack-vllm0.11-h200-deepseek-r1-0528-fp8-tp8-sharegpt')
    if (found === undefined) throw new Error('the DeepSeek-R1 case is in the calibration file')
    const config = quantized ? { ...found.model, quantization_config: { activation_scheme: 'dynamic', fmt: 'e4m3', quant_method: 'fp8', weight_block_size: [128, 128] } } : found.model
    return tempFile(quantized ? 'deepseek-fp8.json' : 'deepseek-bf16.json', JSON.stringify(config))
  }

  it('the FP8 DeepSeek config is planned with fp8 weights and activations without a flag, and says so', async () => {
    const fp8 = deepseek(true)
    const text = await meshplan('estimate', '--model', fp8, '--cluster', 'hgx-h200', '--tp', '8')
    expect(text.code).toBe(0)
    expect(text.stdout.split('\n')[0]).toBe("note: fp8 weights and fp8 activations from the checkpoint's quantization_config (quant_method fp8); --weights, --activations or --precision choose others")
    // --weights fp8 on the unquantized config puts every parameter in one byte; the fp8
    // checkpoint keeps the embedding, LM head (129,280 × 7168 each, over TP 8), the 58
    // routers (7168 × 256 + 256 bias) and the norms in bf16, one more byte each, and its
    // other weights carry a 4-byte scale per 128 × 128 block
    const byConfig = JSON.parse((await meshplan('estimate', '--model', fp8, '--cluster', 'hgx-h200', '--tp', '8', '--json')).stdout) as { memory: { weights_bytes: number } }
    const byFlag = JSON.parse((await meshplan('estimate', '--model', deepseek(false), '--cluster', 'hgx-h200', '--tp', '8', '--weights', 'fp8', '--activations', 'fp8', '--json')).stdout) as { memory: { weights_bytes: number } }
    const sixteenBit = (2 * 129_280 * 7168) / 8 + 58 * (7168 * 256 + 256) + 61 * 2 * 7168 + 7168
    expect(byConfig.memory.weights_bytes).toBeCloseTo(byFlag.memory.weights_bytes + sixteenBit + (byFlag.memory.weights_bytes - sixteenBit) * (4 / 16_384), 0)
    // in fp8 it fits one HGX H200; in bf16 (1.3 TB of weights) nothing does
    const planned = await meshplan('plan', '--model', fp8, '--cluster', 'hgx-h200', '--top', '1', '--json')
    expect((JSON.parse(planned.stdout) as { top: unknown[] }).top).toHaveLength(1)
    const unquantized = await meshplan('plan', '--model', deepseek(false), '--cluster', 'hgx-h200', '--top', '1', '--json')
    expect((JSON.parse(unquantized.stdout) as { top: unknown[] }).top).toHaveLength(0)
  })

  it('an NVFP4 checkpoint on a GPU without an fp4 peak runs with bf16 activations (W4A16), and says so; on B200 in fp4', async () => {
    const file = JSON.parse(fs.readFileSync(deepseek(false), 'utf8')) as Record<string, unknown>
    const nvfp4 = tempFile('deepseek-nvfp4.json', JSON.stringify({ ...file, quantization_config: { quant_method: 'modelopt', quant_algo: 'NVFP4' } }))
    const hopper = await meshplan('estimate', '--model', nvfp4, '--cluster', 'hgx-h200', '--tp', '8')
    expect(hopper.code).toBe(0)
    expect(hopper.stdout.split('\n').slice(0, 2)).toEqual([
      "note: fp4 weights from the checkpoint's quantization_config (quant_method modelopt); --weights, --activations or --precision choose others",
      'note: the checkpoint computes in fp4, which H200 SXM 141GB has no peak in: bf16 activations, the weights widened as they are loaded (as W4A16 / W8A16 kernels run them)',
    ])
    const blackwell = await meshplan('estimate', '--model', nvfp4, '--cluster', 'dgx-b200', '--tp', '8')
    expect(blackwell.stdout.split('\n')[0]).toBe("note: fp4 weights and fp4 activations from the checkpoint's quantization_config (quant_method modelopt); --weights, --activations or --precision choose others")
    // asked for explicitly, fp4 activations on Hopper are refused with the reason, not widened
    const asked = await meshplan('estimate', '--model', nvfp4, '--cluster', 'hgx-h200', '--tp', '8', '--activations', 'fp4')
    expect(asked.code).toBe(2)
    expect(asked.stderr).toContain('fp4')
  })

  it('a flag wins, and the note names only what still comes from the checkpoint', async () => {
    const r = await meshplan('estimate', '--model', deepseek(true), '--cluster', 'hgx-h200', '--nodes', '2', '--tp', '16', '--weights', 'bf16')
    expect(r.stdout.split('\n')[0]).toBe("note: fp8 activations from the checkpoint's quantization_config (quant_method fp8); --weights, --activations or --precision choose others")
    const none = await meshplan('estimate', '--model', deepseek(true), '--cluster', 'hgx-h200', '--nodes', '2', '--tp', '16', '--precision', 'bf16')
    expect(none.stdout).not.toContain('note:')
  })
})

describe('uneven pipeline stages', () => {
  it('layers that do not divide get the split Megatron-LM users take, said in a note: Llama 3.1 405B (126 layers) over 4 stages, 31 + 2 × 32 + 31', async () => {
    const args = ['estimate', '--model', 'llama-3.1-405b', '--cluster', 'dgx-h100', '--nodes', '2', '--tp', '4', '--pp', '4']
    const text = await meshplan(...args)
    expect(text.code).toBe(0)
    // (126 + 2) / 4 = 32 per stage; the first and the last give a slot to the embedding and the loss
    expect(text.stdout.split('\n')[0]).toBe(
      'note: 126 layers do not divide into 4 equal chunks; split as Megatron-LM users do: embedding and loss in the split, 31 + 2 × 32 + 31 layers per stage (choose another with --first-stage-layers / --last-stage-layers or --embedding-in-pipeline-split / --loss-in-pipeline-split)',
    )
    expect(text.stdout).toContain('TP4 PP4 (embedding and loss in the split)')
    const json = JSON.parse((await meshplan(...args, '--json')).stdout) as { strategy: Record<string, unknown> }
    expect(json.strategy).toMatchObject({ pp: 4, embedding_in_pipeline_split: true, loss_in_pipeline_split: true })
  })

  it('a split given by flags is taken as given, without a note: 6 + 2 × 8 + 10 layers of Llama 2 7B', async () => {
    const r = await meshplan('estimate', '--train', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--tp', '2', '--pp', '4', '--first-stage-layers', '6', '--last-stage-layers', '10', '--global-batch', '64', '--seq-len', '2048')
    expect(r.code).toBe(0)
    expect(r.stdout).not.toContain('note:')
    expect(r.stdout).toMatch(/^0 +6 +embedding/m)
    expect(r.stdout).toMatch(/^1-2 \(2\) +8 +-/m)
    expect(r.stdout).toMatch(/^3 +10 +lm_head/m)
  })

  it('a split that breaks Megatron-Core\'s rule exits 1 with the law; plan refuses the flags, exit 2', async () => {
    const bad = await meshplan('estimate', '--train', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--tp', '2', '--pp', '4', '--first-stage-layers', '30', '--last-stage-layers', '10', '--global-batch', '64')
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('the -8 layers left between the first and the last stage cannot be split evenly into 2 middle stages')
    const plan = await meshplan('plan', '--train', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--first-stage-layers', '3', '--global-batch', '64')
    expectCleanFailure(plan)
    expect(plan.stderr).toContain('--first-stage-layers: the search cuts the layers itself')
  })

  it('a plan file keeps its split unless --pp or --vp changes the stages', async () => {
    const plan = tempFile(
      'uneven.yaml',
      ['format: meshplan-plan/1', 'model: llama-3.1-405b', 'cluster: { system: dgx-h100, nodes: 2 }', 'parallelism: { tp: 4, pp: 4, first_stage_layers: 30, last_stage_layers: 32 }', 'workload: { kind: inference, mode: static, input_tokens: 512, output_tokens: 64, batch: 8 }'].join('\n'),
    )
    const kept = JSON.parse((await meshplan('estimate', plan, '--json')).stdout) as { strategy: Record<string, unknown> }
    expect(kept.strategy).toMatchObject({ first_stage_layers: 30, last_stage_layers: 32 })
    const changed = await meshplan('estimate', plan, '--pp', '2', '--tp', '8', '--json')
    expect(changed.code).toBe(0)
    // 126 / 2 = 63: the even split, no split fields
    expect(Object.keys((JSON.parse(changed.stdout) as { strategy: Record<string, unknown> }).strategy)).not.toContain('first_stage_layers')
  })
})

describe('meshplan presets', () => {
  it('lists models, devices and systems', async () => {
    const r = await meshplan('presets')
    expect(r.code).toBe(0)
    for (const name of ['llama-2-70b', 'deepseek-v3', 'h100-sxm', 'dgx-h100', 'reference']) expect(r.stdout).toContain(name)
    const json = JSON.parse((await meshplan('presets', 'models', '--json')).stdout) as { models: Array<{ name: string }> }
    expect(json.models.map((m) => m.name)).toContain('reference-moe')
  })

  it('lists each device and system with its source under the table when one kind is asked for: Blackwell Ultra and MI325X / MI355X included', async () => {
    const devicesText = (await meshplan('presets', 'devices')).stdout
    for (const name of ['b300', 'gb300', 'mi325x', 'mi355x']) expect(devicesText).toMatch(new RegExp(`^  ${name}: \\S.{20,}`, 'm'))
    expect(devicesText).toContain('  mi355x: AMD Instinct MI355X data sheet')
    const systemsText = (await meshplan('presets', 'systems')).stdout
    for (const name of ['hgx-b300', 'gb300-nvl72', 'mi325x-8', 'mi355x-8']) expect(systemsText).toMatch(new RegExp(`^  ${name}: \\S.{20,}`, 'm'))
    const json = JSON.parse((await meshplan('presets', 'systems', '--json')).stdout) as { systems: Array<{ name: string; source: string }> }
    expect(json.systems.every((s) => s.source.length > 20)).toBe(true)
  })
})

describe('plan files: bad input exits 2 with the JSON path', () => {
  it('names every bad field of a plan', async () => {
    const file = tempFile(
      'plan.yaml',
      ['format: meshplan-plan/1', 'model: lama-2-70b', 'cluster: { system: dgx-h100, nodes: 1 }', 'parallelism: { tp: two }', 'workload: { input_tokens: 0, output_tokens: 10 }', 'claims: [{ metric: speed, equals: 1 }]'].join('\n'),
    )
    const r = await meshplan('check', file)
    expectCleanFailure(r)
    expect(r.stderr).toContain('plan.model')
    expect(r.stderr).toContain('did you mean "llama-2-70b"?')
    expect(r.stderr).toContain('plan.parallelism.tp')
    expect(r.stderr).toContain('plan.workload.input_tokens')
    expect(r.stderr).toContain('plan.claims[0].metric')
  })

  it('requires exactly one comparator per claim', async () => {
    const file = tempFile(
      'plan.json',
      JSON.stringify({ format: 'meshplan-plan/1', model: 'llama-2-7b', cluster: { system: 'dgx-h100', nodes: 1 }, parallelism: {}, workload: { input_tokens: 10, output_tokens: 10 }, claims: [{ metric: 'tpot', at_most: '2ms', at_least: '1ms' }] }),
    )
    const r = await meshplan('check', file)
    expectCleanFailure(r)
    expect(r.stderr).toContain('plan.claims[0]: expected exactly one of equals, about, at_most, at_least')
  })

  it('reports a missing plan argument and a malformed YAML file', async () => {
    expectCleanFailure(await meshplan('check'))
    expectCleanFailure(await meshplan('check', tempFile('plan.yaml', 'format: [unclosed')))
  })
})

describe('every command has --help with examples', () => {
  it.each(['plan', 'estimate', 'check', 'export', 'dag', 'validate', 'presets', 'layout', 'example'])('%s --help', async (command) => {
    const r = await meshplan(command, '--help')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(command === 'example' ? 'built-in example' : 'examples:')
  })
})

describe('the command as a user runs it (the committed bin, a new process)', () => {
  it('--version prints the package version and exits 0', () => {
    const r = spawnMeshplan('--version')
    expect(r.code).toBe(0)
    const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }
    expect(r.stdout.trim()).toBe(version)
  })

  it('exits 2 with one line and no stack trace for a name an object inherits, and 1 for a failing audit', () => {
    for (const name of ['__proto__', 'constructor', 'toString']) {
      const r = spawnMeshplan(name)
      expect(r.code).toBe(2)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/)
    }
    expect(spawnMeshplan('check', examplePlan).code).toBe(1)
  })
})

describe('determinism: the same input gives the same bytes', () => {
  it('plan --train --json is byte-identical on one and two worker threads', async () => {
    const args = ['plan', '--train', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--nodes', '2', '--global-batch', '32', '--seq-len', '2048', '--json']
    const one = await meshplan(...args, '--workers', '1')
    const two = await meshplan(...args, '--workers', '2')
    expect(one.code).toBe(0)
    expect(two.stdout).toBe(one.stdout)
  })

  it('plan --json and validate --json are byte-identical run to run', async () => {
    const plan = ['plan', '--model', 'llama-3.1-8b', '--cluster', 'dgx-h100', '--max-tpot', '40ms', '--json']
    expect((await meshplan(...plan)).stdout).toBe((await meshplan(...plan)).stdout)
  })
})

describe('meshplan check of a training plan (examples/llama-3.1-405b-training.yaml)', () => {
  const trainingPlan = path.join(__dirname, '..', '..', '..', 'examples', 'llama-3.1-405b-training.yaml')

  it('audits every claim against the training estimate, says which hold, shows the search\'s best plans, and exits 1', async () => {
    const r = await meshplan('check', trainingPlan)
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('')
    const out = r.stdout
    expect(out).toContain('llama-3.1-405b, training: tp 8 x pp 16 x dp 64 x cp 1 = 8192 GPUs')
    expect(out).toContain('TP8 PP16 DP64 SP (first 7, last 7 layers)')
    expect(out).toMatch(/claims: \d of 4 hold/)
    for (const metric of ['gpus_used', 'model_flops_per_gpu', 'mfu_full_attention', 'memory_per_gpu']) expect(out).toMatch(new RegExp(`(holds|does not hold) +${metric} `))
    expect(out).toContain('"BF16 MFU 43%"')
    expect(out).toContain('the best plans the search finds for the same model, cluster, global batch and sequence length')
    expect(out).toContain('verdict: the plan does not hold up as written')
  })

  it('refuses serving and deployment flags: the file gives the whole step', async () => {
    const r = await meshplan('check', trainingPlan, '--batch', '8', '--tp', '4')
    expectCleanFailure(r)
    expect(r.stderr).toContain('--batch')
    expect(r.stderr).toContain('does not apply to a training plan')
  })
})

describe('pipeline schedules from the command line (--schedule)', () => {
  it('estimate --speculative: the step verifies the drafted tokens, TPOT falls, the draft\'s passes are in the JSON; a bad spec exits 2 naming the flag', async () => {
    const base = ['estimate', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--mode', 'latency', '--input-tokens', '128', '--output-tokens', '128']
    const plain = JSON.parse((await meshplan(...base, '--json')).stdout) as { tpot_seconds: number; breakdown: { decode: { draft: number } } }
    const eagle = JSON.parse((await meshplan(...base, '--speculative', 'eagle:3:2.5', '--json')).stdout) as { tpot_seconds: number; breakdown: { decode: { draft: number } } }
    expect(plain.breakdown.decode.draft).toBe(0)
    expect(eagle.breakdown.decode.draft).toBeGreaterThan(0)
    // a memory-bound 7B step verifying 4 tokens costs about what a step of 1 does; 2.5 tokens come out of it
    expect(eagle.tpot_seconds).toBeLessThan(plain.tpot_seconds / 2)
    const text = await meshplan(...base, '--speculative', 'ngram:4:1.8')
    expect(text.code).toBe(0)
    expect(text.stdout).toContain('speculative decoding (ngram): 4 drafted tokens verified with one more per sequence in each step, 1.8 produced per step on average; the draft: n-gram lookup on the host')
    const bad = await meshplan(...base, '--speculative', 'draft_model:4:2')
    expectCleanFailure(bad)
    expect(bad.stderr).toMatch(/^meshplan estimate: --speculative: expected METHOD:DRAFT:ACCEPT with METHOD mtp, eagle or ngram/)
  })

  it('estimate --train --schedule zb-h1 says the schedule and shrinks the bubble; dualpipe on an odd pipeline is refused with the flag named', async () => {
    const base = ['estimate', '--train', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--tp', '2', '--pp', '4', '--global-batch', '32', '--seq-len', '4096', '--json']
    const plain = JSON.parse((await meshplan(...base)).stdout) as { breakdown: { bubble: number }; workload: { schedule?: string } }
    const zb = JSON.parse((await meshplan(...base, '--schedule', 'zb-h1')).stdout) as { breakdown: { bubble: number }; workload: { schedule?: string } }
    expect(plain.workload.schedule).toBeUndefined()
    expect(zb.workload.schedule).toBe('zb-h1')
    expect(zb.breakdown.bubble).toBeLessThan(plain.breakdown.bubble / 2)
    const odd = await meshplan('estimate', '--train', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--tp', '2', '--pp', '3', '--global-batch', '30', '--seq-len', '2048', '--schedule', 'dualpipe')
    expectCleanFailure(odd)
    expect(odd.stderr).toBe('meshplan estimate: --schedule: dualpipe needs an even pipeline degree of 2 or more, got pp = 3')
  })

  it('plan --train --schedule narrows the search to it, and the table names each row\'s schedule', async () => {
    const r = await meshplan('plan', '--train', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--global-batch', '32', '--seq-len', '4096', '--schedule', 'dualpipe', '--json')
    expect(r.code).toBe(0)
    const plan = JSON.parse(r.stdout) as { best: Array<{ strategy: { pp?: number }; workload: { schedule?: string } }> }
    expect(plan.best.length).toBeGreaterThan(0)
    for (const c of plan.best) {
      expect(c.workload.schedule).toBe('dualpipe')
      expect((c.strategy.pp ?? 1) % 2).toBe(0)
    }
    const text = await meshplan('plan', '--train', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--global-batch', '32', '--seq-len', '4096', '--top', '3')
    expect(text.stdout).toMatch(/#\s+strategy\s+micro\s+recompute\s+zero\s+schedule\s+iteration/)
  })
})

describe('tensor-parallel communication overlap (--tp-comm-overlap)', () => {
  const base = ['estimate', '--train', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--tp', '8', '--global-batch', '16', '--seq-len', '4096']
  it('hides the TP collectives behind their GEMMs with sequence parallelism, and is refused without it', async () => {
    const off = JSON.parse((await meshplan(...base, '--sp', '--json')).stdout) as { breakdown: { exposed: { tp: number } }; iteration_seconds: number }
    const on = JSON.parse((await meshplan(...base, '--sp', '--tp-comm-overlap', '--json')).stdout) as { breakdown: { exposed: { tp: number } }; iteration_seconds: number; workload: { tp_comm_overlap?: boolean } }
    expect(off.breakdown.exposed.tp).toBeGreaterThan(0)
    expect(on.breakdown.exposed.tp).toBeLessThan(off.breakdown.exposed.tp)
    expect(on.iteration_seconds).toBeLessThan(off.iteration_seconds)
    expect(on.workload.tp_comm_overlap).toBe(true)
    const refused = await meshplan(...base, '--tp-comm-overlap')
    expectCleanFailure(refused)
    expect(refused.stderr).toContain('--tp-comm-overlap: overlapping the tensor-parallel collectives with their GEMMs needs sequence parallelism')
  })

  it('a pipeline schedule needs a pipeline: zb-h1 on pp 1 is refused', async () => {
    const r = await meshplan(...base, '--schedule', 'zb-h1')
    expectCleanFailure(r)
    expect(r.stderr).toContain('--schedule: zb-h1 is a pipeline schedule; with pp = 1 there is no pipeline')
  })
})

describe('how far an estimate can be trusted: intervals and sensitivities', () => {
  interface Interval {
    low: number
    high: number
    coverage: number
    cases: number
    alike: string
    note: string
  }

  it('estimate --json brackets every headline figure at 80% and names the three parameters it is most sensitive to', async () => {
    const r = await meshplan('estimate', '--model', 'llama-3.1-70b', '--cluster', 'dgx-h100', '--tp', '8', '--batch', '64', '--json')
    expect(r.code).toBe(0)
    const e = JSON.parse(r.stdout) as Record<string, unknown> & { intervals: Record<string, Interval>; sensitivities: Array<{ parameter: string; minus: Record<string, number>; plus: Record<string, number> }> }
    const figures = ['ttft_seconds', 'tpot_seconds', 'request_latency_seconds', 'output_tokens_per_second', 'output_tokens_per_second_per_gpu', 'output_tokens_per_second_per_user']
    expect(Object.keys(e.intervals).sort()).toEqual([...figures].sort())
    for (const f of figures) {
      const i = e.intervals[f] as Interval
      expect(i.coverage).toBe(0.8)
      expect(i.low).toBeLessThan(i.high)
      expect(i.cases).toBeGreaterThanOrEqual(9)
      expect(typeof e[f]).toBe('number')
    }
    expect(e.sensitivities).toHaveLength(3)
    for (const s of e.sensitivities) expect(Object.keys(s.minus).sort()).toEqual([...figures].sort())
  })

  it('prints the intervals beside the figures, in their unit, and what they rest on', async () => {
    const r = await meshplan('estimate', '--model', 'llama-3.1-70b', '--cluster', 'dgx-h100', '--tp', '8', '--batch', '64')
    expect(r.stdout).toMatch(/TTFT [\d.]+ m?s \([\d.]+–[\d.]+\)/)
    expect(r.stdout).toContain('in brackets: where 80% of the measurements of the calibration cases most like this one fell')
    expect(r.stdout).toContain('most sensitive to (each moved by -10% and +10%):')
    const t = await meshplan('estimate', '--train', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--tp', '2', '--dp', '4', '--global-batch', '64', '--seq-len', '2048')
    expect(t.stdout).toMatch(/iteration time +[\d.]+ m?s \([\d.]+–[\d.]+\)/)
  })
})

describe('meshplan calibrate and --calibration', () => {
  // memory-bound serving cases of three sources, renamed (no case the defaults were fitted on) and "measured" on
  // hardware whose HBM keeps 0.75 of its rate, so that a calibration has something to find
  const ids = [
    'trtllm-v0.9-h100-llama2-7b-tp1-b896-128-128-tput',
    'trtllm-v0.9-h100-llama2-70b-tp4-b512-128-2048-tput',
    'lmdeploy-a100-llama2-70b-tp4-b1-128-2048-tpot',
    'lmdeploy-a100-llama2-7b-tp1-b1-128-128-tput',
    'trtllm-v0.14-h100-llama3.1-70b-fp16-tp4-128-128-maxtput',
    'trtllm-v0.14-a100-80-llama3.1-8b-fp16-tp1-128-128-maxtput',
  ]
  const all = (JSON.parse(fs.readFileSync(calibration, 'utf8')) as { cases: Array<{ id: string; measured: { metric: string; value: number } }> }).cases
  const slow = tempFile('slow-hbm.json', '{}')
  const hbm = tempFile('hbm.json', JSON.stringify({ format: 'meshplan-calibration/1', parameters: { MEMORY_PEAK_EFFICIENCY: 0.75 } }))
  let predicted: ReadonlyArray<number>
  beforeAll(async () => {
    const mine = ids.map((id) => ({ ...(all.find((c) => c.id === id) as { id: string; measured: { metric: string; value: number } }), id: `mine-${id}` }))
    fs.writeFileSync(slow, JSON.stringify({ format: 'meshplan-cases/1', cases: mine }))
    // validate --calibration: the same cases predicted with the slower HBM become the measurements
    const v = JSON.parse((await meshplan('validate', slow, '--calibration', hbm, '--json')).stdout) as { cases: Array<{ predicted: number }> }
    predicted = v.cases.map((c) => c.predicted)
    fs.writeFileSync(slow, JSON.stringify({ format: 'meshplan-cases/1', cases: mine.map((c, i) => ({ ...c, measured: { ...c.measured, value: predicted[i] } })) }))
  })

  it('validate --calibration predicts with the calibration: slower HBM, fewer tokens/s', async () => {
    const plain = JSON.parse((await meshplan('validate', slow, '--json')).stdout) as { cases: Array<{ predicted: number; measured: number; metric: string }> }
    plain.cases.forEach((c, i) => {
      if (c.metric === 'tpot_ms') expect(c.predicted).toBeLessThan(predicted[i] as number)
      else expect(c.predicted).toBeGreaterThan(predicted[i] as number)
    })
  })

  it(
    'calibrate finds the slower HBM, prints before and after, in-sample and cross-validated, and writes the file the other commands take',
    async () => {
      const out = tempFile('cal.json', '')
      const r = await meshplan('calibrate', slow, '--out', out)
      expect(r.code).toBe(0)
      expect(r.stdout).toContain('calibrated on 6 cases from 3 sources; cross-validated over 3 folds by source')
      // the prior keeps each move small: HBM 5% down, and Hopper's serving GEMM share and the kernel ramp share the rest
      expect(r.stdout).toMatch(/MEMORY_PEAK_EFFICIENCY +0\.85 +0\.8075/)
      expect(r.stdout).toMatch(/GEMM_SERVING_FRACTION_HOPPER +0\.8 +0\.76/)
      expect(r.stdout).toContain('defaults (cross-validated)')
      expect(r.stdout).toContain(`wrote ${out}`)
      const written = JSON.parse(fs.readFileSync(out, 'utf8')) as { format: string; parameters: Record<string, number> }
      expect(written.format).toBe('meshplan-calibration/1')
      expect(written.parameters.MEMORY_PEAK_EFFICIENCY).toBeCloseTo(0.8075, 9)
      const est = await meshplan('estimate', '--model', 'llama-3.1-70b', '--cluster', 'dgx-h100', '--tp', '8', '--batch', '64', '--json', '--calibration', out)
      const base = await meshplan('estimate', '--model', 'llama-3.1-70b', '--cluster', 'dgx-h100', '--tp', '8', '--batch', '64', '--json')
      const tpot = (s: string): number => (JSON.parse(s) as { tpot_seconds: number }).tpot_seconds
      expect(tpot(est.stdout)).toBeGreaterThan(tpot(base.stdout))
      for (const command of [['plan', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--top', '1'], ['check', examplePlan]]) {
        const c = await meshplan(...command, '--calibration', out)
        expect([0, 1]).toContain(c.code)
        expect(c.stderr).toBe('')
      }
    },
    120_000,
  )

  it('exits 1 and writes nothing when the calibration does not beat the defaults', async () => {
    const exact = tempFile('exact.json', JSON.stringify({ format: 'meshplan-cases/1', cases: [] }))
    const plain = JSON.parse((await meshplan('validate', slow, '--json')).stdout) as { cases: Array<{ predicted: number }> }
    const cases = (JSON.parse(fs.readFileSync(slow, 'utf8')) as { cases: Array<{ measured: object }> }).cases
    fs.writeFileSync(exact, JSON.stringify({ format: 'meshplan-cases/1', cases: cases.map((c, i) => ({ ...c, measured: { ...c.measured, value: plain.cases[i]?.predicted } })) }))
    const out = path.join(path.dirname(exact), 'never.json')
    const r = await meshplan('calibrate', exact, '--out', out)
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('not written: the cases move no parameter from its default')
    expect(fs.existsSync(out)).toBe(false)
  }, 120_000)

  it('a bad calibration file exits 2 with the path, the value and what was expected; no case file exits 2', async () => {
    const bad = tempFile('bad.json', JSON.stringify({ format: 'meshplan-calibration/1', parameters: { MEMORY_PEAK_EFFICIENCY: 2 } }))
    for (const command of [['estimate', '--model', 'llama-2-7b', '--cluster', 'dgx-h100'], ['validate', calibration], ['plan', '--model', 'llama-2-7b', '--cluster', 'dgx-h100'], ['check', examplePlan]]) {
      const r = await meshplan(...command, '--calibration', bad)
      expectCleanFailure(r)
      expect(r.stderr).toContain('calibration.parameters.MEMORY_PEAK_EFFICIENCY: expected a number from 0.6 to 0.95')
    }
    expectCleanFailure(await meshplan('calibrate'))
    expectCleanFailure(await meshplan('calibrate', path.join(path.dirname(bad), 'missing.json')))
    expectCleanFailure(await meshplan('validate', calibration, '--calibration', bad, '--leave-one-source-out'))
  })
})

describe('meshplan check judges the throughput and latency claims together', () => {
  it('says the reference plan serves 450,000 tokens/s and a 2 ms TPOT at no operating point, with the closest ones (--json: joint)', async () => {
    const r = await meshplan('check', examplePlan, '--json')
    expect(r.code).toBe(1)
    const a = JSON.parse(r.stdout) as { joint: { metrics: string[]; together: boolean; points: number; best_latency_meeting_throughput: { output_tokens_per_second: number; tpot: number } | null; lowest_latency: { tpot: number; batch: number }; smallest: unknown; smallest_problem: string } }
    expect(a.joint.metrics).toEqual(['output_tokens_per_s', 'tpot'])
    expect(a.joint.together).toBe(false)
    expect(a.joint.points).toBeGreaterThan(10)
    expect(a.joint.best_latency_meeting_throughput?.output_tokens_per_second).toBeGreaterThanOrEqual(450_000)
    expect(a.joint.lowest_latency.tpot).toBeGreaterThan(0.002)
    expect(a.joint.smallest).toBeNull()
    expect(a.joint.smallest_problem).toMatch(/no deployment of 1 to 128 GPUs/)
    const text = await meshplan('check', examplePlan)
    expect(text.stdout).toContain('claims together (output_tokens_per_s, tpot): at no operating point of the plan as written')
    expect(text.stdout).toContain('best latency meeting the throughput claims:')
    expect((await meshplan('example')).stdout).toContain('claims together (output_tokens_per_s, tpot)')
  }, 60_000)
})

describe('redundant experts (--redundant-experts)', () => {
  it('layout: DeepSeek-V3 over ep 72 with 32 redundant slots holds, 4 slots per GPU, ranks 64-71 with replicas of experts 0-31', async () => {
    const r = await meshplan('layout', '--model', 'deepseek-v3', '--cluster', 'dgx-h100', '--nodes', '9', '--dp', '72', '--ep', '72', '--redundant-experts', '32')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('experts: 4 slots of 288 (256 routed + 32 redundant) per MoE layer')
    expect(r.stdout).toContain('expert-parallel ranks 64-71 (8) hold replicas of experts 0-31, 4 per rank')
    const j = JSON.parse((await meshplan('layout', '--model', 'deepseek-v3', '--cluster', 'dgx-h100', '--nodes', '9', '--dp', '72', '--ep', '72', '--redundant-experts', '32', '--json')).stdout) as { redundant_experts: number; replicas: Array<{ ep_rank: number; experts: number[] }> }
    expect(j.redundant_experts).toBe(32)
    expect(j.replicas[0]).toEqual({ ep_rank: 64, experts: [0, 1, 2, 3] })
    // without them, the law fails and says how to mend it
    const without = await meshplan('layout', '--model', 'deepseek-v3', '--cluster', 'dgx-h100', '--nodes', '9', '--dp', '72', '--ep', '72')
    expect(without.code).toBe(1)
    expect(without.stdout).toContain('or add redundant experts so that ep divides the slots')
  })

  it('estimate serves with them; training refuses them; a count that is not a positive integer exits 2', async () => {
    const e = await meshplan('estimate', '--model', 'deepseek-v3', '--cluster', 'dgx-h100', '--nodes', '9', '--dp', '72', '--ep', '72', '--redundant-experts', '32', '--precision', 'fp8', '--batch', '8', '--json')
    expect(e.code).toBe(0)
    const without = await meshplan('estimate', '--model', 'deepseek-v3', '--cluster', 'dgx-h100', '--nodes', '9', '--dp', '72', '--ep', '72', '--precision', 'fp8', '--batch', '8')
    expect(without.code).toBe(1)
    expectCleanFailure(await meshplan('estimate', '--train', '--model', 'deepseek-v3', '--cluster', 'dgx-h100', '--nodes', '9', '--dp', '72', '--ep', '72', '--redundant-experts', '32', '--global-batch', '72'))
    expectCleanFailure(await meshplan('layout', '--model', 'deepseek-v3', '--redundant-experts', '-3'))
  })

  it('a plan file gives them in its parallelism: estimate, check and dag honour them, export says it cannot yet', async () => {
    const plan = (extra: string) =>
      tempFile(
        `ds-ep72${extra === '' ? '' : '-slots'}.yaml`,
        ['format: meshplan-plan/1', 'model: deepseek-v3', 'cluster: { system: dgx-h100, nodes: 9 }', 'precision: { weights: fp8, activations: fp8, kv_cache: bf16 }', `parallelism: { dp: 72, ep: 72${extra} }`, 'workload: { mode: static, input_tokens: 1024, output_tokens: 256, batch: 8 }', 'claims: [{ metric: experts_per_gpu, equals: 232 }]', ''].join('\n'),
      )
    const slots = plan(', redundant_experts: 32')
    expect((await meshplan('estimate', slots)).code).toBe(0)
    expect((await meshplan('estimate', plan(''))).code).toBe(1)
    // (256 + 32)/72 = 4 slots in each of 58 MoE layers: 232 experts' worth on every GPU
    const c = await meshplan('check', slots)
    expect(c.stdout).toContain('holds          experts_per_gpu = 232')
    const d = await meshplan('dag', slots)
    expect(d.stdout).toContain('Experts: 4 slots of 288 (256 routed + 32 redundant) per GPU per layer')
    const x = await meshplan('export', slots, '--engine', 'vllm')
    expectCleanFailure(x)
    expect(x.stderr).toContain('parallelism.redundant_experts: the engines\' expert load balancer options (EPLB) are not exported yet')
  }, 60_000)
})

describe('a disaggregated plan (pools)', () => {
  const example = path.join(__dirname, '..', '..', '..', 'examples', 'deepseek-v3-disaggregated.yaml')

  it('estimate --json reports the prefill pool, the decode pool, each with its figures, and the KV transfer', async () => {
    const r = await meshplan('estimate', example, '--json')
    expect(r.code).toBe(0)
    const e = JSON.parse(r.stdout) as {
      schema: string
      gpus: number
      requests_per_second: number
      output_tokens_per_second: number
      prefill: { instances: number; gpus: number; requests_per_second: number }
      decode: { instances: number; gpus: number; requests_per_second: number; batch: number }
      transfer: { bytes_per_request: number; seconds: number }
    }
    expect(e.schema).toBe('meshplan/estimate-disaggregated/1')
    expect([e.prefill.instances, e.prefill.gpus, e.decode.instances, e.decode.gpus, e.gpus]).toEqual([2, 32, 1, 64, 96])
    // the deployment serves at the slower pool's rate, and its output is that rate times 1024 tokens
    expect(e.requests_per_second).toBeCloseTo(Math.min(e.prefill.requests_per_second, e.decode.requests_per_second), 6)
    expect(e.output_tokens_per_second).toBeCloseTo(e.requests_per_second * 1024, 3)
    // by hand: DeepSeek-V3's MLA cache, (512 + 64) values of 2 bytes in each of 61 layers, for 4,096 prompt tokens
    expect(e.transfer.bytes_per_request).toBe(576 * 2 * 61 * 4096)
    const text = await meshplan('estimate', example)
    expect(text.stdout).toContain('prefill 2 x DP16 EP16 (32 GPUs), decode 1 x DP64 EP64 (64 GPUs)')
    expect(text.stdout).toMatch(/KV cache per request, prefill to decode: 287\.8 MB/)
  })

  it('check audits it: both pools, every claim, the claims together, and the best disaggregated and co-located deployments', async () => {
    const r = await meshplan('check', example)
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('deepseek-v3, disaggregated: prefill 2 x DP16 EP16 (32 GPUs), decode 1 x DP64 EP64 (64 GPUs) = 96 GPUs')
    expect(r.stdout).toContain('algebra: every law holds in both pools')
    expect(r.stdout).toContain('claims: 3 of 3 hold')
    expect(r.stdout).toMatch(/claims together \(output_tokens_per_s, ttft, tpot\): all hold at once at decode batch limit \d+/)
    expect(r.stdout).toMatch(/best disaggregated deployment the planner finds on DGX H100 \(12 nodes, 96 devices\), the plan's TTFT and TPOT claims as objectives: /)
    expect(r.stdout).toMatch(/best co-located deployment: /)
    expect(r.stdout).toContain('verdict: the plan holds up')
    // a TPOT no batch reaches: the claim fails, exit 1, and the claims together point at what would hold
    // (on one node: the search for a smallest deployment of DeepSeek-V3 over 96 GPUs takes seconds)
    const small = [
      'format: meshplan-plan/1',
      'model: llama-3.1-8b',
      'cluster: { system: dgx-h100, nodes: 1 }',
      'pools: { prefill: { instances: 4, parallelism: { tp: 1 } }, decode: { instances: 1, parallelism: { dp: 4 } } }',
      'workload: { mode: max_throughput, input_tokens: 1024, output_tokens: 256 }',
      'claims: [{ metric: output_tokens_per_s, at_least: 1000 }, { metric: tpot, at_most: 100us }]',
      '',
    ].join('\n')
    const t = await meshplan('check', tempFile('tight.yaml', small))
    expect(t.code).toBe(1)
    expect(t.stdout).toContain('claims: 1 of 2 hold')
    expect(t.stdout).toMatch(/at no operating point of the plan as written \(\d+ tried: the decode pool's batch limits, 1 to the most that fit\) do they all hold at once/)
    expect(t.stdout).toContain('verdict: the plan does not hold up as written')
  }, 60_000)

  it('dag draws both pools joined by the KV cache; plan searches its model, cluster and workload, disaggregated and co-located', async () => {
    const d = await meshplan('dag', example)
    expect(d.code).toBe(0)
    expect(d.stdout).toContain('subgraph P_stage0["prefill pool (2 instances of DP16 EP16): stage 0')
    expect(d.stdout).toContain('subgraph D_stage0["decode pool (1 instance of DP64 EP64): stage 0')
    // 4,096 tokens of 61 layers of (512 + 64) 2-byte values = 287,834,112 bytes = 274.5 MiB, over the network: 400 Gb/s = 50 GB/s per GPU
    expect(d.stdout).toContain('P_lm_head -->|"KV cache of one request, prefill to decode: 274.5 MiB over 50 GB/s per GPU"| D_embedding')
    const p = await meshplan('plan', example, '--max-ttft', '2s', '--max-tpot', '50ms')
    expect(p.code).toBe(0)
    expect(p.stdout).toContain('plan for deepseek-v3 on DGX H100 (12 nodes, 96 devices): max_throughput, 4096 prompt + 1024 output tokens')
    expect(p.stdout).toContain('disaggregated deployments (a prefill pool and a decode pool):')
  }, 60_000)

  it('commands that take one deployment say so; flags that give one are refused; a plan with both parallelism and pools, or a pool without instances, exits 2 with the path', async () => {
    const e = await meshplan('export', example, '--engine', 'vllm')
    expectCleanFailure(e)
    expect(e.stderr).toContain('a disaggregated plan (pools)')
    for (const command of ['estimate', 'check', 'dag']) expectCleanFailure(await meshplan(command, example, '--tp', '2'))
    // pools that need more GPUs than the cluster has: 9 x 16 + 64 = 208 of 96, refused as a broken law (exit 1), never priced
    const over = tempFile('over.yaml', fs.readFileSync(example, 'utf8').replace('instances: 2', 'instances: 9'))
    for (const command of ['estimate', 'dag']) {
      const r = await meshplan(command, over)
      expect(r.code).toBe(1)
      expect(r.stdout).toBe('')
      expect(r.stderr).toContain('the prefill pool (144) and the decode pool (64) together use 208 GPUs; the cluster has 96')
    }
    const both = tempFile('both.yaml', fs.readFileSync(example, 'utf8').replace('pools:', 'parallelism: { tp: 8 }\npools:'))
    const r = await meshplan('estimate', both)
    expectCleanFailure(r)
    expect(r.stderr).toContain('plan.pools: expected pools or parallelism, not both')
    const none = tempFile('none.yaml', fs.readFileSync(example, 'utf8').replace('instances: 2', 'instances: 0'))
    const n = await meshplan('estimate', none)
    expectCleanFailure(n)
    expect(n.stderr).toContain('plan.pools.prefill.instances')
  })
})

describe('meshplan plan --disaggregated', () => {
  it('returns disaggregated and co-located deployments for DeepSeek-V3 on 16 nodes under a 2 s TTFT and a 50 ms TPOT', async () => {
    const r = await meshplan('plan', '--model', 'deepseek-v3', '--cluster', 'dgx-h100', '--nodes', '16', '--disaggregated', '--max-ttft', '2s', '--max-tpot', '50ms', '--json')
    expect(r.code).toBe(0)
    const p = JSON.parse(r.stdout) as {
      schema: string
      co_located: { top: Array<{ ttft_seconds: number; tpot_seconds: number }> }
      disaggregated: { top: Array<{ gpus: number; ttft_seconds: number; tpot_seconds: number; prefill: { instances: number }; decode: { instances: number } }> }
      pareto: Array<{ kind: string }>
    }
    expect(p.schema).toBe('meshplan/plan-disaggregated/1')
    expect(p.co_located.top.length).toBeGreaterThan(0)
    expect(p.disaggregated.top.length).toBeGreaterThan(0)
    for (const c of [...p.co_located.top, ...p.disaggregated.top]) {
      expect(c.ttft_seconds).toBeLessThanOrEqual(2)
      expect(c.tpot_seconds).toBeLessThanOrEqual(0.05)
    }
    for (const c of p.disaggregated.top) expect(c.gpus).toBeLessThanOrEqual(128)
    expect(new Set(p.pareto.map((x) => x.kind)).size).toBeGreaterThanOrEqual(1)
    const text = await meshplan('plan', '--model', 'llama-3.1-8b', '--cluster', 'dgx-h100', '--disaggregated', '--max-tpot', '50ms')
    expect(text.stdout).toContain('disaggregated deployments (a prefill pool and a decode pool):')
    expect(text.stdout).toContain('Pareto front of both kinds')
    expectCleanFailure(await meshplan('plan', '--train', '--model', 'llama-3.1-8b', '--cluster', 'dgx-h100', '--global-batch', '8', '--disaggregated'))
  }, 120_000)
})

describe('meshplan estimate --price', () => {
  it('prices an hour of the deployment and a million tokens: all its GPUs charged to the tokens it serves', async () => {
    const r = await meshplan('estimate', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--batch', '64', '--price', '2.5', '--json')
    const e = JSON.parse(r.stdout) as { gpus: number; output_tokens_per_second: number; cost: { per_hour: number; per_million_output_tokens: number; per_million_tokens: number } }
    // one GPU at 2.5 an hour; per million output tokens: 2.5 / 3600 / tokens/s x 1e6; the workload's 1024 prompt tokens per 256 output
    expect(e.cost.per_hour).toBe(2.5 * e.gpus)
    expect(e.cost.per_million_output_tokens).toBeCloseTo(((2.5 * e.gpus) / 3600 / e.output_tokens_per_second) * 1e6, 9)
    expect(e.cost.per_million_tokens).toBeCloseTo(e.cost.per_million_output_tokens / 5, 9)
    const text = await meshplan('estimate', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--batch', '64', '--price', '2.5')
    expect(text.stdout).toMatch(/cost at 2\.50 per GPU-hour: 2\.50 an hour, [\d.]+ per million output tokens/)
    expectCleanFailure(await meshplan('estimate', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--price', '0'))
    expectCleanFailure(await meshplan('estimate', '--train', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--global-batch', '8', '--price', '2'))
  })

  it('takes a price per device: pools on H100 and H200 charged each at its own, 4 x 2 + 4 x 3 = 20 an hour', async () => {
    const plan = tempFile(
      'hetero.yaml',
      [
        'format: meshplan-plan/1',
        'model: llama-3.1-8b',
        'cluster: { system: dgx-h100, nodes: 1 }',
        'pools:',
        '  prefill: { instances: 4, parallelism: { tp: 1 } }',
        '  decode: { instances: 1, parallelism: { dp: 4 }, cluster: { system: hgx-h200, nodes: 1 } }',
        'workload: { mode: max_throughput, input_tokens: 1024, output_tokens: 256 }',
        '',
      ].join('\n'),
    )
    const r = await meshplan('estimate', plan, '--price', 'h100-sxm=2,h200=3', '--json')
    expect(r.code).toBe(0)
    const e = JSON.parse(r.stdout) as { gpus: number; output_tokens_per_second: number; cost: { price_per_gpu_hour: number; per_hour: number; per_million_output_tokens: number } }
    expect(e.cost.per_hour).toBeCloseTo(4 * 2 + 4 * 3, 9)
    expect(e.cost.price_per_gpu_hour).toBeCloseTo(20 / 8, 9)
    expect(e.cost.per_million_output_tokens).toBeCloseTo((20 / 3600 / e.output_tokens_per_second) * 1e6, 9)
    // a list that does not price a device of the deployment, or names no preset, exits 2
    const missing = await meshplan('estimate', plan, '--price', 'h100-sxm=2')
    expectCleanFailure(missing)
    expect(missing.stderr).toContain('--price: no price for H200 SXM 141GB (give its preset name, e.g. h200=P)')
    expectCleanFailure(await meshplan('estimate', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--price', 'h100=2'))
  })
})

describe('meshplan plan --target-rate', () => {
  it('names the fewest GPUs that serve a request rate within the objectives, and exits 1 when none does', async () => {
    const r = await meshplan('plan', '--model', 'llama-3.1-70b', '--cluster', 'dgx-h100', '--nodes', '2', '--max-tpot', '40ms', '--target-rate', '5', '--json')
    expect(r.code).toBe(0)
    const p = JSON.parse(r.stdout) as { target: { requests_per_second: number; found: { gpus: number; tpot_seconds: number; output_tokens_per_second: number }; served: number; most: number } }
    expect(p.target.requests_per_second).toBe(5)
    expect(p.target.found.tpot_seconds).toBeLessThanOrEqual(0.04)
    // requests/s: output tokens/s over the 256 output tokens of the default workload
    expect(p.target.served).toBeCloseTo(p.target.found.output_tokens_per_second / 256, 9)
    expect(p.target.served).toBeGreaterThanOrEqual(5)
    expect(p.target.found.gpus).toBeLessThan(16)
    const none = await meshplan('plan', '--model', 'llama-3.1-70b', '--cluster', 'dgx-h100', '--nodes', '2', '--max-tpot', '40ms', '--target-rate', '100000')
    expect(none.code).toBe(1)
    expect(none.stdout).toMatch(/no deployment of these GPUs serves 100,000 requests\/s within the objectives: the most any serves is [\d.,]+/)
    expectCleanFailure(await meshplan('plan', '--model', 'llama-3.1-70b', '--cluster', 'dgx-h100', '--target-rate', '-1'))
  }, 60_000)

  it('with --disaggregated, names the fewest GPUs of either kind', async () => {
    const r = await meshplan('plan', '--model', 'llama-3.1-70b', '--cluster', 'dgx-h100', '--nodes', '2', '--max-tpot', '40ms', '--target-rate', '5', '--disaggregated', '--json')
    expect(r.code).toBe(0)
    const p = JSON.parse(r.stdout) as { target: { co_located: { found: { gpus: number } | null }; disaggregated: { found: { gpus: number; prefill: { instances: number }; decode: { instances: number } } | null; served: number; sizes: number[] } } }
    expect(p.target.co_located.found?.gpus).toBeGreaterThan(0)
    const d = p.target.disaggregated
    expect(d.served).toBeGreaterThanOrEqual(5)
    // sizes dividing the 16 GPUs, from 2, up to the first whose search serves the rate
    expect(d.sizes[0]).toBe(2)
    expect(d.found?.gpus).toBeLessThanOrEqual(d.sizes[d.sizes.length - 1] ?? 0)
    const text = await meshplan('plan', '--model', 'llama-3.1-70b', '--cluster', 'dgx-h100', '--nodes', '2', '--max-tpot', '40ms', '--target-rate', '5', '--disaggregated')
    expect(text.stdout).toMatch(/fewest GPUs of a disaggregated deployment that serve 5\.00 requests\/s within the objectives: \d+ x .+ prefill \+ \d+ x .+ decode on \d+ GPUs/)
  }, 60_000)
})
