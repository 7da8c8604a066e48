/**
 * The laws a strategy must satisfy for a model on a cluster, checked all at once.
 * `validate` returns every violation (fp-ts validation over a non-empty-array
 * semigroup), each with a code, the numbers involved and a suggestion naming the
 * nearest valid degrees; a strategy that passes comes back with notes (warnings and
 * facts worth knowing, e.g. KV heads replicated across the TP group).
 *
 * The laws (Megatron-LM parallel_state.py and arguments.py; Shoeybi et al. 2019 for
 * TP; Narayanan et al. 2021 for PP and interleaving; MoE Parallel Folding for EP):
 * - `tp * pp * dp * cp` equals the GPUs used;
 * - `tp` divides the attention heads and the dense FFN size; KV heads divide `tp`
 *   or are divided by it (when `tp` exceeds them they are replicated);
 * - `pp * virtualStages` divides the layers; interleaving needs `pp > 1`; an uneven
 *   split (Megatron-Core's `TransformerConfig` checks) needs `pp > 1`, gives layer counts
 *   or counts the embedding and loss but not both, first and last counts that are whole
 *   chunks, and middle layers that split evenly over the middle stages (or, counting the
 *   embedding and loss, `pp * virtualStages` dividing the layers with them);
 * - `ep` divides the routed experts, `ep * etp` divides `tp * dp * cp`, `etp`
 *   divides the expert FFN size; a dense model has `ep = etp = 1`;
 * - sequence parallelism needs `tp > 1`; with a known sequence length, `2 * cp`
 *   divides it (load-balanced causal chunks, Megatron context parallelism).
 *
 * @example
 * import { validate, strategy } from '@meshplan/parallelism'
 * validate({ model, cluster })(strategy({ tp: 3, dp: 40 }))
 * // left([{ code: 'world-size', ... }, { code: 'heads-tp', ... }, ...])
 */
import * as A from 'fp-ts/Array'
import * as E from 'fp-ts/Either'
import * as NEA from 'fp-ts/NonEmptyArray'
import { pipe } from 'fp-ts/function'
import { denseLayerCount, type Architecture } from '@meshplan/model'
import { scaleUpDomainSize, worldSize, type Cluster } from '@meshplan/topology'
import { divides, listOr, nearestDivisors } from './arithmetic'
import {
  accountedSplitsEvenly,
  cpSplitsSequence,
  edgeStagesSplitChunks,
  epSplitsExperts,
  etpSplitsExpert,
  expertsFold,
  middleOfSplit,
  middleSplitsEvenly,
  ppSplitsLayers,
  spFits,
  splitKindsExclusive,
} from './laws'
import { splitFor } from './split'
import { degreeNames, describeSplit, expertDataParallel, stageWidth, worldOf, type PipelineSplit, type Strategy } from './strategy'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What a strategy is validated against. */
export interface Target {
  readonly model: Architecture
  readonly cluster: Cluster
  /** GPUs the strategy must use (default: every GPU of the cluster). */
  readonly gpus?: number
  /** Tokens per sequence, when known; context parallelism is checked against it. */
  readonly sequenceLength?: number
  /**
   * Redundant expert slots per MoE layer (DeepSeek's EPLB): replicas of hot experts, so that
   * each layer has experts + redundant slots and `ep` divides the slots, not the experts
   * (DeepSeek-V3 report, section 3.4: 32 redundant experts in its prefilling deployment).
   * Default 0.
   */
  readonly redundantExperts?: number
}

/** The laws a strategy can break. */
export type ViolationCode =
  | 'degree-not-positive-integer'
  | 'gpus-exceed-cluster'
  | 'world-size'
  | 'heads-tp'
  | 'kv-heads-tp'
  | 'ffn-tp'
  | 'shared-expert-ffn-tp'
  | 'layers-pp'
  | 'virtual-stages-without-pp'
  | 'pipeline-split-without-pp'
  | 'pipeline-split-kinds'
  | 'stage-layers-chunks'
  | 'middle-layers-pp'
  | 'experts-without-moe'
  | 'redundant-experts'
  | 'experts-ep'
  | 'expert-fold'
  | 'expert-ffn-etp'
  | 'sequence-parallel-without-tp'
  | 'sequence-cp'
  | 'sequence-tp'

