/**
 * The training search: every valid strategy of the model on the cluster (tp, pp, dp,
 * cp, ep, etp, virtual stages and sequence parallelism, from @meshplan/parallelism's
 * `enumerate`), every micro-batch size that divides the per-replica batch, every
 * recomputation mode and every ZeRO stage; each candidate is evaluated by
 * {@link evaluateTraining} over constants computed once per model and cluster, per
 * strategy and per micro-batch shape, with no allocation per candidate. Candidates that
 * do not fit in memory, interleaved schedules without a whole number of micro-batches
 * per pipeline rank, and strategies whose data-parallel degree does not divide the
 * global batch are rejected and counted by reason. Nothing is pruned: the search is
 * exhaustive, and the ranking (shortest iteration, ties broken by enumeration order) is
 * the same whatever the number of worker threads.
 *
 * Large spaces are split over worker threads by strategy (`strategy index mod
 * workers`), each with its own caches; the default models only, since functions (a
 * user's efficiency or memory model) cannot cross threads. With other models the
 * search runs on the calling thread.
 *
 * @example
 * import { defaultCostModels } from '@meshplan/cost-models'
 * import { planTraining } from '@meshplan/training'
 * const plan = await planTraining(defaultCostModels)(
 *   { model, cluster, precision, globalBatch: 1536, sequenceLength: 2048 },
 *   { recompute: ['selective'] },
 *   { top: 5, onProgress: (p) => process.stderr.write(`${p.candidates}\n`) },
 * )
 * // right({ strategies, candidates, fit, rejected: { memory, interleaving, batch }, best: [{ strategy, workload, iterationSeconds, mfu, ... }] })
 */
import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import * as E from 'fp-ts/Either'
import type { ZeroStage } from '@meshplan/memory'
import type { Architecture, Precision } from '@meshplan/model'
import { defaultOrder, describe, divisors, enumerate, expertDataParallel, type Constraints, type Dimension, type Order, type Strategy } from '@meshplan/parallelism'
import type { Cluster } from '@meshplan/topology'
import { worldSize } from '@meshplan/topology'
import { defaultCostModels, estimateError, type CostModels, type EstimateError, type GradientReduce } from '@meshplan/cost-models'
import { activationConstants, evaluateTraining, microConstants, samePlacement, strategyConstants, trainingContext, tpOverlapOf, trainingFigures, type StrategyConstants, type TrainingFigures } from './kernel'
import { offloadBits, offloadKindsOf, recomputeModes, scheduleFits, schedules, zeroStages, type OffloadKind, type RecomputeMode, type Schedule, type TrainingWorkload } from './workload'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What to train on what. */
export interface TrainingSearchInput {
  readonly model: Architecture
  readonly cluster: Cluster
  readonly precision: Precision
  readonly globalBatch: number
  readonly sequenceLength: number
  /** GPUs to use (default: all of the cluster's). */
  readonly gpus?: number
  readonly order?: Order
  /** The format gradients are accumulated and reduced in (default: the cost models' assumption, fp32). */
  readonly gradientReduce?: GradientReduce
}

/** Narrowings of the space (each default: everything). */
export interface TrainingSpace extends Constraints {
  /** Micro-batch sizes to try (default every divisor of the per-replica batch). */
  readonly microBatches?: ReadonlyArray<number>
  readonly recompute?: ReadonlyArray<RecomputeMode>
  readonly zeroStages?: ReadonlyArray<ZeroStage>
  /** Pipeline schedules to try (default all: 1F1B, ZB-H1 and DualPipe, each where it applies). */
  readonly schedules?: ReadonlyArray<Schedule>
  /** Tensor-parallel communication overlap to try with sequence parallelism (default both off and on; without it, off only). */
  readonly tpCommOverlap?: ReadonlyArray<boolean>
  /**
   * Offloads to try for a candidate that does not fit without one (default: every
   * combination of weights, activations and optimizer state when the cluster gives host
   * memory, else none); an empty list tries none.
   */
  readonly offload?: ReadonlyArray<ReadonlyArray<OffloadKind>>
  /**
   * Rank orders to lay each strategy out in (default: {@link rankOrders}, every order
   * with TP innermost that places some group on other GPUs than the input's order).
   */
  readonly orders?: ReadonlyArray<Order>
}

