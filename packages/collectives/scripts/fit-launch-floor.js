#!/usr/bin/env node
// Fits nccl-tests' host cost per GPU (NCCL_TESTS_HOST_COST_PER_GPU in src/calibration.ts) on
// the calibration file's single-node collective time cases, and prints it with a
// leave-one-out check. Uses the built package (run `npx turbo run build` first):
//
//   node packages/collectives/scripts/fit-launch-floor.js [path]
//
// The fit: nccl-tests launches its iterations back to back from one thread per process,
// which inside one node drives every GPU (`-g 8`), so no iteration is faster than
// GPUs x host cost; the fit is the lowest measured time per GPU of those cases (the
// floor is a lower envelope). Leave-one-out: each case predicted as
// max(collective time, GPUs x the fit of the other cases).
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const { CollectiveCase, NCCL_TESTS_HOST_COST_PER_GPU, defaultCollectiveModel, estimate, groupOfHardware } = require('../dist')

const file = process.argv[2] !== undefined ? path.resolve(process.cwd(), process.argv[2]) : path.resolve(__dirname, '../../../validation/calibration.json')
const cases = JSON.parse(fs.readFileSync(file, 'utf8'))
  .cases.filter((c) => c.workload.kind === 'collective' && c.measured.metric === 'time_us' && c.hardware.num_gpus <= c.hardware.gpus_per_node)
  .map((raw) => {
    const decoded = CollectiveCase.decode(raw)
    if (decoded._tag === 'Left') throw new Error(`case ${raw.id} does not decode`)
    const c = decoded.right
    const { cluster, span } = groupOfHardware(c.hardware)
    const { algorithm, protocol } = c.workload
    const r = estimate(defaultCollectiveModel)(cluster)(c.workload.op, c.workload.bytes, span, { ...(algorithm ? { algorithm } : {}), ...(protocol ? { protocol } : {}) })
    if (r._tag === 'Left') throw new Error(r.left.message)
    return { id: c.id, gpus: c.hardware.num_gpus, measured: c.measured.value * 1e-6, collective: r.right.seconds }
  })

const us = (s) => (s * 1e6).toFixed(3)
const fitOf = (rows) => Math.min(...rows.map((r) => r.measured / r.gpus))
console.log('| case | GPUs per thread | measured µs | per GPU µs | collective (NCCL model) µs |')
console.log('|---|---|---|---|---|')
for (const r of cases) console.log(`| ${r.id} | ${r.gpus} | ${us(r.measured)} | ${us(r.measured / r.gpus)} | ${us(r.collective)} |`)
const fit = fitOf(cases)
console.log(`\nfit: host cost per GPU ${us(fit)} µs (src: NCCL_TESTS_HOST_COST_PER_GPU = ${us(NCCL_TESTS_HOST_COST_PER_GPU)} µs)`)
console.log('\nleave-one-out:')
for (const r of cases) {
  const others = cases.filter((o) => o !== r)
  if (others.length === 0) continue
  const f = fitOf(others)
  const predicted = Math.max(r.collective, r.gpus * f)
  console.log(`  ${r.id}: fit on the others ${us(f)} µs/GPU -> ${us(predicted)} µs vs ${us(r.measured)} (${(((predicted - r.measured) / r.measured) * 100).toFixed(1)}%)`)
}
