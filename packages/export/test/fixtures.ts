// What the tests share: clusters of the presets, deployments with the defaults filled in,
// and the plans of the repository's examples/ written out (this package reads no plan files).
import { defaultCostModels } from '@meshplan/cost-models'
import type { InferenceWorkload } from '@meshplan/inference'
import { models, precision, type Architecture, type Precision } from '@meshplan/model'
import { strategy, type Strategy } from '@meshplan/parallelism'
import { clusterOf, type Cluster, type SystemName } from '@meshplan/topology'
import type { TrainingWorkload } from '@meshplan/training'
import { rightOf } from '@meshplan/test-utils'
import { commandLine, exportServing, exportTraining, type Launch, type ServingDeployment, type ServingEngine, type TrainingDeployment, type TrainingEngine } from '../src'

export const cluster = (system: SystemName, nodes: number): Cluster => rightOf(clusterOf(system, nodes))

export const serving = (model: Architecture, c: Cluster, s: Partial<Strategy>, w: Partial<InferenceWorkload> = {}, p: Partial<Precision> = {}): ServingDeployment => ({
  model,
  cluster: c,
  strategy: strategy(s),
  precision: precision(p),
  workload: { mode: 'max_throughput', inputTokens: 1024, outputTokens: 256, ...w },
})

export const training = (model: Architecture, c: Cluster, s: Partial<Strategy>, w: Partial<TrainingWorkload> = {}, p: Partial<Precision> = {}): TrainingDeployment => ({
  model,
  cluster: c,
  strategy: strategy(s),
  precision: precision(p),
  workload: { globalBatch: 256, microBatch: 1, sequenceLength: 4096, recompute: 'none', zeroStage: 1, ...w },
})

export const exportOf = (engine: ServingEngine, d: ServingDeployment) => exportServing(defaultCostModels)(engine)(d)
export const trainOf = (engine: TrainingEngine, d: TrainingDeployment) => exportTraining(defaultCostModels)(engine)(d)

/** The reference plan of examples/reference-plan.yaml: reference-moe on the reference cluster (16 nodes of 8), TP2 DP64 EP64 ETP2, max_throughput of 1024 + 256 tokens. */
export const referencePlan = (): ServingDeployment => serving(models['reference-moe'], cluster('reference', 16), { tp: 2, dp: 64, ep: 64, etp: 2 })

/** Llama 3 405B's pre-training of examples/llama-3.1-405b-training.yaml: TP8 PP16 DP64 SP, 7 + 14 × 8 + 7 layers, 2048 sequences of 8192, ZeRO 2. */
export const llama405bTraining = (): TrainingDeployment =>
  training(
    models['llama-3.1-405b'],
    cluster('dgx-h100', 1024),
    { tp: 8, pp: 16, dp: 64, sequenceParallel: true, pipelineSplit: { firstStageLayers: 7, lastStageLayers: 7 } },
    { globalBatch: 2048, microBatch: 1, sequenceLength: 8192, recompute: 'none', zeroStage: 2 },
  )

/** The launch of an export, or a thrown error saying why there is none. */
export const launchOf = (x: { readonly launch: Launch | undefined; readonly unexported: string | undefined; readonly problems: ReadonlyArray<{ readonly message: string }> }): Launch => {
  if (x.launch === undefined) throw new Error(`no launch: ${x.unexported ?? x.problems.map((p) => p.message).join('; ')}`)
  return x.launch
}

/** Every command line of a launch, one string. */
export const linesOf = (l: Launch): ReadonlyArray<string> => l.commands.map(commandLine)

/** The words that follow `flag` in `argv` (undefined when it is absent; true for a switch). */
export const flagValue = (argv: ReadonlyArray<string>, flag: string): string | true | undefined => {
  const i = argv.indexOf(flag)
  if (i < 0) return undefined
  const next = argv[i + 1]
  return next === undefined || next.startsWith('--') ? true : next
}

export { models }
