import { models } from '@meshplan/model'
import { strategy } from '@meshplan/parallelism'
import { edgeActivationBytes, everyOtherMatmulApplies, everyOtherMatmulLayerBytes, layerActivationBytes, layerInputBytes, microBatchesInFlight, storedLayerBytes, type ActivationInput } from '../src/activations'

// Korthikanti et al. 2022 assume 2-byte activations, 1-byte dropout masks and dropout in attention and MLP
const gpt3 = (degrees: Parameters<typeof strategy>[0] = {}): ActivationInput => ({
  model: models['gpt3-175b'],
  strategy: strategy(degrees),
  sequenceLength: 2048,
  microBatch: 1,
  dropout: true,
})
const sbh = 2048 * 1 * 12288 // 25,165,824
const as_h = (5 * 96 * 2048) / 12288 // 5as/h = 80

describe('activations: Korthikanti et al. 2022 for GPT-3 175B at s = 2048, b = 1', () => {
  it('stores sbh(34 + 5as/h) = 2,868,903,936 bytes per layer without parallelism (eq. 1)', () => {
    expect(sbh * (34 + as_h)).toBe(2_868_903_936)
    expect(layerActivationBytes(gpt3())(false)).toBe(2_868_903_936)
  })

  it('stores sbh(10 + 24/t + 5as/(ht)) with tensor parallelism t = 8 (eq. 2)', () => {
    expect(layerActivationBytes(gpt3({ tp: 8 }))(false)).toBe(sbh * (10 + 24 / 8 + as_h / 8))
  })

  it('stores sbh/t (34 + 5as/h) with sequence parallelism (eq. 3)', () => {
    expect(layerActivationBytes(gpt3({ tp: 8, sequenceParallel: true }))(false)).toBe((sbh / 8) * (34 + as_h))
  })

  it('stores 34 sbh/t with selective recomputation and sequence parallelism (eq. 4)', () => {
    expect(storedLayerBytes(gpt3({ tp: 8, sequenceParallel: true }), 'selective')(false)).toBe((34 * sbh) / 8)
  })

  it('stores 2 sbh per layer under full recomputation, /t with sequence parallelism', () => {
    expect(storedLayerBytes(gpt3(), 'full')(false)).toBe(2 * sbh)
    expect(layerInputBytes(gpt3({ tp: 8, sequenceParallel: true }))).toBe((2 * sbh) / 8)
  })

  it('drops the masks without dropout and the scores with FlashAttention, keeping fp32 softmax statistics', () => {
    // no dropout: the 2 masks of the 10 sbh outside TP go (32 sbh left), and only the softmax output (2as^2b) of the scores
    const noDropout = { ...gpt3(), dropout: false }
    expect(layerActivationBytes(noDropout)(false)).toBe(sbh * 32 + 2 * 96 * 2048 * 2048)
    // FlashAttention: no score matrix, 4 bytes of softmax statistics per query and head
    const flash = { ...gpt3(), dropout: false, flashAttention: true }
    expect(layerActivationBytes(flash)(false)).toBe(sbh * 32 + 4 * 96 * 2048)
    // selective recomputation keeps nothing of the core attention, statistics included
    expect(storedLayerBytes(flash, 'selective')(false)).toBe(sbh * 32)
  })

  it('splits the sequence over context parallelism: per GPU s/cp tokens, scores against all s keys', () => {
    const cp2 = layerActivationBytes(gpt3({ cp: 2 }))(false)
    expect(cp2).toBe((sbh / 2) * 34 + 5 * 96 * 1024 * 2048)
  })
})

describe('micro-batches in flight', () => {
  it('holds p - i micro-batches on stage i under 1F1B, capped by the micro-batches of a step', () => {
    expect([0, 1, 2, 3].map((i) => microBatchesInFlight(4, 1, 8, i))).toEqual([4, 3, 2, 1])
    expect(microBatchesInFlight(4, 1, 2, 0)).toBe(2)
  })

  it('holds p + (p - 1)/v micro-batches of the first stage under the interleaved schedule', () => {
    // p 4, v 2: 2*(4 - 1) + (2 - 1)*4 + 1 = 11 chunks of half a stage each = 5.5 = 4 + 3/2
    expect(microBatchesInFlight(4, 2, 8, 0)).toBe(5.5)
    expect(microBatchesInFlight(4, 2, 8, 0)).toBe(4 + 3 / 2)
    // the last stage: 2*0 + 4 + 1 = 5 chunks = 2.5
    expect(microBatchesInFlight(4, 2, 8, 3)).toBe(2.5)
  })
})

describe('edge activations', () => {
  it('adds the output layer on the last stage: 4sbh/t (1 + V/h)', () => {
    const input = gpt3({ tp: 8, pp: 2 })
    // embedding dropout mask on the first stage, sbh bytes per micro-batch in flight (no SP)
    expect(edgeActivationBytes(input, 0, 2)).toBe(2 * sbh)
    expect(edgeActivationBytes(input, 1, 1)).toBeCloseTo(((4 * sbh) / 8) * (1 + 50257 / 12288), 0)
  })
})

