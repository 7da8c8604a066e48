/**
 * `--svg FILE` and `--plot LIST`: a command's plots written as one SVG file, its panels
 * stacked top to bottom. The plots are @meshplan/plots' (which also renders them); this
 * module only picks them, writes the file and says so on stderr (stdout keeps the
 * command's own output, so `--json` stays one JSON document).
 *
 * The convention: each command has its plots, and `--svg` draws all that apply, a note on
 * stderr for each that cannot be drawn for this answer (the schedule of a ZB-H1 step);
 * `--plot` names the ones to draw, and one that cannot be drawn is then an error.
 *   plan:                 pareto, then the chosen plan's breakdown, memory, roofline
 *   estimate:             breakdown, memory, roofline
 *   estimate --train:     breakdown, memory, schedule, roofline
 *   check (serving plan): breakdown, memory, roofline of the plan, pareto of the search with the plan marked
 *   check (training plan): breakdown, memory, schedule, roofline of the plan
 */
import * as fs from 'node:fs'
import * as E from 'fp-ts/Either'
import { choose, figure, toSvg, type Plots } from '@meshplan/plots'
import type { FlagName, Flags } from './flags'
import { failureText } from './inputs'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

type Output = { readonly code: number; readonly stdout: string; readonly stderr: string }

/** The flags of plotting. */
export const plotFlags: ReadonlyArray<FlagName> = ['svg', 'plot']

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** `--plot` without `--svg`: the error, if any. */
export const plotFlagProblems = (flags: Flags): ReadonlyArray<string> => (flags.plot !== undefined && flags.svg === undefined ? ['--plot: applies with --svg FILE (the file the plots are written to)'] : [])

/** Notes beside an answer (not a failure): every line, each after `meshplan command: `. */
const lines = (command: string, messages: ReadonlyArray<string>): string => messages.map((m) => `meshplan ${command}: ${m}`).join('\n')

/**
 * `out` with `plots` drawn into the `--svg` file, when one is asked for and the command
 * gave an answer (exit 0 or 1): the file written and a line on stderr saying what it
 * holds, or exit 2 and why not (a plot asked for that cannot be drawn, a file that cannot
 * be written).
 */
export const withPlots = async (command: string, flags: Flags, out: Output, title: string, plots: () => Plots): Promise<Output> => {
  if (flags.svg === undefined || out.code > 1) return out
  const chosen = choose(plots(), flags.plot)
  if (E.isLeft(chosen)) {
    // asked by name: an error; by default, an answer with nothing to draw (a search that found nothing) keeps its exit code
    if (flags.plot !== undefined || out.code === 0) return { code: 2, stdout: '', stderr: failureText(command, chosen.left.map((m) => `--svg: ${m}`)) }
    return { ...out, stderr: [out.stderr, lines(command, [`--svg: ${flags.svg} not written: nothing to draw`, ...chosen.left.map((m) => `not drawn: ${m}`)])].filter((x) => x !== '').join('\n') }
  }
  let svg: string
  try {
    svg = await toSvg(figure(title, chosen.right.plots))
  } catch (error) {
    return { code: 70, stdout: '', stderr: `meshplan: internal error (a bug; please report it with the command line): rendering the plots: ${error instanceof Error ? error.message : String(error)}` }
  }
  try {
    fs.writeFileSync(flags.svg, svg)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return { code: 2, stdout: '', stderr: failureText(command, [`--svg: cannot write ${flags.svg}: ${code === 'ENOENT' ? 'no such folder' : code === 'EISDIR' ? 'a folder' : (code ?? String(error))}`]) }
  }
  const note = [
    `wrote ${flags.svg}: ${chosen.right.plots.map((p) => p.name).join(', ')}`,
    ...chosen.right.notes.map((n) => `not drawn: ${n}`),
  ]
  return { ...out, stderr: [out.stderr, lines(command, note)].filter((s) => s !== '').join('\n') }
}
