#!/usr/bin/env node
// `npm run bench`: the speed of the inference search, measured, not asserted.
// 1. The inner loop: (strategy, batch) evaluations per second on one core, over every
//    valid strategy of the built-in example (reference-moe on 128 GPUs), prepared once.
// 2. The whole search (enumerate, prepare, evaluate, rank) in-process.
// 3. The wall time of the built-in `meshplan plan` and `meshplan example`, as a user runs them.
'use strict'
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { enumerate } = require('../packages/parallelism/dist')
const { models, defaultPrecision } = require('../packages/model/dist')
const { unsafeClusterOf } = require('../packages/topology/dist')
const { defaultPlannerModels, prepareInference, evaluateInference, batchLadder, Figure, planInference } = require('../packages/planner/dist')

const root = path.resolve(__dirname, '..')
const model = models['reference-moe']
const cluster = unsafeClusterOf('reference', 16)
const workload = { mode: 'max_throughput', inputTokens: 1024, outputTokens: 256 }
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

// 1. inner loop
const cache = new Map()
const candidates = []
for (const s of enumerate({ model, cluster, sequenceLength: workload.inputTokens })({ sequenceParallel: false, max: { virtualStages: 1 } })) {
  const c = prepareInference(defaultPlannerModels, cache)({ model, cluster, strategy: s, precision: defaultPrecision, workload })
  if (c._tag === 'Right' && c.right.maxBatch >= 1) for (const b of batchLadder(c.right.maxBatch)) candidates.push([c.right, b])
}
const out = new Float64Array(Figure.count)
let sink = 0
const pass = () => {
  for (let i = 0; i < candidates.length; i++) {
    const [c, b] = candidates[i]
    sink += evaluateInference(c, b, out)[Figure.tokensPerSecondPerGpu]
  }
}
for (let i = 0; i < 3; i++) pass() // warm-up: let the JIT settle
const rates = []
for (let r = 0; r < 5; r++) {
  const t0 = process.hrtime.bigint()
  pass()
  rates.push(candidates.length / (Number(process.hrtime.bigint() - t0) / 1e9))
}
console.log(`inner loop: ${Math.round(median(rates)).toLocaleString('en-US')} candidate evaluations/s on one core (median of 5 passes over ${candidates.length.toLocaleString('en-US')} (strategy, batch) candidates of reference-moe on 128 GPUs; target 100,000)`)

// 2. whole search in-process
const times = []
let result
for (let r = 0; r < 3; r++) {
  const t0 = process.hrtime.bigint()
  result = planInference(defaultPlannerModels)({ model, cluster, precision: defaultPrecision, workload })
  times.push(Number(process.hrtime.bigint() - t0) / 1e9)
}
const t = median(times)
console.log(`whole search: ${result.strategies.toLocaleString('en-US')} strategies, ${result.candidates.toLocaleString('en-US')} candidates in ${(t * 1e3).toFixed(0)} ms (median of 3), ${Math.round(result.candidates / t).toLocaleString('en-US')} candidates/s end to end, setup included`)

// 3. the command as a user runs it
const wall = (args) => {
  const ts = []
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint()
    const p = spawnSync(process.execPath, [path.join(root, 'apps/cli/dist/main.js'), ...args], { encoding: 'utf8' })
    ts.push(Number(process.hrtime.bigint() - t0) / 1e9)
    if (p.status !== 0 && p.status !== 1) throw new Error(`meshplan ${args.join(' ')} exited ${p.status}: ${p.stderr}`)
  }
  return median(ts)
}
const plan = wall(['plan', path.join(root, 'examples/reference-plan.yaml')])
const example = wall(['example'])
console.log(`meshplan plan examples/reference-plan.yaml: ${plan.toFixed(2)} s wall (median of 3; target under 2 s)`)
console.log(`meshplan example (check, then plan): ${example.toFixed(2)} s wall (median of 3)`)
if (!Number.isFinite(sink)) console.log('(sink)')
