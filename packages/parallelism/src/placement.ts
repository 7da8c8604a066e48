/**
 * Placement facts per GPU: which layers a rank holds, which experts of each MoE layer
 * (and what fraction of each under expert tensor parallelism), its share of the
 * attention heads, and whether it holds the embedding or the LM head.
 *
 * Layer assignment follows Megatron-LM's interleaved schedule (Narayanan et al. 2021,
 * section 2.2): the layers are cut into `pp * virtualStages` equal chunks, and
 * pipeline rank r holds chunks r, r + pp, r + 2pp, ...; an uneven pipeline split
 * (`Strategy.pipelineSplit`) follows Megatron-Core's rule ({@link chunkLayers}). The first stage holds the
 * embedding and the last the LM head (with tied embeddings and pp > 1 the last stage
 * keeps its own copy of the shared matrix, as Megatron-LM does).
 *
 * @example
 * import { layout, placementOf, strategy } from '@meshplan/parallelism'
 * const s = strategy({ tp: 2, dp: 64, ep: 64, etp: 2 })
 * // with l = layout(cluster)(s) (a Right):
 * placementOf(model, s, l)(0).experts // { perLayer: 1, fraction: 0.5, shards: 16, wholeEquivalent: 8, ... }
 */
import { isMoeLayer, type Architecture } from '@meshplan/model'
import { kvHeadsPerGpu } from './laws'
import type { Coordinates, Layout } from './layout'
import type { Strategy } from './strategy'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The routed experts one GPU holds. */
export interface ExpertPlacement {
  /** Expert ids held in each MoE layer (the same ids in every MoE layer); a redundant slot holds a replica of the expert it names. */
  readonly ids: ReadonlyArray<number>
  /** Of `ids`, those held as redundant replicas (an expert whose original lives on another GPU). */
  readonly replicas: ReadonlyArray<number>
  /** Expert slots held per MoE layer: (routed experts + redundant) / ep. */
  readonly perLayer: number
  /** The share of each held expert's weights on this GPU: 1 / etp. */
  readonly fraction: number
  /** Expert shards held in all: MoE layers held x experts per layer. */
  readonly shards: number
  /** The same in whole experts' worth of parameters: shards x fraction. */
  readonly wholeEquivalent: number
}

