/**
 * Resolving what the user named on the command line (a preset name or a file) into
 * domain values. Every failure is a message for stderr; nothing here throws.
 */
import * as fs from 'node:fs'
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import { fromHuggingFace, modelPreset, type Architecture } from '@meshplan/model'
import { clusterOf, readClusterFile, type Cluster } from '@meshplan/topology'
import { describeIssue, parseDocument, type DecodeIssue } from '@meshplan/units'
import { defaultCostModels, type CostModels } from '@meshplan/cost-models'
import { decodeCalibration, withCalibration, type ParameterValues } from '@meshplan/planner'
import { hubConfigPath, isHubId } from './hub'

/** A message for the user; the command exits 2. */
export type InputError = string

const looksLikeFile = (name: string): boolean => /\.(json|ya?ml)$/i.test(name) || name.includes('/')

/** The text of `file`, or why it cannot be read. */
export const readText = (file: string): E.Either<InputError, string> => {
  try {
    return E.right(fs.readFileSync(file, 'utf8'))
  } catch (error) {
    return E.left(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
  }
}

/** At most this many issues of a file are printed, then how many more there are. */
export const issuesShown = 10

/** The issues of `file`, one line each (at most {@link issuesShown}, then how many more). */
export const issuesMessage =
  (file: string) =>
  (issues: ReadonlyArray<DecodeIssue>): InputError =>
    [
      ...issues.slice(0, issuesShown).map((issue) => `${file}: ${describeIssue(issue)}`),
      ...(issues.length > issuesShown ? [`${file}: ... and ${issues.length - issuesShown} more problems`] : []),
    ].join('\n')

/** The architecture of the Hugging Face config.json at `file`, named `label` in errors and as the model's name. */
const configAt = (file: string, label: string): E.Either<InputError, Architecture> =>
  pipe(
    readText(file),
    E.chain((text) => pipe(parseDocument(text, file), E.mapLeft((e) => e.message))),
    E.chain((config) => pipe(fromHuggingFace(config, label), E.mapLeft(issuesMessage(label)))),
  )

/**
 * A model preset name, the path of a Hugging Face config.json, or a Hub id (`org/name`)
 * that is no file here: its config.json from the local Hugging Face cache (`hub.ts`).
 */
export const resolveModel = (name: string): E.Either<InputError, Architecture> => {
  if (isHubId(name) && !fs.existsSync(name)) {
    return pipe(
      hubConfigPath(name),
      E.chain((file) => configAt(file, name)),
    )
  }
  return looksLikeFile(name)
    ? configAt(name, name)
    : pipe(
        modelPreset(name),
        E.mapLeft((e) => e.message),
      )
}

/** A system preset name with a node count, or the path of a cluster file (JSON or YAML). */
export const resolveCluster = (name: string, nodes: number | undefined): E.Either<InputError, Cluster> =>
  looksLikeFile(name)
    ? nodes !== undefined
      ? E.left(`--nodes: applies to a system preset; the cluster file ${name} gives its own nodes`)
      : pipe(
        readText(name),
          E.chain((text) => pipe(readClusterFile(text, name), E.mapLeft(issuesMessage(name)))),
        )
    : pipe(
        clusterOf(name as never, nodes ?? 1),
        E.mapLeft((e) => e.message),
      )

/**
 * The cost models a command runs with: the defaults, or with `--calibration FILE` the
 * defaults with that calibration's parameters (`meshplan-calibration/1`; every bad field
 * named with its path).
 */
export const resolveModels = (file: string | undefined): E.Either<InputError, { readonly models: CostModels; readonly parameters: ParameterValues }> =>
  file === undefined
    ? E.right({ models: defaultCostModels, parameters: {} })
    : pipe(
        readText(file),
        E.chain((text) => pipe(parseDocument(text, file), E.mapLeft((e) => e.message))),
        E.chain((doc) => pipe(decodeCalibration(doc), E.mapLeft(issuesMessage(file)))),
        E.map((calibration) => ({ models: withCalibration(defaultCostModels, calibration), parameters: calibration.parameters })),
      )

/** Writes `text` to `file`, or says why it cannot. */
export const writeText = (file: string, text: string): E.Either<InputError, void> => {
  try {
    fs.writeFileSync(file, text)
    return E.right(undefined)
  } catch (error) {
    return E.left(`cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
  }
}
