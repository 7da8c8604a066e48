/**
 * Mutations of a well-formed document, as a careless user or an attacker would make
 * them: a value replaced by another type or an extreme number (NaN, ±Infinity,
 * 5e-324, 1e308, 2^53, -0), a field deleted, an unknown or inherited field added
 * (`__proto__`, `constructor`), a string made long, a list made long, an object nested
 * deeper. A mutation is a value of fast-check, so a failure shrinks to the smallest
 * change that still breaks the decoder.
 *
 * @example
 * fc.sample(mutated(referencePlan), 1) // the reference plan with one to four of its values changed
 */
import fc from 'fast-check'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** One change at the node picked by `at` (an index into a walk of the document's nodes). */
type Mutation =
  | { readonly kind: 'replace'; readonly at: number; readonly value: unknown }
  | { readonly kind: 'delete'; readonly at: number }
  | { readonly kind: 'add'; readonly at: number; readonly key: string; readonly value: unknown }

// -------------------------------------------------------------------------------------
// arbitraries
// -------------------------------------------------------------------------------------

/** Numbers that break arithmetic: non-finite, denormal, huge, unsafe, negative zero, negative. */
export const extremeNumber: fc.Arbitrary<number> = fc.constantFrom(
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  5e-324,
  5e-312,
  1e-300,
  1e300,
  1e308,
  2 ** 31,
  2 ** 31 - 1,
  2 ** 53,
  2 ** 53 - 1,
  2 ** 63,
  -0,
  -1,
  0,
  0.5,
  1.5,
)

/** Strings a field may get: empty, numeric, quantities with odd units, very long, inherited names. */
export const oddString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', '0', '-1', 'NaN', 'Infinity', '1e300PB', '1e-300TB/s', '80GiB', '5e-324PFLOPS', '__proto__', 'constructor', 'toString', 'fp8', 'x'.repeat(200)),
  fc.string({ maxLength: 20 }),
  fc.nat({ max: 20_000 }).map((n) => '9'.repeat(n)),
)

/** Keys to add: unknown, near-misses, inherited. */
const oddKey: fc.Arbitrary<string> = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype', 'nodes', 'tp', 'memory', 'kind'), fc.string({ minLength: 1, maxLength: 12 }))

/** Any value a mutation puts in: extreme numbers, odd strings, JSON values, long lists, deep nests. */
export const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: extremeNumber },
  { weight: 3, arbitrary: oddString },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}) },
  { weight: 1, arbitrary: fc.nat({ max: 2_000 }).map((n) => Array.from({ length: n }, (_, i) => i)) },
  { weight: 1, arbitrary: fc.nat({ max: 200 }).map((depth) => Array.from({ length: depth }).reduce<unknown>((v) => ({ a: v }), 1)) },
)

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: oddValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('add' as const), at: fc.nat(), key: oddKey, value: oddValue }) },
)

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The containers of `root` (objects and lists), in a fixed walk order. */
const containers = (root: unknown): Array<Record<string, unknown> | unknown[]> => {
  const out: Array<Record<string, unknown> | unknown[]> = []
  const stack: unknown[] = [root]
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v !== 'object' || v === null) continue
    out.push(v as Record<string, unknown> | unknown[])
    for (const child of Object.values(v)) stack.push(child)
  }
  return out
}

/** A fresh copy of a generated value: fast-check hands out constants by reference, and a shared one would grow across inputs or contain itself. */
const fresh = (value: unknown): unknown => (typeof value === 'object' && value !== null ? structuredClone(value) : value)

const apply = (root: unknown, m: Mutation): unknown => {
  if (typeof root !== 'object' || root === null) return m.kind === 'replace' ? fresh(m.value) : root
  const all = containers(root)
  const target = all[m.at % all.length]
  if (target === undefined) return root
  const keys = Object.keys(target)
  if (m.kind === 'add') {
    if (Array.isArray(target)) target.push(fresh(m.value))
    else Object.defineProperty(target, m.key, { value: fresh(m.value), enumerable: true, writable: true, configurable: true })
    return root
  }
  const key = keys[m.at % Math.max(1, keys.length)]
  if (key === undefined) return root
  if (m.kind === 'delete') {
    if (Array.isArray(target)) target.splice(Number(key), 1)
    else delete (target as Record<string, unknown>)[key]
  } else (target as Record<string, unknown>)[key] = fresh(m.value)
  return root
}

/** `seed` with one to four mutations (a fresh deep copy each time). */
export const mutated = (seed: unknown): fc.Arbitrary<unknown> =>
  fc.array(mutation, { minLength: 1, maxLength: 4 }).map((ms) => ms.reduce((doc, m) => apply(doc, m), JSON.parse(JSON.stringify(seed)) as unknown))

/** Arbitrary JSON, or a mutation of one of `seeds`. */
export const documentLike = (seeds: ReadonlyArray<unknown>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) }, { weight: 4, arbitrary: fc.constantFrom(...seeds).chain(mutated) })
