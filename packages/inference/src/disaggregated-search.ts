/**
 * The search for disaggregated deployments: a prefill pool and a decode pool on the GPUs
 * of one cluster, each of instances of one strategy, ranked by output tokens/s per GPU
 * under the TTFT and TPOT objectives, beside the co-located search of the same cluster.
 *
 * The space is every pair of instance strategies times every pair of instance counts, far
 * too many to estimate whole; it is pruned in three steps, each keeping what can win:
 *
 * 1. Every valid strategy of every instance size that divides the cluster (up to half of
 *    it, so both pools fit) is priced once as a prefill instance (prompt tokens per second
 *    per GPU at its token budget) and as a decode instance at the most sequences that fit
 *    (requests per second per GPU, and its TPOT).
 * 2. Only the {@link disaggregatedLimits}`.perRole` best of each role per GPU go on: a pool
 *    built of a slower instance type serves no more per GPU than one of a faster type of
 *    the same size. A decode type whose TPOT at full batch misses the objective has its
 *    engine batch limit lowered along 1, 2, 4, ... until it meets it, and is priced there.
 * 3. For each pair of kept types, the instance counts that serve most per GPU: the
 *    deployment serves the slower pool's rate, so for each prefill count the decode count
 *    is the one that just keeps up with it or the one below (at most what fits the
 *    remaining GPUs: a deployment may leave GPUs of the cluster idle); the pair's {@link disaggregatedLimits}`.countsPerPair`
 *    best counts by those rates are estimated whole (`estimateDisaggregated`), and the best
 *    of them that meets the objectives is kept.
 *
 * @example
 * import { planDisaggregated } from '@meshplan/inference'
 * planDisaggregated(defaultCostModels)({ model, cluster, precision, workload, slo: { maxTtft: 2, maxTpot: 0.05 } })
 * // right({ top: [{ prefill: {...}, decode: {...}, estimate: {...} }, ...], evaluated: {...} })
 */
import * as E from 'fp-ts/Either'
import { estimateError, type CostModels, type EstimateError } from '@meshplan/cost-models'
import { divisors, enumerate, describe, worldOf, type Strategy } from '@meshplan/parallelism'
import { worldSize } from '@meshplan/topology'
import { estimateDisaggregated, poolLink, type DisaggregatedEstimate } from './disaggregated'
import type { PlanInput } from './search'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** One disaggregated deployment found: each pool's strategy and instances, and its estimate. */
export interface DisaggregatedCandidate {
  readonly prefill: { readonly strategy: Strategy; readonly description: string; readonly instances: number }
  readonly decode: { readonly strategy: Strategy; readonly description: string; readonly instances: number; /** The engine batch limit lowered to meet the TPOT objective, null when the most that fit meet it. */ readonly batchLimit: number | null }
  readonly estimate: DisaggregatedEstimate
}

/** What the search found, and how much of the space each step kept. */
export interface DisaggregatedPlan {
  readonly top: ReadonlyArray<DisaggregatedCandidate>
  /** Instance strategies priced (step 1), kept per role (step 2), and whole deployments estimated (step 3). */
  readonly evaluated: { readonly strategies: number; readonly prefillTypes: number; readonly decodeTypes: number; readonly deployments: number; readonly feasible: number }
}

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

/** Bounds of the search: strategies priced before it starts, instance types kept per role, and instance counts estimated whole per pair of types. */
export const disaggregatedLimits = { strategies: 5_000, perRole: 6, countsPerPair: 3 } as const

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

interface Priced {
  readonly strategy: Strategy
  readonly gpus: number
  readonly prefillPerGpu: number
  readonly decodePerGpu: number
  readonly maxBatch: number
  readonly tpot: number
}

/**
 * The disaggregated deployments of `input`'s cluster (see the module comment), the best
 * `input.top` by output tokens/s per GPU, or why not: a space of more than
 * {@link disaggregatedLimits}`.strategies` instance strategies is refused before any is priced.
 */
