/**
 * The JSON the command prints: one object per run, its first field `schema`
 * (`meshplan/<name>/<version>`, a JSON Schema of that name ships in this package's
 * `schemas/`), every key in snake_case, as the files meshplan reads are written (a
 * strategy printed by `estimate --json` pastes into a plan file's `parallelism`).
 * Numbers are in base units: seconds, bytes, tokens/s, FLOP/s. Within a schema version,
 * fields are only added, never renamed or removed.
 *
 * @example
 * jsonText('estimate', { ttftSeconds: 0.2 }) // '{\n  "schema": "meshplan/estimate/2",\n  "ttft_seconds": 0.2\n}'
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Every JSON output and its current version. */
export const schemaVersions = {
  estimate: 2,
  plan: 2,
  'estimate-training': 2,
  // 3: seconds and workers left out, so that an output is the same bytes on every machine
  'plan-training': 3,
  check: 2,
  'check-training': 1,
  validate: 2,
  dag: 2,
  presets: 2,
  example: 2,
  layout: 1,
  export: 1,
  calibrate: 1,
  'estimate-disaggregated': 1,
  'plan-disaggregated': 1,
  'check-disaggregated': 1,
} as const
export type SchemaName = keyof typeof schemaVersions

/** `meshplan/estimate/2`. */
export const schemaId = (name: SchemaName): string => `meshplan/${name}/${schemaVersions[name]}`

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** `ttftSeconds` -> `ttft_seconds`, `does-not-fit` -> `does_not_fit`; snake_case keys are left as they are. */
export const snakeCase = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/-/g, '_')

/** `value` with every object key in snake_case, recursively. */
export const snakeKeys = (value: unknown, keysAreData = false): unknown => {
  if (Array.isArray(value)) return value.map((v) => snakeKeys(v))
  if (typeof value !== 'object' || value === null) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    // the keys of a record keyed by data (a metric like "TTFT", an engine like "nccl-tests", a
    // constant like GEMM_SUSTAINED_FRACTION) are printed as they are; only the code's names change
    if (v !== undefined) out[keysAreData ? k : snakeCase(k)] = snakeKeys(v, !keysAreData && dataKeyed.has(k))
  }
  return out
}

/** Fields whose value is a record keyed by data rather than by field names. */
const dataKeyed: ReadonlySet<string> = new Set(['byMetric', 'bySource', 'byGeneration', 'byFormat', 'byMode', 'constants', 'parameters'])

/** The object of an output: `schema` first, then `value`'s fields in snake_case. */
export const jsonOf = (name: SchemaName, value: object): Record<string, unknown> => ({ schema: schemaId(name), ...(snakeKeys(value) as Record<string, unknown>) })

/** The printed JSON of an output. */
export const jsonText = (name: SchemaName, value: object): string => JSON.stringify(jsonOf(name, value), null, 2)
