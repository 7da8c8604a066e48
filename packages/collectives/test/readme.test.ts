import * as path from 'node:path'
import { runReadmeExamples } from '@meshplan/test-utils'

describe('README', () => {
  const runs = runReadmeExamples(path.join(__dirname, '..'))

  it('has two TypeScript examples, which compile and run', () => {
    expect(runs).toHaveLength(2)
    for (const run of runs) {
      expect(run.error).toBeUndefined()
    }
  })

  it('prints the figures worked out by hand (usage)', () => {
    expect(runs[0]?.output).toEqual([
      // NVLS: 8.4 + 2 x 1 + 25 = 35.4 µs; 1.125 x 2^30 / (450e9 x 0.8 x 0.85 = 306e9) = 3.94763 ms
      // -> 3.98303 ms; busbw 1.75 x 2^30 / 3.98303e-3 = 471.8 GB/s
      'nvls 3.983 ms 471.8 GB/s',
      // 8.4 + 5 + 127 x 0.5 = 76.9 µs; 120/128 x 2^30 / (50e9 x 0.92) = 21.8833 ms -> 21.96 ms
      'pairwise 21.96 ms',
      // DGX H100 has no SHARP on its network
      'not-applicable',
      // ring/LL: 6.6 + 14 x 0.5 = 13.6 µs; 1.75 x 1024 / 180e9 = 0.00996 µs
      '13.61 µs',
    ])
  })

  it('prints the figures worked out by hand (extension)', () => {
    expect(runs[1]?.output).toEqual([
      // 15 µs + 120/128 x 2^30 / 45e9 = 15e-6 + 22.3696e-3 = 22.3846 ms
      'pairwise 22.38 ms',
      // ring: 8.4 + 7 x 1 = 15.4 µs; 7/8 x 2^30 / (450e9 x 0.85) = 2.45627 ms -> 2.47167 ms
      'ring 2.472 ms',
    ])
  })
})
