/**
 * The page's side of the engine: each job in a Web Worker of its own, its replies to a
 * callback, and a handle that cancels it (terminates the worker). A job of the same
 * lane (one lane per view) cancels the one before it.
 *
 * @example
 * const lanes = engineLanes()
 * lanes.start('plans', { kind: 'search', input }, (reply) => show(reply))
 */
import type { Job, Reply } from './engine'

export interface Lanes {
  /** Starts `job` in `lane`, cancelling the lane's running job; `onReply` gets each reply, the last one not `progress`. */
  readonly start: (lane: string, job: Job, onReply: (reply: Reply) => void) => void
  /** Cancels the lane's running job, if any. */
  readonly cancel: (lane: string) => void
  /** Whether a job runs in `lane`. */
  readonly running: (lane: string) => boolean
}

export const engineLanes = (): Lanes => {
  const workers = new Map<string, Worker>()
  const cancel = (lane: string): void => {
    workers.get(lane)?.terminate()
    workers.delete(lane)
  }
  const start = (lane: string, job: Job, onReply: (reply: Reply) => void): void => {
    cancel(lane)
    const worker = new Worker(new URL('./engine-worker.ts', import.meta.url), { type: 'module' })
    workers.set(lane, worker)
    worker.onmessage = (event: MessageEvent<Reply>) => {
      if (workers.get(lane) !== worker) return
      if (event.data.kind !== 'progress') {
        worker.terminate()
        workers.delete(lane)
      }
      onReply(event.data)
    }
    worker.onerror = (event) => {
      if (workers.get(lane) !== worker) return
      workers.delete(lane)
      worker.terminate()
      onReply({ kind: 'problems', problems: [`the engine stopped: ${event.message || 'an error in the Web Worker'}`] })
    }
    worker.postMessage(job)
  }
  return { start, cancel, running: (lane) => workers.has(lane) }
}
