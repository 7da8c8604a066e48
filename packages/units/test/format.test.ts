import { formatByteRate, formatBytes, formatFlopRate, formatFlops, formatSeconds } from '../src/format'

describe('format', () => {
  it('scales sizes to SI or binary prefixes with 4 significant digits', () => {
    // Llama-2-70B fp16 weights: 68.98e9 parameters * 2 bytes = 137.96e9 bytes
    expect(formatBytes()(137.96e9)).toBe('138 GB')
    expect(formatBytes({ digits: 5 })(137.96e9)).toBe('137.96 GB')
    expect(formatBytes({ binary: true })(2 ** 36)).toBe('64 GiB')
    expect(formatBytes()(512)).toBe('512 B')
    expect(formatBytes()(0)).toBe('0 B')
  })

  it('moves to the next prefix when rounding reaches 1000', () => {
    expect(formatBytes({ digits: 3 })(999.96e9)).toBe('1 TB')
  })

  it('formats rates and counts', () => {
    expect(formatByteRate()(450e9)).toBe('450 GB/s')
    expect(formatFlopRate()(989.4e12)).toBe('989.4 TFLOP/s')
    expect(formatFlops()(3.2e15)).toBe('3.2 PFLOP')
  })

  it('formats durations in the unit that fits', () => {
    expect(formatSeconds()(25e-6)).toBe('25 \u00b5s')
    expect(formatSeconds()(1.5e-3)).toBe('1.5 ms')
    expect(formatSeconds()(3e-9)).toBe('3 ns')
    expect(formatSeconds()(42)).toBe('42 s')
  })

  it('prints non-finite values plainly instead of inventing a prefix', () => {
    expect(formatBytes()(Infinity)).toBe('Infinity B')
  })
})
