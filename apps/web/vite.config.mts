/**
 * The page's build: Vite 8 (Rolldown) bundles the app and the @meshplan packages it
 * imports (CommonJS with fp-ts and io-ts 2.x) into `dist/`, with relative URLs so the
 * folder can be served from anywhere, and a service worker that caches every built file
 * (`build/offline.mts`) so that the page works offline once loaded.
 *
 * One package module needs Node's built-ins: @meshplan/training's `search.ts` (so every
 * import of @meshplan/training, and @meshplan/planner's training audit through it)
 * requires `node:fs`, `node:os`, `node:path` and `node:worker_threads` to start its
 * worker threads, and reads `__dirname`. They are aliased to the small stubs of
 * `src/node-stubs/`, with which `planTraining` finds no worker script and runs on the
 * calling thread: the page's Web Worker (`src/engine-worker.ts`).
 */
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'
import { offlineCache } from './build/offline.mts'

const stub = (name: string): string => fileURLToPath(new URL(`./src/node-stubs/${name}.ts`, import.meta.url))

const meshplanPackages = ['units', 'topology', 'model', 'parallelism', 'memory', 'compute', 'collectives', 'cost-models', 'inference', 'training', 'planner'].map((name) => `@meshplan/${name}`)

export default defineConfig({
  base: './',
  resolve: {
    alias: {
      'node:fs': stub('fs'),
      'node:os': stub('os'),
      'node:path': stub('path'),
      'node:worker_threads': stub('worker_threads'),
    },
  },
  define: {
    // @meshplan/training's search.ts joins its worker script's path to __dirname (the stubs then find no file there)
    __dirname: JSON.stringify('/'),
  },
  // the dev server pre-bundles the linked CommonJS workspaces as it does dependencies from a registry
  optimizeDeps: { include: meshplanPackages },
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
  },
  plugins: [offlineCache()],
})
