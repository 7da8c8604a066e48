/**
 * How close to the datasheet a kernel runs: the fraction of the dense tensor peak a
 * GEMM, a fused attention kernel or element-wise work reaches, and the fraction of the
 * memory bandwidth a kernel moving some bytes sustains. A record of four functions, so
 * a user replaces one (their own measured GEMM efficiencies) and keeps the others.
 *
 * The defaults are smooth saturating curves with named calibration constants; every
 * constant says where its value comes from. They are deliberately simple: a planner
 * needs the right shape (small GEMMs far below peak, large ones near a ceiling) more
 * than a second decimal; plug in measurements where the second decimal matters.
 *
 * @example
 * import { defaultEfficiency, gemmTable } from '@meshplan/compute'
 * import { devices } from '@meshplan/topology'
 * defaultEfficiency.gemm(8192, 8192, 8192, 'bf16', devices['h100-sxm']) // 0.7385 = 0.75 · 8192/(8192 + 128)
 * const mine = { ...defaultEfficiency, gemm: gemmTable([{ minDimension: 1, efficiency: 0.01 }, { minDimension: 4096, efficiency: 0.8 }]) }
 */
import * as E from 'fp-ts/Either'
import type { Device } from '@meshplan/topology'
import type { Dtype } from '@meshplan/units'
import { computeError, type ComputeError } from './error'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Fractions of peak, each in (0, 1]. */
export interface Efficiency {
  /** A GEMM `(m × k) · (k × n)` computing in `dtype`: its fraction of `device.peak[dtype]`. */
  readonly gemm: (m: number, n: number, k: number, dtype: Dtype, device: Device) => number
  /** Fused causal attention (FlashAttention): `queries` query rows attending to `keys` keys each on average. */
  readonly attention: (queries: number, keys: number, dtype: Dtype, device: Device) => number
  /** Element-wise work (norms, activations, residual adds, softmax of the loss), as a fraction of `device.peak[dtype]`. */
  readonly elementwise: (dtype: Dtype, device: Device) => number
  /** A kernel moving `bytes` to or from device memory: its fraction of `device.memoryBandwidth`. */
  readonly memory: (bytes: number, device: Device) => number
}

// -------------------------------------------------------------------------------------
// calibration constants
// -------------------------------------------------------------------------------------

/**
 * Ceiling of a large GEMM, as a fraction of the dense tensor peak: 0.75. Large square
 * bf16/fp16 GEMMs through cuBLAS reach roughly 70-80% of the dense peak on H100 SXM and
 * A100 (NVIDIA, "New cuBLAS 12.0 Features and Matrix Multiplication Performance on
 * NVIDIA Hopper GPUs", 2023, and the many public re-measurements of it); the ceiling
 * must also sit above the end-to-end 52% of peak that Megatron-LM sustains on A100
 * (Narayanan et al. 2021, section 5.1: 163 TFLOP/s per GPU of 312 for the 1T model),
 * which includes communication and non-GEMM work. A round value in that range.
 */
export const GEMM_PEAK_EFFICIENCY = 0.75

/**
 * Ceiling of a large fp8 GEMM, as a fraction of the dense fp8 peak: 0.5. Fitted, not
 * derived: with the 16-bit ceiling (0.75) the eight H100 FP8 throughput cases of
 * `shared/validation/calibration.json` (TensorRT-LLM v0.9 on Llama-2 7B and 70B) come
 * out 8-47% too fast and their prefills too short; 0.5 puts their median error within
 * a few percent (docs/accuracy.md, the fit: `scripts/accuracy.js`). It agrees with fp8
 * GEMMs gaining far less than the datasheet's 2x over bf16 end to end: per-tensor
 * scaling, the casts of the activations and the 16-bit epilogue are not free. Applies
 * to `fp8` only; other 8- and 4-bit formats keep the 16-bit ceiling until measured.
 */
export const FP8_GEMM_PEAK_EFFICIENCY = 0.5

