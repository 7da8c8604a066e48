import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { defaultPrecision, models, type Architecture } from '@meshplan/model'
import { divisors, layout, strategy, validate, type Strategy } from '@meshplan/parallelism'
import { unsafeClusterOf, type Cluster } from '@meshplan/topology'
import {
  deploymentGraph,
  graphTransfers,
  moduleKinds,
  toDot,
  toJson,
  toMermaid,
  type DeploymentGraph,
  type GraphEdge,
  type GraphInput,
  type GraphNode,
  type GraphStep,
  type ModuleKind,
} from '../src/dag'

// -------------------------------------------------------------------------------------
// fixtures
// -------------------------------------------------------------------------------------

const decode32: GraphStep = { phase: 'decode', tokensPerReplica: 32 }

const inputOf = (model: Architecture, cluster: Cluster, s: Strategy, step: GraphStep): GraphInput => {
  const laid = layout(cluster)(s)
  if (E.isLeft(laid)) throw new Error(laid.left.message)
  return { model, strategy: s, precision: defaultPrecision, layout: laid.right, step }
}

const graphOf = (model: Architecture, cluster: Cluster, s: Strategy, step: GraphStep = decode32): DeploymentGraph =>
  deploymentGraph(inputOf(model, cluster, s, step))

const referenceCluster = unsafeClusterOf('reference', 16)
const referenceStrategy = strategy({ tp: 2, dp: 64, ep: 64, etp: 2 })
const reference = graphOf(models['reference-moe'], referenceCluster, referenceStrategy)

const nodesOf = (g: DeploymentGraph, module: ModuleKind): ReadonlyArray<GraphNode> => g.nodes.filter((n) => n.module === module)
const nodeOf = (g: DeploymentGraph, module: ModuleKind): GraphNode => {
  const found = nodesOf(g, module)
  if (found.length !== 1) throw new Error(`expected one ${module} node, found ${found.length}`)
  return found[0] as GraphNode
}
const edge = (g: DeploymentGraph, from: string, to: string): GraphEdge => {
  const found = g.edges.find((e) => e.from === from && e.to === to)
  if (found === undefined) throw new Error(`no edge ${from} -> ${to}`)
  return found
}

/** Every edge joins two nodes and goes forward in the node list (so the graph has no cycle). */
const wellFormed = (g: DeploymentGraph): void => {
  const index = new Map(g.nodes.map((n, i) => [n.id, i]))
  expect(index.size).toBe(g.nodes.length) // ids are unique
  for (const e of g.edges) {
    const from = index.get(e.from)
    const to = index.get(e.to)
    expect(from).toBeDefined()
    expect(to).toBeDefined()
    expect(from as number).toBeLessThan(to as number)
    expect(Number.isFinite(e.bytesPerStep)).toBe(true)
    expect(e.bytesPerStep).toBeGreaterThanOrEqual(0)
    expect(e.repeats).toBeGreaterThanOrEqual(1)
  }
  const stageIds = new Set(g.stages.map((s) => s.id))
  for (const n of g.nodes) {
    expect(n.id).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/)
    if (n.stage !== null) expect(stageIds.has(n.stage)).toBe(true)
  }
}

// -------------------------------------------------------------------------------------
// the reference plan: reference-moe, TP2 DP64 EP64 ETP2 on 16 nodes of 8
// -------------------------------------------------------------------------------------

