import * as E from 'fp-ts/Either'
import { enumerate } from '../src/enumerate'
import { layersOfChunk, layersOfStage } from '../src/placement'
import { splitFor } from '../src/split'
import { strategy } from '../src/strategy'
import { validate } from '../src/validate'
import { clusterOf, gqaModel } from './fixtures'

const shaped = (layers: number) => ({ ...gqaModel, name: `gqa-${layers}-layers`, layers })
const stageSizes = (layers: number, pp: number, v: number): ReadonlyArray<number> => {
  const split = splitFor(layers, pp, v)
  const s = strategy({ pp, virtualStages: v, ...(split === undefined ? {} : { pipelineSplit: split }) })
  return Array.from({ length: pp }, (_, r) => layersOfStage(shaped(layers), s)(r).length)
}

describe('splitFor: the uneven split when the layers do not divide', () => {
  it('Llama 3 405B: 126 layers over 16 stages count the embedding and the loss, 7 + 14 × 8 + 7 (Llama 3 paper, section 3.3.2)', () => {
    expect(splitFor(126, 16, 1)).toEqual({ embeddingInSplit: true, lossInSplit: true })
    // (126 + 2) / 16 = 8 per stage; the first and the last give one slot to the embedding and the loss
    expect(stageSizes(126, 16, 1)).toEqual([7, ...Array(14).fill(8), 7])
    // with 2 virtual stages: (126 + 2) / 32 = 4 per chunk, the first chunk of rank 0 and the last of rank 15 one short
    expect(splitFor(126, 16, 2)).toEqual({ embeddingInSplit: true, lossInSplit: true })
    expect(stageSizes(126, 16, 2)).toEqual([7, ...Array(14).fill(8), 7])
  })

  it('the loss alone when layers + 1 divides: 31 layers over 4 stages, 8 + 8 + 8 + 7', () => {
    // 31 % 4 = 3 and 33 % 4 = 1, but 32 / 4 = 8
    expect(splitFor(31, 4, 1)).toEqual({ lossInSplit: true })
    expect(stageSizes(31, 4, 1)).toEqual([8, 8, 8, 7])
  })

  it('first and last stage layers otherwise: DeepSeek-V3\'s 61 layers over 16 stages, 2 + 14 × 4 + 3', () => {
    // 61, 62 and 63 are not multiples of 16; the middle takes ceil(61 / 16) = 4 each, 56 in all, the edges 5: 2 and 3
    expect(splitFor(61, 16, 1)).toEqual({ firstStageLayers: 2, lastStageLayers: 3 })
    expect(stageSizes(61, 16, 1)).toEqual([2, ...Array(14).fill(4), 3])
  })

  it('two stages: the layers shared between them, the last taking the odd one', () => {
    // 7 and 7 + 2 = 9 are odd, 7 + 1 = 8 is not: the loss alone, 8 / 2 = 4 per stage, the last one short
    expect(splitFor(7, 2, 1)).toEqual({ lossInSplit: true })
    expect(stageSizes(7, 2, 1)).toEqual([4, 3])
  })

  it('nothing for an even split, for one stage, or for fewer layers than chunks', () => {
    expect(splitFor(80, 16, 1)).toBeUndefined()
    expect(splitFor(126, 1, 1)).toBeUndefined()
    expect(splitFor(3, 8, 1)).toBeUndefined()
    // 3 virtual stages: 128 % 48 ≠ 0, 127 % 48 ≠ 0, and middle stages of ceil(126 / 48) · 3 = 9 layers leave nothing for the edges; of 6, 21 each: no balance
    expect(splitFor(126, 16, 3)).toBeUndefined()
  })

  it('is always a split the laws accept, every chunk holding at least one layer and the stages adding up to the layers', () => {
    const cluster = clusterOf(8, 16)
    let found = 0
    for (let layers = 1; layers <= 130; layers++) {
      for (const pp of [2, 3, 4, 5, 6, 7, 8, 12, 16]) {
        for (const v of [1, 2, 3, 4]) {
          const split = splitFor(layers, pp, v)
          if (split === undefined) continue
          found++
          const s = strategy({ pp, virtualStages: v, pipelineSplit: split })
          const model = shaped(layers)
          const laws = validate({ model, cluster, gpus: pp })(s)
          expect(E.isRight(laws) ? [] : laws.left.map((l) => l.code)).toEqual([])
          let total = 0
          for (let r = 0; r < pp; r++) {
            for (let c = 0; c < v; c++) {
              const chunk = layersOfChunk(model, s)(r, c)
              expect(chunk.length).toBeGreaterThanOrEqual(1)
              total += chunk.length
            }
            // balanced: no stage holds more than a chunk beyond the even share rounded up to whole chunks
            expect(layersOfStage(model, s)(r).length).toBeLessThanOrEqual(v * Math.ceil(layers / pp / v) + v)
          }
          expect(total).toBe(layers)
        }
      }
    }
    expect(found).toBeGreaterThan(500)
  })
})

describe('enumerate with unevenPipelines', () => {
  const model = shaped(126)
  const cluster = clusterOf(8, 16)
  const target = { model, cluster }

  it('adds the pipeline degrees that do not divide the layers, each with its split, and every one validates', () => {
    const even = [...enumerate(target)({ only: { tp: [8] } })]
    const all = [...enumerate(target)({ only: { tp: [8] }, unevenPipelines: true })]
    // 126 = 2 · 3² · 7: of the divisors of 16 (128 / tp 8), only 1 and 2 divide it; 4, 8 and 16 need a split
    expect([...new Set(even.map((s) => s.pp))].sort((a, b) => a - b)).toEqual([1, 2])
    expect([...new Set(all.map((s) => s.pp))].sort((a, b) => a - b)).toEqual([1, 2, 4, 8, 16])
    const pp16 = all.filter((s) => s.pp === 16 && s.virtualStages === 1)
    expect(pp16.map((s) => s.pipelineSplit)).toEqual(pp16.map(() => ({ embeddingInSplit: true, lossInSplit: true })))
    for (const s of all) expect(E.isRight(validate(target)(s))).toBe(true)
    // the even ones are the same strategies as without the option
    expect(all.filter((s) => s.pipelineSplit === undefined)).toEqual(even)
  })
})
