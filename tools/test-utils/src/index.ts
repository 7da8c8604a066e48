/**
 * README examples as tests: every README's TypeScript examples are type-checked at once
 * in one program under the repository's strict settings (`typecheckReadmes`), and each
 * package's test runs its own (`runReadmeExamples`: transpiled, run, output captured),
 * against the packages as a user installs them (imports of `@meshplan/*` resolve
 * through node_modules to the built `dist/`).
 */
import { createRequire } from 'node:module'
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as ts from 'typescript'

/** The code of every fenced block tagged `ts` or `typescript` in `markdown`, in order. */
export const typescriptBlocks = (markdown: string): ReadonlyArray<string> => {
  const blocks: string[] = []
  const fence = /^```(?:ts|typescript)\s*\n([\s\S]*?)^```/gm
  for (let match = fence.exec(markdown); match !== null; match = fence.exec(markdown)) blocks.push(match[1] ?? '')
  return blocks
}

const repositoryRoot = (from: string): string => {
  let dir = from
  while (!fs.existsSync(path.join(dir, 'tsconfig.base.json'))) {
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error(`no tsconfig.base.json above ${from}`)
    dir = parent
  }
  return dir
}

/** What running one example gave. */
export interface ExampleRun {
  /** Lines the example printed with console.log. */
  readonly output: ReadonlyArray<string>
  /** What it threw, if anything. */
  readonly error: unknown
}

/** One README example, placed as a virtual file in its package's test folder (so imports resolve as they would there). */
interface Example {
  readonly fileName: string
  readonly code: string
}

const examplesOf = (packageDir: string): ReadonlyArray<Example> =>
  typescriptBlocks(fs.readFileSync(path.join(packageDir, 'README.md'), 'utf8')).map((code, i) => ({
    fileName: path.join(packageDir, 'test', `__readme_example_${i}__.ts`),
    code,
  }))

/** Every package and app of the repository (a folder with a README.md under packages/ or apps/). */
export const workspaceDirs = (root: string): ReadonlyArray<string> =>
  ['packages', 'apps'].flatMap((group) => {
    const dir = path.join(root, group)
    if (!fs.existsSync(dir)) return []
    return fs
      .readdirSync(dir)
      .map((name) => path.join(dir, name))
      .filter((d) => fs.existsSync(path.join(d, 'README.md')) && fs.existsSync(path.join(d, 'package.json')))
  })

/**
 * Type-checks the TypeScript examples of every README under `packageDirs` in ONE
 * program, under the repository's strict settings, as files of their packages (imports
 * of `@meshplan/*` resolve through node_modules to the built `dist/` declarations).
 * Returns, per README, the diagnostics of each of its examples (empty when it compiles).
 */
export const typecheckReadmes = (packageDirs: ReadonlyArray<string>): ReadonlyMap<string, ReadonlyArray<ReadonlyArray<string>>> => {
  const first = packageDirs[0]
  if (first === undefined) return new Map()
  const root = repositoryRoot(first)
  const config = ts.readConfigFile(path.join(root, 'tsconfig.base.json'), (file) => ts.sys.readFile(file))
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root)
  const options: ts.CompilerOptions = { ...parsed.options, noEmit: true, noUnusedLocals: false, types: ['node'] }
  const examples = new Map<string, ReadonlyArray<Example>>(packageDirs.map((d) => [d, examplesOf(d)]))
  const virtual = new Map<string, string>()
  for (const list of examples.values()) for (const e of list) virtual.set(path.resolve(e.fileName), e.code)
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (name, language, onError, shouldCreate) => {
    const code = virtual.get(path.resolve(name))
    return code !== undefined ? ts.createSourceFile(name, code, language, true) : getSourceFile(name, language, onError, shouldCreate)
  }
  const fileExists = host.fileExists.bind(host)
  host.fileExists = (name) => virtual.has(path.resolve(name)) || fileExists(name)
  const readFile = host.readFile.bind(host)
  host.readFile = (name) => virtual.get(path.resolve(name)) ?? readFile(name)
  const program = ts.createProgram([...virtual.keys()], options, host)
  const out = new Map<string, ReadonlyArray<ReadonlyArray<string>>>()
  for (const [dir, list] of examples) {
    out.set(
      dir,
      list.map((e) => {
        const source = program.getSourceFile(e.fileName)
        if (source === undefined) return [`${e.fileName}: not in the program`]
        return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map((d) => {
          const where = d.start === undefined ? undefined : source.getLineAndCharacterOfPosition(d.start)
          const position = where === undefined ? '' : `${path.basename(e.fileName)}:${where.line + 1}:${where.character + 1} `
          return `${position}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
        })
      }),
    )
  }
  return out
}

/**
 * Runs `code` as CommonJS inside `packageDir` (its imports resolve as a file of that
 * package's test folder would), with console.log captured. Types are not checked here:
 * {@link typecheckReadmes} checks every README at once.
 */
export const runExample = (packageDir: string, code: string): ExampleRun => {
  const fileName = path.join(packageDir, 'test', '__readme_example__.ts')
  const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText
  const output: string[] = []
  const sandboxConsole = { ...console, log: (...args: unknown[]) => output.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')) }
  const module = { exports: {} }
  try {
    new Function('require', 'module', 'exports', 'console', js)(createRequire(fileName), module, module.exports, sandboxConsole)
    return { output, error: undefined }
  } catch (error) {
    return { output, error }
  }
}

/** Runs every TypeScript example of `packageDir/README.md`. */
export const runReadmeExamples = (packageDir: string): ReadonlyArray<ExampleRun> => examplesOf(packageDir).map((e) => runExample(packageDir, e.code))

export * from './assertions'
export * from './svg'
