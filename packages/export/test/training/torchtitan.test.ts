import { strategy } from '@meshplan/parallelism'
import { torchtitan022, torchtitanEngine, torchtitanReleases, torchtitanStageLayers } from '../../src'
import { cluster, launchOf, llama405bTraining, models, trainOf, training } from '../fixtures'

const titan = torchtitanEngine(torchtitan022)
const fileOf = (x: ReturnType<typeof trainOf>): string => launchOf(x).files[0]?.text ?? ''

/** The `key = value` line of `section` in a TOML text, as written. */
const tomlLine = (text: string, section: string, key: string): string | undefined => {
  const body = text.split(/^\[/m).find((block) => block.startsWith(`${section}]`))
  return body?.split('\n').find((line) => line.startsWith(`${key} = `))
}

describe('torchtitan v0.2.2 table', () => {
  it('is the newest row, its keys in job_config.py sections, its models in the registry', () => {
    expect(torchtitanReleases[0]).toBe(torchtitan022)
    for (const d of Object.values(torchtitan022.keys)) expect(d.source).toMatch(/^torchtitan\/config\/job_config\.py/)
    expect(torchtitan022.models['llama-3.1-405b']).toEqual(['llama3', '405B'])
  })
})

describe('torchtitanStageLayers (generate_llm_fqn_per_model_part)', () => {
  it('counts the embedding and the output as layers of the first and last stage', () => {
    // 126 + 1 + 1 = 128 effective layers over 16 stages: 8 each, the first and the last one decoder layer less
    expect(torchtitanStageLayers(16, 126, 1, 1)).toEqual([7, ...Array<number>(14).fill(8), 7])
    // 32 + 2 = 34 over 4: 8 each and 2 extra on the first two stages: 9 - 1, 9, 8, 8 - 1
    expect(torchtitanStageLayers(4, 32, 1, 1)).toEqual([8, 9, 8, 7])
    expect(torchtitanStageLayers(4, 32, 0, 0)).toEqual([8, 8, 8, 8])
    // it raises where a weight exceeds the layers per stage
    expect(torchtitanStageLayers(16, 20, 2, 2)).toBeUndefined()
  })
})

describe('torchtitan v0.2.2 job', () => {
  it("writes Llama 3 405B's plan as written: FSDP ZeRO 2 over 64, TP8, PP16 1F1B, the default less-layers", () => {
    const x = trainOf(titan, llama405bTraining())
    expect(x.problems).toEqual([])
    const toml = fileOf(x)
    const want: ReadonlyArray<readonly [string, string, string]> = [
      ['model', 'name', '"llama3"'],
      ['model', 'flavor', '"405B"'],
      ['training', 'local_batch_size', '32'],
      ['training', 'global_batch_size', '2048'],
      ['training', 'seq_len', '8192'],
      ['parallelism', 'data_parallel_replicate_degree', '1'],
      ['parallelism', 'data_parallel_shard_degree', '64'],
      ['parallelism', 'fsdp_reshard_after_forward', '"never"'],
      ['parallelism', 'tensor_parallel_degree', '8'],
      ['parallelism', 'pipeline_parallel_degree', '16'],
      ['parallelism', 'pipeline_parallel_schedule', '"1F1B"'],
      ['parallelism', 'pipeline_parallel_microbatch_size', '1'],
      ['parallelism', 'pipeline_parallel_first_stage_less_layers', '1'],
      ['parallelism', 'pipeline_parallel_last_stage_less_layers', '1'],
      ['activation_checkpoint', 'mode', '"none"'],
    ]
    for (const [section, key, value] of want) expect(tomlLine(toml, section, key)).toBe(`${key} = ${value}`)
    const argv = launchOf(x).commands[1]?.argv ?? []
    expect(argv).toEqual(expect.arrayContaining(['-m', 'torchtitan.train', '--job.config_file', 'job.toml', '--node_rank=$NODE_RANK']))
  })

  it('without a pipeline: micro-batches by gradient accumulation, DDP for ZeRO 0, op-level selective recomputation', () => {
    const toml = fileOf(trainOf(titan, training(models['llama-3.1-8b'], cluster('dgx-h100', 1), { tp: 2, dp: 4, sequenceParallel: true }, { globalBatch: 64, microBatch: 2, zeroStage: 0, recompute: 'selective' })))
    expect(tomlLine(toml, 'training', 'local_batch_size')).toBe('local_batch_size = 2')
    expect(tomlLine(toml, 'parallelism', 'data_parallel_replicate_degree')).toBe('data_parallel_replicate_degree = 4')
    expect(tomlLine(toml, 'parallelism', 'pipeline_parallel_degree')).toBeUndefined()
    expect(tomlLine(toml, 'activation_checkpoint', 'selective_ac_option')).toBe('selective_ac_option = "op"')
  })

  it('MoE: expert and expert-tensor degrees (ETP = TP), fp8 linears', () => {
    const d = training(models['qwen3-235b-a22b'], cluster('dgx-h100', 8), { tp: 4, dp: 16, ep: 16, etp: 4, sequenceParallel: true }, { globalBatch: 256, zeroStage: 3, recompute: 'full' }, { activations: 'fp8' })
    const x = trainOf(titan, d)
    expect(x.problems).toEqual([])
    const toml = fileOf(x)
    expect(tomlLine(toml, 'parallelism', 'expert_parallel_degree')).toBe('expert_parallel_degree = 16')
    expect(tomlLine(toml, 'parallelism', 'expert_tensor_parallel_degree')).toBe('expert_tensor_parallel_degree = 4')
    expect(tomlLine(toml, 'parallelism', 'fsdp_reshard_after_forward')).toBe('fsdp_reshard_after_forward = "always"')
    expect(tomlLine(toml, 'model', 'converters')).toBe('converters = ["quantize.linear.float8"]')
  })
})

describe('torchtitan v0.2.2 refusals', () => {
  it('refuses ZeRO 1 and exports ZeRO 2 (FSDP keeping the weights from forward to backward)', () => {
    const x = trainOf(titan, training(models['llama-3.1-8b'], cluster('dgx-h100', 1), { tp: 2, dp: 4, sequenceParallel: true }, { globalBatch: 64, zeroStage: 1 }))
    expect(x.problems.map((p) => p.code)).toEqual(['zero-stage'])
    expect(x.exported?.workload.zeroStage).toBe(2)
    expect(x.changes).toContainEqual({ what: 'ZeRO stage', from: '1', to: '2' })
  })

  it('refuses ETP other than TP or 1, TP without sequence parallelism, bf16 gradient reduction', () => {
    const w = { globalBatch: 64, microBatch: 1, sequenceLength: 4096, recompute: 'none', zeroStage: 2 } as const
    expect(titan.strategyProblems(models['mixtral-8x7b'], cluster('dgx-h100', 2), strategy({ tp: 4, dp: 4, ep: 8, etp: 2, sequenceParallel: true }), w).map((p) => p.code)).toEqual(['expert-layout'])
    expect(titan.strategyProblems(models['llama-3.1-8b'], cluster('dgx-h100', 1), strategy({ tp: 8 }), w).map((p) => p.code)).toEqual(['sequence-parallel'])
    expect(titan.workloadProblems(models['llama-3.1-8b'], strategy({ tp: 8, sequenceParallel: true }), { ...w, gradientReduce: 'bf16' }, { weights: 'bf16', activations: 'bf16', kvCache: 'bf16' }).map((p) => p.code)).toEqual(['gradient-reduce'])
  })

  it('refuses a model its registry does not have, with nothing to export', () => {
    const x = trainOf(titan, training(models['mixtral-8x7b'], cluster('dgx-h100', 1), { tp: 8, ep: 8, etp: 1, sequenceParallel: true }, { globalBatch: 64, zeroStage: 2 }))
    expect(x.problems.map((p) => p.code)).toEqual(['model'])
    expect(x.launch).toBeUndefined()
  })
})
