/**
 * Time of operators on one device as a roofline (Williams, Waterman & Patterson 2009,
 * "Roofline: an insightful visual performance model", CACM 52(4)): an operator takes
 * the longer of its compute time and its memory time,
 *
 *     t = max( FLOPs / (peak[dtype] × computeEfficiency), bytes / (bandwidth × memoryEfficiency) )
 *
 * with the efficiencies from the {@link ComputeModel} (GEMM, attention or element-wise by
 * the operator's kind), and a step is the sum of its operators (kernels run one after
 * another on a GPU's stream; overlap with communication is the planner's business).
 *
 * @example
 * import { phaseTime, defaultComputeModel, decode } from '@meshplan/compute'
 * import { models, defaultPrecision } from '@meshplan/model'
 * import { strategy } from '@meshplan/parallelism'
 * import { devices } from '@meshplan/topology'
 * const deployment = { arch: models['llama-2-70b'], strategy: strategy({ tp: 8 }), precision: defaultPrecision }
 * pipe(decode({ batch: 1, context: 4096 }), E.chain(phaseTime(defaultComputeModel, deployment, devices['h100-sxm'])))
 * // right({ seconds: 0.0078, weightBytes: 17_180_950_528, byGroup: { attention: ..., mlp: ... }, ... })
 */
import * as A from 'fp-ts/Array'
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import type { Device } from '@meshplan/topology'
import { bytes as toBytes, flops as toFlops, seconds as toSeconds, type Bytes, type Dtype, type Flops, type Seconds } from '@meshplan/units'
import { checkDevice, expertRowBlockOf, peakOf, type ComputeModel } from './computeModel'
import { checkEfficiency, clampEfficiency, type Efficiency } from './efficiency'
import type { ComputeError } from './error'
import { groups, operators, paddedExpertRows, type Deployment, type Group, type Operator, type OperatorKind } from './operators'
import type { Phase } from './phase'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Which roof an operator sits under. */
export type Bound = 'compute' | 'memory'

/** The time of one operator, all of its `count` instances. */
export interface OperatorTime {
  readonly operator: Operator
  readonly seconds: Seconds
  /** The compute term alone, all instances. */
  readonly computeSeconds: Seconds
  /** The memory term alone, all instances. */
  readonly memorySeconds: Seconds
  readonly bound: Bound
  readonly computeEfficiency: number
  readonly memoryEfficiency: number
}

/** Totals of one group of operators. */
export interface GroupTime {
  readonly seconds: Seconds
  readonly flops: Flops
  readonly bytes: Bytes
}

/** The time of a step on one GPU, with the breakdown per group and per operator. */
export interface StepTime {
  readonly seconds: Seconds
  readonly flops: Flops
  readonly bytes: Bytes
  readonly weightBytes: Bytes
  readonly activationBytes: Bytes
  readonly kvCacheBytes: Bytes
  /** Seconds spent in compute-bound and in memory-bound operators. */
  readonly computeBoundSeconds: Seconds
  readonly memoryBoundSeconds: Seconds
  readonly byGroup: Readonly<Record<Group, GroupTime>>
  readonly operators: ReadonlyArray<OperatorTime>
}

// -------------------------------------------------------------------------------------
// operations: the core, shared with the fast path (plain numbers, no allocation)
// -------------------------------------------------------------------------------------

/**
 * The efficiency the model answers for an operator's kind (unchecked). A grouped GEMM
 * (`grouped`: MoE experts, `m` their mean routed tokens) computes each expert's rows
 * padded to `rowBlock` ({@link paddedExpertRows}) at their efficiency as a grouped GEMM
 * (the efficiency's `grouped` argument), of which the routed ones are useful.
 */
export const computeEfficiencyOf = (
  efficiency: Efficiency,
  device: Device,
  dtype: Dtype,
  kind: OperatorKind,
  m: number,
  n: number,
  k: number,
  queries: number,
  keys: number,
  batch = 1,
  serving = false,
  rowBlock = 1,
  grouped = false,
): number => {
  if (kind === 'attention') return efficiency.attention(queries, keys, dtype, device)
  if (kind !== 'gemm') return efficiency.elementwise(dtype, device)
  const rows = paddedExpertRows(m, rowBlock)
  const e = efficiency.gemm(rows, n, k, dtype, device, batch, serving, grouped)
  return rows > m ? e * (m / rows) : e
}

/** The compute term of one instance: `flops / (peak × e)`, 0 without FLOPs. */
export const computeTerm = (flops: number, peak: number, computeEfficiency: number): number =>
  flops > 0 ? flops / (peak * computeEfficiency) : 0

