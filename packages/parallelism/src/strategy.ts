/**
 * A parallel strategy: how one model is split over a set of GPUs.
 *
 * Semantics follow Megatron-LM's MoE "parallel folding" (Liu et al. 2025, "MoE
 * Parallel Folding", arXiv:2504.14960; Megatron-Core `parallel_state.py`): attention
 * and dense layers use `tp * pp * dp * cp = world`; inside each pipeline stage the
 * MoE layers re-fold the same `tp * dp * cp` GPUs as `ep * etp * edp`, where `edp` is
 * the expert data-parallel degree. Attention data parallelism with expert
 * parallelism across it (the DeepSeek-V3 and SGLang serving layout) is
 * `tp = 1, dp = N, ep = N`.
 *
 * @example
 * import { strategy, worldOf, expertDataParallel, describe } from '@meshplan/parallelism'
 * const s = strategy({ tp: 2, dp: 64, ep: 64, etp: 2 })
 * worldOf(s)            // 128
 * expertDataParallel(s) // 1
 * describe(s)           // 'TP2 DP64 EP64 ETP2'
 * // Llama-3.1-405B's 126 layers over 16 stages: the embedding and the loss count as a layer each, 128 / 16 = 8 per stage
 * describe(strategy({ tp: 8, pp: 16, dp: 4, pipelineSplit: { embeddingInSplit: true, lossInSplit: true } })) // 'TP8 PP16 DP4 (embedding and loss in the split)'
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The integer degrees of a strategy. */
export const degreeNames = ['tp', 'pp', 'dp', 'cp', 'ep', 'etp', 'virtualStages'] as const
export type DegreeName = (typeof degreeNames)[number]

/**
 * How the layers are cut into pipeline stages when the cut is not even (Megatron-Core's
 * uneven split, `transformer_config.py` and `get_num_layers_to_build`): either the first
 * and/or the last stage hold a given number of decoder layers and the rest are split
 * evenly over the stages between (`--decoder-first-pipeline-num-layers`,
 * `--decoder-last-pipeline-num-layers`), or the embedding and/or the loss count as one
 * layer each in an even split, so the first and/or the last stage builds one decoder
 * layer less (`--account-for-embedding-in-pipeline-split`,
 * `--account-for-loss-in-pipeline-split`). Megatron-Core refuses the two kinds together;
 * `validate` says so. Absent: the even split.
 */
export interface PipelineSplit {
  /** Decoder layers on the first pipeline stage (every virtual stage of it together). */
  readonly firstStageLayers?: number
  /** Decoder layers on the last pipeline stage. */
  readonly lastStageLayers?: number
  /** The embedding counts as one layer in the split. */
  readonly embeddingInSplit?: boolean
  /** The output layer and the loss count as one layer in the split. */
  readonly lossInSplit?: boolean
}

