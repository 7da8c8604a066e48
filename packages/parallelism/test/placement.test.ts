import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { chunkLayers, expertReplicas, layersOfChunk, layersOfStage, placementClasses, placementOf } from '../src/placement'
import { strategy } from '../src/strategy'
import { validateForModel } from '../src/validate'
import { clusterOf, gqaModel, layoutOf, mlaModel, referenceCluster, referenceModel, smallCase } from './fixtures'


describe('placement: the reference plan', () => {
  const s = strategy({ tp: 2, dp: 64, ep: 64, etp: 2 })
  const place = placementOf(referenceModel, s, layoutOf(referenceCluster, s))

  it('gives every GPU half of one expert in each of the 16 layers: 16 shards, 8 whole experts, not 1', () => {
    for (const rank of [0, 1, 64, 127]) {
      const p = place(rank)
      expect(p.layers).toEqual(Array.from({ length: 16 }, (_, i) => i))
      expect(p.moeLayers).toBe(16)
      expect(p.experts.perLayer).toBe(1) // 64 experts / ep 64
      expect(p.experts.fraction).toBe(0.5) // etp 2
      expect(p.experts.shards).toBe(16) // 16 layers * 1
      expect(p.experts.wholeEquivalent).toBe(8) // 16 * 1/2
    }
  })

  it('gives expert k to GPUs 2k and 2k+1', () => {
    expect(place(0).experts.ids).toEqual([0])
    expect(place(1).experts.ids).toEqual([0])
    expect(place(2).experts.ids).toEqual([1])
    expect(place(127).experts.ids).toEqual([63])
  })

  it('splits the 16 heads 8 per GPU and puts embedding and LM head on every GPU (pp 1), 16000 vocab rows each', () => {
    const p = place(5)
    expect(p.attentionHeads).toBe(8)
    expect(p.kvHeads).toBe(8)
    expect(p.holdsEmbedding && p.holdsLmHead).toBe(true)
    expect(p.vocabRows).toBe(16000)
  })
})

describe('placement: pipelines', () => {
  it('interleaves chunks: 16 layers, pp 2, 2 virtual stages', () => {
    const s = strategy({ pp: 2, virtualStages: 2 })
    // 4 chunks of 4 layers; pp rank 0 holds chunks 0 and 2, rank 1 chunks 1 and 3
    expect(layersOfStage(referenceModel, s)(0)).toEqual([0, 1, 2, 3, 8, 9, 10, 11])
    expect(layersOfStage(referenceModel, s)(1)).toEqual([4, 5, 6, 7, 12, 13, 14, 15])
  })

  it('counts MoE layers per stage when the first layers are dense', () => {
    // DeepSeek-V3 shape, 61 layers over pp 61: stage 0..2 hold a dense layer, stage 3 the first MoE layer
    const s = strategy({ pp: 61, ep: 1 })
    const l = layoutOf(clusterOf(61, 1), s)
    const place = placementOf(mlaModel, s, l)
    expect(place(2).moeLayers).toBe(0)
    expect(place(3).moeLayers).toBe(1)
    expect(place(0).holdsEmbedding).toBe(true)
    expect(place(0).holdsLmHead).toBe(false)
    expect(place(60).holdsLmHead).toBe(true)
    expect(place(30).vocabRows).toBe(0)
    // 256 experts on one GPU (ep 1), each whole
    expect(place(3).experts).toMatchObject({ perLayer: 256, fraction: 1, shards: 256, wholeEquivalent: 256 })
  })
})

describe('placement: laws', () => {
  it('covers every layer exactly once along a pipeline group and every expert exactly once along an EP group', () => {
    fc.assert(
      fc.property(smallCase, ({ model, cluster, strategy: s }) => {
        if (s === undefined) return
        const l = layoutOf(cluster, s)
        const place = placementOf(model, s, l)
        for (const group of l.groups.pp.groups) {
          const layers = group.flatMap((rank) => place(rank).layers).sort((a, b) => a - b)
          expect(layers).toEqual(Array.from({ length: model.layers }, (_, i) => i))
        }
        if (model.moe !== undefined) {
          for (const group of l.groups.ep.groups) {
            const ids = group.flatMap((rank) => place(rank).experts.ids).sort((a, b) => a - b)
            expect(ids).toEqual(Array.from({ length: model.moe.experts }, (_, i) => i))
          }
        }
      }),
      { numRuns: 150 },
    )
  })
})

