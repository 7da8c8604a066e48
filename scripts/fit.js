#!/usr/bin/env node
// Fits the cost models' fitted constants (@meshplan/planner's fittedConstants:
// GEMM_SUSTAINED_FRACTION, KERNEL_RAMP_SECONDS, ...) on the calibration cases by
// coordinate descent over their grids (planner/src/fit.ts), prints the values, the loss
// (mean |ln(predicted/measured)|) at the fit and at the committed values, and whether the
// committed values are the fit. Usage: node scripts/fit.js [CASES] (after a build;
// `npm run fit` builds first). Exit 1 when the committed values are not the fit.
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const { defaultCostModels } = require('../packages/cost-models/dist')
const { FIT_LOSS_CAP, fitConstants, fittedConstants, fitLoss, predictCases } = require('../packages/planner/dist')

const casesFile = process.argv[2] ?? path.resolve(__dirname, '..', 'validation', 'calibration.json')
const file = JSON.parse(fs.readFileSync(casesFile, 'utf8'))
const kinds = [...new Set(fittedConstants.flatMap((c) => c.kinds))]

const committed = predictCases(defaultCostModels)(file)
if (committed._tag === 'Left') {
  for (const i of committed.left) console.error(`${i.path}: expected ${i.expected}, got ${JSON.stringify(i.value)}`)
  process.exit(2)
}
const started = Date.now()
const fit = fitConstants(defaultCostModels, fittedConstants)(file)
if (fit._tag === 'Left') {
  for (const i of fit.left) console.error(`${i.path}: expected ${i.expected}, got ${JSON.stringify(i.value)}`)
  process.exit(2)
}
const { values, loss, evaluations } = fit.right
console.log(`fitted on ${path.relative(process.cwd(), casesFile)} (${kinds.join(' and ')} cases), ${evaluations} predictions of the file in ${((Date.now() - started) / 1000).toFixed(1)} s:`)
let same = true
for (const c of fittedConstants) {
  const v = values[c.name]
  const mark = v === c.value ? 'as committed' : `committed ${c.value}`
  if (v !== c.value) same = false
  console.log(`  ${c.name} = ${v} (${mark}; grid ${c.grid.join(', ')})`)
}
console.log(`mean of min(|ln(predicted/measured)|, ${FIT_LOSS_CAP}): ${loss.toFixed(4)} at the fit, ${fitLoss(committed.right.cases, kinds).toFixed(4)} at the committed values`)
console.log(same ? 'the committed constants are this fit' : 'the committed constants differ from this fit')
process.exitCode = same ? 0 : 1
