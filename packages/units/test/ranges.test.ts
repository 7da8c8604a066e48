import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { decodeWith } from '../src/codec'
import { inRange, physical, physicalCount, physicalNumber, physicalQuantity, rangeText } from '../src/ranges'

describe('physical ranges: each stated once, with its reason', () => {
  it('inRange holds for the figures of real hardware and refuses the rest, NaN and the infinities included', () => {
    // an H100: 80 GB, 3.35 TB/s, 989 TFLOP/s bf16, 1 µs NVLink hop, 8 GPUs
    expect(inRange(physical.deviceMemory)(80e9)).toBe(true)
    expect(inRange(physical.bandwidth)(3.35e12)).toBe(true)
    expect(inRange(physical.peakRate)(989e12)).toBe(true)
    expect(inRange(physical.latency)(1e-6)).toBe(true)
    for (const r of Object.values(physical)) {
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, r.max * 10, r.min - 1]) expect(inRange(r)(bad)).toBe(false)
    }
  })

  it('rangeText names the bounds in their units and the reason', () => {
    expect(rangeText(physical.deviceMemory)).toBe('from 1 MB to 100 TB (a device memory; the largest in 2026 is 288 GB)')
    expect(rangeText(physical.devices)).toBe('from 1 to 1,048,576 (GPUs of one cluster; the largest built by 2026 hold about 200,000)')
  })

  it('physicalQuantity refuses "1e300PB" (Infinity bytes) and 5e-312 B/s at the path, naming the range', () => {
    const memory = decodeWith(physicalQuantity('bytes', physical.deviceMemory), 'cluster.device.memory')
    expect(memory('80GB')).toEqual(E.right(80e9))
    const huge = memory('1e300PB')
    expect(E.isLeft(huge) && huge.left.map((i) => i.path)).toEqual(['cluster.device.memory'])
    expect(E.isLeft(huge) && huge.left[0]?.expected).toContain('from 1 MB to 100 TB')
    const bandwidth = decodeWith(physicalQuantity('byteRate', physical.bandwidth), 'bw')
    expect(E.isLeft(bandwidth(5e-312))).toBe(true)
    expect(E.isLeft(bandwidth('5e-312TB/s'))).toBe(true)
  })

  it('physicalNumber scales a unit to the base unit before the check: 80 GiB is in range, 1e300 GiB is not', () => {
    const gib = decodeWith(physicalNumber(physical.deviceMemory, 2 ** 30, 'GiB'), 'memory_gib')
    expect(E.isRight(gib(80))).toBe(true)
    expect(E.isLeft(gib(1e300))).toBe(true)
    expect(E.isLeft(gib(5e-324))).toBe(true)
  })

  it('law: physicalCount accepts exactly the whole numbers of its range', () => {
    const devices = decodeWith(physicalCount(physical.devices), 'n')
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -10, max: 2 ** 21 }), fc.double()), (n) => {
        expect(E.isRight(devices(n))).toBe(Number.isInteger(n) && n >= 1 && n <= 2 ** 20)
      }),
    )
  })
})
