import * as E from 'fp-ts/Either'
import { devices } from '@meshplan/topology'
import { checkDevice, defaultComputeModel, defaultComputeDtype, peakOf, withEfficiency, withMoeImbalance } from '../src/computeModel'
import { h100 } from './fixtures'

describe('which peak', () => {
  it('the tensor cores compute in the activations\' format', () => {
    expect(defaultComputeDtype({ weights: 'fp8', activations: 'fp8', kvCache: 'fp8' })).toBe('fp8')
    // weight-only quantization: bf16 GEMMs over dequantized weights
    expect(defaultComputeDtype({ weights: 'int4', activations: 'bf16', kvCache: 'bf16' })).toBe('bf16')
    expect(defaultComputeDtype({ weights: 'fp4', activations: 'bf16', kvCache: 'bf16' })).toBe('bf16')
    expect(defaultComputeDtype({ weights: 'int8', activations: 'bf16', kvCache: 'bf16' })).toBe('bf16')
  })

  it('the datasheet peak: H100 SXM fp8 1978.9 TFLOP/s, bf16 989.4', () => {
    expect(peakOf(h100, 'fp8')).toEqual(E.right(1978.9e12))
    expect(peakOf(h100, 'bf16')).toEqual(E.right(989.4e12))
  })

  it('a format the device lacks is an error naming the formats it has', () => {
    const e = peakOf(devices['a100-80gb'], 'fp8')
    expect(E.isLeft(e) && e.left.code).toBe('dtype-unsupported')
    expect(E.isLeft(e) && e.left.message).toMatch(/A100 SXM4 80GB has no fp8 peak; it computes in fp32, tf32, bf16, fp16, int8, int4/)
  })

  it('a device without a positive bandwidth is an error', () => {
    expect(E.isLeft(checkDevice({ ...h100, memoryBandwidth: 0 as typeof h100.memoryBandwidth }))).toBe(true)
    expect(checkDevice(h100)).toEqual(E.right(h100))
  })
})

describe('replacing one piece', () => {
  it('withEfficiency replaces the functions given and keeps the others', () => {
    const gemm = () => 0.7
    const model = withEfficiency({ gemm })(defaultComputeModel)
    expect(model.efficiency.gemm).toBe(gemm)
    expect(model.efficiency.memory).toBe(defaultComputeModel.efficiency.memory)
    expect(model.computeDtype).toBe(defaultComputeModel.computeDtype)
  })
  it('withMoeImbalance', () => {
    expect(withMoeImbalance(1.3)(defaultComputeModel).moeImbalance).toBe(1.3)
  })
})
