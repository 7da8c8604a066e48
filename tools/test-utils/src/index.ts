/**
 * Checks that a package README's TypeScript example compiles under the repository's
 * strict settings and runs, against the package as a user installs it (imports of
 * `@meshplan/*` resolve through node_modules to the built `dist/`).
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

/** What compiling and running one example gave. */
export interface ExampleRun {
  /** Type errors, formatted with line numbers of the example. */
  readonly diagnostics: ReadonlyArray<string>
  /** Lines the example printed with console.log. */
  readonly output: ReadonlyArray<string>
  /** What it threw, if anything. */
  readonly error: unknown
}

/**
 * Type-checks `code` as a file inside `packageDir` and, when it compiles, runs it as
 * CommonJS with console.log captured.
 */
export const runExample = (packageDir: string, code: string): ExampleRun => {
  const root = repositoryRoot(packageDir)
  const config = ts.readConfigFile(path.join(root, 'tsconfig.base.json'), (file) => ts.sys.readFile(file))
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root)
  const options: ts.CompilerOptions = { ...parsed.options, noEmit: true, noUnusedLocals: false, types: ['node'] }
  const fileName = path.join(packageDir, 'test', '__readme_example__.ts')
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (name, language, onError, shouldCreate) =>
    path.resolve(name) === fileName ? ts.createSourceFile(name, code, language, true) : getSourceFile(name, language, onError, shouldCreate)
  const fileExists = host.fileExists.bind(host)
  host.fileExists = (name) => path.resolve(name) === fileName || fileExists(name)
  const readFile = host.readFile.bind(host)
  host.readFile = (name) => (path.resolve(name) === fileName ? code : readFile(name))
  const program = ts.createProgram([fileName], options, host)
  const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file !== undefined && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined
    const position = where === undefined ? '' : `${path.basename(d.file?.fileName ?? '')}:${where.line + 1}:${where.character + 1} `
    return `${position}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
  })
  if (diagnostics.length > 0) return { diagnostics, output: [], error: undefined }
  const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText
  const output: string[] = []
  const sandboxConsole = { ...console, log: (...args: unknown[]) => output.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')) }
  const module = { exports: {} }
  try {
    new Function('require', 'module', 'exports', 'console', js)(createRequire(fileName), module, module.exports, sandboxConsole)
    return { diagnostics, output, error: undefined }
  } catch (error) {
    return { diagnostics, output, error }
  }
}

/** Runs every TypeScript example of `packageDir/README.md`. */
export const runReadmeExamples = (packageDir: string): ReadonlyArray<ExampleRun> =>
  typescriptBlocks(fs.readFileSync(path.join(packageDir, 'README.md'), 'utf8')).map((code) => runExample(packageDir, code))
export * from './assertions'
