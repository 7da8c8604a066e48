/**
 * Reading the text of a user's file (JSON or YAML) into an untyped value, ready for
 * a codec. A file is data only: YAML's core schema, no tags (`!!js/function`,
 * `!!python/...` or a custom `!tag` is an error, not a warning), one document, aliases
 * that expand within a bound. Its size is bounded before anything is parsed (bytes,
 * nesting depth), and after (list lengths, keys per object, values in all), so that
 * no file, however crafted, makes a decoder slow or exhausts the stack. Every problem
 * comes back as a value with the line where the format has one.
 *
 * @example
 * import { parseDocument } from '@meshplan/units'
 * parseDocument('nodes: 16\n', 'cluster.yaml') // right({ nodes: 16 })
 * parseDocument('f: !!js/function x\n', 'a.yaml') // left: a.yaml: line 1: tags are not allowed ...
 */
import * as E from 'fp-ts/Either'
import { isMap, isScalar, isSeq, parseDocument as parseYamlDocument, type Node } from 'yaml'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The syntaxes a user's file may be written in. */
export type DocumentFormat = 'json' | 'yaml'

/** A file that is not well-formed JSON or YAML, or is beyond the limits. */
export interface DocumentError {
  readonly file: string
  readonly format: DocumentFormat
  readonly message: string
}

/**
 * The limits of a user's file. A case file of 10,000 published measurements is about
 * 15 MB and 6 levels deep; every bound is far above what a real file needs.
 */
export const documentLimits = {
  /** Characters of text. */
  characters: 32 * 2 ** 20,
  /**
   * Characters of YAML text: 32 KiB. YAML is for files written by hand (plans, clusters:
   * a few KB); its parser takes about 2 ms per KB here, against JSON's 0.01, so a larger
   * file must be JSON (case files are) and the parse stays well under half a second.
   */
  yamlCharacters: 32 * 2 ** 10,
  /** Nesting of objects and lists. */
  depth: 64,
  /** Elements of one list. */
  listLength: 100_000,
  /** Keys of one object. */
  keys: 10_000,
  /** Values in the whole document. */
  values: 2_000_000,
  /** YAML aliases (`*name`) in the whole document. */
  aliases: 100,
} as const

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The format of a file by its name: `.yaml` and `.yml` are YAML, anything else JSON. */
export const formatOf = (fileName: string): DocumentFormat => (/\.ya?ml$/i.test(fileName) ? 'yaml' : 'json')

const count = (n: number): string => n.toLocaleString('en-US')

/**
 * The deepest nesting of `[` and `{` in `text` outside quoted strings, stopping as soon
 * as it passes `limit` (a linear scan: a parser's recursion never sees deeper input).
 */
const bracketDepthOver = (text: string, limit: number): { readonly line: number } | undefined => {
  let depth = 0
  let line = 1
  let quote = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '\n') {
      line++
      continue
    }
    if (quote !== '') {
      if (c === '\\' && quote === '"') i++
      else if (c === quote) quote = ''
      continue
    }
    if (c === '"' || c === "'") quote = c
    else if (c === '#' && (i === 0 || text[i - 1] === ' ' || text[i - 1] === '\n')) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++
    } else if (c === '[' || c === '{') {
      depth++
      if (depth > limit) return { line }
    } else if (c === ']' || c === '}') depth = Math.max(0, depth - 1)
  }
  return undefined
}

/** Why a parsed value is beyond the limits (where, in a JSON path), or undefined. */
const overLimits = (value: unknown): string | undefined => {
  let values = 0
  const stack: Array<{ readonly v: unknown; readonly path: string; readonly depth: number }> = [{ v: value, path: '', depth: 0 }]
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop() as { v: unknown; path: string; depth: number }
    if (++values > documentLimits.values) return `more than ${count(documentLimits.values)} values in all`
    if (typeof v !== 'object' || v === null) continue
    if (depth >= documentLimits.depth) return `${path || 'the document'}: nested deeper than ${documentLimits.depth} levels`
    if (Array.isArray(v)) {
      if (v.length > documentLimits.listLength) return `${path || 'the document'}: a list of ${count(v.length)} elements, more than ${count(documentLimits.listLength)}`
      for (let i = 0; i < v.length; i++) stack.push({ v: v[i], path: `${path}[${i}]`, depth: depth + 1 })
    } else {
      const keys = Object.keys(v)
      if (keys.length > documentLimits.keys) return `${path || 'the document'}: an object of ${count(keys.length)} keys, more than ${count(documentLimits.keys)}`
      for (const k of keys) stack.push({ v: (v as Record<string, unknown>)[k], path: path === '' ? k : `${path}.${k}`, depth: depth + 1 })
    }
  }
  return undefined
}

