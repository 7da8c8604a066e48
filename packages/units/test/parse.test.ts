import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { parseByteRate, parseBytes, parseFlopRate, parseFlops, parseQuantity, parseSeconds } from '../src/parse'

const value = <A>(result: E.Either<unknown, A>): A | undefined => (E.isRight(result) ? result.right : undefined)

describe('parseBytes', () => {
  it('keeps binary and SI prefixes distinct', () => {
    expect(value(parseBytes('80GiB'))).toBe(80 * 1024 ** 3) // 85,899,345,920
    expect(value(parseBytes('141GB'))).toBe(141e9)
    expect(value(parseBytes('64 GB'))).toBe(64e9)
    expect(value(parseBytes('512MiB'))).toBe(512 * 1024 ** 2)
    expect(value(parseBytes('1.5TiB'))).toBe(1.5 * 2 ** 40)
    expect(value(parseBytes('2kB'))).toBe(2000)
  })

  it('takes a bare number as bytes', () => {
    expect(value(parseBytes('4096'))).toBe(4096)
    expect(value(parseBytes('1e9'))).toBe(1e9)
  })

  it('rejects bits, other kinds, negatives and words, saying why', () => {
    const reason = (text: string) => {
      const r = parseBytes(text)
      return E.isLeft(r) ? r.left.reason : 'accepted'
    }
    expect(reason('80Gb')).toContain('in bits')
    expect(reason('80GB/s')).toContain('another kind')
    expect(reason('-1GB')).toContain('non-negative')
    expect(reason('eighty')).toContain('a size like "80GiB"')
    expect(reason('80XB')).toContain('unknown unit "XB"')
  })
})

describe('parseByteRate', () => {
  it('reads bytes and bits per second', () => {
    expect(value(parseByteRate('3.35TB/s'))).toBe(3.35e12)
    expect(value(parseByteRate('450GB/s'))).toBe(450e9)
    // a 400 Gb/s NIC moves 400e9 / 8 = 50e9 bytes per second
    expect(value(parseByteRate('400Gb/s'))).toBe(50e9)
    expect(value(parseByteRate('200Gbps'))).toBe(25e9)
  })
})

describe('parseSeconds', () => {
  it('reads ns, us, µs, ms and s', () => {
    expect(value(parseSeconds('25us'))).toBeCloseTo(25e-6, 15)
    expect(value(parseSeconds('25\u00b5s'))).toBeCloseTo(25e-6, 15)
    expect(value(parseSeconds('1.5ms'))).toBeCloseTo(1.5e-3, 15)
    expect(value(parseSeconds('800ns'))).toBeCloseTo(8e-7, 15)
    expect(value(parseSeconds('2s'))).toBe(2)
  })
})

describe('parseFlopRate and parseFlops', () => {
  it('reads compute rates and counts', () => {
    expect(value(parseFlopRate('989TFLOPS'))).toBe(989e12)
    expect(value(parseFlopRate('1.979PFLOP/s'))).toBeCloseTo(1.979e15, 0)
    expect(value(parseFlopRate('624TOPS'))).toBe(624e12)
    expect(value(parseFlops('3.2PFLOP'))).toBeCloseTo(3.2e15, 0)
  })

  it('does not take a rate for a count', () => {
    expect(E.isLeft(parseFlops('989TFLOPS'))).toBe(true)
  })
})

describe('parseQuantity: laws', () => {
  it('scales linearly with the number for every prefix it knows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom('k', 'M', 'G', 'T', 'Ki', 'Mi', 'Gi'), (n, prefix) => {
        const one = value(parseBytes(`1${prefix}B`)) ?? NaN
        expect(value(parseBytes(`${n}${prefix}B`))).toBeCloseTo(n * one, -1)
      }),
    )
  })

  it('never throws, and a success is a finite non-negative number', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('bytes', 'seconds', 'flops', 'flopRate', 'byteRate' as const), (text, kind) => {
        const r = parseQuantity(kind)(text)
        if (E.isRight(r)) {
          expect(Number.isFinite(r.right)).toBe(true)
          expect(r.right).toBeGreaterThanOrEqual(0)
        }
      }),
    )
  })
})

describe('parseQuantity: bounded work', () => {
  it('refuses a string longer than 64 characters before matching it (a 60,000-digit "size" took 10 s)', () => {
    const long = `${'1'.repeat(60_000)}x`
    const started = Date.now()
    const r = parseQuantity('bytes')(long)
    expect(Date.now() - started).toBeLessThan(100)
    expect(E.isLeft(r) && r.left.reason).toContain('at most 64 characters; this one has 60,001')
  })
})

describe('parseQuantity: only finite values', () => {
  it('refuses "1e300PB" and "1e308GB" (Infinity bytes once multiplied out)', () => {
    for (const text of ['1e300PB', '1e308GB', '1e300PFLOPS', '1e300PB/s']) {
      const kind = text.endsWith('PB') || text.endsWith('GB') ? 'bytes' : text.endsWith('/s') ? 'byteRate' : 'flopRate'
      const r = parseQuantity(kind)(text)
      expect(E.isLeft(r) && r.left.reason).toContain('too large')
    }
  })
  it('law: every parsed quantity is finite and not negative', () => {
    fc.assert(
      fc.property(fc.double(), fc.constantFrom('', 'B', 'PB', 'EiB', 'TB/s', 'EFLOPS', 'h', 'ns'), (n, unit) => {
        const r = parseQuantity(unit.endsWith('/s') ? 'byteRate' : unit.endsWith('FLOPS') ? 'flopRate' : unit === 'h' || unit === 'ns' ? 'seconds' : 'bytes')(`${n}${unit}`)
        if (E.isRight(r)) expect(Number.isFinite(r.right) && r.right >= 0).toBe(true)
      }),
    )
  })
})
