import * as path from 'node:path'
import { runReadmeExamples } from '@meshplan/test-utils'
import { servingSearch } from './fixtures'

describe('README example', () => {
  const [usage] = runReadmeExamples(path.join(__dirname, '..'))

  it('compiles, runs, and plots the front of a search in one panel', () => {
    expect(usage?.error).toBeUndefined()
    // the same search as the tests' fixture: its front has as many points
    expect(usage?.output[0]).toBe(`front points ${servingSearch().pareto.length} panels 1`)
  })
})
