/**
 * Presets: accelerators as their datasheets give them, node designs (how many of them
 * share a scale-up fabric, how each node reaches the network), and clusters built
 * from a node design and a node count. Every figure names its source; figures that
 * are assumptions say so in the preset's `source`.
 *
 * Conventions. Compute peaks are dense (datasheets print 2:4-sparse figures at twice
 * the dense value; those are not used). Memory is the datasheet capacity read in
 * decimal units (H100: "80GB" = 80e9 B), slightly below what `nvidia-smi` reports
 * (81559 MiB ≈ 85.5e9 B on an H100 SXM5): a small conservative margin, the memory
 * model applies its own reserve. Link bandwidths are per device and per direction
 * (NVIDIA quotes NVLink bidirectionally: "900 GB/s" is 450 GB/s each way).
 *
 * @example
 * import { clusterOf, devices, systems } from '@meshplan/topology'
 * devices['h100-sxm'].memory                 // 80e9
 * systems['dgx-h100'].scaleUp.bandwidth      // 450e9
 * clusterOf('gb200-nvl72', 36)               // right(cluster of 144 GPUs in 2 NVLink domains of 72)
 * clusterOf('gb200-nvl72', 20)               // left({ code: 'not-a-multiple', ... })
 */
import * as E from 'fp-ts/Either'
import * as O from 'fp-ts/Option'
import { bytes, bytesPerSecond, closestName, flopsPerSecond, physical, seconds } from '@meshplan/units'
import type { Bytes, BytesPerSecond, FlopsPerSecond, Seconds } from '@meshplan/units'
import type { Cluster, Link, Tier } from './cluster'
import type { Device } from './device'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A node design: identical devices on a scale-up fabric, optionally grouped into larger scale-up domains, joined by a network. */
export interface System {
  /** A readable name, e.g. `DGX H100`. */
  readonly name: string
  readonly device: Device
  /** Devices on one node's scale-up fabric (a GB200 NVL72 "node" is a compute tray of 4). */
  readonly devicesPerNode: number
  /** The fabric joining the devices of one node. */
  readonly scaleUp: Link
  /** A scale-up fabric spanning several nodes (the 18 trays of an NVL72 rack), if any. */
  readonly domain?: {
    /** Nodes per domain. */
    readonly nodes: number
    readonly link: Link
  }
  /** Each device's share of the network joining nodes (or domains). */
  readonly scaleOut: Link
  /** The host memory of one node and each device's link to it, where known (what offload to host memory needs). */
  readonly host?: HostSpec
  /** Where the figures come from, and which are assumptions. */
  readonly source: string
}

/** A node's host memory and each device's link to it, as a datasheet gives them. */
export interface HostSpec {
  /** Host (CPU) memory of one node. */
  readonly memory: Bytes
  /** Each device's link to host memory, per direction (PCIe, NVLink-C2C). */
  readonly bandwidth: BytesPerSecond
  readonly source: string
}

/** Names of the device presets. */
export const deviceNames = [
  'h100-sxm',
  'h200',
  'h800',
  'h20',
  'b200',
  'gb200',
  'b300',
  'gb300',
  'a100-40gb',
  'a100-80gb',
  'mi300x',
  'mi325x',
  'mi355x',
  'l40s',
  'reference',
] as const
export type DeviceName = (typeof deviceNames)[number]

/** Names of the system (node design) presets. */
export const systemNames = [
  'dgx-h100',
  'hgx-h200',
  'hgx-h800',
  'hgx-h20',
  'dgx-b200',
  'gb200-nvl72',
  'hgx-b300',
  'gb300-nvl72',
  'dgx-a100-40gb',
  'dgx-a100-80gb',
  'mi300x-8',
  'mi325x-8',
  'mi355x-8',
  'l40s-8',
  'reference',
] as const
export type SystemName = (typeof systemNames)[number]

/**
 * Why a cluster could not be built. Every error carries a code, the numbers involved,
 * a sentence for a person and, where one exists, a suggestion.
 */
export type TopologyError =
  | {
      readonly code: 'unknown-preset'
      readonly kind: 'device' | 'system'
      readonly name: string
      readonly known: ReadonlyArray<string>
      readonly message: string
      readonly suggestion?: string
    }
  | {
      /** Not a whole number from 1 to 2^53 - 1. */
      readonly code: 'not-a-count'
      readonly field: 'nodes' | 'gpus' | 'devicesPerNode' | 'domain.nodes'
      readonly value: number
      readonly message: string
    }
  | {
      /** More devices than can be counted exactly in a double (2^53 - 1). */
      readonly code: 'too-large'
      readonly devices: number
      readonly limit: number
      readonly message: string
    }
  | {
      /** Not a whole number of nodes per domain, or of devices per node. */
      readonly code: 'not-a-multiple'
      readonly field: 'nodes' | 'gpus'
      readonly value: number
      readonly multipleOf: number
      /** The nearest valid values (one or two). */
      readonly nearest: ReadonlyArray<number>
      readonly message: string
      readonly suggestion: string
    }

