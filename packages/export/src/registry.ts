/**
 * The engines an export knows, one entry per release of each engine's table, newest
 * first: `findEngine` picks one by name and, optionally, version. Adding a release is
 * adding a row to the engine's table (`vllmReleases`, ...); it shows here by itself.
 *
 * @example
 * import { findEngine, engineNames } from '@meshplan/export'
 * engineNames                        // ['vllm', 'sglang', 'trtllm', 'megatron', 'torchtitan']
 * findEngine('vllm')                 // right(vLLM 0.12.0)
 * findEngine('vllm', '0.3.0')        // left('vllm 0.3.0: no such release in the table; it has 0.12.0')
 */
import * as E from 'fp-ts/Either'
import { sglangEngine, sglangReleases } from './serving/sglang'
import { trtllmEngine, trtllmReleases } from './serving/trtllm'
import { vllmEngine, vllmReleases } from './serving/vllm'
import type { ServingEngine } from './serving/export'
import { megatronEngine, megatronReleases } from './training/megatron'
import { torchtitanEngine, torchtitanReleases } from './training/torchtitan'
import type { TrainingEngine } from './training/export'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export type Engine = ServingEngine | TrainingEngine

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

/** Every serving engine release of the tables, each engine's newest first. */
export const servingEngines: ReadonlyArray<ServingEngine> = [...vllmReleases.map(vllmEngine), ...sglangReleases.map(sglangEngine), ...trtllmReleases.map(trtllmEngine)]

/** Every training engine release of the tables, each engine's newest first. */
export const trainingEngines: ReadonlyArray<TrainingEngine> = [...megatronReleases.map(megatronEngine), ...torchtitanReleases.map(torchtitanEngine)]

export const engines: ReadonlyArray<Engine> = [...servingEngines, ...trainingEngines]

/** The engines' names, serving first. */
export const engineNames: ReadonlyArray<string> = [...new Set(engines.map((e) => e.name))]

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

export const isServingEngine = (e: Engine): e is ServingEngine => e.kind === 'serving'
export const isTrainingEngine = (e: Engine): e is TrainingEngine => e.kind === 'training'

/** The releases of the engine `name` in the tables. */
export const versionsOf = (name: string): ReadonlyArray<string> => engines.filter((e) => e.name === name).map((e) => e.version)

/** The release `version` of engine `name` (default: its newest), or why there is none. */
export const findEngine = (name: string, version?: string): E.Either<string, Engine> => {
  const releases = engines.filter((e) => e.name === name)
  if (releases.length === 0) return E.left(`no engine "${name}"; expected one of ${engineNames.join(', ')}`)
  const found = version === undefined ? releases[0] : releases.find((e) => e.version === version || e.version.replace(/^v|^core_v/, '') === version.replace(/^v|^core_v/, ''))
  return found === undefined ? E.left(`${name} ${version ?? ''}: no such release in the table; it has ${releases.map((e) => e.version).join(', ')}`) : E.right(found)
}
