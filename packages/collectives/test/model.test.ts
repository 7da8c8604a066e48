import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { spanOf } from '@meshplan/topology'
import { seconds } from '@meshplan/units'
import { pairwise, type Algorithm } from '../src/algorithm'
import { collectiveOps } from '../src/op'
import { defaultCollectiveModel, estimate, prepare, withAlgorithm, withEfficiencies, withoutAlgorithm } from '../src/model'
import { a100x1, clusterAndSpan, everyRank, GiB, h100x1, h100x16, h100x2, leftOf, messageBytes, ranks, rightOf, thinNetwork } from './fixtures'

const price = estimate(defaultCollectiveModel)
const node = everyRank(h100x1)

describe('estimate: one DGX H100 node (8 x H100, NVLink 450 GB/s per direction)', () => {
  it('prices a forced 1 GiB ring all-reduce by hand', () => {
    // Simple (NCCL tuning.cc): 8.4 µs + 14 steps x 3.4 µs = 56.0 µs; 1.75 x 2^30 B / (450e9 x 0.8) = 5.21958 ms
    // LL128: 40.6 µs + 1.75 x 2^30 / 331.2e9 = 5.7142 ms; LL: 15.0 µs + 1.75 x 2^30 / 141e9 = 13.34 ms
    const r = rightOf(price(h100x1)('all_reduce', GiB, node, { algorithm: 'ring' }))
    expect(r.algorithm).toBe('ring')
    expect(r.protocol).toBe('Simple')
    expect(r.seconds).toBeCloseTo(56e-6 + (1.75 * GiB) / 360e9, 12) // 5.27558 ms
    expect(r.algbw).toBeCloseTo(GiB / r.seconds, 0)
    expect(r.busbw / 1e9).toBeCloseTo(356.18, 2)
    expect(r.busFactor).toBe(1.75)
    expect(r.considered.map((c) => c.protocol)).toEqual(['Simple', 'LL128', 'LL'])
  })

  it('prices a forced LL128 ring at 0.92 of the bandwidth', () => {
    const r = rightOf(price(h100x1)('all_reduce', GiB, node, { algorithm: 'ring', protocol: 'll128' }))
    expect(r.protocol).toBe('LL128')
    expect(r.seconds).toBeCloseTo(40.6e-6 + (1.75 * GiB) / (0.92 * 360e9), 12)
  })

  it('bus bandwidth approaches link x efficiency (450 x 0.8 = 360 GB/s) for large messages', () => {
    const r = rightOf(price(h100x1)('all_reduce', 16 * GiB, node, { algorithm: 'ring' }))
    expect(Math.abs(r.busbw - 360e9) / 360e9).toBeLessThan(0.001)
  })

  it('latency dominates a 1 KiB all-reduce: ring with LL, 15.0 µs of 15.01', () => {
    // ring LL: 6.6 µs + 14 x 0.6 µs = 15.0 µs; 1.75 x 1024 B / 141e9 B/s = 12.7 ns
    // (tree LL 15.2 µs, NVLS 25 µs)
    const r = rightOf(price(h100x1)('all_reduce', 1024, node))
    expect(r.algorithm).toBe('ring')
    expect(r.protocol).toBe('LL')
    expect(r.seconds).toBeCloseTo(15.0e-6 + (1.75 * 1024) / 141e9, 12)
    expect(15.0e-6 / r.seconds).toBeGreaterThan(0.999)
  })

  it('chooses in-switch reduction (NVLS) for a large all-reduce', () => {
    // NCCL's NVLS latency 25 µs; 1.125 x 2^30 / (450e9 x 0.8 x 0.85 = 306e9) = 3.94758 ms
    const r = rightOf(price(h100x1)('all_reduce', GiB, node))
    expect(r.algorithm).toBe('nvls')
    expect(r.seconds).toBeCloseTo(25e-6 + (1.125 * GiB) / 306e9, 12) // 3.97258 ms
    expect(r.busbw / 1e9).toBeCloseTo(473.0, 1)
    expect(r.considered[0]).toEqual({ algorithm: 'nvls', protocol: 'Simple', seconds: r.seconds })
  })

  it('does not use NVLS on A100, whose NVSwitch does not reduce, and says so when forced', () => {
    const a100 = everyRank(a100x1)
    expect(rightOf(price(a100x1)('all_reduce', GiB, a100)).algorithm).toBe('ring')
    const forced = leftOf(price(a100x1)('all_reduce', GiB, a100, { algorithm: 'nvls' }))
    expect(forced.code).toBe('not-applicable')
    expect(forced.message).toContain('not applicable')
  })

  it('ring all-reduce is reduce-scatter plus all-gather less one base latency', () => {
    // AR: 56.0 µs + 1.75 S / Bu; RS and AG: 32.2 µs + 0.875 S / Bu each; 56.0 = 2 x 32.2 - 8.4
    const ring = { algorithm: 'ring' }
    const ar = rightOf(price(h100x1)('all_reduce', GiB, node, ring)).seconds
    const rs = rightOf(price(h100x1)('reduce_scatter', GiB, node, ring)).seconds
    const ag = rightOf(price(h100x1)('all_gather', GiB, node, ring)).seconds
    expect(rs + ag - ar).toBeCloseTo(8.4e-6, 12)
    expect(Math.abs(ar - (rs + ag)) / ar).toBeLessThan(0.002)
  })

  it('all-to-all inside a node runs on NVLink: 8.4 + 7 peers x 3.4 = 32.2 µs + 7/8 S / 360e9', () => {
    const r = rightOf(price(h100x1)('all_to_all', GiB, node))
    expect(r.algorithm).toBe('pairwise')
    expect(r.seconds).toBeCloseTo(32.2e-6 + (0.875 * GiB) / 360e9, 12)
  })
})

