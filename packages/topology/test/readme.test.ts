import * as fs from 'node:fs'
import * as path from 'node:path'
import { runReadmeExamples } from '@meshplan/test-utils'
import { deviceNames, systemNames } from '../src'

const packageDir = path.join(__dirname, '..')

describe('README', () => {
  const runs = runReadmeExamples(packageDir)

  it('has one TypeScript example, which compiles and runs', () => {
    expect(runs).toHaveLength(1)
    expect(runs[0]?.error).toBeUndefined()
  })

  it('prints the figures worked out by hand', () => {
    expect(runs[0]?.output).toEqual([
      // 36 trays x 4 GPUs; one NVLink domain = 18 trays x 4 GPUs
      '144 72',
      // ranks 0, 4 (trays 0, 1 of rack 0) and 72, 76 (trays 18, 19 = trays 0, 1 of rack 1)
      '4 ranks: 1 per node x 2 nodes per domain x 2 domains',
      // 16 x 8 devices; 200 Gb/s / 8 = 25e9 B/s
      'DGX H100 (16 nodes, 128 devices) 25000000000',
      // 20 trays is neither within one rack (18) nor whole racks (36)
      'cluster.nodes: expected a multiple of 18 (nodes per scale-up domain) when above 18, e.g. 18 or 36, got 20',
    ])
  })

  it('lists every preset in its tables', () => {
    const readme = fs.readFileSync(path.join(packageDir, 'README.md'), 'utf8')
    for (const name of [...deviceNames, ...systemNames]) expect(readme).toContain(`| \`${name}\` |`)
  })
})