/**
 * The smallest GEMM dimension at which a GEMM reaches half its ceiling: 128, the
 * threadblock tile edge of the CUTLASS/cuBLAS tensor-core kernels on Ampere and Hopper
 * (NVIDIA, "Matrix Multiplication Background User's Guide", sections on tile and wave
 * quantization: a dimension much smaller than a tile leaves most of each tile's
 * multiply-accumulates idle). `d/(d + 128)` gives 0.8% of the ceiling at d = 1 (a
 * decode GEMM, memory-bound anyway), 50% at 128, 80% at 512 and 98% at 8192.
 */
export const GEMM_HALF_DIMENSION = 128

/**
 * Ceiling of fused attention: 0.6 of the dense peak. FlashAttention-2 reaches 50-73%
 * of the A100's peak in the forward pass (Dao 2023, "FlashAttention-2", abstract and
 * section 4.1); FlashAttention-3 reaches 75% of the H100's bf16 peak (Shah et al. 2024,
 * abstract), FlashAttention-2 on H100 about 35-50% (same paper, section 4.1). 0.6 sits
 * between the kernels in common use.
 */
export const ATTENTION_PEAK_EFFICIENCY = 0.6

/**
 * Keys per query at which attention reaches half its ceiling: 256. FlashAttention's
 * throughput rises with the sequence length and flattens beyond a few thousand
 * (Dao 2023, figure 4: causal forward at 512 tokens well below the 16k figure);
 * `keys/(keys + 256)` gives 67% of the ceiling at 512 keys and 94% at 4096. An
 * assumption that follows that trend, not a fit.
 */
export const ATTENTION_HALF_KEYS = 256

/**
 * Element-wise work as a fraction of the tensor peak: 0.05. It runs on the CUDA cores,
 * whose fp32 rate is about 1/15 of the bf16 tensor peak (H100 SXM: 66.9 of 989.4
 * TFLOP/s, 0.068; A100: 19.5 of 312, 0.0625; NVIDIA datasheets), less some loss to
 * imperfect vectorization. These kernels are memory-bound at any sensible value.
 */
export const ELEMENTWISE_EFFICIENCY = 0.05

/**
 * Ceiling of a streaming kernel, as a fraction of the datasheet memory bandwidth:
 * 0.85. Device-to-device copies and STREAM-like kernels sustain about 85-92% of HBM's
 * datasheet bandwidth on A100 and H100 (e.g. the BabelStream results published for
 * both parts); 0.85 leaves room for the less regular access of real kernels.
 */
export const MEMORY_PEAK_EFFICIENCY = 0.85

/**
 * A kernel's fixed cost, expressed as the bytes it could have moved: a kernel moving
 * `b` bytes reaches `b / (b + bandwidth · 4 µs)` of the ceiling, i.e. it takes its
 * streaming time plus about 4 µs / 0.85. A kernel launch costs a few microseconds
 * from the host (about 2-3 µs under CUDA graphs, 4-10 µs without, as in the prefill of
 * the engines measured); 4 µs is the value that fits the short-prompt TTFT cases of
 * `shared/validation/calibration.json` best among 2, 3, 4, 5 and 6 µs without making
 * any throughput case worse than 15% (docs/accuracy.md). It is what makes a small
 * model's decode step and a short prefill cost more than their bytes.
 */
export const KERNEL_RAMP_SECONDS = 4e-6

/** Efficiencies below this are taken as this (a function answering 0, a negative number or NaN would make a time infinite). */
export const EFFICIENCY_FLOOR = 1e-6

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * `ceiling · d/(d + GEMM_HALF_DIMENSION)` with `d = min(m, n, k)`; the ceiling is
 * `FP8_GEMM_PEAK_EFFICIENCY` for fp8 and `GEMM_PEAK_EFFICIENCY` otherwise, on any device.
 */
export const defaultGemmEfficiency = (m: number, n: number, k: number, dtype?: Dtype): number => {
  const d = Math.min(m, n, k)
  return ((dtype === 'fp8' ? FP8_GEMM_PEAK_EFFICIENCY : GEMM_PEAK_EFFICIENCY) * d) / (d + GEMM_HALF_DIMENSION)
}

/** Formats narrower than 16 bits: attention kernels do not compute in them. */
const narrowFormats: ReadonlyArray<Dtype> = ['fp8', 'int8', 'fp4', 'int4']