/** How far a search has got. */
export interface SearchProgress {
  readonly strategies: number
  readonly totalStrategies: number
  readonly candidates: number
  readonly seconds: number
  /** The best so far: its description and iteration time. */
  readonly best: { readonly description: string; readonly iterationSeconds: number } | null
}

export interface TrainingSearchOptions {
  /** How many of the best candidates to keep (default 10). */
  readonly top?: number
  /** Worker threads, at most the machine's cores (default: the cores when the space has more than 1,000,000 candidates, else 1: below that, starting threads and rebuilding their caches costs more than it saves). */
  readonly workers?: number
  readonly onProgress?: (p: SearchProgress) => void
}

/** A candidate that fits, with its figures. */
export interface TrainingCandidate {
  readonly strategy: Strategy
  readonly workload: TrainingWorkload
  readonly description: string
  /** The rank order its groups are laid out in, when not the search input's (default Megatron-LM's tp-cp-ep-dp-pp). */
  readonly order?: Order
  readonly iterationSeconds: number
  readonly tokensPerSecondPerGpu: number
  readonly modelFlopsPerGpu: number
  readonly mfu: number
  readonly memoryPerGpu: number
  /** Bytes the fullest GPU keeps in host memory (0 without offload). */
  readonly hostMemoryPerGpu: number
  readonly microBatches: number
  /** Seconds by where they go (see `TrainingBreakdown`). */
  readonly breakdown: {
    readonly compute: number
    readonly contention: number
    readonly bubble: number
    readonly exposed: Readonly<Record<'tp' | 'cp' | 'ep' | 'pp' | 'dp', number>>
    readonly offload: number
    readonly optimizer: number
  }
  /**
   * In a plan's best list: the candidates that are this one up to a symmetry of the
   * space, folded into it ({@link foldEquivalents}); absent elsewhere.
   */
  readonly equivalents?: ReadonlyArray<EquivalentCandidate>
}

/** A candidate folded into an equivalent one: how it differs. */
export interface EquivalentCandidate {
  readonly strategy: Strategy
  readonly workload: TrainingWorkload
  readonly description: string
  /** The rank order, when not the search input's (default Megatron-LM's). */
  readonly order?: Order
}

export interface TrainingRejections {
  /** Candidates whose fullest GPU exceeds its memory. */
  readonly memory: number
  /** Candidates of a rank order that places every group as an order tried before it does (the same plan, not evaluated again). */
  readonly placement: number
  /** Interleaved candidates whose micro-batches are not a multiple of pp. */
  readonly interleaving: number
  /** Strategies (not candidates) whose dp does not divide the global batch. */
  readonly batch: number
}

export interface TrainingPlan {
  readonly gpus: number
  readonly strategies: number
  readonly candidates: number
  readonly fit: number
  readonly rejected: TrainingRejections
  /** The best candidates, best first, each with the candidates equivalent to it folded in (`equivalents`). */
  readonly best: ReadonlyArray<TrainingCandidate>
  readonly seconds: number
  readonly workers: number
}

/** A worker's share of the search. */
export interface SliceResult {
  readonly strategies: number
  readonly candidates: number
  readonly fit: number
  readonly rejected: TrainingRejections
  readonly best: ReadonlyArray<Ranked>
}

