import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { devices } from '@meshplan/topology'
import { defaultComputeModel, withEfficiency } from '../src/computeModel'
import { operators, type OperatorName } from '../src/operators'
import type { Phase } from '../src/phase'
import { operatorTime, phaseTime, stepTime, type StepTime } from '../src/roofline'
import { arbitraryDeployment, arbitraryPhase, deploymentOf, h100, right } from './fixtures'

const llama70b = deploymentOf('llama-2-70b', { tp: 8 })
const decodeAt = (batch: number): StepTime => right(phaseTime(defaultComputeModel, llama70b, h100)({ kind: 'decode', batch, context: 4096 }))
const timeOf = (step: StepTime, name: OperatorName) => {
  const t = step.operators.find((o) => o.operator.name === name)
  if (t === undefined) throw new Error(`no ${name}`)
  return t
}

// H100 SXM: 989.4e12 bf16 FLOP/s dense, 3.35e12 B/s; defaults: GEMM 0.7 (Hopper's sustained fraction) · 0.801 (Hopper 16-bit) · the shape terms, plus 6 µs; memory 0.85·b/(b + 3.35e12·10e-6)
const peak = 989.4e12
const bandwidth = 3.35e12
const ramp = bandwidth * 10e-6

describe('Llama-2-70B TP8 decode on an H100, by hand', () => {
  it('batch 1: every operator is memory-bound; the MLP up-projection streams its weights', () => {
    const step = decodeAt(1)
    expect(step.operators.every((t) => t.bound === 'memory')).toBe(true)
    expect(step.memoryBoundSeconds).toBe(step.seconds)
    const up = timeOf(step, 'mlp-up')
    // m = 1, n = 2·3584, k = 8192; weights 7168·8192·2 B, input 8192·2, output 7168·2
    const bytes = 7168 * 8192 * 2 + (8192 + 7168) * 2
    expect(up.operator.bytes).toBe(bytes)
    const memory = (bytes + ramp) / (bandwidth * 0.85) // b / (B · 0.85 · b/(b + ramp))
    const compute = (2 * 7168 * 8192) / (peak * ((0.7 * 0.801 * (7168 / 7200) * (8192 / 8288)) / 33)) + 6e-6 // 13.1 µs
    expect(compute).toBeLessThan(memory)
    expect(up.seconds / (80 * memory) - 1).toBeCloseTo(0, 12)
  })

  it('batch 512: the GEMMs become compute-bound', () => {
    const step = decodeAt(512)
    for (const name of ['qkv', 'output', 'mlp-up', 'mlp-down'] as const) expect(timeOf(step, name).bound).toBe('compute')
    const up = timeOf(step, 'mlp-up')
    const flops = 2 * 512 * 7168 * 8192 // 60,129,542,144
    // 0.7 · 0.801 · 512/544 · 7168/7200 · 8192/8288 = 0.51929 → 117.03 µs, plus the 6 µs launch
    const shape = 0.7 * 0.801 * (512 / 544) * (7168 / 7200) * (8192 / 8288)
    const compute = flops / (peak * shape) + 6e-6 // 123.03 µs
    const bytes = 7168 * 8192 * 2 + 512 * (8192 + 7168) * 2
    const memory = (bytes + ramp) / (bandwidth * 0.85) // (133,169,152 + 33,500,000) / 2.8475e12 = 58.5 µs
    expect(compute).toBeGreaterThan(memory)
    expect(up.computeEfficiency).toBeCloseTo(flops / (peak * compute), 12) // 0.49396
    expect(up.computeEfficiency).toBeCloseTo(0.49396, 5)
    expect(up.seconds / (80 * compute) - 1).toBeCloseTo(0, 12)
    // the attention still streams the KV cache
    expect(timeOf(step, 'attention').bound).toBe('memory')
  })

  it('fp8 weights and activations compute at the fp8 peak (twice the bf16 one) with the fp8 GEMM ceiling', () => {
    const fp8 = deploymentOf('llama-2-70b', { tp: 8 }, { weights: 'fp8', activations: 'fp8', kvCache: 'fp8' })
    const step = right(phaseTime(defaultComputeModel, fp8, h100)({ kind: 'decode', batch: 512, context: 4096 }))
    const up = timeOf(step, 'mlp-up')
    expect(up.operator.dtype).toBe('fp8')
    // fp8: the Hopper fp8 ceiling 0.734 and the 8-bit k half-size 384: 0.7 · 0.734 · 512/544 · 7168/7200 · 8192/8576 = 0.45987
    // → 66.07 µs at 1978.9 TFLOP/s, plus 6 µs: 72.07 µs, against bf16's 123.03 µs
    const flops = 2 * 512 * 7168 * 8192
    const fp8Seconds = flops / (1978.9e12 * (0.7 * 0.734 * (512 / 544) * (7168 / 7200) * (8192 / 8576))) + 6e-6
    expect(up.computeEfficiency).toBeCloseTo(flops / (1978.9e12 * fp8Seconds), 12)
    expect(up.computeSeconds / 80).toBeCloseTo(fp8Seconds, 12)
    expect(up.operator.weightBytes).toBe(7168 * 8192) // one byte each
  })

  it('a format the device lacks is an error, not a guess', () => {
    const fp8 = deploymentOf('llama-2-70b', { tp: 8 }, { weights: 'fp8', activations: 'fp8', kvCache: 'fp8' })
    const e = phaseTime(defaultComputeModel, fp8, devices['a100-80gb'])({ kind: 'decode', batch: 1, context: 10 })
    expect(E.isLeft(e) && e.left.code).toBe('dtype-unsupported')
  })
})

