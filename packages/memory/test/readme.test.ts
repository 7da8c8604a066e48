import * as path from 'node:path'
import { runReadmeExamples } from '@meshplan/test-utils'

describe('README examples', () => {
  const [usage, extension] = runReadmeExamples(path.join(__dirname, '..'))

  it('compiles and prints the Llama-2-70B numbers worked out by hand', () => {
    expect(usage?.error).toBeUndefined()
    // 2 * 80 * 8 * 128 * 2 B; 8,623,235,072 parameters * 2 B = 17.246 GB; 325 sequences (inference.test.ts)
    expect(usage?.output).toEqual(['KV cache per token: 327680 bytes', 'weights per GPU: 17.25 GB', 'sequences of 4096 tokens per TP8 replica: 325'])
  })

  it('extends the model with a fixed reserve and paged KV blocks', () => {
    expect(extension?.error).toBeUndefined()
    // budget 54,560,575,872 + (8e9 - 6e9) = 56,560,575,872 B; KV per token 40,960 * 4104 / 4096 = 41,040 B
    // tokens: floor(56,560,575,872 / 41,040) = 1,378,181; sequences: floor(1,378,181 / 4096) = 336
    expect(Math.floor(56_560_575_872 / 41_040)).toBe(1_378_181)
    expect(extension?.output).toEqual(['sequences with my engine: 336'])
  })
})
