import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as E from 'fp-ts/Either'
import { defaultCostModels } from '@meshplan/cost-models'
import { planInference } from '@meshplan/inference'
import { models, defaultPrecision } from '@meshplan/model'
import { unsafeClusterOf } from '@meshplan/topology'
import { planTraining } from '@meshplan/training'
import { runJob, type Job, type Reply } from '../src/engine'

jest.setTimeout(60_000)

const examples = join(__dirname, '..', '..', '..', 'examples')

/** The replies of `job`, each checked to cross to a Web Worker (structured clone keeps it as it is). */
const repliesOf = async (job: Job): Promise<ReadonlyArray<Reply>> => {
  const replies: Reply[] = []
  await runJob(job, (reply) => {
    expect(structuredClone(reply)).toEqual(reply)
    replies.push(reply)
  })
  return replies
}

const last = (replies: ReadonlyArray<Reply>): Reply | undefined => replies[replies.length - 1]

describe('the engine\'s jobs', () => {
  it('audits a serving plan file: the reference plan, its claims in the file\'s order', async () => {
    const text = readFileSync(join(examples, 'reference-plan.yaml'), 'utf8')
    const reply = last(await repliesOf({ kind: 'audit', text }))
    if (reply?.kind !== 'audit') throw new Error(`expected an audit, got ${JSON.stringify(reply)}`)
    expect(reply.audit.claims.map((c) => c.claim.metric)).toEqual([...text.matchAll(/- metric: (\w+)/g)].map((m) => m[1]))
    expect(reply.audit.passes).toBe(false)
  })

  it('audits a training plan file as one', async () => {
    const reply = last(await repliesOf({ kind: 'audit', text: readFileSync(join(examples, 'llama-3.1-405b-training.yaml'), 'utf8') }))
    expect(reply?.kind).toBe('training-audit')
  })

  it('answers a plan file with an error with the path of the error', async () => {
    const text = readFileSync(join(examples, 'reference-plan.yaml'), 'utf8').replace('  tp: 2\n', '  tp: two\n')
    const reply = last(await repliesOf({ kind: 'audit', text }))
    if (reply?.kind !== 'problems') throw new Error(`expected problems, got ${reply?.kind}`)
    expect(reply.problems.some((p) => p.startsWith('plan.parallelism.tp: '))).toBe(true)
  })

  it('answers an empty or broken file with a problem, not an exception', async () => {
    expect(last(await repliesOf({ kind: 'audit', text: '' }))?.kind).toBe('problems')
    expect(last(await repliesOf({ kind: 'audit', text: 'format: [' }))?.kind).toBe('problems')
  })

  it('searches serving plans as planInference does', async () => {
    const input = { model: models['llama-3.1-8b'], cluster: unsafeClusterOf('dgx-h100', 1), precision: defaultPrecision, workload: { mode: 'static' as const, inputTokens: 1024, outputTokens: 256 } }
    const reply = last(await repliesOf({ kind: 'search', input }))
    if (reply?.kind !== 'search') throw new Error(`expected a search, got ${reply?.kind}`)
    const direct = planInference(defaultCostModels)(input)
    expect(E.isRight(direct) && direct.right.top.map((e) => e.description)).toEqual(reply.result.top.map((e) => e.description))
  })

  it('searches training plans as planTraining does, with its progress replies before its result', async () => {
    const input = { model: models['llama-3.1-8b'], cluster: unsafeClusterOf('dgx-h100', 1), precision: defaultPrecision, globalBatch: 64, sequenceLength: 2048 }
    const replies = await repliesOf({ kind: 'train', input, top: 5 })
    expect(replies.slice(0, -1).every((r) => r.kind === 'progress')).toBe(true)
    const reply = last(replies)
    if (reply?.kind !== 'train') throw new Error(`expected a training plan, got ${reply?.kind}`)
    const direct = await planTraining(defaultCostModels)(input, {}, { top: 5 })
    expect(E.isRight(direct) && direct.right.best.map((c) => [c.description, c.iterationSeconds])).toEqual(reply.plan.best.map((c) => [c.description, c.iterationSeconds]))
  })

  it('answers a training search it refuses with its reason', async () => {
    const input = { model: models['llama-3.1-8b'], cluster: unsafeClusterOf('dgx-h100', 1), precision: defaultPrecision, globalBatch: 0, sequenceLength: 2048 }
    expect(last(await repliesOf({ kind: 'train', input, top: 5 }))?.kind).toBe('problems')
  })
})
