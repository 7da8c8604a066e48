import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { defaultCollectiveModel, estimate, type CollectiveOp } from '@meshplan/collectives'
import { decodeSeconds, prefillSeconds } from '@meshplan/compute'
import { defaultPrecision, models, precision, type Architecture, type Precision } from '@meshplan/model'
import { strategy, type Strategy } from '@meshplan/parallelism'
import { spanOf, unsafeClusterOf, type Cluster } from '@meshplan/topology'
import { defaultCostModels, type Overlap } from '@meshplan/cost-models'
import type { GroupCache } from '@meshplan/cost-models/internal'
import {
  evaluateInference,
  exposedComm,
  inferenceFigures,
  memoryAt,
  passCycle,
  passSeconds,
  prepareInference,
  servingCycle,
  tpAllReduceSeconds,
  stageComm,
  stageSeconds,
  type InferenceConstants,
  type InferenceFigures,
  type StageClass,
} from '../src/kernel'
import type { InferenceWorkload } from '../src/workload'
import { engineModel, genericEngine, type EngineModel } from '../src/engines'
import { meanAge } from '../src/arrivals'
import { expertParameters } from '@meshplan/model'
import { expectClose, rightOf } from '@meshplan/test-utils'

/** A prefill pass of `tokens` prompt tokens (`prompts` prompts) and no decode, through every pipeline stage. */
const passCycleOf = (c: InferenceConstants, tokens: number, prompts: number): number => passCycle(c, 0, 0, tokens, tokens, prompts)

// -------------------------------------------------------------------------------------
// fixtures
// -------------------------------------------------------------------------------------

const h100x8 = unsafeClusterOf('dgx-h100', 1)
const static1024: InferenceWorkload = { mode: 'static', inputTokens: 1024, outputTokens: 256 }

const prepared = (
  model: Architecture,
  s: Strategy,
  workload: InferenceWorkload = static1024,
  options: { readonly cluster?: Cluster; readonly precision?: Precision; readonly cache?: GroupCache } = {},
): InferenceConstants => {
  const c = prepareInference(defaultCostModels, options.cache)({
    model,
    cluster: options.cluster ?? h100x8,
    strategy: s,
    precision: options.precision ?? defaultPrecision,
    workload,
  })
  if (E.isLeft(c)) throw new Error(c.left.message)
  return c.right
}

const only = (c: InferenceConstants): StageClass => {
  if (c.classes.length !== 1) throw new Error(`expected one stage class, found ${c.classes.length}`)
  return c.classes[0] as StageClass
}

/** Seconds of `op` on `bytes` over `ranks` of `cluster`, straight from @meshplan/collectives. */
const collective = (cluster: Cluster, op: CollectiveOp, bytes: number, ranks: ReadonlyArray<number>): number => {
  const r = estimate(defaultCollectiveModel)(cluster)(op, bytes, spanOf(cluster)(ranks))
  if (E.isLeft(r)) throw new Error(r.left.message)
  return r.right.seconds
}

/** A copy of the scratch (the next call overwrites it). */
const commOf = (c: InferenceConstants, k: StageClass, decode: boolean, tokens: number): { tp: number; ep: number; pp: number; cp: number } => ({ ...stageComm(c, k, decode, tokens) })

const figures = (c: InferenceConstants, batch: number): InferenceFigures => evaluateInference(c, batch, inferenceFigures())
/** A figure as a number (`fits`: 1 or 0). */
const fig = (out: InferenceFigures, f: keyof InferenceFigures): number => Number(out[f])

const range = (from: number, to: number): ReadonlyArray<number> => Array.from({ length: to - from + 1 }, (_, i) => from + i)

// -------------------------------------------------------------------------------------
// exposedComm
// -------------------------------------------------------------------------------------

describe('exposedComm: communication left after overlap, Σ comm − min(Σ overlap·comm, compute)', () => {
  const comm = { tp: 1, ep: 2, pp: 3, cp: 4 } // Σ = 10
  const cpOnly: Overlap = { tp: 0, ep: 0, pp: 0, cp: 1 }

  it('hides all of the CP exchange behind a longer compute: 10 − 4 = 6', () => {
    expect(exposedComm(comm, cpOnly, 10)).toBe(6)
  })

  it('hides no more than the compute time: 10 − min(4, 1) = 9', () => {
    expect(exposedComm(comm, cpOnly, 1)).toBe(9)
  })

  it('with no overlap everything is exposed: 10', () => {
    expect(exposedComm(comm, { tp: 0, ep: 0, pp: 0, cp: 0 }, 100)).toBe(10)
  })

  it('fractional overlaps: 0.5 x 1 + 0.5 x 2 + 0 x 3 + 1 x 4 = 5.5 hidden, 10 − 5.5 = 4.5', () => {
    expect(exposedComm(comm, { tp: 0.5, ep: 0.5, pp: 0, cp: 1 }, 100)).toBe(4.5)
  })

  it('full overlap and a long compute hide everything: 0', () => {
    expect(exposedComm(comm, { tp: 1, ep: 1, pp: 1, cp: 1 }, 100)).toBe(0)
  })

  it('law: between Σ comm − compute and Σ comm, and never negative', () => {
    const unit = fc.double({ min: 0, max: 1, noNaN: true })
    const time = fc.double({ min: 0, max: 10, noNaN: true })
    fc.assert(
      fc.property(fc.tuple(time, time, time, time), fc.record({ tp: unit, ep: unit, pp: unit, cp: unit }), time, (parts, overlap, compute) => {
        const total = parts[0] + parts[1] + parts[2] + parts[3]
        const exposed = exposedComm({ tp: parts[0], ep: parts[1], pp: parts[2], cp: parts[3] }, overlap, compute)
        expect(exposed).toBeLessThanOrEqual(total + 1e-12)
        expect(exposed).toBeGreaterThanOrEqual(total - compute - 1e-12)
        expect(exposed).toBeGreaterThanOrEqual(-1e-12)
      }),
    )
  })
})

// -------------------------------------------------------------------------------------
// prepareInference
// -------------------------------------------------------------------------------------

