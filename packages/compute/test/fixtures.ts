// Shared deployments and fast-check arbitraries for the compute tests: every model preset
// with the strategies that fit it, and valid phases.
import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { defaultPrecision, modelNames, models, type Architecture, type ModelName, type Precision } from '@meshplan/model'
import { divisors, strategy, type Strategy } from '@meshplan/parallelism'
import { devices } from '@meshplan/topology'
import { defaultComputeModel } from '../src/computeModel'
import { shardShape, type Deployment } from '../src/operators'
import type { Phase } from '../src/phase'

export const h100 = devices['h100-sxm']

export const deploymentOf = (name: ModelName, degrees: Partial<Strategy> = {}, precision: Precision = defaultPrecision): Deployment => ({
  arch: models[name],
  strategy: strategy(degrees),
  precision,
})

/** Unwraps a Right, failing the test with the error message on a Left. */
export const right = <A>(e: E.Either<{ readonly message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected a Right, got: ${e.left.message}`)
  return e.right
}

/** The strategies of small degrees that fit `arch` (tp, pp, dp, cp up to 8, 4, 4, 2; ep and etp folding into the stage). */
export const strategiesFor = (arch: Architecture): ReadonlyArray<Strategy> => {
  const out: Strategy[] = []
  const experts = arch.moe?.experts ?? 1
  for (const tp of [1, 2, 4, 8])
    for (const pp of divisors(arch.layers).filter((d) => d <= 4))
      for (const dp of [1, 2, 4])
        for (const cp of [1, 2])
          for (const ep of divisors(experts).filter((d) => d <= 32))
            for (const etp of [1, 2])
              for (const sequenceParallel of tp > 1 ? [false, true] : [false]) {
                const s = strategy({ tp, pp, dp, cp, ep, etp, sequenceParallel })
                if (E.isRight(shardShape(defaultComputeModel, { arch, strategy: s, precision: defaultPrecision }))) out.push(s)
              }
  return out
}

const strategyCache = new Map<ModelName, ReadonlyArray<Strategy>>()
const cachedStrategies = (name: ModelName): ReadonlyArray<Strategy> => {
  const hit = strategyCache.get(name)
  if (hit !== undefined) return hit
  const all = strategiesFor(models[name])
  strategyCache.set(name, all)
  return all
}

/** A preset, a strategy that fits it, a pipeline rank and a precision the H100 computes in. */
export const arbitraryDeployment: fc.Arbitrary<Deployment> = fc
  .constantFrom(...modelNames)
  .chain((name) =>
    fc.record({
      name: fc.constant(name),
      strategy: fc.constantFrom(...cachedStrategies(name)),
      stageSeed: fc.nat(),
      precision: fc.constantFrom<Precision>(
        defaultPrecision,
        { weights: 'fp8', activations: 'fp8', kvCache: 'fp8' },
        { weights: 'int4', activations: 'bf16', kvCache: 'bf16' },
        { weights: 'bf16', activations: 'fp16', kvCache: 'fp8' },
      ),
    }),
  )
  .map(({ name, strategy: s, stageSeed, precision }) => ({ arch: models[name], strategy: s, precision, ppRank: stageSeed % s.pp }))

/** A valid phase of modest size. */
export const arbitraryPhase: fc.Arbitrary<Phase> = fc.oneof(
  fc.record({ kind: fc.constant('prefill' as const), tokens: fc.integer({ min: 1, max: 32768 }), batch: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('decode' as const), batch: fc.integer({ min: 1, max: 1024 }), context: fc.integer({ min: 1, max: 131072 }) }),
  fc
    .integer({ min: 1, max: 16 })
    .chain((batch) =>
      fc.record({
        kind: fc.constant('decode' as const),
        batch: fc.constant(batch),
        context: fc.array(fc.integer({ min: 1, max: 65536 }), { minLength: batch, maxLength: batch }),
      }),
    ),
  fc.record({
    kind: fc.constant('training' as const),
    sequence: fc.integer({ min: 1, max: 16384 }),
    batch: fc.integer({ min: 1, max: 16 }),
    recompute: fc.constantFrom('none' as const, 'selective' as const, 'full' as const),
  }),
)
