// Shared by the end-to-end tests: spawn the built `meshplan` binary as a user would, and write temporary input files.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

const binary = path.join(__dirname, '..', 'dist', 'main.js')

export const meshplan = (...args: string[]) => {
  const r = spawnSync(process.execPath, [binary, ...args], { encoding: 'utf8' })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

export const tempFile = (name: string, text: string): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplan-'))
  const file = path.join(dir, name)
  fs.writeFileSync(file, text)
  return file
}