describe('deploymentGraph: the reference plan (TP2 DP64 EP64 ETP2, decode, 32 tokens per replica)', () => {
  it('has every module of an MoE forward step, and no PP or CP nodes (pp = cp = 1)', () => {
    const modules = new Set(reference.nodes.map((n) => n.module))
    for (const m of ['embedding', 'attention', 'tp-collective', 'router', 'dispatch', 'experts', 'combine', 'lm-head'] as const) {
      expect(modules.has(m)).toBe(true)
    }
    expect(modules.has('mlp')).toBe(false) // every one of the 16 layers is MoE
    expect(modules.has('pp-send')).toBe(false)
    expect(modules.has('cp-exchange')).toBe(false)
  })

  it('draws the 16 identical layers as one chain, each node labelled "layers 0-15 (x16)"', () => {
    const layerNodes = reference.nodes.filter((n) => n.layerCount > 0)
    expect(layerNodes.length).toBeGreaterThan(0)
    for (const n of layerNodes) {
      expect(n.layers).toBe('layers 0-15 (x16)')
      expect(n.layerCount).toBe(16)
    }
    expect(nodesOf(reference, 'attention')).toHaveLength(1)
    expect(nodesOf(reference, 'experts')).toHaveLength(1)
    expect(nodeOf(reference, 'embedding').layers).toBe('')
    expect(reference.stages.map((s) => s.label)).toEqual(['stage 0'])
  })

  it('carries 131,072 bytes per GPU per layer in the EP dispatch', () => {
    // 32 tokens x top-2 x hidden 1024 x 2 bytes (bf16) = 131,072 bytes per layer; x16 layers = 2,097,152 (2 MiB)
    const dispatch = nodeOf(reference, 'dispatch')
    const experts = nodeOf(reference, 'experts')
    const into = reference.edges.filter((e) => e.to === dispatch.id && e.label.startsWith('top-2 token copies'))
    expect(into).toHaveLength(1)
    expect(into[0]?.bytesPerStep).toBe(131_072)
    expect(into[0]?.perLayer).toBe(true)
    expect(into[0]?.repeats).toBe(16)
    expect(into[0]?.label).toBe('top-2 token copies (all-to-all message): 128 KiB per layer (x16 = 2 MiB)')
    expect(edge(reference, dispatch.id, experts.id).bytesPerStep).toBe(131_072)
    // the combine sends the same back
    expect(edge(reference, experts.id, nodeOf(reference, 'combine').id).bytesPerStep).toBe(131_072)
  })

  it('carries the TP all-reduce message, the hidden states and the router logits', () => {
    // TP all-reduce message: 32 tokens x 1024 x 2 bytes = 65,536 per layer
    const attention = nodeOf(reference, 'attention')
    const tpAfterAttention = reference.nodes.find((n) => n.id === 'L0_tp_attention')
    expect(tpAfterAttention?.module).toBe('tp-collective')
    expect(edge(reference, attention.id, 'L0_tp_attention').bytesPerStep).toBe(65_536)
    // hidden states into the router: the same 32 x 1024 x 2 = 65,536 (no sequence parallelism)
    expect(edge(reference, 'L0_tp_attention', nodeOf(reference, 'router').id).bytesPerStep).toBe(65_536)
    // router logits: 32 tokens x 64 experts x 2 bytes = 4,096
    expect(edge(reference, nodeOf(reference, 'router').id, nodeOf(reference, 'dispatch').id).bytesPerStep).toBe(4_096)
    // into the LM head once, not per layer: 65,536
    const last = reference.edges.find((e) => e.to === 'lm_head')
    expect(last).toMatchObject({ bytesPerStep: 65_536, perLayer: false, repeats: 1 })
  })

  it('describes the GPU groups from the layout: 64 TP pairs inside a node, 2 EP groups of 64 across 16 nodes', () => {
    const attention = nodeOf(reference, 'attention')
    expect(attention).toMatchObject({ groupKind: 'tp', groupSize: 2, groups: 64 })
    expect(attention.gpus).toBe('64 TP groups of 2: {0,1}, {2,3}, …, {126,127}; each inside 1 node')
    // EP groups in order tp-cp-ep-dp-pp with etp 2: ranks of the same etp coordinate, 4 per node of 8
    const dispatch = nodeOf(reference, 'dispatch')
    expect(dispatch).toMatchObject({ groupKind: 'ep', groupSize: 64, groups: 2 })
    expect(dispatch.gpus).toBe('2 EP groups of 64: {0,2,4,…,126}, {1,3,5,…,127}; widest: 4 per node x 16 nodes, across the network')
  })

  it('says what each GPU holds: 1 of 64 experts per layer, half of each, so 8 whole experts, not 1', () => {
    // 64 experts / ep 64 = 1 per layer; etp 2 -> 1/2 of it; 16 layers x 1 = 16 shards = 16 x 1/2 = 8 whole experts
    expect(nodeOf(reference, 'experts').label).toBe('Experts: 1 of 64 per GPU per layer, 1/2 of each (ETP 2)')
    expect(reference.notes.join('\n')).toContain('16 expert shards over its 16 MoE layers, the parameters of 8 whole experts')
  })

  it('is well formed: every edge endpoint is a node, edges go forward', () => {
    wellFormed(reference)
  })
})

