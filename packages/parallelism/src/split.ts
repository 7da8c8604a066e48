/**
 * The uneven pipeline split a practitioner takes when the layers do not divide into
 * `pp · virtualStages` equal chunks, in Megatron-Core's terms (`PipelineSplit`):
 *
 * 1. Count the embedding and the loss as one layer each
 *    (`--account-for-embedding-in-pipeline-split`, `--account-for-loss-in-pipeline-split`)
 *    when `layers + 2` then divides: the first and the last stage each build one decoder
 *    layer less, which is how Llama 3 405B (126 layers) was cut into 16 stages ("we reduce
 *    one Transformer layer each from the first and the last stages", Dubey et al. 2024,
 *    The Llama 3 Herd of Models, section 3.3.2).
 * 2. Else count the loss alone (`layers + 1` divides): the last stage, which also runs the
 *    LM head over the whole vocabulary, builds one layer less.
 * 3. Else give the first and the last stage's layers (`--decoder-first-pipeline-num-layers`,
 *    `--decoder-last-pipeline-num-layers`): every middle stage holds the even share
 *    rounded up to whole chunks, and the edges, which also hold the embedding and the LM
 *    head, share what is left, each a positive whole number of chunks and at most one
 *    chunk more than a middle stage.
 *
 * `undefined` when the even split works (nothing to do) or no split of these kinds exists
 * (fewer layers than chunks, or layers that are not whole chunks on every stage).
 *
 * @example
 * import { splitFor } from '@meshplan/parallelism'
 * splitFor(126, 16, 1) // { embeddingInSplit: true, lossInSplit: true }: 7 + 14 × 8 + 7
 * splitFor(61, 16, 1)  // { firstStageLayers: 2, lastStageLayers: 3 }: 2 + 14 × 4 + 3
 */
import { divides } from './arithmetic'
import { accountedSplitsEvenly, edgeStagesSplitChunks, middleSplitsEvenly, splitKindsExclusive } from './laws'
import type { PipelineSplit } from './strategy'

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** A split Megatron-Core accepts for `layers` over `pp` stages of `virtualStages` chunks each, or `undefined` (see the module comment). */
export const splitFor = (layers: number, pp: number, virtualStages: number): PipelineSplit | undefined => {
  const v = virtualStages
  if (!(Number.isSafeInteger(layers) && Number.isSafeInteger(pp) && Number.isSafeInteger(v)) || layers < 1 || pp < 2 || v < 1) return undefined
  const chunks = pp * v
  if (divides(chunks, layers)) return undefined
  const accounted: ReadonlyArray<PipelineSplit> = [{ embeddingInSplit: true, lossInSplit: true }, { lossInSplit: true }]
  for (const split of accounted) {
    const counted = layers + (split.embeddingInSplit === true ? 1 : 0) + (split.lossInSplit === true ? 1 : 0)
    // the edge chunks keep at least one decoder layer beside the embedding or the loss: two counted layers per chunk
    if (accountedSplitsEvenly(layers, pp, v, split) && counted >= 2 * chunks) return split
  }
  // first and last stage layers: middle stages take the even share rounded up to whole chunks, the edges the rest
  const middleStages = pp - 2
  let perMiddle = v * Math.ceil(layers / pp / v)
  while (perMiddle > v && layers - middleStages * perMiddle < 2 * v) perMiddle -= v
  const rest = layers - middleStages * perMiddle
  const first = v * Math.floor(rest / (2 * v))
  const last = rest - first
  // a split whose edges hold more than a chunk beyond a middle stage is no balance worth taking
  if (middleStages > 0 && last > perMiddle + v) return undefined
  const split: PipelineSplit = { firstStageLayers: first, lastStageLayers: last }
  return splitKindsExclusive(split) && edgeStagesSplitChunks(split, v) && middleSplitsEvenly(layers, pp, v, split) ? split : undefined
}
