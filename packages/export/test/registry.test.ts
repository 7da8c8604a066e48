import * as E from 'fp-ts/Either'
import { engineNames, engines, findEngine, isServingEngine, isTrainingEngine, servingEngines, trainingEngines, versionsOf } from '../src'

describe('the engine tables', () => {
  it('has the five engines, serving then training, each with at least one release', () => {
    expect(engineNames).toEqual(['vllm', 'sglang', 'trtllm', 'megatron', 'torchtitan'])
    for (const name of engineNames) expect(versionsOf(name).length).toBeGreaterThan(0)
    expect(servingEngines.every(isServingEngine)).toBe(true)
    expect(trainingEngines.every(isTrainingEngine)).toBe(true)
    expect(engines).toHaveLength(servingEngines.length + trainingEngines.length)
  })

  it('names every release once, with its sources', () => {
    const ids = engines.map((e) => `${e.name} ${e.version}`)
    expect(new Set(ids).size).toBe(ids.length)
    for (const e of engines) expect(e.source).toMatch(new RegExp(`${e.version.replace(/\./g, '\\.')}`))
  })
})

describe('findEngine', () => {
  it('gives the newest release by default, a named one when asked, with or without its v prefix', () => {
    const vllm = findEngine('vllm')
    expect(E.isRight(vllm) && vllm.right.version).toBe(versionsOf('vllm')[0])
    const titan = findEngine('torchtitan', '0.2.2')
    expect(E.isRight(titan) && titan.right.version).toBe('v0.2.2')
    const megatron = findEngine('megatron', '0.14.0')
    expect(E.isRight(megatron) && megatron.right.version).toBe('core_v0.14.0')
  })

  it('says which engines and releases there are when asked for another', () => {
    expect(findEngine('ollama')).toEqual(E.left('no engine "ollama"; expected one of vllm, sglang, trtllm, megatron, torchtitan'))
    expect(findEngine('vllm', '0.3.0')).toEqual(E.left('vllm 0.3.0: no such release in the table; it has 0.12.0'))
  })
})
