#!/usr/bin/env node
// `npm run sync-cases`: refreshes the repository's copy of the published measurements
// (validation/calibration.json and its format, validation/FORMAT.md) from the shared
// validation folder beside the clone (../shared/validation), when that folder exists.
// Tests and `npm run accuracy` read only the repository's copy, so a fresh clone needs
// nothing outside itself. Usage: node scripts/sync-cases.js [FROM]
'use strict'
const fs = require('node:fs')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const from = path.resolve(process.argv[2] ?? path.join(root, '..', 'shared', 'validation'))
const to = path.join(root, 'validation')
const files = ['calibration.json', 'FORMAT.md']

if (!fs.existsSync(from)) {
  console.log(`no ${path.relative(process.cwd(), from) || from}: nothing to refresh; the repository keeps its copy in ${path.relative(process.cwd(), to)}`)
  process.exit(0)
}
fs.mkdirSync(to, { recursive: true })
for (const name of files) {
  const source = path.join(from, name)
  if (!fs.existsSync(source)) {
    console.error(`${source}: missing`)
    process.exit(1)
  }
  const text = fs.readFileSync(source, 'utf8')
  if (name.endsWith('.json')) {
    const doc = JSON.parse(text)
    if (doc.format !== 'meshplan-cases/1' || !Array.isArray(doc.cases)) {
      console.error(`${source}: not a meshplan-cases/1 file`)
      process.exit(1)
    }
  }
  const target = path.join(to, name)
  const before = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined
  fs.writeFileSync(target, text)
  const what = name.endsWith('.json') ? ` (${JSON.parse(text).cases.length} cases)` : ''
  console.log(`${path.relative(root, target)}${what}: ${before === undefined ? 'created' : before === text ? 'unchanged' : 'updated'}`)
}
