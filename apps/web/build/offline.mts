/**
 * A Vite plugin that makes the built page work offline: once the bundle is written it
 * lists every file of the output folder and writes `sw.js`, a service worker that
 * caches them all when installed and answers every same-origin GET from that cache
 * first (a navigation with any query or hash gets `index.html`: the page's state lives
 * in its URL's hash). The cache is named after a hash of the files, so a new build
 * installs a new cache and removes the old one.
 *
 * @example
 * // vite.config.mts
 * export default defineConfig({ plugins: [offlineCache()] })
 * // dist/sw.js: const FILES = ["./", "./index.html", "./assets/index-3f2a.js", ...]
 */
import { createHash } from 'node:crypto'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import type { Plugin } from 'vite'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The service worker's file name, beside index.html. */
export const serviceWorkerFile = 'sw.js'

/** The prefix of every cache the page's service worker makes. */
export const cachePrefix = 'meshplan-web-'

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** Every file under `dir`, as paths relative to it with forward slashes, sorted. */
const filesUnder = (dir: string): ReadonlyArray<string> => {
  const out: string[] = []
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const full = join(at, entry.name)
      if (entry.isDirectory()) walk(full)
      else out.push(relative(dir, full).split(sep).join('/'))
    }
  }
  walk(dir)
  return out.sort()
}

/** The service worker's source for `files` (relative to it) under the cache `name`. */
export const serviceWorkerSource = (name: string, files: ReadonlyArray<string>): string => `// meshplan web planner: offline cache of the built page (written by build/offline.mts)
const CACHE = ${JSON.stringify(name)}
const FILES = ${JSON.stringify(['./', ...files.map((f) => `./${f}`)])}

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()))
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key.startsWith(${JSON.stringify(cachePrefix)}) && key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  )
})

const answer = async (request) => {
  const cache = await caches.open(CACHE)
  const hit = await cache.match(request, { ignoreSearch: true })
  if (hit !== undefined) return hit
  if (request.mode === 'navigate') {
    const page = await cache.match('./index.html')
    if (page !== undefined) return page
  }
  return fetch(request)
}

self.addEventListener('fetch', (event) => {
  const request = event.request
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return
  event.respondWith(answer(request))
})
`

/** The plugin: writes `sw.js` into the output folder after the bundle is written. */
export const offlineCache = (): Plugin => ({
  name: 'meshplan-offline-cache',
  apply: 'build',
  writeBundle(options) {
    const dir = options.dir
    if (dir === undefined) return
    const files = filesUnder(dir).filter((f) => f !== serviceWorkerFile)
    const hash = createHash('sha256')
    for (const f of files) hash.update(f).update(readFileSync(join(dir, f)))
    writeFileSync(join(dir, serviceWorkerFile), serviceWorkerSource(`${cachePrefix}${hash.digest('hex').slice(0, 16)}`, files))
  },
})
