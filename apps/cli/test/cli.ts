// Shared by the command's tests: run `meshplan` in-process (the same `run` the binary calls), spawn the built
// binary for the few end-to-end checks, and write temporary input files.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Output } from '../src/commands'
import { run } from '../src/program'

/** `meshplan ...args` in this process: what it would print and its exit code. */
export const meshplan = (...args: string[]): Promise<Output> => run(args)

const binary = path.join(__dirname, '..', 'bin', 'meshplan.js')

/** `meshplan ...args` as a user runs it: the committed bin in a new node process. */
export const spawnMeshplan = (...args: string[]): { code: number | null; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [binary, ...args], { encoding: 'utf8' })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** One temporary folder per test process, removed when it exits. */
let folder: string | undefined
const temporary = (): string => {
  if (folder === undefined) {
    const made = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplan-test-'))
    process.on('exit', () => fs.rmSync(made, { recursive: true, force: true }))
    folder = made
  }
  return folder
}

/** A file of `text` in a fresh subfolder of this process's temporary folder. */
export const tempFile = (name: string, text: string): string => {
  const dir = fs.mkdtempSync(path.join(temporary(), 'f-'))
  const file = path.join(dir, name)
  fs.writeFileSync(file, text)
  return file
}
