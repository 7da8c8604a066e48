import fc from 'fast-check'
import { describe as describeStrategy, equals, expertDataParallel, key, stageWidth, strategy, withEvenSplit, withExpertDefault, worldOf } from '../src/strategy'

describe('strategy', () => {
  it('defaults every degree to 1 and sequence parallelism to off', () => {
    expect(strategy({})).toEqual({ tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, sequenceParallel: false, virtualStages: 1 })
  })

  it('reads the reference plan EP64 TP2 as tp 2, dp 64, ep 64, etp 2 on 128 GPUs with edp 1', () => {
    const s = strategy({ tp: 2, dp: 64, ep: 64, etp: 2 })
    expect(worldOf(s)).toBe(128)
    expect(stageWidth(s)).toBe(128)
    // MoE layers re-fold the 2 * 64 = 128 GPUs of the stage as ep * etp * edp = 64 * 2 * 1
    expect(expertDataParallel(s)).toBe(1)
    expect(describeStrategy(s)).toBe('TP2 DP64 EP64 ETP2')
  })

  it('gives expert data parallelism when ep * etp covers part of the stage', () => {
    // tp 8, dp 4: 32 GPUs per stage; ep 8 * etp 1 leaves 4 copies of each expert
    expect(expertDataParallel(strategy({ tp: 8, dp: 4, pp: 2, ep: 8 }))).toBe(4)
  })

  it('describes a single GPU and sequence parallelism', () => {
    expect(describeStrategy(strategy({}))).toBe('single GPU')
    expect(describeStrategy(strategy({ tp: 8, sequenceParallel: true, pp: 4, virtualStages: 2 }))).toBe('TP8 PP4 VP2 SP')
  })

  it('has keys that identify strategies: equal keys iff equal degrees', () => {
    const arbitrary = fc.record({
      tp: fc.integer({ min: 1, max: 16 }),
      pp: fc.integer({ min: 1, max: 16 }),
      dp: fc.integer({ min: 1, max: 16 }),
      cp: fc.integer({ min: 1, max: 16 }),
      ep: fc.integer({ min: 1, max: 16 }),
      etp: fc.integer({ min: 1, max: 16 }),
      sequenceParallel: fc.boolean(),
      virtualStages: fc.integer({ min: 1, max: 16 }),
    })
    fc.assert(
      fc.property(arbitrary, arbitrary, (a, b) => {
        const same = (Object.keys(a) as Array<keyof typeof a>).every((k) => a[k] === b[k])
        expect(key(a) === key(b)).toBe(same)
        expect(equals(a, b)).toBe(same)
      }),
    )
  })
})

describe('strategy: the pipeline split', () => {
  it('keeps an uneven split, drops one that asks for nothing, and withEvenSplit removes it', () => {
    const s = strategy({ pp: 16, pipelineSplit: { embeddingInSplit: true, lossInSplit: true } })
    expect(s.pipelineSplit).toEqual({ embeddingInSplit: true, lossInSplit: true })
    expect(strategy({ pp: 16, pipelineSplit: { embeddingInSplit: false } })).toEqual(strategy({ pp: 16 }))
    expect(withEvenSplit(s)).toEqual(strategy({ pp: 16 }))
  })

  it('names the split in the key and the description; the even split changes neither', () => {
    expect(key(strategy({ pp: 16, pipelineSplit: { firstStageLayers: 6, lastStageLayers: 8 } }))).toBe('tp1-pp16-dp1-cp1-ep1-etp1-sp0-vp1-first6-last8')
    expect(key(strategy({ pp: 16, pipelineSplit: { embeddingInSplit: true, lossInSplit: true } }))).toBe('tp1-pp16-dp1-cp1-ep1-etp1-sp0-vp1-embedding-loss')
    expect(key(strategy({ pp: 16 }))).toBe('tp1-pp16-dp1-cp1-ep1-etp1-sp0-vp1')
    expect(describeStrategy(strategy({ tp: 8, pp: 16, dp: 4, pipelineSplit: { embeddingInSplit: true, lossInSplit: true } }))).toBe('TP8 PP16 DP4 (embedding and loss in the split)')
    expect(describeStrategy(strategy({ pp: 16, pipelineSplit: { firstStageLayers: 6, lastStageLayers: 8 } }))).toBe('PP16 (first 6, last 8 layers)')
    expect(equals(strategy({ pp: 16, pipelineSplit: { lastStageLayers: 8 } }), strategy({ pp: 16 }))).toBe(false)
  })
})

describe('withExpertDefault: experts shard over TP when there is no expert parallelism', () => {
  it('an MoE model at tp 8, ep 1, no etp given: etp = 8 (vLLM, SGLang, Megatron-Core)', () => {
    expect(withExpertDefault(true, false)(strategy({ tp: 8 }))).toEqual(strategy({ tp: 8, etp: 8 }))
  })
  it('keeps an etp that was given, any ep > 1, and every dense model as they are', () => {
    expect(withExpertDefault(true, true)(strategy({ tp: 8, etp: 1 }))).toEqual(strategy({ tp: 8 }))
    expect(withExpertDefault(true, false)(strategy({ tp: 2, dp: 4, ep: 8 }))).toEqual(strategy({ tp: 2, dp: 4, ep: 8 }))
    expect(withExpertDefault(false, false)(strategy({ tp: 8 }))).toEqual(strategy({ tp: 8 }))
  })
})