// -------------------------------------------------------------------------------------
// units used by the tables (named so that every figure reads as its datasheet prints it)
// -------------------------------------------------------------------------------------

const gigabytes = (n: number): Bytes => bytes(n * 1e9)
const terabytes = (n: number): Bytes => bytes(n * 1e12)
const gigabytesPerSecond = (n: number): BytesPerSecond => bytesPerSecond(n * 1e9)
const terabytesPerSecond = (n: number): BytesPerSecond => bytesPerSecond(n * 1e12)
const gigabitsPerSecond = (n: number): BytesPerSecond => bytesPerSecond((n * 1e9) / 8)
const teraFlops = (n: number): FlopsPerSecond => flopsPerSecond(n * 1e12)
const microseconds = (n: number): Seconds => seconds(n / 1e6)

// -------------------------------------------------------------------------------------
// latencies
// -------------------------------------------------------------------------------------

/**
 * One-hop latencies per fabric. These are order-of-magnitude calibration defaults, not
 * measurements: the collectives model fits its own per-algorithm constants (NCCL's
 * tuner likewise keeps separate base and per-hop latencies) and may replace them.
 */
export const latencies = {
  /** NVLink through NVSwitch: ~1 µs GPU to GPU as a collective sees it (hardware hop well under 1 µs, plus protocol). */
  nvlink: microseconds(1),
  /** AMD Infinity Fabric (xGMI) point to point: same order as NVLink, ~1 µs. */
  infinityFabric: microseconds(1),
  /** PCIe peer to peer through a switch or the CPU root complex: ~2 µs. */
  pcie: microseconds(2),
  /** A proprietary scale-up fabric of unknown make (the reference node): taken as NVLink-like, ~1 µs. */
  scaleUpFabric: microseconds(1),
  /** InfiniBand or RoCE between nodes, including the software stack (verbs, NCCL proxy): ~5 µs. */
  network: microseconds(5),
} as const

// -------------------------------------------------------------------------------------
// devices
// -------------------------------------------------------------------------------------

const h100Compute = {
  fp32: teraFlops(66.9),
  tf32: teraFlops(494.7),
  bf16: teraFlops(989.4),
  fp16: teraFlops(989.4),
  fp8: teraFlops(1978.9),
  int8: teraFlops(1978.9),
} as const

const a100Compute = {
  fp32: teraFlops(19.5),
  tf32: teraFlops(156),
  bf16: teraFlops(312),
  fp16: teraFlops(312),
  int8: teraFlops(624),
  int4: teraFlops(1248),
} as const