describe('prepareInference', () => {
  it('Llama-2-7B TP2, 1024 + 256 tokens: one stage class with the memory worked out by hand', () => {
    const c = prepared(models['llama-2-7b'], strategy({ tp: 2 }))
    const k = only(c)
    expect(k).toMatchObject({ ranks: [0], layers: 32, moeLayers: 0, sends: false })
    // parameters: per layer 4 x 4096^2 (attention) + 3 x 4096 x 11008 (SwiGLU) + 2 x 4096 (norms) = 202,383,360;
    //   x 32 = 6,476,267,520; + embedding and LM head 2 x 32000 x 4096 = 262,144,000; + final norm 4096 = 6,738,415,616.
    // per GPU with TP2: norms (32 x 2 x 4096 + 4096 = 266,240) replicated, the rest halved:
    //   (6,738,415,616 − 266,240) / 2 + 266,240 = 3,369,340,928 parameters x 2 B = 6,738,681,856 B
    const weights = 6_738_681_856
    // workspace, a 1280-token chunk: per token 2 x 4096 + max(attention 2 x 16 x 128 + 2 x 16 x 128 = 8192, SwiGLU 2 x 11008 / 2 = 11008)
    //   = 19,200 elements x 2 B x 1280 = 49,152,000; + fp32 logits 4 x 32000 / 2 = 64,000
    const workspace = 49_216_000
    const reserve = 8e9 // 10% of 80 GB
    expect(k.baseBytes).toBe(weights + workspace + reserve)
    expect(k.baseBytes).toBe(14_787_897_856)
    // KV per token per GPU: 2 (K, V) x 32 layers x 16 heads x 128 x 2 B = 262,144; x 1280 tokens = 335,544,320
    expect(k.bytesPerSequence).toBe(335_544_320)
    // (80e9 − 14,787,897,856) / 262,144 = 248,764.9 -> 248,764 tokens; / 1280 = 194.3 -> 194 sequences
    expect(c.memory.maxSequences).toBe(194)
    expect(c.maxBatch).toBe(194)
    expect(c).toMatchObject({ world: 2, dp: 1, pp: 1, tp: 2, cp: 1, hidden: 4096, topK: 0, activationBytes: 2, sequenceParallel: false })
    // K and V of 16 heads of 128 on each GPU: 2 x 16 x 128 = 4096
    expect(c.kvElements).toBe(4096)
    expect(c.groups.tp).toBeDefined()
    expect(c.groups.ep).toBeUndefined()
    expect(c.groups.pp).toBeUndefined()
    expect(c.groups.cp).toBeUndefined()
  })

  it('maxBatch = min(memory.maxSequences, workload.maxBatch ?? 1024)', () => {
    // memory allows 194 (above): a workload limit of 100 wins, one of 500 does not
    expect(prepared(models['llama-2-7b'], strategy({ tp: 2 }), { ...static1024, maxBatch: 100 }).maxBatch).toBe(100)
    expect(prepared(models['llama-2-7b'], strategy({ tp: 2 }), { ...static1024, maxBatch: 500 }).maxBatch).toBe(194)
    // Llama-2-70B TP8: (80e9 − 17,246,470,144 weights − 60,309,120 workspace − 8e9) / 40,960 B per token = 1,335,283 tokens;
    // / 1280 = 1043 sequences, above the default limit 1024
    const big = prepared(models['llama-2-70b'], strategy({ tp: 8 }))
    expect(big.memory.maxSequences).toBe(1043)
    expect(big.maxBatch).toBe(1024)
  })

  it('the dispatch factor is (etp / tp) x topK: Mixtral TP2 ETP2 -> 2, attention-DP EP8 -> 2', () => {
    expect(prepared(models['mixtral-8x7b'], strategy({ tp: 2, etp: 2 })).dispatchFactor).toBe(2)
    expect(prepared(models['mixtral-8x7b'], strategy({ dp: 8, ep: 8 })).dispatchFactor).toBe(2)
    expect(prepared(models['mixtral-8x7b'], strategy({ tp: 2, ep: 2 })).dispatchFactor).toBe(1)
  })

  it('leaves an invalid strategy as invalid-strategy with every violation (tp 3 on Llama-2-7B)', () => {
    const r = prepareInference(defaultCostModels)({
      model: models['llama-2-7b'],
      cluster: h100x8,
      strategy: strategy({ tp: 3 }),
      precision: defaultPrecision,
      workload: static1024,
    })
    expect(E.isLeft(r)).toBe(true)
    if (E.isRight(r)) return
    expect(r.left.code).toBe('invalid-strategy')
    // 32 heads, 32 KV heads and an FFN of 11008 are not divisible by 3
    expect(r.left.violations?.map((v) => v.code)).toEqual(['heads-tp', 'kv-heads-tp', 'ffn-tp'])
    for (const v of r.left.violations ?? []) expect(r.left.message).toContain(v.message)
  })

  it('rejects a strategy wider than the cluster (tp 16 on 8 GPUs)', () => {
    const r = prepareInference(defaultCostModels)({
      model: models['llama-2-7b'],
      cluster: h100x8,
      strategy: strategy({ tp: 16 }),
      precision: defaultPrecision,
      workload: static1024,
    })
    expect(E.isLeft(r) && r.left.code).toBe('invalid-strategy')
    expect(E.isLeft(r) && r.left.violations?.map((v) => v.code)).toContain('gpus-exceed-cluster')
  })

  it('rejects an output length below one token as invalid-workload, and takes a mean length that is not whole', () => {
    const at = (outputTokens: number) =>
      prepareInference(defaultCostModels)({
        model: models['llama-2-7b'],
        cluster: h100x8,
        strategy: strategy({}),
        precision: defaultPrecision,
        workload: { mode: 'static', inputTokens: 10, outputTokens },
      })
    const r = at(0.5)
    expect(E.isLeft(r) && r.left.code).toBe('invalid-workload')
    expect(E.isRight(at(1.5))).toBe(true)
  })

  it('refuses what it cannot honour yet (a draft model it is not told; arrivals outside continuous batching) as unsupported, naming the field', () => {
    const at = (workload: InferenceWorkload) =>
      prepareInference(defaultCostModels)({ model: models['llama-2-7b'], cluster: h100x8, strategy: strategy({}), precision: defaultPrecision, workload })
    const speculative = at({ mode: 'max_throughput', inputTokens: 10, outputTokens: 10, speculative: { method: 'draft_model', draftTokens: 4, acceptanceLength: 2.5 } })
    expect(E.isLeft(speculative) && speculative.left.code).toBe('unsupported')
    expect(E.isLeft(speculative) && speculative.left.message).toMatch(/^workload\.speculative: /)
    expect(E.isRight(at({ mode: 'max_throughput', inputTokens: 10, outputTokens: 10, speculative: { method: 'mtp', draftTokens: 1, acceptanceLength: 1.7 } }))).toBe(true)
    // more accepted per step than drafted plus one cannot be
    const over = at({ mode: 'latency', inputTokens: 10, outputTokens: 10, speculative: { method: 'eagle', draftTokens: 3, acceptanceLength: 4.5 } })
    expect(E.isLeft(over) && over.left.code).toBe('invalid-workload')
    expect(E.isLeft(over) && over.left.message).toMatch(/^workload\.speculative\.acceptanceLength: .* 4 tokens per step, got 4\.5$/)
    const open = at({ mode: 'static', inputTokens: 10, outputTokens: 10, batch: 4, requestRate: 2 })
    expect(E.isLeft(open) && open.left.code).toBe('unsupported')
    expect(E.isLeft(open) && open.left.message).toMatch(/^workload\.request_rate: /)
    // continuous batching takes every kind of arrival, lengths that vary and a token budget
    for (const w of [
      { mode: 'max_throughput', inputTokens: 10, outputTokens: 10, requestRate: 2 },
      { mode: 'max_throughput', inputTokens: 10, outputTokens: 10, concurrency: 8 },
      { mode: 'max_throughput', inputTokens: 10, outputTokens: 10, numRequests: 100, lengthDistribution: 'sharegpt' },
      { mode: 'max_throughput', inputTokens: 10.5, outputTokens: 9.25, maxNumTokens: 2048, lengthDistribution: 'uniform', rangeRatio: 0.5 },
    ] as const) {
      expect(E.isRight(at(w))).toBe(true)
    }
  })

  describe('speculative decoding: the target verifies draftTokens + 1 tokens per sequence in one pass, acceptanceLength come out', () => {
    // Llama-2-7B on one H100, one request of 128 + 128 tokens at a time: one stage, no communication, CUDA graphs (no launch floor)
    const input = (speculative?: InferenceWorkload['speculative']) => ({
      model: models['llama-2-7b'],
      cluster: unsafeClusterOf('dgx-h100', 1),
      strategy: strategy({}),
      precision: defaultPrecision,
      workload: { mode: 'latency' as const, inputTokens: 128, outputTokens: 128, ...(speculative === undefined ? {} : { speculative }) },
    })
    const figures = (speculative?: InferenceWorkload['speculative']) => {
      const c = rightOf(prepareInference(defaultCostModels)(input(speculative)))
      return { c, out: evaluateInference(c, 1, inferenceFigures()) }
    }

    it('n-gram lookup (no GPU draft): TPOT = the mean of the first and last verify steps over the tokens accepted', () => {
      const { c, out } = figures({ method: 'ngram', draftTokens: 3, acceptanceLength: 2 })
      const k = c.classes[0]
      if (k === undefined) throw new Error('no stage')
      // the steps run at 129 and 255 keys, each verifying 4 tokens of the one sequence; 2 tokens come out per step
      const step = (decodeSeconds(k.compute, 1, 129, 4) + decodeSeconds(k.compute, 1, 255, 4)) / 2
      expect(out.tpot).toBeCloseTo(step / 2, 12)
      // memory-bound: 6.74e9 parameters · 2 bytes = 13.5 GB read at 0.85 · 3.35 TB/s takes 4.73 ms at least, whatever the 4 tokens
      expect(step).toBeGreaterThan(13.48e9 / (0.85 * 3.35e12))
      expect(step / figures().out.tpot).toBeLessThan(1.1)
    })

    it('an EAGLE head adds its draft passes to the step: 3 passes of one layer (of 32) and the LM head', () => {
      const ngram = figures({ method: 'ngram', draftTokens: 3, acceptanceLength: 2 })
      const eagle = figures({ method: 'eagle', draftTokens: 3, acceptanceLength: 2 })
      const k = eagle.c.classes[0]
      if (k === undefined) throw new Error('no stage')
      const p = k.parts
      const draftAt = (keys: number) => 3 * ((decodeSeconds(p.dense, 1, 0) + decodeSeconds(p.decode, 1, keys)) / 32 + decodeSeconds(p.head, 1, 0))
      expect(eagle.out.tpot - ngram.out.tpot).toBeCloseTo((draftAt(129) + draftAt(255)) / 2 / 2, 12)
      // the head's layer sits with the LM head: its weights and a 33rd layer of KV cache per sequence
      expect(eagle.c.classes[0]?.baseBytes ?? 0).toBeGreaterThan(ngram.c.classes[0]?.baseBytes ?? Infinity)
      expect(eagle.c.classes[0]?.bytesPerSequence ?? 0).toBeCloseTo(((ngram.c.classes[0]?.bytesPerSequence ?? 0) * 33) / 32, 6)
    })

    it('continuous batching produces acceptanceLength tokens per sequence per pass: with nothing drafted on the GPU and 1 accepted, it only costs', () => {
      const prepared = (speculative?: InferenceWorkload['speculative']) =>
        rightOf(prepareInference(defaultCostModels)({ ...input(speculative), workload: { mode: 'max_throughput', inputTokens: 512, outputTokens: 256, ...(speculative === undefined ? {} : { speculative }) } }))
      const steady = (speculative?: InferenceWorkload['speculative']) => evaluateInference(prepared(speculative), 64, inferenceFigures())
      const none = steady()
      const verifyOnly = steady({ method: 'ngram', draftTokens: 3, acceptanceLength: 1 })
      const accepted = steady({ method: 'ngram', draftTokens: 3, acceptanceLength: 3 })
      expect(verifyOnly.tokensPerSecond).toBeLessThan(none.tokensPerSecond)
      // 64 sequences at 512 + 128 keys on average (fixed lengths: half the output); a pass gives each 3 tokens, so
      // 64 · 3 / 256 = 0.75 prompts arrive per pass and a token of each sequence takes a third of the pass
      const c = prepared({ method: 'ngram', draftTokens: 3, acceptanceLength: 3 })
      const pass = servingCycle(c, 64, 512 + 128, 0.75)
      expect(accepted.tpot).toBeCloseTo(pass / 3, 12)
      expect(accepted.tokensPerSecond).toBeCloseTo((64 * 3) / pass, 6)
      // against verifying 4 tokens for 1: more than twice the tokens per second (the extra prompts cost some)
      expect(accepted.tokensPerSecond).toBeGreaterThan(2 * verifyOnly.tokensPerSecond)
    })
  })

  // Regression (found by these tests, fixed): prepareInference's comment says it checks the workload, but it never calls
  // inferenceWorkload. inputTokens 0 is accepted (Right, maxBatch 435: the context is
  // 0 + 256 tokens), outputTokens −1 is accepted (Right, maxBatch 1024: context 1023),
  // and mode "fast" is accepted and evaluated as static. Each should be a Left with code
  // invalid-workload naming the field (as inferenceWorkload says, e.g.
  // "workload.inputTokens: expected a positive integer, got 0").
  it('rejects a workload inferenceWorkload rejects (inputTokens 0, outputTokens −1, an unknown mode)', () => {
    const bad: ReadonlyArray<InferenceWorkload> = [
      { mode: 'static', inputTokens: 0, outputTokens: 256 },
      { mode: 'static', inputTokens: 1024, outputTokens: -1 },
      { mode: 'fast' as InferenceWorkload['mode'], inputTokens: 1024, outputTokens: 256 },
    ]
    for (const workload of bad) {
      const r = prepareInference(defaultCostModels)({ model: models['llama-2-7b'], cluster: h100x8, strategy: strategy({}), precision: defaultPrecision, workload })
      expect(E.isLeft(r) && r.left.code).toBe('invalid-workload')
    }
  })

  it('a shared group cache prices a span once: TP2 and TP2 DP2 share the TP group', () => {
    const cache: GroupCache = new Map()
    const a = prepared(models['llama-2-7b'], strategy({ tp: 2 }), static1024, { cache })
    const b = prepared(models['llama-2-7b'], strategy({ tp: 2, dp: 2 }), static1024, { cache })
    expect(a.groups.tp).toBeDefined()
    expect(b.groups.tp).toBe(a.groups.tp)
    // without a cache each deployment prices its own
    const c = prepared(models['llama-2-7b'], strategy({ tp: 2 }))
    expect(c.groups.tp).not.toBe(a.groups.tp)
  })

  it('groups pipeline stages with the same layers, role and memory into one class (Llama-2-70B TP2 PP4)', () => {
    const c = prepared(models['llama-2-70b'], strategy({ tp: 2, pp: 4 }))
    // 80 layers / 4 = 20 per stage; the first holds the embedding, the last the LM head, the middle two are alike
    expect(c.classes.map((k) => ({ ranks: k.ranks, layers: k.layers, sends: k.sends }))).toEqual([
      { ranks: [0], layers: 20, sends: true },
      { ranks: [1, 2], layers: 20, sends: true },
      { ranks: [3], layers: 20, sends: false },
    ])
  })
})

