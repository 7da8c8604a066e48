/**
 * `meshplan`: the command line over the meshplan packages. Thin by design: it parses
 * flags, resolves presets and files, calls the packages and prints. Exit codes: 0
 * success (`example`: whenever it runs), 1 a law or a claim fails, 2 the input is
 * invalid (a message on stderr, never a stack trace). `run` does the work and returns
 * what to print; `main` prints it.
 */
import { run } from './program'

export { run, version } from './program'
export type { Output } from './commands'

/** Runs the command on `argv` (the arguments after `meshplan`), prints what it returns and sets the exit code. */
export const main = async (argv: ReadonlyArray<string>): Promise<void> => {
  const output = await run(argv)
  if (output.stdout !== '') process.stdout.write(`${output.stdout}\n`)
  if (output.stderr !== '') process.stderr.write(`${output.stderr}\n`)
  process.exitCode = output.code
}

if (require.main === module) void main(process.argv.slice(2))