/** A broken law. */
export interface Violation {
  readonly code: ViolationCode
  /** One sentence, with the numbers. */
  readonly message: string
  /** The numbers involved, by name. */
  readonly values: Readonly<Record<string, number>>
  /** The nearest valid degrees, or what to change. */
  readonly suggestion: string
}

/** Facts about a valid strategy worth a user's attention. */
export type NoteCode =
  | 'tp-beyond-scale-up'
  | 'kv-heads-replicated'
  | 'latent-cache-replicated'
  | 'vocab-padded'
  | 'expert-replicas'
  | 'gpus-unused'

export interface Note {
  readonly code: NoteCode
  /** A warning may cost a lot (TP over the scale-out network); info is a fact. */
  readonly severity: 'warning' | 'info'
  readonly message: string
  readonly values: Readonly<Record<string, number>>
}

/** A strategy that satisfies every law, with its notes. */
export interface ValidStrategy {
  readonly strategy: Strategy
  readonly notes: ReadonlyArray<Note>
}

// -------------------------------------------------------------------------------------
// checks
// -------------------------------------------------------------------------------------

type Check = E.Either<NEA.NonEmptyArray<Violation>, void>

const Validation = E.getApplicativeValidation(NEA.getSemigroup<Violation>())

const ok: Check = E.right(undefined)

const law = (holds: boolean, violation: () => Violation): Check => (holds ? ok : E.left([violation()]))

const divisorSuggestion = (name: string, of: string, n: number, x: number): string =>
  `${name} must divide ${of} (${n}); nearest: ${name} = ${listOr(nearestDivisors(n)(x))}`

/** GPUs the strategy must use. */
export const targetGpus = (target: Target): number => target.gpus ?? worldSize(target.cluster)

const degreeLaws = (s: Strategy): ReadonlyArray<Check> =>
  degreeNames.map((name) =>
    law(Number.isInteger(s[name]) && s[name] >= 1, () => ({
      code: 'degree-not-positive-integer',
      message: `${name} is ${s[name]}; every degree is a positive integer`,
      values: { [name]: s[name] },
      suggestion: `set ${name} to a positive integer (1 disables it)`,
    })),
  )

const worldLaws = (target: Target, s: Strategy): ReadonlyArray<Check> => {
  const gpus = targetGpus(target)
  const available = worldSize(target.cluster)
  const world = worldOf(s)
  const modelParallel = s.tp * s.pp * s.cp
  return [
    law(gpus <= available, () => ({
      code: 'gpus-exceed-cluster',
      message: `${gpus} GPUs asked for, the cluster has ${available}`,
      values: { gpus, available },
      suggestion: `use at most ${available} GPUs`,
    })),
    law(world === gpus, () => ({
      code: 'world-size',
      message: `tp * pp * dp * cp = ${s.tp} * ${s.pp} * ${s.dp} * ${s.cp} = ${world}, but ${gpus} GPUs are to be used`,
      values: { tp: s.tp, pp: s.pp, dp: s.dp, cp: s.cp, product: world, gpus },
      suggestion: divides(modelParallel, gpus)
        ? `dp = ${gpus} / (tp * pp * cp) = ${gpus / modelParallel}`
        : `tp * pp * cp (${modelParallel}) must divide ${gpus}; nearest: ${listOr(nearestDivisors(gpus)(modelParallel))}`,
    })),
  ]
}

const attentionLaws = (model: Architecture, s: Strategy): ReadonlyArray<Check> => {
  const attention = model.attention
  const heads = attention.heads
  const checks: Check[] = [
    law(divides(s.tp, heads), () => ({
      code: 'heads-tp',
      message: `${heads} attention heads cannot be split evenly over tp = ${s.tp}`,
      values: { heads, tp: s.tp },
      suggestion: divisorSuggestion('tp', 'the attention heads', heads, s.tp),
    })),
  ]
  if (attention.kind !== 'mla') {
    const kv = attention.kvHeads
    checks.push(
      law(divides(s.tp, kv) || divides(kv, s.tp), () => ({
        code: 'kv-heads-tp',
        message: `${kv} KV heads and tp = ${s.tp}: neither divides the other, so KV heads can be neither split nor replicated evenly`,
        values: { kvHeads: kv, tp: s.tp },
        suggestion: `tp must divide ${kv} or be a multiple of it; nearest: tp = ${listOr(nearestDivisors(kv)(s.tp))} (split) or ${Math.ceil(s.tp / kv) * kv} (replicated)`,
      })),
    )
  }
  return checks
}

