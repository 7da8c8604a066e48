import { bytesPerElement, dtypes, isDtype } from '../src/dtype'

describe('dtype', () => {
  it('stores bf16 in 2 bytes, fp8 in 1 and fp4 in half a byte', () => {
    expect(bytesPerElement('fp32')).toBe(4)
    expect(bytesPerElement('bf16')).toBe(2)
    expect(bytesPerElement('fp8')).toBe(1)
    expect(bytesPerElement('int4')).toBe(0.5)
    // Llama-2-70B: 68,976,648,192 parameters in fp16 = 137,953,296,384 bytes
    expect(68_976_648_192 * bytesPerElement('fp16')).toBe(137_953_296_384)
  })

  it('recognises exactly its formats', () => {
    expect(dtypes.every(isDtype)).toBe(true)
    expect(isDtype('bf8')).toBe(false)
    expect(isDtype(16)).toBe(false)
  })
})
