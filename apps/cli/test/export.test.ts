// meshplan export: the acceptance commands of the issue, through the command line, and its refusals of bad input.
import * as path from 'node:path'
import type { Output } from '../src/commands'
import { meshplan, tempFile } from './cli'

const repository = path.join(__dirname, '..', '..', '..')
const referencePlan = path.join(repository, 'examples', 'reference-plan.yaml')
const trainingPlan = path.join(repository, 'examples', 'llama-3.1-405b-training.yaml')

interface ExportJson {
  schema: string
  engine: { name: string; version: string; kind: string }
  runs_as_written: boolean
  problems: Array<{ code: string; message: string }>
  exported: { strategy: Record<string, number | boolean>; gpus: number; changes: Array<{ what: string; from: string; to: string }> } | null
  estimates: { plan: { kind: string; output_tokens_per_second?: number; iteration_seconds?: number; fits: boolean } | null; exported: { fits: boolean } | null }
  launch: { nodes: number; commands: Array<{ argv: string[]; line: string; first_node: number; last_node: number }>; files: Array<{ path: string; text: string }>; settings: Array<{ key: string; value: unknown; source: string }> } | null
}

const json = async (...args: string[]): Promise<{ r: Output; x: ExportJson }> => {
  const r = await meshplan('export', ...args, '--json')
  return { r, x: JSON.parse(r.stdout) as ExportJson }
}

const expectInputError = (r: Output, message: RegExp): void => {
  expect(r.code).toBe(2)
  expect(r.stdout).toBe('')
  expect(r.stderr).toMatch(message)
  expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/)
}

describe('meshplan export --model llama-3.1-70b --cluster dgx-h100 --tp 8 --engine vllm', () => {
  it('prints a vllm serve command with --tensor-parallel-size 8 and exits 0', async () => {
    const r = await meshplan('export', '--model', 'llama-3.1-70b', '--cluster', 'dgx-h100', '--tp', '8', '--engine', 'vllm')
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/runs the plan as written/)
    expect(r.stdout).toMatch(/^ {4}vllm serve meta-llama\/Llama-3\.1-70B --tensor-parallel-size 8 /m)
  })

  it('takes the same flags over a plan file: --tp over the plan\'s strategy', async () => {
    const plan = tempFile('dense.yaml', ['format: meshplan-plan/1', 'model: llama-3.1-70b', 'cluster: { system: dgx-h100, nodes: 1 }', 'parallelism: { tp: 4, dp: 2 }', 'workload: { mode: max_throughput, input_tokens: 512, output_tokens: 128 }', ''].join('\n'))
    const { r, x } = await json(plan, '--tp', '8', '--dp', '1', '--engine', 'vllm')
    expect(r.code).toBe(0)
    const argv = x.launch?.commands[0]?.argv ?? []
    expect(argv[argv.indexOf('--tensor-parallel-size') + 1]).toBe('8')
    // the plan's lengths: 512 + 128
    expect(argv[argv.indexOf('--max-model-len') + 1]).toBe('640')
  })
})

