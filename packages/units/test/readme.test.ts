import * as path from 'node:path'
import { runReadmeExamples } from '@meshplan/test-utils'

describe('README example', () => {
  it('compiles under the strict settings and prints the numbers worked out by hand', () => {
    const [run] = runReadmeExamples(path.join(__dirname, '..'))
    expect(run?.error).toBeUndefined()
    // 68.98e9 * 2 = 137.96e9 B -> "138 GB"; 80 GiB; 137.96e9 / 3.35e12 s = 41.18 ms
    expect(run?.output).toEqual(['138 GB of 80 GiB', 'one read of the weights: 41.18 ms'])
  })
})
