/**
 * The estimate of one inference deployment: TTFT, TPOT, request latency, output
 * tokens/s (total, per GPU, per user), memory per GPU and the largest batch that fits,
 * and where the step time goes: per operator group and per roof (compute-bound or
 * memory-bound) from the compute model, and the communication per kind, exposed after
 * the overlap assumptions of {@link CostModels}. The figures come from the same
 * inner loop the search uses (`evaluateInference`); the breakdown re-times the
 * slowest pipeline stage operator by operator, and adds up to the same step time.
 *
 * @example
 * import { defaultCostModels } from '@meshplan/cost-models'
 * import { estimateInference } from '@meshplan/inference'
 * estimateInference(defaultCostModels)({ model, cluster, strategy: strategy({ tp: 8 }), precision, workload: { mode: 'static', inputTokens: 1024, outputTokens: 256, batch: 32 } })
 * // right({ ttft: 0.21, tpot: 0.011, tokensPerSecond: { total, perGpu, perUser }, memory: { ... }, breakdown: { prefill, decode }, ... })
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import { decode, groups, phaseTime, prefill, type Group } from '@meshplan/compute'
import { describe, type Strategy } from '@meshplan/parallelism'
import { bytes, formatBytes, type Bytes } from '@meshplan/units'
import { costModelError, estimateError, unphysical, type CommKind, type CostModels, type EstimateError } from '@meshplan/cost-models'
import { draftSeconds, evaluateInference, hotExpertSeconds, exposedComm, inferenceFigures, prepareInference, stageComm, stageSeconds, withExpertSlots, type InferenceConstants, type InferenceInput, type StageClass } from './kernel'
import type { InferenceMode } from './workload'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Where one step of the slowest pipeline stage goes, seconds. */
export interface StepBreakdown {
  /** The step of one micro-batch on the slowest stage: compute + exposed communication. */
  readonly seconds: number
  /** The operators' roofline time per group. */
  readonly compute: Readonly<Record<Group, number>>
  /** Of the compute time, what runs under the compute roof and under the memory roof. */
  readonly computeBound: number
  readonly memoryBound: number
  /** Communication per kind before overlap. */
  readonly communication: Readonly<Record<CommKind, number>>
  /** Communication left on the critical path after overlap. */
  readonly exposedCommunication: number
  /** The host's work for the pass (scheduling, sampling, per pass and per sequence: the engine's `host`), seconds, not in `seconds`. */
  readonly host: number
  /**
   * The largest of compute-bound, memory-bound and exposed communication; `host-bound`
   * where the host's work sets the pace: longer than the GPU's pass for an engine that
   * overlaps it, else the largest part.
   */
  readonly bottleneck: 'compute-bound' | 'memory-bound' | 'communication' | 'host-bound'
  /** Pipeline ranks of the stage described. */
  readonly stage: ReadonlyArray<number>
  /** Sequences of the micro-batch, and for decode the keys each attends to. */
  readonly batch: number
  readonly context: number
  /** Seconds of the draft passes in a speculative decode step (an MTP or EAGLE head; 0 otherwise), included in `seconds`; the step itself verifies `draftTokens + 1` tokens per sequence. */
  readonly draft: number
}

/** Memory of one GPU at the estimated batch, on the fullest stage. */
export interface MemoryFigures {
  readonly perGpu: Bytes
  readonly capacity: Bytes
  readonly weights: Bytes
  readonly kvCache: Bytes
  readonly workspace: Bytes
  readonly reserve: Bytes
  /** Largest batch per data-parallel rank that fits (before the engine's batch limit). */
  readonly maxBatch: number
  readonly fits: boolean
}

