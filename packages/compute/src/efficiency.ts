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
 * defaultEfficiency.gemm(8192, 8192, 8192, 'bf16', devices['h100-sxm']) // 0.5485: 0.7 · 0.801 · 8192/8224 · 8192/8224 · 8192/8288, less 6 µs of launch
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
  /**
   * A GEMM `(m × k) · (k × n)` computing in `dtype`: its fraction of `device.peak[dtype]`.
   * `batch` GEMMs of that shape run as one launch (the experts of a grouped GEMM); 1 when
   * omitted. `serving`: it runs in a serving engine's forward pass, not a training step
   * (the default efficiency keeps {@link GEMM_SERVING_FRACTIONS} there). `grouped`: the
   * `batch` GEMMs are the experts of a grouped GEMM, each with its own operands (the
   * default efficiency gives each tile a longer fixed cost, {@link GROUPED_GEMM_K_FACTOR}).
   * An efficiency of your own may ignore either.
   */
  readonly gemm: (m: number, n: number, k: number, dtype: Dtype, device: Device, batch?: number, serving?: boolean, grouped?: boolean) => number
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
 * The tensor-core generation a device's GEMMs run on, which sets their ceilings. A
 * device names it (`Device.generation`); without a name it is read from the formats the
 * part computes in, as the case files describe a GPU only by its peaks: fp4 →
 * `blackwell` (B200, GB200), fp8 without fp4 → `hopper` (H100, H200, H800, H20), neither
 * → `ampere` (A100).
 */
export type GemmGeneration = 'ampere' | 'ada' | 'hopper' | 'blackwell' | 'cdna3'

/** The generation of `device`: its own, else read from its formats (see {@link GemmGeneration}). */
export const gemmGeneration = (device: Device): GemmGeneration =>
  device.generation ?? (device.peak.fp4 !== undefined ? 'blackwell' : device.peak.fp8 !== undefined ? 'hopper' : 'ampere')

/** The width class of a GEMM format: 16 bits and wider, 8 bits, 4 bits. */
export type GemmWidth = 'wide' | 'fp8' | 'fp4'

/** The width class of `dtype`: 8-bit (`fp8`, `int8`), 4-bit (`fp4`, `int4`), else `wide`. */
export const gemmWidth = (dtype: Dtype | undefined): GemmWidth =>
  dtype === 'fp8' || dtype === 'int8' ? 'fp8' : dtype === 'fp4' || dtype === 'int4' ? 'fp4' : 'wide'

/**
 * Ceiling of a large GEMM, as a fraction of the dense peak in its format, per generation
 * and width: the Maximum Achievable Matmul FLOPS (MAMF) measured with the best of many
 * large shapes, divided by the datasheet peak (S. Bekman, "Machine Learning
 * Engineering", github.com/stas00/ml-engineering, compute/accelerator README, "Maximum
 * Achievable Matmul FLOPS comparison table", and its H200-to-B200 upgrade guide):
 *
 * - A100 SXM bf16: 267.9 of 312 TFLOP/s, 0.859 (CUDA 12.1).
 * - H100 SXM bf16: 792.1 of 989, 0.801; H200 fp8: 0.734 of 1979.
 * - B200 bf16: 1745 of 2250, 0.776; fp8: 0.763 of 4500; NVFP4: 6624 of 9000, 0.736.
 * - MI300X bf16: 781.9 of 1300, 0.601 (ROCm 6.2); its fp8 taken as the same fraction.
 *
 * Ampere has no fp8: its 8- and 4-bit integer GEMMs take the 16-bit fraction; Hopper's
 * 4-bit (no such tensor-core format) too. Ada (L40S) is taken as Hopper, unmeasured.
 */
export const GEMM_CEILINGS: Readonly<Record<GemmGeneration, Readonly<Record<GemmWidth, number>>>> = {
  ampere: { wide: 0.859, fp8: 0.859, fp4: 0.859 },
  ada: { wide: 0.801, fp8: 0.734, fp4: 0.801 },
  hopper: { wide: 0.801, fp8: 0.734, fp4: 0.801 },
  blackwell: { wide: 0.776, fp8: 0.763, fp4: 0.736 },
  cdna3: { wide: 0.601, fp8: 0.601, fp4: 0.601 },
}

