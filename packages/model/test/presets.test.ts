import * as E from 'fp-ts/Either'
import { moeLayerCount } from '../src/architecture'
import { parameterCounts } from '../src/parameters'
import { modelNames, modelPreset, models } from '../src/presets'
import { architectureProblems } from './arbitraries'

describe('presets', () => {
  it.each(modelNames)('%s is a valid architecture with its own name and a source', (name) => {
    const arch = models[name]
    expect(architectureProblems(arch)).toEqual([])
    expect(arch.name).toBe(name)
    expect(arch.source?.length ?? 0).toBeGreaterThan(10)
  })

  it('includes the models the planner and its tests use', () => {
    for (const name of ['llama-2-7b', 'llama-2-70b', 'llama-3.1-405b', 'mixtral-8x7b', 'deepseek-v3', 'gpt3-175b', 'reference-moe'])
      expect(modelNames).toContain(name)
  })

  it('reference-moe: the plan\'s 16 layers × 64 experts at hidden 1024, with the documented assumptions', () => {
    const arch = models['reference-moe']
    expect([arch.layers, arch.hidden, arch.moe?.experts, moeLayerCount(arch)]).toEqual([16, 1024, 64, 16])
    expect(arch.attention).toEqual({ kind: 'mha', heads: 16, kvHeads: 16, headDim: 64, qkvBias: false, outputBias: false, qkNorm: false })
    expect(arch.moe).toEqual({
      experts: 64,
      topK: 2,
      expertFfn: 4096,
      sharedExperts: 0,
      sharedExpertFfn: 0,
      firstDenseLayers: 0,
      step: 1,
      routerBias: false,
    })
    expect([arch.vocab, arch.tiedEmbeddings, arch.mlp]).toEqual([32000, false, { kind: 'swiglu', ffn: 4096, bias: false }])
    // one expert of one layer: 3 × 1024 × 4096 = 12,582,912 parameters, 25.2 MB in bf16
    expect(parameterCounts(arch).routedExperts / (16 * 64)).toBe(12_582_912)
  })

  it('Qwen3-235B-A22B: 235B total, 22B active (Qwen3 technical report), both within 1%', () => {
    const counts = parameterCounts(models['qwen3-235b-a22b'])
    expect(Math.abs(counts.total / 235e9 - 1)).toBeLessThan(0.01)
    expect(Math.abs(counts.activePerToken / 22e9 - 1)).toBeLessThan(0.01)
  })

  it('common dense presets match their published sizes within 0.5%', () => {
    const published: ReadonlyArray<readonly [keyof typeof models, number]> = [
      ['llama-3.1-8b', 8.03e9],
      ['llama-3.1-70b', 70.6e9],
      ['mistral-7b', 7.24e9],
      ['qwen2.5-72b', 72.7e9],
    ]
    for (const [name, total] of published) expect([name, Math.abs(parameterCounts(models[name]).total / total - 1) < 0.005]).toEqual([name, true])
  })
})

describe('modelPreset', () => {
  it('finds every preset by name', () => {
    for (const name of modelNames) expect(modelPreset(name)).toEqual(E.right(models[name]))
  })

  it('suggests the nearest name for a typo, a case slip or a missing dash', () => {
    const suggestion = (name: string): string | null => {
      const result = modelPreset(name)
      return E.isLeft(result) ? result.left.suggestion : 'found'
    }
    expect(suggestion('deepsek-v3')).toBe('deepseek-v3')
    expect(suggestion('Llama-2-70B')).toBe('llama-2-70b')
    expect(suggestion('llama2-7b')).toBe('llama-2-7b')
    expect(suggestion('mixtral')).toBe('mixtral-8x7b')
  })

  it('says so when nothing is close, and lists the presets', () => {
    const result = modelPreset('bloom-176b-with-alibi')
    expect(E.isLeft(result) && result.left).toMatchObject({ code: 'unknown-model', name: 'bloom-176b-with-alibi', suggestion: null })
    expect(E.isLeft(result) && result.left.message).toBe(`unknown model preset "bloom-176b-with-alibi"; known: ${modelNames.join(', ')}`)
    expect(modelPreset('deepsek-v3')).toMatchObject({
      left: { message: expect.stringMatching(/^unknown model preset "deepsek-v3" \(did you mean "deepseek-v3"\?\); known: llama-2-7b, /) },
    })
  })

  it('does not treat object prototype keys as presets', () => {
    expect(E.isLeft(modelPreset('constructor'))).toBe(true)
    expect(E.isLeft(modelPreset('__proto__'))).toBe(true)
  })
})
