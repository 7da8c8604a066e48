import fc from 'fast-check'
import { layersOfStage, placementClasses, placementOf } from '../src/placement'
import { strategy } from '../src/strategy'
import { clusterOf, layoutOf, mlaModel, referenceCluster, referenceModel, smallCase } from './fixtures'


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