/** A kept candidate and its place in the enumeration (for deterministic ties). */
export interface Ranked {
  readonly order: ReadonlyArray<number>
  readonly candidate: TrainingCandidate
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const gpusOf = (input: TrainingSearchInput): number => input.gpus ?? worldSize(input.cluster)

/** `given` with the search's defaults: pipeline degrees that do not divide the layers tried with the split Megatron users take (`splitFor`), unless asked not to. */
const spaceOf = (given: TrainingSpace): TrainingSpace => ({ unevenPipelines: true, ...given })

const strategiesOf = (input: TrainingSearchInput, space: TrainingSpace): ReadonlyArray<Strategy> =>
  Array.from(enumerate({ model: input.model, cluster: input.cluster, gpus: gpusOf(input), sequenceLength: input.sequenceLength })(spaceOf(space)))

/**
 * The most candidates one training search evaluates: about a minute on one core (the
 * 1T GPT on 4,096 H100s is 415,200 candidates, DeepSeek-V3 on 2,048 H800s 1.3 million),
 * and the most strategies it enumerates before counting them.
 */
/** Every non-empty combination of the offload kinds, as the kernel's bits. */
const offloadChoices: ReadonlyArray<number> = [1, 2, 4, 3, 5, 6, 7]

/** The offload bits the search tries beside none: the space's, else every combination where the cluster has host memory. */
const offloadsOf = (input: TrainingSearchInput, space: TrainingSpace): ReadonlyArray<number> =>
  input.cluster.host === undefined ? [] : space.offload === undefined ? offloadChoices : [...new Set(space.offload.map(offloadBits).filter((b) => b !== 0))]

/** Every ordering of `items`. */
const permutations = <T>(items: ReadonlyArray<T>): ReadonlyArray<ReadonlyArray<T>> =>
  items.length <= 1 ? [items] : items.flatMap((x, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [x, ...rest]))

/**
 * The rank orders worth laying `s` out in, `base` first: with TP innermost (it needs the
 * fastest links; Megatron-LM's orders all start with it), every arrangement of the
 * other dimensions (pipeline last for an MoE model, whose expert and dense layers must
 * share their stages), one per distinct placement. Two orders place every group alike
 * when the dimensions of degree above 1 come in the same sequence, for the dense layers
 * and for the experts (`etp`, `ep`, expert data parallelism); only such distinct orders
 * are kept. Which tier a group crosses follows: e.g. TP4 CP2 DP8 on 8-GPU nodes keeps
 * the CP pairs in a node under tp-cp-ep-dp-pp and puts DP pairs there under
 * tp-dp-cp-ep-pp.
 */
export const rankOrders = (s: Strategy, moe: boolean, base: Order = defaultOrder): ReadonlyArray<Order> => {
  const dense: Readonly<Record<Dimension, number>> = { tp: s.tp, cp: s.cp, ep: 1, dp: s.dp, pp: s.pp }
  const expert: Readonly<Record<Dimension, number>> = { tp: s.etp, cp: 1, ep: s.ep, dp: expertDataParallel(s), pp: s.pp }
  const signature = (o: Order): string => `${o.filter((d) => dense[d] > 1).join('-')}|${moe ? o.filter((d) => expert[d] > 1).join('-') : ''}`
  const kept: Order[] = [base]
  const seen = new Set([signature(base)])
  const middle: ReadonlyArray<Dimension> = moe ? ['cp', 'ep', 'dp'] : ['cp', 'ep', 'dp', 'pp']
  for (const perm of permutations(middle)) {
    const o: Order = moe ? ['tp', ...perm, 'pp'] : ['tp', ...perm]
    const key = signature(o)
    if (seen.has(key)) continue
    seen.add(key)
    kept.push(o)
  }
  return kept
}

/** The orders the search lays `s` out in: the space's, else {@link rankOrders} from the input's. */
const ordersOf = (input: TrainingSearchInput, space: TrainingSpace, s: Strategy): ReadonlyArray<Order> =>
  space.orders ?? rankOrders(s, input.model.moe !== undefined, input.order ?? defaultOrder)

/** TP communication overlap off, then on. */
const overlapChoices: ReadonlyArray<boolean> = [false, true]

/** How many of the TP-overlap choices apply to `s`: on needs sequence parallelism. */
const overlapsFor = (s: Strategy, choices: ReadonlyArray<boolean>): number => choices.filter((on) => !on || s.sequenceParallel).length

export const trainingSearchLimits = { candidates: 5_000_000, strategies: 200_000 } as const

/**
 * How many candidates the search of `input` under `space` evaluates (strategies whose
 * dp divides the global batch × micro-batch sizes × recomputation modes × ZeRO
 * stages), counted before any is evaluated; the strategies are counted up to one past
 * {@link trainingSearchLimits}.strategies, where the count stops.
 */
export const plannedCandidates = (input: TrainingSearchInput, space: TrainingSpace): { readonly strategies: number; readonly candidates: number } => {
  const perSchedule = (space.recompute ?? recomputeModes).length * (space.zeroStages ?? zeroStages).length
  const scheduleList = space.schedules ?? schedules
  const microByDp = new Map<number, ReadonlyArray<number>>()
  let strategies = 0
  let candidates = 0
  for (const s of enumerate({ model: input.model, cluster: input.cluster, gpus: gpusOf(input), sequenceLength: input.sequenceLength })(spaceOf(space))) {
    if (++strategies > trainingSearchLimits.strategies) break
    if (input.globalBatch % s.dp !== 0) continue
    let micro = microByDp.get(s.dp)
    if (micro === undefined) {
      const all = divisors(input.globalBatch / s.dp)
      micro = space.microBatches === undefined ? all : all.filter((d) => space.microBatches?.includes(d) === true)
      microByDp.set(s.dp, micro)
    }
    candidates += ordersOf(input, space, s).length * orderCandidates(input.globalBatch, space, s, micro, perSchedule, scheduleList)
  }
  return { strategies, candidates }
}

/**
 * The candidates of strategy `s` in one rank order, as the search counts them: per micro-batch size, a schedule is a
 * candidate where it applies (an interleaved strategy: 1F1B's only), times recomputation modes and ZeRO stages, times
 * TP overlap (on only with sequence parallelism).
 */
const orderCandidates = (globalBatch: number, space: TrainingSpace, s: Strategy, micro: ReadonlyArray<number>, perSchedule: number, scheduleList: ReadonlyArray<Schedule>): number => {
  const overlaps = overlapsFor(s, space.tpCommOverlap ?? overlapChoices)
  let candidates = 0
  for (const mb of micro) {
    const m = globalBatch / s.dp / mb
    let applicable = 0
    for (const schedule of scheduleList) if (scheduleFits(schedule, s, m) === undefined) applicable++
    candidates += (s.virtualStages > 1 && m % s.pp !== 0 ? (scheduleList.includes('1f1b') ? 1 : 0) : applicable) * perSchedule * overlaps
  }
  return candidates
}

/**
 * `ranked` (best first) with the candidates that are the same plan up to a symmetry of
 * the space folded into the first of them, at most `top` left. Two candidates are
 * equivalent when they differ only in how the GPUs of a stage split between context
 * and data parallelism and in the micro-batch (same tp, pp, virtual stages, ep, etp,
 * sequence parallelism, pipeline split, recomputation and ZeRO stage), or in the ZeRO
 * stage where the data-parallel group is one GPU, and every figure agrees to 1e-9: CP4 DP256 with micro-batches
 * of 3 and CP8 DP128 with 6 give each GPU the same tokens, and where the context
 * exchange hides, the same step; TP8 DP1 under ZeRO 0 and ZeRO 3 are one plan.
 */
export const foldEquivalents = (ranked: ReadonlyArray<TrainingCandidate>, top: number): ReadonlyArray<TrainingCandidate> => {
  const shape = (c: TrainingCandidate): string => {
    const s = c.strategy
    const split = s.pipelineSplit
    // one GPU in the data-parallel group: ZeRO has nothing to shard but experts (an MoE's expert data-parallel group), and then the figures differ
    const zero = s.dp * s.cp === 1 ? 'unsharded' : c.workload.zeroStage
    return `${s.tp}/${s.pp}/${s.virtualStages}/${s.ep}/${s.etp}/${s.sequenceParallel}/${split?.firstStageLayers}/${split?.lastStageLayers}/${split?.embeddingInSplit}/${split?.lossInSplit}/${c.workload.recompute}/${zero}/${c.workload.schedule ?? '1f1b'}/${c.workload.tpCommOverlap === true}/${offloadBits(c.workload.offload)}`
  }
  const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b))
  const same = (a: TrainingCandidate, b: TrainingCandidate): boolean =>
    close(a.iterationSeconds, b.iterationSeconds) && close(a.memoryPerGpu, b.memoryPerGpu) && close(a.mfu, b.mfu) && close(a.tokensPerSecondPerGpu, b.tokensPerSecondPerGpu)
  const kept: Array<{ readonly head: TrainingCandidate; readonly shape: string; readonly folded: EquivalentCandidate[] }> = []
  for (const c of ranked) {
    const key = shape(c)
    const home = kept.find((k) => k.shape === key && same(k.head, c))
    if (home !== undefined) home.folded.push({ strategy: c.strategy, workload: c.workload, description: c.description, ...(c.order === undefined ? {} : { order: c.order }) })
    else if (kept.length < top) kept.push({ head: c, shape: key, folded: [] })
  }
  return kept.map((k) => ({ ...k.head, equivalents: k.folded }))
}

