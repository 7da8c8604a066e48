import * as path from 'node:path'
import { runReadmeExamples } from '@meshplan/test-utils'

describe('README example', () => {
  const [usage] = runReadmeExamples(path.join(__dirname, '..'))

  it('refuses the reference plan on vLLM and exports the nearest plan, EP64 with whole experts', () => {
    expect(usage?.error).toBeUndefined()
    expect(usage?.output[0]).toBe('expert-layout')
    // the experts stay on EP64, whole (no ETP in the description), over TP × DP = 64 GPUs
    expect(usage?.output[1]).toMatch(/EP64/)
    expect(usage?.output[1]).not.toMatch(/ETP/)
    expect(usage?.output[2]).toMatch(/^vllm serve \$MODEL_PATH .*--enable-expert-parallel/)
  })
})
