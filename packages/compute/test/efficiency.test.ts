import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import {
  attentionEfficiency,
  checkEfficiency,
  clampEfficiency,
  defaultEfficiency,
  EFFICIENCY_FLOOR,
  FLASH_V1_ATTENTION_EFFICIENCY,
  FLASH_V1_ATTENTION_CEILINGS,
  FLASH2_ATTENTION_CEILINGS,
  gemmTable,
  GEMM_CEILINGS,
  GEMM_SUSTAINED_FRACTION,
  GEMM_SERVING_FRACTIONS,
  GEMM_SUSTAINED_FRACTIONS,
  gemmEfficiency,
  gemmGeneration,
  gemmWidth,
  GROUPED_GEMM_K_FACTOR,
  KERNEL_RAMP_SECONDS,
  MEMORY_PEAK_EFFICIENCY,
} from '../src/efficiency'
import { h100 } from './fixtures'
import { flopsPerSecond } from '@meshplan/units'

const teraFlops = (n: number) => flopsPerSecond(n * 1e12)

describe('fused attention: FlashAttention-2 and the first generation', () => {
  it('the ceiling times keys/(keys + 256): 0.6 for FlashAttention-2-class kernels, 0.325 for the first generation, by hand at 4096 keys', () => {
    // 4096 / (4096 + 256) = 0.94118
    expect(defaultEfficiency.attention(4096, 4096, 'bf16', h100)).toBeCloseTo(0.6 * 0.94118, 5)
    expect(FLASH_V1_ATTENTION_EFFICIENCY).toBe(0.325)
    expect(attentionEfficiency({ ceiling: FLASH_V1_ATTENTION_EFFICIENCY })(4096, 4096, 'bf16', h100)).toBeCloseTo(0.325 * 0.94118, 5)
    // in fp8 it is the 16-bit rate expressed against the fp8 peak: half of it on an H100
    expect(attentionEfficiency({ ceiling: 0.325 })(4096, 4096, 'fp8', h100)).toBeCloseTo((0.325 * 0.94118 * 989.4) / 1978.9, 4)
  })

  it('narrow: FP8 context attention keeps its share of the fp8 peak on Hopper; 16-bit activations, and other generations, keep the 16-bit rate', () => {
    // 0.6 · 4096/4352 = 0.56471 of the fp8 peak, against 0.56471 · 989.4/1978.9 = 0.28234 computed in 16-bit
    expect(attentionEfficiency({ narrow: true })(4096, 4096, 'fp8', h100)).toBeCloseTo(0.6 * 0.94118, 5)
    expect(attentionEfficiency()(4096, 4096, 'fp8', h100)).toBeCloseTo((0.6 * 0.94118 * 989.4) / 1978.9, 4)
    expect(attentionEfficiency({ narrow: true })(4096, 4096, 'bf16', h100)).toBeCloseTo(0.6 * 0.94118, 5)
    const b200 = { ...h100, generation: 'blackwell' as const }
    expect(attentionEfficiency({ narrow: true })(4096, 4096, 'fp8', b200)).toBeCloseTo(attentionEfficiency()(4096, 4096, 'fp8', b200), 12)
    // int8 activations: the FP8 FMHA does not take them; the 16-bit rate against the int8 peak
    const int8 = { ...h100, peak: { ...h100.peak, int8: teraFlops(1978.9) } }
    expect(attentionEfficiency({ narrow: true })(4096, 4096, 'int8', int8)).toBeCloseTo((0.6 * 0.94118 * 989.4) / 1978.9, 4)
  })

  it('a ceiling per generation: FlashAttention-2 keeps 0.6 of an A100 and 0.35 of an H100, the first generation 0.325 and 0.325 · 0.35/0.6, by hand', () => {
    expect(FLASH2_ATTENTION_CEILINGS).toMatchObject({ ampere: 0.6, hopper: 0.35, blackwell: 0.35 })
    // 0.325 · 0.35 / 0.6 = 0.189583
    expect(FLASH_V1_ATTENTION_CEILINGS.hopper).toBeCloseTo(0.189583, 6)
    expect(FLASH_V1_ATTENTION_CEILINGS.ampere).toBe(0.325)
    const a100 = { ...h100, generation: 'ampere' as const }
    expect(attentionEfficiency({ ceiling: FLASH2_ATTENTION_CEILINGS })(4096, 4096, 'bf16', h100)).toBeCloseTo(0.35 * 0.94118, 5)
    expect(attentionEfficiency({ ceiling: FLASH2_ATTENTION_CEILINGS })(4096, 4096, 'bf16', a100)).toBeCloseTo(0.6 * 0.94118, 5)
    // without a device the generation is Hopper, as for GEMMs
    expect(attentionEfficiency({ ceiling: FLASH_V1_ATTENTION_CEILINGS })(4096, 4096)).toBeCloseTo(0.189583 * 0.94118, 5)
  })
})

