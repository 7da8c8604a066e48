import * as fs from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import { defaultCostModels } from '@meshplan/cost-models'
import {
  calibrationResiduals,
  calibrationRowsOf,
  DEFAULT_COVERAGE,
  figureInterval,
  fittedConstants,
  intervalCoverage,
  leaveOneSourceOut,
  metricFamilies,
  minimumAlike,
  residualInterval,
  residualRowsOf,
  type CaseResult,
  type ResidualRow,
} from '../src'

const row = (residual: number, over: Partial<ResidualRow> = {}): ResidualRow => ({
  id: `r${residual}`,
  source: 's',
  kind: 'inference',
  family: 'throughput',
  moe: false,
  mode: 'static',
  generation: 'hopper',
  residual,
  ...over,
})

describe('minimumAlike', () => {
  it('is the fewest residuals that bound a two-sided coverage: 9 at 80%, 19 at 90%, 3 at 50% (the smallest n with (n+1)(1+c)/2 <= n)', () => {
    expect(minimumAlike(0.8)).toBe(9)
    expect(minimumAlike(0.9)).toBe(19)
    // at 50%, n = 3: floor(4 * 0.25) = 1, ceil(4 * 0.75) = 3
    expect(minimumAlike(0.5)).toBe(3)
  })
})

describe('residualRowsOf', () => {
  const result = (metric: string, predicted: number, measured: number): CaseResult => ({ id: metric, kind: 'inference', metric, measured, predicted, error: predicted / measured - 1, note: '', source: 'x', generation: 'hopper', mode: 'static', moe: true })

  it('keeps a rate as ln(predicted/measured) and turns a time around: both positive when the models were too fast', () => {
    const [rate, time] = residualRowsOf([result('output_tokens_per_s', 1200, 1000), result('tpot_ms', 20, 25)])
    expect(rate?.residual).toBeCloseTo(Math.log(1.2), 12)
    // predicted 20 ms against 25 measured: 25% faster, ln(25/20)
    expect(time?.residual).toBeCloseTo(Math.log(1.25), 12)
    expect(time?.family).toBe('tpot')
    expect(rate?.moe).toBe(true)
  })

  it('leaves out a case without a prediction or with a metric it does not know', () => {
    expect(residualRowsOf([{ ...result('ttft_ms', 1, 1), predicted: null, error: null }, result('joules', 1, 2)])).toEqual([])
  })
})

describe('residualInterval', () => {
  // 19 residuals -0.09..0.09: at 80%, the 2nd and the 18th smallest (floor(20 * 0.1) = 2, ceil(20 * 0.9) = 18)
  const nineteen = Array.from({ length: 19 }, (_, i) => row((i - 9) / 100))

  it('takes the split-conformal order statistics of the cases alike', () => {
    const i = residualInterval(nineteen, { kind: 'inference', metric: 'output_tokens_per_s', moe: false, mode: 'static', generation: 'hopper' })
    expect(i?.low).toBeCloseTo(-0.08, 12)
    expect(i?.high).toBeCloseTo(0.08, 12)
    expect(i?.cases).toBe(19)
    expect(i?.widened).toBe(false)
    expect(i?.alike).toBe('inference tokens/s, dense, static, hopper')
  })

  it('drops the hardware generation first when fewer than 9 cases share it, and widens to the few that do', () => {
    // 12 hopper-less rows from -0.055 to 0.055 and 3 ampere rows, one far out
    const rows = [...Array.from({ length: 12 }, (_, i) => row((i - 5.5) / 100, { generation: 'hopper' })), row(0.3, { generation: 'ampere' }), row(0, { generation: 'ampere' }), row(0.01, { generation: 'ampere' })]
    const i = residualInterval(rows, { kind: 'inference', metric: 'output_tokens_per_s', moe: false, mode: 'static', generation: 'ampere' })
    expect(i?.cases).toBe(15)
    expect(i?.alike).toBe('inference tokens/s, dense, static')
    // 15 rows sorted: -0.055 ... ; floor(16 * 0.1) = 1st, ceil(16 * 0.9) = 15th = 0.3; widened to the ampere rows' 0.3 anyway
    expect(i?.high).toBeCloseTo(0.3, 12)
    expect(i?.low).toBeCloseTo(-0.055, 12)
    expect(i?.note).toMatch(/fewer than 9 alike in hardware generation; widened to the 3 alike in every trait/)
    expect(i?.widened).toBe(true)
  })

  it("pools the kind's figures when fewer than 9 cases measure the figure itself", () => {
    const rows = [...nineteen, row(0.5, { family: 'tpot' })]
    const i = residualInterval(rows, { kind: 'inference', metric: 'tpot_ms', moe: false, mode: 'static', generation: 'hopper' })
    expect(i?.alike).toBe('inference (any figure), dense, static, hopper')
    expect(i?.cases).toBe(20)
    // the one TPOT case widens the pooled interval to its own 0.5
    expect(i?.high).toBeCloseTo(0.5, 12)
    expect(i?.note).toMatch(/only 1 cases measure the TPOT/)
  })

  it('says so when even every case of the kind cannot bound the coverage: their whole range', () => {
    const i = residualInterval([row(-0.1), row(0.2)], { kind: 'inference', metric: 'output_tokens_per_s' })
    expect([i?.low, i?.high]).toEqual([-0.1, 0.2])
    expect(i?.note).toMatch(/too few to bound 80%/)
  })

  it('has none for a kind no case measures, a metric it does not know or a coverage outside (0, 1)', () => {
    expect(residualInterval(nineteen, { kind: 'training', metric: 'mfu' })).toBeUndefined()
    expect(residualInterval(nineteen, { kind: 'inference', metric: 'joules' })).toBeUndefined()
    expect(residualInterval(nineteen, { kind: 'inference', metric: 'output_tokens_per_s' }, { coverage: 1 })).toBeUndefined()
  })
})

