import * as path from 'node:path'
import { typecheckReadmes, workspaceDirs } from '../src'

// Every README's TypeScript examples, type-checked once, in one program (each package's own readme test runs them).
describe('README examples type-check under the strict settings', () => {
  const root = path.resolve(__dirname, '..', '..', '..')
  const dirs = workspaceDirs(root)
  const results = typecheckReadmes(dirs)

  it('finds the READMEs of the packages', () => {
    expect(dirs.map((d) => path.relative(root, d))).toEqual(expect.arrayContaining(['packages/units', 'packages/inference', 'packages/training', 'packages/planner']))
  })

  it.each(dirs.map((d) => [path.relative(root, d), d] as const))('%s', (_name, dir) => {
    expect(results.get(dir)).toEqual((results.get(dir) ?? []).map(() => []))
  })

  it('reports a type error, so the check can fail', () => {
    const broken = typecheckReadmes([path.join(__dirname, 'fixtures', 'broken')])
    const diagnostics = [...broken.values()].flat(2)
    expect(diagnostics.join('\n')).toContain("Type 'string' is not assignable to type 'number'")
  })
})