/** The memory term of one instance: `bytes / (bandwidth × e)`, 0 without bytes. */
export const memoryTerm = (bytes: number, bandwidth: number, memoryEfficiency: number): number =>
  bytes > 0 ? bytes / (bandwidth * memoryEfficiency) : 0

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/**
 * The roofline time of `op` (all its instances) on `device`, or why there is none: the
 * device has no peak in the operator's format, or an efficiency lies outside (0, 1].
 * `serving`: the operator runs in a serving engine's pass (see {@link Efficiency}'s `gemm`).
 */
export const operatorTime =
  (model: ComputeModel, device: Device, serving = false) =>
  (op: Operator): E.Either<ComputeError, OperatorTime> =>
    pipe(
      checkDevice(device),
      E.chain(() => peakOf(device, op.dtype)),
      E.chain((peak) => {
        const g = op.gemm
        const grouped = g?.grouped === true
        const at = op.attention
        const computeEfficiency =
          op.flops > 0
            ? checkEfficiency(
                op.kind,
                computeEfficiencyOf(model.efficiency, device, op.dtype, op.kind, g?.m ?? 0, g?.n ?? 0, g?.k ?? 0, at?.queries ?? 0, at?.keys ?? 0, g?.batch ?? 1, serving, grouped ? expertRowBlockOf(model) : 1, grouped),
              )
            : E.right(1)
        const memoryEfficiency = op.bytes > 0 ? checkEfficiency('memory', model.efficiency.memory(op.bytes, device)) : E.right(1)
        return pipe(
          computeEfficiency,
          E.chain((ce) =>
            pipe(
              memoryEfficiency,
              E.map((me) => {
                const compute = computeTerm(op.flops, peak, clampEfficiency(ce))
                const memory = memoryTerm(op.bytes, device.memoryBandwidth, clampEfficiency(me))
                return {
                  operator: op,
                  seconds: toSeconds(op.count * Math.max(compute, memory)),
                  computeSeconds: toSeconds(op.count * compute),
                  memorySeconds: toSeconds(op.count * memory),
                  bound: compute >= memory ? 'compute' : 'memory',
                  computeEfficiency: ce,
                  memoryEfficiency: me,
                } satisfies OperatorTime
              }),
            ),
          ),
        )
      }),
    )

const emptyGroups = (): Record<Group, { seconds: number; flops: number; bytes: number }> => {
  const out = {} as Record<Group, { seconds: number; flops: number; bytes: number }>
  for (const g of groups) out[g] = { seconds: 0, flops: 0, bytes: 0 }
  return out
}

/** The time of a step made of `ops` on `device`: the sum of the operators' roofline times, with breakdowns (`serving`: a serving engine's pass). */
export const stepTime =
  (model: ComputeModel, device: Device, serving = false) =>
  (ops: ReadonlyArray<Operator>): E.Either<ComputeError, StepTime> =>
    pipe(
      A.traverse(E.Applicative)(operatorTime(model, device, serving))([...ops]),
      E.map((times) => {
        const byGroup = emptyGroups()
        let seconds = 0
        let totalFlops = 0
        let weightBytes = 0
        let activationBytes = 0
        let kvCacheBytes = 0
        let computeBound = 0
        let memoryBound = 0
        for (const t of times) {
          const op = t.operator
          const slot = byGroup[op.group]
          slot.seconds += t.seconds
          slot.flops += op.count * op.flops
          slot.bytes += op.count * op.bytes
          seconds += t.seconds
          totalFlops += op.count * op.flops
          weightBytes += op.count * op.weightBytes
          activationBytes += op.count * op.activationBytes
          kvCacheBytes += op.count * op.kvCacheBytes
          if (t.bound === 'compute') computeBound += t.seconds
          else memoryBound += t.seconds
        }
        const branded = {} as Record<Group, GroupTime>
        for (const g of groups) {
          const slot = byGroup[g]
          branded[g] = { seconds: toSeconds(slot.seconds), flops: toFlops(slot.flops), bytes: toBytes(slot.bytes) }
        }
        return {
          seconds: toSeconds(seconds),
          flops: toFlops(totalFlops),
          bytes: toBytes(weightBytes + activationBytes + kvCacheBytes),
          weightBytes: toBytes(weightBytes),
          activationBytes: toBytes(activationBytes),
          kvCacheBytes: toBytes(kvCacheBytes),
          computeBoundSeconds: toSeconds(computeBound),
          memoryBoundSeconds: toSeconds(memoryBound),
          byGroup: branded,
          operators: times,
        }
      }),
    )

/** The operators of `phase` under `deployment`, timed on `device`. */
export const phaseTime =
  (model: ComputeModel, deployment: Deployment, device: Device) =>
  (phase: Phase): E.Either<ComputeError, StepTime> =>
    pipe(operators(model, deployment)(phase), E.chain(stepTime(model, device, deployment.serving === true)))