const mlpLaws = (model: Architecture, s: Strategy): ReadonlyArray<Check> => {
  const checks: Check[] = []
  if (denseLayerCount(model) > 0) {
    const ffn = model.mlp.ffn
    checks.push(
      law(divides(s.tp, ffn), () => ({
        code: 'ffn-tp',
        message: `the dense FFN size ${ffn} cannot be split evenly over tp = ${s.tp}`,
        values: { ffn, tp: s.tp },
        suggestion: divisorSuggestion('tp', 'the FFN size', ffn, s.tp),
      })),
    )
  }
  const moe = model.moe
  if (moe !== undefined && moe.sharedExperts > 0) {
    const shared = moe.sharedExperts * moe.sharedExpertFfn
    checks.push(
      law(divides(s.tp, shared), () => ({
        code: 'shared-expert-ffn-tp',
        message: `the shared experts' FFN size ${shared} cannot be split evenly over tp = ${s.tp}`,
        values: { sharedExpertFfn: shared, tp: s.tp },
        suggestion: divisorSuggestion('tp', "the shared experts' FFN size", shared, s.tp),
      })),
    )
  }
  return checks
}

const evenPipelineLaw = (model: Architecture, s: Strategy): Check => {
  const chunks = s.pp * s.virtualStages
  return law(ppSplitsLayers(model)(chunks, 1), () => ({
    code: 'layers-pp',
    message: `${model.layers} layers cannot be split evenly into pp * virtualStages = ${s.pp} * ${s.virtualStages} = ${chunks} chunks`,
    values: { layers: model.layers, pp: s.pp, virtualStages: s.virtualStages, chunks },
    suggestion: `${divisorSuggestion('pp * virtualStages', 'the layers', model.layers, chunks)}${unevenSuggestion(model.layers, s.pp, s.virtualStages)}`,
  }))
}

/** The uneven split {@link splitFor} would take, as a suggestion's tail, or nothing. */
const unevenSuggestion = (layers: number, pp: number, virtualStages: number): string => {
  const split = splitFor(layers, pp, virtualStages)
  return split === undefined ? '' : `; or cut the stages unevenly: ${describeSplit(split)}`
}

/** What first + last stage layers leave a whole number of chunks to each middle stage. */
const middleSuggestion = (layers: number, stages: number, v: number, split: PipelineSplit): string => {
  const given = (split.firstStageLayers === undefined ? 0 : 1) + (split.lastStageLayers === undefined ? 0 : 1)
  const unit = stages * v
  const middle = Math.floor((layers - given * v) / unit) * unit
  return middle > 0
    ? `the middle stages need a multiple of ${unit} layers: e.g. first + last stage layers = ${layers - middle}, leaving ${middle}`
    : `${layers} layers are too few for ${stages} middle stages of ${v} chunks each and the given first / last stages`
}

