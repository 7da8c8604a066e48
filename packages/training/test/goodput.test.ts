import * as fc from 'fast-check'
import { defaultCostModels } from '@meshplan/cost-models'
import { defaultPrecision, models, parameterCounts } from '@meshplan/model'
import { checkpointBytes, dalyInterval, goodput, goodputAt, LLAMA3_FAILURES_PER_GPU_HOUR } from '../src/goodput'
import { expectClose, leftOf, rightOf } from '@meshplan/test-utils'

const minutes = 60
const hours = 3600

describe('dalyInterval: the published figures', () => {
  it('gives Daly 2006\'s optima for R = 10 min, δ = 5 min: M = 24 h → 117 min, 6 h → 57 min, 15 min → 9.1 min', () => {
    // M = 1440 min: √(2·5·1440) = 120, x = 5/2880; 120·(1 + √x/3 + x/9) − 5 = 120·1.014081 − 5 = 116.69 min
    expectClose(dalyInterval(5 * minutes, 24 * hours) / minutes, 116.69, 1e-3)
    // M = 360 min: √3600 = 60, x = 5/720; 60·1.028550 − 5 = 56.71 min
    expectClose(dalyInterval(5 * minutes, 6 * hours) / minutes, 56.71, 1e-3)
    // M = 15 min: √150 = 12.247, x = 1/6; 12.247·1.154589 − 5 = 9.14 min
    expectClose(dalyInterval(5 * minutes, 15 * minutes) / minutes, 9.14, 2e-3)
  })

  it('is the mean time between failures when a checkpoint takes twice that or more', () => {
    expect(dalyInterval(2 * hours, 1 * hours)).toBe(1 * hours)
  })

  it('tends to Young\'s √(2δM) − δ when checkpoints are short against the failures', () => {
    const delta = 10
    const mtbf = 1e7
    expectClose(dalyInterval(delta, mtbf), Math.sqrt(2 * delta * mtbf) - delta, 1e-3)
  })
})

