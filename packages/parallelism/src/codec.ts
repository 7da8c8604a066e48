/**
 * The strategy as a user writes it in a file: the `parallelism` object of the
 * meshplan case format (`tp`, `pp`, `dp`, `cp`, `ep`, `etp`, `sequence_parallel`,
 * `virtual_pipeline`; each optional, degrees default to 1), and the uneven pipeline split
 * (`first_stage_layers`, `last_stage_layers`, `embedding_in_pipeline_split`,
 * `loss_in_pipeline_split`, Megatron-LM's `--decoder-first/last-pipeline-num-layers` and
 * `--account-for-embedding/loss-in-pipeline-split`). Decoding checks only the shape
 * (positive integers, booleans, no unknown fields); the laws are `validate`'s job.
 *
 * @example
 * import { decodeStrategy } from '@meshplan/parallelism'
 * decodeStrategy({ tp: 2, dp: 64, ep: 64, etp: 2 }) // right({ tp: 2, pp: 1, dp: 64, ... })
 * decodeStrategy({ tp: 8, pp: 16, dp: 4, embedding_in_pipeline_split: true, loss_in_pipeline_split: true })
 * // right({ ..., pipelineSplit: { embeddingInSplit: true, lossInSplit: true } })
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import * as t from 'io-ts'
import { closed, decodeWith, physical, physicalCount, positiveInt, type DecodeIssue } from '@meshplan/units'
import { strategy, type PipelineSplit, type Strategy } from './strategy'

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
    first_stage_layers: positiveInt,
    last_stage_layers: positiveInt,
    embedding_in_pipeline_split: t.boolean,
    loss_in_pipeline_split: t.boolean,
  },
  'a strategy object',
)
export type StrategyFile = t.TypeOf<typeof StrategyFile>

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The pipeline split of a file's fields (`strategy` drops it when it asks for nothing). */
const splitOf = (f: StrategyFile): PipelineSplit => ({
  ...(f.first_stage_layers === undefined ? {} : { firstStageLayers: f.first_stage_layers }),
  ...(f.last_stage_layers === undefined ? {} : { lastStageLayers: f.last_stage_layers }),
  ...(f.embedding_in_pipeline_split === true ? { embeddingInSplit: true } : {}),
  ...(f.loss_in_pipeline_split === true ? { lossInSplit: true } : {}),
})

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
        pipelineSplit: splitOf(f),
      }),
    ),
  )

/** The degrees of a strategy file, always written; the split's fields only for an uneven split. */
export type EncodedStrategy = Required<Pick<StrategyFile, 'tp' | 'pp' | 'dp' | 'cp' | 'ep' | 'etp' | 'sequence_parallel' | 'virtual_pipeline'>> &
  Pick<StrategyFile, 'first_stage_layers' | 'last_stage_layers' | 'embedding_in_pipeline_split' | 'loss_in_pipeline_split'>

/** The file shape of `s` (the inverse of `decodeStrategy`); the even split writes no split fields. */
export const encodeStrategy = (s: Strategy): EncodedStrategy => {
  const split = s.pipelineSplit
  return {
    tp: s.tp,
    pp: s.pp,
    dp: s.dp,
    cp: s.cp,
    ep: s.ep,
    etp: s.etp,
    sequence_parallel: s.sequenceParallel,
    virtual_pipeline: s.virtualStages,
    ...(split?.firstStageLayers === undefined ? {} : { first_stage_layers: split.firstStageLayers }),
    ...(split?.lastStageLayers === undefined ? {} : { last_stage_layers: split.lastStageLayers }),
    ...(split?.embeddingInSplit === true ? { embedding_in_pipeline_split: true } : {}),
    ...(split?.lossInSplit === true ? { loss_in_pipeline_split: true } : {}),
  }
}