/** The laws of an uneven split (Megatron-Core `TransformerConfig.__post_init__`, "Uneven PP"). */
const splitLaws = (model: Architecture, s: Strategy, split: PipelineSplit): ReadonlyArray<Check> => {
  const L = model.layers
  const v = s.virtualStages
  const first = split.firstStageLayers
  const last = split.lastStageLayers
  const counts = first !== undefined || last !== undefined
  const checks: Check[] = [
    law(s.pp > 1, () => ({
      code: 'pipeline-split-without-pp',
      message: `an uneven pipeline split (${describeSplit(split)}) needs stages to split, but pp = 1`,
      values: { pp: s.pp },
      suggestion: 'drop the pipeline split, or use pp > 1',
    })),
    law(splitKindsExclusive(split), () => ({
      code: 'pipeline-split-kinds',
      message: `the split gives layer counts (${describeSplit(split)}); Megatron-Core refuses them together with the embedding or the loss counted in the split`,
      values: { ...(first === undefined ? {} : { firstStageLayers: first }), ...(last === undefined ? {} : { lastStageLayers: last }) },
      suggestion: 'give first_stage_layers / last_stage_layers, or count the embedding / loss in the split, not both',
    })),
  ]
  if (s.pp <= 1 || !splitKindsExclusive(split)) return checks
  if (counts) {
    const middle = middleOfSplit(L, s.pp, split)
    checks.push(
      law(edgeStagesSplitChunks(split, v), () => ({
        code: 'stage-layers-chunks',
        message: `the first / last stage layers (${first ?? '-'} / ${last ?? '-'}) must each be a positive multiple of virtualStages = ${v}`,
        values: { ...(first === undefined ? {} : { firstStageLayers: first }), ...(last === undefined ? {} : { lastStageLayers: last }), virtualStages: v },
        suggestion: `give first and last stage layers that are multiples of ${v}`,
      })),
      law(middleSplitsEvenly(L, s.pp, v, split), () => ({
        code: 'middle-layers-pp',
        message:
          middle.stages === 0
            ? `with pp = ${s.pp} there are no middle stages, but ${middle.layers} of the ${L} layers are left for them`
            : `the ${middle.layers} layers left between the first and the last stage cannot be split evenly into ${middle.stages} middle stages * virtualStages = ${v} chunks`,
        values: { layers: L, middleLayers: middle.layers, middleStages: middle.stages, virtualStages: v },
        suggestion: middle.stages === 0 ? `first and last stage layers must add up to the ${L} layers` : middleSuggestion(L, middle.stages, v, split),
      })),
    )
  } else {
    const counted = L + (split.embeddingInSplit === true ? 1 : 0) + (split.lossInSplit === true ? 1 : 0)
    const chunks = s.pp * v
    checks.push(
      law(accountedSplitsEvenly(L, s.pp, v, split), () => ({
        code: 'layers-pp',
        message: `${L} layers with ${describeSplit(split)} count as ${counted}, which cannot be split evenly into pp * virtualStages = ${s.pp} * ${v} = ${chunks} chunks`,
        values: { layers: L, counted, pp: s.pp, virtualStages: v, chunks },
        suggestion: divisorSuggestion('pp * virtualStages', 'the counted layers', counted, chunks),
      })),
    )
  }
  return checks
}

const pipelineLaws = (model: Architecture, s: Strategy): ReadonlyArray<Check> => [
  ...(s.pipelineSplit === undefined ? [evenPipelineLaw(model, s)] : splitLaws(model, s, s.pipelineSplit)),
  law(s.virtualStages === 1 || s.pp > 1, () => ({
    code: 'virtual-stages-without-pp',
    message: `virtualStages = ${s.virtualStages} interleaves pipeline stages, but pp = 1`,
    values: { pp: s.pp, virtualStages: s.virtualStages },
    suggestion: 'set virtualStages = 1, or use pp > 1',
  })),
]