/**
 * How a GEMM's shape keeps it from its ceiling: it reaches `x/(x + h)` of it in each
 * dimension `x` of `m`, `n` and `k`, with `h` the half-size of that dimension (tile and
 * wave quantization in m and n; the prologue and epilogue of the k loop in k), and pays
 * a fixed {@link GEMM_FIXED_SECONDS} per launch. Fitted by `scripts/fit-gemm.js` on
 * the 375 measured shapes (b ≤ 4, m, n, k from 256 to 4096) of OpenXLA's GEMM table for
 * H100 bf16 and B200 bf16 and fp8 (`validation/gemm-xla.json`), the ceilings held at
 * {@link GEMM_CEILINGS}: median error 5-6%, p90 13-19% per table. The k half-size grows
 * as the format narrows (a k tile holds as many bytes, so more elements): 96 for 16-bit,
 * 384 for 8-bit as fitted; 768 for 4-bit is that doubling again, an assumption with no
 * measurement to fit.
 */
export const GEMM_HALF_SIZES: Readonly<{ m: number; n: number; k: Readonly<Record<GemmWidth, number>> }> = {
  m: 32,
  n: 32,
  k: { wide: 96, fp8: 384, fp4: 768 },
}

/**
 * How many times longer a grouped GEMM's fixed cost per tile is than a dense GEMM's, in
 * the k half-size ({@link GEMM_HALF_SIZES}): 4, so a grouped fp8 GEMM reaches
 * `k/(k + 4·384)` of its ceiling in k. A dense persistent GEMM kernel loads the next
 * tile's operands while the current tile finishes, so a tile's prologue and epilogue hide
 * behind the mainloop and only the k half-size fitted on dense shapes remains. A grouped
 * GEMM's consecutive tiles on one SM mostly belong to different experts, whose operands
 * are other tensors: CUTLASS's grouped kernels (the `sm90_gemm_array_tma_warpspecialized`
 * kernels and their SM100 successors, behind TensorRT-LLM's and vLLM's MoE GEMMs) rewrite
 * the TMA descriptors in shared memory and fence them (`tensormaps_perform_update`,
 * `tensormaps_cp_fence_release`, `tensormaps_fence_acquire`) whenever a tile's group
 * differs from the previous one's, and the operand pipeline refills after it. The cost is
 * per tile, so it weighs most where k is short: the small experts of fine-grained MoE
 * models (Qwen3-30B-A3B: k of 2048 and 768) lose far more than Mixtral's (4096 and
 * 14336). The factor is fitted, not measured: `scripts/fit.js` picks it on the
 * calibration cases (`GROUPED_GEMM_K_FACTOR` in `@meshplan/planner`'s fittedConstants),
 * and the 20 NVFP4 Qwen3-30B-A3B runs of TensorRT-LLM 1.0, none of which the fit sees
 * (`validation/held-out/`), judge it.
 */
export const GROUPED_GEMM_K_FACTOR = 4

/**
 * A GEMM launch's fixed cost: 6 µs, fitted with {@link GEMM_HALF_SIZES} (see there).
 * A grouped GEMM (MoE experts) or a batched one is one launch, so it pays it once.
 */
