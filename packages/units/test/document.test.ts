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

describe('parseDocument: data only, within its limits', () => {
  const message = (r: E.Either<{ readonly message: string }, unknown>): string => (E.isLeft(r) ? r.left.message : 'parsed')

  it('refuses YAML tags, the language ones and custom ones, with the line', () => {
    expect(message(parseDocument('a: 1\nf: !!js/function "function () {}"\n', 't.yaml'))).toMatch(/^t\.yaml: not valid YAML: line 2: tags are not allowed/)
    expect(message(parseDocument('x: !!python/object:os.system ls\n', 't.yaml'))).toMatch(/line 1: tags are not allowed/)
    expect(message(parseDocument('x: !mine 2\n', 't.yaml'))).toMatch(/line 1: tags are not allowed/)
  })

  it('refuses more than one document, naming the line of the separator', () => {
    expect(message(parseDocument('a: 1\n---\nb: 2\n', 'm.yaml'))).toContain('line 2: more than one document')
  })

  it('refuses an alias bomb: aliases that expand beyond the bound', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`)].join('\n')
    expect(message(parseDocument(bomb, 'bomb.yaml'))).toMatch(/alias/)
  })

  it('names the line of a duplicate key, the last of thousands', () => {
    expect(message(parseDocument('a: 1\nb: 2\na: 3\n', 'd.yaml'))).toContain('line 3: the key "a" appears twice')
    const keys = Array.from({ length: 2_500 }, (_, i) => `k${i}: ${i}`).join('\n')
    expect(E.isRight(parseDocument(keys, 'many.yaml'))).toBe(true)
    expect(message(parseDocument(`${keys}\nk17: 0`, 'many.yaml'))).toContain('line 2501: the key "k17" appears twice')
  })

  it('refuses YAML beyond 32 KiB before parsing it (its parser is slow), and says to write JSON; JSON of that size is read', () => {
    const big = { list: Array.from({ length: 8_000 }, (_, i) => `item ${i}`) }
    const yaml = big.list.map((v) => `- ${v}`).join('\n')
    expect(yaml.length).toBeGreaterThan(32 * 1024)
    expect(message(parseDocument(yaml, 'big.yaml'))).toContain('more than the limit of 32,768 for YAML (a file written by hand); write a larger one as JSON')
    expect(E.isRight(parseDocument(JSON.stringify(big), 'big.json'))).toBe(true)
  })

  it('refuses, before parsing, text nested deeper than 64 levels (a parser would exhaust the stack)', () => {
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`
    expect(message(parseDocument(deep, 'deep.json'))).toContain('line 1: nested deeper than 64 levels')
    const deepYaml = `${'{"a":'.repeat(1_000)}1${'}'.repeat(1_000)}` // under the YAML size limit
    expect(message(parseDocument(deepYaml, 'deep.yaml'))).toContain('nested deeper than 64 levels')
    // brackets inside strings are text, not nesting
    expect(E.isRight(parseDocument(JSON.stringify({ s: '['.repeat(1000) }), 's.json'))).toBe(true)
  })

  it('refuses an object of more than 10,000 keys and a list of more than 100,000 elements, naming where', () => {
    const keys = JSON.stringify(Object.fromEntries([['nodes', 1], ...Array.from({ length: 10_001 }, (_, i) => [`k${i}`, 0])]))
    expect(message(parseDocument(keys, 'k.json'))).toContain('the document: an object of 10,002 keys, more than 10,000')
    expect(message(parseDocument(JSON.stringify({ cases: new Array(100_001).fill(0) }), 'l.json'))).toContain('cases: a list of 100,001 elements, more than 100,000')
  })

  it('keeps "__proto__" as a key of the data, never as a prototype', () => {
    const r = parseDocument('__proto__: {polluted: 1}\na: 1\n', 'p.yaml')
    expect(E.isRight(r) && Object.getPrototypeOf(r.right)).toBe(Object.prototype)
    expect(E.isRight(r) && (r.right as { polluted?: number }).polluted).toBeUndefined()
  })
})
