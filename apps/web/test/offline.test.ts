import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cachePrefix, offlineCache, serviceWorkerFile } from '../build/offline.mts'

/** Runs the plugin's writeBundle over a folder holding `files` and returns the service worker it wrote. */
const serviceWorkerOf = (files: Readonly<Record<string, string>>): string => {
  const dir = mkdtempSync(join(tmpdir(), 'meshplan-web-dist-'))
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true })
    writeFileSync(join(dir, name), content)
  }
  const plugin = offlineCache()
  const hook = plugin.writeBundle as unknown as (options: { readonly dir: string }) => void
  hook.call({}, { dir })
  return readFileSync(join(dir, serviceWorkerFile), 'utf8')
}

const listOf = (sw: string): ReadonlyArray<string> => JSON.parse(/const FILES = (\[.*\])/.exec(sw)?.[1] ?? 'null') as ReadonlyArray<string>
const cacheOf = (sw: string): string => JSON.parse(/const CACHE = (".*")/.exec(sw)?.[1] ?? 'null') as string

describe('the offline cache', () => {
  const built = { 'index.html': '<html></html>', 'assets/index-1.js': 'a', 'assets/engine-worker-2.js': 'b', 'assets/index-3.css': 'c' }

  it('lists every built file, the page\'s folder and nothing else', () => {
    expect([...listOf(serviceWorkerOf(built))].sort()).toEqual(['./', './assets/engine-worker-2.js', './assets/index-1.js', './assets/index-3.css', './index.html'])
  })

  it('names its cache after the files: a new build, a new cache', () => {
    const first = cacheOf(serviceWorkerOf(built))
    expect(first.startsWith(cachePrefix)).toBe(true)
    expect(cacheOf(serviceWorkerOf(built))).toBe(first)
    expect(cacheOf(serviceWorkerOf({ ...built, 'assets/index-1.js': 'a changed' }))).not.toBe(first)
  })
})
