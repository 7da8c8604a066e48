// Hand-built models and clusters for the algebra's tests, independent of the presets
// of @meshplan/model and @meshplan/topology, plus fast-check arbitraries of small ones.
import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import type { Architecture, Moe } from '@meshplan/model'
import type { Cluster, Link } from '@meshplan/topology'
import { bytes, bytesPerSecond, flopsPerSecond, seconds } from '@meshplan/units'
import { enumerate } from '../src/enumerate'
import { layout, type Layout, type Order } from '../src/layout'
import type { Strategy } from '../src/strategy'

const link = (gbps: number): Link => ({ bandwidth: bytesPerSecond(gbps * 1e9), latency: seconds(1e-6), inNetworkReduction: false })

export const clusterOf = (devicesPerNode: number, nodes: number): Cluster => ({
  name: `${nodes}x${devicesPerNode}`,
  device: { name: 'test GPU', memory: bytes(64e9), memoryBandwidth: bytesPerSecond(1.6e12), peak: { bf16: flopsPerSecond(400e12) }, source: 'test' },
  tiers: [
    { name: 'node', kind: 'scale-up', fanout: devicesPerNode, link: link(200) },
    { name: 'network', kind: 'scale-out', fanout: nodes, link: link(25) },
  ],
})

/** The reference plan's cluster: 128 GPUs, 8 per node. */
export const referenceCluster = clusterOf(8, 16)

const moe = (experts: number, topK: number, expertFfn: number, extra: Partial<Moe> = {}): Moe => ({
  experts,
  topK,
  expertFfn,
  sharedExperts: 0,
  sharedExpertFfn: 0,
  firstDenseLayers: 0,
  step: 1,
  routerBias: false,
  ...extra,
})

/** The reference plan's model: 16 layers, 64 experts in every layer, hidden 1024. */
export const referenceModel: Architecture = {
  name: 'reference-moe',
  family: 'custom',
  hidden: 1024,
  layers: 16,
  vocab: 32000,
  tiedEmbeddings: false,
  attention: { kind: 'mha', heads: 16, kvHeads: 16, headDim: 64, qkvBias: false, outputBias: false, qkNorm: false },
  mlp: { kind: 'swiglu', ffn: 4096, bias: false },
  moe: moe(64, 2, 4096),
  norm: 'rmsnorm',
  positions: 'rope',
  maxPositions: 4096,
}

/** A Llama-2-70B-shaped dense model: 64 heads, 8 KV heads, 80 layers, FFN 28672. */
export const gqaModel: Architecture = {
  name: 'gqa-70b',
  family: 'llama',
  hidden: 8192,
  layers: 80,
  vocab: 32000,
  tiedEmbeddings: false,
  attention: { kind: 'gqa', heads: 64, kvHeads: 8, headDim: 128, qkvBias: false, outputBias: false, qkNorm: false },
  mlp: { kind: 'swiglu', ffn: 28672, bias: false },
  norm: 'rmsnorm',
  positions: 'rope',
  maxPositions: 4096,
}

/** A DeepSeek-V3-shaped MoE: MLA, 61 layers of which the first 3 are dense, 256 experts, 1 shared. */
export const mlaModel: Architecture = {
  name: 'mla-moe',
  family: 'deepseek_v3',
  hidden: 7168,
  layers: 61,
  vocab: 129280,
  tiedEmbeddings: false,
  attention: { kind: 'mla', heads: 128, qLoraRank: 1536, kvLoraRank: 512, qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128 },
  mlp: { kind: 'swiglu', ffn: 18432, bias: false },
  moe: moe(256, 8, 2048, { sharedExperts: 1, sharedExpertFfn: 2048, firstDenseLayers: 3 }),
  norm: 'rmsnorm',
  positions: 'rope',
  maxPositions: 163840,
}

/** Small random models (dense or MoE, MHA/GQA or MLA) whose spaces can be walked exhaustively. */
export const smallModel: fc.Arbitrary<Architecture> = fc
  .record({
    headsLog: fc.integer({ min: 0, max: 4 }),
    kvShare: fc.integer({ min: 0, max: 4 }),
    latent: fc.boolean(),
    layers: fc.integer({ min: 1, max: 12 }),
    ffn: fc.constantFrom(96, 128, 192, 256),
    experts: fc.option(fc.integer({ min: 1, max: 16 }), { nil: undefined }),
    expertFfn: fc.constantFrom(32, 48, 64),
    firstDense: fc.integer({ min: 0, max: 2 }),
    shared: fc.integer({ min: 0, max: 1 }),
  })
  .map(({ headsLog, kvShare, latent, layers, ffn, experts, expertFfn, firstDense, shared }): Architecture => {
    const heads = 2 ** headsLog * (headsLog % 2 === 0 ? 3 : 1)
    const kvHeads = Math.max(1, heads / 2 ** Math.min(kvShare, headsLog))
    const base: Architecture = {
      name: 'random',
      family: 'custom',
      hidden: heads * 16,
      layers,
      vocab: 1000,
      tiedEmbeddings: false,
      attention: latent
        ? { kind: 'mla', heads, qLoraRank: null, kvLoraRank: 32, qkNopeHeadDim: 16, qkRopeHeadDim: 8, vHeadDim: 16 }
        : { kind: kvHeads === heads ? 'mha' : 'gqa', heads, kvHeads, headDim: 16, qkvBias: false, outputBias: false, qkNorm: false },
      mlp: { kind: 'swiglu', ffn, bias: false },
      norm: 'rmsnorm',
      positions: 'rope',
      maxPositions: 1024,
    }
    return experts === undefined
      ? base
      : { ...base, moe: moe(experts, 1, expertFfn, { firstDenseLayers: Math.min(firstDense, layers - 1), sharedExperts: shared, sharedExpertFfn: shared * expertFfn }) }
  })

/** Small clusters: 1 to 8 devices per node, 1 to 6 nodes. */
export const smallCluster: fc.Arbitrary<Cluster> = fc
  .record({ perNode: fc.constantFrom(1, 2, 4, 8), nodes: fc.integer({ min: 1, max: 6 }) })
  .map(({ perNode, nodes }) => clusterOf(perNode, nodes))

/** A small random model and cluster with one of its valid strategies picked at random (none when the space is empty). */
export const smallCase: fc.Arbitrary<{ readonly model: Architecture; readonly cluster: Cluster; readonly strategy: Strategy | undefined }> = fc
  .tuple(smallModel, smallCluster, fc.nat())
  .map(([model, cluster, pick]) => {
    const all = [...enumerate({ model, cluster })()]
    return { model, cluster, strategy: all[pick % Math.max(1, all.length)] }
  })

/** The layout of a strategy known to be valid. */
export const layoutOf = (cluster: Cluster, s: Strategy, order?: Order): Layout => {
  const l = layout(cluster, order)(s)
  if (E.isLeft(l)) throw new Error(`expected a layout, got ${JSON.stringify(l.left)}`)
  return l.right
}
