import * as path from 'node:path'
import { runReadmeExamples } from '@meshplan/test-utils'

describe('README example', () => {
  const [usage] = runReadmeExamples(path.join(__dirname, '..'))

  it('compiles, runs, replaces a model and prices a dispatch', () => {
    expect(usage?.error).toBeUndefined()
    expect(usage?.output[0]).toBe('overlap {"tp":0,"ep":1,"pp":0,"cp":1}')
    // 32 · 1 · 2 · 1024 · 2 = 131,072
    expect(usage?.output[1]).toBe('dispatch bytes 131072')
  })
})
