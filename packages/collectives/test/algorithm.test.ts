import { bytesPerSecond, seconds } from '@meshplan/units'
import { collnet, hierarchical, nvls, nvlsTree, pairwise, pointToPoint, ring, tree } from '../src/algorithm'
import { defaultEfficiencies, llProtocol, simpleProtocol } from '../src/constants'
import type { GroupShape } from '../src/shape'

// DGX H100 links: NVLink 450e9 B/s, 1 µs; NIC 50e9 B/s, 5 µs.
const nvlink = { bandwidth: bytesPerSecond(450e9), latency: seconds(1e-6), inNetworkReduction: true }
const nic = { bandwidth: bytesPerSecond(50e9), latency: seconds(5e-6), inNetworkReduction: false }
const shape = (size: number, local: number, domains: number, out = nic): GroupShape => ({ size, local, domains, scaleUp: nvlink, scaleOut: out })
const e = defaultEfficiencies

// Hand-worked rates with the default efficiencies: Bu = 450e9 x 0.8 = 360e9 B/s,
// Bo = 50e9 x 0.92 = 46e9 B/s; Simple base 8.4 µs, LL base 6.6 µs at half bandwidth and half hop latency.
const Bu = 360e9
const Bo = 46e9

describe('ring', () => {
  it('all-reduce in a node: 2(n-1) steps, 2(n-1)/n of the buffer per link', () => {
    const c = ring.cost('all_reduce', shape(8, 8, 1), e, simpleProtocol)
    expect(c.latency).toBeCloseTo(8.4e-6 + 14 * 1e-6, 12) // 22.4 µs
    expect(c.secondsPerByte).toBeCloseTo(1.75 / Bu, 20)
  })

  it('LL halves the bandwidth and the hop latency', () => {
    const c = ring.cost('all_reduce', shape(8, 8, 1), e, llProtocol)
    expect(c.latency).toBeCloseTo(6.6e-6 + 14 * 0.5e-6, 12) // 13.6 µs
    expect(c.secondsPerByte).toBeCloseTo(1.75 / (Bu / 2), 20)
  })

  it('all-gather and reduce-scatter: n-1 steps of (n-1)/n', () => {
    const c = ring.cost('all_gather', shape(8, 8, 1), e, simpleProtocol)
    expect(c.latency).toBeCloseTo(8.4e-6 + 7e-6, 12)
    expect(c.secondsPerByte).toBeCloseTo(0.875 / Bu, 20)
  })

  it('across 4 nodes of 8 (rail-aligned rings): 7/8 of the traffic on NVLink, 1/8 on each NIC', () => {
    const c = ring.cost('all_reduce', shape(32, 8, 4), e, simpleProtocol)
    // 2 x 31 steps, 2 x 3 cross the network
    expect(c.latency).toBeCloseTo(8.4e-6 + 56 * 1e-6 + 6 * 5e-6, 12) // 94.4 µs
    // 2 x 31/32 x max(0.875 / 360e9, 1 / (8 x 46e9)) = 1.9375 / 368e9
    expect(c.secondsPerByte).toBeCloseTo(1.9375 / 368e9, 20)
  })

  it('one rank per node: every byte through the NIC share', () => {
    const c = ring.cost('all_reduce', shape(16, 1, 16), e, simpleProtocol)
    expect(c.secondsPerByte).toBeCloseTo(1.875 / Bo, 20)
  })

  it('broadcast: a pipelined chain, the whole buffer once per link', () => {
    expect(ring.cost('broadcast', shape(8, 8, 1), e, simpleProtocol).secondsPerByte).toBeCloseTo(1 / Bu, 20)
  })

  it('does not run all-to-all or send/recv', () => {
    expect(ring.applies('all_to_all', shape(8, 8, 1))).toBe(false)
    expect(ring.applies('send_recv', shape(2, 2, 1))).toBe(false)
  })
})