describe('breakdown', () => {
  it('the step is the sum of its operators; the groups partition it', () => {
    const step = decodeAt(64)
    const sum = step.operators.reduce((s, t) => s + t.seconds, 0)
    expect(step.seconds).toBeCloseTo(sum, 15)
    const groups = Object.values(step.byGroup).reduce((s, g) => s + g.seconds, 0)
    expect(groups / step.seconds - 1).toBeCloseTo(0, 12)
    expect((step.computeBoundSeconds + step.memoryBoundSeconds) / step.seconds - 1).toBeCloseTo(0, 12)
    expect(step.byGroup.moe.seconds).toBe(0)
    expect(step.byGroup.mlp.seconds).toBeGreaterThan(step.byGroup.lm_head.seconds)
    expect(step.bytes).toBe(step.weightBytes + step.activationBytes + step.kvCacheBytes)
  })

  it('operatorTime times all instances of one operator', () => {
    const ops = right(operators(defaultComputeModel, llama70b)({ kind: 'decode', batch: 1, context: 100 }))
    const qkv = ops.find((o) => o.name === 'qkv')
    if (qkv === undefined) throw new Error('no qkv')
    const one = right(operatorTime(defaultComputeModel, h100)({ ...qkv, count: 1 }))
    const all = right(operatorTime(defaultComputeModel, h100)(qkv))
    expect(all.seconds / one.seconds).toBeCloseTo(80, 12)
  })
})

describe('a user efficiency outside (0, 1] is reported', () => {
  it('names the kernel and the value', () => {
    const broken = withEfficiency({ gemm: () => 0 })(defaultComputeModel)
    const e = phaseTime(broken, llama70b, h100)({ kind: 'decode', batch: 1, context: 10 })
    expect(E.isLeft(e) && e.left.code).toBe('invalid-efficiency')
    expect(E.isLeft(e) && e.left.message).toMatch(/the gemm efficiency must lie in \(0, 1\], the efficiency model answered 0/)
    const nan = withEfficiency({ memory: () => Number.NaN })(defaultComputeModel)
    expect(E.isLeft(stepTime(nan, h100)(right(operators(nan, llama70b)({ kind: 'decode', batch: 1, context: 10 }))))).toBe(true)
  })
})

describe('laws', () => {
  it('every time of a valid deployment and phase is finite and non-negative, and the step positive', () => {
    fc.assert(
      fc.property(arbitraryDeployment, arbitraryPhase, (deployment, phase: Phase) => {
        const step = right(phaseTime(defaultComputeModel, deployment, h100)(phase))
        expect(Number.isFinite(step.seconds) && step.seconds > 0).toBe(true)
        for (const v of [step.flops, step.bytes, step.computeBoundSeconds, step.memoryBoundSeconds]) expect(Number.isFinite(v) && v >= 0).toBe(true)
        for (const t of step.operators) {
          for (const v of [t.seconds, t.computeSeconds, t.memorySeconds]) expect(Number.isFinite(v) && v >= 0).toBe(true)
          const roof = Math.max(t.computeSeconds, t.memorySeconds)
          expect(roof === 0 ? t.seconds : t.seconds / roof - 1).toBeCloseTo(0, 12)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('the roofline: an operator is never faster than its compute or its memory term', () => {
    fc.assert(
      fc.property(arbitraryDeployment, arbitraryPhase, (deployment, phase) => {
        for (const t of right(phaseTime(defaultComputeModel, deployment, h100)(phase)).operators) {
          expect(t.seconds).toBeGreaterThanOrEqual(t.computeSeconds * (1 - 1e-12))
          expect(t.seconds).toBeGreaterThanOrEqual(t.memorySeconds * (1 - 1e-12))
        }
      }),
      { numRuns: 100 },
    )
  })
})
