import { models } from '@meshplan/model'
import { strategy } from '@meshplan/parallelism'
import { edgeActivationBytes, layerActivationBytes, layerInputBytes, microBatchesInFlight, storedLayerBytes, type ActivationInput } from '../src/activations'

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