export const GEMM_FIXED_SECONDS = 6e-6

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
 * A memory-bound kernel's fixed cost, expressed as the bytes it could have moved: a
 * kernel moving `b` bytes reaches `b / (b + bandwidth · 10 µs)` of the ceiling, i.e. it
 * takes its streaming time plus about 10 µs / 0.85. Fitted, not measured:
 * `scripts/fit.js` picks it from 2 to 12 µs on the calibration cases, with
 * {@link GEMM_SUSTAINED_FRACTIONS} (see `@meshplan/planner`'s `fittedConstants`). A launch
 * alone costs a few microseconds (about 2-3 µs under CUDA graphs, 4-10 µs without);
 * the fitted value is larger because it stands for everything per kernel the operator
 * list leaves out: the engines run more, smaller kernels per layer than the operators
 * modelled (rotary embedding, casts, routing, the gaps between kernels). It is what
 * makes a small model's decode step and a short prefill cost more than their bytes.
 */
export const KERNEL_RAMP_SECONDS = 10e-6

/** Efficiencies below this are taken as this (a function answering 0, a negative number or NaN would make a time infinite). */
export const EFFICIENCY_FLOOR = 1e-6

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * The fraction of the burst (MAMF) ceiling that large GEMMs keep in a whole serving or
 * training run, per generation: Ampere 0.9, Hopper 0.7, Blackwell 0.6. MAMF is measured in
 * short runs at boost clock; a run keeps the tensor cores busy for seconds at the power
 * limit, where the clock settles lower (the MAMF finder reports a separate "sustainable"
 * figure for that reason), and the 700-1000 W Hopper and Blackwell parts are limited by
 * power far more than the 400 W A100; Blackwell doubles Hopper's tensor rate per format
 * within 1000 W. Fitted, not measured: `scripts/fit.js` picks each
 * from a grid on the calibration cases (`validation/calibration.json`) with the other
 * fitted constants (`@meshplan/planner`'s `fittedConstants`), and
 * `meshplan validate --leave-one-source-out` judges them on each engine release without
 * it. Hopper's value is its training runs' (serving passes on Hopper keep
 * {@link GEMM_SERVING_FRACTIONS}) and also absorbs what those runs lose that no mechanism
 * here models (eager PyTorch in the FSDP runs): read it as "what the measured runs
 * kept", not as a clock. Blackwell's rests on the few calibration cases
 * that run on it (one TensorRT-LLM B200 fp4 serving run); that release's 19 other dense
 * B200 runs (not in the calibration file) are predicted with a signed median error of
 * −0.8% with it (`validation/held-out/`).
 */
export const GEMM_SUSTAINED_FRACTIONS: Readonly<Record<GemmGeneration, number>> = {
  ampere: 0.9,
  ada: 0.7,
  hopper: 0.7,
  blackwell: 0.6,
  cdna3: 0.7,
}

/** Hopper's sustained fraction ({@link GEMM_SUSTAINED_FRACTIONS}), the default without a device. */
export const GEMM_SUSTAINED_FRACTION = GEMM_SUSTAINED_FRACTIONS.hopper

/**
 * The same fraction for the GEMMs of a serving engine's forward passes: Hopper (with Ada
 * and CDNA 3, as above) 0.8, fitted on the calibration file's serving cases alone
 * (`scripts/fit.js`, `GEMM_SERVING_FRACTION_HOPPER`); Ampere and Blackwell keep their
 * {@link GEMM_SUSTAINED_FRACTIONS}. One Hopper fraction for serving and training could not
 * hold both: the training runs on Hopper (FSDP in eager PyTorch, Transformer Engine's fp8
 * recipes) keep 0.7, while the TensorRT-LLM 1.0 release's 57 dense fp8 serving runs on
 * H100 and H200, none of which the fit sees (`validation/held-out/`), come out 9.8% slow
 * at the signed median with 0.75 and 6.2% with 0.8; on Ampere the serving and training
 * runs agree on one fraction. What the training runs lose beyond the serving ones (framework overheads,
 * the power of collectives beside the GEMMs) is not modelled; this constant keeps it
 * out of the serving estimates rather than spreading it over both.
 */
export const GEMM_SERVING_FRACTIONS: Readonly<Record<GemmGeneration, number>> = {
  ampere: GEMM_SUSTAINED_FRACTIONS.ampere,
  ada: 0.8,
  hopper: 0.8,
  blackwell: GEMM_SUSTAINED_FRACTIONS.blackwell,
  cdna3: 0.8,
}

/** What a {@link gemmEfficiency} is built from; each defaults to the constant of the same name. */
export interface GemmEfficiencyOptions {
  readonly ceilings?: Readonly<Record<GemmGeneration, Readonly<Record<GemmWidth, number>>>>
  /** One fraction for every generation, or some generations' own (the others keep {@link GEMM_SUSTAINED_FRACTIONS}). */
  readonly sustainedFraction?: number | Readonly<Partial<Record<GemmGeneration, number>>>
  /**
   * The same for serving passes (the others keep {@link GEMM_SERVING_FRACTIONS}); absent,
   * serving takes `sustainedFraction` where that is given, else the serving defaults.
   */
  readonly servingFraction?: number | Readonly<Partial<Record<GemmGeneration, number>>>
  readonly halfSizes?: typeof GEMM_HALF_SIZES
  readonly fixedSeconds?: number
  /** A grouped GEMM's k half-size over a dense one's ({@link GROUPED_GEMM_K_FACTOR}). */
  readonly groupedKFactor?: number
}

/** A {@link GemmEfficiencyOptions} fraction for `generation`: the one number, or that generation's own, if given. */
const fractionFor = (f: GemmEfficiencyOptions['sustainedFraction'], generation: GemmGeneration): number | undefined => (typeof f === 'number' ? f : f?.[generation])

/**
 * A GEMM efficiency `s · c · m/(m + h_m) · n/(n + h_n) · k/(k + h_k)`: `c` from the
 * ceilings ({@link GEMM_CEILINGS}) by generation and width, `s` the generation's sustained
 * fraction ({@link GEMM_SUSTAINED_FRACTIONS}; in a serving pass {@link GEMM_SERVING_FRACTIONS}), the half-sizes from {@link GEMM_HALF_SIZES}
 * (`h_k` times {@link GROUPED_GEMM_K_FACTOR} for the experts of a grouped GEMM); then the
 * launch's fixed cost added to the time: with `F = 2·m·n·k·batch` FLOPs at `e` of `peak`,
 * the time `F/(peak·e) + t` is the efficiency `e · F/(F + peak·e·t)`. Without a device the
 * generation is Hopper and the fixed cost is left out (no peak to weigh it against).
 */
export const gemmEfficiency =
  (options: GemmEfficiencyOptions = {}) =>
  (m: number, n: number, k: number, dtype?: Dtype, device?: Device, batch = 1, serving = false, grouped = false): number => {
    const ceilings = options.ceilings ?? GEMM_CEILINGS
    const half = options.halfSizes ?? GEMM_HALF_SIZES
    const fixed = options.fixedSeconds ?? GEMM_FIXED_SECONDS
    const width = gemmWidth(dtype)
    const hk = half.k[width] * (grouped ? (options.groupedKFactor ?? GROUPED_GEMM_K_FACTOR) : 1)
    const generation = device === undefined ? 'hopper' : gemmGeneration(device)
    const given = fractionFor(options.sustainedFraction, generation)
    const fraction = serving ? (fractionFor(options.servingFraction, generation) ?? given ?? GEMM_SERVING_FRACTIONS[generation]) : (given ?? GEMM_SUSTAINED_FRACTIONS[generation])
    const e =
      fraction *
      ceilings[generation][width] *
      (m / (m + half.m)) *
      (n / (n + half.n)) *
      (k / (k + hk))
    const peak = device === undefined || dtype === undefined ? undefined : device.peak[dtype]
    if (peak === undefined || !(peak > 0)) return e
    const flops = 2 * m * n * k * (batch > 0 ? batch : 1)
    return (e * flops) / (flops + peak * e * fixed)
  }

/** {@link gemmEfficiency} with every constant at its default. */
export const defaultGemmEfficiency = gemmEfficiency()

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
export const defaultAttentionEfficiency = (queries: number, keys: number, dtype?: Dtype, device?: Device): number => attentionEfficiency()(queries, keys, dtype, device)

/**
 * Ceiling of the first generation of fused attention kernels (FlashAttention 1 and the
 * Triton FlashAttention of 2022-23): 0.325 of the dense peak, the middle of the 25-40%
 * FlashAttention reaches on an A100 (Dao 2023, "FlashAttention-2", abstract and section 1:
 * "reaching only 25-40% of the theoretical maximum FLOPs/s"), against FlashAttention-2's
 * 50-73% ({@link ATTENTION_PEAK_EFFICIENCY}).
 */
export const FLASH_V1_ATTENTION_EFFICIENCY = 0.325

/**
 * Ceilings of FlashAttention-2, a kernel written for Ampere, per generation: 0.6 of the
 * dense peak on Ampere and Ada ({@link ATTENTION_PEAK_EFFICIENCY}; Dao 2023: 50-73% of the
 * A100's peak forward), 0.35 on Hopper (Shah et al. 2024, "FlashAttention-3", abstract:
 * FlashAttention-2 "achieving only 35% utilization on the H100 GPU", as it does not use
 * Hopper's asynchronous tensor-core instructions and TMA). Blackwell is taken as Hopper's
 * share, an assumption with no measurement: the kernel uses neither generation's own
 * instructions. CDNA3 keeps the default. This is the kernel behind PyTorch's
 * `scaled_dot_product_attention` flash backend (PyTorch 2.2 release notes: FlashAttention-2
 * in SDPA), which torchtitan runs.
 */
export const FLASH2_ATTENTION_CEILINGS: Readonly<Record<GemmGeneration, number>> = {
  ampere: ATTENTION_PEAK_EFFICIENCY,
  ada: ATTENTION_PEAK_EFFICIENCY,
  hopper: 0.35,
  blackwell: 0.35,
  cdna3: ATTENTION_PEAK_EFFICIENCY,
}

/**
 * Ceilings of the first-generation fused kernels ({@link FLASH_V1_ATTENTION_EFFICIENCY})
 * per generation: 0.325 on Ampere and Ada; on Hopper and Blackwell scaled by what
 * FlashAttention-2 keeps there of its Ampere share ({@link FLASH2_ATTENTION_CEILINGS},
 * 0.35/0.6), as they are written for Ampere's instructions too: 0.325 · 0.35/0.6 = 0.1896.
 * An assumption that follows FlashAttention-3's measurement of FlashAttention-2, not a
 * measurement of these kernels.
 */
export const FLASH_V1_ATTENTION_CEILINGS: Readonly<Record<GemmGeneration, number>> = {
  ampere: FLASH_V1_ATTENTION_EFFICIENCY,
  ada: FLASH_V1_ATTENTION_EFFICIENCY,
  hopper: (FLASH_V1_ATTENTION_EFFICIENCY * FLASH2_ATTENTION_CEILINGS.hopper) / ATTENTION_PEAK_EFFICIENCY,
  blackwell: (FLASH_V1_ATTENTION_EFFICIENCY * FLASH2_ATTENTION_CEILINGS.blackwell) / ATTENTION_PEAK_EFFICIENCY,
  cdna3: FLASH_V1_ATTENTION_EFFICIENCY,
}

/**
 * A fused-attention efficiency `ceiling · keys/(keys + ATTENTION_HALF_KEYS)` (default
 * ceiling {@link ATTENTION_PEAK_EFFICIENCY}), computed in 16-bit whatever the activations:
 * with an 8-bit format it is that share of the 16-bit peak expressed against the 8-bit one.
 * The ceiling is one number, or one per generation (a kernel written for one generation
 * keeps less of a later one's peak: {@link FLASH2_ATTENTION_CEILINGS}); without a device
 * the generation is Hopper, as for GEMMs. `narrow`: the kernel computes in the
 * activations' fp8 format (TensorRT-LLM's FP8 context FMHA, `use_fp8_context_fmha`, Hopper
 * only), so its share is of the fp8 peak; int8 activations (SmoothQuant) keep a 16-bit
 * kernel, as does every other format.
 */
export const attentionEfficiency =
  (options: { readonly ceiling?: number | Readonly<Record<GemmGeneration, number>>; readonly narrow?: boolean } = {}) =>
  (_queries: number, keys: number, dtype?: Dtype, device?: Device): number => {
    const c = options.ceiling
    const ceiling = c === undefined ? ATTENTION_PEAK_EFFICIENCY : typeof c === 'number' ? c : c[device === undefined ? 'hopper' : gemmGeneration(device)]
    const e = (ceiling * keys) / (keys + ATTENTION_HALF_KEYS)
    if (dtype === undefined || device === undefined || !narrowFormats.includes(dtype)) return e
    if (options.narrow === true && dtype === 'fp8' && gemmGeneration(device) === 'hopper') return e
    const sixteen = device.peak.bf16 ?? device.peak.fp16
    const narrow = device.peak[dtype]
    return sixteen !== undefined && narrow !== undefined && narrow > 0 ? (e * sixteen) / narrow : e
  }

/** `ELEMENTWISE_EFFICIENCY`. */
export const defaultElementwiseEfficiency = (): number => ELEMENTWISE_EFFICIENCY

/** `ceiling · b/(b + bandwidth · rampSeconds)`, by default `MEMORY_PEAK_EFFICIENCY` and `KERNEL_RAMP_SECONDS`. */
export const memoryEfficiency =
  (options: { readonly ceiling?: number; readonly rampSeconds?: number } = {}) =>
  (bytes: number, device: Device): number =>
    ((options.ceiling ?? MEMORY_PEAK_EFFICIENCY) * bytes) / (bytes + device.memoryBandwidth * (options.rampSeconds ?? KERNEL_RAMP_SECONDS))

/** {@link memoryEfficiency} with its defaults. */
export const defaultMemoryEfficiency = memoryEfficiency()

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
