import * as E from 'fp-ts/Either'
import { defaultCollectiveModel, estimate } from '@meshplan/collectives'
import { groups } from '@meshplan/compute'
import { defaultPrecision, models, type Architecture } from '@meshplan/model'
import { strategy, type Strategy } from '@meshplan/parallelism'
import { spanOf, unsafeClusterOf, type Cluster } from '@meshplan/topology'
import { batchOf, estimateFrom, estimateInference, type InferenceEstimate, type StepBreakdown } from '../src/estimate'
import { passSeconds, prepareInference, stageSeconds, type InferenceConstants, type InferenceInput, type StageClass } from '../src/kernel'
import { commKinds, defaultCostModels } from '@meshplan/cost-models'
import type { InferenceWorkload } from '../src/workload'
import { engineModel } from '../src/engines'
import { expectClose, rightOf } from '@meshplan/test-utils'

// -------------------------------------------------------------------------------------
// fixtures
// -------------------------------------------------------------------------------------

const h100x8 = unsafeClusterOf('dgx-h100', 1)
const static16: InferenceWorkload = { mode: 'static', inputTokens: 1024, outputTokens: 256, batch: 16 }

const inputOf = (model: Architecture, s: Strategy, workload: InferenceWorkload = static16, cluster: Cluster = h100x8): InferenceInput => ({
  model,
  cluster,
  strategy: s,
  precision: defaultPrecision,
  workload,
})

const constantsOf = (input: InferenceInput): InferenceConstants => rightOf(prepareInference(defaultCostModels)(input))
const estimateOf = (input: InferenceInput): InferenceEstimate => rightOf(estimateInference(defaultCostModels)(input))

const allReduceSeconds = (bytes: number, ranks: ReadonlyArray<number>): number =>
  rightOf(estimate(defaultCollectiveModel)(h100x8)('all_reduce', bytes, spanOf(h100x8)(ranks))).seconds

const sumOfGroups = (b: StepBreakdown): number => groups.reduce((s, g) => s + b.compute[g], 0)

const ranks0to7 = [0, 1, 2, 3, 4, 5, 6, 7]

// -------------------------------------------------------------------------------------
// Llama-2-70B TP8 on one DGX H100, static 1024 + 256, batch 16
// -------------------------------------------------------------------------------------