// -------------------------------------------------------------------------------------
// stageComm
// -------------------------------------------------------------------------------------

describe('stageComm: seconds of each kind of communication of one stage', () => {
  it('TP: Llama-2-7B TP2, a decode step of 8 tokens = 2 x 32 layers x all-reduce of 65,536 B over ranks 0-1', () => {
    const c = prepared(models['llama-2-7b'], strategy({ tp: 2 }))
    // the layer output: 8 tokens x 4096 x 2 B = 65,536 B
    const allReduce = collective(h100x8, 'all_reduce', 65_536, [0, 1])
    expect(allReduce).toBeGreaterThan(0)
    const comm = commOf(c, only(c), true, 8)
    expectClose(comm.tp, 2 * 32 * allReduce)
    // a dense model on one stage: no EP, no PP, no CP
    expect(comm.ep).toBe(0)
    expect(comm.pp).toBe(0)
    expect(comm.cp).toBe(0)
  })

  it('TP in a prefill: 2 prompts of 1024 tokens = 2 x 32 x all-reduce of 2048 x 4096 x 2 = 16,777,216 B', () => {
    const c = prepared(models['llama-2-7b'], strategy({ tp: 2 }))
    expectClose(commOf(c, only(c), false, 2048).tp, 2 * 32 * collective(h100x8, 'all_reduce', 16_777_216, [0, 1]))
  })

  it('TP with sequence parallelism: a reduce-scatter and an all-gather of the same buffer instead', () => {
    const c = prepared(models['llama-2-7b'], strategy({ tp: 2, sequenceParallel: true }))
    const bytes = 2048 * 4096 * 2 // 16,777,216
    const expected = 2 * 32 * (collective(h100x8, 'reduce_scatter', bytes, [0, 1]) + collective(h100x8, 'all_gather', bytes, [0, 1]))
    expectClose(commOf(c, only(c), false, 2048).tp, expected)
  })

  it('fp8 activations exchange 16-bit values: the same TP time as bf16', () => {
    const bf16 = prepared(models['llama-2-7b'], strategy({ tp: 2 }))
    const fp8 = prepared(models['llama-2-7b'], strategy({ tp: 2 }), static1024, { precision: precision({ activations: 'fp8' }) })
    expect(commOf(fp8, only(fp8), true, 8).tp).toBe(commOf(bf16, only(bf16), true, 8).tp)
  })

  it('one GPU: nothing to communicate', () => {
    const c = prepared(models['llama-2-7b'], strategy({}))
    expect(commOf(c, only(c), true, 64)).toEqual({ tp: 0, ep: 0, pp: 0, cp: 0 })
  })

  it('EP: Mixtral-8x7B DP8 EP8, a decode of 32 tokens: 32 MoE layers x DeepEP low-latency dispatch and combine in one node', () => {
    const c = prepared(models['mixtral-8x7b'], strategy({ dp: 8, ep: 8 }))
    const k = only(c)
    expect(k.moeLayers).toBe(32)
    // 32 tokens x top-2 = 64 messages per rank, 7/8 of them to the other 7 ranks of the node over NVLink;
    // dispatch: 4096 fp8 + 4096/128 x 4 B of scales + a 16 B header = 4240 B; combine: 4096 x 2 B = 8192 B
    const nvlink = 450e9 * defaultCollectiveModel.efficiency.scaleUp
    expect(defaultCollectiveModel.efficiency.scaleUp).toBe(0.8)
    const dispatch = 35e-6 + (56 * 4240) / nvlink
    const combine = 35e-6 + (56 * 8192) / nvlink
    const comm = commOf(c, k, true, 32)
    expectClose(comm.ep, 32 * (dispatch + combine), 1e-9)
    expect(comm.tp).toBe(0) // tp 1
  })

  it('EP in a prefill: the normal kernels, one message per rank a token reaches (one expert per rank: 1 − (7/8)(6/7) = 0.25)', () => {
    const c = prepared(models['mixtral-8x7b'], strategy({ dp: 8, ep: 8 }))
    const k = only(c)
    const nvlink = 450e9 * 0.8
    // per rank: n T p_r (m − 1)/m messages: 8 x 1024 x 0.25 x 7/8 of 4224 B (dispatch, fp8 with scales) and 8192 B (combine)
    const reach = 1 - (7 / 8) * (6 / 7)
    const messages = 8 * 1024 * reach * (7 / 8)
    const comm = commOf(c, k, false, 1024)
    expectClose(comm.ep, 32 * (35e-6 + (messages * 4224) / nvlink + 35e-6 + (messages * 8192) / nvlink), 1e-9)
  })

  it('EP as vLLM runs it by default (allgather_reducescatter): 32 layers x an all-gather and a reduce-scatter of 8 x 32 x 4096 x 2 = 2,097,152 B', () => {
    const vllm = engineModel({ name: 'vllm', version: '0.11.0' })
    const c = rightOf(prepareInference(defaultCostModels)({ model: models['mixtral-8x7b'], cluster: h100x8, strategy: strategy({ dp: 8, ep: 8 }), precision: defaultPrecision, workload: static1024, engine: vllm }))
    const ranks = range(0, 7)
    const comm = commOf(c, only(c), true, 32)
    expectClose(comm.ep, 32 * (collective(h100x8, 'all_gather', 2_097_152, ranks) + collective(h100x8, 'reduce_scatter', 2_097_152, ranks)), 1e-9)
    // with the attention tensor-parallel the tokens are on every rank already: the MoE output's reduction is the TP all-reduce
    const tp = rightOf(prepareInference(defaultCostModels)({ model: models['mixtral-8x7b'], cluster: h100x8, strategy: strategy({ tp: 8, ep: 8 }), precision: defaultPrecision, workload: static1024, engine: vllm }))
    expect(commOf(tp, only(tp), true, 32).ep).toBe(0)
  })

  it('PP: Llama-2-70B TP4 PP2, 4 tokens: the first stage sends 4 x 8192 x 2 = 65,536 B to rank 4, the last sends nothing', () => {
    const c = prepared(models['llama-2-70b'], strategy({ tp: 4, pp: 2 }))
    const [first, last] = c.classes as [StageClass, StageClass]
    expect(first.sends).toBe(true)
    expect(last.sends).toBe(false)
    // pipeline rank r holds GPUs 4r .. 4r+3 (pp outermost): the group of GPU 0 is {0, 4}
    expectClose(commOf(c, first, true, 4).pp, collective(h100x8, 'send_recv', 65_536, [0, 4]))
    expect(commOf(c, last, true, 4).pp).toBe(0)
    // TP: 2 x 40 layers x all-reduce of 65,536 B over ranks 0-3
    expectClose(commOf(c, last, true, 4).tp, 2 * 40 * collective(h100x8, 'all_reduce', 65_536, range(0, 3)))
  })

  it('CP: Llama-2-7B CP2, a prefill all-gathers the keys and values, a decode all-reduces the partial outputs', () => {
    const c = prepared(models['llama-2-7b'], strategy({ cp: 2 }))
    const k = only(c)
    // prefill of 2 prompts of 1024: 2048 tokens x (2 x 32 heads x 128 = 8192 K and V elements) x 2 B = 33,554,432 B per layer
    expectClose(commOf(c, k, false, 2048).cp, 32 * collective(h100x8, 'all_gather', 33_554_432, [0, 1]))
    // decode of 8 sequences: 8 x 4096 x 2 B / tp 1 = 65,536 B per layer
    expectClose(commOf(c, k, true, 8).cp, 32 * collective(h100x8, 'all_reduce', 65_536, [0, 1]))
  })
})

