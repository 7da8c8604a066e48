/**
 * A worker thread of the training search: searches its slice of the strategies with
 * the default models and posts progress and its result (see `planTraining`).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { defaultCostModels } from '@meshplan/cost-models'
import { searchTrainingSlice, type SearchProgress, type TrainingSearchInput, type TrainingSpace } from './search'

interface Job {
  readonly input: TrainingSearchInput
  readonly space: TrainingSpace
  readonly slice: { readonly index: number; readonly of: number }
  readonly top: number
  readonly progress: boolean
}

const job = workerData as Job
const port = parentPort
if (port !== null) {
  const onProgress = job.progress ? (progress: SearchProgress): void => port.postMessage({ type: 'progress', progress }) : undefined
  const result = searchTrainingSlice(defaultCostModels, job.input, job.space, job.slice, job.top, onProgress)
  port.postMessage({ type: 'done', result })
}
