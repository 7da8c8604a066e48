/**
 * The collective operations and how nccl-tests reports their bandwidth. A message size
 * follows the nccl-tests convention (`doc/PERFORMANCE.md`): the size of the whole array
 * for all-gather, reduce-scatter and all-to-all (each rank holds `bytes / n` of it
 * before an all-gather, after a reduce-scatter, and sends `bytes / n` to each peer in
 * an all-to-all); the buffer each rank reduces for all-reduce; the buffer sent for
 * broadcast and send/recv.
 *
 * @example
 * import { algorithmBandwidth, busBandwidth, busFactor } from '@meshplan/collectives'
 * busFactor('all_reduce')(8)                // 1.75 = 2 (8 - 1) / 8
 * algorithmBandwidth(1e9, 0.01)             // 1e11 B/s
 * busBandwidth('all_gather')(8)(1e11)       // 8.75e10 B/s = 1e11 x 7 / 8
 */
import { bytesPerSecond, type BytesPerSecond } from '@meshplan/units'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The operations, named as in the case format (`workload.op`). */
export const collectiveOps = ['all_reduce', 'all_gather', 'reduce_scatter', 'all_to_all', 'broadcast', 'send_recv'] as const

/** A collective operation. */
export type CollectiveOp = (typeof collectiveOps)[number]

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** Whether `u` names an operation. */
export const isCollectiveOp = (u: unknown): u is CollectiveOp => typeof u === 'string' && (collectiveOps as ReadonlyArray<string>).includes(u)

/** Position of `op` in `collectiveOps` (the index of the fast path's tables); -1 for anything else. */
export const opIndex = (op: CollectiveOp): number => {
  switch (op) {
    case 'all_reduce':
      return 0
    case 'all_gather':
      return 1
    case 'reduce_scatter':
      return 2
    case 'all_to_all':
      return 3
    case 'broadcast':
      return 4
    case 'send_recv':
      return 5
    default:
      return -1
  }
}

/**
 * The factor nccl-tests multiplies the algorithm bandwidth by to get the bus bandwidth,
 * the per-rank link traffic of an optimal algorithm, comparable with the hardware's link
 * bandwidth whatever the rank count (nccl-tests `doc/PERFORMANCE.md`, "Bus bandwidth"):
 * all-reduce 2(n-1)/n; all-gather, reduce-scatter and all-to-all (n-1)/n; broadcast
 * and send/recv 1.
 */
export const busFactor =
  (op: CollectiveOp) =>
  (ranks: number): number => {
    switch (op) {
      case 'all_reduce':
        return (2 * (ranks - 1)) / ranks
      case 'all_gather':
      case 'reduce_scatter':
      case 'all_to_all':
        return (ranks - 1) / ranks
      case 'broadcast':
      case 'send_recv':
        return 1
    }
  }

/** nccl-tests' algorithm bandwidth: message size over time (`algbw = S / t`). */
export const algorithmBandwidth = (bytes: number, seconds: number): BytesPerSecond => bytesPerSecond(bytes / seconds)

/** nccl-tests' bus bandwidth: `algbw x busFactor(op)(n)`. */
export const busBandwidth =
  (op: CollectiveOp) =>
  (ranks: number) =>
  (algbw: BytesPerSecond): BytesPerSecond =>
    bytesPerSecond(algbw * busFactor(op)(ranks))