describe('estimateInference: Llama-2-70B TP8 on one DGX H100, static 1024 + 256 tokens, batch 16', () => {
  const input = inputOf(models['llama-2-70b'], strategy({ tp: 8 }))
  const c = constantsOf(input)
  const k = c.classes[0] as StageClass
  const e = estimateOf(input)

  it('describes the deployment', () => {
    expect(e).toMatchObject({ description: 'TP8', gpus: 8, mode: 'static', batch: 16 })
    expect(e.strategy).toEqual(strategy({ tp: 8 }))
  })

  it("gives the token budget of a pass: the workload's, else the engine's (the generic engine's 8192, vLLM V1's 2048 on an A100)", () => {
    expect(e.maxNumTokens).toBe(8192)
    expect(estimateOf({ ...input, workload: { mode: 'max_throughput', inputTokens: 1024, outputTokens: 256, maxNumTokens: 4096 } }).maxNumTokens).toBe(4096)
    expect(estimateOf({ ...input, cluster: unsafeClusterOf('dgx-a100-80gb', 1), engine: engineModel({ name: 'vllm', version: '0.11.0' }) }).maxNumTokens).toBe(2048)
  })

  it('memory: each part worked out by hand, perGpu = weights + kvCache + workspace + reserve', () => {
    // weights: 8,623,235,072 parameters per GPU (the non-norm parameters / 8, norms replicated) x 2 B
    expect(e.memory.weights).toBe(17_246_470_144)
    // KV: 2 x 80 layers x (8 KV heads / 8 = 1) x 128 x 2 B = 40,960 B per token; 16 sequences x 1280 tokens x 40,960 B
    expect(e.memory.kvCache).toBe(838_860_800)
    // workspace: a 1280-token chunk x (2 x 8192 + max(2 x 8 x 128 + 2 x 1 x 128 = 2304, 2 x 28672 / 8 = 7168)) = 23,552
    //   elements x 2 B = 60,293,120; + fp32 logits 4 x 32000 / 8 = 16,000
    expect(e.memory.workspace).toBe(60_309_120)
    expect(e.memory.reserve).toBe(8e9) // 10% of 80 GB
    expect(e.memory.capacity).toBe(80e9)
    expect(e.memory.perGpu).toBe(e.memory.weights + e.memory.kvCache + e.memory.workspace + e.memory.reserve)
    expect(e.memory.perGpu).toBe(26_145_640_064)
    // (80e9 − 17,246,470,144 − 60,309,120 − 8e9) / 40,960 = 1,335,283 tokens; / 1280 = 1043.2 -> 1043 sequences
    expect(e.memory.maxBatch).toBe(1043)
    expect(e.memory.fits).toBe(true)
  })

  it('the decode breakdown re-times the step at the mean context 1024 + 256/2 = 1152: it equals stageSeconds', () => {
    expect(e.breakdown.decode).toMatchObject({ stage: [0], batch: 16, context: 1152 })
    expectClose(e.breakdown.decode.seconds, stageSeconds(c, k, true, 16, 1152), 1e-9)
  })

  it('the prefill breakdown equals stageSeconds of the prefill, and TTFT (one stage)', () => {
    expect(e.breakdown.prefill).toMatchObject({ stage: [0], batch: 16, context: 0 })
    expectClose(e.breakdown.prefill.seconds, stageSeconds(c, k, false, 16, 0), 1e-9)
    expectClose(e.ttft, e.breakdown.prefill.seconds, 1e-9)
  })

  it('TP communication: 2 x 80 layers x an all-reduce over the 8 GPUs, exposed in full (overlap 0)', () => {
    // decode: 16 tokens x 8192 x 2 B = 262,144 B; prefill: 16 x 1024 tokens x 8192 x 2 B = 268,435,456 B
    expectClose(e.breakdown.decode.communication.tp, 2 * 80 * allReduceSeconds(262_144, ranks0to7))
    expectClose(e.breakdown.prefill.communication.tp, 2 * 80 * allReduceSeconds(268_435_456, ranks0to7))
    for (const b of [e.breakdown.prefill, e.breakdown.decode]) {
      expect(b.communication).toMatchObject({ ep: 0, pp: 0, cp: 0 })
      expect(b.exposedCommunication).toBe(b.communication.tp)
    }
  })

  it('the compute groups add up to the compute time (seconds − exposed communication), as do the two roofs', () => {
    for (const b of [e.breakdown.prefill, e.breakdown.decode]) {
      const compute = b.seconds - b.exposedCommunication
      expect(compute).toBeGreaterThan(0)
      expectClose(sumOfGroups(b), compute, 1e-9)
      expectClose(b.computeBound + b.memoryBound, compute, 1e-9)
      expect(b.compute.moe).toBe(0) // a dense model
    }
  })

  it('the bottleneck is the largest of compute-bound, memory-bound and exposed communication', () => {
    for (const b of [e.breakdown.prefill, e.breakdown.decode]) {
      const parts = { 'compute-bound': b.computeBound, 'memory-bound': b.memoryBound, communication: b.exposedCommunication, 'host-bound': b.host }
      const largest = Math.max(...Object.values(parts))
      expect(parts[b.bottleneck]).toBe(largest)
      // the generic engine leaves the host out
      expect(b.host).toBe(0)
    }
    // a prefill of 16,384 tokens reads each weight once for 16,384 tokens (far above the H100's
    // 989e12 / 3.35e12 ≈ 295 FLOP/B); a decode of 16 tokens reads it for 16: memory-bound
    expect(e.breakdown.prefill.bottleneck).toBe('compute-bound')
    expect(e.breakdown.decode.bottleneck).toBe('memory-bound')
  })

  it('host-bound where the host outlasts the pass: gpt-oss-20b at max_throughput under TensorRT-LLM 1.0 on a GB200, 34.375 µs a sequence', () => {
    const serving: InferenceWorkload = { mode: 'max_throughput', inputTokens: 128, outputTokens: 128, maxBatch: 1000 }
    const on = (id: 'gb200-nvl72' | 'dgx-b200', version: string) => estimateOf({ ...inputOf(models['gpt-oss-20b'], strategy({}), serving, unsafeClusterOf(id, 1)), engine: engineModel({ name: 'trtllm', version }) })
    const grace = on('gb200-nvl72', '1.0')
    expect(grace.batch).toBe(1000)
    // the decode step of 1000 sequences: 1000 · 34.375 µs = 34.375 ms of host work, longer than the GPU's pass
    expectClose(grace.breakdown.decode.host, 34.375e-3, 1e-12)
    expect(grace.breakdown.decode.seconds).toBeLessThan(34.375e-3)
    expect(grace.breakdown.decode.bottleneck).toBe('host-bound')
    // the prompts ride the decode pass (fused chunked prefill): their phase has no host work of its own
    expect(grace.breakdown.prefill.host).toBe(0)
    // the TensorRT backend (before 1.0) has no host loop on the critical path
    const before = on('gb200-nvl72', '0.17.0')
    expect(before.breakdown.decode.host).toBe(0)
    expect(before.breakdown.decode.bottleneck).not.toBe('host-bound')
    expect(grace.tokensPerSecond.total).toBeLessThan(before.tokensPerSecond.total)
    // vLLM V1 adds its host to each pass: 0.43 ms + 1000 · 1.121 µs = 1.551 ms
    const vllm = estimateOf({ ...inputOf(models['gpt-oss-20b'], strategy({}), serving, unsafeClusterOf('dgx-b200', 1)), engine: engineModel({ name: 'vllm', version: '0.11.0' }) })
    expectClose(vllm.breakdown.decode.host, 0.43e-3 + (1000 * 0.287e-3) / 256, 1e-12)
  })

  it("TensorRT-LLM holds the fewer of trtllm-bench's batch and what fits: DeepSeek-V3 DEP8 on an HGX H200 (141 GB), fp8, 1024 + 1024, 256 per rank where more would fit", () => {
    const serving: InferenceWorkload = { mode: 'max_throughput', inputTokens: 1024, outputTokens: 1024 }
    const fp8 = { weights: 'fp8', activations: 'fp8', kvCache: 'fp8' } as const
    const e = rightOf(estimateInference(defaultCostModels)({ model: models['deepseek-v3'], cluster: unsafeClusterOf('hgx-h200', 1), strategy: strategy({ dp: 8, ep: 8 }), precision: fp8, workload: serving, engine: engineModel({ name: 'trtllm', version: '1.1' }) }))
    // trtllm-bench reckons (8 · 141e9 − 671,026,419,200) · 0.9 / (2 · 61 · 128 · 56 · 2048) = 229.7 requests for the 8 GPUs
    // (engines.test.ts) and lets each attention-DP rank hold 32 · ceil(229.7 / 32) = 256
    expectClose(((8 * 141e9 - 671_026_419_200) * 0.9) / (2 * 61 * 128 * 56 * 2048), 229.7, 1e-3)
    expect(e.memory.maxBatch).toBeGreaterThan(256)
    expect(e.batch).toBe(256)
  })

  it('the headline figures compose: latency = TTFT + 255 TPOT, tokens/s = 16 x 256 / latency, per GPU / 8, per user 1 / TPOT', () => {
    expectClose(e.requestLatency, e.ttft + 255 * e.tpot)
    expectClose(e.tokensPerSecond.total, (16 * 256) / e.requestLatency)
    expectClose(e.tokensPerSecond.perGpu, e.tokensPerSecond.total / 8)
    expectClose(e.tokensPerSecond.perUser, 1 / e.tpot)
    // TPOT is the mean of the steps at 1025 and 1279 keys
    expectClose(e.tpot, (stageSeconds(c, k, true, 16, 1025) + stageSeconds(c, k, true, 16, 1279)) / 2)
  })

  it('lists the communication kinds for report writers', () => {
    expect(commKinds).toEqual(['tp', 'ep', 'pp', 'cp'])
    expect(Object.keys(e.breakdown.decode.communication).sort()).toEqual([...commKinds].sort())
  })
})

