import * as path from 'node:path'
import { runReadmeExamples } from '@meshplan/test-utils'

describe('README example', () => {
  const [usage] = runReadmeExamples(path.join(__dirname, '..'))

  it('compiles and runs: 8 GPUs holds, a 1 ms TPOT for Llama-2-70B at batch 16 does not', () => {
    expect(usage?.error).toBeUndefined()
    // Llama-2-70B reads 17.2 GB of weights per GPU per decode step: at 3.35 TB/s that alone is over 5 ms
    expect(usage?.output).toEqual(['gpus_used holds', 'tpot does not hold'])
  })
})
