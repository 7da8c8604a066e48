/**
 * The fast path for a planner's inner loop. `precompute` does everything that depends
 * only on (model, strategy, precision, device) once: it checks the deployment, picks
 * the compute format and its peak, and builds each operator's coefficients on the
 * per-step quantities (see {@link OperatorForm}). The time of a step is then plain
 * arithmetic over those constants — fill a preallocated vector of seven quantities,
 * and per operator a few dot products, the efficiency calls and a max — with no
 * allocation, no Either and no closure per call.
 *
 * The answers equal {@link phaseTime}'s `seconds` for the same phase (a decode step at
 * one context length for every sequence), which the tests check as a property.
 * Contract: the arguments are positive finite numbers (tokens, sequence and batch
 * integers); nothing is checked here, so check once at the boundary (`prefill`,
 * `decode`, `training` do). An efficiency function answering outside (0, 1] is clamped
 * to [1e-6, 1] here, where {@link operatorTime} reports it as an error.
 *
 * @example
 * import { precompute, decodeSeconds, prefillSeconds, defaultComputeModel } from '@meshplan/compute'
 * const step = precompute(defaultComputeModel, deployment, devices['h100-sxm'])
 * if (E.isRight(step)) {
 *   for (let batch = 1; batch <= 256; batch *= 2) decodeSeconds(step.right, batch, 4096) // no allocation
 *   prefillSeconds(step.right, 2048, 1)
 * }
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import { windowedKeys } from '@meshplan/model'
import type { Device } from '@meshplan/topology'
import type { Dtype } from '@meshplan/units'
import { checkDevice, expertRowBlockOf, peakOf, type ComputeModel } from './computeModel'
import { clampEfficiency, type Efficiency } from './efficiency'
import type { ComputeError } from './error'
import { backwardRatio, evaluate, fillQuantities, gemmK, gemmM, gemmN, isAttentionCore, isGroupedGemm, operatorForms, Quantity, recomputes, type Deployment, type OperatorForm, type OperatorForms } from './operators'
import type { Recompute } from './phase'
import { computeEfficiencyOf, computeTerm, memoryTerm } from './roofline'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What `precompute` keeps: the forms, the device's numbers and a scratch vector for the quantities. */
export interface StepConstants {
  readonly forms: OperatorForms
  readonly device: Device
  readonly efficiency: Efficiency
  readonly dtype: Dtype
  /** The device's dense peak in `dtype`, FLOP/s. */
  readonly peak: number
  /** The format and the peak of the forms marked `wide` (fp8 training's 16-bit GEMMs): `forms.wideDtype`, or `dtype` when the device has no peak in it. */
  readonly wideDtype: Dtype
  readonly widePeak: number
  /** The device's memory bandwidth, B/s. */
  readonly bandwidth: number
  /** The deployment's passes are a serving engine's ({@link Deployment}'s `serving`). */
  readonly serving: boolean
  /** The rows a grouped GEMM pads each expert's tokens to (`ComputeModel.expertRowBlock`). */
  readonly expertRowBlock: number
  /** Overwritten by every call (JavaScript runs one call at a time). */
  readonly scratch: Float64Array
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The constants of `deployment` on `device`, or why it has none (degrees that do not fit, a format the device lacks). */
export const precompute = (model: ComputeModel, deployment: Deployment, device: Device): E.Either<ComputeError, StepConstants> =>
  pipe(
    checkDevice(device),
    E.chain(() => operatorForms(model, deployment)),
    E.chain((forms) =>
      pipe(
        peakOf(device, forms.dtype),
        E.map((peak) => {
          const wide = device.peak[forms.wideDtype]
          const widePeak = wide !== undefined && Number.isFinite(wide) && wide > 0 ? wide : undefined
          return {
            forms,
            device,
            efficiency: model.efficiency,
            dtype: forms.dtype,
            peak,
            wideDtype: widePeak === undefined ? forms.dtype : forms.wideDtype,
            widePeak: widePeak ?? peak,
            bandwidth: device.memoryBandwidth,
            serving: deployment.serving === true,
            expertRowBlock: expertRowBlockOf(model),
            scratch: new Float64Array(Object.keys(Quantity).length),
          }
        }),
      ),
    ),
  )

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** Roofline seconds of one instance of `form` at the quantities in `c.scratch`. */
const instanceSeconds = (c: StepConstants, form: OperatorForm): number => {
  const q = c.scratch
  const flops = evaluate(form.flops, q)
  const bytes = evaluate(form.bytes, q)
  let compute = 0
  if (flops > 0) {
    const tokens = q[Quantity.tokens] ?? 0
    const g = form.gemm
    const grouped = isGroupedGemm(form)
    const e =
      g === undefined
        ? computeEfficiencyOf(c.efficiency, c.device, c.dtype, form.kind, 0, 0, 0, tokens, (q[Quantity.pairs] ?? 0) / tokens)
        : computeEfficiencyOf(c.efficiency, c.device, form.wide === true ? c.wideDtype : c.dtype, form.kind, gemmM(form, q), gemmN(form, q), gemmK(form, q), 0, 0, (q[g.perFrom] ?? 0) * g.copies, c.serving, grouped ? c.expertRowBlock : 1, grouped)
    compute = computeTerm(flops, form.wide === true ? c.widePeak : c.peak, clampEfficiency(e))
  }
  const memory = bytes > 0 ? memoryTerm(bytes, c.bandwidth, clampEfficiency(c.efficiency.memory(bytes, c.device))) : 0
  return compute > memory ? compute : memory
}

/** Sum over `forms` of count × instance time. */
const sumForms = (c: StepConstants, forms: ReadonlyArray<OperatorForm>): number => {
  let seconds = 0
  for (let i = 0; i < forms.length; i++) {
    const form = forms[i]
    if (form !== undefined) seconds += form.count * instanceSeconds(c, form)
  }
  return seconds
}

/** Seconds of a prefill of `tokens` tokens for each of `batch` sequences on one GPU. */
export const prefillSeconds = (c: StepConstants, tokens: number, batch: number): number => {
  fillQuantities(c.scratch, c.forms.shape, 'prefill', batch, tokens, 0)
  return sumForms(c, c.forms.prefill)
}

/**
 * Seconds of a decode step of `batch` sequences each attending to `context` keys (the new
 * token included) on one GPU; with `queries` above 1, each sequence brings that many tokens
 * (speculative decoding's verification: the draft's tokens and the one after), which pass
 * every layer and the LM head while the KV cache is read once per sequence.
 */
export const decodeSeconds = (c: StepConstants, batch: number, context: number, queries = 1): number => {
  fillQuantities(c.scratch, c.forms.shape, 'decode', batch, 0, batch * windowedKeys(context, c.forms.shape.attentionWindow), queries)
  return sumForms(c, c.forms.decode)
}

/**
 * Seconds of the forward and backward pass of `batch` sequences of `sequence` tokens on
 * one GPU: each operator 1 (forward) + 2 (backward; `FLASH_BACKWARD_RATIO` for the
 * fused attention core) times, plus 1 when `recompute` re-runs it.
 */
export const trainingSeconds = (c: StepConstants, sequence: number, batch: number, recompute: Recompute): number => {
  fillQuantities(c.scratch, c.forms.shape, 'training', batch, sequence, 0)
  const forms = c.forms.training
  let seconds = 0
  for (let i = 0; i < forms.length; i++) {
    const form = forms[i]
    if (form !== undefined) seconds += (1 + backwardRatio(form.name) + (recomputes(recompute, form) ? 1 : 0)) * form.count * instanceSeconds(c, form)
  }
  return seconds
}

/** Indices of the parts {@link trainingParts} writes. */
export const TrainingPart = {
  /** The forward of the operators every transformer layer has (norms, attention block, residual adds). */
  layer: 0,
  /** The forward of a dense MLP block (dense layers only). */
  dense: 1,
  /** The forward of an MoE block (MoE layers only). */
  moe: 2,
  /** The forward of the attention core alone (what selective recomputation re-runs); part of `layer`. */
  core: 3,
  /** The forward of the embedding lookup (the first pipeline stage). */
  first: 4,
  /** The forward of the final norm, LM head and loss (the last pipeline stage). */
  last: 5,
  /** The forward of the GEMMs alone of `layer`, `dense` and `moe`: what tensor-parallel communication can overlap with (Transformer Engine's userbuffers). */
  layerGemm: 6,
  denseGemm: 7,
  moeGemm: 8,
  /** The forward of the fused attention core alone (part of `core`): its backward costs `FLASH_BACKWARD_RATIO` times it. */
  flashCore: 9,
  count: 10,
} as const

/**
 * The forward seconds of one instance of each part of a training micro-batch of
 * `batch` sequences of `sequence` tokens, written into `out` (indexed by
 * {@link TrainingPart}). A pipeline stage of `L` layers (`Ld` dense, `Lm` MoE) then
 * takes `3·(L·layer + Ld·dense + Lm·moe + first + last) + (FLASH_BACKWARD_RATIO − 2)·L·flashCore`
 * forward and backward (the backward costs twice the forward, operator by operator, and
 * the fused attention core `FLASH_BACKWARD_RATIO` times), plus `L·core` under selective
 * recomputation or `L·layer + Ld·dense + Lm·moe` under full: exactly
 * {@link trainingSeconds} of that stage; `layerGemm`, `denseGemm` and `moeGemm` are the
 * GEMMs' share of `layer`, `dense` and `moe`. A planner keeps these per micro-batch shape and
 * composes any stage split from them without calling the compute model again. `c` must
 * hold every part: precompute it for a stage that is both first and last (pp = 1).
 */
export const trainingParts = (c: StepConstants, sequence: number, batch: number, out: Float64Array): Float64Array => {
  fillQuantities(c.scratch, c.forms.shape, 'training', batch, sequence, 0)
  out.fill(0)
  const forms = c.forms.training
  for (let i = 0; i < forms.length; i++) {
    const form = forms[i]
    if (form === undefined) continue
    const t = instanceSeconds(c, form)
    const part = !form.inLayer
      ? form.name === 'embedding'
        ? TrainingPart.first
        : TrainingPart.last
      : form.group === 'mlp'
        ? TrainingPart.dense
        : form.group === 'moe'
          ? TrainingPart.moe
          : TrainingPart.layer
    out[part] = (out[part] ?? 0) + t
    if (isAttentionCore(form.name)) out[TrainingPart.core] = (out[TrainingPart.core] ?? 0) + t
    if (form.name === 'attention') out[TrainingPart.flashCore] = (out[TrainingPart.flashCore] ?? 0) + t
    if (form.kind === 'gemm' && form.inLayer) {
      const gemmPart = part === TrainingPart.dense ? TrainingPart.denseGemm : part === TrainingPart.moe ? TrainingPart.moeGemm : TrainingPart.layerGemm
      out[gemmPart] = (out[gemmPart] ?? 0) + t
    }
  }
  return out
}
