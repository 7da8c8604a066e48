import * as path from 'node:path'
import { runReadmeExamples } from '@meshplan/test-utils'

describe('README', () => {
  it('its example compiles under the strict settings, runs, and prints numbers worked out by hand', () => {
    const runs = runReadmeExamples(path.join(__dirname, '..'))
    expect(runs).toHaveLength(1)
    const [run] = runs
    expect(run?.error).toBeUndefined()
    // Llama-2-7B: 32 × (4·4096² + 3·4096·11008 + 2·4096) + 2 × 32000 × 4096 + 4096
    const total = 32 * (4 * 4096 ** 2 + 3 * 4096 * 11008 + 2 * 4096) + 2 * 32000 * 4096 + 4096
    expect(total).toBe(6_738_415_616)
    // forward: 2 × (32 × (4·4096² + 3·4096·11008) + 32000·4096) + 4 × 32 × 32 × 128 × 4096
    const forward = 2 * (32 * (4 * 4096 ** 2 + 3 * 4096 * 11008) + 32000 * 4096) + 4 * 32 * 32 * 128 * 4096
    // Mixtral: 32 × (attention + router + norms + 2 experts) + embedding + head + final norm
    const active = 32 * (2 * 4096 ** 2 + 2 * 4096 * 1024 + 4096 * 8 + 2 * 4096 + 2 * 3 * 4096 * 14336) + 2 * 32000 * 4096 + 4096
    expect(run?.output).toEqual([
      `parameters ${total}`,
      `forward FLOPs per token at 4096 ${forward}`,
      `active ${active}`,
      'did you mean deepseek-v3',
    ])
  })
})
