import { bytesPerSecond, seconds } from '@meshplan/units'
import { collnet, hierarchical, nvls, nvlsTree, pairwise, pointToPoint, ring, tree } from '../src/algorithm'
import { defaultEfficiencies, ll128Protocol, llProtocol, simpleProtocol, type Protocol } from '../src/constants'
import type { GroupShape } from '../src/shape'
import type { GpuGeneration } from '../src/tuning'

// DGX H100 links: NVLink 450e9 B/s, 1 µs; NIC 50e9 B/s, 5 µs (topology's preset latencies,
// the fabrics NCCL's figures are for: no excess latency).
const nvlink = { bandwidth: bytesPerSecond(450e9), latency: seconds(1e-6), inNetworkReduction: true }
const nic = { bandwidth: bytesPerSecond(50e9), latency: seconds(5e-6), inNetworkReduction: false }
const shape = (size: number, local: number, domains: number, out = nic, generation: GpuGeneration = 'hopper'): GroupShape => ({
  size,
  local,
  domains,
  scaleUp: nvlink,
  scaleOut: out,
  generation,
})
const e = defaultEfficiencies

// Hand-worked rates with the default efficiencies: Bu = 450e9 x 0.8 = 360e9 B/s,
// Bo = 50e9 x 0.92 = 46e9 B/s. Latencies are NCCL 2.30's (src/graph/tuning.cc,
// ncclTunerConstantsDefaults), in µs: base Ring { LL 6.6, LL128 14, Simple 8.4 },
// Tree { 6.8, 14, 8.4 }; NVLink step Ring { 0.6, 1.9, 3.4 }, Tree { 0.6, 1.25, 4.0 };
// network step Ring { 2.7, 4.0, 14 }, Tree { 5.0, 8.5, 14 }.
const Bu = 360e9
const Bo = 46e9
const us = 1e-6

