#!/usr/bin/env node
/**
 * `meshplan`: the command line over the meshplan packages. Thin by design: it parses
 * flags, resolves presets and files, calls the packages and prints. Exit codes: 0
 * success (`example`: whenever it runs), 1 a law or a claim fails, 2 the input is
 * invalid (a message on stderr, never a stack trace).
 */
import * as E from 'fp-ts/Either'
import { parseArgs } from 'node:util'
import { defaultOrder, parseOrder } from '@meshplan/parallelism'
import * as O from 'fp-ts/Option'
import { closestName } from '@meshplan/units'
import { strategyOptions } from './deployment'
import { checkCommand, dagCommand, estimateCommand, exampleCommand, planCommand, presetsCommand, validateCommand, type Output } from './commands'
import { positiveFlag, resolveCluster, resolveModel, strategyFromFlags } from './inputs'
import { layoutReport, renderLayout } from './layout-report'

const usage = `meshplan: plan parallel strategies for LLMs on GPU clusters

usage:
  meshplan plan [PLAN] [options]      search strategies and batches; rank by output tokens/s per GPU; Pareto front
  meshplan estimate [PLAN] [options]  TTFT, TPOT, tokens/s, memory and the time breakdown of one strategy
  meshplan check PLAN                 audit a plan: laws of the algebra, every claim, and the best alternative
  meshplan dag PLAN [--format F]      the deployment graph (mermaid, dot or json)
  meshplan validate FILE              predict measured cases (meshplan-cases/1) and report the errors
  meshplan presets [KIND]             models, devices and systems built in
  meshplan layout [options]           validate a strategy and show its process groups and what each GPU holds
  meshplan example [--json]           the built-in example: check of the reference EP64 x TP2 plan, then plan

Every command takes --help (with examples) and --json (a documented schema, apps/cli/README.md).

examples:
  meshplan example
  meshplan plan --model llama-3.1-70b --cluster dgx-h100 --nodes 2 --max-tpot 40
  meshplan estimate --model llama-2-70b --cluster dgx-h100 --tp 8 --batch 64
  meshplan check examples/reference-plan.yaml
  meshplan validate validation/calibration.json

exit codes: 0 success, 1 a law or a claim fails (or no strategy meets the objectives), 2 invalid input`

const layoutUsage = `meshplan layout [options]: validate a strategy and show its process groups and what each GPU holds

options:
  --model NAME|FILE     a model preset (reference-moe, llama-2-70b, deepseek-v3, ...) or a Hugging Face config.json
  --cluster NAME|FILE   a system preset (dgx-h100, gb200-nvl72, reference, ...) or a cluster file (JSON or YAML)
  --nodes N             nodes of the system preset (default 1)
  --gpus N              GPUs the strategy must use (default: all of the cluster)
  --tp --pp --dp --cp --ep --etp --vp N    degrees (default 1); --vp is virtual pipeline stages
  --sp                  sequence parallelism on
  --order ORDER         rank order, fastest first (default ${defaultOrder.join('-')})
  --json                print the report as JSON
  --help                this text

examples:
  meshplan layout --model llama-2-70b --cluster dgx-h100 --nodes 2 --tp 8 --pp 2
  meshplan layout --model deepseek-v3 --cluster hgx-h800 --nodes 4 --dp 32 --ep 32
  meshplan layout --model ./config.json --cluster ./cluster.yaml --tp 4 --dp 2

exit codes: 0 valid, 1 a law fails, 2 invalid input`

const commands: Readonly<Record<string, (args: ReadonlyArray<string>) => Output | Promise<Output>>> = {
  plan: planCommand,
  estimate: estimateCommand,
  check: checkCommand,
  dag: dagCommand,
  validate: validateCommand,
  presets: presetsCommand,
  example: exampleCommand,
}


const run = (argv: ReadonlyArray<string>): Output | Promise<Output> => {
  const [command, ...rest] = argv
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    return { code: command === undefined ? 2 : 0, stdout: command === undefined ? '' : usage, stderr: command === undefined ? usage : '' }
  }
  const handler = commands[command]
  if (handler !== undefined) return handler(rest)
  if (command !== 'layout') {
    const known = ['layout', ...Object.keys(commands)]
    const suggestion = closestName(known)(command)
    const hint = O.isSome(suggestion) ? ` (did you mean "${suggestion.value}"?)` : ''
    return { code: 2, stdout: '', stderr: `meshplan: unknown command "${command}"${hint}; commands: ${known.join(', ')} (meshplan --help)` }
  }
  let parsed: ReturnType<typeof parseLayoutFlags>
  try {
    parsed = parseLayoutFlags(rest)
  } catch (error) {
    return { code: 2, stdout: '', stderr: `meshplan layout: ${(error as Error).message} (meshplan layout --help)` }
  }
  const flags = parsed.values
  if (flags.help === true) return { code: 0, stdout: layoutUsage, stderr: '' }
  if (parsed.positionals.length > 0) return { code: 2, stdout: '', stderr: `meshplan layout: unexpected argument "${parsed.positionals[0]}"` }

  const nodes = positiveFlag('nodes', flags.nodes)
  const gpus = positiveFlag('gpus', flags.gpus)
  const order = flags.order === undefined ? E.right(defaultOrder) : E.mapLeft((e: { message: string }) => e.message)(parseOrder(flags.order))
  const strategy = strategyFromFlags(flags)
  const model = resolveModel(flags.model ?? 'reference-moe')
  const cluster = E.isLeft(nodes) ? nodes : resolveCluster(flags.cluster ?? 'reference', nodes.right ?? (flags.cluster === undefined ? 16 : undefined))
  const errors = [nodes, gpus, order, strategy, model, cluster].flatMap((r) => (E.isLeft(r) ? [r.left] : []))
  if (errors.length > 0 || E.isLeft(gpus) || E.isLeft(order) || E.isLeft(strategy) || E.isLeft(model) || E.isLeft(cluster)) {
    return { code: 2, stdout: '', stderr: [...new Set(errors)].map((e) => `meshplan layout: ${e}`).join('\n') }
  }
  const report = layoutReport(model.right, cluster.right, strategy.right, order.right, gpus.right)
  const code = report.valid ? 0 : 1
  if (flags.json === true) return { code, stdout: JSON.stringify(report, null, 2), stderr: '' }
  return { code, stdout: renderLayout(report, model.right), stderr: '' }
}

const parseLayoutFlags = (args: ReadonlyArray<string>) =>
  parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: { ...strategyOptions, gpus: { type: 'string' }, order: { type: 'string' } },
  })

export { run }

/** Runs the command on `argv` (the arguments after `meshplan`), prints what it returns and sets the exit code. */
export const main = async (argv: ReadonlyArray<string>): Promise<void> => {
  const output = await run(argv)
  if (output.stdout !== '') process.stdout.write(`${output.stdout}\n`)
  if (output.stderr !== '') process.stderr.write(`${output.stderr}\n`)
  process.exitCode = output.code
}

if (require.main === module) void main(process.argv.slice(2))
