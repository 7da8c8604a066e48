import fc from 'fast-check'
import { describe as describeStrategy, equals, expertDataParallel, key, stageWidth, strategy, withExpertDefault, worldOf } from '../src/strategy'

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