// -------------------------------------------------------------------------------------
// the batch
// -------------------------------------------------------------------------------------

describe('batchOf and estimateFrom', () => {
  const model = models['llama-2-70b']
  const tp8 = strategy({ tp: 8 })

  it('static: the workload batch, or the most that fit within the engine limit when absent', () => {
    expect(batchOf(constantsOf(inputOf(model, tp8)))).toBe(16)
    // 1043 fit, the default limit is 1024
    expect(batchOf(constantsOf(inputOf(model, tp8, { mode: 'static', inputTokens: 1024, outputTokens: 256 })))).toBe(1024)
  })

  it('latency: 1, whatever batch the workload names', () => {
    const c = constantsOf(inputOf(model, tp8, { mode: 'latency', inputTokens: 1024, outputTokens: 256, batch: 64 }))
    expect(batchOf(c)).toBe(1)
    const e = rightOf(estimateFrom(c))
    expect(e.batch).toBe(1)
    // the KV cache of one sequence: 1280 tokens x 40,960 B
    expect(e.memory.kvCache).toBe(52_428_800)
  })

  it('max_throughput: the most that fit, capped by maxBatch', () => {
    expect(batchOf(constantsOf(inputOf(model, tp8, { mode: 'max_throughput', inputTokens: 1024, outputTokens: 256 })))).toBe(1024)
    expect(batchOf(constantsOf(inputOf(model, tp8, { mode: 'max_throughput', inputTokens: 1024, outputTokens: 256, maxBatch: 300 })))).toBe(300)
  })

  it('estimateFrom at an explicit batch reports that batch', () => {
    const c = constantsOf(inputOf(model, tp8))
    const e = rightOf(estimateFrom(c, 32))
    expect(e.batch).toBe(32)
    expect(e.memory.kvCache).toBe(32 * 52_428_800)
  })

  it('a batch beyond memory is estimated, with fits false and the memory it would need', () => {
    const e = estimateOf(inputOf(model, tp8, { ...static16, batch: 2000 }))
    expect(e.memory.fits).toBe(false)
    // 17,246,470,144 + 60,309,120 + 8e9 = 25,306,779,264 B; + 2000 x 52,428,800 = 130,164,379,264 B
    expect(e.memory.perGpu).toBe(130_164_379_264)
    expect(e.memory.perGpu).toBeGreaterThan(e.memory.capacity)
  })

  // Regression (found by these tests, fixed): the workload is not checked (see fast.test.ts): a static batch of 0 is not
  // reported as invalid-workload; the estimate fails later inside the compute model with
  // code "cost-model" and the message "compute: prefill batch must be a positive integer,
  // got NaN" (batch 0 / 0 micro-batches = NaN sequences per micro-batch).
  it('a static batch of 0 is an invalid workload', () => {
    const r = estimateInference(defaultCostModels)(inputOf(model, tp8, { ...static16, batch: 0 }))
    expect(E.isLeft(r) && r.left.code).toBe('invalid-workload')
  })
})

