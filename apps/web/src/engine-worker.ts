/**
 * The page's Web Worker: takes one job (`engine.ts`) per message and posts its replies.
 * The page starts one worker per job and terminates it to cancel.
 */
import { runJob, type Job, type Reply } from './engine'

/** The part of a dedicated worker's global scope this file uses (the DOM library types `self` as a window). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<Job>) => void) | null
  postMessage(reply: Reply): void
}

const scope = self as unknown as WorkerScope
scope.onmessage = (event) => void runJob(event.data, (reply) => scope.postMessage(reply))