describe('figureInterval', () => {
  const rows = Array.from({ length: 19 }, (_, i) => row((i - 9) / 100))

  it('puts a rate below the estimate when the models were too fast: [f e^-high, f e^-low]', () => {
    const i = figureInterval(rows, { kind: 'inference', metric: 'output_tokens_per_s' }, 1000)
    // worked by hand: 1000 e^-0.08 = 923.12, 1000 e^0.08 = 1083.29
    expect(i?.low).toBeCloseTo(923.116, 2)
    expect(i?.high).toBeCloseTo(1083.287, 2)
    expect(i?.coverage).toBe(DEFAULT_COVERAGE)
  })

  it('puts a time above it: [f e^low, f e^high]', () => {
    const time = Array.from({ length: 19 }, (_, i) => row(i / 100, { family: 'ttft' }))
    // residuals 0..0.18: the 2nd 0.01, the 18th 0.17; 2 s e^0.01 = 2.0201, 2 s e^0.17 = 2.3706
    const i = figureInterval(time, { kind: 'inference', metric: 'ttft_ms' }, 2)
    expect(i?.low).toBeCloseTo(2.0201, 4)
    expect(i?.high).toBeCloseTo(2.3706, 4)
  })
})

describe('intervalCoverage', () => {
  it('counts a row inside the interval built from the other sources only', () => {
    // ten sources of two rows: ±0.01 each, one far row of its own source that no interval of the others holds
    const rows = [...Array.from({ length: 20 }, (_, i) => row(i % 2 === 0 ? -0.01 : 0.01, { source: `s${Math.floor(i / 2)}`, id: `x${i}` })), row(0.9, { source: 'far', id: 'far' })]
    const c = intervalCoverage(rows)
    expect(c.rows).toBe(21)
    // each ±0.01 row: the others (19 or 20 rows) bound [-0.01, 0.01] or reach 0.9 above: inside; the far row is not
    expect(c.inside).toBe(20)
    expect(c.byKind.inference).toEqual({ rows: 21, inside: 20 })
  })
})

describe('calibrationResiduals', () => {
  const file = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../validation/calibration.json'), 'utf8')) as { cases: ReadonlyArray<{ id: string; workload: { kind: string } }> }

  it('holds one row per case of the calibration file, each of a known metric family', () => {
    expect(calibrationResiduals.map((r) => r.id)).toEqual(file.cases.map((c) => c.id))
    for (const r of calibrationResiduals) expect(Object.values(metricFamilies).some((m) => m.family === r.family)).toBe(true)
  })

  it('holds the 80% intervals to between 70% and 90% of the cases, each judged by the other sources', () => {
    const c = intervalCoverage(calibrationResiduals)
    expect(c.share).toBeGreaterThanOrEqual(0.7)
    expect(c.share).toBeLessThanOrEqual(0.9)
  })

  it(
    'is what the models give now, leave-one-source-out (scripts/residuals.js writes it)',
    () => {
      const report = leaveOneSourceOut(defaultCostModels, fittedConstants)(file)
      if (E.isLeft(report)) throw new Error(JSON.stringify(report.left))
      const fresh = calibrationRowsOf(report.right.cases, file.cases)
      expect(fresh.map((r) => ({ ...r, residual: 0 }))).toEqual(calibrationResiduals.map((r) => ({ ...r, residual: 0 })))
      fresh.forEach((r, i) => expect(r.residual).toBeCloseTo(calibrationResiduals[i]?.residual ?? Number.NaN, 5))
    },
    600_000,
  )
})
