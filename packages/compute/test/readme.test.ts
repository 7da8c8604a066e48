import * as path from 'node:path'
import { runReadmeExamples } from '@meshplan/test-utils'

describe('README', () => {
  const runs = runReadmeExamples(path.join(__dirname, '..'))

  it('has two examples; both compile under the strict settings and run', () => {
    expect(runs).toHaveLength(2)
    for (const run of runs) {
      expect(run.error).toBeUndefined()
    }
  })

  it('the first prints the numbers worked out by hand', () => {
    // Llama-2-70B on TP8, bf16: per GPU per layer Q 8192·1024, K and V 8192·128 each, O 1024·8192,
    // MLP 3·8192·3584; LM head 4000·8192; two RMSNorms of 8192 per layer and the final one;
    // one embedding row (batch 1).
    const gemms = 80 * (8192 * 1024 + 8192 * 256 + 1024 * 8192 + 3 * 8192 * 3584) + 4000 * 8192
    const weightBytes = 2 * (gemms + 80 * 2 * 8192 + 8192 + 8192)
    expect(weightBytes).toBe(17_180_950_528)
    // 64 · (1 − (62/64)^32) = 64 · (1 − 0.362055) = 40.83
    // GPT-3: 72lh² + 12lhs + 6Vh = 1,043,677,052,928 + 28,991,029,248 + 3,774,873,600 = 1.0764e12
    const gpt3 = 72 * 96 * 12288 ** 2 + 12 * 96 * 12288 * 2048 + 6 * 51200 * 12288
    expect(gpt3).toBe(1_076_442_955_776)
    expect(runs[0]?.output).toEqual([
      `weight bytes per GPU ${weightBytes} memory-bound true`,
      'mlp-up at batch 512: compute',
      'experts touched 40.83',
      'GPT-3 model TFLOPs per token 1.0764',
      'invalid-size decode batch must be a positive integer, got 0',
    ])
  })

  it('the second prints the interpolated efficiency and the memory-bound decode time, by hand', () => {
    // log2 512 = 9: a quarter of the way from 8 (0.55) to 12 (0.78): 0.55 + 0.23 / 4 = 0.6075
    // Every operator is memory-bound at batch 1 (the measured GEMM efficiency at m = 1 is 0.02:
    // the MLP up-projection computes in 2·7168·8192 / (989.4e12 · 0.02) = 5.9 µs, streams in 39 µs),
    // so the step is its bytes over 0.9 × 3.35e12 B/s. Bytes per GPU:
    const weightBytes = 17_180_950_528
    const kvCache = 80 * 4097 * 1 * 2 * 128 * 2 // 4096 keys read + the new one written, 1 KV head of 2·128, bf16
    // activations per layer (bf16): norms 2·8192 each, qkv 8192 + 1280, attention Q and O 2·8·128 + K, V 2·128,
    // output 1024 + 8192, residual 2·3·8192, mlp-up 8192 + 7168, SwiGLU 3·3584, mlp-down 3584 + 8192
    const perLayer = 2 * (2 * 8192 + (8192 + 1280) + (2 * 8 * 128 + 2 * 128) + (1024 + 8192) + 6 * 8192 + 2 * 8192 + (8192 + 7168) + 3 * 3584 + (3584 + 8192))
    expect(perLayer).toBe(281_600)
    // plus the embedding row written, the final norm, the LM head's input and its 4000 logits
    const activations = 80 * perLayer + 2 * 8192 + 2 * 2 * 8192 + 2 * (8192 + 4000)
    const seconds = (weightBytes + kvCache + activations) / (0.9 * 3.35e12)
    expect(weightBytes + kvCache + activations).toBe(17_371_365_184)
    expect((seconds * 1e3).toFixed(3)).toBe('5.762')
    expect(runs[1]?.output).toEqual(['GEMM efficiency at m = 512 0.6075', 'decode, batch 1, 4096 keys (ms) 5.762'])
  })
})