/** The first key used twice in one YAML mapping (a linear walk with a set per mapping), with its line, or undefined. */
const duplicateKey = (root: Node | null, lineOf: (offset: number) => number): string | undefined => {
  const stack: Array<Node | null | undefined> = [root]
  while (stack.length > 0) {
    const node = stack.pop()
    if (isMap(node)) {
      const seen = new Set<unknown>()
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key
        if (seen.has(key)) {
          const at = isScalar(pair.key) && pair.key.range !== undefined && pair.key.range !== null ? pair.key.range[0] : 0
          return `line ${lineOf(at)}: the key ${JSON.stringify(key)} appears twice in one mapping`
        }
        seen.add(key)
        stack.push(pair.value as Node | null)
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item as Node | null)
    }
  }
  return undefined
}

const lineIndex = (text: string) => {
  const starts: number[] = [0]
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1)
  return (offset: number): number => {
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if ((starts[mid] ?? 0) <= offset) lo = mid
      else hi = mid - 1
    }
    return lo + 1
  }
}

const firstLine = (message: string): string => message.split('\n')[0] ?? ''

const parseYaml = (text: string): E.Either<string, unknown> => {
  const doc = parseYamlDocument(text, { schema: 'core', uniqueKeys: false, prettyErrors: true })
  const error = doc.errors[0]
  if (error !== undefined) return E.left(error.code === 'MULTIPLE_DOCS' ? `line ${error.linePos?.[0].line ?? 1}: more than one document (--- separates them); give one` : firstLine(error.message))
  const tag = doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED')
  if (tag !== undefined) return E.left(`line ${tag.linePos?.[0].line ?? 1}: tags are not allowed (${firstLine(tag.message).replace(/ at line .*$/, '')}); a file holds plain data`)
  const warning = doc.warnings[0]
  if (warning !== undefined) return E.left(firstLine(warning.message))
  const duplicate = duplicateKey(doc.contents, lineIndex(text))
  if (duplicate !== undefined) return E.left(duplicate)
  try {
    return E.right(doc.toJS({ maxAliasCount: documentLimits.aliases }))
  } catch (cause) {
    return E.left(cause instanceof Error && /alias/i.test(cause.message) ? `aliases expand to too much data (more than ${documentLimits.aliases} uses)` : String(cause))
  }
}

/** Parses the text of `fileName` (format from its extension unless given) within {@link documentLimits}. Never throws. */
export const parseDocument = (text: string, fileName: string, format: DocumentFormat = formatOf(fileName)): E.Either<DocumentError, unknown> => {
  const fail = (message: string): E.Either<DocumentError, never> => E.left({ file: fileName, format, message: `${fileName}: not valid ${format.toUpperCase()}: ${message}` })
  if (text.length > documentLimits.characters) return fail(`${count(text.length)} characters, more than the limit of ${count(documentLimits.characters)}`)
  if (format === 'yaml' && text.length > documentLimits.yamlCharacters)
    return fail(`${count(text.length)} characters, more than the limit of ${count(documentLimits.yamlCharacters)} for YAML (a file written by hand); write a larger one as JSON`)
  const deep = bracketDepthOver(text, documentLimits.depth)
  if (deep !== undefined) return fail(`line ${deep.line}: nested deeper than ${documentLimits.depth} levels`)
  let value: unknown
  try {
    if (format === 'yaml') {
      const parsed = parseYaml(text)
      if (E.isLeft(parsed)) return fail(parsed.left)
      value = parsed.right
    } else value = JSON.parse(text)
  } catch (cause) {
    return fail(cause instanceof Error ? firstLine(cause.message) : String(cause))
  }
  const over = overLimits(value)
  return over === undefined ? E.right(value) : fail(over)
}