// -------------------------------------------------------------------------------------
// other plans
// -------------------------------------------------------------------------------------

describe('deploymentGraph: other plans', () => {
  it('has no router, dispatch or experts for a dense model (Llama-2-7B, TP8 on one DGX H100)', () => {
    const g = graphOf(models['llama-2-7b'], unsafeClusterOf('dgx-h100', 1), strategy({ tp: 8 }))
    const modules = new Set(g.nodes.map((n) => n.module))
    for (const m of ['router', 'dispatch', 'experts', 'combine'] as const) expect(modules.has(m)).toBe(false)
    expect(nodeOf(g, 'mlp').layers).toBe('layers 0-31 (x32)')
    // TP all-reduce after the MLP: 32 tokens x 4096 x 2 bytes = 262,144 per layer, 32 layers
    expect(edge(g, 'L0_mlp', 'L0_tp_mlp')).toMatchObject({ bytesPerStep: 262_144, repeats: 32 })
    wellFormed(g)
  })

  it('groups the identical middle stages of a PP8 Llama-2-70B into one chain', () => {
    // 80 layers / pp 8 = 10 per stage; stage 0 holds the embedding, stage 7 the LM head, stages 1-6 are alike
    const g = graphOf(models['llama-2-70b'], unsafeClusterOf('dgx-h100', 8), strategy({ tp: 8, pp: 8 }))
    expect(g.stages.length).toBeLessThan(8)
    expect(g.stages.map((s) => s.label)).toEqual(['stage 0', 'stages 1-6 (x6)', 'stage 7'])
    expect(g.stages.map((s) => s.gpus)).toEqual(['GPUs 0-7 (8)', 'GPUs 8-55 (48)', 'GPUs 56-63 (8)'])
    expect(nodesOf(g, 'attention').map((n) => n.layers)).toEqual(['layers 0-9 (x10)', 'layers 10-69 (x60, 10 per stage)', 'layers 70-79 (x10)'])
    // PP send: 32 tokens x 8192 x 2 bytes = 524,288, once per stage boundary drawn
    const sends = nodesOf(g, 'pp-send')
    expect(sends.map((n) => n.id)).toEqual(['pp_send_0_1', 'pp_send_6_7'])
    for (const send of sends) expect(g.edges.filter((e) => e.to === send.id).map((e) => e.bytesPerStep)).toEqual([524_288])
    expect(g.notes.join('\n')).toContain('7 sends along each pipeline per step, 2 drawn (the other 5 are between the grouped stages)')
    wellFormed(g)
  })

  it('keeps every stage apart when pp <= 4', () => {
    const g = graphOf(models['llama-2-70b'], unsafeClusterOf('dgx-h100', 4), strategy({ tp: 8, pp: 4 }))
    expect(g.stages.map((s) => s.label)).toEqual(['stage 0', 'stage 1', 'stage 2', 'stage 3'])
    expect(nodesOf(g, 'pp-send')).toHaveLength(3)
  })

  it('draws an uneven pipeline as it is cut: Llama 2 7B with 6 layers on the first stage and 10 on the last, 8 on each middle one', () => {
    const g = graphOf(models['llama-2-7b'], unsafeClusterOf('dgx-h100', 1), strategy({ tp: 2, pp: 4, pipelineSplit: { firstStageLayers: 6, lastStageLayers: 10 } }))
    // 6 + 8 + 8 + 10 = 32: every layer drawn once, the last stage's ten included
    expect(nodesOf(g, 'attention').map((n) => n.layers)).toEqual(['layers 0-5 (x6)', 'layers 6-13 (x8)', 'layers 14-21 (x8)', 'layers 22-31 (x10)'])
    expect(nodesOf(g, 'attention').reduce((sum, n) => sum + n.layerCount, 0)).toBe(32)
    wellFormed(g)
  })

  it('shows a dense-layer chain and an MoE-layer chain for DeepSeek-V3 (first 3 layers dense)', () => {
    const g = graphOf(models['deepseek-v3'], unsafeClusterOf('dgx-h100', 4), strategy({ tp: 8, dp: 4, ep: 32 }))
    expect(nodeOf(g, 'mlp').layers).toBe('layers 0-2 (x3)')
    expect(nodeOf(g, 'experts').layers).toBe('layers 3-60 (x58)')
    expect(nodesOf(g, 'attention').map((n) => n.layers)).toEqual(['layers 0-2 (x3)', 'layers 3-60 (x58)'])
    // the dense chain feeds the MoE chain
    expect(edge(g, 'L0_tp_mlp', 'L3_attention').perLayer).toBe(false)
    // dispatch: etp 1 of tp 8, so the 8 GPUs of a TP group share the 32 tokens: 32 x (1/8) x top-8 x 7168 x 2 bytes = 458,752 per layer
    expect(edge(g, 'L3_dispatch', 'L3_experts').bytesPerStep).toBe(458_752)
    wellFormed(g)
  })

  it('divides the hidden states by tp under sequence parallelism; the dispatch still reaches both expert shards', () => {
    const g = graphOf(models['reference-moe'], referenceCluster, strategy({ tp: 2, dp: 64, ep: 64, etp: 2, sequenceParallel: true }))
    // each GPU holds 32 / 2 = 16 tokens: hidden 16 x 1024 x 2 = 32,768;
    // dispatch: its 16 tokens to the etp = 2 shards of each of its top-2 experts, 16 x 2 x 2 x 1024 x 2 = 131,072
    expect(edge(g, 'L0_tp_attention', 'L0_router').bytesPerStep).toBe(32_768)
    expect(edge(g, 'L0_dispatch', 'L0_experts').bytesPerStep).toBe(131_072)
    // the reduce-scatter message is still the whole array: 32 x 1024 x 2 = 65,536
    expect(edge(g, 'L0_attention', 'L0_tp_attention').bytesPerStep).toBe(65_536)
    expect(nodesOf(g, 'tp-collective').map((n) => n.label)).toContain('TP reduce-scatter after attention')
    wellFormed(g)
  })

  it('puts a CP exchange before attention: the keys and values of the sequence in prefill', () => {
    const s = strategy({ tp: 8, cp: 2 })
    const g = graphOf(models['llama-2-70b'], unsafeClusterOf('dgx-h100', 2), s, { phase: 'prefill', tokensPerReplica: 4096 })
    const cp = nodeOf(g, 'cp-exchange')
    expect(cp).toMatchObject({ groupKind: 'cp', groupSize: 2, groups: 8 })
    // K and V per token per GPU: 2 x (8 KV heads / tp 8 = 1) x 128 = 256 elements; 4096 tokens x 256 x 2 bytes = 2,097,152
    expect(edge(g, cp.id, 'L0_attention').bytesPerStep).toBe(2_097_152)
    // hidden states: 4096 / cp 2 = 2048 tokens x 8192 x 2 bytes = 33,554,432
    expect(g.edges.filter((e) => e.to === cp.id).map((e) => e.bytesPerStep)).toEqual([33_554_432])
    wellFormed(g)
  })

  it('draws one chain per model chunk under interleaving (pp 2, 2 virtual stages)', () => {
    const g = graphOf(models['reference-moe'], unsafeClusterOf('reference', 8), strategy({ tp: 2, dp: 16, pp: 2, ep: 16, virtualStages: 2 }))
    // 16 layers in 4 chunks of 4: chunk c on stage c mod 2
    expect(g.stages.map((s) => s.label)).toEqual(['stage 0, model chunk 0', 'stage 1, model chunk 1', 'stage 0, model chunk 2', 'stage 1, model chunk 3'])
    expect(nodesOf(g, 'attention').map((n) => n.layers)).toEqual(['layers 0-3 (x4)', 'layers 4-7 (x4)', 'layers 8-11 (x4)', 'layers 12-15 (x4)'])
    expect(nodesOf(g, 'pp-send')).toHaveLength(3)
    wellFormed(g)
  })

  it('draws one chain per kind when dense and MoE layers alternate', () => {
    const base = models['reference-moe']
    const moe = base.moe
    if (moe === undefined) throw new Error('reference-moe is an MoE model')
    // step 2: layers 1, 3, ..., 15 are MoE (8 of them), 0, 2, ..., 14 dense
    const alternating: Architecture = { ...base, moe: { ...moe, step: 2 } }
    const g = graphOf(alternating, referenceCluster, referenceStrategy)
    expect(nodeOf(g, 'mlp').layers).toBe('layers 0, 2, …, 14 (x8)')
    expect(nodeOf(g, 'experts').layers).toBe('layers 1, 3, …, 15 (x8)')
    expect(g.notes.join('\n')).toContain('Dense and MoE layers alternate')
    wellFormed(g)
  })
})