describe('meshplan export examples/reference-plan.yaml (attention TP2 × DP64, experts EP64 × ETP2 on 128 GPUs)', () => {
  it('vllm: exits 1, experts over TP × DP are TP128 or EP128 in vLLM, and prints the nearest plan with both estimates', async () => {
    const text = await meshplan('export', referencePlan, '--engine', 'vllm')
    expect(text.code).toBe(1)
    expect(text.stdout).toMatch(/cannot run the plan as written:\n {2}- expert-layout: vLLM 0\.12\.0 splits the experts of a layer over all TP × DP = 2 × 64 = 128 GPUs/)
    expect(text.stdout).toMatch(/nearest plan it runs: .*EP64/)
    expect(text.stdout).toMatch(/^figure\s+plan \(TP2 DP64 EP64 ETP2\)\s+exported \(/m)
    expect(text.stdout).toMatch(/^output tokens\/s\s+[\d,]+\s+[\d,]+$/m)
    const { r, x } = await json(referencePlan, '--engine', 'vllm')
    expect(r.code).toBe(1)
    expect(x.runs_as_written).toBe(false)
    expect(x.exported?.strategy).toMatchObject({ ep: 64, etp: 1 })
    expect(x.estimates.plan?.kind).toBe('serving')
    expect(x.estimates.exported?.fits).toBe(true)
    expect(x.launch?.commands[0]?.line).toMatch(/^vllm serve \$MODEL_PATH .*--enable-expert-parallel/)
  })

  it('sglang: exits 0, one instance of --tp-size 128 with DP attention 64 and --ep-size 64 (MoE TP 128 / 64 = 2) on 16 nodes', async () => {
    const { r, x } = await json(referencePlan, '--engine', 'sglang')
    expect(r.code).toBe(0)
    expect(x.runs_as_written).toBe(true)
    expect(x.launch?.nodes).toBe(16)
    expect(x.launch?.commands[0]?.line).toMatch(/--tp-size 128 --dp-size 64 --enable-dp-attention --ep-size 64 .*--nnodes 16 --node-rank \$NODE_RANK --dist-init-addr \$MASTER_ADDR:20000/)
  })

  it('trtllm: exits 1, attention is TP over the instance or DP with TP1, and prints attention DP128 over EP64 × ETP2', async () => {
    const { r, x } = await json(referencePlan, '--engine', 'trtllm')
    expect(r.code).toBe(1)
    expect(x.problems.map((p) => p.code)).toEqual(['attention-layout'])
    expect(x.exported?.strategy).toMatchObject({ tp: 1, dp: 128, ep: 64, etp: 2 })
    expect(x.exported?.changes).toEqual([
      { what: 'tp', from: '2', to: '1' },
      { what: 'dp', from: '64', to: '128' },
    ])
    expect(x.launch?.files[0]?.text).toMatch(/enable_attention_dp: true\nmoe_tensor_parallel_size: 2/)
    expect(x.launch?.commands[0]?.line).toMatch(/--extra_llm_api_options extra-llm-api-options\.yaml/)
  })
})

describe('meshplan export of the Llama 3 405B training plan', () => {
  it('megatron: exits 1 (ZeRO 2 under a pipeline), and prints torchrun pretrain_gpt.py with every degree of the nearest plan', async () => {
    const text = await meshplan('export', trainingPlan, '--engine', 'megatron')
    expect(text.code).toBe(1)
    expect(text.stdout).toMatch(/- zero-stage: Megatron-LM core_v0\.14\.0/)
    expect(text.stdout).toMatch(/^ {2}nodes 1-1023 \(\$NODE_RANK = 1 \.\.\. 1023\)/m)
    for (const flag of ['--tensor-model-parallel-size 8', '--pipeline-model-parallel-size 16', '--decoder-first-pipeline-num-layers 7', '--decoder-last-pipeline-num-layers 7', '--sequence-parallel', '--micro-batch-size 1', '--global-batch-size 2048', '--seq-length 8192', '--use-distributed-optimizer', '--bf16']) {
      expect(text.stdout).toContain(` ${flag}`)
    }
    const { x } = await json(trainingPlan, '--engine', 'megatron')
    expect(x.engine).toMatchObject({ name: 'megatron', version: 'core_v0.14.0', kind: 'training' })
    expect(x.estimates.plan?.kind).toBe('training')
    expect(x.exported?.changes).toContainEqual({ what: 'ZeRO stage', from: '2', to: '1' })
  })

  it('megatron: --grad-reduce-in-bf16 when the workload reduces gradients in bf16', async () => {
    const plan = tempFile(
      'bf16-grads.yaml',
      ['format: meshplan-plan/1', 'model: llama-3.1-8b', 'cluster: { system: dgx-h100, nodes: 1 }', 'parallelism: { tp: 2, dp: 4, sequence_parallel: true }', 'workload: { kind: training, global_batch: 64, micro_batch: 1, seq_len: 4096, zero_stage: 1, gradient_reduce: bf16 }', ''].join('\n'),
    )
    const { r, x } = await json(plan, '--engine', 'megatron')
    expect(r.code).toBe(0)
    expect(x.launch?.commands[0]?.argv).toContain('--grad-reduce-in-bf16')
  })

  it('torchtitan: exits 0 with the job TOML', async () => {
    const r = await meshplan('export', trainingPlan, '--engine', 'torchtitan')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/ {2}job\.toml:\n {4}\[model\]\n {4}name = "llama3"\n {4}flavor = "405B"/)
    expect(r.stdout).toMatch(/data_parallel_shard_degree = 64/)
  })

  it('from flags with --train, as estimate --train takes them', async () => {
    const { r, x } = await json('--train', '--model', 'llama-3.1-8b', '--cluster', 'dgx-h100', '--tp', '2', '--dp', '4', '--sp', '--global-batch', '64', '--seq-len', '4096', '--zero', '3', '--engine', 'torchtitan')
    expect(r.code).toBe(0)
    expect(x.launch?.files[0]?.text).toMatch(/fsdp_reshard_after_forward = "always"/)
  })
})

describe('meshplan export refuses bad input with exit 2', () => {
  it('without --engine, with an engine or release it does not know', async () => {
    expectInputError(await meshplan('export', referencePlan), /--engine: required, one of vllm, sglang, trtllm, megatron, torchtitan/)
    expectInputError(await meshplan('export', referencePlan, '--engine', 'ollama'), /--engine: expected one of vllm, sglang, trtllm, megatron, torchtitan, got "ollama"/)
    expectInputError(await meshplan('export', referencePlan, '--engine', '__proto__'), /--engine: expected one of/)
    expectInputError(await meshplan('export', referencePlan, '--engine', 'vllm', '--engine-version', '0.3.0'), /vllm 0\.3\.0: no such release in the table; it has 0\.12\.0/)
  })

  it('an engine of the other kind, training flags without --train, flags a training plan does not take', async () => {
    expectInputError(await meshplan('export', trainingPlan, '--engine', 'vllm'), /--engine vllm: a serving engine; a training plan \(or --train\) exports to megatron or torchtitan/)
    expectInputError(await meshplan('export', referencePlan, '--engine', 'megatron'), /--engine megatron: a training engine/)
    expectInputError(await meshplan('export', '--model', 'llama-3.1-8b', '--global-batch', '8', '--engine', 'vllm'), /--global-batch: applies to training; add --train/)
    expectInputError(await meshplan('export', trainingPlan, '--tp', '4', '--engine', 'megatron'), /--tp: does not apply to a training plan/)
    expectInputError(await meshplan('export', '--train', '--model', 'llama-3.1-8b', '--engine', 'megatron'), /--global-batch: required/)
  })

  it('a plan file that does not decode, naming the path', async () => {
    const bad = tempFile('bad.yaml', ['format: meshplan-plan/1', 'model: llama-3.1-8b', 'cluster: { system: dgx-h100, nodes: 1 }', 'parallelism: { tp: eight }', 'workload: { input_tokens: 8, output_tokens: 8 }', ''].join('\n'))
    expectInputError(await meshplan('export', bad, '--engine', 'vllm'), /plan\.parallelism\.tp/)
  })
})
