#!/usr/bin/env node
// Prints "N passed, N failed" from a jest --json report. A test file that failed to
// run at all (a syntax error, a failed import) counts as one failure, so a broken
// suite cannot hide behind a green count. Exit 1 when anything failed, when the
// report is missing, or when it holds no test.
'use strict'
const fs = require('node:fs')

const file = process.argv[2] ?? '.test-report.json'
let report
try {
  report = JSON.parse(fs.readFileSync(file, 'utf8'))
} catch (error) {
  console.log('0 passed, 0 failed')
  console.error(`no jest report at ${file}: ${error.message}`)
  process.exit(1)
}

const brokenSuites = (report.testResults ?? []).filter(
  (suite) => suite.status === 'failed' && (suite.assertionResults ?? []).every((test) => test.status !== 'failed'),
).length
const passed = report.numPassedTests ?? 0
const failed = (report.numFailedTests ?? 0) + brokenSuites
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)

console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`)
if (passed + failed === 0) console.error('no test ran')
process.exit(failed > 0 || passed + failed === 0 ? 1 : 0)