// FP8 training (Transformer Engine): the GEMMs' inputs are kept in fp8 (the casts TE saves
// for the backward), everything else at 16 bits. Korthikanti's 34 sbh at 2 bytes splits
// into GEMM inputs 2·(QKV input + output-projection input + MLP input + GELU output) = 2·(1 + 1 + 1 + 4) = 14 sbh
// and the rest 20 sbh (two norm inputs 4, Q and K 4, V 2, GELU input 8, two masks 2).
describe('activations with fp8 activations (FP8 training)', () => {
  it('GPT-3 175B, no parallelism, no scores: 20 sbh at 16 bits + 14 sbh at 8 bits = 27 sbh', () => {
    const fp8: ActivationInput = { ...gpt3(), dtype: 'fp8' }
    // kept: 2 norm inputs (2·2) + Q, K (2·2·1 each: 4) + V (2) + GELU input (2·4) + 2 masks (1 each) = 4 + 4 + 2 + 8 + 2 = 20 sbh
    // GEMM inputs in fp8: QKV input 1 + output-projection input 1 + MLP input 1 + GELU output (4h) 4 = 7 sbh
    expect(layerActivationBytes(fp8)(false, 'none')).toBe((20 + 7) * sbh)
    // the bf16 count stays Korthikanti's 34 sbh
    expect(layerActivationBytes(gpt3())(false, 'none')).toBe(34 * sbh)
  })

  it('keeps the scores, the full-recomputation input and the output layer at 16 bits', () => {
    const fp8: ActivationInput = { ...gpt3(), dtype: 'fp8' }
    expect(layerActivationBytes(fp8)(false, 'matrix') - layerActivationBytes(fp8)(false, 'none')).toBe(5 * 96 * 2048 * 2048)
    expect(layerInputBytes(fp8)).toBe(2 * sbh)
    expect(edgeActivationBytes({ ...fp8, strategy: strategy({ pp: 2 }) }, 1, 1)).toBe(edgeActivationBytes({ ...gpt3(), strategy: strategy({ pp: 2 }) }, 1, 1))
  })
})

describe("torchtitan's op-level selective checkpointing (selective: 'every-other-matmul')", () => {
  const llama = models['llama-3.1-8b']
  const base: ActivationInput = { model: llama, strategy: strategy({}), sequenceLength: 8192, microBatch: 2, dtype: 'bf16', dropout: false, flashAttention: true }
  const op: ActivationInput = { ...base, selective: 'every-other-matmul' }
  const tokens = 8192 * 2

  it('Llama 3.1 8B, bf16, no parallelism: the input, the attention output and its log-sum-exp, Q, V, the gate and the down projection', () => {
    // 2 B · (4096 input + 4096 attention output + 4096 Q + 1024 V + 14336 gate + 4096 down) + 4 B · 32 heads = 63,616 B per token
    expect(everyOtherMatmulLayerBytes(op)).toBe(tokens * 63_616)
    expect(storedLayerBytes(op, 'selective')(false)).toBe(tokens * 63_616)
    // Megatron's selective keeps every input and intermediate but the scores: more than twice as much here
    expect(storedLayerBytes(base, 'selective')(false)).toBeGreaterThan(2 * tokens * 63_616)
    // the other recompute modes do not depend on the policy
    expect(storedLayerBytes(op, 'none')(false)).toBe(storedLayerBytes(base, 'none')(false))
    expect(storedLayerBytes(op, 'full')(false)).toBe(storedLayerBytes(base, 'full')(false))
  })

  it('fp8 GEMMs (_scaled_mm) are not in the save list: only the input, the attention output and the log-sum-exp are kept, at 2 bytes', () => {
    // 2 B · (4096 + 4096) + 4 B · 32 = 16,512 B per token
    expect(everyOtherMatmulLayerBytes({ ...op, dtype: 'fp8' })).toBe(tokens * 16_512)
  })

  it('TP2 with sequence parallelism splits what it shards: input / 2, attention output / 2, Q / 2, V of 4 KV heads, gate / 2; the down projection\'s partial sum stays whole', () => {
    const tp2 = { ...op, strategy: strategy({ tp: 2, sequenceParallel: true }) }
    // 2 B · (2048 + 2048 + 2048 + 512 + 7168 + 4096) + 4 B · 16 = 35,904 B per token
    expect(everyOtherMatmulLayerBytes(tp2)).toBe(tokens * 35_904)
  })

  it('an MoE layer, or MLA, keeps the attention-core policy', () => {
    const dsv3 = models['deepseek-v3']
    const input = { ...base, model: dsv3, sequenceLength: 4096, microBatch: 1 }
    expect(everyOtherMatmulApplies(dsv3, true)).toBe(false)
    expect(everyOtherMatmulApplies(dsv3, false)).toBe(false)
    expect(everyOtherMatmulApplies(llama, false)).toBe(true)
    expect(storedLayerBytes({ ...input, selective: 'every-other-matmul' }, 'selective')(true)).toBe(storedLayerBytes(input, 'selective')(true))
  })
})
