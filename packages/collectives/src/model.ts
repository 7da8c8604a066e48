/**
 * A collective model: a record of algorithms, protocols and efficiencies, with a
 * default implementation a user extends piece by piece (their own all-to-all kernel,
 * their measured efficiencies) without forking the rest. `estimate` prices one
 * collective and says which (algorithm, protocol) pair won, as NCCL's tuner picks the
 * fastest; `prepare` does the per-group work once and returns plain arithmetic for the
 * planner's inner loop.
 *
 * @example
 * import { spanOf, unsafeClusterOf } from '@meshplan/topology'
 * import { defaultCollectiveModel, estimate, prepare } from '@meshplan/collectives'
 * const c = unsafeClusterOf('dgx-h100', 16)
 * const node = spanOf(c)([0, 1, 2, 3, 4, 5, 6, 7])
 * estimate(defaultCollectiveModel)(c)('all_reduce', 1 << 30, node)
 * // right({ algorithm: 'nvls', seconds: 0.00397..., busbw: 4.73e11, ... })
 * const group = prepare(defaultCollectiveModel)(c)(node) // right(prepared)
 * // group.right.time('all_reduce', 1 << 30): plain number, no allocation
 */
import * as E from 'fp-ts/Either'
import * as O from 'fp-ts/Option'
import type { Cluster, GroupSpan } from '@meshplan/topology'
import { bytesPerSecond, closestName, seconds, type BytesPerSecond, type Seconds } from '@meshplan/units'
import { defaultAlgorithms, type Algorithm } from './algorithm'
import { defaultEfficiencies, defaultProtocols, type Efficiencies, type Protocol } from './constants'
import type { CollectiveError } from './error'
import { busFactor, collectiveOps, isCollectiveOp, opIndex, type CollectiveOp } from './op'
import { shapeOf, type GroupShape } from './shape'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Everything the collective model is made of; replace any field to extend it. */
export interface CollectiveModel {
  /** Candidates, tried in order; the fastest applicable wins (ties: the earlier). */
  readonly algorithms: ReadonlyArray<Algorithm>
  /** Wire protocols algorithms refer to by name. */
  readonly protocols: ReadonlyArray<Protocol>
  readonly efficiency: Efficiencies
}

/** One applicable (algorithm, protocol) pair and its cost coefficients. */
export interface Candidate {
  readonly algorithm: string
  readonly protocol: string
  readonly latency: Seconds
  readonly secondsPerByte: number
  /** NCCL's medium-size bandwidth correction, when the algorithm has one (see `Cost`). */
  readonly bandwidthCorrection?: ReadonlyArray<number>
}

/** Options of `estimate`. */
export interface EstimateOptions {
  /** Force an algorithm by name (as `NCCL_ALGO` does); an error if it does not apply. */
  readonly algorithm?: string
  /** Force a protocol by name, case-insensitively (as `NCCL_PROTO` does); an error if no applicable algorithm runs it. */
  readonly protocol?: string
}

/** The price of one collective. */
export interface CollectiveEstimate {
  readonly op: CollectiveOp
  readonly bytes: number
  readonly ranks: number
  readonly seconds: Seconds
  /** The winning algorithm (`'none'` for a group of one rank). */
  readonly algorithm: string
  /** The winning protocol (`'none'` for a group of one rank). */
  readonly protocol: string
  /** nccl-tests' algorithm bandwidth, bytes / seconds (0 for a group of one rank). */
  readonly algbw: BytesPerSecond
  /** nccl-tests' bus bandwidth, algbw × busFactor. */
  readonly busbw: BytesPerSecond
  readonly busFactor: number
  /** Every candidate priced, fastest first. */
  readonly considered: ReadonlyArray<{ readonly algorithm: string; readonly protocol: string; readonly seconds: Seconds }>
}

