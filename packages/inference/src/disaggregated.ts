/**
 * A disaggregated deployment: prompts are prefilled on one pool of instances, the KV
 * cache of each request moves to an instance of a second pool, which decodes
 * (DistServe, Zhong et al. 2024, section 2; Splitwise, Patel et al. 2024, section 4).
 * Each pool is an ordinary deployment of its own (parallelism, cluster, engine), priced
 * by the same inner loop as a co-located one, and the two meet in a request rate:
 *
 * - A prefill instance runs prefill-only passes of its token budget
 *   (`maxNumTokens`, a whole prompt at least): `requests/s = dp · budget / input / pass`.
 * - A decode instance runs decode-only passes at the most sequences that fit and the
 *   engine admits, each at the mean context it holds: `requests/s = dp · B · accept /
 *   output / pass` (`accept`: tokens per pass under speculative decoding, else 1).
 * - The deployment serves the smaller of the two pools' rates (the other waits); its
 *   output tokens/s are that rate times the output length.
 * - A request's KV cache (`input` tokens on every prefill GPU's share) crosses from the
 *   prefill instance to the decode instance: every prefill GPU sends its share at once,
 *   every decode GPU receives one, each over its own link (the scale-out network, or the
 *   scale-up fabric when both pools share a scale-up domain).
 * - TTFT: half a prefill pass of waiting, the passes of its prompt, the transfer and the
 *   first decode pass; TPOT: a decode pass over the tokens it produces.
 *
 * Arrivals: the steady state at the deployment's rate (a `numRequests` run without its
 * start and ramp-down), a `concurrency` held in flight (Little's law on the decode
 * pool), or a `requestRate` below the rate the pools sustain. Wherever requests reach the
 * decode pool slower than it could serve them (a slower prefill pool, a low request
 * rate) its batch follows from Little's law: sequences per decode rank = their arrival
 * rate × the time each decodes.
 *
 * @example
 * import { estimateDisaggregated } from '@meshplan/inference'
 * estimateDisaggregated(defaultCostModels)({ prefill: { ...inputP, instances: 2 }, decode: { ...inputD, instances: 1 }, link: { bandwidth: 50e9, latency: 5e-6 } })
 * // right({ ttft, tpot, tokensPerSecond: { total, perGpu, perUser }, prefill: {...}, decode: {...}, transfer: {...}, limitedBy: 'decode' })
 */
import * as E from 'fp-ts/Either'
import { estimateError, type CostModels, type EstimateError } from '@meshplan/cost-models'
import { worldOf } from '@meshplan/parallelism'
import type { Cluster } from '@meshplan/topology'
import { meanAge } from './arrivals'
import { memoryAt, passCycle, prepareInference, servingCycle, withHost, type InferenceConstants, type InferenceInput } from './kernel'
import { busiestPrefill } from './moe'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** One pool: a deployment (its model, cluster, strategy, formats, workload, engine) and how many instances of it run. */
export interface PoolInput extends InferenceInput {
  readonly instances: number
}

/** Two pools and the link a request's KV cache crosses, per GPU and per direction. */
export interface DisaggregatedInput {
  readonly prefill: PoolInput
  readonly decode: PoolInput
  readonly link: { readonly bandwidth: number; readonly latency: number }
}

/** What a disaggregated deployment serves. */
export interface DisaggregatedEstimate {
  readonly gpus: number
  readonly ttft: number
  readonly tpot: number
  readonly requestLatency: number
  readonly requestsPerSecond: number
  readonly tokensPerSecond: { readonly total: number; readonly perGpu: number; readonly perUser: number }
  /** Input tokens prefilled per second over the whole deployment. */
  readonly inputTokensPerSecond: number
  readonly prefill: { readonly instances: number; readonly gpus: number; readonly tokensPerPass: number; readonly passSeconds: number; readonly requestsPerSecond: number; readonly memory: PoolMemory }
  readonly decode: { readonly instances: number; readonly gpus: number; readonly batch: number; /** The most sequences per data-parallel rank that fit and the engine admits. */ readonly maxBatch: number; readonly passSeconds: number; readonly requestsPerSecond: number; readonly memory: PoolMemory }
  readonly transfer: { readonly bytesPerRequest: number; readonly seconds: number }
  /** The pool whose rate the deployment serves at. */
  readonly limitedBy: 'prefill' | 'decode'
}

