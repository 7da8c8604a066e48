#!/usr/bin/env node
// Regenerates docs/accuracy.md: every case of the calibration file predicted by the
// planner's default models, and again with each source left out of the fit of the
// fitted constants, with median and p90 per kind, source, generation, format, mode and metric;
// then every file of validation/held-out/, which no fit reads. Run after a
// build (`npm run accuracy` builds first). Usage: node scripts/accuracy.js [CASES] [OUT]
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const { defaultCostModels } = require('../packages/cost-models/dist')
const { calibrationRowsOf, fittedConstants, intervalCoverage, leaveOneSourceOut, predictCases, residualInterval, residualRowsOf } = require('../packages/planner/dist')

const root = path.resolve(__dirname, '..')
const casesFile = process.argv[2] ?? path.resolve(root, 'validation', 'calibration.json')
const out = process.argv[3] ?? path.join(root, 'docs', 'accuracy.md')

// a file's report, or its issues printed (each prefixed with `where`) and exit 2
const rightOrExit = (r, where = '') => {
  if (r._tag === 'Right') return r
  for (const i of r.left) console.error(`${where}${i.path}: expected ${i.expected}, got ${JSON.stringify(i.value)}`)
  process.exit(2)
}

const file = JSON.parse(fs.readFileSync(casesFile, 'utf8'))
const report = rightOrExit(predictCases(defaultCostModels)(file))
const started = Date.now()
const loso = rightOrExit(leaveOneSourceOut(defaultCostModels, fittedConstants)(file))
const losoSeconds = (Date.now() - started) / 1000
const { cases, summary } = report.right
const held = new Map(loso.right.cases.map((c) => [c.id, c]))
const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`
const abs = (x) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`)
const fig = (x) => (x >= 100 ? x.toFixed(0) : Number(x.toPrecision(4)).toString())
const worst = (s) => (s.worst === null ? '—' : `${pct(s.worst.error)} (\`${s.worst.id}\`)`)
// a case's row of the per-case tables: id, metric, predicted, measured, error, any `extra` columns, then its note
const caseRow = (c, extra = []) =>
  `| ${[c.id, c.metric, c.predicted === null ? '—' : fig(c.predicted), fig(c.measured), c.error === null ? '—' : pct(c.error), ...extra, c.note.replace(/\|/g, '\\|')].join(' | ')} |`
// one row per group: cases, predicted, then median and p90 with the committed constants and left out, and the worst committed
const groupTable = (title, committed, leftOut) => [
  `### ${title}`,
  '',
  '| group | cases | predicted | median | p90 | median, source left out | p90, source left out | worst |',
  '|---|---|---|---|---|---|---|---|',
  ...Object.entries(committed).map(([k, s]) => {
    const l = leftOut[k]
    return `| ${k} | ${s.cases} | ${s.predicted} | ${abs(s.median)} | ${abs(s.p90)} | ${abs(l?.median ?? null)} | ${abs(l?.p90 ?? null)} | ${worst(s)} |`
  }),
  '',
]
const all = summary.all
const allHeld = loso.right.summary.all

// held-out files: published measurements that no fitted constant has seen (neither scripts/fit.js nor the
// leave-one-source-out refits read them), predicted with the constants as committed
const heldOutDir = path.join(root, 'validation', 'held-out')
const heldOut = (fs.existsSync(heldOutDir) ? fs.readdirSync(heldOutDir).filter((f) => f.endsWith('.json')).sort() : []).map((name) => ({
  name,
  report: rightOrExit(predictCases(defaultCostModels)(JSON.parse(fs.readFileSync(path.join(heldOutDir, name), 'utf8'))), `validation/held-out/${name}: `).right,
}))
const heldOutSection = heldOut.flatMap(({ name, report: r }) => [
  `### \`validation/held-out/${name}\``,
  '',
  `${r.summary.all.predicted} of ${r.summary.all.cases} predicted; median ${abs(r.summary.all.median)}, p90 ${abs(r.summary.all.p90)}, worst ${worst(r.summary.all)}.`,
  '',
  '| id | metric | predicted | measured | error | what the prediction rests on |',
  '|---|---|---|---|---|---|',
  ...r.cases.map((c) => caseRow(c)),
  '',
])