// -------------------------------------------------------------------------------------
// stageSeconds and memoryAt
// -------------------------------------------------------------------------------------

describe('stageSeconds: compute (@meshplan/compute) + exposed communication', () => {
  it('TP is on the critical path (overlap 0): Llama-2-7B TP2 = roofline time + the whole TP time', () => {
    const c = prepared(models['llama-2-7b'], strategy({ tp: 2 }))
    const k = only(c)
    expectClose(stageSeconds(c, k, true, 16, 1100), decodeSeconds(k.compute, 16, 1100) + commOf(c, k, true, 16).tp)
    // a prefill of 16 prompts of 1024 tokens: 16,384 tokens through the TP all-reduces
    expectClose(stageSeconds(c, k, false, 16, 0), prefillSeconds(k.compute, 1024, 16) + commOf(c, k, false, 16 * 1024).tp)
  })

  it('CP hides behind the compute (overlap 1): Llama-2-7B CP2 decode = roofline time only, while the compute is longer', () => {
    const c = prepared(models['llama-2-7b'], strategy({ cp: 2 }))
    const k = only(c)
    const compute = decodeSeconds(k.compute, 16, 1100)
    const cp = commOf(c, k, true, 16).cp
    expect(cp).toBeGreaterThan(0)
    expect(compute).toBeGreaterThan(cp)
    expectClose(stageSeconds(c, k, true, 16, 1100), compute)
  })

  it('with every overlap 0 the CP exchange is added in full', () => {
    const noOverlap = prepareInference({ ...defaultCostModels, overlap: { tp: 0, ep: 0, pp: 0, cp: 0 } })({
      model: models['llama-2-7b'],
      cluster: h100x8,
      strategy: strategy({ cp: 2 }),
      precision: defaultPrecision,
      workload: static1024,
    })
    if (E.isLeft(noOverlap)) throw new Error(noOverlap.left.message)
    const c = noOverlap.right
    const k = only(c)
    expectClose(stageSeconds(c, k, true, 16, 1100), decodeSeconds(k.compute, 16, 1100) + commOf(c, k, true, 16).cp)
  })
})