describe('placementClasses', () => {
  it('finds one class on the reference plan and one per stage under pp 4', () => {
    const s = strategy({ tp: 2, dp: 64, ep: 64, etp: 2 })
    const classes = placementClasses(referenceModel, s, layoutOf(referenceCluster, s))
    expect(classes).toHaveLength(1)
    expect(classes[0]?.ranks).toHaveLength(128)
    const piped = strategy({ tp: 2, dp: 16, pp: 4, ep: 32 })
    const stages = placementClasses(referenceModel, piped, layoutOf(referenceCluster, piped))
    // 4 stages of 32 GPUs; stage 0 holds the embedding, stage 3 the LM head, stages 1 and 2 neither: each its own class
    expect(stages.map((c) => c.ranks.length)).toEqual([32, 32, 32, 32])
    expect(stages.map((c) => c.example.layers[0])).toEqual([0, 4, 8, 12])
  })
})

// Megatron-Core's uneven split (`get_num_layers_to_build`, `get_transformer_layer_offset`),
// worked by hand on Llama-3.1-405B's 126 layers over 16 stages.
describe('placement: uneven pipeline stages (Megatron-Core)', () => {
  const llama405b = { ...gqaModel, name: 'llama-3.1-405b-shaped', layers: 126 }

  it('the embedding and the loss counted as a layer: 128 / 16 = 8 per stage, 7 on the first and the last', () => {
    const s = strategy({ pp: 16, pipelineSplit: { embeddingInSplit: true, lossInSplit: true } })
    const stage = layersOfStage(llama405b, s)
    // rank 0: offset 0, 8 − 1 = 7 layers; rank r ≥ 1: offset 8r − 1 (the embedding took a slot), 8 layers; rank 15: 8 − 1 = 7
    expect(stage(0)).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(stage(1)).toEqual([7, 8, 9, 10, 11, 12, 13, 14])
    expect(stage(14)).toEqual(Array.from({ length: 8 }, (_, i) => 111 + i))
    expect(stage(15)).toEqual([119, 120, 121, 122, 123, 124, 125])
  })

  it('the same with 2 virtual stages: chunks of 128 / 32 = 4, the first chunk of rank 0 and the last of rank 15 one short', () => {
    const s = strategy({ pp: 16, virtualStages: 2, pipelineSplit: { embeddingInSplit: true, lossInSplit: true } })
    // chunk (v, r) starts at (16v + r)·4, less 1 after the embedding's slot: rank 0 holds 0..2 and 63..66, rank 15 holds 59..62 and 123..125
    expect(layersOfChunk(llama405b, s)(0, 0)).toEqual([0, 1, 2])
    expect(layersOfChunk(llama405b, s)(0, 1)).toEqual([63, 64, 65, 66])
    expect(layersOfStage(llama405b, s)(15)).toEqual([59, 60, 61, 62, 123, 124, 125])
  })

  it('first 6 and last 8 layers given: the 112 others over the 14 middle stages, 8 each', () => {
    const s = strategy({ pp: 16, pipelineSplit: { firstStageLayers: 6, lastStageLayers: 8 } })
    const stage = layersOfStage(llama405b, s)
    expect(stage(0)).toEqual([0, 1, 2, 3, 4, 5])
    // rank r in 1..14: offset 6 + (r − 1)·8
    expect(stage(1)).toEqual(Array.from({ length: 8 }, (_, i) => 6 + i))
    expect(stage(14)).toEqual(Array.from({ length: 8 }, (_, i) => 110 + i))
    expect(stage(15)).toEqual(Array.from({ length: 8 }, (_, i) => 118 + i))
  })

  it('first 6 and last 8 with 2 virtual stages: each virtual stage runs 3 + 14·4 + 4 = 63 layers, rank 0 first', () => {
    const s = strategy({ pp: 16, virtualStages: 2, pipelineSplit: { firstStageLayers: 6, lastStageLayers: 8 } })
    const chunk = layersOfChunk(llama405b, s)
    expect(chunk(0, 0)).toEqual([0, 1, 2])
    expect(chunk(1, 0)).toEqual([3, 4, 5, 6])
    expect(chunk(15, 0)).toEqual([59, 60, 61, 62])
    expect(chunk(0, 1)).toEqual([63, 64, 65])
    expect(chunk(15, 1)).toEqual([122, 123, 124, 125])
  })

  it('only the last stage given: 40 layers, pp 4, last 4: the 36 others over 3 stages of 12', () => {
    const s = strategy({ pp: 4, pipelineSplit: { lastStageLayers: 4 } })
    const model = { ...gqaModel, layers: 40 }
    expect([0, 1, 2, 3].map((r) => chunkLayers(model.layers, s, r, 0))).toEqual([
      { offset: 0, count: 12 },
      { offset: 12, count: 12 },
      { offset: 24, count: 12 },
      { offset: 36, count: 4 },
    ])
  })

  it('law: a valid split gives every layer to exactly one chunk, chunks in Megatron order (virtual stage, then rank) cover 0..L−1 in order', () => {
    const splitArb = fc.oneof(
      fc.record({ firstStageLayers: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }), lastStageLayers: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }) }),
      fc.record({ embeddingInSplit: fc.boolean(), lossInSplit: fc.boolean() }),
    )
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 130 }), fc.integer({ min: 2, max: 16 }), fc.constantFrom(1, 2, 3), splitArb, (layers, pp, virtualStages, raw) => {
        const split = Object.fromEntries(Object.entries(raw).filter(([, x]) => x !== undefined))
        const s = strategy({ pp, virtualStages, pipelineSplit: split })
        const model = { ...gqaModel, layers }
        fc.pre(E.isRight(validateForModel({ model })(s)))
        const order: number[] = []
        for (let v = 0; v < virtualStages; v++) for (let r = 0; r < pp; r++) order.push(...layersOfChunk(model, s)(r, v))
        expect(order).toEqual(Array.from({ length: layers }, (_, i) => i))
      }),
      { numRuns: 400 },
    )
  })
})

