/**
 * `node:worker_threads` in the browser build: @meshplan/training's search imports
 * `Worker`, which it only starts when its worker script exists (never in a page: see the
 * `node:fs` stub). Starting one anyway is a bug, and says so.
 */
export class Worker {
  constructor() {
    throw new Error('node:worker_threads is not available in the browser: the training search runs on the page\'s Web Worker')
  }
}
export const parentPort = null
export const workerData = undefined
