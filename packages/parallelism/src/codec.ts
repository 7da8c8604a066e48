/**
 * The strategy as a user writes it in a file: the `parallelism` object of the
 * meshplan case format (`tp`, `pp`, `dp`, `cp`, `ep`, `etp`, `sequence_parallel`,
 * `virtual_pipeline`; each optional, degrees default to 1). Decoding checks only
 * the shape (positive integers, booleans, no unknown fields); the laws are
 * `validate`'s job.
 *
 * @example
 * import { decodeStrategy } from '@meshplan/parallelism'
 * decodeStrategy({ tp: 2, dp: 64, ep: 64, etp: 2 }) // right({ tp: 2, pp: 1, dp: 64, ... })
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import * as t from 'io-ts'
import { closed, decodeWith, physical, physicalCount, type DecodeIssue } from '@meshplan/units'
import { strategy, type Strategy } from './strategy'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A degree: a whole number of GPUs (or stages) no larger than a cluster can be. */
const degree = physicalCount(physical.devices)

/** The file shape of a strategy. */
export const StrategyFile = closed(
  {},
  {
    tp: degree,
    pp: degree,
    dp: degree,
    cp: degree,
    ep: degree,
    etp: degree,
    sequence_parallel: t.boolean,
    virtual_pipeline: degree,
  },
  'a strategy object',
)
export type StrategyFile = t.TypeOf<typeof StrategyFile>

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The strategy a file's `parallelism` object describes (`root` names it in errors). */
export const decodeStrategy = (u: unknown, root = 'parallelism'): E.Either<ReadonlyArray<DecodeIssue>, Strategy> =>
  pipe(
    decodeWith(StrategyFile, root)(u),
    E.map((f) =>
      strategy({
        ...(f.tp === undefined ? {} : { tp: f.tp }),
        ...(f.pp === undefined ? {} : { pp: f.pp }),
        ...(f.dp === undefined ? {} : { dp: f.dp }),
        ...(f.cp === undefined ? {} : { cp: f.cp }),
        ...(f.ep === undefined ? {} : { ep: f.ep }),
        ...(f.etp === undefined ? {} : { etp: f.etp }),
        ...(f.sequence_parallel === undefined ? {} : { sequenceParallel: f.sequence_parallel }),
        ...(f.virtual_pipeline === undefined ? {} : { virtualStages: f.virtual_pipeline }),
      }),
    ),
  )

/** The file shape of `s` (the inverse of `decodeStrategy`). */
export const encodeStrategy = (s: Strategy): Required<StrategyFile> => ({
  tp: s.tp,
  pp: s.pp,
  dp: s.dp,
  cp: s.cp,
  ep: s.ep,
  etp: s.etp,
  sequence_parallel: s.sequenceParallel,
  virtual_pipeline: s.virtualStages,
})