// the intervals of `meshplan estimate`: how often the measurement of a calibration case fell inside its own
// leave-one-source-out interval, and how often a held-out case's fell inside the interval the committed
// residuals give it (what a user of the command gets)
const rows = calibrationRowsOf(loso.right.cases, file.cases)
const coverageLine = (c) => {
  const cov = intervalCoverage(rows, { coverage: c })
  const kinds = Object.entries(cov.byKind).map(([k, v]) => `${k} ${v.inside} of ${v.rows}`).join(', ')
  return `| ${Math.round(c * 100)}% | ${cov.inside} of ${cov.rows} | ${abs(cov.share)} | ${kinds} |`
}
const heldOutCoverage = heldOut.map(({ name, report: r }) => {
  const metricOf = new Map(r.cases.map((c) => [c.id, c.metric]))
  let inside = 0
  let counted = 0
  for (const h of residualRowsOf(r.cases)) {
    const i = residualInterval(rows, { kind: h.kind, metric: metricOf.get(h.id), moe: h.moe, mode: h.mode, generation: h.generation })
    if (i === undefined) continue
    counted++
    if (h.residual >= i.low && h.residual <= i.high) inside++
  }
  return `| \`validation/held-out/${name}\` | ${inside} of ${counted} | ${abs(counted === 0 ? null : inside / counted)} |`
})
const intervalsSection = [
  '## How well the intervals hold',
  '',
  "`meshplan estimate` brackets each headline figure (TTFT, TPOT, tokens/s, step time, MFU) with an interval built from the leave-one-source-out misses of the calibration cases most like the estimate (`@meshplan/planner`'s `intervals.ts`; the notes below say how). Stated coverage against what held: each calibration case's measurement inside its own interval, built from the other sources' cases only.",
  '',
  '| stated | inside | share | per kind |',
  '|---|---|---|---|',
  coverageLine(0.8),
  coverageLine(0.9),
  '',
  ...(heldOutCoverage.length === 0
    ? []
    : ['The held-out files, each case inside the 80% interval the committed residuals give it (the interval a user of `meshplan estimate` sees):', '', '| file | inside | share |', '|---|---|---|', ...heldOutCoverage, '']),
]

const lines = [
  '# Accuracy against published measurements',
  '',
  `Generated by \`npm run accuracy\` (scripts/accuracy.js) from \`${path.relative(root, casesFile)}\` with the planner's default models; do not edit by hand.`,
  'Error = (predicted − measured) / measured; the summaries are over absolute errors (median, p90 by nearest rank).',
  'Two columns per statistic: with the constants as committed (fitted on all these cases), and with each source (an engine name and version) predicted by the fitted constants refitted without its cases (`meshplan validate --leave-one-source-out`).',
  '',
  `All cases: ${all.predicted} of ${all.cases} predicted; median ${abs(all.median)}, p90 ${abs(all.p90)}; source left out: median ${abs(allHeld.median)}, p90 ${abs(allHeld.p90)}.`,
  '',
  '## Summaries',
  '',
  ...groupTable('Per kind', summary.byKind, loso.right.summary.byKind),
  ...groupTable('Per source (engine and version)', summary.bySource, loso.right.summary.bySource),
  ...groupTable('Per hardware generation', summary.byGeneration, loso.right.summary.byGeneration),
  ...groupTable('Per format (weights)', summary.byFormat, loso.right.summary.byFormat),
  ...groupTable('Per mode', summary.byMode, loso.right.summary.byMode),
  ...groupTable('Per metric', summary.byMetric, loso.right.summary.byMetric),
  ...intervalsSection,
  '## The fitted constants, source by source',
  '',
  `Each row: the constants fitted without that source's cases (${losoSeconds.toFixed(0)} s for all of them on the machine that wrote this file). Committed: ${fittedConstants.map((c) => `${c.name} = ${c.value}`).join(', ')}.`,
  '',
  `| source left out | cases | ${fittedConstants.map((c) => c.name).join(' | ')} |`,
  `|---|---|${fittedConstants.map(() => '---').join('|')}|`,
  ...loso.right.fits.map((f) => `| ${f.source} | ${f.cases} | ${fittedConstants.map((c) => f.constants[c.name]).join(' | ')} |`),
  '',
  ...(heldOut.length === 0
    ? []
    : [
        '## Held out: published measurements no constant was fitted on',
        '',
        'Each file under `validation/held-out/` is predicted with the constants as committed. Neither `scripts/fit.js` nor the leave-one-source-out refits read these files, so their errors are the errors on cases the models never saw.',
        '',
        ...heldOutSection,
      ]),
  '## Every case',
  '',
  '| id | metric | predicted | measured | error | error, source left out | what the prediction rests on |',
  '|---|---|---|---|---|---|---|',
  ...cases.map((c) => {
    const h = held.get(c.id)
    return caseRow(c, [h === undefined || h.error === null ? '—' : pct(h.error)])
  }),
  '',
  fs.readFileSync(path.join(__dirname, 'accuracy-notes.md'), 'utf8').trimEnd(),
  '',
]
fs.writeFileSync(out, lines.join('\n'))
console.log(`wrote ${path.relative(process.cwd(), out)}: ${all.predicted} of ${all.cases} cases predicted, median ${abs(all.median)}, p90 ${abs(all.p90)}; each source left out: median ${abs(allHeld.median)}, p90 ${abs(allHeld.p90)}`)
for (const { name, report: r } of heldOut) console.log(`  held out, validation/held-out/${name}: ${r.summary.all.predicted} of ${r.summary.all.cases} predicted, median ${abs(r.summary.all.median)}, p90 ${abs(r.summary.all.p90)}`)
for (const [k, s] of Object.entries(summary.byKind)) console.log(`  ${k}: median ${abs(s.median)}, p90 ${abs(s.p90)}; left out: median ${abs(loso.right.summary.byKind[k]?.median ?? null)}`)