const expertLaws = (model: Architecture, s: Strategy, redundant = 0): ReadonlyArray<Check> => {
  const moe = model.moe
  const slotsLaw = law(Number.isSafeInteger(redundant) && redundant >= 0 && (redundant === 0 || moe !== undefined), () => ({
    code: 'redundant-experts',
    message: moe === undefined ? `${redundant} redundant experts, but ${model.name} has no routed experts` : `redundant experts must be a whole number of slots, 0 or more, got ${redundant}`,
    values: { redundantExperts: redundant },
    suggestion: moe === undefined ? 'give no redundant experts for a dense model' : 'give 0 or a positive whole number of redundant experts',
  }))
  if (moe === undefined) {
    return [
      law(s.ep === 1 && s.etp === 1, () => ({
        code: 'experts-without-moe',
        message: `ep = ${s.ep} and etp = ${s.etp}, but ${model.name} has no experts`,
        values: { ep: s.ep, etp: s.etp },
        suggestion: 'set ep = 1 and etp = 1 for a dense model',
      })),
      slotsLaw,
    ]
  }
  const width = stageWidth(s)
  const fold = s.ep * s.etp
  const extra = Number.isSafeInteger(redundant) && redundant > 0 ? redundant : 0
  const slots = moe.experts + extra
  return [
    slotsLaw,
    law(epSplitsExperts(model, extra)(s.ep), () => ({
      code: 'experts-ep',
      message:
        slots === moe.experts
          ? `${moe.experts} routed experts cannot be split evenly over ep = ${s.ep}`
          : `${slots} expert slots (${moe.experts} routed experts + ${extra} redundant) cannot be split evenly over ep = ${s.ep}`,
      values: { experts: moe.experts, ep: s.ep, ...(extra === 0 ? {} : { redundantExperts: extra }) },
      suggestion:
        slots === moe.experts
          ? `${divisorSuggestion('ep', 'the routed experts', moe.experts, s.ep)}; or add redundant experts so that ep divides the slots`
          : divisorSuggestion('ep', 'the expert slots', slots, s.ep),
    })),
    law(expertsFold(width, s.ep, s.etp), () => ({
      code: 'expert-fold',
      message: `MoE layers re-fold each stage's tp * dp * cp = ${width} GPUs as ep * etp * edp, but ep * etp = ${s.ep} * ${s.etp} = ${fold} does not divide ${width}`,
      values: { ep: s.ep, etp: s.etp, stageWidth: width },
      suggestion: `ep * etp must divide ${width}; nearest: ep * etp = ${listOr(nearestDivisors(width)(fold))}`,
    })),
    law(etpSplitsExpert(model)(s.etp), () => ({
      code: 'expert-ffn-etp',
      message: `the expert FFN size ${moe.expertFfn} cannot be split evenly over etp = ${s.etp}`,
      values: { expertFfn: moe.expertFfn, etp: s.etp },
      suggestion: divisorSuggestion('etp', 'the expert FFN size', moe.expertFfn, s.etp),
    })),
  ]
}

const sequenceLaws = (target: ModelTarget, s: Strategy): ReadonlyArray<Check> => {
  const checks: Check[] = [
    law(spFits(undefined, s.tp, s.cp, s.sequenceParallel), () => ({
      code: 'sequence-parallel-without-tp',
      message: 'sequence parallelism splits activations over the TP group, but tp = 1',
      values: { tp: s.tp },
      suggestion: 'turn sequence parallelism off, or use tp > 1',
    })),
  ]
  const sequence = target.sequenceLength
  if (sequence !== undefined) {
    checks.push(
      law(cpSplitsSequence(sequence, s.cp), () => ({
        code: 'sequence-cp',
        message: `a sequence of ${sequence} tokens cannot be cut into 2 * cp = ${2 * s.cp} equal chunks (load-balanced causal context parallelism)`,
        values: { sequenceLength: sequence, cp: s.cp },
        suggestion: `2 * cp must divide ${sequence}; nearest: cp = ${listOr(nearestDivisors(sequence)(2 * s.cp).map((d) => d / 2).filter(Number.isInteger))}`,
      })),
      law(!s.sequenceParallel || s.tp === 1 || spFits(sequence, s.tp, s.cp, true), () => ({
        code: 'sequence-tp',
        message: `sequence parallelism splits each GPU's ${sequence / s.cp} tokens over tp = ${s.tp}, which does not divide them`,
        values: { sequenceLength: sequence, cp: s.cp, tp: s.tp },
        suggestion: `tp must divide ${sequence / s.cp}, or turn sequence parallelism off`,
      })),
    )
  }
  return checks
}

// -------------------------------------------------------------------------------------
// notes
// -------------------------------------------------------------------------------------