describe('memoryAt', () => {
  it('is baseBytes + batch x bytesPerSequence: Llama-2-7B TP2, 16 sequences = 14,787,897,856 + 16 x 335,544,320 = 20,156,606,976 B', () => {
    const c = prepared(models['llama-2-7b'], strategy({ tp: 2 }))
    expect(memoryAt(c, 16)).toBe(20_156_606_976)
    expect(fig(figures(c, 16), 'memoryPerGpu')).toBe(20_156_606_976)
  })

  it('takes the fullest stage class with several stages', () => {
    const c = prepared(models['llama-2-70b'], strategy({ tp: 2, pp: 4 }))
    for (const batch of [1, 7, 100]) {
      expect(memoryAt(c, batch)).toBe(Math.max(...c.classes.map((k) => k.baseBytes + batch * k.bytesPerSequence)))
    }
  })

  it('the fits figure flips exactly at memory.maxSequences, where memoryAt crosses the capacity', () => {
    for (const c of [prepared(models['llama-2-7b'], strategy({ tp: 2 })), prepared(models['llama-2-70b'], strategy({ tp: 4, pp: 2 }))]) {
      const n = c.memory.maxSequences
      expect(fig(figures(c, n), 'fits')).toBe(1)
      expect(fig(figures(c, n + 1), 'fits')).toBe(0)
      expect(memoryAt(c, n)).toBeLessThanOrEqual(80e9)
      expect(memoryAt(c, n + 1)).toBeGreaterThan(80e9)
    }
  })
})

// -------------------------------------------------------------------------------------
// evaluateInference
// -------------------------------------------------------------------------------------

describe('evaluateInference: one pipeline stage (Llama-2-7B TP2, static 1024 + 256)', () => {
  const c = prepared(models['llama-2-7b'], strategy({ tp: 2 }))
  const k = only(c)
  const B = 16
  const out = figures(c, B)

  it('TTFT is the prefill of the batch, and the prefill figure', () => {
    const prefill = stageSeconds(c, k, false, B, 0)
    expect(fig(out, 'ttft')).toBe(prefill)
    expect(fig(out, 'prefillSeconds')).toBe(prefill)
  })

  it('TPOT is the mean of the decode steps at contexts input + 1 = 1025 and input + output − 1 = 1279', () => {
    const tpot = (stageSeconds(c, k, true, B, 1025) + stageSeconds(c, k, true, B, 1279)) / 2
    expectClose(fig(out, 'tpot'), tpot)
    expectClose(fig(out, 'decodeSeconds'), tpot)
  })

  it('request latency = TTFT + 255 x TPOT; tokens/s = dp x B x 256 / latency; per GPU / 2; per user 1 / TPOT', () => {
    const ttft = stageSeconds(c, k, false, B, 0)
    const tpot = (stageSeconds(c, k, true, B, 1025) + stageSeconds(c, k, true, B, 1279)) / 2
    const latency = ttft + 255 * tpot
    expectClose(fig(out, 'requestLatency'), latency)
    // dp 1 x 16 sequences x 256 tokens = 4096 tokens over the latency
    expectClose(fig(out, 'tokensPerSecond'), 4096 / latency)
    expectClose(fig(out, 'tokensPerSecondPerGpu'), 4096 / latency / 2)
    expectClose(fig(out, 'tokensPerSecondPerUser'), 1 / tpot)
    expect(fig(out, 'fits')).toBe(1)
  })

  it('counts every data-parallel replica in the total: TP2 DP4 makes 4x the tokens on 8 GPUs, the same per GPU', () => {
    const dp4 = prepared(models['llama-2-7b'], strategy({ tp: 2, dp: 4 }))
    const four = figures(dp4, B)
    expectClose(fig(four, 'tokensPerSecond'), 4 * fig(out, 'tokensPerSecond'), 1e-9)
    expectClose(fig(four, 'tokensPerSecondPerGpu'), fig(out, 'tokensPerSecondPerGpu'), 1e-9)
    expectClose(fig(four, 'tpot'), fig(out, 'tpot'), 1e-9)
  })

  it('one output token: TPOT is the decode step at input + 1 and the request ends with the first token', () => {
    const c1 = prepared(models['llama-2-7b'], strategy({ tp: 2 }), { mode: 'static', inputTokens: 1024, outputTokens: 1 })
    const o = figures(c1, 4)
    expectClose(fig(o, 'tpot'), stageSeconds(c1, only(c1), true, 4, 1025))
    expect(fig(o, 'requestLatency')).toBe(fig(o, 'ttft'))
    // 4 sequences x 1 token over the prefill
    expectClose(fig(o, 'tokensPerSecond'), 4 / stageSeconds(c1, only(c1), false, 4, 0))
  })

  it('latency mode runs batch 1 whatever batch is passed', () => {
    const cl = prepared(models['llama-2-7b'], strategy({ tp: 2 }), { mode: 'latency', inputTokens: 1024, outputTokens: 256 })
    const kl = only(cl)
    const at64 = { ...figures(cl, 64) }
    expect(at64).toEqual({ ...figures(cl, 1) })
    const ttft = stageSeconds(cl, kl, false, 1, 0)
    const tpot = (stageSeconds(cl, kl, true, 1, 1025) + stageSeconds(cl, kl, true, 1, 1279)) / 2
    expect(at64.ttft).toBe(ttft)
    expectClose(at64.tpot, tpot)
    // 1 sequence x 256 tokens over TTFT + 255 TPOT
    expectClose(at64.tokensPerSecond, 256 / (ttft + 255 * tpot))
    expect(at64.memoryPerGpu).toBe(memoryAt(cl, 1))
  })
})

describe('evaluateInference: max_throughput (continuous batching with chunked prefill, the generic engine)', () => {
  // Llama-2-7B TP2, 1024 + 64 tokens: (80e9 − 14,787,897,856) / 262,144 = 248,764 tokens / 1088 = 228 sequences fit
  const workload: InferenceWorkload = { mode: 'max_throughput', inputTokens: 1024, outputTokens: 64 }
  const c = prepared(models['llama-2-7b'], strategy({ tp: 2 }), workload)
  const k = only(c)

  it('fits 228 sequences of 1088 tokens, under the budget limit 8192 / (1 + 1024/64) = 481', () => {
    expect(c.capacity).toBe(228)
    expect(c.maxBatch).toBe(228)
  })

  it('B = 128: TPOT is one pass of 128 decode tokens at 1024 + 64/2 = 1056 keys and 128/64 = 2 prompts (2048 tokens), 130 LM-head rows', () => {
    const out = figures(c, 128)
    const tpot = passSeconds(c, k, 128, 1056, 2048, 2048, 130)
    expectClose(fig(out, 'tpot'), tpot)
    // the prompt fits the budget left beside the decode tokens (8192 − 128): one chunk, after half a pass of waiting
    expectClose(fig(out, 'ttft'), 1.5 * tpot)
    expectClose(fig(out, 'tokensPerSecond'), 128 / tpot)
    expectClose(fig(out, 'tokensPerSecondPerGpu'), 128 / tpot / 2)
    expectClose(fig(out, 'requestLatency'), fig(out, 'ttft') + 63 * tpot)
  })

  it('the fused pass reads the weights once: it is shorter than a decode step plus a prefill of the same tokens', () => {
    expect(passSeconds(c, k, 128, 1056, 2048, 2048, 130)).toBeLessThan(stageSeconds(c, k, true, 128, 1056) + stageSeconds(c, k, false, 2, 0))
  })

  it('B = 16 < output 64: the cycle prefills 16 / 64 = 0.25 prompts, 256 tokens', () => {
    const out = figures(c, 16)
    expectClose(fig(out, 'tpot'), passSeconds(c, k, 16, 1056, 256, 256, 16.25), 1e-9)
  })
})

