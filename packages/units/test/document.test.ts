import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { formatOf, parseDocument } from '../src/document'

describe('parseDocument', () => {
  it('reads YAML and JSON by extension', () => {
    expect(parseDocument('nodes: 16\nmemory: 80GiB\n', 'c.yaml')).toEqual(E.right({ nodes: 16, memory: '80GiB' }))
    expect(parseDocument('{"nodes": 16}', 'c.json')).toEqual(E.right({ nodes: 16 }))
    expect(formatOf('plan.YML')).toBe('yaml')
    expect(formatOf('plan')).toBe('json')
  })

  it('reports a syntax error with the file name instead of throwing', () => {
    const r = parseDocument('{"nodes": ', 'bad.json')
    expect(E.isLeft(r) && r.left.message.startsWith('bad.json: not valid JSON')).toBe(true)
    const y = parseDocument('a: [1, 2\n', 'bad.yaml')
    expect(E.isLeft(y) && y.left.message.startsWith('bad.yaml: not valid YAML')).toBe(true)
  })

  it('rejects duplicate YAML keys', () => {
    expect(E.isLeft(parseDocument('a: 1\na: 2\n', 'dup.yaml'))).toBe(true)
  })

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('x.json', 'x.yaml'), (text, name) => {
        parseDocument(text, name)
      }),
    )
  })
})
