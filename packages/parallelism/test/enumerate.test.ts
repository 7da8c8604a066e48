import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { worldSize } from '@meshplan/topology'
import { divisors } from '../src/arithmetic'
import { countStrategies, enumerate } from '../src/enumerate'
import { expertDataParallel, key, stageWidth, worldOf, type Strategy } from '../src/strategy'
import { validate } from '../src/validate'
import { clusterOf, gqaModel, referenceCluster, referenceModel, smallCluster, smallModel } from './fixtures'

const sequenceLength = fc.option(fc.constantFrom(96, 512, 1000, 1024), { nil: undefined })

describe('enumerate: laws', () => {
  it('yields only strategies that validate, each once, all using every GPU, with the expert fold exact', () => {
    fc.assert(
      fc.property(smallModel, smallCluster, sequenceLength, (model, cluster, seq) => {
        const target = seq === undefined ? { model, cluster } : { model, cluster, sequenceLength: seq }
        const seen = new Set<string>()
        for (const s of enumerate(target)()) {
          expect(E.isRight(validate(target)(s))).toBe(true)
          expect(seen.has(key(s))).toBe(false)
          seen.add(key(s))
          expect(worldOf(s)).toBe(worldSize(cluster))
          const edp = expertDataParallel(s)
          expect(Number.isInteger(edp)).toBe(true)
          expect(s.ep * s.etp * edp).toBe(stageWidth(s))
        }
      }),
      { numRuns: 150 },
    )
  })

  it('finds every strategy validate accepts', () => {
    // degrees drawn from the divisors of the cluster's GPU count, dp completing the product when it can,
    // so that a good share of the draws satisfy the world-size law and the others are exercised too
    const caseArbitrary = fc.tuple(smallModel, smallCluster, sequenceLength).chain(([model, cluster, seq]) => {
      const world = worldSize(cluster)
      const factor = fc.constantFrom(...divisors(world))
      const mostlyOne = fc.oneof(fc.constant(1), factor)
      return fc
        .record({ tp: factor, pp: mostlyOne, cp: mostlyOne, ep: mostlyOne, etp: mostlyOne, sequenceParallel: fc.boolean(), virtualStages: fc.oneof(fc.constant(1), fc.constantFrom(2, 3, 4)) })
        .map((d): [typeof model, typeof cluster, number | undefined, Strategy] => [model, cluster, seq, { ...d, dp: Math.max(1, Math.round(world / (d.tp * d.pp * d.cp))) }])
    })
    let accepted = 0
    fc.assert(
      fc.property(caseArbitrary, ([model, cluster, seq, s]) => {
        const target = seq === undefined ? { model, cluster } : { model, cluster, sequenceLength: seq }
        if (E.isLeft(validate(target)(s))) return
        accepted++
        const keys = new Set([...enumerate(target)()].map(key))
        expect(keys.has(key(s))).toBe(true)
      }),
      { numRuns: 1500 },
    )
    // the property must have been exercised, not vacuously true
    expect(accepted).toBeGreaterThan(30)
  })

  it('finds every valid strategy of a small case when the space is searched by brute force', () => {
    // brute force over all degrees up to 8 for a 2 x 4 cluster: the valid set must equal the enumeration
    const target = { model: referenceModel, cluster: clusterOf(4, 2), sequenceLength: 1024 }
    const degrees = [1, 2, 4, 8]
    const valid = new Set<string>()
    for (const tp of degrees)
      for (const pp of degrees)
        for (const dp of degrees)
          for (const cp of degrees)
            for (const ep of degrees)
              for (const etp of degrees)
                for (const virtualStages of [1, 2, 4, 8, 16])
                  for (const sequenceParallel of [false, true]) {
                    const s = { tp, pp, dp, cp, ep, etp, virtualStages, sequenceParallel }
                    if (E.isRight(validate(target)(s))) valid.add(key(s))
                  }
    const enumerated = [...enumerate(target)()].map(key)
    expect(new Set(enumerated)).toEqual(valid)
    expect(enumerated.length).toBe(valid.size)
  })
})

describe('enumerate: worked counts', () => {
  it('counts the strategies of a dense model on 8 GPUs by hand', () => {
    // gqaModel (64 heads, 8 KV heads, 80 layers, FFN 28672) on one 8-GPU node, no sequence length:
    // (tp, pp, cp, dp) with tp*pp*cp*dp = 8: 20 ordered factorisations of 2^3 into 4 factors (C(3+3,3)).
    // Virtual stages multiply the pp > 1 cases: 80 / pp layers, vp any divisor of 80 / pp:
    //   pp 2 -> divisors(40) = 8 choices; pp 4 -> divisors(20) = 6; pp 8 -> divisors(10) = 4.
    //   Ordered (tp, cp, dp) triples with product 8 / pp: pp 1: 10, pp 2: 6, pp 4: 3, pp 8: 1.
    //   -> 10 * 1 + 6 * 8 + 3 * 6 + 1 * 4 = 80 (tp, pp, vp, cp, dp) choices.
    // Sequence parallelism doubles every case with tp > 1. Cases with tp = 1:
    //   (pp, cp, dp) products of 8: pp 1: 4, pp 2: 3 * 8, pp 4: 2 * 6, pp 8: 1 * 4 -> 4 + 24 + 12 + 4 = 44.
    // Total = 80 + (80 - 44) = 116.
    expect(countStrategies({ model: gqaModel, cluster: clusterOf(8, 1) })()).toBe(116)
  })

  it('narrows by constraints', () => {
    const target = { model: gqaModel, cluster: clusterOf(8, 1) }
    // only pp 1, cp 1, no SP: tp * dp = 8 -> tp in {1, 2, 4, 8}
    const found = [...enumerate(target)({ only: { pp: [1], cp: [1] }, sequenceParallel: false })]
    expect(found.map((s) => [s.tp, s.dp])).toEqual([
      [1, 8],
      [2, 4],
      [4, 2],
      [8, 1],
    ])
  })

  it('keeps tp inside the scale-up domain on request', () => {
    const target = { model: gqaModel, cluster: clusterOf(8, 4) }
    const tps = new Set([...enumerate(target)({ tpWithinScaleUp: true })].map((s) => s.tp))
    expect([...tps].sort((a, b) => a - b)).toEqual([1, 2, 4, 8])
  })

  it('includes the reference plan and is lazy over the 128-GPU space', () => {
    const iterator = enumerate({ model: referenceModel, cluster: referenceCluster })()
    const first = iterator.next()
    expect(first.done).toBe(false)
    const all = [first.value as Strategy, ...iterator]
    expect(all.some((s) => key(s) === 'tp2-pp1-dp64-cp1-ep64-etp2-sp0-vp1')).toBe(true)
  })

  it('yields nothing for more GPUs than the cluster has', () => {
    expect(countStrategies({ model: gqaModel, cluster: clusterOf(8, 1), gpus: 16 })()).toBe(0)
  })
})