/** Accelerator presets. */
export const devices: { readonly [K in DeviceName]: Device } = {
  'h100-sxm': {
    name: 'H100 SXM5 80GB',
    memory: gigabytes(80),
    memoryBandwidth: terabytesPerSecond(3.35),
    peak: h100Compute,
    source: 'NVIDIA H100 Tensor Core GPU datasheet, SXM column; dense figures (half the sparse ones printed)',
  },
  h200: {
    name: 'H200 SXM 141GB',
    memory: gigabytes(141),
    memoryBandwidth: terabytesPerSecond(4.8),
    peak: h100Compute,
    source: 'NVIDIA H200 Tensor Core GPU datasheet, SXM column (compute as H100 SXM5); dense figures',
  },
  h800: {
    name: 'H800 SXM 80GB',
    memory: gigabytes(80),
    memoryBandwidth: terabytesPerSecond(3.35),
    peak: h100Compute,
    source: 'NVIDIA H800 SXM product brief: H100 SXM5 tensor compute and HBM3, NVLink cut to 400 GB/s bidirectional; dense figures',
  },
  h20: {
    name: 'H20 96GB',
    memory: gigabytes(96),
    memoryBandwidth: terabytesPerSecond(4.0),
    peak: {
      fp32: teraFlops(44),
      tf32: teraFlops(74),
      bf16: teraFlops(148),
      fp16: teraFlops(148),
      fp8: teraFlops(296),
      int8: teraFlops(296),
    },
    source: 'NVIDIA HGX H20 product brief (96 GB HBM3, 4.0 TB/s, BF16 148 / FP8 296 TFLOPS); fp32 and tf32 from the same brief as widely reproduced',
  },
  b200: {
    name: 'B200 (HGX) 180GB',
    memory: gigabytes(180),
    memoryBandwidth: terabytesPerSecond(8),
    peak: {
      bf16: teraFlops(2250),
      fp16: teraFlops(2250),
      fp8: teraFlops(4500),
      int8: teraFlops(4500),
      fp4: teraFlops(9000),
    },
    source:
      'NVIDIA HGX B200 datasheet, 8-GPU totals divided by 8 (1.44 TB HBM3e, 64 TB/s; sparse FP4 144 / FP8 72 / BF16 36 PFLOPS halved for dense); fp32/tf32 omitted',
  },
  gb200: {
    name: 'B200 in GB200 NVL72 186GB',
    memory: gigabytes(186),
    memoryBandwidth: terabytesPerSecond(8),
    peak: {
      bf16: teraFlops(2500),
      fp16: teraFlops(2500),
      fp8: teraFlops(5000),
      int8: teraFlops(5000),
      fp4: teraFlops(10000),
    },
    source:
      'NVIDIA GB200 NVL72 datasheet, rack totals divided by 72 (13.4 TB HBM3e, 576 TB/s; sparse FP4 1440 / FP8 720 / BF16 360 PFLOPS halved for dense); fp32/tf32 omitted',
  },
  b300: {
    name: 'B300 (HGX) 288GB',
    memory: gigabytes(288),
    memoryBandwidth: terabytesPerSecond(8),
    peak: {
      bf16: teraFlops(2250),
      fp16: teraFlops(2250),
      fp8: teraFlops(4500),
      int8: teraFlops(125),
      fp4: teraFlops(13500),
    },
    source:
      'NVIDIA HGX B300 specifications, 8-GPU totals divided by 8 (up to 2.3 TB HBM3e; FP4 144 sparse / 108 dense PFLOPS; FP8 72, BF16 36, INT8 2 PFLOPS or POPS sparse, halved for dense: Blackwell Ultra cut INT8); 8 TB/s per GPU as NVIDIA gives it for Blackwell Ultra; fp32/tf32 omitted',
    generation: 'blackwell',
  },
  gb300: {
    name: 'B300 in GB300 NVL72 288GB',
    memory: gigabytes(288),
    memoryBandwidth: terabytesPerSecond(8),
    peak: {
      bf16: teraFlops(2500),
      fp16: teraFlops(2500),
      fp8: teraFlops(5000),
      int8: teraFlops(166.7),
      fp4: teraFlops(15000),
    },
    source:
      'NVIDIA GB300 NVL72 datasheet, rack totals divided by 72 (up to 21 TB HBM3e, 576 TB/s; FP4 1440 sparse / 1080 dense PFLOPS; FP8 720, BF16 360, INT8 24 PFLOPS or POPS sparse, halved for dense); 288 GB per GPU as NVIDIA gives it for Blackwell Ultra; fp32/tf32 omitted',
    generation: 'blackwell',
  },
  'a100-40gb': {
    name: 'A100 SXM4 40GB',
    memory: gigabytes(40),
    memoryBandwidth: gigabytesPerSecond(1555),
    peak: a100Compute,
    source: 'NVIDIA A100 Tensor Core GPU datasheet, 40GB SXM column; dense figures',
  },
  'a100-80gb': {
    name: 'A100 SXM4 80GB',
    memory: gigabytes(80),
    memoryBandwidth: gigabytesPerSecond(2039),
    peak: a100Compute,
    source: 'NVIDIA A100 Tensor Core GPU datasheet, 80GB SXM column; dense figures',
  },
  mi300x: {
    name: 'Instinct MI300X 192GB',
    memory: gigabytes(192),
    memoryBandwidth: terabytesPerSecond(5.3),
    peak: {
      fp32: teraFlops(163.4),
      tf32: teraFlops(653.7),
      bf16: teraFlops(1307.4),
      fp16: teraFlops(1307.4),
      fp8: teraFlops(2614.9),
      int8: teraFlops(2614.9),
    },
    source: 'AMD Instinct MI300X data sheet (peak theoretical, dense; fp32 is the matrix figure)',
    generation: 'cdna3',
  },
  mi325x: {
    name: 'Instinct MI325X 256GB',
    memory: gigabytes(256),
    memoryBandwidth: terabytesPerSecond(6),
    peak: {
      fp32: teraFlops(163.4),
      tf32: teraFlops(653.7),
      bf16: teraFlops(1307.4),
      fp16: teraFlops(1307.4),
      fp8: teraFlops(2614.9),
      int8: teraFlops(2614.9),
    },
    source: 'AMD Instinct MI325X data sheet (256 GB HBM3E, 6 TB/s; the MI300X\'s compute: peak theoretical, dense; fp32 is the matrix figure)',
    generation: 'cdna3',
  },
  mi355x: {
    name: 'Instinct MI355X 288GB',
    memory: gigabytes(288),
    memoryBandwidth: terabytesPerSecond(8),
    peak: {
      bf16: teraFlops(2500),
      fp16: teraFlops(2500),
      fp8: teraFlops(5000),
      int8: teraFlops(5000),
      fp4: teraFlops(10000),
    },
    source:
      'AMD Instinct MI355X data sheet (288 GB HBM3E, 8 TB/s; dense FP16/BF16 2.5, FP8 5, MXFP4 10 PFLOPS, as AMD rounds them). ASSUMPTION: its GEMM ceiling taken from CDNA3\'s (generation cdna3), no achievable-matmul measurement of CDNA4 being published',
    generation: 'cdna3',
  },
  l40s: {
    name: 'L40S 48GB',
    memory: gigabytes(48),
    memoryBandwidth: gigabytesPerSecond(864),
    peak: {
      fp32: teraFlops(91.6),
      tf32: teraFlops(183),
      bf16: teraFlops(362.05),
      fp16: teraFlops(362.05),
      fp8: teraFlops(733),
      int8: teraFlops(733),
    },
    source: 'NVIDIA L40S datasheet (48 GB GDDR6, 864 GB/s; dense figures, half the sparse ones printed)',
    generation: 'ada',
  },
  reference: {
    name: 'Reference accelerator 64GB / 400 TFLOPS',
    memory: gigabytes(64),
    memoryBandwidth: terabytesPerSecond(1.6),
    peak: { bf16: teraFlops(400), fp16: teraFlops(400) },
    source:
      'Hand-written reference plan: 64 GB and 400 TFLOPS (taken as dense bf16/fp16). ASSUMPTION, not given by the plan: 1.6 TB/s HBM, as on an Ascend-910B-class 64 GB part; override it in a cluster file',
  },
}

