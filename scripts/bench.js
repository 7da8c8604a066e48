#!/usr/bin/env node
// `npm run bench`: the speed of the searches, measured, not asserted; prints the figures
// and writes them to docs/performance.md.
// Inference:
// 1. The inner loop: (strategy, batch) evaluations per second on one core, over every
//    valid strategy of the built-in example (reference-moe on 128 GPUs), prepared once.
// 2. The whole search (enumerate, prepare, evaluate, rank) in-process.
// 3. The wall time of the built-in `meshplan plan` and `meshplan example`, as a user runs them.
// Training (Korthikanti et al. 2022's 1T GPT on 4,096 H100 SXM, 512 nodes of 8, global batch 3,072):
// 4. The inner loop: candidate evaluations per second on one core over the whole space, prepared once.
// 5. The whole search on one thread and on two worker threads: candidates, how many fit, the best plan.
'use strict'
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const { enumerate, divisors, describe } = require('../packages/parallelism/dist')
const { models, defaultPrecision, fromHuggingFace } = require('../packages/model/dist')
const { unsafeClusterOf } = require('../packages/topology/dist')
const { defaultCostModels } = require('../packages/cost-models/dist')
const { batchLadder, planInference } = require('../packages/inference/dist')
const { prepareInference, evaluateInference, inferenceFigures } = require('../packages/inference/dist/internal')
const training = { ...require('../packages/training/dist'), ...require('../packages/training/dist/internal') }
const report = []
const say = (line) => {
  console.log(line)
  report.push(line)
}

const root = path.resolve(__dirname, '..')
const model = models['reference-moe']
const cluster = unsafeClusterOf('reference', 16)
const workload = { mode: 'max_throughput', inputTokens: 1024, outputTokens: 256 }
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

// 1. inner loop
const cache = new Map()
const candidates = []
for (const s of enumerate({ model, cluster, sequenceLength: workload.inputTokens })({ sequenceParallel: false, max: { virtualStages: 1 } })) {
  const c = prepareInference(defaultCostModels, cache)({ model, cluster, strategy: s, precision: defaultPrecision, workload })
  if (c._tag === 'Right' && c.right.maxBatch >= 1) for (const b of batchLadder(c.right.maxBatch)) candidates.push([c.right, b])
}
const out = inferenceFigures()
let sink = 0
const pass = () => {
  for (let i = 0; i < candidates.length; i++) {
    const [c, b] = candidates[i]
    sink += evaluateInference(c, b, out).tokensPerSecondPerGpu
  }
}
for (let i = 0; i < 3; i++) pass() // warm-up: let the JIT settle
const rates = []
for (let r = 0; r < 5; r++) {
  const t0 = process.hrtime.bigint()
  pass()
  rates.push(candidates.length / (Number(process.hrtime.bigint() - t0) / 1e9))
}
say(`inference inner loop: ${Math.round(median(rates)).toLocaleString('en-US')} candidate evaluations/s on one core (median of 5 passes over ${candidates.length.toLocaleString('en-US')} (strategy, batch) candidates of reference-moe on 128 GPUs; target 100,000)`)

// 2. whole search in-process
const times = []
let result
for (let r = 0; r < 3; r++) {
  const t0 = process.hrtime.bigint()
  result = planInference(defaultCostModels)({ model, cluster, precision: defaultPrecision, workload }).right
  times.push(Number(process.hrtime.bigint() - t0) / 1e9)
}
const t = median(times)
say(`inference whole search: ${result.strategies.toLocaleString('en-US')} strategies, ${result.candidates.toLocaleString('en-US')} candidates in ${(t * 1e3).toFixed(0)} ms (median of 3), ${Math.round(result.candidates / t).toLocaleString('en-US')} candidates/s end to end, setup included`)

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
say(`meshplan plan examples/reference-plan.yaml: ${plan.toFixed(2)} s wall (median of 3; target under 2 s)`)
say(`meshplan example (check, then plan): ${example.toFixed(2)} s wall (median of 3)`)