describe('ring (NCCL ncclTopoTuneModel, ring branch)', () => {
  it('all-reduce in a node, Simple: 8.4 + 14 steps x 3.4 µs; 2(n-1)/n of the buffer per link at Bu', () => {
    const c = ring.cost('all_reduce', shape(8, 8, 1), e, simpleProtocol)
    expect(c.latency).toBeCloseTo(56.0 * us, 12)
    expect(c.secondsPerByte).toBeCloseTo(1.75 / Bu, 20)
    expect(c.bandwidthCorrection).toBeUndefined()
  })

  it('LL: 6.6 + 14 x 0.6 = 15.0 µs, half of Bu capped at Hopper single-node llMaxBw 141 GB/s', () => {
    const c = ring.cost('all_reduce', shape(8, 8, 1), e, llProtocol)
    expect(c.latency).toBeCloseTo(15.0 * us, 12)
    expect(c.secondsPerByte).toBeCloseTo(1.75 / 141e9, 20) // min(141e9, 180e9)
  })

  it('LL128: 14 + 14 x 1.9 = 40.6 µs at 0.92 of Bu', () => {
    const c = ring.cost('all_reduce', shape(8, 8, 1), e, ll128Protocol)
    expect(c.latency).toBeCloseTo(40.6 * us, 12)
    expect(c.secondsPerByte).toBeCloseTo(1.75 / (0.92 * Bu), 20)
  })

  it('all-gather and reduce-scatter: n-1 steps of (n-1)/n', () => {
    const c = ring.cost('all_gather', shape(8, 8, 1), e, simpleProtocol)
    expect(c.latency).toBeCloseTo((8.4 + 7 * 3.4) * us, 12) // 32.2 µs
    expect(c.secondsPerByte).toBeCloseTo(0.875 / Bu, 20)
  })

  it('across 4 nodes of 8 (rail-aligned rings), Simple: 6 of 62 steps on the network, x 1.4 plateau', () => {
    const c = ring.cost('all_reduce', shape(32, 8, 4), e, simpleProtocol)
    // intra steps pay max(3.4, net overhead 1 x 3) = 3.4: (8.4 + 56 x 3.4 + 6 x 14) x 1.4 = 395.92 µs
    expect(c.latency).toBeCloseTo(395.92 * us, 12)
    // 2 x 31/32 x max(0.875 / 360e9, 1 / (8 x 46e9)) = 1.9375 / 368e9
    expect(c.secondsPerByte).toBeCloseTo(1.9375 / 368e9, 20)
  })

  it('across 4 nodes, LL pays the 1 µs network post overhead per step and llMaxBw of more than 2 nodes, 20.4 GB/s', () => {
    const c = ring.cost('all_reduce', shape(32, 8, 4), e, llProtocol)
    expect(c.latency).toBeCloseTo((6.6 + 56 * 1.0 + 6 * 2.7) * us, 12) // 78.8 µs
    expect(c.secondsPerByte).toBeCloseTo(1.9375 / 20.4e9, 20)
  })

  it('across 4 nodes, LL128 at most 8 channels x 36.7 GB/s (Hopper perChMaxRingLL128Bw)', () => {
    const c = ring.cost('all_reduce', shape(32, 8, 4), e, ll128Protocol)
    expect(c.latency).toBeCloseTo((14 + 56 * 1.9 + 6 * 4.0) * us, 12) // 144.4 µs
    expect(c.secondsPerByte).toBeCloseTo(1.9375 / 293.6e9, 20) // min(0.92 x 368e9, 293.6e9)
  })

  it('one rank per node: every byte through the NIC share, every step at the tree network figure', () => {
    const c = ring.cost('all_reduce', shape(16, 1, 16), e, simpleProtocol)
    expect(c.secondsPerByte).toBeCloseTo(1.875 / Bo, 20)
    expect(c.latency).toBeCloseTo((8.4 + 30 * 14) * 1.4 * us, 12) // 599.76 µs
  })

  it('broadcast: a pipelined chain, the whole buffer once per link, n steps (Simple: the tree step figure)', () => {
    const c = ring.cost('broadcast', shape(8, 8, 1), e, simpleProtocol)
    expect(c.secondsPerByte).toBeCloseTo(1 / Bu, 20)
    expect(c.latency).toBeCloseTo((8.4 + 8 * 4.0) * us, 12)
  })

  it('a network slower than NCCL InfiniBand figures adds its excess to every network step, twice with Simple', () => {
    // GPUDirect-TCPXO: 85 µs link = 5 µs + 80 µs reported to NCCL
    const slow = { ...nic, latency: seconds(85e-6) }
    expect(ring.cost('all_reduce', shape(16, 8, 2, slow), e, llProtocol).latency).toBeCloseTo((6.6 + 28 * 1.0 + 2 * (2.7 + 80)) * us, 12)
    expect(ring.cost('all_reduce', shape(16, 8, 2, slow), e, simpleProtocol).latency).toBeCloseTo((8.4 + 28 * 3.4 + 2 * (14 + 160)) * 1.4 * us, 12)
  })

  it('prices a protocol without NCCL figures with its own base latency, hop scale and fraction', () => {
    const mine: Protocol = { name: 'Mine', bandwidthFraction: 0.7, baseLatency: seconds(10e-6), hopLatencyScale: 2 }
    const c = ring.cost('all_reduce', shape(8, 8, 1), e, mine)
    expect(c.latency).toBeCloseTo((10 + 14 * 2) * us, 12)
    expect(c.secondsPerByte).toBeCloseTo(1.75 / (0.7 * Bu), 20)
  })

  it('does not run all-to-all or send/recv', () => {
    expect(ring.applies('all_to_all', shape(8, 8, 1))).toBe(false)
    expect(ring.applies('send_recv', shape(2, 2, 1))).toBe(false)
  })
})

