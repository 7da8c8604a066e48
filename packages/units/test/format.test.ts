import { bytesText, count, formatByteRate, formatBytes, formatFlopRate, formatFlops, formatSeconds, percent, rate, rateText, secondsText, share } from '../src/format'

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

describe('report figures', () => {
  it('print as every report prints them', () => {
    expect(bytesText(22.17e9)).toBe('22.17 GB')
    expect(secondsText(0.0686)).toBe('68.6 ms')
    expect(rateText(200.4e12)).toBe('200 TFLOP/s')
    // 954,650.9 rounds to 954,651 with the separators
    expect(count(954650.9)).toBe('954,651')
    // below 100 a rate keeps three significant digits, from 100 it is a count
    expect(rate(29.64)).toBe('29.6')
    expect(rate(2443.2)).toBe('2,443')
    // 7 = +700.0%; a share has no sign
    expect(percent(7)).toBe('+700.0%')
    expect(percent(-0.471)).toBe('-47.1%')
    expect(share(0.413)).toBe('41.3%')
  })
})
