/**
 * The deployment graph: the modules of one forward step of a model deployed with a
 * parallel strategy on a cluster, each with the GPU groups that run it, and the bytes
 * each hop moves in the step. It is the "deployment DAG" practitioners draw for a
 * plan, built from the algebra (`@meshplan/parallelism`'s layout and placement) rather
 * than by hand, so it cannot claim "1 expert per GPU" where the layout says otherwise.
 *
 * Nodes (`ModuleKind`): `embedding`, `attention` (with its norm), `tp-collective`
 * (the TP all-reduce, or reduce-scatter under sequence parallelism), `mlp` (dense
 * layers), `router`, `dispatch` (the EP all-to-all; a local permute when ep = 1),
 * `experts`, `combine`, `pp-send`, `cp-exchange` and `lm-head` (with the final norm).
 *
 * Grouping keeps large plans readable: the identical layers of a pipeline stage are
 * one chain of nodes labelled with the layer range and count (`layers 1-15 (x15)`),
 * every stage (every model chunk with interleaving) is a chain of its own, and when
 * there are more than 4 the identical middle ones are drawn once (`stages 1-6 (x6)`).
 *
 * Bytes. `GraphEdge.bytesPerStep` is what ONE GPU of the node's group sends or holds on
 * that hop for one data-parallel replica's tokens in the step, once: for an edge
 * inside a chain of layers, once per layer (`perLayer`; `repeats` is the chain's layer
 * count, so `bytesPerStep * repeats` is the step's total on that hop). The edge into a
 * TP collective, a dispatch or a combine, and the edge from a CP exchange to attention,
 * carry the collective's message in the nccl-tests convention (`doc/PERFORMANCE.md`:
 * all-reduce, the buffer reduced; reduce-scatter, all-gather and all-to-all, the whole
 * array of one rank); a PP send carries the buffer sent. Elements are
 * `communicationBytes` of `fast.ts` (the activations' format, at least 16 bits). With T the
 * replica's tokens, `T_held` the ones a GPU holds (`T/cp`, and `/tp` with sequence
 * parallelism), h the hidden size and b those bytes (sources in `graphTransfers`):
 * - hidden states between modules and across pipeline stages: `T_held · h · b`;
 * - a TP all-reduce (or reduce-scatter) message: `T/cp · h · b` per layer;
 * - the EP dispatch all-to-all: `T/cp · (etp/tp) · topK · h · b` (each token reaches the etp shards of its topK
 *   experts), the combine the same; router logits `T_held · experts · b`.
 *
 * @example
 * import * as E from 'fp-ts/Either'
 * import { defaultPrecision, models } from '@meshplan/model'
 * import { layout, strategy } from '@meshplan/parallelism'
 * import { unsafeClusterOf } from '@meshplan/topology'
 * import { deploymentGraph, toMermaid } from '@meshplan/planner'
 *
 * const s = strategy({ tp: 2, dp: 64, ep: 64, etp: 2 })
 * const l = layout(unsafeClusterOf('reference', 16))(s)
 * if (E.isRight(l)) {
 *   const g = deploymentGraph({
 *     model: models['reference-moe'],
 *     strategy: s,
 *     precision: defaultPrecision,
 *     layout: l.right,
 *     step: { phase: 'decode', tokensPerReplica: 32 },
 *   })
 *   console.log(toMermaid(g))
 *   // flowchart TD
 *   // ...
 *   //   L0_tp_attention -->|"top-2 token copies (all-to-all message): 128 KiB per layer (x16 = 2 MiB)"| L0_dispatch
 * }
 */
import { isMoeLayer, type Architecture, type Precision } from '@meshplan/model'
import { kvElementsPerLayer } from '@meshplan/memory'
import {
  describe as describeStrategy,
  layersOfChunk,
  placementOf,
  type GroupKind,
  type GroupSet,
  type Layout,
  type Placement,
  type Strategy,
} from '@meshplan/parallelism'
import type { GroupSpan } from '@meshplan/topology'
import { formatBytes } from '@meshplan/units'
import { communicationBytes, dispatchBytes } from '@meshplan/cost-models'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The modules a graph is made of. */
export const moduleKinds = [
  'embedding',
  'attention',
  'tp-collective',
  'mlp',
  'router',
  'dispatch',
  'experts',
  'combine',
  'pp-send',
  'cp-exchange',
  'lm-head',
] as const
export type ModuleKind = (typeof moduleKinds)[number]

/** The step the graph is drawn for. */
export interface GraphStep {
  readonly phase: 'prefill' | 'decode'
  /** Tokens one data-parallel replica processes in the step (prefill: batch × input tokens; decode: batch). */
  readonly tokensPerReplica: number
}

/** What a graph is drawn from. The layout must be `layout(cluster)(strategy)` of this strategy. */
export interface GraphInput {
  readonly model: Architecture
  readonly strategy: Strategy
  readonly precision: Precision
  readonly layout: Layout
  readonly step: GraphStep
  /** Redundant expert slots per MoE layer (EPLB replicas; default 0): the experts each GPU holds include them. */
  readonly redundantExperts?: number
}