/** Facts about a strategy that satisfies the laws. */
export const notesOf =
  (target: Target) =>
  (s: Strategy): ReadonlyArray<Note> => {
    const { model, cluster } = target
    const notes: Note[] = []
    const domain = scaleUpDomainSize(cluster)
    if (s.tp > domain) {
      notes.push({
        code: 'tp-beyond-scale-up',
        severity: 'warning',
        message: `tp = ${s.tp} exceeds the ${domain}-GPU scale-up domain: its per-layer collectives cross the scale-out network`,
        values: { tp: s.tp, scaleUpDomain: domain },
      })
    }
    const attention = model.attention
    if (attention.kind !== 'mla' && s.tp > attention.kvHeads) {
      notes.push({
        code: 'kv-heads-replicated',
        severity: 'info',
        message: `tp = ${s.tp} exceeds the ${attention.kvHeads} KV heads: each KV head is replicated on ${s.tp / attention.kvHeads} GPUs`,
        values: { tp: s.tp, kvHeads: attention.kvHeads, replicas: s.tp / attention.kvHeads },
      })
    }
    if (attention.kind === 'mla' && s.tp > 1) {
      notes.push({
        code: 'latent-cache-replicated',
        severity: 'info',
        message: `MLA caches one latent per token shared by all heads: every GPU of the tp = ${s.tp} group holds the full latent cache`,
        values: { tp: s.tp },
      })
    }
    if (!divides(s.tp, model.vocab)) {
      // Megatron-LM pads the vocabulary to a multiple of make-vocab-size-divisible-by (128) * tp
      const padded = Math.ceil(model.vocab / (128 * s.tp)) * 128 * s.tp
      notes.push({
        code: 'vocab-padded',
        severity: 'info',
        message: `the vocabulary of ${model.vocab} is padded to ${padded} to split over tp = ${s.tp}`,
        values: { vocab: model.vocab, padded, tp: s.tp },
      })
    }
    if (model.moe !== undefined && expertDataParallel(s) > 1) {
      notes.push({
        code: 'expert-replicas',
        severity: 'info',
        message: `each expert shard is held by edp = ${expertDataParallel(s)} GPUs of a stage`,
        values: { edp: expertDataParallel(s) },
      })
    }
    const unused = worldSize(cluster) - targetGpus(target)
    if (unused > 0) {
      notes.push({
        code: 'gpus-unused',
        severity: 'info',
        message: `${unused} of the cluster's ${worldSize(cluster)} GPUs are not used`,
        values: { unused, available: worldSize(cluster) },
      })
    }
    return notes
  }

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** What the laws of a model alone are checked against: no cluster, no GPU count. */
export type ModelTarget = Pick<Target, 'model' | 'sequenceLength' | 'redundantExperts'>

const modelLaws = (target: ModelTarget, s: Strategy): ReadonlyArray<Check> => [
  ...attentionLaws(target.model, s),
  ...mlpLaws(target.model, s),
  ...pipelineLaws(target.model, s),
  ...expertLaws(target.model, s, target.redundantExperts ?? 0),
  ...sequenceLaws(target, s),
]

/** The degree laws first; only when every degree is a positive integer, the `laws` (their numbers would mean nothing otherwise). */
const checkAll = (laws: () => ReadonlyArray<Check>, s: Strategy): E.Either<NEA.NonEmptyArray<Violation>, Strategy> => {
  const degrees = pipe([...degreeLaws(s)], A.sequence(Validation))
  if (E.isLeft(degrees)) return degrees
  return pipe(
    [...laws()],
    A.sequence(Validation),
    E.map(() => s),
  )
}

/**
 * Every violation of the laws that concern the model alone: degrees, heads, FFN sizes,
 * layers, experts and sequence, but not the GPU count or the cluster. What a cost model
 * needs before it splits a model, without a cluster at hand.
 */
export const validateForModel =
  (target: ModelTarget) =>
  (s: Strategy): E.Either<NEA.NonEmptyArray<Violation>, Strategy> =>
    checkAll(() => modelLaws(target, s), s)

/** Every violation of `s` against `target`, or `s` with its notes. */
export const validate =
  (target: Target) =>
  (s: Strategy): E.Either<NEA.NonEmptyArray<Violation>, ValidStrategy> =>
    pipe(
      checkAll(() => [...worldLaws(target, s), ...modelLaws(target, s)], s),
      E.map(() => ({ strategy: s, notes: notesOf(target)(s) })),
    )

/** Whether `s` satisfies every law. */
export const isValid =
  (target: Target) =>
  (s: Strategy): boolean =>
    E.isRight(validate(target)(s))