/** What one GPU holds. */
export interface Placement {
  readonly rank: number
  readonly coordinates: Coordinates
  /** Global indices (0-based) of the layers held, ascending. */
  readonly layers: ReadonlyArray<number>
  /** How many of those layers are MoE layers. */
  readonly moeLayers: number
  /** Query heads per GPU: heads / tp. */
  readonly attentionHeads: number
  /**
   * KV heads per GPU: kvHeads / tp, or 1 (replicated) when tp exceeds them; for MLA,
   * the one shared latent, held whole by every GPU of the TP group.
   */
  readonly kvHeads: number
  readonly experts: ExpertPlacement
  readonly holdsEmbedding: boolean
  readonly holdsLmHead: boolean
  /** Vocabulary rows of the embedding or LM head on this GPU: ceil(vocab / tp); 0 when it holds neither. */
  readonly vocabRows: number
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The layers of one model chunk: the index of its first layer and how many it holds. */
export interface ChunkLayers {
  readonly offset: number
  readonly count: number
}

/**
 * The layers of chunk `virtualStage` of pipeline rank `ppRank` among `layers` decoder
 * layers, by Megatron-Core's rule (`get_num_layers_to_build` and
 * `get_transformer_layer_offset`; assumes `s` satisfies the laws):
 * - even: `pp·v` chunks of `layers/(pp·v)`; chunk `v·pp + r` on rank r;
 * - first/last stage layers `F`, `Λ` given: the `M = layers − F − Λ` other layers split
 *   evenly over the `pp − [F given] − [Λ given]` other stages; each rank's layers split
 *   into `v` chunks, and virtual stage v runs `(F + M + Λ)/v` layers from
 *   `v·(F + M + Λ)/v`: rank 0's `F/v`, then each middle rank's, then the last rank's `Λ/v`;
 * - the embedding and/or the loss counted as a layer: `N = layers + [embedding] + [loss]`
 *   cut evenly into chunks of `N/(pp·v)`, of which the first chunk of rank 0 builds one
 *   decoder layer less for the embedding, and the last chunk of rank `pp − 1` one less for
 *   the loss (so a chunk can hold none).
 */
export const chunkLayers = (layers: number, s: Strategy, ppRank: number, virtualStage: number): ChunkLayers => {
  const split = s.pipelineSplit
  const v = s.virtualStages
  if (split === undefined || s.pp === 1) {
    const size = layers / (s.pp * v)
    return { offset: (virtualStage * s.pp + ppRank) * size, count: size }
  }
  const firstGiven = split.firstStageLayers !== undefined
  const lastGiven = split.lastStageLayers !== undefined
  if (firstGiven || lastGiven) {
    const first = split.firstStageLayers ?? 0
    const last = split.lastStageLayers ?? 0
    const middleStages = s.pp - (firstGiven ? 1 : 0) - (lastGiven ? 1 : 0)
    const middleLayers = layers - first - last
    const perMiddleChunk = middleStages > 0 ? middleLayers / middleStages / v : 0
    const perVirtualStage = (first + middleLayers + last) / v
    const isFirst = ppRank === 0 && firstGiven
    const isLast = ppRank === s.pp - 1 && lastGiven
    const count = isFirst ? first / v : isLast ? last / v : perMiddleChunk
    const middleRank = ppRank - (firstGiven ? 1 : 0)
    const offset = virtualStage * perVirtualStage + (ppRank === 0 ? 0 : first / v + middleRank * perMiddleChunk)
    return { offset, count }
  }
  const embedding = split.embeddingInSplit === true ? 1 : 0
  const loss = split.lossInSplit === true ? 1 : 0
  const size = (layers + embedding + loss) / (s.pp * v)
  const holdsEmbedding = ppRank === 0 && virtualStage === 0
  const holdsLoss = ppRank === s.pp - 1 && virtualStage === v - 1
  return {
    offset: (virtualStage * s.pp + ppRank) * size - (embedding === 1 && !holdsEmbedding ? 1 : 0),
    count: size - (holdsEmbedding ? embedding : 0) - (holdsLoss ? loss : 0),
  }
}

/** Global layer indices of chunk `virtualStage` of pipeline rank `ppRank` ({@link chunkLayers}), ascending. */
export const layersOfChunk =
  (model: Architecture, s: Strategy) =>
  (ppRank: number, virtualStage: number): ReadonlyArray<number> => {
    const { offset, count } = chunkLayers(model.layers, s, ppRank, virtualStage)
    return Array.from({ length: Math.max(0, count) }, (_, i) => offset + i)
  }

/** Global layer indices held by pipeline rank `ppRank`: its chunks in order ({@link chunkLayers}; interleaved, and uneven with a pipeline split). */
export const layersOfStage =
  (model: Architecture, s: Strategy) =>
  (ppRank: number): ReadonlyArray<number> => {
    const layers: number[] = []
    for (let v = 0; v < s.virtualStages; v++) {
      const { offset, count } = chunkLayers(model.layers, s, ppRank, v)
      for (let i = 0; i < count; i++) layers.push(offset + i)
    }
    return layers
  }

/** The expert slots of a layer on expert-parallel rank `epRank`, `perRank` of them: `epRank·perRank` onwards. */
const slotsOfRank = (epRank: number, perRank: number): ReadonlyArray<number> => Array.from({ length: perRank }, (_, i) => epRank * perRank + i)

/** The expert a redundant slot replicates: slot `experts + j` holds expert `j mod experts`. */
const replicaOf = (slot: number, experts: number): number => (slot - experts) % experts

/** The experts replicated by the redundant slots (those past the routed experts) of `slots`. */
const replicasAmong = (slots: ReadonlyArray<number>, experts: number): ReadonlyArray<number> => slots.filter((slot) => slot >= experts).map((slot) => replicaOf(slot, experts))

/**
 * What GPU `rank` holds under `s`, laid out by `l`, with `redundant` expert slots per MoE
 * layer. Assumes `s` is valid for `model` (and `ep` divides the slots). Slot `i` of a layer
 * lives on expert-parallel rank `⌊i / slots per rank⌋`; slots below the routed experts hold
 * those experts in order, and redundant slot `j` (slot `experts + j`) a replica of expert
 * `j mod experts`: DeepSeek's EPLB replicates the experts its load statistics find
 * hottest, and without those statistics the plan lists the first ones in their place.
 */
export const placementOf =
  (model: Architecture, s: Strategy, l: Layout, redundant = 0) =>
  (rank: number): Placement => {
    const coordinates = l.coordinates(rank)
    const layers = layersOfStage(model, s)(coordinates.pp)
    const moeLayers = layers.filter(isMoeLayer(model)).length
    const moe = model.moe
    const slots = moe === undefined ? 0 : moe.experts + redundant
    const perLayer = moe === undefined ? 0 : slots / s.ep
    const held = slotsOfRank(coordinates.ep, perLayer)
    const experts = moe?.experts ?? 1
    const ids = held.map((slot) => (slot < experts ? slot : replicaOf(slot, experts)))
    const replicas = replicasAmong(held, experts)
    const fraction = moe === undefined ? 0 : 1 / s.etp
    const shards = moeLayers * perLayer
    const attention = model.attention
    const kvHeads = kvHeadsPerGpu(model)(s.tp)
    const holdsEmbedding = coordinates.pp === 0
    const holdsLmHead = coordinates.pp === s.pp - 1
    return {
      rank,
      coordinates,
      layers,
      moeLayers,
      attentionHeads: attention.heads / s.tp,
      kvHeads,
      experts: { ids, replicas, perLayer, fraction, shards, wholeEquivalent: shards * fraction },
      holdsEmbedding,
      holdsLmHead,
      vocabRows: holdsEmbedding || holdsLmHead ? Math.ceil(model.vocab / s.tp) : 0,
    }
  }

/**
 * The expert-parallel ranks that hold redundant replicas, each with the expert ids it
 * replicates ({@link placementOf}'s rule: slot `i` on rank `⌊i / slots per rank⌋`,
 * redundant slot `j` a replica of expert `j mod experts`); empty without redundant slots.
 */
export const expertReplicas = (model: Architecture, s: Strategy, redundant: number): ReadonlyArray<{ readonly epRank: number; readonly experts: ReadonlyArray<number> }> => {
  const experts = model.moe?.experts ?? 0
  if (experts === 0 || redundant <= 0) return []
  const perRank = (experts + redundant) / s.ep
  return Array.from({ length: s.ep }, (_, epRank) => ({ epRank, experts: replicasAmong(slotsOfRank(epRank, perRank), experts) })).filter((r) => r.experts.length > 0)
}

/** A set of ranks that hold the same kind of share (the same layers and the same numbers of everything). */
export interface PlacementClass {
  /** The placement of the lowest rank of the class. */
  readonly example: Placement
  /** Every rank of the class, ascending. */
  readonly ranks: ReadonlyArray<number>
}

/**
 * The ranks of `l` grouped by what they hold, ignoring which expert ids and which
 * coordinates: on the reference plan all 128 GPUs form one class; with pp 4, four.
 * What a GPU holds depends on its pipeline rank only (the heads, KV heads, experts per
 * layer and expert shard are the same on every GPU of a strategy), so the classes are
 * found over the pipeline ranks, and the GPUs of each are listed in one pass of
 * arithmetic: bounded by the pipeline depth, whatever the world size.
 */
export const placementClasses = (model: Architecture, s: Strategy, l: Layout, redundant = 0): ReadonlyArray<PlacementClass> => {
  const place = placementOf(model, s, l, redundant)
  // the lowest rank of each pipeline stage, and each rank's stage
  const firstOfStage: number[] = []
  const stageOf = new Array<number>(l.world)
  for (let rank = 0; rank < l.world; rank++) {
    const pp = l.coordinates(rank).pp
    stageOf[rank] = pp
    if (firstOfStage[pp] === undefined) firstOfStage[pp] = rank
  }
  const classOfStage: number[] = []
  const classes: Array<{ example: Placement; ranks: number[] }> = []
  const bySignature = new Map<string, number>()
  for (let pp = 0; pp < s.pp; pp++) {
    const p = place(firstOfStage[pp] ?? 0)
    const signature = JSON.stringify([p.layers, p.attentionHeads, p.kvHeads, p.experts.perLayer, p.experts.fraction, p.holdsEmbedding, p.holdsLmHead, p.vocabRows])
    let index = bySignature.get(signature)
    if (index === undefined) {
      index = classes.length
      bySignature.set(signature, index)
      classes.push({ example: p, ranks: [] })
    }
    classOfStage[pp] = index
  }
  for (let rank = 0; rank < l.world; rank++) classes[classOfStage[stageOf[rank] ?? 0] ?? 0]?.ranks.push(rank)
  // the example is the lowest rank of its class
  return classes.map((c) => ({ example: c.ranks[0] === c.example.rank ? c.example : place(c.ranks[0] ?? 0), ranks: c.ranks }))
}
