// What the planner's tests share: a plan document decoded (or the test fails with its
// issues), and an example plan file of the repository read as a document to vary.
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import { parseDocument } from '@meshplan/units'
import { decodePlan, type Plan } from '../src/plan-file'

/** `u` decoded as a plan; throws with the decoder's issues when it is not one. */
export const planOf = (u: unknown): Plan => {
  const p = decodePlan(u)
  if (E.isLeft(p)) throw new Error(JSON.stringify(p.left))
  return p.right
}

/** The parsed document of `examples/NAME` (e.g. `reference-plan.yaml`), to decode or vary. */
export const exampleDocument = (name: string): Record<string, unknown> => {
  const file = path.resolve(__dirname, '../../../examples', name)
  const doc = parseDocument(fs.readFileSync(file, 'utf8'), file)
  if (E.isLeft(doc)) throw new Error(doc.left.message)
  return doc.right as Record<string, unknown>
}
