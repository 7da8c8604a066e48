// The answers the plots are tested on, computed by the packages below (nothing here is copied from a plot).
import * as E from 'fp-ts/Either'
import { defaultCostModels } from '@meshplan/cost-models'
import { estimateInference, planInference, type InferenceEstimate, type InferenceInput, type PlanResult } from '@meshplan/inference'
import { defaultPrecision, models } from '@meshplan/model'
import { strategy } from '@meshplan/parallelism'
import { clusterOf, systems } from '@meshplan/topology'
import { estimateTraining, type TrainingEstimate, type TrainingInput } from '@meshplan/training'

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected a value: ${JSON.stringify(e.left)}`)
  return e.right
}

export const h100 = (nodes: number) => right(clusterOf(systems['dgx-h100'], nodes))

/** Llama 3.1 8B served at TP2 on one DGX H100, 32 sequences. */
export const servingInput: InferenceInput = {
  model: models['llama-3.1-8b'],
  cluster: h100(1),
  strategy: strategy({ tp: 2, dp: 4 }),
  precision: defaultPrecision,
  workload: { mode: 'static', inputTokens: 1024, outputTokens: 256, batch: 32 },
}
export const servingEstimate = (): InferenceEstimate => right(estimateInference(defaultCostModels)(servingInput))

/** The serving search for the same model on the same node, TPOT at most 30 ms. */
export const servingSearch = (): PlanResult =>
  right(planInference(defaultCostModels)({ model: servingInput.model, cluster: servingInput.cluster, precision: defaultPrecision, workload: { mode: 'static', inputTokens: 1024, outputTokens: 256 }, slo: { maxTpot: 0.03 } }))

/** Llama 3.1 8B trained on one DGX H100: tp 2 x pp 4, 16 sequences of 4096 in micro-batches of 1 (16 micro-batches). */
export const trainingInput = (over: { readonly vp?: number; readonly schedule?: 'zb-h1' | 'dualpipe'; readonly globalBatch?: number } = {}): TrainingInput => ({
  model: models['llama-3.1-8b'],
  cluster: h100(1),
  strategy: strategy({ tp: 2, pp: 4, virtualStages: over.vp ?? 1 }),
  precision: defaultPrecision,
  workload: { globalBatch: over.globalBatch ?? 16, microBatch: 1, sequenceLength: 4096, recompute: 'selective', zeroStage: 1, ...(over.schedule === undefined ? {} : { schedule: over.schedule }) },
})
export const trainingEstimate = (input: TrainingInput = trainingInput()): TrainingEstimate => right(estimateTraining(defaultCostModels)(input))
export { right }
