#!/usr/bin/env node
/**
 * `meshplan`: the command line over the meshplan packages. Thin by design: it parses
 * flags, resolves presets and files, calls the packages and prints. Exit codes: 0 the
 * strategy is valid (`example`: whenever it runs), 1 it breaks a law, 2 the input is
 * invalid.
 */
import * as E from 'fp-ts/Either'
import { parseArgs } from 'node:util'
import { defaultOrder, parseOrder } from '@meshplan/parallelism'
import { claimLines, exampleArguments } from './example'
import { positiveFlag, resolveCluster, resolveModel, strategyFromFlags } from './inputs'
import { layoutReport, renderLayout } from './layout-report'

const usage = `meshplan: plan parallel strategies for LLMs on GPU clusters

usage:
  meshplan layout [options]    validate a strategy and show its process groups and what each GPU holds
  meshplan example [--json]    the built-in example: the EP64 x TP2 reference plan, laid out and checked

layout options:
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

exit codes: 0 valid (example: always, when it runs), 1 a law fails, 2 invalid input`

type Output = { readonly code: number; readonly stdout: string; readonly stderr: string }

const run = (argv: ReadonlyArray<string>): Output => {
  const [command, ...rest] = argv
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    return { code: command === undefined ? 2 : 0, stdout: command === undefined ? '' : usage, stderr: command === undefined ? usage : '' }
  }
  if (command !== 'layout' && command !== 'example') {
    return { code: 2, stdout: '', stderr: `meshplan: unknown command "${command}"; commands: layout, example (meshplan --help)` }
  }
  let parsed: ReturnType<typeof parseLayoutFlags>
  try {
    parsed = parseLayoutFlags(command === 'example' ? [...exampleArguments, ...rest] : rest)
  } catch (error) {
    return { code: 2, stdout: '', stderr: `meshplan ${command}: ${(error as Error).message} (meshplan --help)` }
  }
  const flags = parsed.values
  if (flags.help === true) return { code: 0, stdout: usage, stderr: '' }
  if (parsed.positionals.length > 0) return { code: 2, stdout: '', stderr: `meshplan ${command}: unexpected argument "${parsed.positionals[0]}"` }

  const nodes = positiveFlag('nodes', flags.nodes)
  const gpus = positiveFlag('gpus', flags.gpus)
  const order = flags.order === undefined ? E.right(defaultOrder) : E.mapLeft((e: { message: string }) => e.message)(parseOrder(flags.order))
  const strategy = strategyFromFlags(flags)
  const model = resolveModel(flags.model ?? 'reference-moe')
  const cluster = E.isLeft(nodes) ? nodes : resolveCluster(flags.cluster ?? 'reference', nodes.right ?? (flags.cluster === undefined ? 16 : undefined))
  const errors = [nodes, gpus, order, strategy, model, cluster].flatMap((r) => (E.isLeft(r) ? [r.left] : []))
  if (errors.length > 0 || E.isLeft(gpus) || E.isLeft(order) || E.isLeft(strategy) || E.isLeft(model) || E.isLeft(cluster)) {
    return { code: 2, stdout: '', stderr: [...new Set(errors)].map((e) => `meshplan ${command}: ${e}`).join('\n') }
  }
  const report = layoutReport(model.right, cluster.right, strategy.right, order.right, gpus.right)
  const claims = command === 'example' ? claimLines(report) : []
  // the example demonstrates an audit and succeeds whatever the claims' verdicts; `layout` exits 1 on a broken law
  const code = command === 'example' || report.valid ? 0 : 1
  if (flags.json === true) {
    const json = command === 'example' ? { ...report, claims: claims.slice(2).map((l) => l.trim()) } : report
    return { code, stdout: JSON.stringify(json, null, 2), stderr: '' }
  }
  return { code, stdout: [renderLayout(report, model.right), ...claims].join('\n'), stderr: '' }
}

const parseLayoutFlags = (args: ReadonlyArray<string>) =>
  parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      model: { type: 'string' },
      cluster: { type: 'string' },
      nodes: { type: 'string' },
      gpus: { type: 'string' },
      tp: { type: 'string' },
      pp: { type: 'string' },
      dp: { type: 'string' },
      cp: { type: 'string' },
      ep: { type: 'string' },
      etp: { type: 'string' },
      vp: { type: 'string' },
      sp: { type: 'boolean' },
      order: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })

export { run }

if (require.main === module) {
  const output = run(process.argv.slice(2))
  if (output.stdout !== '') process.stdout.write(`${output.stdout}\n`)
  if (output.stderr !== '') process.stderr.write(`${output.stderr}\n`)
  process.exitCode = output.code
}