describe('goodputAt and goodput', () => {
  it('worked by hand: M = 24 h, δ = 5 min, R = 10 min at Daly\'s 7,001.4 s', () => {
    // e^{R/M} = e^{600/86400} = 1.0069686; e^{(τ+δ)/M} − 1 = e^{7301.39/86400} − 1 = 0.0881801
    // τ / (M·1.0069686·0.0881801) = 7001.39 / 7671.85 = 0.91261
    expectClose(goodputAt(7001.39, 300, 600, 86400), 0.91261, 1e-4)
    const g = rightOf(goodput({ gpus: 1, failuresPerGpuHour: 1 / 24, checkpointSeconds: 300, restartSeconds: 600 }))
    expectClose(g.mtbfSeconds, 86400, 1e-12)
    expectClose(g.optimalIntervalSeconds, 7001.39, 1e-5)
    expectClose(g.youngIntervalSeconds, 7200, 1e-12)
    expectClose(g.goodput, 0.91261, 1e-4)
    expect(g.goodput).toBe(g.optimalGoodput)
  })

  it('Llama 3\'s failure rate: 419 interruptions in 54 days on 16,384 GPUs, 1.97e-5 per GPU-hour, a failure every 3.1 hours on all of them', () => {
    // 54 days · 24 h · 16,384 GPUs = 21,233,664 GPU-hours
    expectClose(LLAMA3_FAILURES_PER_GPU_HOUR, 419 / 21_233_664, 1e-12)
    const g = rightOf(goodput({ gpus: 16_384, failuresPerGpuHour: LLAMA3_FAILURES_PER_GPU_HOUR, checkpointSeconds: 60, restartSeconds: 600 }))
    // M = 1 / (16,384 · λ) = 54 · 24 / 419 hours = 3.093 h = 11,135 s
    expectClose(g.mtbfSeconds, (54 * 24 * 3600) / 419, 1e-9)
  })

  it('tends to τ / (τ + δ) when failures are rare: only the checkpoints cost', () => {
    expectClose(goodputAt(3600, 60, 600, 1e12), 3600 / 3660, 1e-6)
  })

  it('is highest at Daly\'s interval: half, double, and any other interval lose', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 100_000 }),
        fc.double({ min: 1e-7, max: 1e-3, noNaN: true }),
        fc.double({ min: 1, max: 3600, noNaN: true }),
        fc.double({ min: 0, max: 3600, noNaN: true }),
        fc.double({ min: 0.3, max: 3, noNaN: true }),
        (gpus, rate, delta, restart, factor) => {
          const g = goodput({ gpus, failuresPerGpuHour: rate, checkpointSeconds: delta, restartSeconds: restart })
          if (g._tag === 'Left') return
          const other = goodputAt(g.right.optimalIntervalSeconds * factor, delta, restart, g.right.mtbfSeconds)
          // Daly's is a third-order approximation of the optimum: a hair off it may be a hair better
          expect(other).toBeLessThanOrEqual(g.right.optimalGoodput * (1 + 1e-3))
          expect(g.right.goodput).toBeGreaterThan(0)
          expect(g.right.goodput).toBeLessThanOrEqual(1)
        },
      ),
      { numRuns: 300, seed: 20261130 },
    )
  })

  it('refuses what has no answer, naming the field: no failures, a free or endless checkpoint, a negative restart, no GPUs', () => {
    const base = { gpus: 1024, failuresPerGpuHour: 1e-5, checkpointSeconds: 60, restartSeconds: 600 }
    expect(leftOf(goodput({ ...base, failuresPerGpuHour: 0 })).field).toBe('failuresPerGpuHour')
    expect(leftOf(goodput({ ...base, failuresPerGpuHour: Number.NaN })).field).toBe('failuresPerGpuHour')
    expect(leftOf(goodput({ ...base, checkpointSeconds: 0 })).field).toBe('checkpointSeconds')
    expect(leftOf(goodput({ ...base, checkpointSeconds: Number.POSITIVE_INFINITY })).field).toBe('checkpointSeconds')
    expect(leftOf(goodput({ ...base, restartSeconds: -1 })).field).toBe('restartSeconds')
    expect(leftOf(goodput({ ...base, gpus: 0 })).field).toBe('gpus')
    expect(leftOf(goodput({ ...base, intervalSeconds: 0 })).field).toBe('intervalSeconds')
  })

  it('says when the run fails too often to advance, instead of a goodput of 0', () => {
    // a failure every 3.6 s on 100,000 GPUs with a 10-minute checkpoint: the checkpoint alone outlasts two failures
    const e = leftOf(goodput({ gpus: 100_000, failuresPerGpuHour: 0.01, checkpointSeconds: 600, restartSeconds: 600 }))
    expect(e.field).toBe('checkpointSeconds')
    expect(e.message).toContain('more than twice the 3.60 s between failures')
    // a 1-second checkpoint, but a failure every 3.6 s and a restart of 10 min: e^{R/M} = e^{167}, 1e-73 of the time would train
    const restart = leftOf(goodput({ gpus: 100_000, failuresPerGpuHour: 0.01, checkpointSeconds: 1, restartSeconds: 600 }))
    expect(restart.message).toContain('too often to advance')
  })
})

describe('checkpointBytes', () => {
  it('is 14 bytes per parameter in bf16 with Adam: 2 for the weight, 12 for its fp32 copy, momentum and variance', () => {
    const gpt3 = models['gpt3-175b']
    const psi = parameterCounts(gpt3).total
    expect(checkpointBytes(defaultCostModels, gpt3, defaultPrecision)).toBe(14 * psi)
    // about 2.45 TB for GPT-3's 175 billion parameters
    expect(Math.abs(14 * psi - 2.45e12) / 2.45e12).toBeLessThan(0.01)
  })
})
