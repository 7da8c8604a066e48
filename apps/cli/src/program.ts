/**
 * The command line as commander sees it: the program, its commands (`commands.ts`)
 * with their options (`flags.ts`), help and "did you mean" suggestions from commander,
 * and one way out: `run` returns what to print and the exit code instead of printing
 * or exiting, so tests call it in-process. A parse error (an unknown command or flag, a
 * missing value) exits 2 with one line; a run that throws (a bug) exits 70 with one
 * line, never a stack trace.
 *
 * @example
 * await run(['--version'])                 // { code: 0, stdout: '0.1.0', stderr: '' }
 * await run(['plan', '--nodez', '2'])      // { code: 2, stderr: 'meshplan plan: unknown option \'--nodez\' (did you mean --nodes?)' }
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Command, CommanderError, Option } from 'commander'
import * as E from 'fp-ts/Either'
import { commandSpecs, type CommandSpec, type Output } from './commands'
import { cliName, flagNames, flagSpecs, parseFlags, type FlagName } from './flags'
import { failureText } from './inputs'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The version of this package (its package.json sits above both src/ and dist/). */
export const version: string = (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { readonly version: string }).version

const overview = 'meshplan: plan parallel strategies for LLMs on GPU clusters'

const overviewAfter = `
Every command takes --help (with examples) and --json (each output names its JSON
Schema in its "schema" field; the schemas ship in this package's schemas/).

examples:
  meshplan example
  meshplan plan --model llama-3.1-70b --cluster dgx-h100 --nodes 2 --max-tpot 40ms
  meshplan estimate --model llama-2-70b --cluster dgx-h100 --tp 8 --batch 64
  meshplan check examples/reference-plan.yaml
  meshplan export --model llama-3.1-70b --cluster dgx-h100 --tp 8 --engine vllm
  meshplan validate validation/calibration.json

exit codes: 0 success, 1 a law or a claim fails (or no strategy meets the objectives), 2 invalid input`

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const optionOf = (name: FlagName): Option => {
  const spec = flagSpecs[name]
  const flag = `--${cliName(name)}`
  return new Option(spec.placeholder === undefined ? flag : `${flag} <${spec.placeholder}>`, spec.help)
}

const helpAfter = (spec: CommandSpec): string =>
  ['', spec.description, '', 'examples:', ...spec.examples.map((e) => `  ${e}`), '', `exit codes: ${spec.exitCodes}`].join('\n')

/** A fresh program whose commands store their run's output in `result`. */
const programOf = (out: string[], err: string[], result: { output?: Output | Promise<Output> }): Command => {
  const program = new Command('meshplan')
    .description(overview)
    .version(version, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s), outputError: () => undefined })
    .addHelpText('after', overviewAfter)
  for (const spec of commandSpecs) {
    const command = program.command(spec.name).description(spec.summary).helpOption('-h, --help', 'show this help').allowExcessArguments(false).addHelpText('after', helpAfter(spec))
    for (const arg of spec.arguments) command.argument(arg.required ? `<${arg.name}>` : `[${arg.name}]`, arg.help)
    for (const name of spec.flags) command.addOption(optionOf(name))
    command.action((...args: unknown[]) => {
      const self = args[args.length - 1] as Command
      const positionals = self.args
      const raw = new Map<FlagName, string | boolean>()
      for (const name of flagNames) {
        if (!spec.flags.includes(name)) continue
        const value = self.getOptionValue(name) as string | boolean | undefined
        if (value !== undefined && self.getOptionValueSource(name) === 'cli') raw.set(name, value)
      }
      const parsed = parseFlags(raw)
      result.output = E.isLeft(parsed)
        ? { code: 2, stdout: '', stderr: failureText(spec.name, parsed.left) }
        : spec.run(positionals, parsed.right)
    })
  }
  return program
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const text = (parts: ReadonlyArray<string>): string => parts.join('').trimEnd()

/** Commander's message as one line: `unknown option '--nodez' (did you mean --nodes?)`. */
const messageOf = (error: CommanderError): string =>
  error.message
    .replace(/^error: /, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => line.replace(/^\(Did you mean/, '(did you mean'))
    .join(' ')

/** Which command the arguments name (for error messages), if any. */
const commandOf = (argv: ReadonlyArray<string>): string | undefined => {
  const first = argv.find((a) => !a.startsWith('-'))
  return commandSpecs.some((c) => c.name === first) ? first : undefined
}

/** Runs `meshplan` on `argv` (the words after `meshplan`): what to print and the exit code. */
export const run = async (argv: ReadonlyArray<string>): Promise<Output> => {
  const out: string[] = []
  const err: string[] = []
  if (argv.length === 0) {
    const help = programOf(out, err, {}).helpInformation()
    return { code: 2, stdout: '', stderr: help.trimEnd() }
  }
  const result: { output?: Output | Promise<Output> } = {}
  try {
    await programOf(out, err, result).parseAsync([...argv], { from: 'user' })
    if (result.output === undefined) return { code: 0, stdout: text(out), stderr: text(err) }
    return await result.output
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
        return { code: error.code === 'commander.help' ? 2 : 0, stdout: text(out), stderr: text(err) }
      }
      const command = commandOf(argv)
      const hint = command === undefined ? '(meshplan --help)' : `(meshplan ${command} --help)`
      return { code: 2, stdout: '', stderr: `meshplan${command === undefined ? '' : ` ${command}`}: ${messageOf(error)} ${hint}` }
    }
    const message = error instanceof Error ? error.message : String(error)
    return { code: 70, stdout: '', stderr: `meshplan: internal error (a bug; please report it with the command line): ${message.split('\n')[0] ?? ''}` }
  }
}
