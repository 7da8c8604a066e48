/**
 * The cost models' free parameters: the few numbers of the models that a user's own
 * measurements can move, each with its default (the committed constant), the bounds
 * outside which it stops being physical, the kinds of cases it changes and, for a
 * generation's GEMM share, the generation. `withParameters` builds cost models with
 * some of them changed; `meshplan calibrate` fits them (`calibrate.ts`), `meshplan
 * estimate --json` ranks an estimate's sensitivity to them (`sensitivity.ts`).
 *
 * @example
 * import { modelParameters, withParameters } from '@meshplan/planner'
 * import { defaultCostModels } from '@meshplan/cost-models'
 * const mine = withParameters(defaultCostModels, { MEMORY_PEAK_EFFICIENCY: 0.8, SCALE_OUT_EFFICIENCY: 0.85 })
 * modelParameters.map((p) => p.name) // ['GEMM_SUSTAINED_FRACTION_AMPERE', ..., 'SCALE_OUT_EFFICIENCY']
 */
import { defaultEfficiencies, withEfficiencies } from '@meshplan/collectives'
import {
  gemmEfficiency,
  memoryEfficiency,
  withEfficiency,
  ATTENTION_PEAK_EFFICIENCY,
  GEMM_SERVING_FRACTIONS,
  GEMM_SUSTAINED_FRACTIONS,
  GROUPED_GEMM_K_FACTOR,
  KERNEL_RAMP_SECONDS,
  MEMORY_PEAK_EFFICIENCY,
  type Efficiency,
} from '@meshplan/compute'
import type { CostModels } from '@meshplan/cost-models'
import type { CaseKind } from './cases'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The names of the parameters, as the constants that hold their defaults are named. */
export const parameterNames = [
  'GEMM_SUSTAINED_FRACTION_AMPERE',
  'GEMM_SUSTAINED_FRACTION_HOPPER',
  'GEMM_SUSTAINED_FRACTION_BLACKWELL',
  'GEMM_SERVING_FRACTION_HOPPER',
  'GROUPED_GEMM_K_FACTOR',
  'KERNEL_RAMP_SECONDS',
  'MEMORY_PEAK_EFFICIENCY',
  'ATTENTION_PEAK_EFFICIENCY',
  'SCALE_UP_EFFICIENCY',
  'SCALE_OUT_EFFICIENCY',
] as const

export type ParameterName = (typeof parameterNames)[number]

/** Values for some parameters; the others keep their defaults. */
export type ParameterValues = Readonly<Partial<Record<ParameterName, number>>>

/** One free parameter of the cost models. */
export interface ModelParameter {
  readonly name: ParameterName
  /** What it is, in a few words, for reports. */
  readonly description: string
  /** Its committed value (the constant of the same name). */
  readonly value: number
  /** The physical range: a calibration never leaves it, a calibration file outside it is refused. */
  readonly bounds: readonly [number, number]
  /** The kinds of cases it changes. */
  readonly kinds: ReadonlyArray<CaseKind>
  /** The tensor-core generation whose GEMMs it scales (only cases on that generation move with it). */
  readonly generation?: 'ampere' | 'hopper' | 'blackwell'
}

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

const computeKinds: ReadonlyArray<CaseKind> = ['inference', 'training']

/**
 * The parameters. Bounds: a GEMM share of its burst ceiling from 0.4 to 1 (below 0.4 no
 * published end-to-end run on these parts has been; above 1 the ceiling itself is beaten);
 * a grouped GEMM's fixed cost per tile from 1 to 16 times a dense one's (1: no cost of
 * its own; 16 puts even a k of 4096 below half its ceiling in 16 bits); a kernel's fixed cost from 1 µs (a CUDA-graph launch) to 30 µs (an eager launch with its
 * Python around it); the share of HBM bandwidth a streaming kernel keeps from 0.6 to 0.95
 * (BabelStream-like kernels reach 0.85-0.92); the fused-attention ceiling from 0.25
 * (FlashAttention 1 on an A100) to 0.85 (above FlashAttention-3's 75%); the share of a
 * link's bandwidth a collective keeps from 0.5 to 1.
 */
