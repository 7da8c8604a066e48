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

/** The issues of `file`, one line each (a failure shows the first few: {@link errorLines}). */
export const issuesMessage =
  (file: string) =>
  (issues: ReadonlyArray<DecodeIssue>): InputError =>
    issues.map((issue) => `${file}: ${describeIssue(issue)}`).join('\n')

/** Lines an error message may take: the first problems found, then how many more there are. */
export const ERROR_LINES = 3

/** JSON paths a failure's last line names at most, beyond the problems it shows whole. */
export const ERROR_PATHS = 8

/** The JSON path a problem names (`cases[0].hardware.gpu`, `plan.workload.input_tokens`): its first `: `-separated part with a `.` or `[i]` in it that is not a file's name. */
const pathOf = (line: string): string | undefined => line.split(': ').find((part) => /^[\w$-]+(?:\[\d+\]|\.[\w$-]+)+$/.test(part) && !/\.(?:json|ya?ml)$/i.test(part))

/**
 * The lines of a failure: at most {@link ERROR_LINES}. When the problems do not fit, the
 * first ones are shown whole and the last line counts the rest and names their JSON
 * paths (at most {@link ERROR_PATHS}), so that a file with many problems still fails in a
 * few lines that name every field to fix.
 */
export const errorLines = (messages: ReadonlyArray<string> | string): ReadonlyArray<string> => {
  const lines = (typeof messages === 'string' ? [messages] : messages).flatMap((m) => m.split('\n')).filter((m) => m !== '')
  if (lines.length <= ERROR_LINES) return lines
  const shown = lines.slice(0, ERROR_LINES - 1)
  const rest = lines.slice(ERROR_LINES - 1)
  const paths = [...new Set(rest.map(pathOf).filter((p): p is string => p !== undefined))]
  const named = paths.length === 0 ? '' : `: ${paths.slice(0, ERROR_PATHS).join(', ')}${paths.length > ERROR_PATHS ? ` and ${paths.length - ERROR_PATHS} more fields` : ''}`
  return [...shown, `and ${rest.length} more problems${named}`]
}

/** What a failed `meshplan command` prints on stderr: its {@link errorLines}, each after `meshplan command: `. */
export const failureText = (command: string, messages: ReadonlyArray<string> | string): string =>
  errorLines(messages)
    .map((m) => `meshplan ${command}: ${m}`)
    .join('\n')

/** An estimate's refusal as lines: each broken law with its suggestion, or else its message. */
export const strategyProblems = (e: { readonly message: string; readonly violations?: ReadonlyArray<{ readonly message: string; readonly suggestion: string }> }): ReadonlyArray<string> =>
  e.violations?.map((v) => `${v.message} (${v.suggestion})`) ?? [e.message]

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
