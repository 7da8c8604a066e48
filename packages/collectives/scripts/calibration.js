#!/usr/bin/env node
// Predicts the collective cases of a measured-case file with the default collective model
// and prints a markdown table: id, metric, predicted, measured, error, and the median and
// worst absolute error. Uses the built package (run `npx turbo run build` first).
//
//   node packages/collectives/scripts/calibration.js [path]
//
// `path` defaults to <repository>/validation/calibration.json.
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const { calibrationTable, defaultCollectiveModel, predictCaseFile } = require('../dist')

const file = process.argv[2] !== undefined
  ? path.resolve(process.cwd(), process.argv[2])
  : path.resolve(__dirname, '../../../validation/calibration.json')

if (!fs.existsSync(file)) {
  process.stderr.write(`no case file at ${file}\n`)
  process.exit(1)
}
const results = predictCaseFile(defaultCollectiveModel)(JSON.parse(fs.readFileSync(file, 'utf8')))
process.stdout.write(`${calibrationTable(results)}\n`)