describe('tree (NCCL ncclTopoTuneModel, tree branch)', () => {
  it('in a node is a chain: algorithm bandwidth half the bus bandwidth, 0.92 of Bu; 8.4 + 2 x 7 x 4.0 µs', () => {
    const c = tree.cost('all_reduce', shape(8, 8, 1), e, simpleProtocol)
    expect(c.latency).toBeCloseTo(64.4 * us, 12)
    expect(c.secondsPerByte).toBeCloseTo(2 / (0.92 * Bu), 20)
    // NCCL's treeCorrectionFactor, Simple row, first 23 entries (64 B to 256 MiB)
    expect(c.bandwidthCorrection).toHaveLength(23)
    expect(c.bandwidthCorrection?.[11]).toBe(0.5)
  })

  it('LL in a node: 1/3.8 of Simple; 6.8 + 2 x 7 x 0.6 = 15.2 µs', () => {
    const c = tree.cost('all_reduce', shape(8, 8, 1), e, llProtocol)
    expect(c.latency).toBeCloseTo(15.2 * us, 12)
    expect(c.secondsPerByte).toBeCloseTo((2 * 3.8) / (0.92 * Bu), 20)
  })

  it('one GPU on each of two nodes: S per direction through the NIC, at most 2 channels x 41.4 GB/s (Hopper N2)', () => {
    // NCCL doubles a 48 GB/s channel when a node has 4 or fewer: 2 channels
    const c = tree.cost('all_reduce', shape(2, 1, 2), e, simpleProtocol)
    expect(c.secondsPerByte).toBeCloseTo(2 / 82.8e9, 20) // min(2 x 46e9 x 0.92 = 84.64e9, 82.8e9)
    expect(c.latency).toBeCloseTo((8.4 + 2 * 14) * us, 12)
  })

  it('16 nodes of one GPU: 2S per node, depth ⌊log2 16⌋ = 4', () => {
    const c = tree.cost('all_reduce', shape(16, 1, 16), e, simpleProtocol)
    expect(c.latency).toBeCloseTo((8.4 + 2 * 4 * 14) * us, 12) // 120.4 µs
    expect(c.secondsPerByte).toBeCloseTo(2 / (0.92 * Bo), 20) // under the cap 2 x 36.0 GB/s
  })

  it('8 B200 nodes of 8: 8 channels x 24 GB/s (Blackwell perChMaxTreeBws, more than 2 nodes) bound it', () => {
    // the 64 x B200 tree case: algbw 96 GB/s, nccl-tests busbw 96 x 2 x 63/64 = 189 GB/s (measured 192.6)
    const b200 = { ...nvlink, bandwidth: bytesPerSecond(900e9) }
    const c = tree.cost('all_reduce', { ...shape(64, 8, 8, nic, 'blackwell'), scaleUp: b200 }, e, simpleProtocol)
    expect(c.secondsPerByte).toBeCloseTo(2 / 192e9, 20)
  })
})

describe('nvls', () => {
  it('all-reduce moves (1 + 1/m) S per direction at 0.8 x 0.85 of NVLink; latency NCCL 25 µs', () => {
    const c = nvls.cost('all_reduce', shape(8, 8, 1), e, simpleProtocol)
    expect(c.latency).toBeCloseTo(25 * us, 12)
    expect(c.secondsPerByte).toBeCloseTo(1.125 / 306e9, 20) // 450e9 x 0.8 x 0.85 = 306e9
  })

  it('all-gather and reduce-scatter move S per direction', () => {
    expect(nvls.cost('all_gather', shape(8, 8, 1), e, simpleProtocol).secondsPerByte).toBeCloseTo(1 / 306e9, 20)
    expect(nvls.cost('reduce_scatter', shape(8, 8, 1), e, simpleProtocol).secondsPerByte).toBeCloseTo(1 / 306e9, 20)
  })

  it('runs at NCCL Blackwell efficiency 0.74 on B200: 900e9 x 0.8 x 0.74 = 532.8e9', () => {
    // the 8 x B200 NVLS case: busbw 1.75 / 1.125 x 532.8 = 828.8 GB/s (measured 840.8)
    const b200 = { ...nvlink, bandwidth: bytesPerSecond(900e9) }
    const c = nvls.cost('all_reduce', { ...shape(8, 8, 1, nic, 'blackwell'), scaleUp: b200 }, e, simpleProtocol)
    expect(c.secondsPerByte).toBeCloseTo(1.125 / 532.8e9, 20)
  })

  it('needs one domain whose switches reduce', () => {
    expect(nvls.applies('all_reduce', shape(8, 8, 1))).toBe(true)
    expect(nvls.applies('all_reduce', shape(16, 8, 2))).toBe(false)
    expect(nvls.applies('all_reduce', { ...shape(8, 8, 1), scaleUp: { ...nvlink, inNetworkReduction: false } })).toBe(false)
    expect(nvls.applies('all_to_all', shape(8, 8, 1))).toBe(false)
  })
})