describe('estimate: across nodes', () => {
  it('all-to-all over 16 DGX H100 nodes is bounded by each GPU NIC share', () => {
    // 128 ranks, 8 per node: 120/128 of the buffer leaves the node through 50e9 x 0.92 B/s
    // 8.4 + 7 x 3.4 + 120 x 3 + 14 = 406.2 µs; 0.9375 x 2^30 / 46e9 = 21.8833 ms
    const r = rightOf(price(h100x16)('all_to_all', GiB, everyRank(h100x16)))
    expect(r.seconds).toBeCloseTo(406.2e-6 + (0.9375 * GiB) / 46e9, 12) // 22.2895 ms
    expect(r.seconds).toBeGreaterThan((0.9375 * GiB) / 50e9) // never faster than the raw NIC share
    // bus bandwidth: 2^30 / 22.2895 ms x 127/128 (48.68 GB/s asymptotically)
    expect(r.busbw / 1e9).toBeCloseTo(((GiB / (406.2e-6 + (0.9375 * GiB) / 46e9)) * (127 / 128)) / 1e9, 6)
  })

  it('hierarchical beats the ring across nodes for large messages when the network is thin', () => {
    // 2 nodes x 8, NIC share 1.5625e9 B/s: Bo = 1.4375e9, m Bo = 11.5e9, Bu = 360e9
    // ring: 1.875 x max(0.875 / 360e9, 1 / 11.5e9) = 1.63043e-10 s/B; (8.4 + 28 x 3.4 + 2 x 14) x 1.4 = 184.24 µs
    // hierarchical: 1.75 / 360e9 + 1 / 11.5e9 = 9.18176e-11 s/B; 3 x 8.4 + 14 x 3.4 + 2 x 14 = 100.8 µs
    // (tree: 2 / (0.92 x 2 x 11.5e9) = 9.45e-11 s/B)
    const group = everyRank(thinNetwork)
    const ring = rightOf(price(thinNetwork)('all_reduce', GiB, group, { algorithm: 'ring' }))
    const chosen = rightOf(price(thinNetwork)('all_reduce', GiB, group))
    expect(chosen.algorithm).toBe('hierarchical')
    expect(ring.seconds).toBeCloseTo(184.24e-6 + GiB * 1.875 * (1 / 11.5e9), 9)
    expect(chosen.seconds).toBeCloseTo(100.8e-6 + GiB * (1.75 / 360e9 + 1 / 11.5e9), 9)
    expect(chosen.seconds).toBeLessThan(0.6 * ring.seconds)
    // small messages: three collectives' latencies make it lose
    expect(rightOf(price(thinNetwork)('all_reduce', 1024, group)).algorithm).not.toBe('hierarchical')
  })

  it('on rail-optimized DGX H100 nodes NCCL rings already use every NIC and beat hierarchical', () => {
    const group = everyRank(h100x2)
    const ring = rightOf(price(h100x2)('all_reduce', GiB, group, { algorithm: 'ring' }))
    const hier = rightOf(price(h100x2)('all_reduce', GiB, group, { algorithm: 'hierarchical' }))
    expect(ring.seconds).toBeLessThan(hier.seconds)
    // the default across 2 nodes: NVLS inside, tree across (NCCL's NVLS_TREE)
    expect(rightOf(price(h100x2)('all_reduce', GiB, group)).algorithm).toBe('nvls_tree')
  })

  it('a one-per-node group (a DP group under TP 8) goes through the NIC only', () => {
    const dp = spanOf(h100x16)(ranks(16).map((i) => i * 8))
    const r = rightOf(price(h100x16)('all_gather', GiB, dp))
    // ring Simple: 15 steps all across the network at the tree's network figure (one rank per
    // node): 8.4 + 15 x 14 µs = 218.4 µs; 15/16 x S / 46e9
    expect(r.protocol).toBe('Simple')
    expect(r.seconds).toBeCloseTo(218.4e-6 + (0.9375 * GiB) / 46e9, 12)
  })
})