// -------------------------------------------------------------------------------------
// links
// -------------------------------------------------------------------------------------

/** NVLink 4 (Hopper): 18 links x 50 GB/s = 900 GB/s bidirectional, 450 GB/s per direction; NVSwitch gen 3 reduces in-switch (NVLink SHARP). */
const nvlink4: Link = { bandwidth: gigabytesPerSecond(450), latency: latencies.nvlink, inNetworkReduction: true }

/** NVLink 5 (Blackwell): 1.8 TB/s bidirectional, 900 GB/s per direction, with NVLink SHARP. */
const nvlink5: Link = { bandwidth: gigabytesPerSecond(900), latency: latencies.nvlink, inNetworkReduction: true }

/** One 400 Gb/s NIC (ConnectX-7 NDR or 400GbE) per GPU: 50 GB/s per direction. */
const nic400PerGpu: Link = { bandwidth: gigabitsPerSecond(400), latency: latencies.network, inNetworkReduction: false }

/** One 800 Gb/s NIC (ConnectX-8) per GPU: 100 GB/s per direction. */
const nic800PerGpu: Link = { bandwidth: gigabitsPerSecond(800), latency: latencies.network, inNetworkReduction: false }

/** One 200 Gb/s NIC (ConnectX-6 HDR) per GPU: 25 GB/s per direction. */
const nic200PerGpu: Link = { bandwidth: gigabitsPerSecond(200), latency: latencies.network, inNetworkReduction: false }

// -------------------------------------------------------------------------------------
// systems
// -------------------------------------------------------------------------------------

/**
 * Host links. PCIe x16 per direction: Gen4 16 GT/s and Gen5 32 GT/s per lane, 128b/130b
 * coding (PCI-SIG base specifications 4.0 and 5.0): 31.5 and 63 GB/s. NVLink-C2C joins
 * a Grace CPU to its two Blackwell GPUs at 900 GB/s bidirectional (GB200 NVL72
 * datasheet), 450 GB/s per direction shared by the two. Peak rates: a pinned copy
 * reaches somewhat less.
 */
const pcie4 = gigabytesPerSecond(31.5)
const pcie5 = gigabytesPerSecond(63)
/**
 * DGX A100: its eight A100s reach the CPUs through four PCIe Gen4 switches, two GPUs (and
 * two HDR adapters) under each, every switch on one x16 Gen4 uplink (Microway, "DGX A100
 * review: Throughput and Hardware Summary", the system block diagram: four PCIe Gen4
 * switches for eight GPUs). When every GPU offloads at once, each has half an uplink.
 */