/** A parallel strategy. Every degree is a positive integer. */
export interface Strategy {
  /** Tensor parallel degree of attention and dense layers. */
  readonly tp: number
  /** Pipeline parallel degree (stages). */
  readonly pp: number
  /** Data parallel degree of attention and dense layers. */
  readonly dp: number
  /** Context parallel degree (the sequence split across GPUs). */
  readonly cp: number
  /** Expert parallel degree of MoE layers (experts split across GPUs). */
  readonly ep: number
  /** Tensor parallel degree inside each expert. */
  readonly etp: number
  /** Megatron sequence parallelism (norms and dropout split along the sequence over the TP group). */
  readonly sequenceParallel: boolean
  /** Model chunks per pipeline rank (interleaved 1F1B); 1 without interleaving. */
  readonly virtualStages: number
  /** An uneven cut of the layers into stages (absent: the even split). */
  readonly pipelineSplit?: PipelineSplit
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** A strategy from the degrees given; the others are 1 (sequence parallelism off, the even pipeline split). */
export const strategy = (degrees: Partial<Strategy>): Strategy => ({
  tp: degrees.tp ?? 1,
  pp: degrees.pp ?? 1,
  dp: degrees.dp ?? 1,
  cp: degrees.cp ?? 1,
  ep: degrees.ep ?? 1,
  etp: degrees.etp ?? 1,
  sequenceParallel: degrees.sequenceParallel ?? false,
  virtualStages: degrees.virtualStages ?? 1,
  ...(isEvenSplit(degrees.pipelineSplit) ? {} : { pipelineSplit: normalSplit(degrees.pipelineSplit ?? {}) }),
})

/** `split` with only the fields that ask for something (no `false`, no `undefined`), so equal splits are equal objects. */
const normalSplit = (split: PipelineSplit): PipelineSplit => ({
  ...(split.firstStageLayers === undefined ? {} : { firstStageLayers: split.firstStageLayers }),
  ...(split.lastStageLayers === undefined ? {} : { lastStageLayers: split.lastStageLayers }),
  ...(split.embeddingInSplit === true ? { embeddingInSplit: true } : {}),
  ...(split.lossInSplit === true ? { lossInSplit: true } : {}),
})

/** Whether `split` asks for nothing beyond the even split (no layer counts, nothing accounted). */
export const isEvenSplit = (split: PipelineSplit | undefined): boolean =>
  split === undefined ||
  (split.firstStageLayers === undefined && split.lastStageLayers === undefined && split.embeddingInSplit !== true && split.lossInSplit !== true)

/** `s` cut evenly: its pipeline split dropped (what a cost model that sees one stage at a time, or `pp = 1`, asks for). */
export const withEvenSplit = (s: Strategy): Strategy => {
  if (s.pipelineSplit === undefined) return s
  const { pipelineSplit: _split, ...even } = s
  return even
}

/**
 * `s` with the practitioners' default for an MoE model's experts when `etpGiven` is
 * false: with no expert parallelism (`ep` = 1) the experts shard over the
 * tensor-parallel group, `etp = tp`, as vLLM and SGLang do without expert parallelism
 * (every expert's GEMMs split like the dense layers') and as Megatron-Core does
 * (`expert_tensor_parallel_size` defaults to `tensor_model_parallel_size`,
 * `parallel_state.initialize_model_parallel`). With `ep` > 1, or a dense model, or an
 * `etp` given, `s` is unchanged.
 */
export const withExpertDefault = (isMoe: boolean, etpGiven: boolean) => (s: Strategy): Strategy =>
  isMoe && !etpGiven && s.ep === 1 ? { ...s, etp: s.tp } : s

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** GPUs the strategy uses: `tp * pp * dp * cp`. */
export const worldOf = (s: Strategy): number => s.tp * s.pp * s.dp * s.cp

/** GPUs in one pipeline stage: `tp * dp * cp`, re-folded by MoE layers as `ep * etp * edp`. */
export const stageWidth = (s: Strategy): number => s.tp * s.dp * s.cp

/**
 * Expert data-parallel degree `edp = tp * dp * cp / (ep * etp)`: how many copies of
 * each expert shard a stage holds. Not an integer when `ep * etp` does not divide the
 * stage (a violation `validate` reports).
 */
export const expertDataParallel = (s: Strategy): number => stageWidth(s) / (s.ep * s.etp)

/** The pipeline split in a key: empty for the even split, else `-first7-last7`, `-embedding-loss`. */
const splitKey = (split: PipelineSplit | undefined): string =>
  split === undefined
    ? ''
    : `${split.firstStageLayers === undefined ? '' : `-first${split.firstStageLayers}`}${split.lastStageLayers === undefined ? '' : `-last${split.lastStageLayers}`}${split.embeddingInSplit === true ? '-embedding' : ''}${split.lossInSplit === true ? '-loss' : ''}`

/** A stable identifier, e.g. `tp2-pp1-dp64-cp1-ep64-etp2-sp0-vp1` (an uneven split appends `-first7-last7` or `-embedding-loss`). */
export const key = (s: Strategy): string =>
  `tp${s.tp}-pp${s.pp}-dp${s.dp}-cp${s.cp}-ep${s.ep}-etp${s.etp}-sp${s.sequenceParallel ? 1 : 0}-vp${s.virtualStages}${splitKey(s.pipelineSplit)}`

/** An uneven split as practitioners say it: `first 7, last 7 layers`, `embedding and loss in the split`; empty for the even split. */
export const describeSplit = (split: PipelineSplit | undefined): string => {
  if (split === undefined) return ''
  const layers = [
    ...(split.firstStageLayers === undefined ? [] : [`first ${split.firstStageLayers}`]),
    ...(split.lastStageLayers === undefined ? [] : [`last ${split.lastStageLayers}`]),
  ]
  const counted = [...(split.embeddingInSplit === true ? ['embedding'] : []), ...(split.lossInSplit === true ? ['loss'] : [])]
  return [...(layers.length === 0 ? [] : [`${layers.join(', ')} layers`]), ...(counted.length === 0 ? [] : [`${counted.join(' and ')} in the split`])].join('; ')
}

/** The degrees above 1, the way practitioners write them: `TP2 DP64 EP64 ETP2`. */
export const describe = (s: Strategy): string => {
  const parts = [
    ['TP', s.tp],
    ['PP', s.pp],
    ['VP', s.virtualStages],
    ['CP', s.cp],
    ['DP', s.dp],
    ['EP', s.ep],
    ['ETP', s.etp],
  ] as const
  const shown = parts.filter(([, degree]) => degree > 1).map(([name, degree]) => `${name}${degree}`)
  if (s.sequenceParallel) shown.push('SP')
  const split = describeSplit(s.pipelineSplit)
  if (split !== '') shown.push(`(${split})`)
  return shown.length === 0 ? 'single GPU' : shown.join(' ')
}

// -------------------------------------------------------------------------------------
// instances
// -------------------------------------------------------------------------------------

/** Structural equality of strategies. */
export const equals = (a: Strategy, b: Strategy): boolean => key(a) === key(b)
