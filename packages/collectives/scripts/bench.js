#!/usr/bin/env node
// Throughput of the fast path: prepared.time(op, bytes) as the planner's inner loop calls it.
// Uses the built package (run `npx turbo run build` first):
//
//   node packages/collectives/scripts/bench.js
'use strict'
const { spanOf, unsafeClusterOf } = require('@meshplan/topology')
const { collectiveOps, defaultCollectiveModel, prepare } = require('../dist')

const cluster = unsafeClusterOf('dgx-h100', 16)
const groups = [
  spanOf(cluster)([0, 1, 2, 3, 4, 5, 6, 7]),
  spanOf(cluster)(Array.from({ length: 16 }, (_, i) => i * 8)),
  spanOf(cluster)(Array.from({ length: 128 }, (_, i) => i)),
].map((span) => {
  const prepared = prepare(defaultCollectiveModel)(cluster)(span)
  if (prepared._tag === 'Left') throw new Error(prepared.left.message)
  return prepared.right
})

const calls = 10_000_000
let sink = 0
const start = process.hrtime.bigint()
for (let i = 0; i < calls; i++) {
  const group = groups[i % groups.length]
  sink += group.time(collectiveOps[i % collectiveOps.length], 1024 + (i & 0xffff) * 4096)
}
const elapsed = Number(process.hrtime.bigint() - start) / 1e9
console.log(`${calls} calls in ${elapsed.toFixed(3)} s: ${((elapsed / calls) * 1e9).toFixed(1)} ns per call (checksum ${sink.toExponential(3)})`)
