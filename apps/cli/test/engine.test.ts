// estimate and plan model a named serving engine's release (@meshplan/inference's engine records) with --engine.
import { meshplan } from './cli'

const deployment = ['--model', 'llama-3.1-8b', '--cluster', 'dgx-h100', '--tp', '1', '--dp', '8', '--mode', 'max_throughput', '--input-tokens', '128', '--output-tokens', '128']

describe('--engine', () => {
  it("vLLM 0.6.3 runs at most 256 sequences per replica (its V0 default max_num_seqs), where the idealised engine fills memory up to 1024", async () => {
    const ideal = await meshplan('estimate', ...deployment, '--json')
    const v0 = await meshplan('estimate', ...deployment, '--engine', 'vllm', '--engine-version', '0.6.3', '--json')
    expect([ideal.code, v0.code]).toEqual([0, 0])
    expect(JSON.parse(ideal.stdout).batch).toBe(1024)
    expect(JSON.parse(ideal.stdout).engine).toBeUndefined()
    const e = JSON.parse(v0.stdout)
    expect(e.batch).toBe(256)
    expect(e.engine).toEqual({ name: 'vllm', releases: 'below 0.8.0', source: expect.stringContaining('arg_utils.py') })
  })

  it('without a version, the newest record of the name: vLLM from 0.8.0; the text names it and its source', async () => {
    const r = await meshplan('estimate', ...deployment, '--engine', 'vllm')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^engine: vllm \(from 0\.8\.0\): batch limits, chunked prefill, host time and kernels as vllm\/engine\/arg_utils\.py/m)
  })

  it('plan searches on the engine: its header names it, and no candidate exceeds 256 sequences on vLLM 0.6.3', async () => {
    const r = await meshplan('plan', '--model', 'llama-3.1-8b', '--cluster', 'dgx-h100', '--mode', 'max_throughput', '--input-tokens', '128', '--output-tokens', '128', '--engine', 'vllm', '--engine-version', '0.6.3', '--top', '3', '--json')
    expect(r.code).toBe(0)
    const batches = (JSON.parse(r.stdout).top as ReadonlyArray<{ readonly batch: number }>).map((c) => c.batch)
    expect(batches.length).toBeGreaterThan(0)
    for (const b of batches) expect(b).toBeLessThanOrEqual(256)
    const text = await meshplan('plan', '--model', 'llama-3.1-8b', '--cluster', 'dgx-h100', '--engine', 'trtllm', '--engine-version', '0.17.0', '--top', '1')
    expect(text.stdout.split('\n')[0]).toMatch(/, on trtllm \(below 1\.0\)$/)
  })

  it("a disaggregated plan runs both pools on the engine and names it: SGLang's host time per pass changes the TPOT the idealised engine gives", async () => {
    const ideal = await meshplan('estimate', 'examples/deepseek-v3-disaggregated.yaml', '--json')
    const on = await meshplan('estimate', 'examples/deepseek-v3-disaggregated.yaml', '--engine', 'sglang', '--json')
    expect([ideal.code, on.code]).toEqual([0, 0])
    expect(JSON.parse(ideal.stdout).engine).toBeUndefined()
    expect(JSON.parse(on.stdout).engine).toMatchObject({ name: 'sglang', releases: 'from 0.4.0' })
    expect(JSON.parse(on.stdout).tpot_seconds).not.toBe(JSON.parse(ideal.stdout).tpot_seconds)
    const text = await meshplan('estimate', 'examples/deepseek-v3-disaggregated.yaml', '--engine', 'sglang')
    expect(text.stdout).toMatch(/^engine: sglang \(from 0\.4\.0\): /m)
  })

  it.each([
    [['--engine', 'megatron'], '--engine megatron: a training engine; estimate models the serving engines vllm, sglang, trtllm'],
    [['--engine', 'sglang', '--engine-version', '0.3.0'], '--engine-version 0.3.0: meshplan models sglang releases from 0.4.0'],
    [['--engine-version', '0.11.0'], '--engine-version 0.11.0: needs --engine (vllm, sglang, trtllm)'],
    [['--engine', 'vllm', '--engine-version', 'latest'], '--engine-version "latest": expected a release number, e.g. 0.11.0'],
    [['--engine', 'vllm', '--train', '--global-batch', '64'], '--engine: applies to serving'],
  ])('refuses %j with exit 2 and one line saying why', async (flags, message) => {
    const r = await meshplan('estimate', '--model', 'llama-3.1-8b', '--cluster', 'dgx-h100', ...flags)
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(message)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('a case names its own engine: --engine with --case is refused', async () => {
    const r = await meshplan('estimate', 'validation/calibration.json', '--case', 'trtllm-v0.9-h100-llama2-7b-tp1-b896-128-128-tput', '--engine', 'vllm')
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('does not apply with --case (the case gives the deployment, the engine and the step)')
  })
})