/** A group prepared for repeated pricing: everything that does not depend on the size. */
export interface PreparedGroup {
  readonly shape: GroupShape
  /** The candidates of `op` (empty for a group of one rank). */
  readonly candidates: (op: CollectiveOp) => ReadonlyArray<Candidate>
  /**
   * Seconds of the fastest candidate for `bytes`: a loop of multiply-adds over tables by
   * power-of-two size class, no allocation. Assumes validated input: a size that is not
   * finite and above zero, or a group of one rank, gives 0.
   */
  readonly time: (op: CollectiveOp, bytes: number) => Seconds
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** NCCL's algorithms and protocols with the calibration defaults of `constants`. */
export const defaultCollectiveModel: CollectiveModel = {
  algorithms: defaultAlgorithms,
  protocols: defaultProtocols,
  efficiency: defaultEfficiencies,
}

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/** `model` with `algorithm` in place of the one of the same name, or added last. */
export const withAlgorithm =
  (algorithm: Algorithm) =>
  (model: CollectiveModel): CollectiveModel => {
    const at = model.algorithms.findIndex((a) => a.name === algorithm.name)
    const algorithms = at < 0 ? [...model.algorithms, algorithm] : model.algorithms.map((a, i) => (i === at ? algorithm : a))
    return { ...model, algorithms }
  }

/** `model` without the algorithm called `name`. */
export const withoutAlgorithm =
  (name: string) =>
  (model: CollectiveModel): CollectiveModel => ({ ...model, algorithms: model.algorithms.filter((a) => a.name !== name) })

/** `model` with some efficiencies replaced (e.g. measured ones). */
export const withEfficiencies =
  (efficiency: Partial<Efficiencies>) =>
  (model: CollectiveModel): CollectiveModel => ({ ...model, efficiency: { ...model.efficiency, ...efficiency } })

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** Size classes: class k holds sizes from 2^k up to 2^(k+1), class 0 those below 2, the last those from 2^30 up. */
const SIZE_CLASSES = 31

/** The size class of `bytes` (above zero). */
const sizeClass = (bytes: number): number => (bytes >= 1073741824 ? SIZE_CLASSES - 1 : bytes < 2 ? 0 : 31 - Math.clz32(bytes))

/** Offset from a size class to an index of NCCL's correction tables: log2(bytes / 64) = k - 6. */
const CORRECTION_OFFSET = 6

/** A candidate's time in one size class: `max(floor, latency + S × perByte)`. */
interface Piece {
  readonly latency: number
  readonly perByte: number
  readonly floor: number
}

/**
 * A candidate's pieces, one per size class: in class k, `perByte` is the seconds per byte
 * divided by NCCL's correction for the class and `floor` the time at the top of every
 * smaller class, so that a correction that rises with the size (a faster class after a
 * slower one) never makes a larger message cheaper. Without a correction the floor never
 * binds and the time is `latency + S × secondsPerByte`.
 */
const piecesOf = (c: Candidate): ReadonlyArray<Piece> => {
  const correction = c.bandwidthCorrection
  const pieces: Piece[] = []
  let below = 0
  for (let k = 0; k < SIZE_CLASSES; k++) {
    const entry = correction === undefined ? undefined : correction[k - CORRECTION_OFFSET]
    const perByte = entry === undefined ? c.secondsPerByte : c.secondsPerByte / entry
    pieces.push({ latency: c.latency, perByte, floor: below })
    below = Math.max(below, c.latency + 2 ** (k + 1) * perByte)
  }
  return pieces
}

const pieceTime = (p: Piece, bytes: number): number => Math.max(p.floor, p.latency + bytes * p.perByte)

/** Seconds of candidate `c` for `bytes` (above zero), as the fast path computes them. */
const candidateSeconds = (c: Candidate, bytes: number): number => {
  if (c.bandwidthCorrection === undefined) return c.latency + bytes * c.secondsPerByte
  return pieceTime(piecesOf(c)[sizeClass(bytes)] as Piece, bytes)
}

/**
 * Whether piece `p` costs no more than piece `q` at every size from `low` to `high`
 * (`high` Infinity for the last class): both are a constant then a line, so comparing
 * them at the ends and where either bends is exact; an open end also needs the slope.
 */
const dominates = (p: Piece, q: Piece, low: number, high: number): boolean => {
  const bend = (x: Piece): number => (x.floor - x.latency) / x.perByte
  const points = [low, bend(p), bend(q), ...(high === Infinity ? [] : [high])].filter((x) => x >= low && x <= high)
  return points.every((x) => pieceTime(p, x) <= pieceTime(q, x)) && (high !== Infinity || p.perByte <= q.perByte)
}

/**
 * The candidates of one operation as the fast path reads them: for size class k, the
 * pieces from `start[k]` to `start[k + 1]` of `pieces` (latency, seconds per byte, floor,
 * three numbers each) of the candidates that can be the fastest somewhere in the class;
 * one that another costs no less than everywhere in the class is left out there, which
 * keeps the minimum exact and the loop short.
 */
interface OpTable {
  readonly start: Int32Array
  readonly pieces: Float64Array
}

const opTableOf = (candidates: ReadonlyArray<Candidate>): OpTable => {
  const byCandidate = candidates.map(piecesOf)
  const start = new Int32Array(SIZE_CLASSES + 1)
  const flat: number[] = []
  for (let k = 0; k < SIZE_CLASSES; k++) {
    start[k] = flat.length
    const low = k === 0 ? 0 : 2 ** k
    const high = k === SIZE_CLASSES - 1 ? Infinity : 2 ** (k + 1)
    const here = byCandidate.map((pieces) => pieces[k] as Piece)
    here.forEach((q, j) => {
      const beaten = here.some((p, i) => i !== j && dominates(p, q, low, high) && (i < j || !dominates(q, p, low, high)))
      if (!beaten) flat.push(q.latency, q.perByte, q.floor)
    })
  }
  start[SIZE_CLASSES] = flat.length
  return { start, pieces: Float64Array.from(flat) }
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const invalidModel = (field: string, value: number, expected: string): CollectiveError => ({
  code: 'invalid-model',
  field,
  value,
  message: `${field} must be ${expected}, got ${value}`,
})

const validateModel = (model: CollectiveModel): E.Either<CollectiveError, CollectiveModel> => {
  for (const [field, value] of Object.entries(model.efficiency) as ReadonlyArray<[string, number]>) {
    if (!(Number.isFinite(value) && value > 0)) return E.left(invalidModel(`efficiency.${field}`, value, 'a finite number above zero'))
  }
  for (const p of model.protocols) {
    if (!(Number.isFinite(p.bandwidthFraction) && p.bandwidthFraction > 0)) {
      return E.left(invalidModel(`protocols.${p.name}.bandwidthFraction`, p.bandwidthFraction, 'a finite number above zero'))
    }
    if (!(Number.isFinite(p.baseLatency) && p.baseLatency >= 0)) return E.left(invalidModel(`protocols.${p.name}.baseLatency`, p.baseLatency, 'a finite number of seconds, zero or more'))
    if (!(Number.isFinite(p.hopLatencyScale) && p.hopLatencyScale >= 0)) {
      return E.left(invalidModel(`protocols.${p.name}.hopLatencyScale`, p.hopLatencyScale, 'a finite number, zero or more'))
    }
  }
  return E.right(model)
}

/** The priced (algorithm, protocol) pairs of `op` on `shape`, restricted to `only` when given. */
const candidatesOf = (
  model: CollectiveModel,
  shape: GroupShape,
  op: CollectiveOp,
  only?: Algorithm,
): E.Either<CollectiveError, ReadonlyArray<Candidate>> => {
  const out: Candidate[] = []
  if (shape.size <= 1) return E.right(out)
  for (const algorithm of only === undefined ? model.algorithms : [only]) {
    if (!algorithm.applies(op, shape)) continue
    for (const protocol of model.protocols) {
      if (!algorithm.protocols.includes(protocol.name)) continue
      const { latency, secondsPerByte, bandwidthCorrection } = algorithm.cost(op, shape, model.efficiency, protocol)
      if (!(Number.isFinite(latency) && latency >= 0)) return E.left(invalidModel(`${algorithm.name}.cost(${op}).latency`, latency, 'a finite number of seconds, zero or more'))
      if (!(Number.isFinite(secondsPerByte) && secondsPerByte > 0)) {
        return E.left(invalidModel(`${algorithm.name}.cost(${op}).secondsPerByte`, secondsPerByte, 'a finite number above zero'))
      }
      const badFactor = bandwidthCorrection?.find((f) => !(Number.isFinite(f) && f > 0))
      if (badFactor !== undefined) return E.left(invalidModel(`${algorithm.name}.cost(${op}).bandwidthCorrection`, badFactor, 'finite numbers above zero'))
      out.push({
        algorithm: algorithm.name,
        protocol: protocol.name,
        latency: seconds(latency),
        secondsPerByte,
        ...(bandwidthCorrection === undefined ? {} : { bandwidthCorrection }),
      })
    }
  }
  return E.right(out)
}

const describeShape = (shape: GroupShape): string =>
  shape.domains > 1 ? `${shape.size} ranks (${shape.local} per scale-up domain x ${shape.domains} domains)` : `${shape.size} ranks in one scale-up domain`

const noAlgorithm = (op: CollectiveOp, shape: GroupShape): CollectiveError => ({
  code: 'no-algorithm',
  op,
  message: `no algorithm of the model can run ${op} over ${describeShape(shape)}`,
})

/**
 * Prepares `span` of `cluster` for repeated pricing: checks the span and the model,
 * and prices every applicable (algorithm, protocol) pair of every operation once.
 * Fails with `no-algorithm` if some operation has no candidate (a group of two ranks
 * or more).
 */
export const prepare =
  (model: CollectiveModel) =>
  (cluster: Cluster) =>
  (span: GroupSpan): E.Either<CollectiveError, PreparedGroup> => {
    const valid = validateModel(model)
    if (E.isLeft(valid)) return valid
    const shaped = shapeOf(cluster)(span)
    if (E.isLeft(shaped)) return shaped
    const shape = shaped.right
    const candidates: Array<ReadonlyArray<Candidate>> = []
    const tables: OpTable[] = []
    for (const op of collectiveOps) {
      const priced = candidatesOf(model, shape, op)
      if (E.isLeft(priced)) return priced
      if (shape.size > 1 && priced.right.length === 0) return E.left(noAlgorithm(op, shape))
      candidates.push(priced.right)
      tables.push(opTableOf(priced.right))
    }
    const none = opTableOf([])
    return E.right({
      shape,
      candidates: (op) => candidates[opIndex(op)] ?? [],
      time: (op, bytes) => {
        if (!(bytes > 0 && bytes < Infinity)) return seconds(0)
        const table = tables[opIndex(op)] ?? none
        const k = sizeClass(bytes)
        const pieces = table.pieces
        const end = table.start[k + 1] as number
        let best = Infinity
        for (let at = table.start[k] as number; at < end; at += 3) {
          const t = Math.max(pieces[at + 2] as number, (pieces[at] as number) + bytes * (pieces[at + 1] as number))
          if (t < best) best = t
        }
        return seconds(best === Infinity ? 0 : best)
      },
    })
  }

const checkForced = (
  model: CollectiveModel,
  op: CollectiveOp,
  shape: GroupShape,
  name: string | undefined,
): E.Either<CollectiveError, Algorithm | undefined> => {
  if (name === undefined) return E.right(undefined)
  const algorithm = model.algorithms.find((a) => a.name === name)
  if (algorithm === undefined) {
    const known = model.algorithms.map((a) => a.name)
    const suggestion = closestName(known)(name)
    return E.left({
      code: 'unknown-algorithm',
      algorithm: name,
      known,
      message: `unknown algorithm "${name}"; known: ${known.join(', ')}`,
      ...(O.isSome(suggestion) ? { suggestion: `did you mean "${suggestion.value}"?` } : {}),
    })
  }
  if (shape.size > 1 && !algorithm.applies(op, shape)) {
    return E.left({
      code: 'not-applicable',
      algorithm: name,
      op,
      message: `algorithm ${name} is not applicable to ${op} over ${describeShape(shape)} (${algorithm.description})`,
    })
  }
  return E.right(algorithm)
}

/**
 * The time of `op` on `bytes` (nccl-tests convention) over the group `span` of
 * `cluster`, with the winning algorithm and protocol and nccl-tests' bandwidths. A group
 * of one rank costs nothing (time 0, bandwidths 0).
 */
export const estimate =
  (model: CollectiveModel) =>
  (cluster: Cluster) =>
  (op: CollectiveOp, bytes: number, span: GroupSpan, options?: EstimateOptions): E.Either<CollectiveError, CollectiveEstimate> => {
    if (!isCollectiveOp(op)) {
      return E.left({ code: 'unknown-op', op: String(op), known: collectiveOps, message: `unknown operation "${String(op)}"; known: ${collectiveOps.join(', ')}` })
    }
    if (!(typeof bytes === 'number' && Number.isFinite(bytes) && bytes > 0)) {
      return E.left({ code: 'invalid-size', bytes, message: `message size must be a finite number of bytes above zero, got ${bytes}` })
    }
    const valid = validateModel(model)
    if (E.isLeft(valid)) return valid
    const shaped = shapeOf(cluster)(span)
    if (E.isLeft(shaped)) return shaped
    const shape = shaped.right
    const forced = checkForced(model, op, shape, options?.algorithm)
    if (E.isLeft(forced)) return forced
    const factor = busFactor(op)(shape.size)
    if (shape.size <= 1) {
      const zero = bytesPerSecond(0)
      return E.right({ op, bytes, ranks: shape.size, seconds: seconds(0), algorithm: 'none', protocol: 'none', algbw: zero, busbw: zero, busFactor: factor, considered: [] })
    }
    const priced = candidatesOf(model, shape, op, forced.right)
    if (E.isLeft(priced)) return priced
    const wanted = options?.protocol?.toLowerCase()
    const considered = priced.right
      .filter((c) => wanted === undefined || c.protocol.toLowerCase() === wanted)
      .map((c) => ({ algorithm: c.algorithm, protocol: c.protocol, seconds: seconds(candidateSeconds(c, bytes)) }))
      .sort((a, b) => a.seconds - b.seconds)
    const best = considered[0]
    if (best === undefined && wanted !== undefined) {
      return E.left({
        code: 'not-applicable',
        algorithm: options?.algorithm ?? 'any',
        op,
        message: `no ${options?.algorithm ?? ''}${options?.algorithm === undefined ? '' : ' '}algorithm of the model runs ${op} over ${describeShape(shape)} with protocol ${options?.protocol ?? ''} (protocols: ${model.protocols.map((p) => p.name).join(', ')})`,
      })
    }
    if (best === undefined) return E.left(noAlgorithm(op, shape))
    if (!Number.isFinite(best.seconds)) {
      return E.left({ code: 'invalid-size', bytes, message: `message size ${bytes} is too large to price in finite time` })
    }
    const algbw = bytesPerSecond(best.seconds > 0 ? bytes / best.seconds : 0)
    return E.right({
      op,
      bytes,
      ranks: shape.size,
      seconds: best.seconds,
      algorithm: best.algorithm,
      protocol: best.protocol,
      algbw,
      busbw: bytesPerSecond(algbw * factor),
      busFactor: factor,
      considered,
    })
  }
