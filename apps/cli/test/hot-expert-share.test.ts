// `--hot-expert-share F`: skewed MoE routing, the share of a layer's token-expert assignments its
// most-loaded expert receives, put in the serving workload as `workload.hot_expert_share` is.
import { meshplan } from './cli'

describe('meshplan estimate --hot-expert-share', () => {
  const base = ['estimate', '--model', 'deepseek-v3', '--cluster', 'dgx-h100', '--nodes', '8', '--dp', '64', '--ep', '64', '--precision', 'fp8', '--json']

  it('DeepSeek-V3 DP64 EP64: a 5% expert (its rank carries 64 · (0.05 + 3 · 0.95/255) = 3.92 times the mean) makes TPOT longer than uniform routing', async () => {
    const uniform = await meshplan(...base)
    const skewed = await meshplan(...base, '--hot-expert-share', '0.05')
    expect([uniform.code, uniform.stderr]).toEqual([0, ''])
    expect([skewed.code, skewed.stderr]).toEqual([0, ''])
    const tpot = (stdout: string): number => (JSON.parse(stdout) as { tpot_seconds: number }).tpot_seconds
    expect(tpot(skewed.stdout)).toBeGreaterThan(tpot(uniform.stdout))
    // 1/256 is uniform routing: the same TPOT
    expect(tpot((await meshplan(...base, '--hot-expert-share', String(1 / 256))).stdout)).toBeCloseTo(tpot(uniform.stdout), 12)
  })

  it('a share above 1 exits 2 naming the flag; below 1/experts, or for a dense model, too', async () => {
    const above = await meshplan(...base, '--hot-expert-share', '2')
    expect(above.code).toBe(2)
    expect(above.stderr).toContain('--hot-expert-share: expected a share in (0, 1]')
    expect(above.stderr).toContain('got "2"')
    const below = await meshplan(...base, '--hot-expert-share', '0.001')
    expect(below.code).toBe(2)
    expect(below.stderr).toContain('--hot-expert-share: expected at least 1/experts = 1/256 = 0.003906 for deepseek-v3 (uniform routing), got 0.001')
    const dense = await meshplan('estimate', '--model', 'llama-3.1-8b', '--cluster', 'dgx-h100', '--hot-expert-share', '0.05')
    expect(dense.code).toBe(2)
    expect(dense.stderr).toContain('--hot-expert-share: applies to a mixture-of-experts model; llama-3.1-8b has no routed experts')
  })

  it('is an inference flag: a training estimate refuses it', async () => {
    const r = await meshplan('estimate', '--train', '--model', 'mixtral-8x7b', '--cluster', 'dgx-h100', '--global-batch', '8', '--hot-expert-share', '0.2')
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--hot-expert-share: applies to serving')
  })
})
