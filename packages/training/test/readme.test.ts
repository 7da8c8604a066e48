import * as path from 'node:path'
import { runReadmeExamples } from '@meshplan/test-utils'

describe('README example', () => {
  const [usage] = runReadmeExamples(path.join(__dirname, '..'))

  it('compiles and runs: one step estimated', () => {
    expect(usage?.error).toBeUndefined()
    expect(usage?.output[0]).toMatch(/^iteration \d+\.\d\d s, MFU \d+\.\d %$/)
  })
})
