import * as fs from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import { defaultCostModels } from '@meshplan/cost-models'
import {
  caseSource,
  errorStats,
  FIT_LOSS_CAP,
  fitConstants,
  fitLimits,
  fitLoss,
  fittedConstants,
  gemmSustainedAmpere,
  gemmSustainedBlackwell,
  gemmServingHopper,
  gemmSustainedHopper,
  groupedGemmKFactor,
  leaveOneSourceOut,
  predictCases,
  withConstants,
  type CaseResult,
  type FittedConstant,
} from '../src'

type Case = { readonly id: string; readonly engine?: { readonly name: string; readonly version?: string }; readonly measured: { readonly metric: string; readonly value: number } }
const calibration = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../validation/calibration.json'), 'utf8')) as { format: string; cases: ReadonlyArray<Case> }
const byId = (id: string): Case => {
  const c = calibration.cases.find((x) => x.id === id)
  if (c === undefined) throw new Error(`no case ${id}`)
  return c
}
const fileOf = (cases: ReadonlyArray<Case>) => ({ format: 'meshplan-cases/1', cases })
const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected a Right, got ${JSON.stringify(e.left)}`)
  return e.right
}

// two sources, two cases each: TensorRT-LLM v0.9 and LMDeploy
const trt = [byId('trtllm-v0.9-h100-llama2-7b-tp1-b896-128-128-tput'), byId('trtllm-v0.9-a100-80-llama2-70b-tp4-b1024-128-128-tput')]
const lmd = [byId('lmdeploy-a100-llama2-7b-tp1-b1-128-128-tput'), byId('lmdeploy-a100-llama2-70b-tp4-b1-128-2048-tpot')]

/** The file's cases with their measurements replaced by what the models predict with `value` of `constant`: a fit must find `value` again. */
const measuredAt = (constant: FittedConstant, value: number, cases: ReadonlyArray<Case>): ReadonlyArray<Case> => {
  const report = right(predictCases(withConstants(defaultCostModels, [constant], { [constant.name]: value }))(fileOf(cases)))
  return cases.map((c, i) => ({ ...c, measured: { ...c.measured, value: report.cases[i]?.predicted ?? c.measured.value } }))
}

describe('fitLoss', () => {
  it('the mean of min(|ln(predicted/measured)|, 0.5) over the predicted cases of the kinds asked, by hand', () => {
    const r = (id: string, kind: CaseResult['kind'], predicted: number | null, measured: number): CaseResult => ({ id, kind, metric: 'm', predicted, measured, error: null, note: '' })
    const results = [r('a', 'inference', 1.2, 1), r('b', 'inference', 1, 1.25), r('e', 'inference', 4, 1), r('c', 'inference', null, 1), r('d', 'collective', 100, 1)]
    // (ln 1.2 + ln 1.25 + 0.5) / 3 = (0.18232 + 0.22314 + 0.5) / 3 = 0.30182: 4x counts as the cap; the unpredicted and the collective case are left out
    expect(FIT_LOSS_CAP).toBe(0.5)
    expect(fitLoss(results, ['inference'])).toBeCloseTo((Math.log(1.2) + Math.log(1.25) + 0.5) / 3, 12)
    expect(fitLoss(results, ['inference'])).toBeCloseTo(0.30182, 5)
    expect(fitLoss(results, ['training'])).toBe(Infinity)
  })
})

describe('errorStats: the p90', () => {
  it('the nearest-rank 90th percentile of the absolute errors: the 9th of 10, the 1st of 1', () => {
    const r = (error: number): CaseResult => ({ id: String(error), kind: 'inference', metric: 'm', predicted: 1 + error, measured: 1, error, note: '' })
    expect(errorStats([0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8, -0.9, 1].map(r)).p90).toBeCloseTo(0.9, 12)
    expect(errorStats([r(-0.25)]).p90).toBeCloseTo(0.25, 12)
    expect(errorStats([{ ...r(0), predicted: null, error: null }]).p90).toBeNull()
  })
})

describe('fitConstants', () => {
  it('finds again the value that produced the measurements (0.9, not the committed 0.8)', () => {
    expect(gemmServingHopper.value).toBe(0.8)
    const cases = measuredAt(gemmServingHopper, 0.9, trt)
    const fit = right(fitConstants(defaultCostModels, [gemmServingHopper])(fileOf(cases)))
    expect(fit.values).toEqual({ GEMM_SERVING_FRACTION_HOPPER: 0.9 })
    expect(fit.loss).toBeCloseTo(0, 9)
    // the committed value first, then at most every grid value, twice over
    expect(fit.evaluations).toBeLessThanOrEqual(1 + 2 * gemmServingHopper.grid.length)
  })

  it("Hopper's serving passes and training steps each have their own fraction (0.8 and 0.7 as fitted): the training one leaves a serving case as it is", () => {
    expect(gemmSustainedHopper.value).toBe(0.7)
    expect([gemmSustainedHopper.kinds, gemmServingHopper.kinds]).toEqual([['training'], ['inference']])
    const serving = fileOf([trt[0] as Case])
    const at = (c: FittedConstant, v: number) => right(predictCases(withConstants(defaultCostModels, [c], { [c.name]: v }))(serving)).cases[0]?.predicted
    expect(at(gemmSustainedHopper, 0.6)).toBe(at(gemmSustainedHopper, 1))
    expect(at(gemmServingHopper, 1) as number).toBeGreaterThan(at(gemmServingHopper, 0.6) as number)
  })

  it('Blackwell has its own constant (0.6 as fitted): it moves the B200 case and leaves the H100 and A100 ones as they were', () => {
    expect(gemmSustainedBlackwell.value).toBe(0.6)
    expect(fittedConstants.map((c) => c.name)).toEqual(['GEMM_SUSTAINED_FRACTION_AMPERE', 'GEMM_SUSTAINED_FRACTION_HOPPER', 'GEMM_SUSTAINED_FRACTION_BLACKWELL', 'GEMM_SERVING_FRACTION_HOPPER', 'GROUPED_GEMM_K_FACTOR', 'KERNEL_RAMP_SECONDS'])
    const b200 = byId('trtllm-v1.0-b200-llama3.1-405b-fp4-tp4-1000-1000-maxtput')
    const at = (v: number, cases: ReadonlyArray<Case>) => right(predictCases(withConstants(defaultCostModels, [gemmSustainedBlackwell], { GEMM_SUSTAINED_FRACTION_BLACKWELL: v }))(fileOf(cases))).cases.map((c) => c.predicted)
    const [slow] = at(0.45, [b200])
    const [fast] = at(0.7, [b200])
    expect(fast as number).toBeGreaterThan(slow as number)
    expect(at(0.45, trt)).toEqual(at(0.7, trt))
    const fit = right(fitConstants(defaultCostModels, [gemmSustainedBlackwell])(fileOf(measuredAt(gemmSustainedBlackwell, 0.5, [b200]))))
    expect(fit.values).toEqual({ GEMM_SUSTAINED_FRACTION_BLACKWELL: 0.5 })
  })

  it('the grouped GEMM factor (4 as fitted) moves the MoE cases only: a Mixtral case is slower with 8 than with 1, the dense ones stay; a fit finds 8 again', () => {
    expect(groupedGemmKFactor.value).toBe(4)
    const mixtral = byId('trtllm-v0.17-h200-mixtral-8x7b-fp8-tp1-128-2048-maxtput')
    const at = (v: number, cases: ReadonlyArray<Case>) => right(predictCases(withConstants(defaultCostModels, [groupedGemmKFactor], { GROUPED_GEMM_K_FACTOR: v }))(fileOf(cases))).cases.map((c) => c.predicted)
    const [fast] = at(1, [mixtral])
    const [slow] = at(8, [mixtral])
    expect(fast as number).toBeGreaterThan(slow as number)
    expect(at(1, [...trt, ...lmd])).toEqual(at(8, [...trt, ...lmd]))
    const fit = right(fitConstants(defaultCostModels, [groupedGemmKFactor])(fileOf(measuredAt(groupedGemmKFactor, 8, [mixtral]))))
    expect(fit.values).toEqual({ GROUPED_GEMM_K_FACTOR: 8 })
  })

  it('the value it returns is the best of its grid (brute force)', () => {
    const file = fileOf([...trt, ...lmd])
    const fit = right(fitConstants(defaultCostModels, [gemmSustainedAmpere])(file))
    const losses = gemmSustainedAmpere.grid.map((v) => fitLoss(right(predictCases(withConstants(defaultCostModels, [gemmSustainedAmpere], { GEMM_SUSTAINED_FRACTION_AMPERE: v }))(file)).cases, ['inference']))
    expect(fit.loss).toBeCloseTo(Math.min(...losses), 12)
  })

  it('each sustained fraction reaches its generation only: the Hopper one leaves an A100 case as it is', () => {
    const a100 = fileOf([lmd[0] as Case])
    const at = (v: number) => right(predictCases(withConstants(defaultCostModels, [gemmServingHopper], { GEMM_SERVING_FRACTION_HOPPER: v }))(a100)).cases[0]?.predicted
    expect(at(0.6)).toBe(at(1))
  })

  it('withConstants with no values is the committed models: the same predictions', () => {
    const file = fileOf(trt)
    expect(right(predictCases(withConstants(defaultCostModels, fittedConstants, {}))(file)).cases).toEqual(right(predictCases(defaultCostModels)(file)).cases)
  })

  it('refuses a fit larger than its bound before predicting anything', () => {
    const huge: FittedConstant = { ...gemmServingHopper, grid: Array.from({ length: fitLimits.caseEvaluations }, (_, i) => 0.5 + i / (4 * fitLimits.caseEvaluations)) }
    const result = fitConstants(defaultCostModels, [huge])(fileOf(trt))
    expect(E.isLeft(result) && result.left[0]?.expected).toContain('at most 2000000 case predictions')
  })

  it('a malformed file is its issues, not a fit', () => {
    const result = fitConstants(defaultCostModels, fittedConstants)({ format: 'meshplan-cases/1', cases: [{ id: 'x' }] })
    expect(E.isLeft(result) && result.left.map((i) => i.path)).toContain('cases[0].measured')
    for (const bad of [null, 'cases', 42, { format: 'meshplan-cases/1' }]) expect(E.isLeft(fitConstants(defaultCostModels, fittedConstants)(bad))).toBe(true)
    expect(E.isLeft(leaveOneSourceOut(defaultCostModels, fittedConstants)('cases'))).toBe(true)
  })
})

describe('leaveOneSourceOut', () => {
  it('each source is predicted with the constants fitted on the other one alone', () => {
    // the A100 cases of TensorRT-LLM measured as at 0.7, LMDeploy's (A100) as at 1.0: each is predicted with the other's value
    const file = fileOf([...measuredAt(gemmSustainedAmpere, 0.7, trt), ...measuredAt(gemmSustainedAmpere, 1, lmd)])
    const report = right(leaveOneSourceOut(defaultCostModels, [gemmSustainedAmpere])(file))
    expect(report.fits).toEqual([
      { source: 'trtllm 0.9.0', cases: 2, constants: { GEMM_SUSTAINED_FRACTION_AMPERE: 1 } },
      { source: 'lmdeploy 0.1.0a1', cases: 2, constants: { GEMM_SUSTAINED_FRACTION_AMPERE: 0.7 } },
    ])
    const at = (v: number, cases: ReadonlyArray<Case>) => right(predictCases(withConstants(defaultCostModels, [gemmSustainedAmpere], { GEMM_SUSTAINED_FRACTION_AMPERE: v }))(fileOf(cases))).cases
    const expected = [...at(1, file.cases.slice(0, 2)), ...at(0.7, file.cases.slice(2))]
    expect(report.cases.map((c) => c.predicted)).toEqual(expected.map((c) => c.predicted))
    expect(report.summary.all.predicted).toBe(4)
  })

  it('the source of a case is its engine name and version, else its source', () => {
    expect(caseSource({ engine: { name: 'vllm', version: '0.11.0' }, source: 'a blog' })).toBe('vllm 0.11.0')
    expect(caseSource({ engine: { name: 'megatron' } })).toBe('megatron')
    expect(caseSource({ source: 'a blog' })).toBe('a blog')
    expect(caseSource(null)).toBe('unknown')
  })
})

describe('the summary groups every case by source, generation, format and mode', () => {
  it('on the repository calibration file', () => {
    const report = right(predictCases(defaultCostModels)(calibration))
    const counted = (groups: Readonly<Record<string, { readonly cases: number }>>): number => Object.values(groups).reduce((s, g) => s + g.cases, 0)
    for (const groups of [report.summary.bySource, report.summary.byGeneration, report.summary.byFormat, report.summary.byMode]) expect(counted(groups)).toBe(calibration.cases.length)
    expect(Object.keys(report.summary.byGeneration).sort()).toEqual(['ampere', 'blackwell', 'hopper'])
    expect(report.cases.find((c) => c.id === 'trtllm-v0.9-h100-llama2-7b-tp1-b896-128-128-tput')).toMatchObject({ source: 'trtllm 0.9.0', generation: 'hopper', format: 'fp8', mode: 'static' })
  })
})
