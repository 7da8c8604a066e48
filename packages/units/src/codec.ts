/**
 * io-ts codecs for quantities and small building blocks of user files, and the one
 * way meshplan reports a rejected file: every issue names the JSON path, the value
 * found and what was expected, e.g.
 * `cluster.device.memory: expected a size like "80GiB" or "141GB", got "eighty"`.
 *
 * @example
 * import * as t from 'io-ts'
 * import { decodeWith, quantity } from '@meshplan/units'
 * const Gpu = t.type({ memory: quantity('bytes') })
 * decodeWith(Gpu, 'gpu')({ memory: '80GiB' }) // right({ memory: 85899345920 })
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import * as t from 'io-ts'
import { exampleOf, parseQuantity } from './parse'
import type { QuantityKind, QuantityOf } from './quantity'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** One reason a value was rejected at the boundary. */
export interface DecodeIssue {
  /** JSON path from the document root, e.g. `cluster.tiers[1].bandwidth`. */
  readonly path: string
  /** The value found there (`undefined` when the field is missing). */
  readonly value: unknown
  /** What was expected, in words. */
  readonly expected: string
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * A quantity given as a number in base units or as a human string (`"80GiB"`).
 * Negative, NaN and infinite values are rejected; `positive` also rejects zero.
 */
export const quantity = <K extends QuantityKind>(
  kind: K,
  bound: 'positive' | 'nonNegative' = 'positive',
): t.Type<QuantityOf[K], string | number, unknown> => {
  const name = exampleOf[kind]
  const parse = parseQuantity(kind)
  return new t.Type<QuantityOf[K], string | number, unknown>(
    name,
    (u): u is QuantityOf[K] => typeof u === 'number' && Number.isFinite(u) && (bound === 'positive' ? u > 0 : u >= 0),
    (u, c) => {
      const parsed: E.Either<string, number> =
        typeof u === 'number'
          ? Number.isFinite(u) && u >= 0
            ? E.right(u)
            : E.left(`expected a non-negative finite number or ${name}`)
          : typeof u === 'string'
            ? pipe(
                parse(u),
                E.mapLeft((e) => e.reason),
              )
            : E.left(`expected ${name}`)
      return pipe(
        parsed,
        E.chain((n) => (bound === 'positive' && n === 0 ? E.left(`expected a value above zero, ${name}`) : E.right(n))),
        E.fold(
          (message) => t.failure(u, c, message),
          (n) => t.success(n as QuantityOf[K]),
        ),
      )
    },
    (a) => a,
  )
}

interface PositiveIntBrand {
  readonly PositiveInt: unique symbol
}
/** A whole number of at least 1 (a count, a degree, a size of a dimension). */
export const PositiveInt = t.brand(
  t.number,
  (n): n is t.Branded<number, PositiveIntBrand> => Number.isInteger(n) && n >= 1,
  'PositiveInt',
)
export type PositiveInt = t.TypeOf<typeof PositiveInt>

/** A whole number of at least 1 and at most 2^53 − 1 (exact in a double), reported as "a positive integer". */
export const positiveInt: t.Type<number, number, unknown> = new t.Type<number, number, unknown>(
  'a positive integer',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 1,
  (u, c) => (typeof u === 'number' && Number.isSafeInteger(u) && u >= 1 ? t.success(u) : t.failure(u, c)),
  (a) => a,
)

/**
 * A number that passes `test`, reported as `name` ("a finite number above zero"): one
 * way to state a numeric field's range, so that the range and its words stay together.
 */
export const numberWhere = (name: string, test: (n: number) => boolean): t.Type<number, number, unknown> =>
  new t.Type<number, number, unknown>(
    name,
    (u): u is number => typeof u === 'number' && test(u),
    (u, c) => (typeof u === 'number' && test(u) ? t.success(u) : t.failure(u, c)),
    (a) => a,
  )

/** A finite number above zero. */
export const positiveNumber = numberWhere('a finite number above zero', (n) => Number.isFinite(n) && n > 0)

/** A finite number, zero or more. */
export const nonNegativeNumber = numberWhere('a finite number, zero or more', (n) => Number.isFinite(n) && n >= 0)

/** A whole number of at least 0, reported as "a non-negative integer". */
export const nonNegativeInt: t.Type<number, number, unknown> = new t.Type<number, number, unknown>(
  'a non-negative integer',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 0,
  (u, c) => (typeof u === 'number' && Number.isSafeInteger(u) && u >= 0 ? t.success(u) : t.failure(u, c)),
  (a) => a,
)

/** One of a fixed set of strings, reported as `one of "a", "b"`. */
export const oneOf = <const S extends string>(values: ReadonlyArray<S>): t.Type<S, S, unknown> => {
  const name = `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`
  const is = (u: unknown): u is S => typeof u === 'string' && (values as ReadonlyArray<string>).includes(u)
  return new t.Type<S, S, unknown>(name, is, (u, c) => (is(u) ? t.success(u) : t.failure(u, c)), (a) => a)
}

const hasOwn = (u: object, k: string): boolean => Object.prototype.hasOwnProperty.call(u, k)

/**
 * An object codec with required and optional fields that also rejects fields it does
 * not know, so that a typo in a user's file (`memroy`) is reported instead of silently
 * ignored. Every problem of the object is reported at once: unknown fields, missing
 * ones and invalid values. An optional field given as `undefined` counts as absent.
 */
export const closed = <P extends t.Props, Q extends t.Props = Record<string, never>>(
  required: P,
  optional?: Q,
  name?: string,
): t.Type<t.TypeOf<t.TypeC<P>> & Partial<t.TypeOf<t.TypeC<Q>>>, unknown, unknown> => {
  type A = t.TypeOf<t.TypeC<P>> & Partial<t.TypeOf<t.TypeC<Q>>>
  const optionalFields: t.Props = optional ?? {}
  const known = [...Object.keys(required), ...Object.keys(optionalFields)]
  const isObject = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === 'object' && u !== null && !Array.isArray(u)
  return new t.Type<A, unknown, unknown>(
    name ?? `an object with fields ${known.join(', ')}`,
    (u): u is A =>
      isObject(u) &&
      Object.keys(u).every((k) => known.includes(k)) &&
      Object.entries(required).every(([k, codec]) => codec.is(u[k])) &&
      Object.entries(optionalFields).every(([k, codec]) => !hasOwn(u, k) || u[k] === undefined || codec.is(u[k])),
    (u, c) => {
      if (!isObject(u)) return t.failure(u, c, 'expected an object')
      const errors: t.ValidationError[] = []
      for (const k of Object.keys(u)) {
        if (known.includes(k)) continue
        errors.push({
          value: u[k],
          context: [...c, { key: k, type: t.never, actual: u[k] }],
          message: `no field "${k}" here (known fields: ${known.join(', ')})`,
        })
      }
      const out: Record<string, unknown> = {}
      const field = (k: string, codec: t.Mixed): void => {
        const result = codec.validate(u[k], t.appendContext(c, k, codec, u[k]))
        if (E.isLeft(result)) errors.push(...result.left)
        else out[k] = result.right
      }
      for (const [k, codec] of Object.entries(required)) field(k, codec)
      for (const [k, codec] of Object.entries(optionalFields)) if (hasOwn(u, k) && u[k] !== undefined) field(k, codec)
      return errors.length > 0 ? t.failures(errors) : t.success(out as A)
    },
    (a) => a,
  )
}

// -------------------------------------------------------------------------------------
// reporting
// -------------------------------------------------------------------------------------

const isBranching = (type: t.Decoder<unknown, unknown>): boolean => {
  const tag = (type as { readonly _tag?: string })._tag
  return tag === 'UnionType' || tag === 'IntersectionType'
}

const appendKey = (path: string, key: string, inArray: boolean): string =>
  inArray ? `${path}[${key}]` : path === '' ? key : /^[A-Za-z_$][\w$-]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`

/** Turns io-ts errors into issues with a JSON path, rooted at `root` (e.g. `cluster`). */
export const decodeIssues = (root: string, errors: t.Errors): ReadonlyArray<DecodeIssue> => {
  const byPath = new Map<string, { value: unknown; expected: string[] }>()
  for (const error of errors) {
    let path = root
    let value: unknown = error.value
    let expected = error.message
    const context = error.context
    for (let i = 1; i < context.length; i++) {
      const parent = context[i - 1]
      const entry = context[i]
      if (parent === undefined || entry === undefined) break
      if (parent.type.name !== undefined && (parent.type as { readonly _tag?: string })._tag === 'UnionType') {
        // a union reports for itself: the value here matched none of its branches
        value = parent.actual
        expected = undefined
        break
      }
      if (isBranching(parent.type) || entry.key === '') continue
      path = appendKey(path, entry.key, Array.isArray(parent.actual))
    }
    if (expected === undefined) {
      const last = [...context].reverse().find((entry) => entry.actual === value) ?? context[context.length - 1]
      expected = last?.type.name ?? 'a valid value'
      if (!/^(a|an|one|the) /.test(expected) && !expected.startsWith('expected')) expected = `a value of type ${expected}`
    }
    const text = expected.startsWith('expected ') ? expected.slice('expected '.length) : expected
    const slot = byPath.get(path)
    if (slot === undefined) byPath.set(path, { value, expected: [text] })
    else if (!slot.expected.includes(text)) slot.expected.push(text)
  }
  return [...byPath.entries()].map(([path, { value, expected }]) => ({ path, value, expected: expected.join(' or ') }))
}

const show = (value: unknown): string => {
  if (value === undefined) return 'nothing (the field is missing)'
  const text = JSON.stringify(value)
  if (text === undefined) return String(value)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

/** `cluster.device.memory: expected a size like "80GiB", got "eighty"`. */
export const describeIssue = (issue: DecodeIssue): string =>
  issue.expected.startsWith('no field ')
    ? `${issue.path}: ${issue.expected}`
    : `${issue.path}: expected ${issue.expected}, got ${show(issue.value)}`

/**
 * `issues` with the root `from` of their paths replaced by `to`: for a decoder that roots
 * its paths itself (`config`, `cluster`) used on a part of a larger file.
 * `rerootIssues('config', 'plan.model')` turns `config.hidden_size` into `plan.model.hidden_size`.
 */
export const rerootIssues =
  (from: string, to: string) =>
  (issues: ReadonlyArray<DecodeIssue>): ReadonlyArray<DecodeIssue> =>
    issues.map((i) => (i.path === from || i.path.startsWith(`${from}.`) || i.path.startsWith(`${from}[`) ? { ...i, path: to + i.path.slice(from.length) } : i))

/** Decodes `u` with `codec`, reporting failures as issues rooted at `root`. Never throws. */
export const decodeWith =
  <A, O>(codec: t.Type<A, O, unknown>, root: string) =>
  (u: unknown): E.Either<ReadonlyArray<DecodeIssue>, A> => {
    try {
      return pipe(
        codec.decode(u),
        E.mapLeft((errors) => decodeIssues(root, errors)),
      )
    } catch (cause) {
      return E.left([{ path: root, value: u, expected: `a decodable value (${String(cause)})` }])
    }
  }
