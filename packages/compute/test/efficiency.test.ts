import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import {
  checkEfficiency,
  clampEfficiency,
  defaultEfficiency,
  EFFICIENCY_FLOOR,
  gemmTable,
  GEMM_HALF_DIMENSION,
  GEMM_PEAK_EFFICIENCY,
  FP8_GEMM_PEAK_EFFICIENCY,
  KERNEL_RAMP_SECONDS,
  MEMORY_PEAK_EFFICIENCY,
} from '../src/efficiency'
import { h100 } from './fixtures'

describe('default GEMM efficiency', () => {
  it('saturates in the smallest dimension: 0.75 · d / (d + 128), by hand', () => {
    expect(GEMM_PEAK_EFFICIENCY).toBe(0.75)
    expect(GEMM_HALF_DIMENSION).toBe(128)
    expect(defaultEfficiency.gemm(128, 8192, 8192, 'bf16', h100)).toBeCloseTo(0.375, 12) // half the ceiling
    expect(defaultEfficiency.gemm(8192, 512, 8192, 'bf16', h100)).toBeCloseTo(0.6, 12) // 0.75 · 512/640
    expect(defaultEfficiency.gemm(1, 8192, 8192, 'bf16', h100)).toBeCloseTo(0.75 / 129, 12) // a decode GEMM
  })

  it('laws: in (0, 0.75), nondecreasing in every dimension', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1 << 16 }), fc.integer({ min: 1, max: 1 << 16 }), fc.integer({ min: 1, max: 1 << 16 }), (m, n, k) => {
        const e = defaultEfficiency.gemm(m, n, k, 'bf16', h100)
        expect(e).toBeGreaterThan(0)
        expect(e).toBeLessThan(GEMM_PEAK_EFFICIENCY)
        expect(defaultEfficiency.gemm(m + 1, n, k, 'bf16', h100)).toBeGreaterThanOrEqual(e)
      }),
    )
  })
})

describe('fp8 GEMMs and attention with narrow activations', () => {
  it('an fp8 GEMM has the 0.5 ceiling: 0.5 · 8192/(8192 + 128) = 0.49231', () => {
    expect(FP8_GEMM_PEAK_EFFICIENCY).toBe(0.5)
    expect(defaultEfficiency.gemm(8192, 8192, 8192, 'fp8', h100)).toBeCloseTo((0.5 * 8192) / 8320, 12)
    expect(defaultEfficiency.gemm(8192, 8192, 8192, 'fp8', h100)).toBeCloseTo(0.49231, 5)
    // bf16 keeps 0.75 · 8192/8320 = 0.73846
    expect(defaultEfficiency.gemm(8192, 8192, 8192, 'bf16', h100)).toBeCloseTo(0.73846, 5)
  })

  it('attention with fp8 activations runs at the 16-bit rate: 0.6 · 4096/4352 · 989.4/1978.9 = 0.28234 of the fp8 peak', () => {
    const sixteen = (0.6 * 4096) / (4096 + 256) // 0.56471
    expect(defaultEfficiency.attention(4096, 4096, 'bf16', h100)).toBeCloseTo(sixteen, 12)
    expect(defaultEfficiency.attention(4096, 4096, 'fp8', h100)).toBeCloseTo((sixteen * 989.4) / 1978.9, 12)
    expect(defaultEfficiency.attention(4096, 4096, 'fp8', h100)).toBeCloseTo(0.28235, 4)
  })
})

describe('default memory efficiency', () => {
  it('0.85 · b / (b + bandwidth · 4 µs): a 13.4 MB kernel on an H100 runs at half the ceiling', () => {
    const ramp = 3.35e12 * KERNEL_RAMP_SECONDS // 13.4e6 bytes
    expect(ramp).toBeCloseTo(13.4e6, 0)
    expect(defaultEfficiency.memory(13.4e6, h100)).toBeCloseTo(MEMORY_PEAK_EFFICIENCY / 2, 12)
    expect(defaultEfficiency.memory(1e12, h100)).toBeCloseTo(0.85 * (1e12 / (1e12 + 13.4e6)), 12)
  })
})

describe('gemmTable: measured points, linear in log2 of the smallest dimension', () => {
  const table = gemmTable([
    { minDimension: 4096, efficiency: 0.78 },
    { minDimension: 1, efficiency: 0.02 },
    { minDimension: 256, efficiency: 0.55 },
  ])
  it('hits the points, interpolates between, holds beyond', () => {
    expect(table(256, 8192, 8192, 'bf16', h100)).toBeCloseTo(0.55, 12)
    // 512: log2 = 9, a quarter of the way from 8 (0.55) to 12 (0.78): 0.55 + 0.23/4 = 0.6075
    expect(table(512, 8192, 8192, 'bf16', h100)).toBeCloseTo(0.6075, 12)
    expect(table(8192, 8192, 65536, 'bf16', h100)).toBe(0.78)
    expect(table(0.5, 8192, 8192, 'bf16', h100)).toBe(0.02)
  })
  it('an empty table answers the floor', () => {
    expect(gemmTable([])(1, 1, 1, 'bf16', h100)).toBe(EFFICIENCY_FLOOR)
  })
})

describe('checking and clamping', () => {
  it('checkEfficiency accepts (0, 1] and names the kernel otherwise', () => {
    expect(checkEfficiency('gemm', 0.5)).toEqual(E.right(0.5))
    for (const bad of [0, -0.1, 1.01, Number.NaN]) {
      const e = checkEfficiency('gemm', bad)
      expect(E.isLeft(e) && e.left.code).toBe('invalid-efficiency')
    }
  })
  it('clampEfficiency keeps a time finite', () => {
    expect(clampEfficiency(Number.NaN)).toBe(EFFICIENCY_FLOOR)
    expect(clampEfficiency(-3)).toBe(EFFICIENCY_FLOOR)
    expect(clampEfficiency(7)).toBe(1)
    expect(clampEfficiency(0.4)).toBe(0.4)
  })
})
