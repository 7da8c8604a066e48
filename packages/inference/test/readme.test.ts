import * as path from 'node:path'
import { runReadmeExamples } from '@meshplan/test-utils'

describe('README example', () => {
  const [usage] = runReadmeExamples(path.join(__dirname, '..'))

  it('compiles, runs and prints an estimate and a search', () => {
    expect(usage?.error).toBeUndefined()
    // Llama-2-70B bf16 on 8 H100s: 17.2 GB of weights per GPU leave room for far more than 16 sequences of 1280 tokens
    expect(usage?.output[0]).toBe('TP8 batch 16 fits: true decode bound by: memory-bound')
    expect(usage?.output[1]).toMatch(/^best under 50 ms TPOT: TP\d/)
    expect(usage?.output[2]).toMatch(/^vLLM 0\.11, 1000 requests: \d+ output tokens\/s over \d+\.\d s$/)
  })
})