describe('graphTransfers', () => {
  it('gives the reference plan\'s per-GPU bytes', () => {
    const t = graphTransfers(inputOf(models['reference-moe'], referenceCluster, referenceStrategy, decode32))
    expect(t).toEqual({
      elementBytes: 2, // bf16
      tokensHeld: 32,
      hiddenStates: 65_536, // 32 x 1024 x 2
      tpMessage: 65_536, // 32 x 1024 x 2
      routerLogits: 4_096, // 32 x 64 x 2
      dispatch: 131_072, // 32 x 2 x 1024 x 2
      cpExchange: 0, // cp 1
    })
  })
})

// -------------------------------------------------------------------------------------
// renderings
// -------------------------------------------------------------------------------------

describe('toMermaid', () => {
  const text = toMermaid(reference)

  it('is a flowchart that names every node and a subgraph per stage', () => {
    expect(text.startsWith('flowchart')).toBe(true)
    for (const n of reference.nodes) expect(text).toContain(n.id)
    expect(text).toContain('subgraph stage0["stage 0 · GPUs 0-127 (128)"]')
    expect(text).toContain('L0_tp_attention -->|"top-2 token copies (all-to-all message): 128 KiB per layer (x16 = 2 MiB)"| L0_dispatch')
  })

  it('escapes quotes in labels', () => {
    const quoted: DeploymentGraph = { ...reference, nodes: reference.nodes.map((n) => ({ ...n, label: `${n.label} "q"` })) }
    expect(toMermaid(quoted)).toContain('#quot;q#quot;')
  })
})

