#!/usr/bin/env node
// `npm run fuzz -- [--inputs N] [--seed S] [--target NAME ...] [--write]`: a long fuzzing
// campaign over the targets of tools/fuzz (every public decoder and estimate), N inputs
// each (default 1,000,000) from seed S (default the date, printed so a finding can be
// replayed). Prints each target's findings (throws, broken laws, inputs slower than the
// target's bound) with the input that found them, and a summary table; with --write,
// puts its rows into docs/reliability.md's table between the campaign markers (one row per
// target; the rows of targets not run are kept). Exits 1 when
// anything was found. Run after a build (`npm run fuzz` builds first).
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const { runCampaign, targets } = require('../tools/fuzz/dist')

const args = process.argv.slice(2)
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback
}
const inputs = Number(option('inputs', '1000000'))
const seed = Number(option('seed', new Date().toISOString().slice(0, 10).replace(/-/g, '')))
const chosen = args.flatMap((a, i) => (a === '--target' && args[i + 1] !== undefined ? [args[i + 1]] : []))
const unknown = chosen.filter((name) => !targets.some((t) => t.name === name))
if (!(Number.isSafeInteger(inputs) && inputs >= 1) || !Number.isSafeInteger(seed) || unknown.length > 0) {
  console.error(`usage: npm run fuzz -- [--inputs N] [--seed S] [--target NAME ...] [--write]; targets: ${targets.map((t) => t.name).join(', ')}`)
  process.exit(2)
}
const selected = chosen.length === 0 ? targets : targets.filter((t) => chosen.includes(t.name))

const rows = []
let found = 0
for (const target of selected) {
  const started = Date.now()
  let last = started
  const report = runCampaign(target, {
    seed,
    inputs,
    onProgress: (done) => {
      if (process.stderr.isTTY && Date.now() - last > 1000) {
        last = Date.now()
        process.stderr.write(`\r${target.name}: ${done.toLocaleString('en-US')} of ${inputs.toLocaleString('en-US')}\u001b[K`)
      }
    },
  })
  if (process.stderr.isTTY) process.stderr.write('\r\u001b[K')
  found += report.findings.length
  console.log(`${target.name}: ${report.inputs.toLocaleString('en-US')} inputs in ${report.seconds.toFixed(1)} s, mean ${report.meanMs.toFixed(3)} ms, slowest ${report.maxMs.toFixed(1)} ms (bound ${target.boundMs} ms): ${report.findings.length === 0 ? 'nothing found' : `${report.findings.length} findings`}`)
  for (const f of report.findings) console.log(`  ${f.kind}: ${f.message}\n    input: ${f.input}`)
  rows.push(`| ${target.name} | ${report.inputs.toLocaleString('en-US')} | ${report.seed} | ${report.findings.filter((f) => f.kind === 'throw').length} | ${report.findings.filter((f) => f.kind === 'law').length} | ${report.findings.filter((f) => f.kind === 'slow').length} | ${report.meanMs.toFixed(3)} ms | ${report.maxMs.toFixed(1)} ms (bound ${target.boundMs} ms) | ${report.seconds.toFixed(0)} s |`)
}

if (args.includes('--write')) {
  // the table keeps one row per target: a run replaces the rows of the targets it ran and keeps the others
  const file = path.resolve(__dirname, '..', 'docs', 'reliability.md')
  const text = fs.readFileSync(file, 'utf8')
  const block = /<!-- campaign -->[\s\S]*?<!-- \/campaign -->/.exec(text)?.[0] ?? ''
  const kept = block.split('\n').filter((line) => /^\| [a-z-]+ \| [\d,]+ \|/.test(line) && !selected.some((t) => line.startsWith(`| ${t.name} |`)))
  const order = (line) => targets.findIndex((t) => line.startsWith(`| ${t.name} |`))
  const table = [
    '<!-- campaign -->',
    `Each row is the last long campaign of its target (\`npm run fuzz -- --inputs N --seed S --target NAME --write\`), on Node ${process.version}; the row's date is when it ran.`,
    '',
    '| target | inputs | seed | throws | broken laws | slower than the bound | mean per input | slowest | time | date |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...[...kept, ...rows.map((r) => `${r} ${new Date().toISOString().slice(0, 10)} |`)].sort((a, b) => order(a) - order(b)),
    '<!-- /campaign -->',
  ].join('\n')
  fs.writeFileSync(file, text.replace(/<!-- campaign -->[\s\S]*?<!-- \/campaign -->/, table))
  console.log(`wrote ${path.relative(process.cwd(), file)}`)
}
process.exit(found === 0 ? 0 : 1)
