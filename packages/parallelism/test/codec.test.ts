import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { decodeStrategy, encodeStrategy } from '../src/codec'
import { strategy } from '../src/strategy'

describe('decodeStrategy', () => {
  it('reads the degrees of a case file, the others 1', () => {
    expect(decodeStrategy({ tp: 2, dp: 64, ep: 64, etp: 2 })).toEqual(E.right(strategy({ tp: 2, dp: 64, ep: 64, etp: 2 })))
  })

  it('reads the uneven split under the case format names (Megatron-LM --decoder-first/last-pipeline-num-layers, --account-for-embedding/loss-in-pipeline-split)', () => {
    expect(decodeStrategy({ tp: 8, pp: 16, dp: 4, embedding_in_pipeline_split: true, loss_in_pipeline_split: true })).toEqual(
      E.right(strategy({ tp: 8, pp: 16, dp: 4, pipelineSplit: { embeddingInSplit: true, lossInSplit: true } })),
    )
    expect(decodeStrategy({ pp: 16, first_stage_layers: 6, last_stage_layers: 8 })).toEqual(E.right(strategy({ pp: 16, pipelineSplit: { firstStageLayers: 6, lastStageLayers: 8 } })))
    // false asks for nothing: the even split
    expect(decodeStrategy({ pp: 4, embedding_in_pipeline_split: false })).toEqual(E.right(strategy({ pp: 4 })))
  })

  it('refuses a layer count that is not a positive integer, and unknown fields, at their path', () => {
    const bad = decodeStrategy({ pp: 4, first_stage_layers: 0, stages: 3 }, 'cases[0].parallelism')
    expect(E.isLeft(bad)).toBe(true)
    if (E.isLeft(bad)) expect(bad.left.map((i) => i.path).sort()).toEqual(['cases[0].parallelism.first_stage_layers', 'cases[0].parallelism.stages'])
  })
})

describe('encodeStrategy', () => {
  it('writes every degree, and the split only when uneven', () => {
    expect(encodeStrategy(strategy({ tp: 2 }))).toEqual({ tp: 2, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, sequence_parallel: false, virtual_pipeline: 1 })
    expect(encodeStrategy(strategy({ pp: 16, pipelineSplit: { firstStageLayers: 6, lossInSplit: true } }))).toMatchObject({ first_stage_layers: 6, loss_in_pipeline_split: true })
  })

  it('law: decode ∘ encode is the identity on strategies', () => {
    const arbitrary = fc.record({
      tp: fc.integer({ min: 1, max: 64 }),
      pp: fc.integer({ min: 1, max: 64 }),
      dp: fc.integer({ min: 1, max: 64 }),
      sequenceParallel: fc.boolean(),
      virtualStages: fc.integer({ min: 1, max: 8 }),
      pipelineSplit: fc.record(
        { firstStageLayers: fc.integer({ min: 1, max: 200 }), lastStageLayers: fc.integer({ min: 1, max: 200 }), embeddingInSplit: fc.boolean(), lossInSplit: fc.boolean() },
        { requiredKeys: [] },
      ),
    })
    fc.assert(
      fc.property(arbitrary, (degrees) => {
        const s = strategy(degrees)
        expect(decodeStrategy(encodeStrategy(s))).toEqual(E.right(s))
      }),
    )
  })
})