// 4. training inner loop
const trainingMain = async () => {
  const gpt1t = fromHuggingFace(
    { model_type: 'gpt_neox', hidden_size: 25600, num_hidden_layers: 128, num_attention_heads: 160, intermediate_size: 102400, vocab_size: 51200, max_position_embeddings: 2048, tie_word_embeddings: true },
    'GPT 1T (Korthikanti et al. 2022)',
  ).right
  const h100s = unsafeClusterOf('dgx-h100', 512)
  const globalBatch = 3072
  const sequenceLength = 2048
  const c = training.trainingContext(defaultCostModels, { model: gpt1t, cluster: h100s, precision: defaultPrecision, sequenceLength }).right
  const jobs = []
  const t0 = process.hrtime.bigint()
  for (const s of enumerate({ model: gpt1t, cluster: h100s, sequenceLength })({})) {
    if (globalBatch % s.dp !== 0) continue
    const k = training.strategyConstants(c, s).right
    for (const mb of divisors(globalBatch / s.dp)) {
      if (s.virtualStages > 1 && (globalBatch / s.dp / mb) % s.pp !== 0) continue
      const u = training.microConstants(c, k, s, mb).right
      for (const rc of training.recomputeModes) {
        const a = training.activationConstants(c, s, mb, rc)
        for (const z of training.zeroStages) jobs.push([k, u, a, mb, rc, z])
      }
    }
  }
  const prepared = Number(process.hrtime.bigint() - t0) / 1e9
  const tout = training.trainingFigures()
  const trainPass = () => {
    for (let i = 0; i < jobs.length; i++) {
      const j = jobs[i]
      sink += training.evaluateTraining(c, j[0], j[1], j[2], globalBatch, j[3], j[4], j[5], tout).iteration
    }
  }
  for (let i = 0; i < 3; i++) trainPass()
  const trainRates = []
  for (let r = 0; r < 5; r++) {
    const t1 = process.hrtime.bigint()
    trainPass()
    trainRates.push(jobs.length / (Number(process.hrtime.bigint() - t1) / 1e9))
  }
  say(
    `training inner loop: ${Math.round(median(trainRates)).toLocaleString('en-US')} candidate evaluations/s on one core (median of 5 passes over ${jobs.length.toLocaleString('en-US')} candidates of GPT 1T on 4,096 H100; their constants prepared once in ${prepared.toFixed(2)} s; target 1,000,000)`,
  )

  // 5. training whole search
  const input = { model: gpt1t, cluster: h100s, precision: defaultPrecision, globalBatch, sequenceLength }
  for (const workers of [1, 2]) {
    const r = await training.planTraining(defaultCostModels)(input, {}, { workers, top: 1 })
    if (r._tag === 'Left') throw new Error(r.left.message)
    const p = r.right
    const best = p.best[0]
    const rej = p.rejected
    say(
      `training whole search, ${p.workers} thread${p.workers === 1 ? '' : 's'}: ${p.candidates.toLocaleString('en-US')} candidates from ${p.strategies.toLocaleString('en-US')} strategies in ${p.seconds.toFixed(2)} s (${Math.round(p.candidates / p.seconds).toLocaleString('en-US')} candidates/s end to end; target under 20 s); ${p.fit.toLocaleString('en-US')} fit; rejected ${rej.memory.toLocaleString('en-US')} for memory, ${rej.interleaving.toLocaleString('en-US')} for interleaving, ${rej.placement.toLocaleString('en-US')} as the same placement in another rank order, ${rej.batch} strategies for the batch`,
    )
    if (workers === 1 && best !== undefined) {
      say(
        `training best plan: ${best.description}, micro-batch ${best.workload.microBatch}, ${best.workload.recompute} recomputation, ZeRO ${best.workload.zeroStage}: ${best.iterationSeconds.toFixed(2)} s per step, ${Math.round(best.tokensPerSecondPerGpu)} tokens/s per GPU, MFU ${(best.mfu * 100).toFixed(1)}%, ${(best.memoryPerGpu / 1e9).toFixed(1)} GB on the fullest GPU`,
      )
    }
  }
  if (!Number.isFinite(sink)) console.log('(sink)')
  const doc = [
    '# Performance',
    '',
    `Generated by \`npm run bench\` (scripts/bench.js) on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}); do not edit by hand. Figures are measured, never asserted in tests.`,
    '',
    ...report.map((line) => `- ${line}`),
    '',
    fs.readFileSync(path.join(__dirname, 'performance-notes.md'), 'utf8').trimEnd(),
    '',
  ]
  fs.writeFileSync(path.join(root, 'docs', 'performance.md'), doc.join('\n'))
  console.log('wrote docs/performance.md')
}
trainingMain().catch((e) => {
  console.error(e)
  process.exit(1)
})