describe('tree', () => {
  it('in a node is a chain: 2S out of every rank, so half the link bandwidth (NCCL ratio .5)', () => {
    const c = tree.cost('all_reduce', shape(8, 8, 1), e, simpleProtocol)
    expect(c.latency).toBeCloseTo(8.4e-6 + 2 * 7 * 1e-6, 12)
    expect(c.secondsPerByte).toBeCloseTo(2 / Bu / 0.9, 20)
  })

  it('across two nodes each node moves S per direction over its 8 NICs', () => {
    // 1 GPU per node: no chain; 1 x S / (1 x 46e9) / 0.9
    const c = tree.cost('all_reduce', shape(2, 1, 2), e, simpleProtocol)
    expect(c.secondsPerByte).toBeCloseTo(1 / Bo / 0.9, 20)
    // 16 nodes: depth 4, 2S per node
    const wide = tree.cost('all_reduce', shape(16, 1, 16), e, simpleProtocol)
    expect(wide.latency).toBeCloseTo(8.4e-6 + 2 * 4 * 5e-6, 12)
    expect(wide.secondsPerByte).toBeCloseTo(2 / Bo / 0.9, 20)
  })
})

describe('nvls', () => {
  it('moves (1 + 1/m) S per direction at 0.8 x 0.85 of NVLink', () => {
    const c = nvls.cost('all_reduce', shape(8, 8, 1), e, simpleProtocol)
    expect(c.latency).toBeCloseTo(8.4e-6 + 2e-6 + 25e-6, 12) // 35.4 µs
    expect(c.secondsPerByte).toBeCloseTo(1.125 / 306e9, 20) // 450e9 x 0.8 x 0.85 = 306e9
  })

  it('needs one domain whose switches reduce', () => {
    expect(nvls.applies('all_reduce', shape(8, 8, 1))).toBe(true)
    expect(nvls.applies('all_reduce', shape(16, 8, 2))).toBe(false)
    expect(nvls.applies('all_reduce', { ...shape(8, 8, 1), scaleUp: { ...nvlink, inNetworkReduction: false } })).toBe(false)
    expect(nvls.applies('all_gather', shape(8, 8, 1))).toBe(false)
  })
})

describe('nvls_tree, collnet, hierarchical', () => {
  it('nvls_tree over 2 nodes is bounded by NVLS: max(1.125 / 306e9, 1 / (8 x 46e9 x 0.9))', () => {
    const c = nvlsTree.cost('all_reduce', shape(16, 8, 2), e, simpleProtocol)
    expect(c.secondsPerByte).toBeCloseTo(1.125 / 306e9, 20)
    expect(c.latency).toBeCloseTo(8.4e-6 + 2e-6 + 2 * 5e-6 + 25e-6, 12)
  })

  it('collnet needs in-network reduction on the network', () => {
    expect(collnet.applies('all_reduce', shape(16, 8, 2))).toBe(false)
    const sharp = shape(16, 8, 2, { ...nic, inNetworkReduction: true })
    // max(2 x 7/8 / 360e9, 1 / (8 x 46e9 x 0.9)) = 1.75 / 360e9
    expect(collnet.cost('all_reduce', sharp, e, simpleProtocol).secondsPerByte).toBeCloseTo(1.75 / Bu, 20)
  })

  it('hierarchical adds its three phases', () => {
    const c = hierarchical.cost('all_reduce', shape(32, 8, 4), e, simpleProtocol)
    expect(c.latency).toBeCloseTo(3 * 8.4e-6 + 14 * 1e-6 + 6 * 5e-6, 12) // 69.2 µs
    expect(c.secondsPerByte).toBeCloseTo(1.75 / Bu + 1.5 / (8 * Bo), 20)
    expect(hierarchical.applies('all_reduce', shape(8, 8, 1))).toBe(false)
  })
})

describe('pairwise all-to-all and send/recv', () => {
  it('inside a node: (n-1)/n of the buffer over NVLink', () => {
    const c = pairwise.cost('all_to_all', shape(8, 8, 1), e, simpleProtocol)
    expect(c.secondsPerByte).toBeCloseTo(0.875 / Bu, 20)
    expect(c.latency).toBeCloseTo(8.4e-6 + 1e-6 + 7 * 0.5e-6, 12)
  })

  it('across 16 nodes: (n - m)/n of the buffer through each GPU NIC share bounds it', () => {
    const c = pairwise.cost('all_to_all', shape(128, 8, 16), e, simpleProtocol)
    expect(c.secondsPerByte).toBeCloseTo(120 / 128 / Bo, 20)
  })

  it('send/recv: one pair at 0.65 of NVLink, the NIC share across nodes', () => {
    expect(pointToPoint.cost('send_recv', shape(2, 2, 1), e, simpleProtocol).secondsPerByte).toBeCloseTo(1 / (450e9 * 0.65), 20)
    expect(pointToPoint.cost('send_recv', shape(2, 1, 2), e, simpleProtocol).secondsPerByte).toBeCloseTo(1 / Bo, 20)
  })
})
