#!/usr/bin/env node
// Writes the calibration residuals that meshplan's intervals rest on
// (packages/planner/src/residuals.ts): every case of validation/calibration.json
// predicted by the models with the fitted constants refitted without its source
// (leave-one-source-out, as `meshplan validate --leave-one-source-out`), its miss
// ln(predicted/measured) turned to the rate orientation, and its groups. Prints the
// coverage the intervals reach on the file (each case inside its own
// leave-one-source-out interval). Usage: node scripts/residuals.js [--check] (after a
// build; `npm run residuals` builds first). With --check, writes nothing and exits 1
// when the committed table differs from the one the models give now.
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const { defaultCostModels } = require('../packages/cost-models/dist')
const { calibrationRowsOf, fittedConstants, intervalCoverage, leaveOneSourceOut } = require('../packages/planner/dist')

const root = path.resolve(__dirname, '..')
const casesFile = path.join(root, 'validation', 'calibration.json')
const out = path.join(root, 'packages', 'planner', 'src', 'residuals.ts')
const check = process.argv.includes('--check')

const started = Date.now()
const file = JSON.parse(fs.readFileSync(casesFile, 'utf8'))
const report = leaveOneSourceOut(defaultCostModels, fittedConstants)(file)
if (report._tag === 'Left') {
  for (const i of report.left) console.error(`${i.path}: expected ${i.expected}, got ${JSON.stringify(i.value)}`)
  process.exit(2)
}
const rows = calibrationRowsOf(report.right.cases, file.cases).map((r) => ({ ...r, residual: Number(r.residual.toFixed(6)) }))
const text = [
  '/**',
  ' * The calibration residuals the intervals rest on (`intervals.ts`): every case of',
  ' * `validation/calibration.json` predicted with the fitted constants refitted without its',
  ' * source, its miss `ln(predicted/measured)` in the rate orientation. Written by',
  ' * `scripts/residuals.js` (`npm run residuals`); a test checks it against the models.',
  ' */',
  "import type { ResidualRow } from './intervals'",
  '',
  'export const calibrationResiduals: ReadonlyArray<ResidualRow> = [',
  ...rows.map((r) => `  ${JSON.stringify(r).replace(/"([a-z]+)":/g, '$1: ').replace(/"/g, "'")},`),
  ']',
  '',
].join('\n')
const seconds = ((Date.now() - started) / 1000).toFixed(1)
for (const c of [0.8, 0.9]) {
  const cov = intervalCoverage(rows, { coverage: c })
  const kinds = Object.entries(cov.byKind).map(([k, v]) => `${k} ${v.inside}/${v.rows}`).join(', ')
  console.log(`${Math.round(c * 100)}% intervals: ${cov.inside} of ${cov.rows} cases inside their own leave-one-source-out interval (${(cov.share * 100).toFixed(1)}%; ${kinds})`)
}
if (check) {
  const same = fs.existsSync(out) && fs.readFileSync(out, 'utf8') === text
  console.log(same ? `the committed residuals are the models' (${rows.length} cases, ${seconds} s)` : 'the committed residuals differ from the models\': run npm run residuals')
  process.exitCode = same ? 0 : 1
} else {
  fs.writeFileSync(out, text)
  console.log(`wrote ${path.relative(process.cwd(), out)}: ${rows.length} cases (${seconds} s)`)
}
