/**
 * Every valid strategy for a model on a cluster, lazily: a generator that walks the
 * divisor lattice of the GPU count degree by degree and prunes a branch as soon as a
 * law fails, so the space is never materialised. It walks exactly the strategies
 * `validate` accepts (both use the predicates of `laws.ts`), narrowed by optional
 * constraints.
 *
 * @example
 * import { enumerate } from '@meshplan/parallelism'
 * for (const s of enumerate({ model, cluster })({ max: { pp: 1 } })) console.log(s)
 */
import { scaleUpDomainSize, worldSize } from '@meshplan/topology'
import { divides, divisors } from './arithmetic'
import { cpSplitsSequence, epSplitsExperts, etpSplitsExpert, expertsFold, ppSplitsLayers, spFits, tpSplitsAttention, tpSplitsMlp } from './laws'
import { splitFor } from './split'
import type { DegreeName, PipelineSplit, Strategy } from './strategy'
import { targetGpus, type Target } from './validate'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Narrowings of the space; the default is every valid strategy. */
export interface Constraints {
  /** Largest degree allowed per dimension. */
  readonly max?: Partial<Readonly<Record<DegreeName, number>>>
  /** Only these degrees per dimension. */
  readonly only?: Partial<Readonly<Record<DegreeName, ReadonlyArray<number>>>>
  /** Only this sequence-parallel setting (default: both where tp > 1). */
  readonly sequenceParallel?: boolean
  /** Keep tensor parallelism inside one scale-up domain (default false: allowed, with a warning note). */
  readonly tpWithinScaleUp?: boolean
  /**
   * Also the pipeline degrees whose stages cannot hold equal shares of the layers, each with
   * the uneven split {@link splitFor} gives (default false: even splits only).
   */
  readonly unevenPipelines?: boolean
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const allowedBy =
  (constraints: Constraints) =>
  (name: DegreeName, degree: number): boolean => {
    const max = constraints.max?.[name]
    if (max !== undefined && degree > max) return false
    const only = constraints.only?.[name]
    return only === undefined || only.includes(degree)
  }

/** Every valid strategy for `target` under `constraints`, lazily, each exactly once. */
export const enumerate =
  (target: Target) =>
  (constraints: Constraints = {}): IterableIterator<Strategy> => {
    const { model, cluster, sequenceLength } = target
    const gpus = targetGpus(target)
    const allowed = allowedBy(constraints)
    const tpLimit = constraints.tpWithinScaleUp === true ? scaleUpDomainSize(cluster) : Infinity
    const spChoices = (tp: number): ReadonlyArray<boolean> =>
      constraints.sequenceParallel !== undefined ? [constraints.sequenceParallel] : tp > 1 ? [false, true] : [false]
    const splitsAttention = tpSplitsAttention(model)
    const splitsMlp = tpSplitsMlp(model)
    const splitsLayers = ppSplitsLayers(model)
    const splitsExperts = epSplitsExperts(model)
    const splitsExpert = etpSplitsExpert(model)

    function* expertFolds(base: Omit<Strategy, 'ep' | 'etp'>): Generator<Strategy> {
      if (model.moe === undefined) {
        if (allowed('ep', 1) && allowed('etp', 1)) yield { ...base, ep: 1, etp: 1 }
        return
      }
      const width = base.tp * base.dp * base.cp
      for (const etp of divisors(width)) {
        if (!splitsExpert(etp) || !allowed('etp', etp)) continue
        for (const ep of divisors(width / etp)) {
          if (splitsExperts(ep) && expertsFold(width, ep, etp) && allowed('ep', ep)) yield { ...base, ep, etp }
        }
      }
    }

    // the (virtual stages, split) pairs of `pp`: the even ones, then, when asked, the uneven split of each other chunk count
    const stageCuts = (pp: number): ReadonlyArray<readonly [number, PipelineSplit | undefined]> => {
      const cuts: Array<readonly [number, PipelineSplit | undefined]> = []
      if (divides(pp, model.layers)) for (const v of divisors(model.layers / pp)) if (splitsLayers(pp, v)) cuts.push([v, undefined])
      if (constraints.unevenPipelines === true && pp > 1) {
        for (const v of divisors(Math.max(1, Math.floor(model.layers / pp)))) {
          if (splitsLayers(pp, v)) continue
          const split = splitFor(model.layers, pp, v)
          if (split !== undefined) cuts.push([v, split])
        }
      }
      return cuts
    }

    function* walk(): Generator<Strategy> {
      if (!Number.isInteger(gpus) || gpus < 1 || gpus > worldSize(cluster)) return
      for (const tp of divisors(gpus)) {
        if (tp > tpLimit || !allowed('tp', tp) || !splitsAttention(tp) || !splitsMlp(tp)) continue
        for (const pp of divisors(gpus / tp)) {
          if (!allowed('pp', pp)) continue
          for (const [virtualStages, pipelineSplit] of stageCuts(pp)) {
            if (!allowed('virtualStages', virtualStages)) continue
            for (const cp of divisors(gpus / tp / pp)) {
              if (!allowed('cp', cp) || !cpSplitsSequence(sequenceLength, cp)) continue
              const dp = gpus / tp / pp / cp
              if (!allowed('dp', dp)) continue
              for (const sequenceParallel of spChoices(tp)) {
                if (!spFits(sequenceLength, tp, cp, sequenceParallel)) continue
                yield* expertFolds({ tp, pp, dp, cp, sequenceParallel, virtualStages, ...(pipelineSplit === undefined ? {} : { pipelineSplit }) })
              }
            }
          }
        }
      }
    }

    return walk()
  }

/** The number of strategies `enumerate` yields (walks the space once, holding nothing). */
export const countStrategies =
  (target: Target) =>
  (constraints: Constraints = {}): number => {
    let count = 0
    for (const _ of enumerate(target)(constraints)) count++
    return count
  }
