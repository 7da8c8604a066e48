import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { devices } from '@meshplan/topology'
import { defaultComputeModel, withAttentionKernel, withEfficiency } from '../src/computeModel'
import { decodeSeconds, precompute, prefillSeconds, TrainingPart, trainingParts, trainingSeconds, type StepConstants } from '../src/fast'
import { FLASH_BACKWARD_RATIO } from '../src/operators'
import { layersOfStage } from '@meshplan/parallelism'
import { isMoeLayer } from '@meshplan/model'
import { Quantity, type Deployment } from '../src/operators'
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

const slowSeconds = (deployment: Deployment, phase: Phase, model = defaultComputeModel): number => right(phaseTime(model, deployment, h100)(phase)).seconds

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

  it("answers what phaseTime answers for a serving engine's passes, which are no slower on an H100 (its serving GEMM share, 0.8, is above training's 0.7)", () => {
    fc.assert(
      fc.property(arbitraryDeployment, arbitraryPhase, (d, phase) => {
        fc.pre(phase.kind !== 'decode' || typeof phase.context === 'number')
        const deployment = { ...d, serving: true }
        const fast = fastSeconds(right(precompute(defaultComputeModel, deployment, h100)), phase)
        expect(fast / slowSeconds(deployment, phase) - 1).toBeCloseTo(0, 10)
        expect(fast).toBeLessThanOrEqual(fastSeconds(right(precompute(defaultComputeModel, d, h100)), phase) * (1 + 1e-12))
      }),
      { numRuns: 200 },
    )
  })

  it('answers what phaseTime answers with the unfused attention kernel too (its batched GEMMs shaped from the step)', () => {
    const unfused = withAttentionKernel('unfused')(defaultComputeModel)
    fc.assert(
      fc.property(arbitraryDeployment, arbitraryPhase, (deployment, phase) => {
        fc.pre(phase.kind !== 'decode' || typeof phase.context === 'number')
        const c = right(precompute(unfused, deployment, h100))
        expect(fastSeconds(c, phase) / slowSeconds(deployment, phase, unfused) - 1).toBeCloseTo(0, 10)
      }),
      { numRuns: 200 },
    )
  })

  it('law: the unfused kernel never makes a prefill or a training step faster than the fused one (it moves the scores and computes the masked half)', () => {
    const unfused = withAttentionKernel('unfused')(defaultComputeModel)
    fc.assert(
      fc.property(arbitraryDeployment, arbitraryPhase, (deployment, phase) => {
        fc.pre(phase.kind !== 'decode')
        const fused = fastSeconds(right(precompute(defaultComputeModel, deployment, h100)), phase)
        expect(fastSeconds(right(precompute(unfused, deployment, h100)), phase)).toBeGreaterThan(fused)
      }),
      { numRuns: 200 },
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

  it('a decode step that verifies q drafted tokens per sequence: q times the tokens through the layers, the KV cache read once', () => {
    // Llama-2-7B on one H100, 8 sequences at 2,048 keys, 4 queries each (3 drafted + 1)
    const c = right(precompute(defaultComputeModel, deploymentOf('llama-2-7b', {}), h100))
    decodeSeconds(c, 8, 2048, 4)
    const q = c.scratch
    // tokens and LM-head rows 8 · 4 = 32, pairs 8 · 2,048 · 4 = 65,536, keys read 8 · 2,048 = 16,384, sequences 8
    expect([q[Quantity.tokens], q[Quantity.lmTokens], q[Quantity.pairs], q[Quantity.keys], q[Quantity.sequences]]).toEqual([32, 32, 65536, 16384, 8])
    decodeSeconds(c, 8, 2048)
    expect([q[Quantity.tokens], q[Quantity.pairs], q[Quantity.keys]]).toEqual([8, 16384, 16384])
    // the 32 tokens cost more than 8, and less than 32 sequences that each read their own KV cache
    const one = decodeSeconds(c, 8, 2048)
    const verify = decodeSeconds(c, 8, 2048, 4)
    const separate = decodeSeconds(c, 32, 2048)
    expect(verify).toBeGreaterThan(one)
    expect(verify).toBeLessThan(separate)
    // memory-bound at this size: the 13.5 GB of weights dominate, so verifying 4 tokens costs less than 10% more than 1
    expect(verify / one).toBeLessThan(1.1)
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

  it('training parts compose every stage of every deployment into what trainingSeconds answers', () => {
    fc.assert(
      fc.property(
        arbitraryDeployment,
        fc.integer({ min: 1, max: 8192 }),
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom('none' as const, 'selective' as const, 'full' as const),
        (deployment, sequence, batch, recompute) => {
          const s = deployment.strategy
          fc.pre(sequence % s.cp === 0)
          const stage = right(precompute(defaultComputeModel, deployment, h100))
          const whole = right(precompute(defaultComputeModel, { ...deployment, strategy: { ...s, pp: 1, virtualStages: 1 }, ppRank: 0 }, h100))
          const parts = trainingParts(whole, sequence, batch, new Float64Array(TrainingPart.count))
          const rank = deployment.ppRank ?? s.pp - 1
          const layers = layersOfStage(deployment.arch, s)(rank)
          const moe = layers.filter(isMoeLayer(deployment.arch)).length
          const p = (k: number): number => parts[k] ?? Number.NaN
          const forward =
            layers.length * p(TrainingPart.layer) +
            (layers.length - moe) * p(TrainingPart.dense) +
            moe * p(TrainingPart.moe) +
            (rank === 0 ? p(TrainingPart.first) : 0) +
            (rank === s.pp - 1 ? p(TrainingPart.last) : 0)
          const extra =
            recompute === 'selective'
              ? layers.length * p(TrainingPart.core)
              : recompute === 'full'
                ? layers.length * p(TrainingPart.layer) + (layers.length - moe) * p(TrainingPart.dense) + moe * p(TrainingPart.moe)
                : 0
          // the fused attention core's backward costs FLASH_BACKWARD_RATIO times its forward, not twice
          const flash = (FLASH_BACKWARD_RATIO - 2) * layers.length * p(TrainingPart.flashCore)
          expect((3 * forward + flash + extra) / trainingSeconds(stage, sequence, batch, recompute) - 1).toBeCloseTo(0, 10)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('training parts by hand: the attention core is inside the layer part, the LM head only in the last', () => {
    const c = right(precompute(defaultComputeModel, deploymentOf('gpt3-175b', { tp: 8 }), h100))
    const parts = trainingParts(c, 2048, 1, new Float64Array(TrainingPart.count))
    const p = (k: number): number => parts[k] ?? Number.NaN
    expect(p(TrainingPart.core)).toBeGreaterThan(0)
    expect(p(TrainingPart.core)).toBeLessThan(p(TrainingPart.layer))
    expect(p(TrainingPart.moe)).toBe(0)
    // the LM head GEMM: 2 · 2048 tokens · 12288 · ceil(50257/8) FLOPs at the gemm efficiency of that shape
    const headFlops = 2 * 2048 * 12288 * Math.ceil(50257 / 8)
    expect(p(TrainingPart.last)).toBeGreaterThan(headFlops / h100.peak.bf16!)
    expect(p(TrainingPart.first)).toBeGreaterThan(0)
    expect(p(TrainingPart.first)).toBeLessThan(p(TrainingPart.last))
  })

  it('the GEMM parts are the GEMMs\' share of their parts: Llama-2-7B TP2, the four layer GEMMs\' instance times', () => {
    const deployment = deploymentOf('llama-2-7b', { tp: 2 })
    const c = right(precompute(defaultComputeModel, deployment, h100))
    const parts = trainingParts(c, 4096, 2, new Float64Array(TrainingPart.count))
    const p = (k: number): number => parts[k] ?? Number.NaN
    // each GEMM operator's time, from the slow path (one forward instance each)
    const times = right(phaseTime(defaultComputeModel, deployment, h100)({ kind: 'training', sequence: 4096, batch: 2, recompute: 'none' })).operators.filter(
      (t) => t.operator.pass === 'forward',
    )
    const one = (name: string): number => {
      const t = times.find((x) => x.operator.name === name)
      return t === undefined ? Number.NaN : t.seconds / t.operator.count
    }
    expect(p(TrainingPart.layerGemm) / (one('qkv') + one('output')) - 1).toBeCloseTo(0, 12)
    expect(p(TrainingPart.denseGemm) / (one('mlp-up') + one('mlp-down')) - 1).toBeCloseTo(0, 12)
    expect(p(TrainingPart.moeGemm)).toBe(0)
    expect(p(TrainingPart.layerGemm)).toBeLessThan(p(TrainingPart.layer))
    expect(p(TrainingPart.denseGemm)).toBeLessThan(p(TrainingPart.dense))
  })

  it('fp8 training runs the LM head at the bf16 peak: its instance is the same as in bf16 training, the layer GEMMs faster', () => {
    const bf16 = right(precompute(defaultComputeModel, deploymentOf('llama-2-7b'), h100))
    const fp8 = right(precompute(defaultComputeModel, deploymentOf('llama-2-7b', {}, { weights: 'bf16', activations: 'fp8', kvCache: 'bf16' }), h100))
    expect(fp8.widePeak).toBe(h100.peak.bf16)
    expect(fp8.wideDtype).toBe('bf16')
    const a = trainingParts(bf16, 4096, 1, new Float64Array(TrainingPart.count))
    const b = trainingParts(fp8, 4096, 1, new Float64Array(TrainingPart.count))
    // the last part: final norm (bf16 both), LM head (a bf16 GEMM both), loss (bf16 both)
    expect((b[TrainingPart.last] ?? 0) / (a[TrainingPart.last] ?? 1) - 1).toBeCloseTo(0, 12)
    expect(b[TrainingPart.denseGemm] ?? 0).toBeLessThan(a[TrainingPart.denseGemm] ?? 0)
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