describe('estimate: bad input is an error value', () => {
  it('rejects sizes that are not finite and above zero', () => {
    for (const bad of [0, -1, Number.NaN, Infinity]) expect(leftOf(price(h100x1)('all_reduce', bad, node)).code).toBe('invalid-size')
  })

  it('rejects a span that does not fit, an unknown op and an unknown algorithm (with a suggestion)', () => {
    expect(leftOf(price(h100x1)('all_reduce', 1024, everyRank(h100x16))).code).toBe('span-mismatch')
    expect(leftOf(price(h100x1)('allreduce' as never, 1024, node)).code).toBe('unknown-op')
    const unknown = leftOf(price(h100x1)('all_reduce', 1024, node, { algorithm: 'rign' }))
    expect(unknown).toMatchObject({ code: 'unknown-algorithm', suggestion: 'did you mean "ring"?' })
  })

  it('says not applicable for collnet without SHARP and for ring on all-to-all', () => {
    expect(leftOf(price(h100x16)('all_reduce', 1024, everyRank(h100x16), { algorithm: 'collnet' })).code).toBe('not-applicable')
    expect(leftOf(price(h100x1)('all_to_all', 1024, node, { algorithm: 'ring' })).code).toBe('not-applicable')
  })

  it('prices a group of one rank at zero, with zero bandwidths', () => {
    const one = spanOf(h100x1)([3])
    for (const op of collectiveOps) {
      const r = rightOf(price(h100x1)(op, GiB, one))
      expect(r).toMatchObject({ seconds: 0, algbw: 0, busbw: 0, algorithm: 'none' })
    }
  })

  it('rejects a model with an efficiency that is not a positive number', () => {
    const broken = withEfficiencies({ scaleUp: Number.NaN })(defaultCollectiveModel)
    expect(leftOf(estimate(broken)(h100x1)('all_reduce', 1024, node)).code).toBe('invalid-model')
  })

  it('reports a user algorithm that returns NaN instead of passing it on', () => {
    const bad: Algorithm = { ...pairwise, cost: () => ({ latency: 0, secondsPerByte: Number.NaN }) }
    expect(leftOf(estimate(withAlgorithm(bad)(defaultCollectiveModel))(h100x1)('all_to_all', 1024, node)).code).toBe('invalid-model')
  })
})

describe('extending the model', () => {
  it('replaces the all-to-all algorithm by name', () => {
    const flat: Algorithm = {
      ...pairwise,
      description: 'a measured kernel: 20 µs + S / 300e9',
      cost: () => ({ latency: 20e-6, secondsPerByte: 1 / 300e9 }),
    }
    const model = withAlgorithm(flat)(defaultCollectiveModel)
    expect(model.algorithms.length).toBe(defaultCollectiveModel.algorithms.length)
    const r = rightOf(estimate(model)(h100x1)('all_to_all', 3e9, node))
    expect(r.seconds).toBeCloseTo(20e-6 + 0.01, 12)
  })

  it('takes measured efficiencies', () => {
    const model = withEfficiencies({ scaleUp: 0.9 })(defaultCollectiveModel)
    const r = rightOf(estimate(model)(h100x1)('all_gather', GiB, node))
    expect(r.seconds).toBeCloseTo(32.2e-6 + (0.875 * GiB) / 405e9, 12)
  })

  it('reports no algorithm when the op has none', () => {
    const model = withoutAlgorithm('pairwise')(defaultCollectiveModel)
    expect(leftOf(estimate(model)(h100x1)('all_to_all', 1024, node)).code).toBe('no-algorithm')
    expect(leftOf(prepare(model)(h100x1)(node)).code).toBe('no-algorithm')
  })
})

