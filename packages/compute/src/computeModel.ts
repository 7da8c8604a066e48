/**
 * The pluggable parts of the compute cost model, as one record: the efficiencies, the
 * rule that picks the format the tensor cores compute in, and the MoE load imbalance.
 * `defaultComputeModel` is the documented default; replace one field and keep the rest.
 *
 * Which peak: the tensor cores compute in the activations' format. fp8 weights with
 * fp8 activations run fp8 GEMMs (fp8 peak); weight-only quantization (int4, fp4, int8
 * or fp8 weights with bf16 activations, as in AWQ/GPTQ/Marlin kernels) dequantizes the
 * weights in registers and runs bf16 GEMMs (bf16 peak) while reading fewer weight
 * bytes; fp8 training (Transformer Engine) casts bf16 weights to fp8 and runs fp8
 * GEMMs. A format the device has no peak for is an error, never a silent fallback.
 *
 * @example
 * import { defaultComputeModel, withEfficiency, peakOf } from '@meshplan/compute'
 * import { devices } from '@meshplan/topology'
 * defaultComputeModel.computeDtype({ weights: 'int4', activations: 'bf16', kvCache: 'bf16' }) // 'bf16'
 * peakOf(devices['a100-80gb'], 'fp8') // left({ code: 'dtype-unsupported', ... })
 * const tuned = withEfficiency({ gemm: () => 0.7 })(defaultComputeModel)
 * const megatron2022 = withAttentionKernel('unfused')(defaultComputeModel) // the score matrix written and read
 */
import * as E from 'fp-ts/Either'
import type { Precision } from '@meshplan/model'
import type { Device } from '@meshplan/topology'
import { dtypes, type Dtype, type FlopsPerSecond } from '@meshplan/units'
import { defaultEfficiency, type Efficiency } from './efficiency'
import { computeError, type ComputeError } from './error'
import type { AttentionKernel } from './operators'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The replaceable parts of the compute cost model. */
export interface ComputeModel {
  readonly efficiency: Efficiency
  /** The format the tensor cores compute in, from the deployment's precision. */
  readonly computeDtype: (precision: Precision) => Dtype
  /**
   * The busiest GPU's routed tokens over the mean (1: perfectly balanced routing). The
   * slowest GPU sets the pace of a synchronous MoE layer.
   */
  readonly moeImbalance: number
  /** The attention core's kernel (default `flash`; `unfused` as Megatron-LM ran it in 2021-22): see `AttentionKernel`. */
  readonly attentionKernel?: AttentionKernel
  /**
   * The rows a grouped (MoE) GEMM pads each expert's tokens to (default
   * {@link EXPERT_ROW_BLOCK}; 1: no padding): the expert GEMMs run at the efficiency of the
   * padded rows, of which the routed ones are useful (`paddedExpertRows`).
   */
  readonly expertRowBlock?: number
}

/**
 * The row block grouped MoE GEMMs pad each expert's tokens to: 64. vLLM's fused MoE
 * kernel aligns each expert's tokens to `BLOCK_SIZE_M` (`moe_align_block_size`), 64 in its
 * default configuration for all but the smallest batches (`fused_moe.py`,
 * `get_default_config`); DeepGEMM's grouped kernels take blocks of 64 or 128 rows per
 * expert (its masked and contiguous layouts), and TensorRT-LLM's CUTLASS MoE GEMMs tile
 * 64 or 128 rows. The smaller block, as the engines' autotuners pick it for a few hundred
 * rows an expert and fewer.
 */
export const EXPERT_ROW_BLOCK = 64

/** The row block `model` pads each expert's tokens to ({@link ComputeModel.expertRowBlock}, default {@link EXPERT_ROW_BLOCK}). */
export const expertRowBlockOf = (model: ComputeModel): number => model.expertRowBlock ?? EXPERT_ROW_BLOCK

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The tensor cores compute in the activations' format (see the module comment). */
export const defaultComputeDtype = (precision: Precision): Dtype => precision.activations

/** Default efficiencies, compute in the activations' format, balanced routing. */
export const defaultComputeModel: ComputeModel = {
  efficiency: defaultEfficiency,
  computeDtype: defaultComputeDtype,
  moeImbalance: 1,
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The model with some efficiency functions replaced. */
export const withEfficiency =
  (patch: Partial<Efficiency>) =>
  (model: ComputeModel): ComputeModel => ({ ...model, efficiency: { ...model.efficiency, ...patch } })

/** The model with the attention core run by `kernel` (`'unfused'`: the score matrix written to memory and read back, softmax and dropout on it). */
export const withAttentionKernel =
  (attentionKernel: AttentionKernel) =>
  (model: ComputeModel): ComputeModel => ({ ...model, attentionKernel })

/** The model with another MoE load imbalance. */
export const withMoeImbalance =
  (moeImbalance: number) =>
  (model: ComputeModel): ComputeModel => ({ ...model, moeImbalance })

/** The device's dense peak in `dtype`, or a `dtype-unsupported` error listing the formats it has. */
export const peakOf = (device: Device, dtype: Dtype): E.Either<ComputeError, FlopsPerSecond> => {
  const peak = device.peak[dtype]
  if (peak !== undefined && Number.isFinite(peak) && peak > 0) return E.right(peak)
  const has = dtypes.filter((d) => device.peak[d] !== undefined)
  return E.left(
    computeError(
      'dtype-unsupported',
      `${device.name} has no ${dtype} peak; it computes in ${has.length === 0 ? 'no format' : has.join(', ')}. Choose a precision whose activations are one of those.`,
      peak === undefined ? {} : { peak },
    ),
  )
}

/** The device when its memory bandwidth is a positive finite number. */
export const checkDevice = (device: Device): E.Either<ComputeError, Device> =>
  Number.isFinite(device.memoryBandwidth) && device.memoryBandwidth > 0
    ? E.right(device)
    : E.left(
        computeError('invalid-device', `${device.name}: memory bandwidth must be a positive finite number, got ${device.memoryBandwidth}`, {
          memoryBandwidth: device.memoryBandwidth,
        }),
      )
