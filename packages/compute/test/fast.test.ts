import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { devices } from '@meshplan/topology'
import { defaultComputeModel, withEfficiency } from '../src/computeModel'
import { decodeSeconds, precompute, prefillSeconds, trainingSeconds, type StepConstants } from '../src/fast'
import type { Deployment } from '../src/operators'
import type { Phase } from '../src/phase'
import { phaseTime } from '../src/roofline'
import { arbitraryDeployment, arbitraryPhase, deploymentOf, h100, right } from './fixtures'

const fastSeconds = (c: StepConstants, phase: Phase): number => {
  switch (phase.kind) {
    case 'prefill':
      return prefillSeconds(c, phase.tokens, phase.batch)
    case 'decode':
      return decodeSeconds(c, phase.batch, typeof phase.context === 'number' ? phase.context : Number.NaN)
    case 'training':
      return trainingSeconds(c, phase.sequence, phase.batch, phase.recompute)
  }
}

const slowSeconds = (deployment: Deployment, phase: Phase): number => right(phaseTime(defaultComputeModel, deployment, h100)(phase)).seconds

describe('the fast path', () => {
  it('answers what phaseTime answers, for every deployment and phase', () => {
    fc.assert(
      fc.property(arbitraryDeployment, arbitraryPhase, (deployment, phase) => {
        fc.pre(phase.kind !== 'decode' || typeof phase.context === 'number')
        const c = right(precompute(defaultComputeModel, deployment, h100))
        const fast = fastSeconds(c, phase)
        expect(Number.isFinite(fast) && fast > 0).toBe(true)
        expect(fast / slowSeconds(deployment, phase) - 1).toBeCloseTo(0, 10)
      }),
      { numRuns: 300 },
    )
  })

  it('law: with the default efficiencies, a decode step never gets faster with more sequences or longer contexts', () => {
    fc.assert(
      fc.property(arbitraryDeployment, fc.integer({ min: 1, max: 2048 }), fc.integer({ min: 1, max: 65536 }), (deployment, batch, context) => {
        const c = right(precompute(defaultComputeModel, deployment, h100))
        const t = decodeSeconds(c, batch, context)
        expect(decodeSeconds(c, batch + 1, context)).toBeGreaterThanOrEqual(t * (1 - 1e-12))
        expect(decodeSeconds(c, batch, context + 1)).toBeGreaterThanOrEqual(t * (1 - 1e-12))
      }),
      { numRuns: 200 },
    )
  })

  it('training: 3 forward-equivalents per operator, 4 for the recomputed ones', () => {
    const c = right(precompute(defaultComputeModel, deploymentOf('llama-2-7b', { tp: 2 }), h100))
    const none = trainingSeconds(c, 4096, 1, 'none')
    const selective = trainingSeconds(c, 4096, 1, 'selective')
    const full = trainingSeconds(c, 4096, 1, 'full')
    expect(none).toBeLessThan(selective)
    expect(selective).toBeLessThan(full)
    expect(full).toBeLessThan((4 / 3) * none)
  })

  it('checks the deployment once, up front', () => {
    const a100 = devices['a100-80gb']
    const fp8 = deploymentOf('llama-2-70b', { tp: 8 }, { weights: 'fp8', activations: 'fp8', kvCache: 'fp8' })
    const e = precompute(defaultComputeModel, fp8, a100)
    expect(E.isLeft(e) && e.left.code).toBe('dtype-unsupported')
    expect(E.isLeft(precompute(defaultComputeModel, deploymentOf('llama-2-7b', { tp: 3 }), h100))).toBe(true)
  })

  it('clamps an efficiency outside (0, 1] instead of answering Infinity or NaN', () => {
    const broken = withEfficiency({ gemm: () => Number.NaN, memory: () => 0 })(defaultComputeModel)
    const c = right(precompute(broken, deploymentOf('llama-2-7b'), h100))
    expect(Number.isFinite(decodeSeconds(c, 1, 100))).toBe(true)
  })
})