/** A pipeline stage (or a run of identical ones, or a model chunk under interleaving): one subgraph. */
export interface GraphStage {
  /** `stage0`, `stages1_6`, `chunk5`, `chunks1_14`. */
  readonly id: string
  /** `stage 0`, `stages 1-6 (x6)`, `stage 1, model chunk 5`. */
  readonly label: string
  /** `GPUs 0-127 (128)`. */
  readonly gpus: string
}

/** A module, on the GPU groups that run it. */
export interface GraphNode {
  /** A Mermaid and Graphviz identifier: letters, digits and `_`. */
  readonly id: string
  readonly module: ModuleKind
  readonly label: string
  /** `layers 0-15 (x16)` for a node of a chain of layers; `''` otherwise. */
  readonly layers: string
  /** Layers the node stands for (the `x16` of `layers`); 0 outside the layers. */
  readonly layerCount: number
  /** The groups, e.g. `64 TP groups of 2: {0,1}, {2,3}, …, {126,127}; each inside 1 node`. */
  readonly gpus: string
  /** The `GraphStage.id` of the subgraph holding the node; null between stages (`pp-send`). */
  readonly stage: string | null
  /** The layout's group kind the node runs on, with the groups' size and how many there are. */
  readonly groupKind?: GroupKind
  readonly groupSize?: number
  readonly groups?: number
}

/** Data moved from one module to the next (see the module doc for the byte convention). */
export interface GraphEdge {
  readonly from: string
  readonly to: string
  /** Bytes one GPU sends or holds on this hop for one replica's step, once (once per layer when `perLayer`). */
  readonly bytesPerStep: number
  /** The hop happens in every layer of its chain. */
  readonly perLayer: boolean
  /** How many times the hop happens in the step: the chain's layer count when `perLayer`, else 1. */
  readonly repeats: number
  /** What moves, its size, and `per layer (x16 = total)` when per layer. */
  readonly label: string
}

/** A deployment graph. */
export interface DeploymentGraph {
  readonly title: string
  readonly stages: ReadonlyArray<GraphStage>
  readonly nodes: ReadonlyArray<GraphNode>
  readonly edges: ReadonlyArray<GraphEdge>
  /** Facts a reader of the drawing needs: the byte convention, replicas, assumptions. */
  readonly notes: ReadonlyArray<string>
}

/**
 * The JSON form (`toJson`), version `meshplan-dag/1`: `{ format, title, stages: [{ id,
 * label, gpus }], nodes: [{ id, module, label, layers, layerCount, gpus, stage,
 * groupKind?, groupSize?, groups? }], edges: [{ from, to, bytesPerStep, perLayer,
 * repeats, label }], notes: [string] }`, keys in that order, arrays in graph order.
 */
export interface DeploymentGraphJson {
  readonly format: 'meshplan-dag/1'
  readonly title: string
  readonly stages: ReadonlyArray<GraphStage>
  readonly nodes: ReadonlyArray<GraphNode>
  readonly edges: ReadonlyArray<GraphEdge>
  readonly notes: ReadonlyArray<string>
}