const pcie4PerSwitchPair = gigabytesPerSecond(31.5 / 2)
const dgxA100HostLink = 'two A100s per PCIe Gen4 x16 switch uplink to the CPU (Microway DGX A100 review, block diagram: 4 PCIe Gen4 switches for 8 GPUs), 15.75 GB/s each when all offload'
const c2cPerGpu = gigabytesPerSecond(450 / 2)

/** Node design presets. */
export const systems: { readonly [K in SystemName]: System } = {
  'dgx-h100': {
    name: 'DGX H100',
    device: devices['h100-sxm'],
    devicesPerNode: 8,
    scaleUp: nvlink4,
    scaleOut: nic400PerGpu,
    host: { memory: terabytes(2), bandwidth: pcie5, source: 'DGX H100 datasheet: 2 TB system memory; each H100 SXM5 on PCIe Gen5 x16' },
    source: 'NVIDIA DGX H100 datasheet: 8 H100 SXM5 on NVLink 4 / NVSwitch (900 GB/s bidirectional per GPU, NVLink SHARP), 8x ConnectX-7 400 Gb/s for compute',
  },
  'hgx-h200': {
    name: 'HGX H200',
    device: devices.h200,
    devicesPerNode: 8,
    scaleUp: nvlink4,
    scaleOut: nic400PerGpu,
    host: { memory: terabytes(2), bandwidth: pcie5, source: 'ASSUMPTION: 2 TB as the DGX H200 datasheet gives; H200 on PCIe Gen5 x16' },
    source: 'NVIDIA H200 datasheet (HGX H200 8-GPU, NVLink 900 GB/s bidirectional). ASSUMPTION: one 400 Gb/s NIC per GPU, as the HGX reference designs',
  },
  'hgx-h800': {
    name: 'HGX H800',
    device: devices.h800,
    devicesPerNode: 8,
    scaleUp: { bandwidth: gigabytesPerSecond(200), latency: latencies.nvlink, inNetworkReduction: false },
    scaleOut: nic400PerGpu,
    host: { memory: terabytes(2), bandwidth: pcie5, source: 'ASSUMPTION: 2 TB as a DGX H100; H800 on PCIe Gen5 x16' },
    source:
      'NVLink 400 GB/s bidirectional = 200 GB/s per direction (H800 product brief); InfiniBand 50 GB/s per GPU (DeepSeek-V3 technical report, arXiv:2412.19437, sec. 3.2.2, which also measures ~160 GB/s achievable NVLink). ASSUMPTION: no NVLink SHARP (not confirmed either way)',
  },
  'hgx-h20': {
    name: 'HGX H20',
    device: devices.h20,
    devicesPerNode: 8,
    scaleUp: { ...nvlink4, inNetworkReduction: false },
    scaleOut: nic400PerGpu,
    host: { memory: terabytes(2), bandwidth: pcie5, source: 'ASSUMPTION: 2 TB as a DGX H100; H20 on PCIe Gen5 x16' },
    source:
      'NVIDIA HGX H20 product brief: NVLink 900 GB/s bidirectional. ASSUMPTIONS: one 400 Gb/s NIC per GPU; no NVLink SHARP (not confirmed either way)',
  },
  'dgx-b200': {
    name: 'DGX B200',
    device: devices.b200,
    devicesPerNode: 8,
    scaleUp: nvlink5,
    scaleOut: nic400PerGpu,
    host: { memory: terabytes(2), bandwidth: pcie5, source: 'DGX B200 datasheet: 2 TB system memory (4 TB optional); B200 on PCIe Gen5 x16' },
    source: 'NVIDIA DGX B200 datasheet: 8 B200 on NVLink 5 (1.8 TB/s bidirectional per GPU, NVLink SHARP), 8x ConnectX-7 400 Gb/s for compute',
  },
  'gb200-nvl72': {
    name: 'GB200 NVL72',
    device: devices.gb200,
    devicesPerNode: 4,
    scaleUp: nvlink5,
    domain: { nodes: 18, link: nvlink5 },
    scaleOut: nic400PerGpu,
    host: { memory: gigabytes(2 * 480), bandwidth: c2cPerGpu, source: 'GB200 NVL72 datasheet: 480 GB LPDDR5X per Grace (17 TB over 36), a tray of 2 Grace and 4 GPUs, each Grace joined to its 2 GPUs by NVLink-C2C' },
    source:
      'NVIDIA GB200 NVL72 datasheet: 18 compute trays of 2 GB200 superchips (4 GPUs) on one NVLink 5 domain of 72 GPUs (1.8 TB/s bidirectional per GPU, NVLink SHARP); 400 Gb/s per GPU to the network',
  },
  'hgx-b300': {
    name: 'HGX B300',
    device: devices.b300,
    devicesPerNode: 8,
    scaleUp: nvlink5,
    scaleOut: nic800PerGpu,
    host: { memory: terabytes(2), bandwidth: pcie5, source: 'ASSUMPTION: 2 TB as a DGX B200; PCIe Gen5 x16 per GPU' },
    source: 'NVIDIA HGX B300 specifications: 8 Blackwell Ultra GPUs on NVLink 5 (1.8 TB/s bidirectional per GPU, NVLink SHARP), 8x ConnectX-8 SuperNIC 800 Gb/s for compute',
  },
  'gb300-nvl72': {
    name: 'GB300 NVL72',
    device: devices.gb300,
    devicesPerNode: 4,
    scaleUp: nvlink5,
    domain: { nodes: 18, link: nvlink5 },
    scaleOut: nic800PerGpu,
    host: { memory: gigabytes(2 * 480), bandwidth: c2cPerGpu, source: 'GB300 NVL72 datasheet: up to 17 TB LPDDR5X over 36 Grace CPUs (480 GB each), a tray of 2 Grace and 4 GPUs, each Grace joined to its 2 GPUs by NVLink-C2C' },
    source:
      'NVIDIA GB300 NVL72 datasheet: 18 compute trays of 4 Blackwell Ultra GPUs on one NVLink 5 domain of 72 GPUs (1.8 TB/s bidirectional per GPU, 130 TB/s in all, NVLink SHARP); 72 ConnectX-8 SuperNICs, 800 Gb/s per GPU',
  },
  'dgx-a100-40gb': {
    name: 'DGX A100 (40GB)',
    device: devices['a100-40gb'],
    devicesPerNode: 8,
    scaleUp: { bandwidth: gigabytesPerSecond(300), latency: latencies.nvlink, inNetworkReduction: false },
    scaleOut: nic200PerGpu,
    host: { memory: terabytes(1), bandwidth: pcie4PerSwitchPair, source: `DGX A100 datasheet (320 GB system): 1 TB system memory; ${dgxA100HostLink}` },
    source: 'NVIDIA DGX A100 datasheet: NVLink 3 600 GB/s bidirectional per GPU via NVSwitch gen 2 (no in-switch reduction), 8x ConnectX-6 HDR 200 Gb/s',
  },
  'dgx-a100-80gb': {
    name: 'DGX A100 (80GB)',
    device: devices['a100-80gb'],
    devicesPerNode: 8,
    scaleUp: { bandwidth: gigabytesPerSecond(300), latency: latencies.nvlink, inNetworkReduction: false },
    scaleOut: nic200PerGpu,
    host: { memory: terabytes(2), bandwidth: pcie4PerSwitchPair, source: `DGX A100 datasheet (640 GB system): 2 TB system memory; ${dgxA100HostLink}` },
    source: 'NVIDIA DGX A100 datasheet: NVLink 3 600 GB/s bidirectional per GPU via NVSwitch gen 2 (no in-switch reduction), 8x ConnectX-6 HDR 200 Gb/s',
  },
  'mi300x-8': {
    name: 'MI300X platform (8x OAM)',
    device: devices.mi300x,
    devicesPerNode: 8,
    scaleUp: { bandwidth: gigabytesPerSecond(7 * 64), peerBandwidth: gigabytesPerSecond(64), latency: latencies.infinityFabric, inNetworkReduction: false },
    scaleOut: nic400PerGpu,
    host: { memory: terabytes(2), bandwidth: pcie5, source: 'ASSUMPTION: 2 TB of host memory; MI300X on PCIe Gen5 x16 (AMD data sheet)' },
    source:
      'AMD Instinct MI300X platform data sheet: full mesh of Infinity Fabric, 7 links per GPU x 128 GB/s bidirectional = 448 GB/s per direction in aggregate (only 64 GB/s to any one peer), no switch. ASSUMPTION: one 400 Gb/s NIC per GPU',
  },
  'mi325x-8': {
    name: 'MI325X platform (8x OAM)',
    device: devices.mi325x,
    devicesPerNode: 8,
    scaleUp: { bandwidth: gigabytesPerSecond(7 * 64), peerBandwidth: gigabytesPerSecond(64), latency: latencies.infinityFabric, inNetworkReduction: false },
    scaleOut: nic400PerGpu,
    host: { memory: terabytes(2), bandwidth: pcie5, source: 'ASSUMPTION: 2 TB of host memory; MI325X on PCIe Gen5 x16 (AMD data sheet)' },
    source:
      'AMD Instinct MI325X platform data sheet: the MI300X platform\'s full mesh of Infinity Fabric, 7 links per GPU x 128 GB/s bidirectional = 448 GB/s per direction in aggregate, no switch. ASSUMPTION: one 400 Gb/s NIC per GPU',
  },
  'mi355x-8': {
    name: 'MI355X platform (8x OAM)',
    device: devices.mi355x,
    devicesPerNode: 8,
    scaleUp: { bandwidth: gigabytesPerSecond(7 * 76.8), peerBandwidth: gigabytesPerSecond(76.8), latency: latencies.infinityFabric, inNetworkReduction: false },
    scaleOut: nic400PerGpu,
    host: { memory: terabytes(2), bandwidth: pcie5, source: 'ASSUMPTION: 2 TB of host memory; MI355X on PCIe Gen5 x16 (AMD data sheet)' },
    source:
      'AMD Instinct MI355X data sheet: full mesh of Infinity Fabric, 7 links per GPU x 153.6 GB/s bidirectional (1075 GB/s in aggregate) = 537.6 GB/s per direction, no switch. ASSUMPTION: one 400 Gb/s NIC per GPU (AMD Pollara 400 class)',
  },
  'l40s-8': {
    name: 'L40S server (8x PCIe)',
    device: devices.l40s,
    devicesPerNode: 8,
    scaleUp: { bandwidth: gigabytesPerSecond(32), latency: latencies.pcie, inNetworkReduction: false },
    scaleOut: { bandwidth: gigabitsPerSecond(100), latency: latencies.network, inNetworkReduction: false },
    host: { memory: terabytes(1), bandwidth: pcie4, source: 'ASSUMPTION: 1 TB of host memory; L40S on PCIe Gen4 x16 (datasheet)' },
    source:
      'NVIDIA L40S datasheet: no NVLink, PCIe Gen4 x16 64 GB/s bidirectional = 32 GB/s per direction. ASSUMPTIONS: peer traffic at full x16 rate (a shared switch or a socket crossing lowers it); 100 Gb/s (12.5 GB/s) of network per GPU',
  },
  reference: {
    name: 'Reference node (8x 64GB / 400 TFLOPS)',
    device: devices.reference,
    devicesPerNode: 8,
    scaleUp: { bandwidth: gigabytesPerSecond(196), latency: latencies.scaleUpFabric, inNetworkReduction: false },
    scaleOut: { bandwidth: gigabitsPerSecond(200), latency: latencies.network, inNetworkReduction: false },
    source:
      'Hand-written reference plan: 8 devices per node. ASSUMPTIONS, not given by the plan (Ascend-910B-class node): scale-up 196 GB/s per direction, no in-switch reduction; 200 Gb/s (25 GB/s) of network per device. Override them in a cluster file',
  },
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const isCount = (n: number): boolean => Number.isSafeInteger(n) && n >= 1

const tooLarge = (devicesTotal: number): TopologyError => ({
  code: 'too-large',
  devices: devicesTotal,
  limit: physical.devices.max,
  message: `a cluster of ${devicesTotal.toLocaleString('en-US')} devices is beyond the limit of ${physical.devices.max.toLocaleString('en-US')} (${physical.devices.why})`,
})

const notACount = (field: 'nodes' | 'gpus' | 'devicesPerNode' | 'domain.nodes', value: number): TopologyError => ({
  code: 'not-a-count',
  field,
  value,
  message: `${field} must be a whole number of at least 1 (and below 2^53), got ${value}`,
})

const notAMultiple = (field: 'nodes' | 'gpus', value: number, multipleOf: number, unit: string): TopologyError => {
  const below = Math.floor(value / multipleOf) * multipleOf
  const nearest = below === 0 ? [multipleOf] : [below, below + multipleOf]
  return {
    code: 'not-a-multiple',
    field,
    value,
    multipleOf,
    nearest,
    message: `${field} must be a multiple of ${multipleOf} (${unit}) when above ${multipleOf}, got ${value}`,
    suggestion: `use ${nearest.join(' or ')} ${field}`,
  }
}

const unknownPreset = (kind: 'device' | 'system', name: string, known: ReadonlyArray<string>): TopologyError => {
  const suggestion = closestName(known)(name)
  const hint = O.isSome(suggestion) ? ` (did you mean "${suggestion.value}"?)` : ''
  const message = `unknown ${kind} preset "${name}"${hint}; known: ${known.join(', ')}`
  return O.isSome(suggestion)
    ? { code: 'unknown-preset', kind, name, known, message, suggestion: suggestion.value }
    : { code: 'unknown-preset', kind, name, known, message }
}

/** Whether `name` is a device preset name. */
export const isDeviceName = (name: unknown): name is DeviceName =>
  typeof name === 'string' && (deviceNames as ReadonlyArray<string>).includes(name)

/** Whether `name` is a system preset name. */
export const isSystemName = (name: unknown): name is SystemName =>
  typeof name === 'string' && (systemNames as ReadonlyArray<string>).includes(name)

/** The device preset called `name`, or an error suggesting the closest name. */
export const devicePreset = (name: string): E.Either<TopologyError, Device> =>
  isDeviceName(name) ? E.right(devices[name]) : E.left(unknownPreset('device', name, deviceNames))

/** The system preset called `name`, or an error suggesting the closest name. */
export const systemPreset = (name: string): E.Either<TopologyError, System> =>
  isSystemName(name) ? E.right(systems[name]) : E.left(unknownPreset('system', name, systemNames))

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

/**
 * A cluster of `nodes` nodes of `system`. Tiers, innermost first: `node` (scale-up,
 * fanout devices per node); for a system with multi-node domains, `domain`
 * (scale-up, fanout min(nodes per domain, nodes)); `network` (scale-out, fanout the
 * number of nodes, or of domains). Above one domain, `nodes` must fill whole domains.
 */
export const clusterOf = (system: SystemName | System, nodes: number, name?: string): E.Either<TopologyError, Cluster> => {
  if (typeof system === 'string') {
    const preset = systemPreset(system)
    return E.isLeft(preset) ? preset : clusterOf(preset.right, nodes, name)
  }
  if (!isCount(system.devicesPerNode)) return E.left(notACount('devicesPerNode', system.devicesPerNode))
  if (!isCount(nodes)) return E.left(notACount('nodes', nodes))
  const devicesTotal = nodes * system.devicesPerNode
  if (!(Number.isSafeInteger(devicesTotal) && devicesTotal <= physical.devices.max)) return E.left(tooLarge(devicesTotal))
  const tiers: Tier[] = [{ name: 'node', kind: 'scale-up', fanout: system.devicesPerNode, link: system.scaleUp }]
  let networkFanout = nodes
  if (system.domain !== undefined) {
    const perDomain = system.domain.nodes
    if (!isCount(perDomain)) return E.left(notACount('domain.nodes', perDomain))
    if (nodes > perDomain && nodes % perDomain !== 0) return E.left(notAMultiple('nodes', nodes, perDomain, 'nodes per scale-up domain'))
    tiers.push({ name: 'domain', kind: 'scale-up', fanout: Math.min(perDomain, nodes), link: system.domain.link })
    networkFanout = nodes > perDomain ? nodes / perDomain : 1
  }
  tiers.push({ name: 'network', kind: 'scale-out', fanout: networkFanout, link: system.scaleOut })
  return E.right({
    name: name ?? `${system.name} (${plural(nodes, 'node')}, ${plural(devicesTotal, 'device')})`,
    device: system.device,
    tiers,
    ...(system.host === undefined ? {} : { host: { memory: bytes(system.host.memory / system.devicesPerNode), bandwidth: system.host.bandwidth, source: system.host.source } }),
  })
}

/**
 * A cluster of `gpus` devices of `system`: whole nodes when `gpus` is at least a node's
 * worth (then it must be a multiple of devices per node, and above one multi-node
 * domain a multiple of the domain's devices), else one partial node.
 */
export const clusterForGpus = (system: SystemName | System, gpus: number, name?: string): E.Either<TopologyError, Cluster> => {
  if (typeof system === 'string') {
    const preset = systemPreset(system)
    return E.isLeft(preset) ? preset : clusterForGpus(preset.right, gpus, name)
  }
  if (!isCount(gpus)) return E.left(notACount('gpus', gpus))
  const perNode = system.devicesPerNode
  if (!isCount(perNode)) return E.left(notACount('devicesPerNode', perNode))
  if (gpus < perNode) {
    return clusterOf({ ...system, devicesPerNode: gpus }, 1, name ?? `${system.name} (1 partial node, ${plural(gpus, 'device')})`)
  }
  if (gpus % perNode !== 0) return E.left(notAMultiple('gpus', gpus, perNode, 'devices per node'))
  if (system.domain !== undefined && isCount(system.domain.nodes)) {
    const perDomain = perNode * system.domain.nodes
    if (gpus > perDomain && gpus % perDomain !== 0) return E.left(notAMultiple('gpus', gpus, perDomain, 'devices per scale-up domain'))
  }
  return clusterOf(system, gpus / perNode, name)
}

/**
 * `clusterOf` for values known to be valid (documentation, tests, presets with whole
 * domains). Throws an `Error` carrying the message of the `TopologyError` otherwise;
 * anything built from user input should go through `clusterOf` instead.
 */
export const unsafeClusterOf = (system: SystemName | System, nodes: number, name?: string): Cluster => {
  const result = clusterOf(system, nodes, name)
  if (E.isLeft(result)) throw new Error(result.left.message)
  return result.right
}
