/**
 * A fuzzing campaign: `inputs` inputs of one target, drawn by fast-check from a seed
 * (the same seed, the same inputs), each checked and timed. What it finds is kept with
 * the input that found it: throws, broken laws, inputs slower than the target's bound.
 *
 * @example
 * const report = runCampaign(targets[0], { seed: 42, inputs: 10_000 })
 * report.findings // [] when the target held
 */
import fc from 'fast-check'
import type { Target } from './targets'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export interface Finding {
  readonly kind: 'throw' | 'law' | 'slow'
  readonly message: string
  /** The input, as JSON (cut at 300 characters). */
  readonly input: string
  readonly ms: number
}

export interface CampaignReport {
  readonly target: string
  readonly seed: number
  readonly inputs: number
  readonly findings: ReadonlyArray<Finding>
  readonly meanMs: number
  readonly maxMs: number
  readonly seconds: number
}

export interface CampaignOptions {
  readonly seed: number
  readonly inputs: number
  /** At most this many findings are kept (the count of each kind goes on). */
  readonly keep?: number
  readonly onProgress?: (done: number) => void
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const shown = (u: unknown): string => {
  let text: string
  try {
    text = JSON.stringify(u, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) ?? String(u)
  } catch {
    text = String(u)
  }
  return text.length > 300 ? `${text.slice(0, 297)}...` : text
}

/** The milliseconds of one more run of `target` on `input` (its outcome was seen already). */
const timed = (target: Target, input: unknown): number => {
  const t0 = performance.now()
  try {
    target.check(input)
  } catch {
    // seen on the first run
  }
  return performance.now() - t0
}

/** Runs `target` on `options.inputs` inputs drawn from `options.seed`. */
export const runCampaign = (target: Target, options: CampaignOptions): CampaignReport => {
  const findings: Finding[] = []
  const keep = options.keep ?? 20
  let total = 0
  let max = 0
  const started = performance.now()
  // draw in batches: fc.sample is deterministic for a seed and an index
  const batch = 1000
  for (let done = 0; done < options.inputs; done += batch) {
    const n = Math.min(batch, options.inputs - done)
    const inputs = fc.sample(target.inputs, { seed: options.seed + done, numRuns: n })
    for (const input of inputs) {
      const t0 = performance.now()
      let message: string | undefined
      let kind: Finding['kind'] = 'law'
      try {
        message = target.check(input)
      } catch (error) {
        kind = 'throw'
        message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
      }
      const ms = performance.now() - t0
      total += ms
      if (ms > max) max = ms
      if (message === undefined && ms > target.boundMs) {
        // a pause of the collector, the compiler or another process is no finding: it is slow
        // only if two more runs of the same input are slow too (the fastest of the three counts)
        const again = Math.min(ms, timed(target, input), timed(target, input))
        if (again > target.boundMs) {
          kind = 'slow'
          message = `took ${again.toFixed(0)} ms at best of three runs (first ${ms.toFixed(0)} ms), more than the bound of ${target.boundMs} ms`
        }
      }
      if (message !== undefined && findings.length < keep) findings.push({ kind, message, input: shown(input), ms })
    }
    options.onProgress?.(done + n)
  }
  return { target: target.name, seed: options.seed, inputs: options.inputs, findings, meanMs: total / Math.max(1, options.inputs), maxMs: max, seconds: (performance.now() - started) / 1e3 }
}