/** `a` ranks before `b`: shorter iteration, then enumeration order. */
const before = (a: Ranked, b: Ranked): boolean => {
  if (a.candidate.iterationSeconds !== b.candidate.iterationSeconds) return a.candidate.iterationSeconds < b.candidate.iterationSeconds
  for (let i = 0; i < a.order.length; i++) {
    const x = a.order[i] ?? 0
    const y = b.order[i] ?? 0
    if (x !== y) return x < y
  }
  return false
}

const insert = (list: Ranked[], entry: Ranked, top: number): void => {
  let i = list.length
  while (i > 0 && before(entry, list[i - 1] as Ranked)) i--
  if (i >= top) return
  list.splice(i, 0, entry)
  if (list.length > top) list.pop()
}

const candidateOf = (s: Strategy, workload: TrainingWorkload, f: TrainingFigures, order?: Order): TrainingCandidate => ({
  strategy: s,
  workload,
  description: describe(s),
  ...(order === undefined ? {} : { order }),
  iterationSeconds: f.iteration,
  tokensPerSecondPerGpu: f.tokensPerSecondPerGpu,
  modelFlopsPerGpu: f.modelFlopsPerGpu,
  mfu: f.mfu,
  memoryPerGpu: f.memoryPerGpu,
  hostMemoryPerGpu: f.hostMemoryPerGpu,
  microBatches: f.microBatches,
  breakdown: {
    compute: f.compute,
    contention: f.contention,
    bubble: f.bubble,
    exposed: { tp: f.tp, cp: f.cp, ep: f.ep, pp: f.pp, dp: f.dp },
    offload: f.offload,
    optimizer: f.optimizer,
  },
})