describe('toDot', () => {
  /** Braces outside quoted strings balance and never go negative; every quoted string is closed. */
  const structurallyBalanced = (dot: string): boolean => {
    let depth = 0
    let quoted = false
    for (let i = 0; i < dot.length; i++) {
      const c = dot[i]
      if (quoted) {
        if (c === '\\') i++
        else if (c === '"') quoted = false
      } else if (c === '"') quoted = true
      else if (c === '{') depth++
      else if (c === '}' && --depth < 0) return false
    }
    return depth === 0 && !quoted
  }

  it('is a digraph with balanced braces and a cluster per stage', () => {
    const dot = toDot(reference)
    expect(dot.startsWith('digraph')).toBe(true)
    expect(structurallyBalanced(dot)).toBe(true)
    expect(dot.split('{').length).toBe(dot.split('}').length) // also counting the {0,1} inside labels
    expect(dot).toContain('subgraph cluster_stage0 {')
    for (const n of reference.nodes) expect(dot).toContain(`${n.id} [label=`)
  })

  it('escapes quotes, backslashes and line breaks in labels', () => {
    const nasty: DeploymentGraph = { ...reference, title: 'a "b" \\ c\nd' }
    const dot = toDot(nasty)
    expect(dot).toContain('label="a \\"b\\" \\\\ c\\nd";')
    expect(structurallyBalanced(dot)).toBe(true)
  })
})

