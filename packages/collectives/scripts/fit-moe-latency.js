#!/usr/bin/env node
// Fits the fixed cost of a DeepEP exchange (MOE_EXCHANGE_LATENCY in src/moe-exchange.ts)
// on DeepEP's published low-latency table and prints it with a leave-one-out check. Uses
// the built package (run `npx turbo run build` first):
//
//   node packages/collectives/scripts/fit-moe-latency.js
//
// The table is validation/deepep-low-latency.json (its source is in the file: DeepEP's
// "Low-latency kernels with pure RDMA" on H800). Each row's time less the bytes priced by
// `moeExchange` is the row's fixed cost; the fit is their median.
'use strict'
const { MOE_EXCHANGE_LATENCY, clusterFromHardware, defaultCollectiveModel, moeExchange } = require('../dist')
const { spanOf } = require('@meshplan/topology')
const path = require('node:path')

// [EP, dispatch µs, combine µs]
const { rows } = require(path.resolve(__dirname, '..', '..', '..', 'validation', 'deepep-low-latency.json'))
const h800 = (gpus) => ({ num_gpus: gpus, gpus_per_node: 8, scale_up: { bandwidth_gbps: 200 }, scale_out: { bandwidth_gbps: 50 } })

const priced = rows.flatMap(([ep, dispatch, combine]) => {
  const cluster = clusterFromHardware(h800(ep))
  const span = spanOf(cluster)(Array.from({ length: ep }, (_, i) => i))
  return [
    ['moe_dispatch', dispatch],
    ['moe_combine', combine],
  ].map(([op, measured]) => {
    const r = moeExchange(defaultCollectiveModel)(cluster)({ op, tokensPerRank: 128, hidden: 7168, topK: 8, numExperts: 256, kernel: 'low_latency' }, span)
    if (r._tag === 'Left') throw new Error(r.left.message)
    const bytesTime = r.right.seconds - MOE_EXCHANGE_LATENCY
    return { label: `EP${ep} ${op}`, measured: measured * 1e-6, bytesTime }
  })
})

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}
const us = (s) => (s * 1e6).toFixed(1)
console.log('| row | measured µs | bytes µs | fixed cost µs |')
console.log('|---|---|---|---|')
for (const p of priced) console.log(`| ${p.label} | ${us(p.measured)} | ${us(p.bytesTime)} | ${us(p.measured - p.bytesTime)} |`)
const fit = median(priced.map((p) => p.measured - p.bytesTime))
console.log(`\nfit: ${us(fit)} µs (src: MOE_EXCHANGE_LATENCY = ${us(MOE_EXCHANGE_LATENCY)} µs)`)
console.log('\nleave-one-out:')
for (const p of priced) {
  const f = median(priced.filter((o) => o !== p).map((o) => o.measured - o.bytesTime))
  const predicted = f + p.bytesTime
  console.log(`  ${p.label}: fit on the others ${us(f)} µs -> ${us(predicted)} µs vs ${us(p.measured)} (${(((predicted - p.measured) / p.measured) * 100).toFixed(1)}%)`)
}