export const planDisaggregated =
  (models: CostModels) =>
  (input: PlanInput): E.Either<EstimateError, DisaggregatedPlan> => {
    const total = input.maxGpus === undefined ? worldSize(input.cluster) : Math.min(input.maxGpus, worldSize(input.cluster))
    const sizes = divisors(total).filter((g) => 2 * g <= total)
    const sequenceLength = Math.ceil(input.workload.inputTokens)
    const constraints = { sequenceParallel: false, ...input.constraints, max: { virtualStages: 1, ...input.constraints?.max } }
    const strategies: Strategy[] = []
    for (const gpus of sizes) {
      for (const s of enumerate({ model: input.model, cluster: input.cluster, gpus, sequenceLength })(constraints)) {
        strategies.push(s)
        if (strategies.length > disaggregatedLimits.strategies)
          return E.left(estimateError('too-large', `a disaggregated search would price more than ${disaggregatedLimits.strategies.toLocaleString('en-US')} instance strategies: fix a degree (tp, ep, ...) or search fewer GPUs`))
      }
    }
    const slo = input.slo ?? {}
    const { model, cluster, precision } = input
    const workload = { ...input.workload, mode: 'max_throughput' as const }
    const pair = (p: Strategy, pn: number, d: Strategy, dn: number, maxBatch?: number) =>
      estimateDisaggregated(models)({
        prefill: { model, cluster, precision, workload, strategy: p, instances: pn, ...(input.engine === undefined ? {} : { engine: input.engine }) },
        decode: { model, cluster, precision, workload: maxBatch === undefined ? workload : { ...workload, maxBatch }, strategy: d, instances: dn, ...(input.engine === undefined ? {} : { engine: input.engine }) },
        link: poolLink({ cluster, gpus: pn * worldOf(p) }, { cluster, gpus: dn * worldOf(d) }),
      })
    // step 1: each strategy priced in both roles by one pair of itself
    const priced: Priced[] = []
    for (const s of strategies) {
      const e = pair(s, 1, s, 1)
      if (E.isLeft(e)) continue
      const gpus = e.right.prefill.gpus
      priced.push({
        strategy: s,
        gpus,
        prefillPerGpu: e.right.prefill.requestsPerSecond / gpus,
        decodePerGpu: e.right.decode.requestsPerSecond / gpus,
        maxBatch: e.right.decode.batch,
        tpot: e.right.tpot,
      })
    }
    // step 2: the best of each role per GPU; a decode type over the TPOT objective has its batch limit lowered until it meets it
    const keep = disaggregatedLimits.perRole
    const prefillTypes = [...priced].sort((a, b) => b.prefillPerGpu - a.prefillPerGpu).slice(0, keep)
    const decodeTypes: Array<Priced & { readonly limit: number | undefined }> = []
    for (const p of [...priced].sort((a, b) => b.decodePerGpu - a.decodePerGpu)) {
      if (decodeTypes.length >= keep) break
      if (slo.maxTpot === undefined || p.tpot <= slo.maxTpot) {
        decodeTypes.push({ ...p, limit: undefined })
        continue
      }
      let found: (Priced & { readonly limit: number }) | undefined
      for (let b = Math.floor(p.maxBatch / 2); b >= 1; b = Math.floor(b / 2)) {
        const e = pair(p.strategy, 1, p.strategy, 1, b)
        if (E.isLeft(e)) continue
        if (e.right.tpot <= slo.maxTpot) {
          found = { ...p, decodePerGpu: e.right.decode.requestsPerSecond / p.gpus, maxBatch: e.right.decode.batch, tpot: e.right.tpot, limit: b }
          break
        }
      }
      if (found !== undefined) decodeTypes.push(found)
    }
    // step 3: the counts that fill the cluster best for each pair of types, estimated whole
    const candidates: DisaggregatedCandidate[] = []
    let deployments = 0
    for (const p of prefillTypes) {
      for (const d of decodeTypes) {
        const counts: Array<{ readonly pn: number; readonly dn: number; readonly rate: number }> = []
        for (let pn = 1; pn * p.gpus + d.gpus <= total; pn++) {
          const most = Math.floor((total - pn * p.gpus) / d.gpus)
          // the decode pool that just keeps up with this prefill pool, or the one below it, or the most that fit: more idles, fewer starves
          const even = (pn * p.gpus * p.prefillPerGpu) / (d.gpus * d.decodePerGpu)
          const below = Math.min(most, Math.max(1, Math.floor(even)))
          const above = Math.min(most, Math.max(1, Math.ceil(even)))
          for (const dn of below === above ? [below] : [below, above]) counts.push({ pn, dn, rate: Math.min(pn * p.gpus * p.prefillPerGpu, dn * d.gpus * d.decodePerGpu) / (pn * p.gpus + dn * d.gpus) })
        }
        // the priced rates rank the counts; the best few are estimated whole, as the pools' own figures can reorder close ones
        counts.sort((a, b) => b.rate - a.rate)
        let kept: DisaggregatedCandidate | undefined
        for (const c of counts.slice(0, disaggregatedLimits.countsPerPair)) {
          deployments++
          const e = pair(p.strategy, c.pn, d.strategy, c.dn, d.limit)
          if (E.isLeft(e)) continue
          const ok = (slo.maxTtft === undefined || e.right.ttft <= slo.maxTtft) && (slo.maxTpot === undefined || e.right.tpot <= slo.maxTpot) && (slo.minTokensPerUser === undefined || e.right.tokensPerSecond.perUser >= slo.minTokensPerUser)
          if (!ok || (kept !== undefined && kept.estimate.tokensPerSecond.perGpu >= e.right.tokensPerSecond.perGpu)) continue
          kept = {
            prefill: { strategy: p.strategy, description: describe(p.strategy), instances: c.pn },
            decode: { strategy: d.strategy, description: describe(d.strategy), instances: c.dn, batchLimit: d.limit ?? null },
            estimate: e.right,
          }
        }
        if (kept !== undefined) candidates.push(kept)
      }
    }
    // deployments with the same figures are the same deployment up to a symmetry (two instances of DP2 or one of DP4): shown once
    const same = (a: DisaggregatedEstimate, b: DisaggregatedEstimate): boolean =>
      a.gpus === b.gpus && [[a.tokensPerSecond.perGpu, b.tokensPerSecond.perGpu], [a.ttft, b.ttft], [a.tpot, b.tpot]].every(([x = 0, y = 0]) => Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y)))
    const distinct = candidates
      .sort((a, b) => b.estimate.tokensPerSecond.perGpu - a.estimate.tokensPerSecond.perGpu)
      .filter((c, i, all) => !all.slice(0, i).some((d) => same(c.estimate, d.estimate)))
    const top = distinct.slice(0, input.top ?? 5)
    return E.right({ top, evaluated: { strategies: priced.length, prefillTypes: prefillTypes.length, decodeTypes: decodeTypes.length, deployments, feasible: candidates.length } })
  }
