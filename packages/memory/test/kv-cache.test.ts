import { models } from '@meshplan/model'
import { cachedTokens, kvBytesPerToken, kvBytesPerTokenPerGpu } from '../src/kv-cache'

describe('kv cache', () => {
  it('gives Llama-2-70B 327,680 bytes per token in bf16: 2 (K, V) * 80 layers * 8 KV heads * 128 * 2 bytes', () => {
    expect(kvBytesPerToken(models['llama-2-70b'], 'bf16')).toBe(2 * 80 * 8 * 128 * 2)
    expect(kvBytesPerToken(models['llama-2-70b'], 'bf16')).toBe(327_680)
    expect(kvBytesPerToken(models['llama-2-70b'], 'fp8')).toBe(163_840)
  })

  it('gives DeepSeek-V3 61 * (512 + 64) * 2 = 70,272 bytes per token of MLA latent in bf16', () => {
    expect(kvBytesPerToken(models['deepseek-v3'], 'bf16')).toBe(70_272)
  })

  it('splits KV heads over tp, replicates them beyond, and never splits the MLA latent', () => {
    const llama = models['llama-2-70b']
    expect(kvBytesPerTokenPerGpu(llama, 'bf16', 80, 8, 1)).toBe(327_680 / 8)
    // tp 16 > 8 KV heads: each GPU keeps one head, the same bytes as under tp 8
    expect(kvBytesPerTokenPerGpu(llama, 'bf16', 80, 16, 1)).toBe(327_680 / 8)
    expect(kvBytesPerTokenPerGpu(models['deepseek-v3'], 'bf16', 61, 8, 1)).toBe(70_272)
    // a stage of 20 layers under cp 2
    expect(kvBytesPerTokenPerGpu(llama, 'bf16', 20, 8, 2)).toBe((2 * 20 * 1 * 128 * 2) / 2)
  })

  it('caps the cached tokens at a sliding window', () => {
    const windowed = { ...models['llama-2-7b'], slidingWindow: 4096 }
    expect(cachedTokens(windowed, 32768)).toBe(4096)
    expect(cachedTokens(windowed, 1000)).toBe(1000)
    expect(cachedTokens(models['llama-2-7b'], 32768)).toBe(32768)
  })
})
