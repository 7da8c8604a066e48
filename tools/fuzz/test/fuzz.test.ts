// The fixed-seed sample of the fuzzing suite: every target, a few hundred inputs each (the long campaign is
// `npm run fuzz`). A finding fails the test with the input that found it.
import { runCampaign, targets } from '../src'

const sample: Readonly<Record<string, number>> = {
  document: 150,
  quantity: 2000,
  cluster: 1000,
  model: 1000,
  strategy: 1000,
  workload: 1000,
  plan: 150,
  cases: 150,
  search: 12,
  audit: 20,
  'pools-audit': 8,
  'inference-estimate': 60,
  'training-estimate': 60,
}

describe('fuzzing, a fixed-seed sample', () => {
  it('covers every target', () => {
    expect(new Set(Object.keys(sample))).toEqual(new Set(targets.map((t) => t.name)))
  })

  it.each(targets.map((t) => [t.name, t] as const))('%s: no throw, no broken law', (name, target) => {
    const report = runCampaign({ ...target, boundMs: Number.POSITIVE_INFINITY }, { seed: 20261129, inputs: sample[name] ?? 100 })
    expect(report.findings).toEqual([])
  }, 120_000)

  it('a target whose check throws or breaks its law is found, with the input', () => {
    const report = runCampaign({ name: 'broken', description: '', boundMs: 1000, inputs: targets[1]?.inputs as never, check: (i) => (JSON.stringify(i).length % 2 === 0 ? 'even' : (() => { throw new Error('odd') })()) }, { seed: 1, inputs: 50 })
    expect(report.findings.map((f) => f.kind)).toEqual(expect.arrayContaining(['law', 'throw']))
  })
})