describe('estimateInference in max_throughput (Llama-2-70B TP8, 1024 + 256 tokens)', () => {
  const input = inputOf(models['llama-2-70b'], strategy({ tp: 8 }), { mode: 'max_throughput', inputTokens: 1024, outputTokens: 256 })
  const c = constantsOf(input)
  const k = c.classes[0] as StageClass
  const e = estimateOf(input)

  it('runs the most sequences that fit within the limit: min(1043, 1024) = 1024', () => {
    expect(e.batch).toBe(1024)
  })

  it('a cycle is one pass of 1024 decode tokens at 1024 + 256/2 = 1152 keys and 1024 / 256 = 4 new prompts; the breakdown times each phase on its own', () => {
    expect(e.breakdown.decode).toMatchObject({ batch: 1024, context: 1152 })
    expect(e.breakdown.prefill.batch).toBe(4)
    expectClose(e.breakdown.decode.seconds, stageSeconds(c, k, true, 1024, 1152), 1e-9)
    expectClose(e.breakdown.prefill.seconds, stageSeconds(c, k, false, 4, 0), 1e-9)
    expectClose(e.tpot, passSeconds(c, k, 1024, 1152, 4096, 4096, 1028), 1e-9)
    // one pass reads the weights once: less than the two phases on their own
    expect(e.tpot).toBeLessThan(e.breakdown.decode.seconds + e.breakdown.prefill.seconds)
    // every one of the 1024 sequences gets a token per cycle
    expectClose(e.tokensPerSecond.total, 1024 / e.tpot)
  })
})

describe("estimateInference under vLLM V1: the start-up profile's peak stays out of the KV cache (Llama 3.1 8B on one H100)", () => {
  const serving: InferenceWorkload = { mode: 'max_throughput', inputTokens: 200, outputTokens: 200 }
  const vllm = engineModel({ name: 'vllm', version: '0.11.0' })
  const one = (workload: InferenceWorkload, engine = vllm) => estimateOf({ ...inputOf(models['llama-3.1-8b'], strategy({}), workload), engine })
  // the forward pass at t tokens: t * 2 bytes * (2 * 4096 + SwiGLU 2 * 14336) + the last position's fp32 logits 4 * 128256
  const forward = (t: number) => t * 2 * (2 * 4096 + 2 * 14_336) + 4 * 128_256

  it('the sampler over max_num_seqs 1024 sequences at 14 bytes a logit: 1024 * 128256 * 14 = 1,838,678,016 B, above the 8192-token forward pass (604,492,800 B)', () => {
    expect(forward(8192)).toBe(604_492_800)
    expect(one(serving).memory.workspace).toBe(1_838_678_016)
  })

  it("a workload's max_batch and max_num_tokens are what the engine profiles: 256 sequences (459,669,504 B) fall below the forward pass; a 512-token budget caps the sequences sampled at 512 (919,339,008 B)", () => {
    expect(one({ ...serving, maxBatch: 256 }).memory.workspace).toBe(forward(8192))
    expect(one({ ...serving, maxNumTokens: 512 }).memory.workspace).toBe(919_339_008)
  })

  it('an engine without a start-up profile keeps the workspace of a prefill chunk at most the context long (400 tokens), and fits more sequences', () => {
    const none = one(serving, { ...vllm, startupProfile: undefined })
    expect(none.memory.workspace).toBe(forward(400))
    expect(none.memory.maxBatch).toBeGreaterThan(one(serving).memory.maxBatch)
  })
})