describe('default GEMM efficiency', () => {
  it('an H100 bf16 GEMM 8192³: 0.7 · 0.801 · (8192/8224)² · 8192/8288, less 6 µs in 1.1 TFLOP, by hand', () => {
    expect(GEMM_SUSTAINED_FRACTION).toBe(0.7)
    expect(GEMM_SUSTAINED_FRACTIONS).toMatchObject({ ampere: 0.9, hopper: 0.7, blackwell: 0.6 })
    expect(GEMM_CEILINGS.hopper.wide).toBe(0.801)
    const shape = 0.7 * 0.801 * (8192 / 8224) ** 2 * (8192 / 8288)
    expect(shape).toBeCloseTo(0.5499, 4)
    const flops = 2 * 8192 ** 3 // 1.0995e12
    const seconds = flops / (989.4e12 * shape) + 6e-6 // 2.0209 ms + 6 µs
    expect(defaultEfficiency.gemm(8192, 8192, 8192, 'bf16', h100)).toBeCloseTo(flops / (989.4e12 * seconds), 12)
    expect(defaultEfficiency.gemm(8192, 8192, 8192, 'bf16', h100)).toBeCloseTo(0.54827, 5)
  })

  it('a B200 fp4 GEMM 8192³ keeps Blackwell\'s own share: 0.6 · 0.736 · (8192/8224)² · 8192/8960, less 6 µs, by hand', () => {
    const b200 = { ...h100, generation: 'blackwell' as const, peak: { ...h100.peak, fp4: teraFlops(9000) } }
    expect(GEMM_CEILINGS.blackwell.fp4).toBe(0.736)
    // k half-size 768 for 4-bit: 8192 / (8192 + 768) = 0.91429; 0.6 · 0.736 · 0.99223 · 0.91429 = 0.40061
    const shape = 0.6 * 0.736 * (8192 / 8224) ** 2 * (8192 / 8960)
    expect(shape).toBeCloseTo(0.40061, 4)
    const flops = 2 * 8192 ** 3
    const seconds = flops / (9000e12 * shape) + 6e-6 // 0.30496 ms + 6 µs = 0.31096 ms
    expect(defaultEfficiency.gemm(8192, 8192, 8192, 'fp4', b200)).toBeCloseTo(flops / (9000e12 * seconds), 12)
    expect(defaultEfficiency.gemm(8192, 8192, 8192, 'fp4', b200)).toBeCloseTo(0.39288, 4)
  })

  it("a serving pass's GEMM keeps Hopper's serving share, 0.8 · 0.801 · (8192/8224)² · 8192/8288 = 0.6285, less 6 µs; an A100's keeps its one share", () => {
    expect(GEMM_SERVING_FRACTIONS).toMatchObject({ ampere: 0.9, hopper: 0.8, blackwell: 0.6 })
    const shape = 0.8 * 0.801 * (8192 / 8224) ** 2 * (8192 / 8288)
    expect(shape).toBeCloseTo(0.6285, 4)
    const flops = 2 * 8192 ** 3
    expect(defaultEfficiency.gemm(8192, 8192, 8192, 'bf16', h100, 1, true)).toBeCloseTo(flops / (989.4e12 * (flops / (989.4e12 * shape) + 6e-6)), 12)
    const a100 = { ...h100, generation: 'ampere' as const }
    expect(defaultEfficiency.gemm(8192, 8192, 8192, 'bf16', a100, 1, true)).toBe(defaultEfficiency.gemm(8192, 8192, 8192, 'bf16', a100, 1, false))
  })

  it('servingFraction sets the serving share; without it a given sustainedFraction serves both, else the serving defaults', () => {
    const at = (options: Parameters<typeof gemmEfficiency>[0], serving: boolean) => gemmEfficiency({ ...options, fixedSeconds: 0 })(4096, 4096, 4096, 'bf16', h100, 1, serving)
    const shape = 0.801 * (4096 / 4128) ** 2 * (4096 / 4192)
    expect(at({ servingFraction: 0.9 }, true)).toBeCloseTo(0.9 * shape, 12)
    expect(at({ servingFraction: 0.9 }, false)).toBeCloseTo(0.7 * shape, 12)
    expect(at({ sustainedFraction: 0.6 }, true)).toBeCloseTo(0.6 * shape, 12)
    expect(at({ sustainedFraction: { ampere: 0.6 } }, true)).toBeCloseTo(0.8 * shape, 12)
    expect(at({ servingFraction: { hopper: 0.65 }, sustainedFraction: 0.6 }, true)).toBeCloseTo(0.65 * shape, 12)
  })

  it('a decode GEMM (m = 1) keeps 1/33 of the shape term in m, and pays the 6 µs', () => {
    const flops = 2 * 8192 * 8192
    const shape = (0.7 * 0.801 * (8192 / 8224) * (8192 / 8288)) / 33
    expect(defaultEfficiency.gemm(1, 8192, 8192, 'bf16', h100)).toBeCloseTo(flops / (989.4e12 * (flops / (989.4e12 * shape) + 6e-6)), 12)
  })

  it('a grouped GEMM pays the fixed cost once: 64 experts of m = 128 beat one expert; with a huge group only the shape term is left', () => {
    const one = defaultEfficiency.gemm(128, 2048, 7168, 'fp8', h100, 1)
    const grouped = defaultEfficiency.gemm(128, 2048, 7168, 'fp8', h100, 64)
    expect(grouped).toBeGreaterThan(one)
    const shape = 0.7 * 0.734 * (128 / 160) * (2048 / 2080) * (7168 / (7168 + 384))
    expect(defaultEfficiency.gemm(128, 2048, 7168, 'fp8', h100, 1e9)).toBeCloseTo(shape, 6)
  })

  it("a grouped GEMM's experts take 4 times the k half-size: Qwen3-30B-A3B's fp8 expert-up (256 × 1536 × 2048) keeps 2048/3584 in k, not 2048/2432, by hand", () => {
    expect(GROUPED_GEMM_K_FACTOR).toBe(4)
    // no device: Hopper's training share, no fixed cost; 0.7 · 0.734 · 256/288 · 1536/1568 = 0.447390
    const grouped = gemmEfficiency()(256, 1536, 2048, 'fp8', undefined, 128, false, true)
    const dense = gemmEfficiency()(256, 1536, 2048, 'fp8', undefined, 128, false, false)
    expect(grouped).toBeCloseTo(0.25565, 5) // 0.447390 · 2048/(2048 + 4 · 384)
    expect(dense).toBeCloseTo(0.37675, 5) // 0.447390 · 2048/(2048 + 384)
    // the factor is an option; 1 makes a grouped GEMM a batch of dense ones
    expect(gemmEfficiency({ groupedKFactor: 1 })(256, 1536, 2048, 'fp8', undefined, 128, false, true)).toBe(dense)
    // in 16 bits (h_k 96, grouped 384) the loss shrinks as k grows: Mixtral's down projection (k = 14336) loses 2%, a k of 768 a quarter
    const lost = (k: number) => 1 - gemmEfficiency()(256, 4096, k, 'bf16', undefined, 8, false, true) / gemmEfficiency()(256, 4096, k, 'bf16', undefined, 8, false, false)
    expect(lost(14_336)).toBeCloseTo(1 - (14_336 + 96) / (14_336 + 384), 12)
    expect(lost(14_336)).toBeCloseTo(0.01957, 5) // 288/14720
    expect(lost(768)).toBeCloseTo(0.25, 12)
  })

  it('the generation is read from the formats a part has: fp4 → Blackwell, fp8 → Hopper, else Ampere; a named one wins', () => {
    expect(gemmGeneration(h100)).toBe('hopper')
    expect(gemmGeneration({ ...h100, peak: { bf16: teraFlops(312) } })).toBe('ampere')
    expect(gemmGeneration({ ...h100, peak: { ...h100.peak, fp4: teraFlops(4000) } })).toBe('blackwell')
    expect(gemmGeneration({ ...h100, generation: 'cdna3' })).toBe('cdna3')
    const noFixed = gemmEfficiency({ fixedSeconds: 0 })
    // an Ampere part keeps 0.9 of its 0.859, a Hopper one 0.7 of its 0.801
    expect(noFixed(4096, 4096, 4096, 'bf16', { ...h100, peak: { bf16: teraFlops(312) } }) / noFixed(4096, 4096, 4096, 'bf16', h100)).toBeCloseTo((0.9 * 0.859) / (0.7 * 0.801), 12)
    expect(gemmEfficiency({ fixedSeconds: 0, sustainedFraction: { hopper: 0.35 } })(4096, 4096, 4096, 'bf16', h100) / noFixed(4096, 4096, 4096, 'bf16', h100)).toBeCloseTo(0.5, 12)
  })

  it('widths: int8 is an 8-bit GEMM, int4 a 4-bit one, fp32 a wide one', () => {
    expect(gemmWidth('int8')).toBe('fp8')
    expect(gemmWidth('int4')).toBe('fp4')
    expect(gemmWidth('fp32')).toBe('wide')
    expect(gemmWidth(undefined)).toBe('wide')
  })

  it('laws: in (0, 1), nondecreasing in every dimension and in the group size', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1 << 16 }),
        fc.integer({ min: 1, max: 1 << 16 }),
        fc.integer({ min: 1, max: 1 << 16 }),
        fc.integer({ min: 1, max: 256 }),
        fc.constantFrom('bf16' as const, 'fp8' as const),
        (m, n, k, batch, dtype) => {
          const e = defaultEfficiency.gemm(m, n, k, dtype, h100, batch)
          expect(e).toBeGreaterThan(0)
          expect(e).toBeLessThan(1)
          expect(defaultEfficiency.gemm(m + 1, n, k, dtype, h100, batch)).toBeGreaterThanOrEqual(e)
          expect(defaultEfficiency.gemm(m, n + 1, k, dtype, h100, batch)).toBeGreaterThanOrEqual(e)
          expect(defaultEfficiency.gemm(m, n, k + 1, dtype, h100, batch)).toBeGreaterThanOrEqual(e)
          expect(defaultEfficiency.gemm(m, n, k, dtype, h100, batch + 1)).toBeGreaterThanOrEqual(e)
        },
      ),
    )
  })

  it('every ceiling is a fraction between one half and 0.9', () => {
    for (const widths of Object.values(GEMM_CEILINGS)) for (const c of Object.values(widths)) expect(c > 0.5 && c < 0.9).toBe(true)
  })
})