/**
 * Searches the strategies `index, index + of, index + 2·of, …` of the space on the
 * calling thread (what each worker runs; `of = 1` is the whole space).
 */
export const searchTrainingSlice = (
  models: CostModels,
  input: TrainingSearchInput,
  space: TrainingSpace,
  slice: { readonly index: number; readonly of: number },
  top: number,
  onProgress?: (p: SearchProgress) => void,
): E.Either<EstimateError, SliceResult> => {
  const { globalBatch } = input
  if (!(Number.isSafeInteger(globalBatch) && globalBatch >= 1)) {
    return E.left(estimateError('invalid-workload', `workload.global_batch: expected a positive integer, got ${globalBatch}`))
  }
  const context = trainingContext(models, input)
  if (E.isLeft(context)) return context
  const c = context.right
  const strategies = strategiesOf(input, space)
  const recomputes = space.recompute ?? recomputeModes
  const zeros = space.zeroStages ?? zeroStages
  const scheduleList = space.schedules ?? schedules
  const overlapList = space.tpCommOverlap ?? overlapChoices
  const offloadList = offloadsOf(input, space)
  const allowedMicro = space.microBatches
  const out = trainingFigures()
  const best: Ranked[] = []
  const started = performance.now()
  let lastReport = started
  let visited = 0
  let candidates = 0
  let fit = 0
  let memory = 0
  let placement = 0
  let interleaving = 0
  let batch = 0
  let worst = Number.POSITIVE_INFINITY
  for (let si = slice.index; si < strategies.length; si += slice.of) {
    const s = strategies[si] as Strategy
    visited++
    if (onProgress !== undefined) {
      const now = performance.now()
      if (now - lastReport > 100) {
        lastReport = now
        const b = best[0]
        onProgress({
          strategies: visited,
          totalStrategies: Math.ceil((strategies.length - slice.index) / slice.of),
          candidates,
          seconds: (now - started) / 1e3,
          best: b === undefined ? null : { description: b.candidate.description, iterationSeconds: b.candidate.iterationSeconds },
        })
      }
    }
    if (globalBatch % s.dp !== 0) {
      batch++
      continue
    }
    const orders = ordersOf(input, space, s)
    const placed: StrategyConstants[] = []
    for (let qi = 0; qi < orders.length; qi++) {
      const order = orders[qi] as Order
      const k = strategyConstants(c, s, order)
      if (E.isLeft(k)) return k
      // an order that prices every group as an earlier one did is the same plan: counted, not evaluated again
      if (placed.some((p) => samePlacement(p.placement, k.right.placement))) {
        const micro = divisors(globalBatch / s.dp).filter((d) => allowedMicro === undefined || allowedMicro.includes(d))
        const n = orderCandidates(globalBatch, space, s, micro, recomputes.length * zeros.length, scheduleList)
        candidates += n
        placement += n
        continue
      }
      placed.push(k.right)
      const perReplica = globalBatch / s.dp
      for (const mb of divisors(perReplica)) {
        if (allowedMicro !== undefined && !allowedMicro.includes(mb)) continue
        const m = perReplica / mb
        if (s.virtualStages > 1 && m % s.pp !== 0) {
          // only 1F1B interleaves
          const n = scheduleList.includes('1f1b') ? recomputes.length * zeros.length * overlapsFor(s, overlapList) : 0
          candidates += n
          interleaving += n
          continue
        }
        const u = microConstants(c, k.right, s, mb)
        if (E.isLeft(u)) return u
        for (let ri = 0; ri < recomputes.length; ri++) {
          const rc = recomputes[ri] as RecomputeMode
          const a = activationConstants(c, s, mb, rc)
          for (let zi = 0; zi < zeros.length; zi++) {
            const z = zeros[zi] as ZeroStage
            for (let hi = 0; hi < scheduleList.length; hi++) {
              const schedule = scheduleList[hi] as Schedule
              // a schedule that does not apply to the strategy is not a candidate (1F1B always does)
              if (scheduleFits(schedule, s, m) !== undefined) continue
              for (let oi = 0; oi < overlapList.length; oi++) {
                const tpOverlap = overlapList[oi] as boolean
                // overlapping TP collectives needs sequence parallelism; without it, only "off" is a candidate
                if (tpOverlap && !s.sequenceParallel) continue
                candidates++
                const overlapFraction = tpOverlapOf(c, tpOverlap ? true : undefined)
                evaluateTraining(c, k.right, u.right, a, globalBatch, mb, rc, z, out, schedule, overlapFraction)
                if (!(out.iteration > 0 && out.iteration < Infinity && out.mfu < 1 && out.memoryPerGpu < Infinity)) {
                  return E.left(estimateError('unphysical', `${describe(s)}, micro-batch ${mb}, ${rc} recomputation, ZeRO ${z}, ${schedule}: the models gave an iteration of ${out.iteration} s, an MFU of ${out.mfu}, ${out.memoryPerGpu} bytes`))
                }
                // offload only moves state to the host and adds traffic: never faster, so it is tried only where the candidate
                // does not fit without it, and the fastest offload that fits is kept (the others are the same plan, slower)
                let offload = 0
                if (!out.fits && offloadList.length > 0) {
                  let fastest = Number.POSITIVE_INFINITY
                  for (let fi = 0; fi < offloadList.length; fi++) {
                    const bits = offloadList[fi] as number
                    evaluateTraining(c, k.right, u.right, a, globalBatch, mb, rc, z, out, schedule, overlapFraction, bits)
                    if (out.fits && out.iteration < fastest) {
                      fastest = out.iteration
                      offload = bits
                    }
                  }
                  if (offload !== 0) evaluateTraining(c, k.right, u.right, a, globalBatch, mb, rc, z, out, schedule, overlapFraction, offload)
                  else out.fits = false
                }
                if (!out.fits) {
                  memory++
                  continue
                }
                fit++
                const t = out.iteration
                if (t <= worst || best.length < top) {
                  const workload: TrainingWorkload = {
                    globalBatch,
                    microBatch: mb,
                    sequenceLength: input.sequenceLength,
                    recompute: rc,
                    zeroStage: z,
                    ...(schedule === '1f1b' ? {} : { schedule }),
                    ...(tpOverlap ? { tpCommOverlap: true } : {}),
                    ...(offload === 0 ? {} : { offload: offloadKindsOf(offload) }),
                    ...(input.gradientReduce === undefined ? {} : { gradientReduce: input.gradientReduce }),
                  }
                  insert(best, { order: [si, qi, mb, ri, zi, hi, oi], candidate: candidateOf(s, workload, out, qi === 0 ? input.order : order) }, top)
                  if (best.length >= top) worst = (best[best.length - 1] as Ranked).candidate.iterationSeconds
                }
              }
            }
          }
        }
      }
    }
  }
  return E.right({ strategies: visited, candidates, fit, rejected: { memory, placement, interleaving, batch }, best })
}

