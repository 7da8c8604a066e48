import * as path from 'node:path'
import { runReadmeExamples } from '@meshplan/test-utils'

describe('README example', () => {
  it('compiles under the strict settings and prints the reference plan facts', () => {
    const [run] = runReadmeExamples(path.join(__dirname, '..'))
    expect(run?.error).toBeUndefined()
    // 16 MoE layers x (64 experts / ep 64) = 16 shards, each 1/etp = 1/2 of an expert: 8 whole experts
    expect(run?.output.slice(0, 2)).toEqual(['true', '16 expert shards = 8 whole experts per GPU'])
    expect(run?.output[2]).toMatch(/^\d+ valid strategies on 128 GPUs$/)
  })
})