describe('evaluateInference: pipelines (fill and drain, steady decode cycle)', () => {
  it('Llama-2-70B TP4 PP2, B = 8: m = 2 micro-batches of 4; TTFT = Σ + (m − 1) max, decode = max(Σ, m max)', () => {
    const c = prepared(models['llama-2-70b'], strategy({ tp: 4, pp: 2 }), { ...static1024, batch: 8 })
    const [s0, s1] = c.classes as [StageClass, StageClass]
    const prefill = [stageSeconds(c, s0, false, 4, 0), stageSeconds(c, s1, false, 4, 0)] as const
    const ttft = prefill[0] + prefill[1] + (2 - 1) * Math.max(...prefill)
    const cycle = (context: number): number => {
      const t = [stageSeconds(c, s0, true, 4, context), stageSeconds(c, s1, true, 4, context)] as const
      return Math.max(t[0] + t[1], 2 * Math.max(...t))
    }
    const out = figures(c, 8)
    expectClose(fig(out, 'ttft'), ttft)
    expectClose(fig(out, 'tpot'), (cycle(1025) + cycle(1279)) / 2)
    // every sequence of the replica gets one token per cycle: 1 replica x 8 x 256 tokens over the request
    expectClose(fig(out, 'tokensPerSecond'), (8 * 256) / (ttft + 255 * fig(out, 'tpot')))
    expectClose(fig(out, 'tokensPerSecondPerGpu'), fig(out, 'tokensPerSecond') / 8)
  })

  describe('Llama-2-70B TP2 PP4 (stage classes [0], [1, 2], [3])', () => {
    const c = prepared(models['llama-2-70b'], strategy({ tp: 2, pp: 4 }))
    const [first, middle, last] = c.classes as [StageClass, StageClass, StageClass]
    /** Σ over the 4 stages (the middle class twice) and the slowest stage. */
    const stages = (decode: boolean, each: number, context: number): { sum: number; max: number } => {
      const t = [stageSeconds(c, first, decode, each, context), stageSeconds(c, middle, decode, each, context), stageSeconds(c, last, decode, each, context)] as const
      return { sum: t[0] + 2 * t[1] + t[2], max: Math.max(...t) }
    }

    it('B = 1: one micro-batch crosses the 4 stages: TTFT = Σ, decode = Σ', () => {
      const out = figures(c, 1)
      expectClose(fig(out, 'ttft'), stages(false, 1, 0).sum)
      expectClose(fig(out, 'tpot'), (stages(true, 1, 1025).sum + stages(true, 1, 1279).sum) / 2)
    })

    it('B = 2: m = 2 micro-batches of 1 (fewer than the stages): the decode cycle is Σ, as Σ > 2 max', () => {
      const out = figures(c, 2)
      const p = stages(false, 1, 0)
      expectClose(fig(out, 'ttft'), p.sum + 1 * p.max)
      const d = [stages(true, 1, 1025), stages(true, 1, 1279)] as const
      for (const x of d) expect(x.sum).toBeGreaterThan(2 * x.max) // the branch this case exercises
      expectClose(fig(out, 'tpot'), (d[0].sum + d[1].sum) / 2)
    })

    it('B = 8: m = 4 micro-batches of 2: TTFT = Σ + 3 max, the decode cycle is 4 max', () => {
      const out = figures(c, 8)
      const p = stages(false, 2, 0)
      expectClose(fig(out, 'ttft'), p.sum + 3 * p.max)
      const d = [stages(true, 2, 1025), stages(true, 2, 1279)] as const
      for (const x of d) expect(4 * x.max).toBeGreaterThanOrEqual(x.sum)
      expectClose(fig(out, 'tpot'), (4 * d[0].max + 4 * d[1].max) / 2)
    })

    it('memory is the fullest stage at the batch', () => {
      expect(fig(figures(c, 8), 'memoryPerGpu')).toBe(Math.max(...c.classes.map((k) => k.baseBytes + 8 * k.bytesPerSequence)))
    })
  })
})

describe('evaluateInference: laws (Llama-2-7B on 8 H100s, random TP x DP, batch and lengths)', () => {
  const cache: GroupCache = new Map()
  const deployment = fc
    .record({
      tpLog: fc.integer({ min: 0, max: 3 }),
      dpLog: fc.integer({ min: 0, max: 3 }),
      input: fc.integer({ min: 1, max: 4096 }),
      output: fc.integer({ min: 1, max: 1024 }),
      mode: fc.constantFrom('static' as const, 'max_throughput' as const, 'latency' as const),
    })
    .filter(({ tpLog, dpLog }) => tpLog + dpLog <= 3)

  it('every figure is finite and positive, per GPU x world = total, TPOT does not fall as the batch grows', () => {
    fc.assert(
      fc.property(deployment, fc.integer({ min: 1, max: 512 }), fc.integer({ min: 1, max: 512 }), ({ tpLog, dpLog, input, output, mode }, x, y) => {
        const s = strategy({ tp: 2 ** tpLog, dp: 2 ** dpLog })
        const c = prepared(models['llama-2-7b'], s, { mode, inputTokens: input, outputTokens: output }, { cache })
        expect(c.maxBatch).toBeGreaterThanOrEqual(1)
        const small = Math.min(x, y, c.maxBatch)
        const large = Math.min(Math.max(x, y), c.maxBatch)
        const a = figures(c, small)
        for (const f of ['ttft', 'tpot', 'requestLatency', 'tokensPerSecond', 'tokensPerSecondPerGpu', 'tokensPerSecondPerUser', 'memoryPerGpu', 'prefillSeconds', 'decodeSeconds'] as const) {
          const v = fig(a, f)
          expect(Number.isFinite(v) && v > 0).toBe(true)
        }
        expect(fig(a, 'fits')).toBe(1)
        expectClose(fig(a, 'tokensPerSecondPerGpu') * 2 ** (tpLog + dpLog), fig(a, 'tokensPerSecond'), 1e-12)
        expectClose(fig(a, 'tokensPerSecondPerUser') * fig(a, 'tpot'), 1, 1e-12)
        const b = figures(c, large)
        expect(fig(b, 'tpot')).toBeGreaterThanOrEqual(fig(a, 'tpot') * (1 - 1e-12))
      }),
      { numRuns: 150 },
    )
  })
})

// -------------------------------------------------------------------------------------
// engines, arrivals and MoE at scale
// -------------------------------------------------------------------------------------