describe('toJson', () => {
  it('has the documented meshplan-dag/1 shape and survives JSON', () => {
    const json = toJson(reference)
    expect(Object.keys(json)).toEqual(['format', 'title', 'stages', 'nodes', 'edges', 'notes'])
    expect(json.format).toBe('meshplan-dag/1')
    expect(JSON.parse(JSON.stringify(json))).toEqual(json)
    expect(Object.keys(json.nodes[0] ?? {})).toEqual(['id', 'module', 'label', 'layers', 'layerCount', 'gpus', 'stage', 'groupKind', 'groupSize', 'groups'])
    expect(Object.keys(json.edges[0] ?? {})).toEqual(['from', 'to', 'bytesPerStep', 'perLayer', 'repeats', 'label'])
    expect(json.nodes.every((n) => (moduleKinds as ReadonlyArray<string>).includes(n.module))).toBe(true)
  })
})

// -------------------------------------------------------------------------------------
// laws
// -------------------------------------------------------------------------------------

describe('deploymentGraph: laws', () => {
  const model = models['reference-moe']
  const gpus = 128
  const moe = model.moe
  if (moe === undefined) throw new Error('reference-moe is an MoE model')

  // degrees from divisors: tp of the 16 heads, pp of the 16 layers, cp 1 or 2, dp the rest;
  // etp of the stage width and the expert FFN, ep of the experts and the stage width / etp
  const plans = fc
    .record({
      tp: fc.constantFrom(...divisors(model.attention.heads)),
      pp: fc.constantFrom(...divisors(model.layers)),
      cp: fc.constantFrom(1, 2),
      sequenceParallel: fc.boolean(),
      phase: fc.constantFrom<GraphStep['phase']>('prefill', 'decode'),
      tokensPerReplica: fc.integer({ min: 1, max: 8192 }),
    })
    .filter(({ tp, pp, cp }) => gpus % (tp * pp * cp) === 0)
    .chain((base) => {
      const width = gpus / base.pp
      const etps = divisors(width).filter((etp) => moe.expertFfn % etp === 0)
      const virtual = base.pp > 1 ? divisors(model.layers / base.pp) : [1]
      return fc.record({
        etp: fc.constantFrom(...etps),
        virtualStages: fc.constantFrom(...virtual),
      }).chain(({ etp, virtualStages }) =>
        fc.constantFrom(...divisors(width / etp).filter((ep) => moe.experts % ep === 0)).map((ep) => ({
          step: { phase: base.phase, tokensPerReplica: base.tokensPerReplica },
          strategy: strategy({
            tp: base.tp,
            pp: base.pp,
            cp: base.cp,
            dp: gpus / (base.tp * base.pp * base.cp),
            ep,
            etp,
            virtualStages,
            sequenceParallel: base.sequenceParallel && base.tp > 1,
          }),
        })),
      )
    })

  it('for every valid strategy of reference-moe on 128 GPUs: edges join existing nodes, bytes are finite and >= 0', () => {
    fc.assert(
      fc.property(plans, ({ strategy: s, step }) => {
        expect(E.isRight(validate({ model, cluster: referenceCluster })(s))).toBe(true)
        const g = graphOf(model, referenceCluster, s, step)
        wellFormed(g)
        // every layer is drawn exactly once across the chains' attention nodes
        expect(nodesOf(g, 'attention').reduce((n, a) => n + a.layerCount, 0)).toBe(model.layers)
        expect(nodesOf(g, 'embedding')).toHaveLength(1)
        expect(nodesOf(g, 'lm-head')).toHaveLength(1)
        expect(nodesOf(g, 'dispatch').length > 0).toBe(true)
        expect(toMermaid(g).startsWith('flowchart')).toBe(true)
      }),
      { numRuns: 100 },
    )
  })
})
