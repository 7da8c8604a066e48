import * as fs from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import { decodeWith } from '@meshplan/units'
import { calibrationTable, clusterFromHardware, CollectiveCase, groupOfHardware, predictCase, predictCaseFile, summarize, type CaseResult } from '../src/calibration'
import { defaultCollectiveModel } from '../src/model'

const hardware = {
  num_gpus: 16,
  gpus_per_node: 8,
  gpu: { name: 'H100', memory_gib: 80, tflops: { bf16: 989 }, hbm_tbps: 3.35 },
  scale_up: { bandwidth_gbps: 450, in_network_reduction: true },
  scale_out: { bandwidth_gbps: 50, latency_us: 3 },
}

describe('clusterFromHardware', () => {
  it('builds a node tier and a network tier in SI units', () => {
    const c = clusterFromHardware(hardware)
    expect(c.tiers.map((t) => [t.name, t.kind, t.fanout])).toEqual([
      ['node', 'scale-up', 8],
      ['network', 'scale-out', 2],
    ])
    expect(c.tiers[0]?.link).toEqual({ bandwidth: 450e9, latency: 1e-6, inNetworkReduction: true })
    expect(c.tiers[1]?.link).toEqual({ bandwidth: 50e9, latency: 3e-6, inNetworkReduction: false })
    expect(c.device.memory).toBe(80 * 2 ** 30)
    expect(c.device.peak.bf16).toBe(989e12)
  })

  it('groups the first num_gpus ranks, also a partial node', () => {
    expect(groupOfHardware(hardware).span.levels.map((l) => l.width)).toEqual([8, 2])
    expect(groupOfHardware({ ...hardware, num_gpus: 4 }).span.levels.map((l) => l.width)).toEqual([4, 1])
  })
})

describe('predictCase', () => {
  const base = { id: 'hand', hardware: { ...hardware, num_gpus: 8 }, workload: { kind: 'collective' as const, op: 'all_reduce' as const, bytes: 2 ** 30 } }

  it('predicts bus bandwidth in GB/s and the error against the measurement', () => {
    // nvls: 35.4 µs + 1.125 x 2^30 / 306e9 -> busbw 471.77 GB/s; measured 480 -> -1.71 %
    const r = predictCase(defaultCollectiveModel)({ ...base, measured: { metric: 'busbw_gbps', value: 480 } })
    expect(r.note).toBe('nvls/Simple')
    expect(r.predicted).toBeCloseTo(471.77, 2)
    expect(r.error).toBeCloseTo((471.77 - 480) / 480, 4)
  })

  it('predicts time in µs and honours a forced algorithm', () => {
    // ring/Simple: 22.4 µs + 1.75 x 2^30 / 360e9 = 5241.98 µs
    const c = { ...base, workload: { ...base.workload, algorithm: 'ring' as const }, measured: { metric: 'time_us' as const, value: 5000 } }
    expect(predictCase(defaultCollectiveModel)(c).predicted).toBeCloseTo(5241.98, 1)
  })

  it('gives no number, with the reason, for an algorithm that does not apply', () => {
    const c = { ...base, workload: { ...base.workload, algorithm: 'collnet' as const }, measured: { metric: 'time_us' as const, value: 5000 } }
    const r = predictCase(defaultCollectiveModel)(c)
    expect(r.predicted).toBeNull()
    expect(r.note).toContain('not applicable')
  })

  it('honours a forced protocol: ring with LL pays LL\'s half bandwidth, so it is slower than ring with Simple at 1 GiB', () => {
    const time = (protocol: 'll' | 'simple') =>
      predictCase(defaultCollectiveModel)({ ...base, workload: { ...base.workload, algorithm: 'ring' as const, protocol }, measured: { metric: 'time_us' as const, value: 5000 } })
    const simple = time('simple')
    const ll = time('ll')
    expect(simple.predicted).toBeCloseTo(5241.98, 1)
    expect(simple.note).toBe('ring/Simple')
    expect(ll.note).toBe('ring/LL')
    expect(ll.predicted ?? 0).toBeGreaterThan(1.9 * (simple.predicted ?? 0))
  })

  it('gives no number, with the reason, for a protocol the model does not have (LL128) or a full-mesh node', () => {
    const ll128 = predictCase(defaultCollectiveModel)({ ...base, workload: { ...base.workload, protocol: 'll128' as const }, measured: { metric: 'time_us' as const, value: 5000 } })
    expect(ll128.predicted).toBeNull()
    expect(ll128.note).toContain('protocol ll128')
    const mesh = { ...base, hardware: { ...base.hardware, scale_up: { bandwidth_gbps: 448, topology: 'full_mesh' as const, link_gbps: 64 } }, measured: { metric: 'time_us' as const, value: 5000 } }
    const r = predictCase(defaultCollectiveModel)(mesh)
    expect(r.predicted).toBeNull()
    expect(r.note).toContain('full_mesh')
  })

  it('refuses an unknown field of the hardware with its path', () => {
    const bad = decodeWith(CollectiveCase, 'case')({ ...base, hardware: { ...base.hardware, scale_up: { bandwidth_gbps: 450, bandwith: 1 } }, measured: { metric: 'busbw_gbps', value: 1 } })
    expect(E.isLeft(bad) && bad.left.map((i) => i.path)).toEqual(['case.hardware.scale_up.bandwith'])
  })

  it('decodes a case at the boundary with the path of a bad field', () => {
    const bad = decodeWith(CollectiveCase, 'case')({ ...base, workload: { ...base.workload, bytes: -1 }, measured: { metric: 'busbw_gbps', value: 1 } })
    expect(E.isLeft(bad) && bad.left.map((i) => i.path)).toEqual(['case.workload.bytes'])
  })
})

describe('summarize', () => {
  it('takes the median and worst of the absolute errors', () => {
    const result = (id: string, error: number | null): CaseResult => ({ id, metric: 'time_us', measured: 1, predicted: error === null ? null : 1 + error, error, note: '' })
    const s = summarize([result('a', 0.1), result('b', -0.3), result('c', 0.05), result('d', 0.2), result('e', null)])
    expect(s.predicted).toBe(4)
    expect(s.median).toBeCloseTo(0.15, 12) // |errors| 0.05, 0.1, 0.2, 0.3
    expect(s.mean).toBeCloseTo(0.1625, 12)
    expect(s.worst).toEqual({ id: 'b', error: -0.3 })
  })
})

// The repository's copy of the measured cases (validation/calibration.json, refreshed by `npm run sync-cases`).
const caseFile = path.resolve(__dirname, '../../../validation/calibration.json')

describe('the collective cases of the calibration file', () => {
  const results = predictCaseFile(defaultCollectiveModel)(JSON.parse(fs.readFileSync(caseFile, 'utf8')))

  it('predicts every collective case', () => {
    expect(results.length).toBeGreaterThan(0)
    for (const r of results) expect(r.predicted).not.toBeNull()
  })

  it('has a median absolute error within 15%', () => {
    const summary = summarize(results)
    expect(summary.median).toBeLessThanOrEqual(0.15)
    expect(calibrationTable(results)).toContain('Median absolute error')
  })
})
