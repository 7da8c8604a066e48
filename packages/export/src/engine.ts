/**
 * What every engine of an export shares: its identity (name, release, what it runs, its
 * documentation), the reasons it gives for not running a plan as written, the checkpoint
 * a command names, and how a strategy's GPUs fall on the cluster's nodes.
 *
 * @example
 * import { checkpointOf } from '@meshplan/export'
 * import { models } from '@meshplan/model'
 * checkpointOf(models['llama-3.1-70b']) // 'meta-llama/Llama-3.1-70B' (the preset's source)
 * checkpointOf(models['reference-moe']) // '$MODEL_PATH'
 */
import type { Architecture } from '@meshplan/model'
import { isEvenSplit, type Strategy } from '@meshplan/parallelism'
import { devicesPerNode, type Cluster } from '@meshplan/topology'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export type EngineKind = 'serving' | 'training'

/** One release of one engine. */
export interface EngineRelease {
  /** `vllm`, `sglang`, `trtllm`, `megatron`, `torchtitan`. */
  readonly name: string
  readonly version: string
  readonly kind: EngineKind
  /** What the commands run: `vllm serve`, `pretrain_gpt.py`. */
  readonly command: string
  /** The documentation and sources of that release the table was read from. */
  readonly source: string
}

/** Why an engine cannot run (part of) a plan as written. */
export interface Problem {
  /** Kebab-case: `expert-layout`, `context-parallel`, `zero-stage`, ... or a law's code when the plan breaks one. */
  readonly code: string
  /** One sentence, with the numbers and the engine's own terms. */
  readonly message: string
}

/** An estimate, or why there is none. */
export type EstimateOrProblem<A> = { readonly estimate: A } | { readonly problem: string }

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

export const problem = (code: string, message: string): Problem => ({ code, message })

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/**
 * The checkpoint a command loads: the model's name when it is a Hugging Face repository
 * id (`--model ORG/NAME`), else the repository whose `config.json` a preset was read from
 * (its source starts `ORG/NAME config.json`), else the `$MODEL_PATH` placeholder.
 */
export const checkpointOf = (model: Architecture): string => {
  if (/^[\w.-]+\/[\w.-]+$/.test(model.name)) return model.name
  const match = /^([\w.-]+\/[\w.-]+) config\.json/.exec(model.source ?? '')
  return match?.[1] ?? '$MODEL_PATH'
}

/** The problems of the training techniques a serving strategy may carry, which no serving engine runs. */
export const servingOnly = (release: EngineRelease, s: Strategy): ReadonlyArray<Problem> => [
  ...(s.virtualStages > 1
    ? [problem('virtual-stages', `${release.name} ${release.version} runs one pipeline stage per rank; interleaved stages (${s.virtualStages} per rank) are a training schedule`)]
    : []),
  ...(s.sequenceParallel ? [problem('sequence-parallel', `${release.name} ${release.version}: this export maps no Megatron-style sequence parallelism to a serving engine (a training technique)`)] : []),
]

/** The problem of a strategy whose groups of `width` GPUs do not tile the nodes of `cluster` (each group on whole nodes, or several groups per node), if so. */
export const tilingProblem = (release: EngineRelease, cluster: Cluster, width: number, what: string): ReadonlyArray<Problem> => {
  const perNode = devicesPerNode(cluster)
  return width % perNode === 0 || perNode % width === 0
    ? []
    : [problem('placement', `${release.name} ${release.version} places each ${what} on whole nodes or several per node; ${width} GPUs do not tile nodes of ${perNode}`)]
}

/** The problem of an uneven pipeline split an engine cannot take, if `s` has one. */
export const evenSplitOnly = (release: EngineRelease, s: Strategy): ReadonlyArray<Problem> =>
  isEvenSplit(s.pipelineSplit) ? [] : [problem('pipeline-split', `${release.name} ${release.version} splits the layers evenly over the pipeline stages; this export maps no uneven split to it`)]

/** Nodes of `cluster` that `gpus` GPUs take, the last possibly in part. */
export const nodesFor = (cluster: Cluster, gpus: number): number => Math.ceil(gpus / devicesPerNode(cluster))

/** `x` rounded down to two decimals, for the memory fractions the engines take. */
export const fractionDown = (x: number): number => Math.floor(x * 100 + 1e-9) / 100
