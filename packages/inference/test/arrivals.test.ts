import fc from 'fast-check'
import { lengthsOf, meanAge, residualSurvival, runningAfter, survival, survivalIntegral, tailSteps, truncatedExponentialMean, SHAREGPT_MAX_TOTAL_TOKENS, type Lengths } from '../src/arrivals'
import type { InferenceWorkload } from '../src/workload'

const w = (over: Partial<InferenceWorkload>): InferenceWorkload => ({ mode: 'max_throughput', inputTokens: 217, outputTokens: 201, ...over })
const fixed200: Lengths = { kind: 'fixed', mean: 200, low: 200, high: 200, scale: 200 }
const uniform100to300: Lengths = { kind: 'uniform', mean: 200, low: 100, high: 300, scale: 200 }
const exponential200: Lengths = { kind: 'exponential', mean: 200, low: 0, high: Number.POSITIVE_INFINITY, scale: 200 }

/** ∫_a^b f by the midpoint rule on n points. */
const integral = (f: (x: number) => number, a: number, b: number, n = 200_000): number => {
  const h = (b - a) / n
  let s = 0
  for (let i = 0; i < n; i++) s += f(a + (i + 0.5) * h)
  return s * h
}

describe('lengthsOf: the output lengths a workload states', () => {
  it('fixed by default: every output the mean', () => {
    expect(lengthsOf(w({}))).toEqual({ kind: 'fixed', mean: 201, low: 201, high: 201, scale: 201 })
  })

  it('uniform with range ratio 0.5 around 200: U[100, 300] (vLLM random dataset, --random-range-ratio)', () => {
    expect(lengthsOf(w({ outputTokens: 200, lengthDistribution: 'uniform', rangeRatio: 0.5 }))).toEqual(uniform100to300)
    // a range ratio of 0 is fixed
    expect(lengthsOf(w({ outputTokens: 200, lengthDistribution: 'uniform' })).kind).toBe('fixed')
  })

  it('sharegpt: an exponential truncated at 2048 − 217 = 1831 tokens whose truncated mean is the stated 201', () => {
    const l = lengthsOf(w({ lengthDistribution: 'sharegpt' }))
    expect(l.kind).toBe('exponential')
    expect(l.high).toBe(SHAREGPT_MAX_TOTAL_TOKENS - 217)
    expect(truncatedExponentialMean(l.scale, l.high)).toBeCloseTo(201, 6)
    // e^(−1831/201) ≈ 1.1e-4: the truncation moves the scale by about 1831 · 1.1e-4 ≈ 0.2 token
    expect(l.scale).toBeGreaterThan(201)
    expect(l.scale).toBeLessThan(201.5)
  })

  it('sharegpt with a prompt that leaves less than twice the mean below 2048: no truncation, the scale is the mean', () => {
    const l = lengthsOf(w({ inputTokens: 1500, outputTokens: 400, lengthDistribution: 'sharegpt' }))
    expect(l).toMatchObject({ kind: 'exponential', high: Number.POSITIVE_INFINITY, scale: 400 })
  })

  it('the truncated mean: θ − L e^(−L/θ) / (1 − e^(−L/θ)) = 100 − 200 e^(−2) / (1 − e^(−2)) = 68.70 for θ 100, L 200', () => {
    expect(truncatedExponentialMean(100, 200)).toBeCloseTo(100 - (200 * Math.exp(-2)) / (1 - Math.exp(-2)), 12)
    expect(truncatedExponentialMean(100, 200)).toBeCloseTo(68.7, 2)
    expect(truncatedExponentialMean(100, Number.POSITIVE_INFINITY)).toBe(100)
  })
})

