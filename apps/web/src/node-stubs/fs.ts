/**
 * `node:fs` in the browser build: only what @meshplan/training's search module (its
 * `search.ts`) asks of it, to find its worker-thread script. There is no such script in
 * a page, so it exists nowhere and the search runs on the calling thread (the page's
 * own Web Worker, `engine-worker.ts`).
 */
export const existsSync = (_path: string): boolean => false