/** The estimate of one deployment. */
export interface InferenceEstimate {
  readonly strategy: Strategy
  readonly description: string
  readonly gpus: number
  readonly mode: InferenceMode
  /** The serving engine the estimate models (`engines.ts`). */
  readonly engine: string
  /** Sequences in flight per data-parallel rank (in a run with arrivals: in its steady phase). */
  readonly batch: number
  /** Tokens one forward pass of a data-parallel rank may carry: the workload's `maxNumTokens`, else the engine's budget (`engines.ts`). */
  readonly maxNumTokens: number
  /** Seconds of the whole run when the workload is a finite number of requests, else 0. */
  readonly runSeconds: number
  /** Seconds. */
  readonly ttft: number
  readonly tpot: number
  readonly requestLatency: number
  readonly tokensPerSecond: { readonly total: number; readonly perGpu: number; readonly perUser: number }
  readonly memory: MemoryFigures
  readonly breakdown: { readonly prefill: StepBreakdown; readonly decode: StepBreakdown }
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The batch a workload runs at: given (static), 1 (latency), the most that fit within the engine limit (max_throughput). */
export const batchOf = (c: InferenceConstants): number => {
  const w = c.input.workload
  return w.mode === 'latency' ? 1 : w.mode === 'max_throughput' ? c.maxBatch : (w.batch ?? c.maxBatch)
}

const breakdownOf = (c: InferenceConstants, k: StageClass, isDecode: boolean, batch: number, context: number): E.Either<EstimateError, StepBreakdown> => {
  const { precision, strategy, cluster } = c.input
  // the GPUs hold the expert slots, redundant replicas included, as the prepared constants do (`prepareInference`)
  const model = withExpertSlots(c.input.model, c.redundantExperts)
  const tokens = c.input.workload.inputTokens
  const verify = c.speculative.verify
  const phase = isDecode
    ? decode({ batch: Math.max(1, Math.round(batch)), context: Math.round(context), queries: verify })
    : prefill({ tokens: Math.max(1, Math.round(tokens)), batch: Math.max(1, Math.round(batch)) })
  return pipe(
    phase,
    E.chain(phaseTime(c.models.compute, { arch: model, strategy, precision, ppRank: k.ranks[0] ?? 0, serving: true }, cluster.device)),
    E.mapLeft(costModelError('compute')),
    E.map((step) => {
      // the fast path works with fractional micro-batches; the breakdown re-times the rounded one
      const draft = isDecode ? draftSeconds(c, k, batch, context) : 0
      // the busiest expert-parallel rank's extra routed tokens under a hot expert, as the kernel's stage times them (moe)
      const hot = hotExpertSeconds(c, k, isDecode ? batch * verify : (batch * tokens) / c.cp)
      const compute = step.seconds + draft + hot
      const comm = stageComm(c, k, isDecode, isDecode ? batch * verify : batch * tokens)
      const communication = { tp: comm.tp, ep: comm.ep, pp: comm.pp, cp: comm.cp }
      const exposed = exposedComm(comm, c.overlap, compute)
      const byGroup = {} as Record<Group, number>
      for (const g of groups) byGroup[g] = step.byGroup[g].seconds
      byGroup.moe += hot
      const computeBound = (step.computeBoundSeconds as number) + hot
      const parts = { 'compute-bound': computeBound, 'memory-bound': step.memoryBoundSeconds as number, communication: exposed }
      const gpu = (Object.keys(parts) as Array<keyof typeof parts>).reduce((a, b) => (parts[b] > parts[a] ? b : a))
      // the host's loop over the pass's sequences, as the kernel prices it (kernel.ts withHost, evaluateInference): in a
      // max_throughput cycle the longer of it and the pass where the engine overlaps it, else added; a fused engine's
      // prompt chunks ride the decode pass, so their phase has no pass of its own; a static or latency step adds it
      // where the engine does not overlap it
      const h = c.engine.host
      const serving = c.input.workload.mode === 'max_throughput'
      const host = !isDecode && serving && c.engine.fusedChunkedPrefill ? 0 : h.stepSeconds + batch * h.perSequenceSeconds
      const paced = h.overlapped ? serving && host > compute + exposed : host > parts[gpu]
      const bottleneck = paced ? 'host-bound' : gpu
      return {
        seconds: compute + exposed,
        host,
        compute: byGroup,
        computeBound,
        memoryBound: step.memoryBoundSeconds,
        communication,
        exposedCommunication: exposed,
        bottleneck,
        stage: k.ranks,
        batch,
        context,
        draft,
      }
    }),
  )
}

const gb = formatBytes()

/** The stage class that maximises `f` (ties: the first). */
const argmax = (classes: ReadonlyArray<StageClass>, f: (k: StageClass) => number): StageClass =>
  classes.reduce((a, b) => (f(b) > f(a) ? b : a))

/**
 * The estimate of prepared constants at `batch` sequences per data-parallel rank
 * (default: the workload's, see {@link batchOf}); an error when not one sequence fits
 * in memory.
 */
export const estimateFrom = (c: InferenceConstants, atBatch?: number): E.Either<EstimateError, InferenceEstimate> => {
  const w = c.input.workload
  const batch = atBatch ?? batchOf(c)
  if (c.maxBatch < 1) {
    const t = c.memory.tightest
    return E.left(
      estimateError(
        'does-not-fit',
        `${describe(c.input.strategy)}: weights ${gb(t.weights)}, workspace ${gb(t.workspace)} and reserve ${gb(t.reserve)} leave no room for one sequence of ${w.inputTokens + w.outputTokens} tokens on a GPU of ${gb(t.capacity)} (pipeline stage ${t.ppRank})`,
      ),
    )
  }
  const out = evaluateInference(c, batch, inferenceFigures())
  const running = w.mode === 'max_throughput' ? out.inFlight : batch
  const each = running / Math.min(c.pp, running)
  // the mean context of the decode steps: input + output/2 (static: the steps run from input+1 to input+output-1)
  const decodeContext = w.inputTokens + w.outputTokens / 2
  // a max_throughput cycle prefills the arrivals of one decode cycle, batch/output prompts; static prefills the batch
  const prefillBatch = w.mode === 'max_throughput' ? each / w.outputTokens : each
  const prefillStage = argmax(c.classes, (k) => stageSeconds(c, k, false, prefillBatch, 0))
  const decodeStage = argmax(c.classes, (k) => stageSeconds(c, k, true, each, decodeContext))
  const fullest = argmax(c.classes, (k) => k.baseBytes + running * k.bytesPerSequence)
  const t = c.memory.stages[fullest.ranks[0] ?? 0] ?? c.memory.tightest
  const perGpu = out.memoryPerGpu
  // weights with the redundant expert slots the memory model does not hold
  const weights = bytes(fullest.baseBytes - t.workspace - t.reserve)
  return pipe(
    breakdownOf(c, prefillStage, false, prefillBatch, 0),
    E.chain((p) =>
      pipe(
        breakdownOf(c, decodeStage, true, each, decodeContext),
        E.map(
          (d): InferenceEstimate => ({
            strategy: c.input.strategy,
            description: describe(c.input.strategy),
            gpus: c.world,
            mode: w.mode,
            engine: c.engine.name,
            batch: running,
            maxNumTokens: c.maxNumTokens,
            runSeconds: out.runSeconds,
            ttft: out.ttft,
            tpot: out.tpot,
            requestLatency: out.requestLatency,
            tokensPerSecond: { total: out.tokensPerSecond, perGpu: out.tokensPerSecondPerGpu, perUser: out.tokensPerSecondPerUser },
            memory: {
              perGpu: bytes(perGpu),
              capacity: t.capacity,
              weights,
              kvCache: bytes(perGpu - weights - t.workspace - t.reserve),
              workspace: t.workspace,
              reserve: t.reserve,
              maxBatch: c.capacity,
              fits: out.fits,
            },
            breakdown: { prefill: p, decode: d },
          }),
        ),
      ),
    ),
  )
}

/**
 * `e`, or an `unphysical` error when a figure is not finite, is negative, or a headline
 * time or rate is not above zero (see @meshplan/cost-models' `unphysical`).
 */
const physicalEstimate = (e: InferenceEstimate): E.Either<EstimateError, InferenceEstimate> => {
  const bad = unphysical({ ttft: e.ttft, tpot: e.tpot, requestLatency: e.requestLatency, tokensPerSecond: e.tokensPerSecond.total, perGpu: e.tokensPerSecond.perGpu, perUser: e.tokensPerSecond.perUser, memory: e.memory, breakdown: e.breakdown }, ['ttft', 'tpot', 'requestLatency', 'tokensPerSecond', 'perGpu', 'perUser'])
  return bad === undefined ? E.right(e) : E.left(estimateError('unphysical', `${e.description}: the models gave an unphysical figure: ${bad}`))
}

/** Prepares and estimates `input` under `models`. */
export const estimateInference =
  (models: CostModels) =>
  (input: InferenceInput): E.Either<EstimateError, InferenceEstimate> =>
    pipe(
      prepareInference(models)(input),
      E.chain((c) => estimateFrom(c)),
      E.chain(physicalEstimate),
    )