export const modelParameters: ReadonlyArray<ModelParameter> = [
  { name: 'GEMM_SUSTAINED_FRACTION_AMPERE', description: "Ampere GEMMs' share of their burst ceiling", value: GEMM_SUSTAINED_FRACTIONS.ampere, bounds: [0.4, 1], kinds: computeKinds, generation: 'ampere' },
  { name: 'GEMM_SUSTAINED_FRACTION_HOPPER', description: "Hopper GEMMs' share of their burst ceiling in training", value: GEMM_SUSTAINED_FRACTIONS.hopper, bounds: [0.4, 1], kinds: ['training'], generation: 'hopper' },
  { name: 'GEMM_SUSTAINED_FRACTION_BLACKWELL', description: "Blackwell GEMMs' share of their burst ceiling", value: GEMM_SUSTAINED_FRACTIONS.blackwell, bounds: [0.4, 1], kinds: computeKinds, generation: 'blackwell' },
  { name: 'GEMM_SERVING_FRACTION_HOPPER', description: "Hopper GEMMs' share of their burst ceiling in serving passes", value: GEMM_SERVING_FRACTIONS.hopper, bounds: [0.4, 1], kinds: ['inference'], generation: 'hopper' },
  { name: 'GROUPED_GEMM_K_FACTOR', description: "a grouped (MoE) GEMM tile's fixed cost over a dense one's", value: GROUPED_GEMM_K_FACTOR, bounds: [1, 16], kinds: computeKinds },
  { name: 'KERNEL_RAMP_SECONDS', description: "a memory-bound kernel's fixed cost", value: KERNEL_RAMP_SECONDS, bounds: [1e-6, 30e-6], kinds: computeKinds },
  { name: 'MEMORY_PEAK_EFFICIENCY', description: 'the share of HBM bandwidth a streaming kernel keeps', value: MEMORY_PEAK_EFFICIENCY, bounds: [0.6, 0.95], kinds: computeKinds },
  { name: 'ATTENTION_PEAK_EFFICIENCY', description: "fused attention's share of the 16-bit peak", value: ATTENTION_PEAK_EFFICIENCY, bounds: [0.25, 0.85], kinds: computeKinds },
  { name: 'SCALE_UP_EFFICIENCY', description: "the share of NVLink bandwidth a collective's kernels keep", value: defaultEfficiencies.scaleUp, bounds: [0.5, 1], kinds: ['inference', 'training', 'collective'] },
  { name: 'SCALE_OUT_EFFICIENCY', description: "the share of a NIC's bandwidth GPU-direct RDMA keeps", value: defaultEfficiencies.scaleOut, bounds: [0.5, 1], kinds: ['inference', 'training', 'collective'] },
]

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The parameter named `name`, if there is one. */
export const parameterOf = (name: string): ModelParameter | undefined => modelParameters.find((p) => p.name === name)

/**
 * `models` with the parameters of `values` set: the GEMM and memory efficiencies rebuilt
 * from the sustained fractions, the kernel ramp and the memory ceiling (each at its value
 * in `values`, else its default), the attention efficiency scaled by the ceiling's ratio to
 * its default (a first-generation kernel a case runs keeps its place below it) and the collectives' scale-up and scale-out efficiencies patched when `values` names
 * them. A model built without any parameter named keeps its attention and collectives.
 */
export const withParameters = (models: CostModels, values: ParameterValues): CostModels => {
  const at = (name: ParameterName): number => values[name] ?? parameterOf(name)?.value ?? Number.NaN
  const hopper = at('GEMM_SUSTAINED_FRACTION_HOPPER')
  const ampere = at('GEMM_SUSTAINED_FRACTION_AMPERE')
  const blackwell = at('GEMM_SUSTAINED_FRACTION_BLACKWELL')
  const serving = at('GEMM_SERVING_FRACTION_HOPPER')
  const gemm = gemmEfficiency({
    sustainedFraction: { ampere, ada: hopper, hopper, blackwell, cdna3: hopper },
    // serving passes on Ampere and Blackwell fall back to their sustained fraction
    servingFraction: { ada: serving, hopper: serving, cdna3: serving },
    groupedKFactor: at('GROUPED_GEMM_K_FACTOR'),
  })
  const memory = memoryEfficiency({ ceiling: at('MEMORY_PEAK_EFFICIENCY'), rampSeconds: at('KERNEL_RAMP_SECONDS') })
  const patch: Partial<Efficiency> = {
    gemm,
    memory,
    ...(values.ATTENTION_PEAK_EFFICIENCY === undefined ? {} : { attention: scaled(models.compute.efficiency.attention, values.ATTENTION_PEAK_EFFICIENCY / ATTENTION_PEAK_EFFICIENCY) }),
  }
  const links = {
    ...(values.SCALE_UP_EFFICIENCY === undefined ? {} : { scaleUp: values.SCALE_UP_EFFICIENCY }),
    ...(values.SCALE_OUT_EFFICIENCY === undefined ? {} : { scaleOut: values.SCALE_OUT_EFFICIENCY }),
  }
  return {
    ...models,
    compute: withEfficiency(patch)(models.compute),
    ...(Object.keys(links).length === 0 ? {} : { collectives: withEfficiencies(links)(models.collectives) }),
  }
}

/** An attention efficiency times `factor`: a case's own kernel (a first-generation one) keeps its ratio to the fused-attention ceiling. */
const scaled =
  (attention: Efficiency['attention'], factor: number): Efficiency['attention'] =>
  (queries, keys, dtype, device) =>
    attention(queries, keys, dtype, device) * factor

/** Whether `value` is a finite number within `parameter`'s bounds. */
export const withinBounds = (parameter: ModelParameter, value: number): boolean => Number.isFinite(value) && value >= parameter.bounds[0] && value <= parameter.bounds[1]