const merge = (slices: ReadonlyArray<SliceResult>, top: number): SliceResult => {
  const best: Ranked[] = []
  for (const r of slices) for (const entry of r.best) insert(best, entry, top)
  const sum = (f: (r: SliceResult) => number): number => slices.reduce((a, r) => a + f(r), 0)
  return {
    strategies: sum((r) => r.strategies),
    candidates: sum((r) => r.candidates),
    fit: sum((r) => r.fit),
    rejected: { memory: sum((r) => r.rejected.memory), placement: sum((r) => r.rejected.placement), interleaving: sum((r) => r.rejected.interleaving), batch: sum((r) => r.rejected.batch) },
    best,
  }
}

/** The compiled worker script, next to this module (dist) or in the package's dist (when run from sources). */
const workerScript = (): string | undefined => [join(__dirname, 'worker.js'), join(__dirname, '..', 'dist', 'worker.js')].find((p) => existsSync(p))

interface WorkerMessage {
  readonly type: 'progress' | 'done'
  readonly progress?: SearchProgress
  readonly result?: E.Either<EstimateError, SliceResult>
}

const runWorkers = (
  script: string,
  input: TrainingSearchInput,
  space: TrainingSpace,
  workers: number,
  top: number,
  total: number,
  onProgress?: (p: SearchProgress) => void,
): Promise<E.Either<EstimateError, ReadonlyArray<SliceResult>>> => {
  const progress: SearchProgress[] = []
  const report = (): void => {
    if (onProgress === undefined) return
    const bests = progress.flatMap((p) => (p.best === null ? [] : [p.best]))
    const best = bests.reduce<SearchProgress['best']>((a, b) => (a === null || b.iterationSeconds < a.iterationSeconds ? b : a), null)
    onProgress({
      strategies: progress.reduce((a, p) => a + p.strategies, 0),
      totalStrategies: total,
      candidates: progress.reduce((a, p) => a + p.candidates, 0),
      seconds: progress.reduce((a, p) => Math.max(a, p.seconds), 0),
      best,
    })
  }
  return Promise.all(
    Array.from(
      { length: workers },
      (_, index) =>
        new Promise<E.Either<EstimateError, SliceResult>>((resolve) => {
          const worker = new Worker(script, { workerData: { input, space, slice: { index, of: workers }, top, progress: onProgress !== undefined } })
          worker.on('message', (m: WorkerMessage) => {
            if (m.type === 'progress' && m.progress !== undefined) {
              progress[index] = m.progress
              report()
            } else if (m.type === 'done' && m.result !== undefined) resolve(m.result)
          })
          worker.on('error', (e) => resolve(E.left(estimateError('cost-model', `search worker ${index}: ${e.message}`))))
          worker.on('exit', (code) => {
            if (code !== 0) resolve(E.left(estimateError('cost-model', `search worker ${index} exited with ${code}`)))
          })
        }),
    ),
  ).then((results) => {
    const failed = results.find(E.isLeft)
    if (failed !== undefined) return failed
    return E.right(results.flatMap((r) => (E.isRight(r) ? [r.right] : [])))
  })
}