describe('tpAllReduceSeconds: the engine all-reduce inside a node (vLLM custom_all_reduce.cuh), NCCL elsewhere', () => {
  const vllm = engineModel({ name: 'vllm', version: '0.11.0' })
  const c = rightOf(prepareInference(defaultCostModels)({ model: models['llama-2-70b'], cluster: h100x8, strategy: strategy({ tp: 8 }), precision: defaultPrecision, workload: static1024, engine: vllm }))

  it('runs on the 8 ranks of the node at the scale-up bandwidth, 450 GB/s per direction', () => {
    expect(c.customAllReduce).toMatchObject({ ranks: 8, bandwidth: 450e9 })
  })

  it('one-shot below 256 KiB on 8 ranks: 64 KiB takes 5.9 µs + 7 · 65,536 / 450e9 = 6.919 µs', () => {
    expectClose(tpAllReduceSeconds(c, 65_536), 5.9e-6 + (7 * 65_536) / 450e9, 1e-12)
    expectClose(tpAllReduceSeconds(c, 65_536), 6.919e-6, 1e-3)
  })

  it('two-shot from 256 KiB: 1 MiB takes 2 · 5.9 µs + 2 · 7/8 · 1,048,576 / 450e9 = 15.88 µs', () => {
    expectClose(tpAllReduceSeconds(c, 2 ** 20), 2 * 5.9e-6 + (2 * 7 * 2 ** 20) / (8 * 450e9), 1e-12)
    expectClose(tpAllReduceSeconds(c, 2 ** 20), 15.88e-6, 1e-3)
  })

  it('NCCL from 8 MiB, and always for the generic engine', () => {
    expectClose(tpAllReduceSeconds(c, 16 * 2 ** 20), collective(h100x8, 'all_reduce', 16 * 2 ** 20, [0, 1, 2, 3, 4, 5, 6, 7]), 1e-12)
    const generic = prepared(models['llama-2-70b'], strategy({ tp: 8 }))
    expect(generic.customAllReduce).toBeUndefined()
    expectClose(tpAllReduceSeconds(generic, 65_536), collective(h100x8, 'all_reduce', 65_536, [0, 1, 2, 3, 4, 5, 6, 7]), 1e-12)
  })

  it('law: below the NCCL threshold it is faster than NCCL for the small messages of a decode step', () => {
    for (const bytes of [1024, 16_384, 131_072]) expect(tpAllReduceSeconds(c, bytes)).toBeLessThan(collective(h100x8, 'all_reduce', bytes, [0, 1, 2, 3, 4, 5, 6, 7]))
  })
})

describe('the host: per pass when the engine does not overlap it; the eager launch floor', () => {
  const latency: InferenceWorkload = { mode: 'latency', inputTokens: 128, outputTokens: 128 }
  const at = (engine: EngineModel) => rightOf(prepareInference(defaultCostModels)({ model: models['llama-2-7b'], cluster: h100x8, strategy: strategy({}), precision: defaultPrecision, workload: latency, engine }))

  it('vLLM V1 adds 0.43 ms + 1 × 1.121 µs to every pass (prefill and each decode step)', () => {
    const generic = figures(at(genericEngine), 1)
    const vllm = figures(at(engineModel({ name: 'vllm', version: '0.11.0' })), 1)
    expectClose(fig(vllm, 'tpot') - fig(generic, 'tpot'), 0.43e-3 + 0.287e-3 / 256, 1e-9)
    expectClose(fig(vllm, 'ttft') - fig(generic, 'ttft'), 0.43e-3 + 0.287e-3 / 256, 1e-9)
  })

  it('without CUDA graphs a decode step takes at least 32 layers × 262.5 µs = 8.4 ms of launches', () => {
    const eager = at({ ...genericEngine, cudaGraphs: false })
    const k = only(eager)
    expect(decodeSeconds(k.compute, 1, 129)).toBeLessThan(8.4e-3)
    expectClose(stageSeconds(eager, k, true, 1, 129), 8.4e-3, 1e-9)
  })

  it('TensorRT-LLM from 1.0 (PyTorch backend): a pass takes the longer of the GPU and the host loop, 13.8 µs a sequence on the x86 host of a DGX B200, 34.375 µs on the Grace of a GB200', () => {
    const serving: InferenceWorkload = { mode: 'max_throughput', inputTokens: 128, outputTokens: 128 }
    const trt = engineModel({ name: 'trtllm', version: '1.0' })
    const on = (id: 'dgx-b200' | 'gb200-nvl72') => rightOf(prepareInference(defaultCostModels)({ model: models['gpt-oss-20b'], cluster: unsafeClusterOf(id, 1), strategy: strategy({}), precision: defaultPrecision, workload: serving, engine: trt }))
    const x86 = on('dgx-b200')
    const grace = on('gb200-nvl72')
    expect(x86.engine.host.perSequenceSeconds).toBe(13.8e-6)
    expect(grace.engine.host.perSequenceSeconds).toBe(8.8e-3 / 256)
    // gpt-oss-20b, 1000 running sequences at 192 keys and the 1000/128 = 7.8125 prompts that keep them: 1007.8125 sequences in the pass
    const prompts = 1000 / 128
    const gpu = (c: InferenceConstants) => passCycle(c, 1000, 192, prompts * 128, prompts * 128, 1000 + prompts)
    // the host loop: 1007.8125 · 13.8 µs = 13.908 ms on x86, 1007.8125 · 34.375 µs = 34.644 ms on Grace
    expectClose(1007.8125 * 13.8e-6, 13.908e-3, 1e-4)
    expectClose(1007.8125 * 34.375e-6, 34.644e-3, 1e-4)
    expect(gpu(grace)).toBeLessThan(34.644e-3)
    expectClose(servingCycle(grace, 1000, 192, prompts), 1007.8125 * 34.375e-6, 1e-12)
    expectClose(servingCycle(x86, 1000, 192, prompts), Math.max(gpu(x86), 1007.8125 * 13.8e-6), 1e-12)
    // a release before 1.0 (the TensorRT backend, C++ runtime) leaves the host out
    const before = rightOf(prepareInference(defaultCostModels)({ model: models['gpt-oss-20b'], cluster: unsafeClusterOf('gb200-nvl72', 1), strategy: strategy({}), precision: defaultPrecision, workload: serving, engine: engineModel({ name: 'trtllm', version: '0.17.0' }) }))
    expectClose(servingCycle(before, 1000, 192, prompts), gpu(before), 1e-12)
  })

  it('an overlapped host costs nothing while the GPU is the longer: the generic engine and SGLang agree on a static batch', () => {
    const sg = figures(at({ ...engineModel({ name: 'sglang', version: '0.5.3' }), customAllReduce: undefined }), 1)
    expectClose(fig(sg, 'tpot'), fig(figures(at(genericEngine), 1), 'tpot'), 1e-12)
  })
})