describe('prepare: the fast path', () => {
  const group = rightOf(prepare(defaultCollectiveModel)(h100x1)(node))

  it('gives the time estimate gives', () => {
    expect(group.time('all_reduce', GiB)).toBe(rightOf(price(h100x1)('all_reduce', GiB, node)).seconds)
    expect(group.candidates('all_reduce').map((c) => `${c.algorithm}/${c.protocol}`)).toEqual([
      'ring/LL',
      'ring/LL128',
      'ring/Simple',
      'tree/LL',
      'tree/LL128',
      'tree/Simple',
      'nvls/Simple',
    ])
  })

  it('applies NCCL tree correction by power-of-two class without letting a larger message cost less', () => {
    // a tree forced over 8 GPUs, Simple: 64.4 µs + S x 2 / (0.92 x 360e9) / correction
    // 2 MiB = 64 x 2^15: entry 15 = 0.6; just below it (entry 14 = 0.5) the time is higher,
    // so the faster class waits at the slower class's top
    const time = (bytes: number): number => rightOf(price(h100x1)('all_reduce', bytes, node, { algorithm: 'tree', protocol: 'simple' })).seconds
    const spb = 2 / (0.92 * 360e9)
    const top = 64.4e-6 + 2 ** 21 * (spb / 0.5) // Simple at the top of entry 14
    expect(time(2 ** 21 - 1)).toBeCloseTo(64.4e-6 + (2 ** 21 - 1) * (spb / 0.5), 12)
    expect(time(2 ** 21)).toBeCloseTo(Math.max(top, 64.4e-6 + 2 ** 21 * (spb / 0.6)), 12)
    expect(time(2 ** 21)).toBeGreaterThanOrEqual(time(2 ** 21 - 1))
    // from 2^29 bytes on, no correction: S x spb
    expect(time(2 ** 32)).toBeCloseTo(64.4e-6 + 2 ** 32 * spb, 9)
  })

  it('gives 0 for sizes that are not finite and above zero, and for one rank', () => {
    expect(group.time('all_reduce', 0)).toBe(0)
    expect(group.time('all_reduce', Number.NaN)).toBe(0)
    const one = rightOf(prepare(defaultCollectiveModel)(h100x1)(spanOf(h100x1)([0])))
    expect(one.time('all_reduce', GiB)).toBe(seconds(0))
  })
})

describe('laws', () => {
  const ops = fc.constantFrom(...collectiveOps)

  it('every answer is finite and non-negative, and the fast path agrees', () => {
    fc.assert(
      fc.property(clusterAndSpan, ops, messageBytes, ({ cluster, span }, op, size) => {
        const r = estimate(defaultCollectiveModel)(cluster)(op, size, span)
        expect(E.isRight(r)).toBe(true)
        if (E.isLeft(r)) return
        for (const value of [r.right.seconds, r.right.algbw, r.right.busbw, r.right.busFactor]) {
          expect(Number.isFinite(value)).toBe(true)
          expect(value).toBeGreaterThanOrEqual(0)
        }
        if (span.size > 1) expect(r.right.seconds).toBeGreaterThan(0)
        const fast = rightOf(prepare(defaultCollectiveModel)(cluster)(span)).time(op, size)
        expect(fast).toBeCloseTo(r.right.seconds, 15)
      }),
      { numRuns: 300 },
    )
  })

  it('time grows with message size', () => {
    fc.assert(
      fc.property(clusterAndSpan, ops, messageBytes, messageBytes, ({ cluster, span }, op, a, b) => {
        const group = rightOf(prepare(defaultCollectiveModel)(cluster)(span))
        const [small, large] = a <= b ? [a, b] : [b, a]
        expect(group.time(op, small)).toBeLessThanOrEqual(group.time(op, large))
      }),
      { numRuns: 300 },
    )
  })

  it('algorithm bandwidth never falls when the size doubles', () => {
    fc.assert(
      fc.property(clusterAndSpan, messageBytes, ({ cluster, span }, size) => {
        const small = rightOf(estimate(defaultCollectiveModel)(cluster)('all_gather', size, span))
        const large = rightOf(estimate(defaultCollectiveModel)(cluster)('all_gather', size * 2, span))
        // with a fixed latency, doubling the size never lowers the bandwidth
        expect(large.algbw).toBeGreaterThanOrEqual(small.algbw * (1 - 1e-12))
      }),
      { numRuns: 200 },
    )
  })
})