describe('nvls_tree, collnet, hierarchical', () => {
  it('nvls_tree over 2 nodes: NCCL doubles the network (S crosses once), capped at 57.7 GB/s a channel (Hopper N2)', () => {
    const c = nvlsTree.cost('all_reduce', shape(16, 8, 2), e, simpleProtocol)
    // max(1.125 / 306e9, 2 / (8 x min(2 x 46e9, 57.7e9))) = 2 / 461.6e9
    expect(c.secondsPerByte).toBeCloseTo(2 / 461.6e9, 20)
    expect(c.latency).toBeCloseTo((25 + 2 * 20.9) * us, 12) // 66.8 µs
    expect(c.bandwidthCorrection).toBeUndefined() // NCCL corrects NVLS tree on Blackwell only
  })

  it('collnet needs in-network reduction on the network; latency 2 (3.7 + 7 x 0.4) + 31 µs', () => {
    expect(collnet.applies('all_reduce', shape(16, 8, 2))).toBe(false)
    const sharp = shape(16, 8, 2, { ...nic, inNetworkReduction: true })
    const c = collnet.cost('all_reduce', sharp, e, simpleProtocol)
    // max(2 x 7/8 / 360e9, 1 / (8 x 46e9 x 0.9)) = 1.75 / 360e9
    expect(c.secondsPerByte).toBeCloseTo(1.75 / Bu, 20)
    expect(c.latency).toBeCloseTo(44 * us, 12)
  })

  it('hierarchical adds its three phases', () => {
    const c = hierarchical.cost('all_reduce', shape(32, 8, 4), e, simpleProtocol)
    // 3 x 8.4 + 2 x 7 x 3.4 + 2 x 3 x 14 (one rank per node across: tree network step) = 156.8 µs
    expect(c.latency).toBeCloseTo(156.8 * us, 12)
    expect(c.secondsPerByte).toBeCloseTo(1.75 / Bu + 1.5 / (8 * Bo), 20)
    expect(hierarchical.applies('all_reduce', shape(8, 8, 1))).toBe(false)
  })
})

describe('pairwise all-to-all and send/recv', () => {
  it('inside a node: (n-1)/n of the buffer over NVLink; one NVLink step per peer, 8.4 + 7 x 3.4 µs', () => {
    const c = pairwise.cost('all_to_all', shape(8, 8, 1), e, simpleProtocol)
    expect(c.secondsPerByte).toBeCloseTo(0.875 / Bu, 20)
    expect(c.latency).toBeCloseTo(32.2 * us, 12)
    // the 8 x H100 32 MiB case: 32.2 µs + 0.875 x 2^25 / 360e9 = 113.76 µs, busbw 258 GB/s (measured 238)
  })

  it('across 16 nodes: (n - m)/n of the buffer through each NIC share; 1 x 3 µs to post each remote peer', () => {
    const c = pairwise.cost('all_to_all', shape(128, 8, 16), e, simpleProtocol)
    expect(c.secondsPerByte).toBeCloseTo(120 / 128 / Bo, 20)
    expect(c.latency).toBeCloseTo((8.4 + 7 * 3.4 + 120 * 3 + 14) * us, 12) // 406.2 µs
  })

  it('send/recv: one pair at 0.65 of NVLink, the NIC share across nodes', () => {
    expect(pointToPoint.cost('send_recv', shape(2, 2, 1), e, simpleProtocol).secondsPerByte).toBeCloseTo(1 / (450e9 * 0.65), 20)
    expect(pointToPoint.cost('send_recv', shape(2, 1, 2), e, simpleProtocol).secondsPerByte).toBeCloseTo(1 / Bo, 20)
    expect(pointToPoint.cost('send_recv', shape(2, 2, 1), e, simpleProtocol).latency).toBeCloseTo((8.4 + 3.4) * us, 12)
  })
})