describe('survival and its integral', () => {
  it('fixed: 1 below the length, 0 from it; ∫_50^∞ = 150', () => {
    expect(survival(fixed200, 199.9)).toBe(1)
    expect(survival(fixed200, 200)).toBe(0)
    expect(survivalIntegral(fixed200, 50)).toBe(150)
  })

  it('uniform on [100, 300]: S(200) = 1/2; ∫_0^∞ = the mean 200; ∫_200^∞ = 100² / (2 · 200) = 25', () => {
    expect(survival(uniform100to300, 200)).toBe(0.5)
    expect(survivalIntegral(uniform100to300, 0)).toBe(200)
    expect(survivalIntegral(uniform100to300, 200)).toBe(25)
  })

  it('exponential of scale 200: S(200) = e^(−1) = 0.3679; ∫_s^∞ = 200 e^(−s/200)', () => {
    expect(survival(exponential200, 200)).toBeCloseTo(Math.exp(-1), 12)
    expect(survivalIntegral(exponential200, 100)).toBeCloseTo(200 * Math.exp(-0.5), 9)
  })

  it('law: the closed-form integral matches a numeric one, truncated exponential included', () => {
    const truncated = lengthsOf(w({ lengthDistribution: 'sharegpt' }))
    for (const l of [uniform100to300, truncated]) {
      for (const s of [0, 50, 150, 400]) {
        const top = Number.isFinite(l.high) ? l.high : 40 * l.scale
        expect(survivalIntegral(l, s)).toBeCloseTo(integral((x) => survival(l, x), s, Math.max(s, top)), 2)
      }
    }
  })
})

describe('the renewal steady state (Cox 1962, section 5.2)', () => {
  it('residual survival of fixed lengths falls linearly: P(R > 50) = 150/200 = 0.75', () => {
    expect(residualSurvival(fixed200, 50)).toBe(0.75)
  })

  it('residual survival of an exponential is the exponential itself (memorylessness)', () => {
    for (const r of [0, 100, 500]) expect(residualSurvival(exponential200, r)).toBeCloseTo(survival(exponential200, r), 12)
  })

  it('mean age E[O²]/2E[O]: fixed 200 → 100; uniform [100, 300] → (300³ − 100³)/(3 · 200)/(2 · 200) = 108.33; exponential → θ = 200', () => {
    expect(meanAge(fixed200)).toBe(100)
    expect(meanAge(uniform100to300)).toBeCloseTo(((300 ** 3 - 100 ** 3) / (3 * 200)) / 400, 9)
    expect(meanAge(uniform100to300)).toBeCloseTo(108.333, 3)
    expect(meanAge(exponential200)).toBe(200)
  })

  it('law: the truncated exponential mean age matches E[O²] = 2∫x S(x) dx numerically', () => {
    const l = lengthsOf(w({ inputTokens: 1000, outputTokens: 300, lengthDistribution: 'sharegpt' }))
    const second = 2 * integral((x) => x * survival(l, x), 0, l.high)
    expect(meanAge(l)).toBeCloseTo(second / (2 * l.mean), 2)
  })
})

describe('the ramp-down tail', () => {
  it('1000 exponential outputs of scale 200 started together end when 1000 e^(−s/200) = 1/2: s = 200 ln 2000 = 1520.2', () => {
    expect(tailSteps(exponential200, 1000, false)).toBeCloseTo(200 * Math.log(2000), 3)
  })

  it('fixed lengths end together at the length', () => {
    expect(tailSteps(fixed200, 10, false)).toBeCloseTo(200, 6)
    expect(tailSteps(fixed200, 10, true)).toBeCloseTo(200 * (1 - 1 / 20), 6) // 10 (1 − s/200) = 1/2
  })

  it('runningAfter: count × survival, or × residual survival in a steady state', () => {
    expect(runningAfter(uniform100to300, 100, false, 200)).toBe(50)
    expect(runningAfter(fixed200, 100, true, 50)).toBe(75)
  })

  it('law: the sequences still running never rise with the steps', () => {
    const ls = [fixed200, uniform100to300, exponential200, lengthsOf(w({ lengthDistribution: 'sharegpt' }))]
    fc.assert(
      fc.property(fc.constantFrom(...ls), fc.boolean(), fc.double({ min: 0, max: 3000, noNaN: true }), fc.double({ min: 0, max: 500, noNaN: true }), (l, residual, s, d) =>
        runningAfter(l, 100, residual, s + d) <= runningAfter(l, 100, residual, s) + 1e-12,
      ),
    )
  })
})