/**
 * One pool's memory on its fullest GPU: the prefill pool holding the KV cache of the
 * prompts of one pass (until it is sent), the decode pool of its running batch.
 */
export interface PoolMemory {
  /** Sequences whose KV cache a data-parallel rank holds. */
  readonly sequences: number
  readonly perGpu: number
  readonly weights: number
  readonly capacity: number
  readonly fits: boolean
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/**
 * The link a request's KV cache crosses between two pools, per GPU and per direction:
 * the scale-up fabric (the cluster's first tier) when both pools are on one cluster and
 * together fit one scale-up domain, else the slower of the two pools' outermost links
 * (the scale-out network). `meshplan estimate` of a plan with pools and the
 * disaggregated search both price the transfer over it.
 */
export const poolLink = (prefill: { readonly cluster: Cluster; readonly gpus: number }, decode: { readonly cluster: Cluster; readonly gpus: number }): DisaggregatedInput['link'] => {
  const domain = prefill.cluster.tiers[0]?.fanout ?? 1
  const shared = prefill.cluster === decode.cluster && prefill.gpus + decode.gpus <= domain
  const side = (c: Cluster) => (shared ? c.tiers[0] : c.tiers[c.tiers.length - 1])?.link
  const links = [side(prefill.cluster), side(decode.cluster)]
  return { bandwidth: Math.min(...links.map((l) => l?.bandwidth ?? 0)), latency: Math.max(...links.map((l) => l?.latency ?? 0)) }
}

/** The memory of pool constants `c` with `sequences` per data-parallel rank (see {@link PoolMemory}). */
const poolMemory = (c: InferenceConstants, sequences: number): PoolMemory => {
  const perGpu = memoryAt(c, sequences)
  const capacity = c.memory.tightest.capacity
  return { sequences, perGpu, weights: Math.max(...c.memory.stages.map((s) => s.weights)), capacity, fits: perGpu <= capacity }
}

/** One prefill-only pass of `c` carrying `tokens` prompt tokens per data-parallel rank, host time included. */
const prefillPass = (c: InferenceConstants, tokens: number): number => {
  const prompts = tokens / c.input.workload.inputTokens
  return withHost(c, passCycle(c, 0, 0, tokens, busiestPrefill(c, tokens, 0), prompts), 1, prompts)
}

/** KV-cache bytes of one request's prompt across one replica of `c`: every stage's bytes per token per GPU times its GPUs. */
const kvBytesPerRequest = (c: InferenceConstants): number => {
  const perReplicaGpus = c.tp * c.cp
  let perToken = 0
  for (const stage of c.memory.stages) perToken += stage.kvBytesPerToken * perReplicaGpus
  return perToken * c.input.workload.inputTokens
}

/** The estimate of a disaggregated deployment (see the module comment), or why a pool cannot run. */
export const estimateDisaggregated =
  (models: CostModels) =>
  (input: DisaggregatedInput): E.Either<EstimateError, DisaggregatedEstimate> => {
    for (const role of ['prefill', 'decode'] as const) {
      const n = input[role].instances
      if (!(Number.isSafeInteger(n) && n >= 1)) return E.left(estimateError('invalid-strategy', `pools.${role}.instances: expected a whole number from 1, got ${n}`))
    }
    if (!(input.link.bandwidth > 0 && Number.isFinite(input.link.bandwidth) && input.link.latency >= 0)) {
      return E.left(estimateError('invalid-strategy', `the link between the pools: expected a bandwidth above 0 and a latency of 0 or more, got ${input.link.bandwidth} B/s and ${input.link.latency} s`))
    }
    // each pool as its own deployment: the prefill pool never decodes, the decode pool never prefills
    const w = input.decode.workload
    const pc = prepareInference(models)({ ...input.prefill, workload: { ...input.prefill.workload, mode: 'max_throughput' } })
    if (E.isLeft(pc)) return E.left({ ...pc.left, message: `the prefill pool: ${pc.left.message}` })
    // the decode pool's passes are priced as a static batch's: the arrivals and the prefill budget belong to the deployment
    const { batch: _batch, numRequests: _requests, concurrency: _concurrency, requestRate: _rate, maxNumTokens: _budget, ...decoding } = w
    const dc = prepareInference(models)({ ...input.decode, workload: { ...decoding, mode: 'static' } })
    if (E.isLeft(dc)) return E.left({ ...dc.left, message: `the decode pool: ${dc.left.message}` })
    const p = pc.right
    const d = dc.right
    if (d.maxBatch < 1) return E.left(estimateError('does-not-fit', 'the decode pool: not one sequence fits in memory'))
    const inputTokens = w.inputTokens
    const output = d.lengths.mean
    const accept = d.speculative.accept
    // prefill: passes of the budget, a whole prompt at least
    const tokensPerPass = Math.max(p.maxNumTokens, inputTokens)
    const pPass = prefillPass(p, tokensPerPass)
    const prefillRate = (input.prefill.instances * p.dp * tokensPerPass) / inputTokens / pPass
    // decode: at the mean context a running sequence holds
    const context = inputTokens + meanAge(d.lengths)
    const decodeRateAt = (batch: number): { readonly pass: number; readonly rate: number } => {
      const pass = servingCycle(d, batch, context, 0)
      return { pass, rate: (input.decode.instances * d.dp * batch * accept) / output / pass }
    }
    const full = decodeRateAt(d.maxBatch)
    // a request's KV cache: every prefill GPU sends its share, every decode GPU receives one
    const bytes = kvBytesPerRequest(p)
    const senders = p.tp * p.cp * p.pp
    const receivers = d.tp * d.cp * d.pp
    const transfer = input.link.latency + bytes / (Math.min(senders, receivers) * input.link.bandwidth)
    const chunks = Math.ceil(inputTokens / tokensPerPass)
    const prefillGpus = input.prefill.instances * worldOf(input.prefill.strategy)
    const decodeGpus = input.decode.instances * worldOf(input.decode.strategy)
    const gpus = prefillGpus + decodeGpus
    const capacity = Math.min(prefillRate, full.rate)
    // what runs: the decode batch and the request rate the arrivals make
    let batch = d.maxBatch
    let rate = capacity
    let pass = full.pass
    const ttftAt = (decodePass: number): number => (chunks + 0.5) * pPass + transfer + decodePass
    // a prefill pool slower than the decode pool leaves the decode pool part-full: its batch follows from the prefill rate (Little's law)
    const arrivals = w.concurrency === undefined ? (w.requestRate !== undefined && w.requestRate < capacity ? w.requestRate : prefillRate < full.rate ? prefillRate : undefined) : undefined
    const perRank = input.decode.instances * d.dp
    const clamp = (n: number): number => Math.min(Math.max(n, 1), d.maxBatch)
    if (w.concurrency !== undefined) {
      // a closed loop: the concurrency held in flight on the decode ranks, the request rate from Little's law
      batch = clamp(w.concurrency / perRank)
      pass = decodeRateAt(batch).pass
      rate = Math.min(w.concurrency / (ttftAt(pass) + ((output - 1) * pass) / accept), capacity)
    } else if (arrivals !== undefined) {
      // Little's law on the decode pool: sequences per decode rank = their arrival rate × the time each decodes (a fixed point)
      let n = 1
      for (let i = 0; i < 40; i++) n = (arrivals / perRank) * (((output - 1) * decodeRateAt(clamp(n)).pass) / accept)
      batch = clamp(n)
      pass = decodeRateAt(batch).pass
      rate = arrivals
    }
    const tpot = pass / accept
    const ttft = ttftAt(pass)
    const total = rate * output
    const figures = [ttft, tpot, total]
    if (!figures.every((x) => Number.isFinite(x) && x > 0)) return E.left(estimateError('unphysical', `a disaggregated figure is not a finite positive number (TTFT ${ttft}, TPOT ${tpot}, tokens/s ${total})`))
    return E.right({
      gpus,
      ttft,
      tpot,
      requestLatency: ttft + (output - 1) * tpot,
      requestsPerSecond: rate,
      tokensPerSecond: { total, perGpu: total / gpus, perUser: 1 / tpot },
      inputTokensPerSecond: rate * inputTokens,
      prefill: { instances: input.prefill.instances, gpus: prefillGpus, tokensPerPass, passSeconds: pPass, requestsPerSecond: prefillRate, memory: poolMemory(p, Math.ceil(tokensPerPass / inputTokens)) },
      decode: { instances: input.decode.instances, gpus: decodeGpus, batch, maxBatch: d.maxBatch, passSeconds: pass, requestsPerSecond: full.rate, memory: poolMemory(d, batch) },
      transfer: { bytesPerRequest: bytes, seconds: transfer },
      limitedBy: prefillRate < full.rate ? 'prefill' : 'decode',
    })
  }
