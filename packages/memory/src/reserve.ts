/**
 * Memory a GPU cannot give to weights, caches or activations: the CUDA context,
 * communication buffers, allocator fragmentation and kernels' scratch space.
 *
 * @example
 * import { devices } from '@meshplan/topology'
 * import { fractionReserve } from '@meshplan/memory'
 * fractionReserve(0.1)(devices['h100-sxm']) // 8e9 bytes of an 80 GB part
 */
import { bytes, type Bytes } from '@meshplan/units'
import type { Device } from '@meshplan/topology'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** How much of a device is held back from the planner. */
export type Reserve = (device: Device) => Bytes

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * The default share of device memory held back: 10%. Calibration choice, not physics:
 * vLLM lets the KV cache grow until `gpu_memory_utilization` of the device is used,
 * 0.9 by default (vLLM engine arguments), leaving a tenth for the CUDA context, NCCL
 * buffers, CUDA graphs and fragmentation.
 */
export const defaultReserveFraction = 0.1

/** Hold back `fraction` of the device's memory. */
export const fractionReserve =
  (fraction: number): Reserve =>
  (device) =>
    bytes(device.memory * fraction)

/** Hold back a fixed number of bytes. */
export const fixedReserve =
  (size: Bytes): Reserve =>
  () =>
    size

/** The default reserve: {@link defaultReserveFraction} of the device. */
export const defaultReserve: Reserve = fractionReserve(defaultReserveFraction)
