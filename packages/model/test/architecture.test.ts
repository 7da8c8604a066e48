import fc from 'fast-check'
import { denseLayerCount, isMoeLayer, kvHeads, moeLayerCount, queryHeads } from '../src/architecture'
import { models } from '../src/presets'
import { arbitraryArchitecture } from './arbitraries'

describe('layer layout', () => {
  it('DeepSeek-V3 keeps its first 3 layers dense and the other 58 MoE', () => {
    const arch = models['deepseek-v3']
    const moeLayers = Array.from({ length: arch.layers }, (_, i) => i).filter(isMoeLayer(arch))
    expect(moeLayers[0]).toBe(3)
    expect(moeLayers[moeLayers.length - 1]).toBe(60)
    expect(moeLayerCount(arch)).toBe(61 - 3)
    expect(denseLayerCount(arch)).toBe(3)
  })

  it('Qwen-style step 2 makes every second layer MoE, starting with layer 1', () => {
    const base = models['qwen3-235b-a22b']
    const moe = base.moe
    if (moe === undefined) throw new Error('qwen3-235b-a22b is an MoE preset')
    const arch = { ...base, layers: 6, moe: { ...moe, step: 2 } }
    expect([0, 1, 2, 3, 4, 5].map(isMoeLayer(arch))).toEqual([false, true, false, true, false, true])
    expect(moeLayerCount(arch)).toBe(3)
  })

  it('a dense model has no MoE layer, and out-of-range indices are never MoE', () => {
    expect(moeLayerCount(models['llama-2-7b'])).toBe(0)
    expect(isMoeLayer(models['mixtral-8x7b'])(32)).toBe(false)
    expect(isMoeLayer(models['mixtral-8x7b'])(-1)).toBe(false)
  })

  it('law: MoE and dense layers partition the layers; MoE count = floor((layers - first) / step)', () => {
    fc.assert(
      fc.property(arbitraryArchitecture, (arch) => {
        expect(moeLayerCount(arch) + denseLayerCount(arch)).toBe(arch.layers)
        const moe = arch.moe
        const expected = moe === undefined ? 0 : Math.floor((arch.layers - moe.firstDenseLayers) / moe.step)
        expect(moeLayerCount(arch)).toBe(expected)
      }),
    )
  })
})

describe('heads', () => {
  it('GQA caches fewer heads than it queries; MLA caches one latent', () => {
    expect(queryHeads(models['llama-2-70b'])).toBe(64)
    expect(kvHeads(models['llama-2-70b'])).toBe(8)
    expect(queryHeads(models['deepseek-v3'])).toBe(128)
    expect(kvHeads(models['deepseek-v3'])).toBe(1)
  })
})
