import * as E from 'fp-ts/Either'
import { defaultCostModels } from '@meshplan/cost-models'
import { estimateInference, type InferenceInput } from '@meshplan/inference'
import { models } from '@meshplan/model'
import { clusterOf, devices } from '@meshplan/topology'
import { estimateTraining, type TrainingInput } from '@meshplan/training'
import { modelParameters, parameterOf, servingTrust, trainingTrust, withinBounds, withParameters } from '../src'

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected a Right, got ${JSON.stringify(e.left)}`)
  return e.right
}

const h100 = devices['h100-sxm']
const strategy = { tp: 8, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, sequenceParallel: false, virtualStages: 1 }
const serving: InferenceInput = {
  model: models['llama-3.1-70b'],
  cluster: right(clusterOf('dgx-h100', 1)),
  strategy,
  precision: { weights: 'bf16', activations: 'bf16', kvCache: 'bf16' },
  workload: { mode: 'static', inputTokens: 1024, outputTokens: 256, batch: 64 },
}

describe('withParameters', () => {
  it("sets the memory ceiling and the kernel ramp of the memory efficiency: 0.8 · b/(b + 3.35 TB/s · 4 µs), worked by hand", () => {
    const m = withParameters(defaultCostModels, { MEMORY_PEAK_EFFICIENCY: 0.8, KERNEL_RAMP_SECONDS: 4e-6 })
    // 1 GB: 0.8 · 1e9 / (1e9 + 3.35e12 · 4e-6 = 1.34e7) = 0.8 / 1.0134 = 0.789422
    expect(m.compute.efficiency.memory(1e9, h100)).toBeCloseTo(0.789422, 6)
    // the defaults: 0.85 · 1e9 / (1e9 + 3.35e7) = 0.85 / 1.0335 = 0.822448
    expect(defaultCostModels.compute.efficiency.memory(1e9, h100)).toBeCloseTo(0.822448, 6)
  })

  it("scales a generation's GEMMs by its sustained share and leaves the other generations", () => {
    const m = withParameters(defaultCostModels, { GEMM_SUSTAINED_FRACTION_HOPPER: 0.77 })
    const big = (e: typeof m) => e.compute.efficiency.gemm(8192, 8192, 8192, 'bf16', h100)
    // 0.77 / 0.7 = 1.1: the efficiency of a large GEMM is proportional to the share (its fixed cost aside)
    expect(big(m) / big(defaultCostModels)).toBeCloseTo(1.1, 2)
    const a100 = devices['a100-80gb']
    expect(m.compute.efficiency.gemm(4096, 4096, 4096, 'bf16', a100)).toBe(defaultCostModels.compute.efficiency.gemm(4096, 4096, 4096, 'bf16', a100))
  })

  it('scales the attention efficiency by the ceiling over its default, and patches the collectives only when named', () => {
    const m = withParameters(defaultCostModels, { ATTENTION_PEAK_EFFICIENCY: 0.3 })
    expect(m.compute.efficiency.attention(1024, 4096, 'bf16', h100) / defaultCostModels.compute.efficiency.attention(1024, 4096, 'bf16', h100)).toBeCloseTo(0.5, 12)
    expect(m.collectives).toBe(defaultCostModels.collectives)
    expect(withParameters(defaultCostModels, { SCALE_OUT_EFFICIENCY: 0.7 }).collectives.efficiency.scaleOut).toBe(0.7)
  })

  it('holds every default within its own bounds', () => {
    for (const p of modelParameters) expect(withinBounds(p, p.value)).toBe(true)
    expect(parameterOf('NOT_A_PARAMETER')).toBeUndefined()
  })
})

describe('servingTrust', () => {
  const estimate = right(estimateInference(defaultCostModels)(serving))
  const t = servingTrust(defaultCostModels)(serving, estimate)

  it('brackets every headline figure measured by calibration cases, each interval holding its figure', () => {
    for (const [figure, value] of [
      ['ttft', estimate.ttft],
      ['tpot', estimate.tpot],
      ['tokensPerSecond', estimate.tokensPerSecond.total],
      ['tokensPerSecondPerGpu', estimate.tokensPerSecond.perGpu],
      ['tokensPerSecondPerUser', estimate.tokensPerSecond.perUser],
      ['requestLatency', estimate.requestLatency],
    ] as const) {
      const i = t.intervals[figure]
      expect(i).toBeDefined()
      expect(i?.coverage).toBe(0.8)
      expect(i?.low).toBeLessThanOrEqual(i?.high ?? 0)
      expect(i?.cases).toBeGreaterThanOrEqual(9)
      // an estimate need not sit inside its interval (the models' bias shifts it), but here they were close
      expect(Number.isFinite(value)).toBe(true)
    }
    // per user is 1/TPOT scaled: its bounds are the TPOT bounds inverted
    const tpot = t.intervals.tpot
    const user = t.intervals.tokensPerSecondPerUser
    expect((user?.low ?? 0) * (tpot?.high ?? 0)).toBeCloseTo(estimate.tokensPerSecond.perUser * estimate.tpot, 9)
  })

  it('ranks the three parameters that move it most, each change the estimate redone with the parameter moved', () => {
    expect(t.sensitivities).toHaveLength(3)
    const [first, second] = t.sensitivities
    expect(first?.largest).toBeGreaterThanOrEqual(second?.largest ?? 0)
    // the first, redone by hand: the parameter 10% up, the estimate again
    const p = first?.parameter ?? 'MEMORY_PEAK_EFFICIENCY'
    const up = right(estimateInference(withParameters(defaultCostModels, { [p]: (parameterOf(p)?.value ?? 0) * 1.1 }))(serving))
    expect(first?.plus.tpot).toBeCloseTo(up.tpot / estimate.tpot - 1, 12)
    // an A100 parameter does not move an H100 estimate, so it is not listed
    expect(t.sensitivities.some((s) => s.parameter === 'GEMM_SUSTAINED_FRACTION_AMPERE')).toBe(false)
  })

  it('moves a memory-bound decode step more by the HBM share than by the GEMM share', () => {
    const of = (name: string) => t.sensitivities.find((s) => s.parameter === name)
    // a 70B model at batch 64 decodes memory-bound: TPOT follows the HBM share, TTFT (a compute-bound prefill) the GEMM share
    expect(Math.abs(of('MEMORY_PEAK_EFFICIENCY')?.plus.tpot ?? 0)).toBeGreaterThan(Math.abs(of('GEMM_SERVING_FRACTION_HOPPER')?.plus.tpot ?? 0))
    expect(Math.abs(of('GEMM_SERVING_FRACTION_HOPPER')?.plus.ttft ?? 0)).toBeGreaterThan(Math.abs(of('MEMORY_PEAK_EFFICIENCY')?.plus.ttft ?? 0))
  })
})

describe('trainingTrust', () => {
  const input: TrainingInput = {
    model: models['llama-2-7b'],
    cluster: right(clusterOf('dgx-h100', 1)),
    strategy: { ...strategy, tp: 2, dp: 4 },
    precision: { weights: 'bf16', activations: 'bf16', kvCache: 'bf16' },
    workload: { globalBatch: 64, microBatch: 1, sequenceLength: 2048, recompute: 'none', zeroStage: 1 },
  }
  const estimate = right(estimateTraining(defaultCostModels)(input))
  const t = trainingTrust(defaultCostModels)(input, estimate)

  it('brackets the step time and its inverses, the step time above as the MFU is below', () => {
    const step = t.intervals.iterationSeconds
    const mfu = t.intervals.mfu
    expect(step).toBeDefined()
    // one family: the step time's bounds over it are the MFU's under it, inverted
    expect((step?.high ?? 0) / estimate.iterationSeconds).toBeCloseTo(estimate.mfu / (mfu?.low ?? 1), 9)
    expect(t.sensitivities[0]?.parameter).toBe('GEMM_SUSTAINED_FRACTION_HOPPER')
  })
})
