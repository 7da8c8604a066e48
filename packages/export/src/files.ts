/**
 * The configuration files an export writes, from the settings they carry: a key
 * `a.b.c` is `c` inside `b` inside `a`. YAML for TensorRT-LLM's extra LLM API options
 * (read with `yaml.safe_load`), TOML for torchtitan's job config (read with `tomllib`);
 * strings are written as JSON strings, which both read as double-quoted strings.
 *
 * @example
 * import { tomlText, yamlText } from '@meshplan/export'
 * yamlText([['enable_attention_dp', true], ['kv_cache_config.dtype', 'fp8']])
 * // 'enable_attention_dp: true\nkv_cache_config:\n  dtype: "fp8"\n'
 * tomlText([['parallelism.tensor_parallel_degree', 8]]) // '[parallelism]\ntensor_parallel_degree = 8\n'
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

import type { Value } from './launch'

/** A dotted key and its value. */
export type Entry = readonly [string, Value]

interface Tree {
  [key: string]: Tree | Value
}

const isTree = (v: Tree | Value): v is Tree => typeof v === 'object' && !Array.isArray(v)

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The entries as nested objects, in the order their first keys come. */
const treeOf = (entries: ReadonlyArray<Entry>): Tree => {
  const root: Tree = {}
  for (const [key, value] of entries) {
    const path = key.split('.')
    let node = root
    for (const part of path.slice(0, -1)) {
      const next = node[part]
      if (next !== undefined && isTree(next)) node = next
      else {
        const made: Tree = {}
        node[part] = made
        node = made
      }
    }
    node[path[path.length - 1] ?? key] = value
  }
  return root
}

/** A value as both formats write it inline: a JSON string, a number, a boolean, a list in brackets. */
const inline = (value: Value): string => (Array.isArray(value) ? `[${value.map(inline).join(', ')}]` : typeof value === 'string' ? JSON.stringify(value) : String(value))

/** YAML: a mapping per level, two spaces of indent. */
export const yamlText = (entries: ReadonlyArray<Entry>): string => {
  const lines: string[] = []
  const walk = (node: Tree, indent: string): void => {
    for (const [key, value] of Object.entries(node)) {
      if (isTree(value)) {
        lines.push(`${indent}${key}:`)
        walk(value, `${indent}  `)
      } else lines.push(`${indent}${key}: ${inline(value)}`)
    }
  }
  walk(treeOf(entries), '')
  return `${lines.join('\n')}\n`
}

/** TOML: top-level keys first, then a table per object (`[a]`, `[a.b]`), separated by a blank line. */
export const tomlText = (entries: ReadonlyArray<Entry>): string => {
  const blocks: string[] = []
  const walk = (node: Tree, table: string): void => {
    const values = Object.entries(node).filter(([, v]) => !isTree(v))
    if (values.length > 0) blocks.push([...(table === '' ? [] : [`[${table}]`]), ...values.map(([k, v]) => `${k} = ${inline(v as Value)}`)].join('\n'))
    for (const [key, value] of Object.entries(node)) if (isTree(value)) walk(value, table === '' ? key : `${table}.${key}`)
  }
  walk(treeOf(entries), '')
  return `${blocks.join('\n\n')}\n`
}