/** The per-GPU bytes of one replica's step that the graph's edges carry. */
export interface GraphTransfers {
  /** Bytes per element on the wire: `communicationBytes(precision)` of `fast.ts` (the activations' format, at least 16 bits). */
  readonly elementBytes: number
  /** Tokens of the replica one GPU holds between modules: `T / cp`, and `/ tp` with sequence parallelism. */
  readonly tokensHeld: number
  /** Hidden states one GPU holds: `tokensHeld · h · b`. */
  readonly hiddenStates: number
  /** A TP all-reduce (or reduce-scatter) message: `T/cp · h · b`. */
  readonly tpMessage: number
  /** Router logits: `tokensHeld · experts · b` (0 for a dense model). */
  readonly routerLogits: number
  /** The EP dispatch (and combine) all-to-all message: `tokensHeld · topK · h · b` (0 for a dense model). */
  readonly dispatch: number
  /** The CP exchange message of one layer (0 when cp = 1). */
  readonly cpExchange: number
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * The bytes per GPU of one replica's step (T tokens, hidden h, b bytes per element):
 * - hidden states `T/cp · h · b`, divided by `tp` with sequence parallelism, where the
 *   norms and the residual stream are split along the sequence over the TP group
 *   (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer
 *   Models", section 4.2.2); context parallelism splits the sequence over cp.
 * - TP: the all-reduce after attention and after the MLP reduces the layer output,
 *   `T/cp · h · b` (Shoeybi et al. 2019, "Megatron-LM", section 3); with sequence
 *   parallelism it is a reduce-scatter of the same array (nccl-tests message size).
 * - EP: the dispatch all-to-all sends `dispatchBytes` of `fast.ts`, the estimator's own
 *   formula, and the combine returns as much. With etp = tp every GPU of a TP group
 *   dispatches its copy of the tokens within its own EP group, and the partial outputs
 *   of an expert's shards are summed by the TP all-reduce after the block.
 * - Router logits: `tokensHeld · experts · b` (one score per token and expert).
 * - CP, prefill: the keys and values of each layer go around the ring, an all-gather
 *   of `T · kvElements · b` with `kvElementsPerLayer` of `@meshplan/memory` (Liu et al.
 *   2023, "Ring Attention with Blockwise Transformers"); decode: the partial attention
 *   outputs of the ranks holding parts of the cache are merged, an all-reduce of
 *   `T · h/tp · b` (Dao et al. 2023, "Flash-Decoding for long-context inference").
 * - PP: a stage sends its output hidden states (Narayanan et al. 2021, "Efficient
 *   Large-Scale Language Model Training on GPU Clusters", section 4.1).
 */
export const graphTransfers = (input: GraphInput): GraphTransfers => {
  const { model, strategy: s, precision, step } = input
  const b = communicationBytes(precision)
  const h = model.hidden
  const T = step.tokensPerReplica
  const tokensPerCpRank = T / s.cp
  const tokensHeld = s.sequenceParallel ? tokensPerCpRank / s.tp : tokensPerCpRank
  const moe = model.moe
  const cpExchange =
    s.cp === 1 ? 0 : step.phase === 'prefill' ? T * kvElementsPerLayer(model)(s.tp) * b : (T * h * b) / s.tp
  return {
    elementBytes: b,
    tokensHeld,
    hiddenStates: tokensHeld * h * b,
    tpMessage: tokensPerCpRank * h * b,
    routerLogits: moe === undefined ? 0 : tokensHeld * moe.experts * b,
    dispatch: moe === undefined ? 0 : dispatchBytes(s, moe.topK, h, b, T),
    cpExchange,
  }
}

/** More pipeline chains than this and the identical middle ones are drawn once. */
const maxStageChains = 4

/**
 * The deployment graph of `input`: embedding, one chain of nodes per run of identical
 * layers in each stage, PP sends between stages, LM head. Assumes the strategy is
 * valid for the model (`validate`) and the layout is this strategy's.
 */
export const deploymentGraph = (input: GraphInput): DeploymentGraph => {
  const { model, strategy: s, layout: l, step } = input
  const sizes = graphTransfers(input)
  const moeAt = isMoeLayer(model)
  const place = placementOf(model, s, l, input.redundantExperts ?? 0)
  const stageOfRank = (rank: number): number => l.coordinates(rank).pp
  const firstRankOf = (stage: number): number => {
    for (let rank = 0; rank < l.world; rank++) if (stageOfRank(rank) === stage) return rank
    return 0
  }

  const stages: GraphStage[] = []
  const nodes: GraphNode[] = []
  const edges: GraphEdge[] = []
  const notes: string[] = []

  const on = (kind: GroupKind, stageSet: ReadonlySet<number>) => groupFields(l.groups[kind], kind === 'pp' ? null : stageSet, stageOfRank)
  const link = (from: string, to: string, what: string, bytesPerStep: number, layerCount: number): void => {
    const perLayer = layerCount > 0
    const repeats = perLayer ? layerCount : 1
    const size = formatBytes({ binary: true })(bytesPerStep)
    const total = perLayer ? ` per layer (x${repeats} = ${formatBytes({ binary: true })(bytesPerStep * repeats)})` : ''
    edges.push({ from, to, bytesPerStep, perLayer, repeats, label: `${what}: ${size}${total}` })
  }
  const hidden = s.sequenceParallel ? 'hidden states (sequence-split)' : 'hidden states'
  const tpIn = s.sequenceParallel ? 'partial sums (reduce-scatter message)' : 'partial sums (all-reduce message)'

  const runs = groupRuns(segmentsOf(model, s), moeAt)
  const lastRun = runs[runs.length - 1]
  // the node the next module reads its hidden states from
  let exit: string | null = null

  runs.forEach((run, runIndex) => {
    const stageSet = new Set(run.map((segment) => segment.stage))
    const stage = stageOf(run, s, l.world, stageOfRank)
    stages.push(stage)
    const p = place(firstRankOf(run[0]?.stage ?? 0))

    if (runIndex === 0) {
      nodes.push({
        id: 'embedding',
        module: 'embedding',
        label: `Embedding (vocab ${model.vocab}${s.tp > 1 ? `, ${p.vocabRows} rows per GPU` : ''})`,
        layers: '',
        layerCount: 0,
        stage: stage.id,
        ...on('tp', stageSet),
      })
      exit = 'embedding'
      if (s.tp > 1) {
        // Megatron's VocabParallelEmbedding: each rank looks up its rows, then the partial embeddings are summed over TP
        nodes.push({
          id: 'embedding_tp',
          module: 'tp-collective',
          label: `${collectiveName(s)} after the vocabulary-parallel embedding`,
          layers: '',
          layerCount: 0,
          stage: stage.id,
          ...on('tp', stageSet),
        })
        link('embedding', 'embedding_tp', tpIn, sizes.tpMessage, 0)
        exit = 'embedding_tp'
      }
    } else {
      const previous = runs[runIndex - 1]
      const from = previous?.[previous.length - 1]
      const to = run[0]
      if (from !== undefined && to !== undefined && exit !== null) {
        const id = `pp_send_${from.chunk}_${to.chunk}`
        const where = s.virtualStages > 1 ? `stage ${from.stage} → stage ${to.stage} (chunk ${from.chunk} → ${to.chunk})` : `stage ${from.stage} → stage ${to.stage}`
        nodes.push({ id, module: 'pp-send', label: `PP send/recv: ${where}`, layers: '', layerCount: 0, stage: null, ...on('pp', stageSet) })
        link(exit, id, hidden, sizes.hiddenStates, 0)
        exit = id
      }
    }

    for (const block of blocksOf(run, moeAt)) {
      const first = block.layers[0] ?? 0
      const id = (part: string) => `L${first}_${part}`
      const count = block.layers.length
      const layers = layerText(block.layers, run.length, s.virtualStages > 1 ? 'chunk' : 'stage')
      const at = (module: ModuleKind, part: string, label: string, kind: GroupKind): string => {
        nodes.push({ id: id(part), module, label, layers, layerCount: count, stage: stage.id, ...on(kind, stageSet) })
        return id(part)
      }
      const enter = (to: string, what: string, bytes: number, perLayer: boolean) => {
        if (exit !== null) link(exit, to, what, bytes, perLayer ? count : 0)
      }

      // attention, behind the CP exchange when the sequence is split
      let attention: string
      if (s.cp > 1) {
        const cp = at(
          'cp-exchange',
          'cp_exchange',
          step.phase === 'prefill' ? `CP ring exchange of keys and values (cp ${s.cp})` : `CP merge of partial attention outputs (cp ${s.cp})`,
          'cp',
        )
        enter(cp, hidden, sizes.hiddenStates, false)
        attention = at('attention', 'attention', attentionLabel(model, p), 'tp')
        link(cp, attention, step.phase === 'prefill' ? 'keys and values (all-gather message)' : 'partial outputs (all-reduce message)', sizes.cpExchange, count)
      } else {
        attention = at('attention', 'attention', attentionLabel(model, p), 'tp')
        enter(attention, hidden, sizes.hiddenStates, false)
      }
      let afterAttention = attention
      if (s.tp > 1) {
        afterAttention = at('tp-collective', 'tp_attention', `${collectiveName(s)} after attention`, 'tp')
        link(attention, afterAttention, tpIn, sizes.tpMessage, count)
      }

      const moe = model.moe
      if (block.moe && moe !== undefined) {
        const router = at('router', 'router', `Norm + router (top-${moe.topK} of ${moe.experts} experts)`, 'tp')
        const dispatch = at(
          'dispatch',
          'dispatch',
          s.ep > 1 ? `EP all-to-all dispatch (each token to its top-${moe.topK} experts)` : 'Local permute to the experts (ep 1: no all-to-all)',
          'ep',
        )
        const experts = at('experts', 'experts', expertsLabel(model, s, p, input.redundantExperts ?? 0), 'etp-ep')
        const combine = at(
          'combine',
          'combine',
          s.ep > 1 ? `EP all-to-all combine (top-${moe.topK} outputs back, weighted sum)` : 'Local un-permute and weighted sum',
          'ep',
        )
        link(afterAttention, router, hidden, sizes.hiddenStates, count)
        link(router, dispatch, 'router logits', sizes.routerLogits, count)
        link(afterAttention, dispatch, `top-${moe.topK} token copies (all-to-all message)`, sizes.dispatch, count)
        link(dispatch, experts, 'tokens received (balanced routing)', sizes.dispatch, count)
        link(experts, combine, 'expert outputs (all-to-all message)', sizes.dispatch, count)
        exit = combine
        // without SP the expert-TP shards' partial outputs meet again in a TP all-reduce (see graphTransfers)
        if (s.tp > 1 && !s.sequenceParallel && s.etp > 1) {
          const tp = at('tp-collective', 'tp_moe', 'TP all-reduce after the MoE block (sums the expert-TP partial outputs)', 'tp')
          link(combine, tp, tpIn, sizes.tpMessage, count)
          exit = tp
        }
      } else {
        const mlp = at('mlp', 'mlp', mlpLabel(model, s), 'tp')
        link(afterAttention, mlp, hidden, sizes.hiddenStates, count)
        exit = mlp
        if (s.tp > 1) {
          const tp = at('tp-collective', 'tp_mlp', `${collectiveName(s)} after the MLP`, 'tp')
          link(mlp, tp, tpIn, sizes.tpMessage, count)
          exit = tp
        }
      }
    }

    if (run === lastRun) {
      const vocab = s.tp > 1 ? `, ${p.vocabRows} rows per GPU` : ''
      nodes.push({ id: 'lm_head', module: 'lm-head', label: `Final norm + LM head (vocab ${model.vocab}${vocab})`, layers: '', layerCount: 0, stage: stage.id, ...on('tp', stageSet) })
      if (exit !== null) link(exit, 'lm_head', hidden, sizes.hiddenStates, 0)
    }
  })

  // notes: the byte convention first, then what the reader would otherwise have to work out
  const b = sizes.elementBytes
  notes.push(
    `Edge bytes are per GPU for one data-parallel replica's ${step.tokensPerReplica} tokens in a ${step.phase} step, ` +
      `activations in ${input.precision.activations} (${b} byte${b === 1 ? '' : 's'} per element); "per layer (xN = total)" marks hops repeated in every layer of a chain. ` +
      'The edge into a collective (from it, for the CP exchange) carries its message in the nccl-tests convention.',
  )
  if (s.dp > 1) notes.push(`${s.dp} data-parallel replicas run this graph side by side on their own TP groups; bytes are for one of them.`)
  const moe = model.moe
  if (moe !== undefined) {
    const p = place(0)
    const share = s.etp === 1 ? 'whole' : `1/${s.etp} of each`
    notes.push(
      `Each GPU holds ${p.experts.perLayer} of the ${moe.experts} routed experts of every MoE layer it runs, ${share}: ` +
        `${p.experts.shards} expert shard${p.experts.shards === 1 ? '' : 's'} over its ${p.moeLayers} MoE layers, ` +
        `the parameters of ${p.experts.wholeEquivalent} whole expert${p.experts.wholeEquivalent === 1 ? '' : 's'}.`,
    )
    if (s.tp > 1 && !s.sequenceParallel && s.etp === 1) {
      notes.push(
        `tp ${s.tp} without sequence parallelism and etp 1: every GPU of a TP group dispatches its copy of the replica's tokens, ` +
          'so each expert sees each token tp times unless the engine splits the tokens over the TP group first (Megatron-Core requires sequence parallelism with TP and EP in training).',
      )
    }
  }
  if (s.sequenceParallel) {
    notes.push('Sequence parallelism: each TP collective is a reduce-scatter; attention and the MLP all-gather their sequence-split input first, a message of the same size (Korthikanti et al. 2022, section 4.2.2).')
  }
  if (s.pp > 1) {
    const sends = s.pp * s.virtualStages - 1
    const drawn = runs.length - 1
    notes.push(
      `PP: ${sends} send${sends === 1 ? '' : 's'} along each pipeline per step, ${drawn} drawn` +
        (sends > drawn ? ` (the other ${sends - drawn} are between the grouped stages)` : '') +
        `; Megatron's scatter/gather optimisation sends 1/tp of each per GPU and all-gathers it in the next stage (Narayanan et al. 2021, section 4.1).`,
    )
  }
  if (runs.some((run) => isInterleaved(run, moeAt))) {
    notes.push('Dense and MoE layers alternate within a stage; each kind is drawn as one chain, the layer list says which layers it stands for.')
  }

  const title = `${model.name}: ${describeStrategy(s)} on ${l.world} GPUs, ${step.phase} step of ${step.tokensPerReplica} tokens per replica`
  return { title, stages, nodes, edges, notes }
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const collectiveModules: ReadonlyArray<ModuleKind> = ['tp-collective', 'dispatch', 'combine', 'pp-send', 'cp-exchange']

/** The lines of a node's box: label, layers, GPUs. */
const nodeLines = (node: GraphNode): ReadonlyArray<string> => [node.label, node.layers, node.gpus].filter((line) => line !== '')

/**
 * Mermaid `flowchart TD` text: a subgraph per stage, collectives as hexagons, every edge
 * labelled with its bytes. Labels are quoted, with `"` `<` `>` as Mermaid entity codes.
 */
export const toMermaid = (g: DeploymentGraph): string => {
  const text = (s: string) => s.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;')
  const box = (node: GraphNode): string => {
    const label = `"${nodeLines(node).map(text).join('<br/>')}"`
    return collectiveModules.includes(node.module) ? `${node.id}{{${label}}}` : `${node.id}[${label}]`
  }
  const lines = ['flowchart TD', `  %% ${g.title.replace(/[\r\n]+/g, ' ')}`]
  for (const stage of g.stages) {
    lines.push(`  subgraph ${stage.id}["${text(`${stage.label} · ${stage.gpus}`)}"]`, '    direction TB')
    for (const node of g.nodes) if (node.stage === stage.id) lines.push(`    ${box(node)}`)
    lines.push('  end')
  }
  for (const node of g.nodes) if (node.stage === null) lines.push(`  ${box(node)}`)
  for (const edge of g.edges) lines.push(`  ${edge.from} -->|"${text(edge.label)}"| ${edge.to}`)
  return lines.join('\n')
}

/**
 * Graphviz `digraph` text: a `cluster_` subgraph per stage, collectives rounded, every
 * edge labelled with its bytes. Strings are quoted with `\` and `"` escaped and line
 * breaks as `\n`.
 */
export const toDot = (g: DeploymentGraph): string => {
  const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`
  const box = (node: GraphNode): string => {
    const style = collectiveModules.includes(node.module) ? ', style=rounded' : ''
    return `${node.id} [label=${quote(nodeLines(node).join('\n'))}${style}];`
  }
  const lines = [
    'digraph deployment {',
    `  label=${quote(g.title)};`,
    '  labelloc=t;',
    '  rankdir=TB;',
    '  node [shape=box, fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ]
  for (const stage of g.stages) {
    lines.push(`  subgraph cluster_${stage.id} {`, `    label=${quote(`${stage.label} · ${stage.gpus}`)};`)
    for (const node of g.nodes) if (node.stage === stage.id) lines.push(`    ${box(node)}`)
    lines.push('  }')
  }
  for (const node of g.nodes) if (node.stage === null) lines.push(`  ${box(node)}`)
  for (const edge of g.edges) lines.push(`  ${edge.from} -> ${edge.to} [label=${quote(edge.label)}];`)
  lines.push('}')
  return lines.join('\n')
}

/** The graph as plain JSON data in the `meshplan-dag/1` shape (see `DeploymentGraphJson`). */
export const toJson = (g: DeploymentGraph): DeploymentGraphJson => ({
  format: 'meshplan-dag/1',
  title: g.title,
  stages: g.stages.map((stage) => ({ id: stage.id, label: stage.label, gpus: stage.gpus })),
  nodes: g.nodes.map((node) => ({
    id: node.id,
    module: node.module,
    label: node.label,
    layers: node.layers,
    layerCount: node.layerCount,
    gpus: node.gpus,
    stage: node.stage,
    ...(node.groupKind === undefined ? {} : { groupKind: node.groupKind }),
    ...(node.groupSize === undefined ? {} : { groupSize: node.groupSize }),
    ...(node.groups === undefined ? {} : { groups: node.groups }),
  })),
  edges: g.edges.map((edge) => ({
    from: edge.from,
    to: edge.to,
    bytesPerStep: edge.bytesPerStep,
    perLayer: edge.perLayer,
    repeats: edge.repeats,
    label: edge.label,
  })),
  notes: [...g.notes],
})

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** A model chunk: the layers one pipeline stage runs contiguously (a whole stage without interleaving). */
interface Segment {
  readonly chunk: number
  readonly stage: number
  readonly layers: ReadonlyArray<number>
}

/** Consecutive segments drawn as one chain (one segment, or identical middle ones). */
type Run = ReadonlyArray<Segment>

/** A chain of nodes: layers of one kind, at the same positions in every segment of a run. */
interface Block {
  readonly moe: boolean
  readonly layers: ReadonlyArray<number>
}

/** The chunks in forward order: chunk c runs on stage c mod pp (Megatron's interleaved schedule, via `layersOfChunk`). */
const segmentsOf = (model: Architecture, s: Strategy): ReadonlyArray<Segment> =>
  // chunk by chunk as the placement cuts them: equal, or uneven with a pipeline split
  Array.from({ length: s.pp * s.virtualStages }, (_, chunk) => {
    const stage = chunk % s.pp
    const round = Math.floor(chunk / s.pp)
    return { chunk, stage, layers: layersOfChunk(model, s)(stage, round) }
  })

const signature = (segment: Segment, moeAt: (layer: number) => boolean): string => segment.layers.map((layer) => (moeAt(layer) ? 'm' : 'd')).join('')

/**
 * Segments into runs: each its own, except that with more than `maxStageChains`
 * the consecutive middle segments of the same layer pattern share one run (the first
 * holds the embedding and the last the LM head, so they stay apart).
 */
const groupRuns = (segments: ReadonlyArray<Segment>, moeAt: (layer: number) => boolean): ReadonlyArray<Run> => {
  if (segments.length <= maxStageChains) return segments.map((segment) => [segment])
  const isMiddle = (segment: Segment) => segment.chunk > 0 && segment.chunk < segments.length - 1
  const runs: Segment[][] = []
  for (const segment of segments) {
    const current = runs[runs.length - 1]
    const previous = current?.[current.length - 1]
    const joins =
      current !== undefined &&
      previous !== undefined &&
      isMiddle(previous) &&
      isMiddle(segment) &&
      signature(previous, moeAt) === signature(segment, moeAt)
    if (joins) current.push(segment)
    else runs.push([segment])
  }
  return runs
}

/** Runs of consecutive layers of one kind in a segment, as positions. */
const kindRuns = (segment: Segment, moeAt: (layer: number) => boolean): ReadonlyArray<{ moe: boolean; positions: number[] }> => {
  const runs: { moe: boolean; positions: number[] }[] = []
  segment.layers.forEach((layer, position) => {
    const moe = moeAt(layer)
    const last = runs[runs.length - 1]
    if (last !== undefined && last.moe === moe) last.positions.push(position)
    else runs.push({ moe, positions: [position] })
  })
  return runs
}

/** Whether a kind of layer comes back after another kind within the run's segments (Qwen's `decoder_sparse_step`). */
const isInterleaved = (run: Run, moeAt: (layer: number) => boolean): boolean => {
  const first = run[0]
  if (first === undefined) return false
  const runs = kindRuns(first, moeAt)
  return runs.length > new Set(runs.map((r) => r.moe)).size
}

/**
 * The chains of a run: contiguous layers of one kind in order (a dense prefix, then
 * the MoE layers), or one chain per kind when the kinds alternate.
 */
const blocksOf = (run: Run, moeAt: (layer: number) => boolean): ReadonlyArray<Block> => {
  const first = run[0]
  if (first === undefined) return []
  const runs = kindRuns(first, moeAt)
  const pattern: ReadonlyArray<{ moe: boolean; positions: ReadonlyArray<number> }> = isInterleaved(run, moeAt)
    ? [...new Set(runs.map((r) => r.moe))].map((moe) => ({ moe, positions: runs.filter((r) => r.moe === moe).flatMap((r) => r.positions) }))
    : runs
  return pattern.map(({ moe, positions }) => ({
    moe,
    layers: run
      .flatMap((segment) => positions.map((position) => segment.layers[position]))
      .filter((layer): layer is number => layer !== undefined)
      .sort((a, b) => a - b),
  }))
}

/** `[0, 1, 2, 3, 8, 9]` -> `'0-3, 8-9'` (as `ranges` of the CLI's table module, which no package exports). */
const ranges = (values: ReadonlyArray<number>): string => {
  const parts: string[] = []
  let start: number | undefined
  let previous: number | undefined
  for (const v of values) {
    if (start === undefined || previous === undefined) start = v
    else if (v !== previous + 1) {
      parts.push(start === previous ? `${start}` : `${start}-${previous}`)
      start = v
    }
    previous = v
  }
  if (start !== undefined && previous !== undefined) parts.push(start === previous ? `${start}` : `${start}-${previous}`)
  return parts.join(', ')
}

/** `ranges`, with at most the first two parts and the last. */
const shortRanges = (values: ReadonlyArray<number>): string => {
  const parts = ranges(values).split(', ')
  return parts.length <= 3 ? parts.join(', ') : `${parts.slice(0, 2).join(', ')}, …, ${parts[parts.length - 1]}`
}

/** `layers 1-15 (x15)`; over grouped segments `layers 10-69 (x60, 10 per stage)`. */
const layerText = (layers: ReadonlyArray<number>, segments: number, unit: string): string => {
  const noun = layers.length === 1 ? 'layer' : 'layers'
  const per = segments > 1 ? `, ${layers.length / segments} per ${unit}` : ''
  return `${noun} ${shortRanges(layers)} (x${layers.length}${per})`
}

/** The subgraph of a run: which stages (or chunks) and which GPUs. */
const stageOf = (run: Run, s: Strategy, world: number, stageOfRank: (rank: number) => number): GraphStage => {
  const first = run[0]
  const last = run[run.length - 1]
  const a = first?.chunk ?? 0
  const z = last?.chunk ?? 0
  const stageSet = new Set(run.map((segment) => segment.stage))
  const gpus: number[] = []
  for (let rank = 0; rank < world; rank++) if (stageSet.has(stageOfRank(rank))) gpus.push(rank)
  const gpuText = `GPUs ${shortRanges(gpus)} (${gpus.length})`
  if (s.virtualStages === 1) {
    return run.length === 1
      ? { id: `stage${a}`, label: `stage ${a}`, gpus: gpuText }
      : { id: `stages${a}_${z}`, label: `stages ${a}-${z} (x${run.length})`, gpus: gpuText }
  }
  return run.length === 1
    ? { id: `chunk${a}`, label: `stage ${first?.stage ?? 0}, model chunk ${a}`, gpus: gpuText }
    : { id: `chunks${a}_${z}`, label: `model chunks ${a}-${z} (x${run.length}) on stages ${ranges([...stageSet].sort((x, y) => x - y))}`, gpus: gpuText }
}

/** `{0,1}`; above four ranks `{0,2,4,…,126}`. */
const rankSet = (ranks: ReadonlyArray<number>): string =>
  ranks.length <= 4 ? `{${ranks.join(',')}}` : `{${ranks.slice(0, 3).join(',')},…,${ranks[ranks.length - 1]}}`

/**
 * How a group lies on the cluster, from the tier names the span carries: `each inside
 * 1 node`, or `widest: 4 per node x 16 nodes, across the network` (the wording of
 * `describeSpan` of @meshplan/topology, which needs the whole cluster for the names).
 */
const reach = (span: GroupSpan): string => {
  const unit = (level: number): string => span.levels[level]?.tier ?? 'unit'
  if (span.outermost <= 0) return `each inside 1 ${unit(0)}`
  const parts = span.levels.slice(0, span.outermost + 1).map((level, index) => {
    if (index === 0) return `${level.width} per ${unit(0)}`
    const units = `${level.width} ${unit(index - 1)}${level.width === 1 ? '' : 's'}`
    return `${units}${index < span.outermost ? ` per ${unit(index)}` : ''}`
  })
  return `widest: ${parts.join(' x ')}, across the ${unit(span.outermost)}${span.regular ? '' : ' (irregular)'}`
}

/**
 * The groups of `set` in the given stages (all of them for `null`), described: `64 TP
 * groups of 2: {0,1}, {2,3}, …, {126,127}; each inside 1 node`.
 */
const groupFields = (
  set: GroupSet,
  stageSet: ReadonlySet<number> | null,
  stageOfRank: (rank: number) => number,
): { readonly gpus: string; readonly groupKind: GroupKind; readonly groupSize: number; readonly groups: number } => {
  const groups = set.groups.filter((group) => stageSet === null || (group[0] !== undefined && stageSet.has(stageOfRank(group[0]))))
  const first = groups[0]
  const second = groups[1]
  const last = groups[groups.length - 1]
  const shown =
    groups.length <= 3 || first === undefined || second === undefined || last === undefined
      ? groups.map(rankSet).join(', ')
      : `${rankSet(first)}, ${rankSet(second)}, …, ${rankSet(last)}`
  const name = set.kind.toUpperCase()
  const gpus =
    set.size === 1
      ? `${groups.length} GPU${groups.length === 1 ? '' : 's'}, each on its own (${name} 1): ${shown.replace(/[{}]/g, '')}`
      : `${groups.length} ${name} group${groups.length === 1 ? '' : 's'} of ${set.size}: ${shown}; ${reach(set.widest)}`
  return { gpus, groupKind: set.kind, groupSize: set.size, groups: groups.length }
}

const collectiveName = (s: Strategy): string => (s.sequenceParallel ? 'TP reduce-scatter' : 'TP all-reduce')

const attentionLabel = (model: Architecture, p: Placement): string => {
  const a = model.attention
  if (a.kind === 'mla') return `Norm + MLA attention (${a.heads} heads, ${p.attentionHeads} per GPU; latent KV ${a.kvLoraRank}+${a.qkRopeHeadDim})`
  return `Norm + self-attention (${a.kind.toUpperCase()}, ${a.heads} heads, ${p.attentionHeads} per GPU; ${p.kvHeads} KV head${p.kvHeads === 1 ? '' : 's'} per GPU)`
}

const mlpLabel = (model: Architecture, s: Strategy): string =>
  `Norm + MLP (${model.mlp.kind === 'swiglu' ? 'SwiGLU' : model.mlp.kind === 'geglu' ? 'GeGLU' : 'GELU'}, FFN ${model.mlp.ffn}${s.tp > 1 ? `, ${model.mlp.ffn / s.tp} per GPU` : ''})`

const expertsLabel = (model: Architecture, s: Strategy, p: Placement, redundant: number): string => {
  const moe = model.moe
  if (moe === undefined) return 'Experts'
  const share = s.etp === 1 ? 'whole' : `1/${s.etp} of each (ETP ${s.etp})`
  const shared =
    moe.sharedExperts > 0 ? ` + ${moe.sharedExperts} shared expert${moe.sharedExperts === 1 ? '' : 's'} on every GPU${s.tp > 1 ? ', split over TP' : ''}` : ''
  // with redundant slots (EPLB) a GPU holds slots, some of them replicas of experts other GPUs hold too
  const held = redundant > 0 ? `${p.experts.perLayer} slots of ${moe.experts + redundant} (${moe.experts} routed + ${redundant} redundant)` : `${p.experts.perLayer} of ${moe.experts}`
  return `Experts: ${held} per GPU per layer, ${share}${shared}`
}

/** One pool of a disaggregated deployment, for {@link disaggregatedGraph}: one instance's graph input and how many instances run. */
export interface PoolGraphInput extends GraphInput {
  readonly instances: number
}

/**
 * The graph of a disaggregated deployment: the prefill pool's instance drawn for its
 * prefill step, the decode pool's for its decode step, each as {@link deploymentGraph}
 * draws one deployment (ids prefixed `P_` and `D_`), joined by the KV cache of one
 * request moving from the prefill instance's LM head (the prompt is done) to the decode
 * instance's embedding (its first token). `kvBytesPerRequest` is the whole request's
 * cache over the link between the pools (@meshplan/inference's estimate of the
 * transfer), not per GPU: every prefill GPU sends its share.
 */
export const disaggregatedGraph = (prefill: PoolGraphInput, decode: PoolGraphInput, kvBytesPerRequest: number, link: string): DeploymentGraph => {
  const pools = [
    { role: 'prefill', prefix: 'P_', pool: prefill, graph: deploymentGraph(prefill) },
    { role: 'decode', prefix: 'D_', pool: decode, graph: deploymentGraph(decode) },
  ] as const
  const stages: GraphStage[] = []
  const nodes: GraphNode[] = []
  const edges: GraphEdge[] = []
  const notes: string[] = []
  for (const { role, prefix, pool, graph } of pools) {
    const header = `${role} pool (${pool.instances} instance${pool.instances === 1 ? '' : 's'} of ${describeStrategy(pool.strategy)})`
    stages.push(...graph.stages.map((st) => ({ ...st, id: `${prefix}${st.id}`, label: `${header}: ${st.label}` })))
    nodes.push(...graph.nodes.map((n) => ({ ...n, id: `${prefix}${n.id}`, stage: n.stage === null ? null : `${prefix}${n.stage}` })))
    edges.push(...graph.edges.map((e) => ({ ...e, from: `${prefix}${e.from}`, to: `${prefix}${e.to}` })))
    notes.push(`${header}: ${graph.title}`, ...graph.notes.map((n) => `${role}: ${n}`))
  }
  const from = nodes.find((n) => n.id.startsWith('P_') && n.module === 'lm-head') ?? nodes.filter((n) => n.id.startsWith('P_')).at(-1)
  const to = nodes.find((n) => n.id.startsWith('D_') && n.module === 'embedding') ?? nodes.find((n) => n.id.startsWith('D_'))
  if (from !== undefined && to !== undefined)
    edges.push({ from: from.id, to: to.id, bytesPerStep: kvBytesPerRequest, perLayer: false, repeats: 1, label: `KV cache of one request, prefill to decode: ${formatBytes({ binary: true })(kvBytesPerRequest)} over ${link}` })
  notes.push('The edge between the pools carries one whole request\'s KV cache (every prefill GPU sends its share), not the bytes of one GPU.')
  const title = `${prefill.model.name}: disaggregated, prefill ${prefill.instances} x ${describeStrategy(prefill.strategy)}, decode ${decode.instances} x ${describeStrategy(decode.strategy)}`
  return { title, stages, nodes, edges, notes }
}