/**
 * `ATTENTION_PEAK_EFFICIENCY · keys/(keys + ATTENTION_HALF_KEYS)`, expressed against the
 * `dtype` peak. Fused attention computes in 16-bit: FlashAttention-2 supports fp16 and
 * bf16 only (Dao 2023, section 4), and TensorRT-LLM v0.9's context FMHA ran in fp16 in
 * the FP8 engines of the calibration cases (their notes). So with 8- or 4-bit
 * activations the efficiency is scaled by the device's 16-bit peak over its `dtype`
 * peak (one half on an H100 in fp8): the attention runs at the 16-bit rate.
 */
export const defaultAttentionEfficiency = (_queries: number, keys: number, dtype?: Dtype, device?: Device): number => {
  const e = (ATTENTION_PEAK_EFFICIENCY * keys) / (keys + ATTENTION_HALF_KEYS)
  if (dtype === undefined || device === undefined || !narrowFormats.includes(dtype)) return e
  const sixteen = device.peak.bf16 ?? device.peak.fp16
  const narrow = device.peak[dtype]
  return sixteen !== undefined && narrow !== undefined && narrow > 0 ? (e * sixteen) / narrow : e
}

/** `ELEMENTWISE_EFFICIENCY`. */
export const defaultElementwiseEfficiency = (): number => ELEMENTWISE_EFFICIENCY

/** `MEMORY_PEAK_EFFICIENCY · b/(b + bandwidth · KERNEL_RAMP_SECONDS)`. */
export const defaultMemoryEfficiency = (bytes: number, device: Device): number =>
  (MEMORY_PEAK_EFFICIENCY * bytes) / (bytes + device.memoryBandwidth * KERNEL_RAMP_SECONDS)

/** The default efficiencies. */
export const defaultEfficiency: Efficiency = {
  gemm: defaultGemmEfficiency,
  attention: defaultAttentionEfficiency,
  elementwise: defaultElementwiseEfficiency,
  memory: defaultMemoryEfficiency,
}

/** One measured point: a GEMM whose smallest dimension was `minDimension` reached `efficiency` of peak. */
export interface GemmMeasurement {
  readonly minDimension: number
  readonly efficiency: number
}

/**
 * A GEMM efficiency from measurements: piecewise linear in `log2(min(m, n, k))`
 * between the measured points, constant beyond the first and the last. Points are
 * sorted here; give at least one. For a table keyed by something else (m alone, or
 * per dtype), write the `gemm` function directly: it is one function of the record.
 */
export const gemmTable = (points: ReadonlyArray<GemmMeasurement>): Efficiency['gemm'] => {
  const sorted = [...points].sort((a, b) => a.minDimension - b.minDimension)
  const xs = sorted.map((p) => Math.log2(p.minDimension))
  const ys = sorted.map((p) => p.efficiency)
  return (m, n, k) => {
    const x = Math.log2(Math.min(m, n, k))
    const last = xs.length - 1
    if (last < 0) return EFFICIENCY_FLOOR
    if (x <= (xs[0] ?? 0)) return ys[0] ?? EFFICIENCY_FLOOR
    if (x >= (xs[last] ?? 0)) return ys[last] ?? EFFICIENCY_FLOOR
    let i = 0
    while (i < last && (xs[i + 1] ?? 0) < x) i++
    const x0 = xs[i] ?? 0
    const x1 = xs[i + 1] ?? x0
    const y0 = ys[i] ?? EFFICIENCY_FLOOR
    const y1 = ys[i + 1] ?? y0
    return x1 === x0 ? y1 : y0 + ((y1 - y0) * (x - x0)) / (x1 - x0)
  }
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** `e` limited to [EFFICIENCY_FLOOR, 1]; NaN becomes the floor. Used on the fast path, which cannot return an error. */
export const clampEfficiency = (e: number): number => (e > 1 ? 1 : e >= EFFICIENCY_FLOOR ? e : EFFICIENCY_FLOOR)

/** `e` when it lies in (0, 1], else an `invalid-efficiency` error naming the kernel. */
export const checkEfficiency = (what: string, e: number): E.Either<ComputeError, number> =>
  e > 0 && e <= 1
    ? E.right(e)
    : E.left(computeError('invalid-efficiency', `the ${what} efficiency must lie in (0, 1], the efficiency model answered ${e}`, { efficiency: e }))