describe('evaluateInference: a finite run of requests issued at once (numRequests)', () => {
  const base: InferenceWorkload = { mode: 'max_throughput', inputTokens: 1024, outputTokens: 64 }
  const run = (w: InferenceWorkload) => prepared(models['llama-2-7b'], strategy({ tp: 2 }), w)

  it('fixed lengths, 100 requests (fewer than the 228 that fit): one wave, the prefill of 100 prompts then 64 cycles of 100', () => {
    const c = run({ ...base, numRequests: 100 })
    const out = figures(c, c.maxBatch)
    // 102,400 prompt tokens in passes of the 8192-token budget: 12.5 passes of 8192
    const startup = 12.5 * passCycleOf(c, 8192, 8)
    const decode = 64 * servingCycle(c, 100, 1024 + 32, 0)
    expectClose(fig(out, 'runSeconds'), startup + decode, 1e-9)
    expectClose(fig(out, 'tokensPerSecond'), (100 * 64) / (startup + decode), 1e-9)
    expect(fig(out, 'inFlight')).toBe(100)
  })

  it('fixed lengths, 300 requests over 228 running: a wave of 228 and a wave of 72', () => {
    const c = run({ ...base, numRequests: 300 })
    const out = figures(c, 228)
    const wave = (n: number): number => ((n * 1024) / 8192) * passCycleOf(c, 8192, 8) + 64 * servingCycle(c, n, 1024 + 32, 0)
    expectClose(fig(out, 'runSeconds'), wave(228) + wave(72), 1e-9)
  })

  it('fixed lengths, 2^31 − 1 requests: the alike waves priced once and counted (the fuzz campaign once took 10 s on it), the first tokens waiting for the waves before', () => {
    const n = 2 ** 31 - 1
    const c = run({ ...base, numRequests: n })
    const out = figures(c, 228)
    const wave = (k: number): number => ((k * 1024) / 8192) * passCycleOf(c, 8192, 8) + 64 * servingCycle(c, k, 1024 + 32, 0)
    const full = Math.floor(n / 228) // 2,147,483,647 = 9,418,787 · 228 + 211
    const rest = n - full * 228
    expect([full, rest]).toEqual([9_418_787, 211])
    expectClose(fig(out, 'runSeconds'), full * wave(228) + wave(rest), 1e-9)
    // wave i of the full ones starts at i · wave(228): its first tokens come half its prefill later, on average
    const start = (k: number): number => ((k * 1024) / 8192) * passCycleOf(c, 8192, 8)
    const waits = 228 * (full * (start(228) / 2) + (wave(228) * full * (full - 1)) / 2) + rest * (full * wave(228) + start(rest) / 2)
    expectClose(fig(out, 'ttft'), waits / n, 1e-9)
  })

  it('sharegpt lengths: the steady phase, then the tail of residual lengths; every request output counted, N · mean / run seconds', () => {
    const c = run({ ...base, numRequests: 2000, lengthDistribution: 'sharegpt' })
    const out = figures(c, c.maxBatch)
    expectClose(fig(out, 'tokensPerSecond') * fig(out, 'runSeconds'), 2000 * 64, 1e-9)
    // a long tail at few sequences: slower than the steady state at the full batch
    const steady = figures(prepared(models['llama-2-7b'], strategy({ tp: 2 }), { ...base, lengthDistribution: 'sharegpt' }), c.maxBatch)
    expect(fig(out, 'tokensPerSecond')).toBeLessThan(fig(steady, 'tokensPerSecond'))
    // the mean TPOT lies between the cycle of one sequence and that of the full batch
    expect(fig(out, 'tpot')).toBeGreaterThan(servingCycle(c, 1, 1024 + meanAge(c.lengths), 0))
    expect(fig(out, 'tpot')).toBeLessThanOrEqual(fig(steady, 'tpot'))
  })
})

describe('evaluateInference: closed and open loops', () => {
  const base: InferenceWorkload = { mode: 'max_throughput', inputTokens: 1024, outputTokens: 64 }
  const at = (w: InferenceWorkload) => prepared(models['llama-2-7b'], strategy({ tp: 2, dp: 4 }), w, { cluster: h100x8 })

  it('concurrency 64 over dp 4: 16 in flight per replica, 4 × 16 / cycle(16) tokens/s', () => {
    const c = at({ ...base, concurrency: 64 })
    const out = figures(c, c.maxBatch)
    const cycle = servingCycle(c, 16, 1024 + 32, 16 / 64)
    expectClose(fig(out, 'tpot'), cycle, 1e-12)
    expectClose(fig(out, 'tokensPerSecond'), (4 * 16) / cycle, 1e-12)
    expect(fig(out, 'inFlight')).toBe(16)
  })

  it('concurrency beyond what runs: the rest wait, and the mean latency is concurrency / request rate (Little)', () => {
    const c = at({ ...base, concurrency: 4 * 1000 })
    const out = figures(c, c.maxBatch)
    const b = c.maxBatch
    const cycle = servingCycle(c, b, 1024 + 32, b / 64)
    expectClose(fig(out, 'requestLatency'), 1000 / (b / (64 * cycle)), 1e-9)
  })

  it('an open loop below capacity serves every request: tokens/s = rate × output = 2 × 64', () => {
    const c = at({ ...base, requestRate: 2 })
    const out = figures(c, c.maxBatch)
    expectClose(fig(out, 'tokensPerSecond'), 128, 1e-12)
    expect(fig(out, 'inFlight')).toBeLessThan(c.maxBatch)
  })

  it('an open loop above capacity runs full: the steady state', () => {
    const c = at({ ...base, requestRate: 1e6 })
    const steady = figures(at(base), c.maxBatch)
    expectClose(fig(figures(c, c.maxBatch), 'tokensPerSecond'), fig(steady, 'tokensPerSecond'), 1e-12)
  })
})

describe('MoE at scale in the pass', () => {
  const mixtral = models['mixtral-8x7b']
  const w: InferenceWorkload = { mode: 'max_throughput', inputTokens: 1024, outputTokens: 256 }

  it('redundant experts: (8/8) more experts of 1/etp in each of 32 MoE layers on each GPU, bytes in the weights\' format', () => {
    const plain = prepared(mixtral, strategy({ dp: 8, ep: 8 }), w)
    const c = rightOf(prepareInference(defaultCostModels)({ model: mixtral, cluster: h100x8, strategy: strategy({ dp: 8, ep: 8 }), precision: defaultPrecision, workload: w, redundantExperts: 8 }))
    expect(only(c).baseBytes - only(plain).baseBytes).toBe(32 * expertParameters(mixtral) * 2)
    expect(c.capacity).toBeLessThan(plain.capacity)
  })

  it('redundant experts must fill the EP ranks evenly: 8 + 3 slots on 8 ranks is an invalid strategy', () => {
    const r = prepareInference(defaultCostModels)({ model: mixtral, cluster: h100x8, strategy: strategy({ dp: 8, ep: 8 }), precision: defaultPrecision, workload: w, redundantExperts: 3 })
    expect(E.isLeft(r) && r.left.code).toBe('invalid-strategy')
    expect(E.isLeft(r) && r.left.message).toMatch(/11 expert slots \(8 routed experts \+ 3 redundant\) cannot be split evenly over ep = 8/)
  })

  it('attention DP across the expert group: 8 ranks meet at each exchange; balancing the prompt chunks shortens the cycle', () => {
    const c = prepared(mixtral, strategy({ dp: 8, ep: 8 }), w)
    expect(c.attentionDpRanks).toBe(8)
    const balanced = rightOf(prepareInference(defaultCostModels)({ model: mixtral, cluster: h100x8, strategy: strategy({ dp: 8, ep: 8 }), precision: defaultPrecision, workload: w, engine: { ...genericEngine, attentionDpBalance: true } }))
    expect(fig(figures(balanced, 64), 'tpot')).toBeLessThan(fig(figures(c, 64), 'tpot'))
    // a dense model's replicas never meet
    expect(prepared(models['llama-2-7b'], strategy({ dp: 8 }), w).attentionDpRanks).toBe(1)
  })

  it('two-batch overlap hides the expert exchange behind the compute (overlap.ep = 1)', () => {
    const tbo = rightOf(prepareInference(defaultCostModels)({ model: mixtral, cluster: h100x8, strategy: strategy({ dp: 8, ep: 8 }), precision: defaultPrecision, workload: w, engine: { ...genericEngine, twoBatchOverlap: true } }))
    expect(tbo.overlap.ep).toBe(1)
    expect(fig(figures(tbo, 64), 'tpot')).toBeLessThan(fig(figures(prepared(mixtral, strategy({ dp: 8, ep: 8 }), w), 64), 'tpot'))
  })

  it('stageParts: every operator of a decode step in exactly one part, the routed experts apart', () => {
    const k = only(prepared(mixtral, strategy({ dp: 8, ep: 8 }), w))
    const names = [k.parts.dense, k.parts.routed, k.parts.decode, k.parts.head].flatMap((p) => (p === undefined ? [] : p.forms.decode.map((f) => f.name)))
    expect([...names].sort()).toEqual(k.compute.forms.decode.map((f) => f.name).sort())
    expect(k.parts.routed?.forms.decode.map((f) => f.name)).toEqual(['moe-sort', 'moe-dispatch', 'expert-up', 'expert-activation', 'expert-down', 'moe-combine'])
    expect(k.parts.prefill.forms.prefill.map((f) => f.name)).toEqual(['attention'])
  })
})