// -------------------------------------------------------------------------------------
// pipelines
// -------------------------------------------------------------------------------------

describe('estimateInference with a pipeline (Llama-2-70B TP4 PP2, batch 8: 2 micro-batches of 4)', () => {
  const input = inputOf(models['llama-2-70b'], strategy({ tp: 4, pp: 2 }), { ...static16, batch: 8 })
  const c = constantsOf(input)
  const e = estimateOf(input)

  it('describes the slowest stage, at the micro-batch of 4', () => {
    const slowest = Math.max(...c.classes.map((k) => stageSeconds(c, k, true, 4, 1152)))
    expect(e.breakdown.decode.batch).toBe(4)
    expectClose(e.breakdown.decode.seconds, slowest, 1e-9)
    expect(c.classes.some((k) => k.ranks.includes(e.breakdown.decode.stage[0] ?? -1))).toBe(true)
  })

  it('reports the fullest stage: perGpu = weights + kvCache + workspace + reserve of that stage', () => {
    expect(e.memory.perGpu).toBe(Math.max(...c.classes.map((k) => k.baseBytes + 8 * k.bytesPerSequence)))
    expect(e.memory.perGpu).toBe(e.memory.weights + e.memory.kvCache + e.memory.workspace + e.memory.reserve)
    // 40 layers per stage: 2 x 40 x 8 KV heads / 4 x 128 x 2 B = 40,960 B per token; x 1280 tokens x 8 sequences
    expect(e.memory.kvCache).toBe(419_430_400)
  })

  it('uses all 8 GPUs: tokens/s per GPU = total / 8', () => {
    expect(e.gpus).toBe(8)
    expectClose(e.tokensPerSecond.perGpu, e.tokensPerSecond.total / 8)
  })
})

// -------------------------------------------------------------------------------------
// errors
// -------------------------------------------------------------------------------------

describe('estimateInference: no answer', () => {
  it('Llama-2-70B on one 40 GB A100 does not fit, and the message names the sizes', () => {
    const a100 = unsafeClusterOf('dgx-a100-40gb', 1)
    // strategy({}) is one GPU of the node
    const r = estimateInference(defaultCostModels)(inputOf(models['llama-2-70b'], strategy({}), static16, a100))
    expect(E.isLeft(r)).toBe(true)
    if (E.isRight(r)) return
    expect(r.left.code).toBe('does-not-fit')
    // weights: 68,976,648,192 parameters x 2 B = 137,953,296,384 B ≈ 138 GB
    expect(r.left.message).toContain('weights 138 GB')
    // workspace: 1280 tokens x (2 x 8192 + max(2 x 64 x 128 + 2 x 8 x 128 = 18,432, 2 x 28672 = 57,344)) x 2 B
    //   = 188,743,680 B + fp32 logits 4 x 32000 = 188,871,680 B ≈ 188.9 MB
    expect(r.left.message).toContain('workspace 188.9 MB')
    // reserve: 10% of 40 GB
    expect(r.left.message).toContain('reserve 4 GB')
    expect(r.left.message).toContain('one sequence of 1280 tokens') // 1024 + 256
    expect(r.left.message).toContain('GPU of 40 GB')
    expect(r.left.message).toContain('single GPU')
  })

  it('an invalid strategy stays invalid-strategy', () => {
    const r = estimateInference(defaultCostModels)(inputOf(models['llama-2-7b'], strategy({ tp: 3 })))
    expect(E.isLeft(r) && r.left.code).toBe('invalid-strategy')
  })

  it('a format the device has no peak for is a cost-model error (fp8 on an A100)', () => {
    const a100 = unsafeClusterOf('dgx-a100-80gb', 1)
    const r = estimateInference(defaultCostModels)({
      ...inputOf(models['llama-2-7b'], strategy({}), static16, a100),
      precision: { weights: 'fp8', activations: 'fp8', kvCache: 'fp8' },
    })
    expect(E.isLeft(r) && r.left.code).toBe('cost-model')
    expect(E.isLeft(r) && r.left.message).toMatch(/^compute: .*no fp8 peak/)
  })
})
