import * as fs from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import { defaultCostModels } from '@meshplan/cost-models'
import { calibrate, decodeCalibration, predictCases, PRIOR_WEIGHT, withCalibration, withParameters, type CaseResult } from '../src'

type Case = { readonly id: string; readonly measured: { readonly metric: string; readonly value: number } }
const calibration = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../validation/calibration.json'), 'utf8')) as { cases: ReadonlyArray<Case> }
const byId = (id: string): Case => {
  const c = calibration.cases.find((x) => x.id === id)
  if (c === undefined) throw new Error(`no case ${id}`)
  return c
}
const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected a Right, got ${JSON.stringify(e.left)}`)
  return e.right
}

// memory-bound serving cases of three sources, renamed so that they are no case the defaults were fitted on
const chosen = [
  'trtllm-v0.9-h100-llama2-7b-tp1-b896-128-128-tput',
  'trtllm-v0.9-h100-llama2-70b-tp4-b512-128-2048-tput',
  'lmdeploy-a100-llama2-70b-tp4-b1-128-2048-tpot',
  'lmdeploy-a100-llama2-7b-tp1-b1-128-128-tput',
  'trtllm-v0.14-h100-llama3.1-70b-fp16-tp4-128-128-maxtput',
  'trtllm-v0.14-a100-80-llama3.1-8b-fp16-tp1-128-128-maxtput',
].map((id) => ({ ...byId(id), id: `mine-${id}` }))

/** The cases with their measurements replaced by what the models predict with HBM kept at `share` of its datasheet rate. */
const measuredAt = (share: number) => {
  const predicted = right(predictCases(withParameters(defaultCostModels, { MEMORY_PEAK_EFFICIENCY: share }))({ format: 'meshplan-cases/1', cases: chosen })).cases
  return { format: 'meshplan-cases/1', cases: chosen.map((c, i) => ({ ...c, measured: { ...c.measured, value: (predicted[i] as CaseResult).predicted } })) }
}

describe('decodeCalibration', () => {
  it('reads the format and each parameter within its bounds', () => {
    expect(right(decodeCalibration({ format: 'meshplan-calibration/1', parameters: { MEMORY_PEAK_EFFICIENCY: 0.8 }, fitted_on: { cases: 3 } }))).toEqual({
      format: 'meshplan-calibration/1',
      parameters: { MEMORY_PEAK_EFFICIENCY: 0.8 },
    })
  })

  it('names every bad field with its path, the value and what was expected', () => {
    const issues = decodeCalibration({ format: 'meshplan-calibration/2', parameters: { MEMORY_PEAK_EFFICIENCY: 1.2, SCALE_UP_EFFICIENCY: 'high', GEMM_SHARE: 1 } })
    expect(E.isLeft(issues) ? issues.left : []).toEqual([
      { path: 'calibration.format', value: 'meshplan-calibration/2', expected: '"meshplan-calibration/1"' },
      { path: 'calibration.parameters.MEMORY_PEAK_EFFICIENCY', value: 1.2, expected: 'a number from 0.6 to 0.95 (the share of HBM bandwidth a streaming kernel keeps)' },
      { path: 'calibration.parameters.SCALE_UP_EFFICIENCY', value: 'high', expected: "a number from 0.5 to 1 (the share of NVLink bandwidth a collective's kernels keep)" },
      { path: 'calibration.parameters.GEMM_SHARE', value: 'GEMM_SHARE', expected: expect.stringMatching(/^one of GEMM_SUSTAINED_FRACTION_AMPERE, /) as unknown as string },
    ])
    expect(E.isLeft(decodeCalibration([]))).toBe(true)
    expect(E.isLeft(decodeCalibration({ format: 'meshplan-calibration/1', parameters: [] }))).toBe(true)
  })

  it('turns into the models with its parameters', () => {
    const c = right(decodeCalibration({ format: 'meshplan-calibration/1', parameters: { MEMORY_PEAK_EFFICIENCY: 0.8 } }))
    const h = { name: 'x', memory: 80e9, memoryBandwidth: 2e12, peak: { bf16: 3e14 } } as never
    expect(withCalibration(defaultCostModels, c).compute.efficiency.memory(1e9, h)).toBe(withParameters(defaultCostModels, { MEMORY_PEAK_EFFICIENCY: 0.8 }).compute.efficiency.memory(1e9, h))
  })
})

describe('calibrate', () => {
  it('derives its pull from the errors and the prior it assumes: 0.1 / (2 · 0.07²) = 10.2', () => {
    expect(PRIOR_WEIGHT).toBeCloseTo(10.204, 3)
  })

  it(
    'finds slower HBM in cases measured on it, and keeps the calibration because it beats the defaults cross-validated',
    () => {
      const run = right(calibrate(defaultCostModels)(measuredAt(0.75)))
      // the grid around 0.85 holds 0.765 (0.9x) and 0.8075 (0.95x); the prior keeps each move small, so the
      // fit shares the slowdown: HBM at 0.8075, Hopper's serving GEMM share and the kernel ramp 5% each
      const moved = run.calibration.parameters
      expect(Object.keys(moved).sort()).toEqual(['GEMM_SERVING_FRACTION_HOPPER', 'KERNEL_RAMP_SECONDS', 'MEMORY_PEAK_EFFICIENCY'])
      expect(moved.MEMORY_PEAK_EFFICIENCY).toBeCloseTo(0.8075, 9)
      expect(moved.GEMM_SERVING_FRACTION_HOPPER).toBeCloseTo(0.76, 9) // 0.8 · 0.95
      expect(moved.KERNEL_RAMP_SECONDS).toBeCloseTo(10.5e-6, 15)
      expect(run.sources).toEqual(['lmdeploy 0.1.0a1', 'trtllm 0.14.0', 'trtllm 0.9.0'])
      expect(run.folds).toBe(3)
      expect(run.accepted).toBe(true)
      expect(run.loss.afterCrossValidated).toBeLessThan(run.loss.beforeCrossValidated)
      // none of these ids is a case the defaults were fitted on: their cross-validated error is their plain one
      expect(run.seenByDefaults).toBe(0)
      expect(run.loss.beforeCrossValidated).toBe(run.loss.beforeInSample)
      const all = run.groups.find((g) => g.kind === 'all')
      expect(all?.cases).toBe(6)
      expect(all?.afterInSample ?? 1).toBeLessThan(all?.beforeInSample ?? 0)
    },
    120_000,
  )

  it(
    'moves nothing, and keeps nothing, when the defaults already predict the cases',
    () => {
      const run = right(calibrate(defaultCostModels)(measuredAt(0.85)))
      expect(run.calibration.parameters).toEqual({})
      expect(run.accepted).toBe(false)
      expect(run.reason).toMatch(/nothing to calibrate/)
    },
    120_000,
  )

  it('refuses a file that is no case file, with the path of what is wrong', () => {
    const bad = calibrate(defaultCostModels)({ format: 'meshplan-cases/1', cases: [{ id: 'x' }] })
    expect(E.isLeft(bad)).toBe(true)
    expect(E.isLeft(bad) ? bad.left[0]?.path : '').toMatch(/^cases\[0\]/)
  })
})