describe('attention with narrow activations', () => {
  it('attention with fp8 activations runs at the 16-bit rate: 0.6 · 4096/4352 · 989.4/1978.9 = 0.28234 of the fp8 peak', () => {
    const sixteen = (0.6 * 4096) / (4096 + 256) // 0.56471
    expect(defaultEfficiency.attention(4096, 4096, 'bf16', h100)).toBeCloseTo(sixteen, 12)
    expect(defaultEfficiency.attention(4096, 4096, 'fp8', h100)).toBeCloseTo((sixteen * 989.4) / 1978.9, 12)
    expect(defaultEfficiency.attention(4096, 4096, 'fp8', h100)).toBeCloseTo(0.28235, 4)
  })
})

describe('default memory efficiency', () => {
  it('0.85 · b / (b + bandwidth · 10 µs): a 33.5 MB kernel on an H100 runs at half the ceiling', () => {
    const ramp = 3.35e12 * KERNEL_RAMP_SECONDS // 33.5e6 bytes
    expect(ramp).toBeCloseTo(33.5e6, 0)
    expect(defaultEfficiency.memory(33.5e6, h100)).toBeCloseTo(MEMORY_PEAK_EFFICIENCY / 2, 12)
    expect(defaultEfficiency.memory(1e12, h100)).toBeCloseTo(0.85 * (1e12 / (1e12 + 33.5e6)), 12)
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
