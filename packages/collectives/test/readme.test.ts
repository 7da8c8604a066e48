import * as path from 'node:path'
import { runReadmeExamples } from '@meshplan/test-utils'

describe('README', () => {
  const runs = runReadmeExamples(path.join(__dirname, '..'))

  it('has three TypeScript examples, which compile and run', () => {
    expect(runs).toHaveLength(3)
    for (const run of runs) {
      expect(run.error).toBeUndefined()
    }
  })

  it('prints the figures worked out by hand (usage)', () => {
    expect(runs[0]?.output).toEqual([
      // NVLS: NCCL's 25 µs; 1.125 x 2^30 / (450e9 x 0.8 x 0.85 = 306e9) = 3.94758 ms
      // -> 3.97258 ms; busbw 1.75 x 2^30 / 3.97258e-3 = 473.0 GB/s
      'nvls 3.973 ms 473.0 GB/s',
      // 8.4 + 7 x 3.4 + 120 x 3 + 14 = 406.2 µs; 120/128 x 2^30 / (50e9 x 0.92) = 21.8833 ms -> 22.29 ms
      'pairwise 22.29 ms',
      // DGX H100 has no SHARP on its network
      'not-applicable',
      // ring/LL: 6.6 + 14 x 0.6 = 15.0 µs; 1.75 x 1024 / 141e9 = 0.0127 µs
      '15.01 µs',
    ])
  })

  it('prints the figures worked out by hand (extension)', () => {
    expect(runs[1]?.output).toEqual([
      // 15 µs + 120/128 x 2^30 / 45e9 = 15e-6 + 22.3696e-3 = 22.3846 ms
      'pairwise 22.38 ms',
      // ring/Simple: 8.4 + 7 x 3.4 = 32.2 µs; 7/8 x 2^30 / (450e9 x 0.85) = 2.45627 ms -> 2.48847 ms
      'ring 2.488 ms',
    ])
  })

  it('prints the figures worked out by hand (MoE exchange)', () => {
    expect(runs[2]?.output).toEqual([
      // DeepEP low-latency dispatch, EP 16 on H800: 35 µs + 1024 x 8/16 x 7408 B / 46e9 = 117.45 µs;
      // 1024 x 7408 B / 117.45 µs = 64.6 GB/s (DeepEP docs/legacy.md: 118 µs, 63 GB/s)
      '117.5 µs 64.6 GB/s scale-out',
    ])
  })
})