describe('placementOf with redundant experts', () => {
  // DeepSeek-V3's 256 routed experts + 32 redundant slots over ep 72: 288 / 72 = 4 slots per GPU
  const s = strategy({ dp: 72, ep: 72 })
  const l = layoutOf(clusterOf(8, 9), s)
  const place = placementOf(mlaModel, s, l, 32)

  it('puts slot i on expert-parallel rank floor(i / 4): rank 63 the last routed experts, 252-255', () => {
    const p = place(63)
    expect(p.experts.perLayer).toBe(4)
    expect(p.experts.ids).toEqual([252, 253, 254, 255])
    expect(p.experts.replicas).toEqual([])
  })

  it('fills ranks 64-71 with replicas: redundant slot j holds expert j, ranks 64 and 71 hold 0-3 and 28-31', () => {
    expect(place(64).experts.ids).toEqual([0, 1, 2, 3])
    expect(place(64).experts.replicas).toEqual([0, 1, 2, 3])
    expect(place(71).experts.replicas).toEqual([28, 29, 30, 31])
    // every GPU holds 4 slots in each of its 58 MoE layers: 232 whole experts' worth
    expect(place(0).experts.shards).toBe(58 * 4)
  })

  it('groups every GPU in one class: the same number of slots everywhere', () => {
    expect(placementClasses(mlaModel, s, l, 32)).toHaveLength(1)
  })
})

describe('expertReplicas', () => {
  it('lists the ranks with replicas and what they replicate: 256 + 32 over ep 72, ranks 64-71, four experts each', () => {
    const r = expertReplicas(mlaModel, strategy({ dp: 72, ep: 72 }), 32)
    expect(r.map((x) => x.epRank)).toEqual([64, 65, 66, 67, 68, 69, 70, 71])
    expect(r[7]?.experts).toEqual([28, 29, 30, 31])
    expect(expertReplicas(mlaModel, strategy({ dp: 72, ep: 72 }), 0)).toEqual([])
  })
})