/**
 * Searches the whole training space of `input` under `space` (with uneven pipeline splits
 * unless `unevenPipelines: false`) and ranks what fits by
 * iteration time (the same GPUs and global batch for all: the fastest step is the most
 * tokens/s per GPU and the highest MFU). Resolves to the counts and the best candidates.
 */
export const planTraining =
  (models: CostModels) =>
  async (input: TrainingSearchInput, space: TrainingSpace = {}, options: TrainingSearchOptions = {}): Promise<E.Either<EstimateError, TrainingPlan>> => {
    const started = performance.now()
    const top = options.top ?? 10
    const gpus = gpusOf(input)
    if (!(Number.isSafeInteger(gpus) && gpus >= 1 && gpus <= worldSize(input.cluster))) {
      return E.left(estimateError('invalid-workload', `gpus: expected 1 to ${worldSize(input.cluster)} (the cluster's GPUs), got ${gpus}`))
    }
    const context = trainingContext(models, input)
    if (E.isLeft(context)) return context
    const planned = plannedCandidates(input, space)
    if (planned.strategies > trainingSearchLimits.strategies || planned.candidates > trainingSearchLimits.candidates) {
      const what =
        planned.strategies > trainingSearchLimits.strategies
          ? `more than ${trainingSearchLimits.strategies.toLocaleString('en-US')} strategies`
          : `${planned.candidates.toLocaleString('en-US')} candidates, more than the limit of ${trainingSearchLimits.candidates.toLocaleString('en-US')} (about a minute)`
      return E.left(estimateError('too-large', `the training search would evaluate ${what}: fix a degree (tp, pp, ...), the micro-batch, the recomputation or the ZeRO stage`))
    }
    const total = planned.strategies
    // more than `top` kept, so that `top` rows remain once equivalent candidates are folded together
    const keep = Math.min(4 * top, top + 1000)
    const script = workerScript()
    // more threads than cores only add their start-up and their caches
    const cores = availableParallelism()
    const wanted = Math.min(options.workers ?? (planned.candidates > 1_000_000 ? cores : 1), cores)
    const workers = models === defaultCostModels && script !== undefined ? Math.max(1, Math.min(wanted, total)) : 1
    let result: E.Either<EstimateError, SliceResult>
    if (workers === 1 || script === undefined) {
      result = searchTrainingSlice(models, input, space, { index: 0, of: 1 }, keep, options.onProgress)
    } else {
      const slices = await runWorkers(script, input, space, workers, keep, total, options.onProgress)
      result = E.map((s: ReadonlyArray<SliceResult>) => merge(s, keep))(slices)
    }
    return E.map(
      (r: SliceResult): TrainingPlan => ({
        gpus,
        strategies: r.strategies,
        candidates: r.candidates,
        fit: r.fit,
        rejected: r.rejected,
        best: foldEquivalents(
          r.best.map((b) => b.candidate),
          top,
        ),
        seconds: (performance.now() - started) / 1e3,
        workers,
      }),
    )(result)
  }
