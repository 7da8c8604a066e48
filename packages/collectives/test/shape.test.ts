import { spanOf, unsafeClusterOf } from '@meshplan/topology'
import { shapeOf } from '../src/shape'
import { everyRank, h100x1, h100x16, leftOf, ranks, rightOf } from './fixtures'

describe('shapeOf', () => {
  it('puts 8 ranks of one DGX H100 in one domain on NVLink', () => {
    const shape = rightOf(shapeOf(h100x1)(everyRank(h100x1)))
    expect(shape).toMatchObject({ size: 8, local: 8, domains: 1, generation: 'hopper' })
    expect(shape.scaleUp.bandwidth).toBe(450e9)
    expect(shape.scaleUp.inNetworkReduction).toBe(true)
  })

  it('counts 2 per node over 2 nodes, with the 400 Gb/s NIC share (50e9 B/s)', () => {
    const shape = rightOf(shapeOf(h100x16)(spanOf(h100x16)([0, 1, 8, 9])))
    expect(shape).toMatchObject({ size: 4, local: 2, domains: 2 })
    expect(shape.scaleOut.bandwidth).toBe(50e9)
  })

  it('treats an NVL72 rack as one scale-up domain', () => {
    const racks = unsafeClusterOf('gb200-nvl72', 36)
    // trays 0 and 1 of rack 0, trays 0 and 1 of rack 1: 1 per tray x 2 trays per rack x 2 racks
    const shape = rightOf(shapeOf(racks)(spanOf(racks)([0, 4, 72, 76])))
    expect(shape).toMatchObject({ size: 4, local: 2, domains: 2 })
    expect(shape.scaleUp.bandwidth).toBe(900e9)
    expect(shape.generation).toBe('blackwell')
  })

  it('rejects a span of another cluster', () => {
    const wide = spanOf(h100x16)(ranks(16))
    expect(leftOf(shapeOf(h100x1)(wide)).code).toBe('span-mismatch')
    const doctored = { ...spanOf(h100x16)(ranks(8)), size: 9 }
    expect(leftOf(shapeOf(h100x16)(doctored)).code).toBe('span-mismatch')
    const empty = spanOf(h100x16)([])
    expect(leftOf(shapeOf(h100x16)(empty)).code).toBe('span-mismatch')
  })

  it('rejects a cluster with a link of no bandwidth', () => {
    const broken = { ...h100x1, tiers: h100x1.tiers.map((t) => ({ ...t, link: { ...t.link, bandwidth: 0 as typeof t.link.bandwidth } })) }
    expect(leftOf(shapeOf(broken)(everyRank(h100x1))).code).toBe('invalid-cluster')
  })
})
