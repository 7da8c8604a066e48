import { models, parameterCounts } from '@meshplan/model'
import { strategy } from '@meshplan/parallelism'
import { attentionParametersPerGpu, stageParameters } from '../src/weights'

const llama70b = models['llama-2-70b']

describe('stageParameters', () => {
  it('holds the whole model on one GPU: Llama-2-70B is 68,976,648,192 parameters, 137.95 GB in fp16', () => {
    const p = stageParameters(llama70b, strategy({}))(0)
    expect(p.total).toBe(parameterCounts(llama70b).total)
    expect(p.total * 2).toBe(137_953_296_384)
  })

  it('splits Llama-2-70B over TP8 by hand', () => {
    // per layer on one GPU: Q 8192*8192/8 + K,V 2*8192*(8 KV heads / 8)*128 + O 8192*8192/8
    const attention = (8192 * 8192) / 8 + 2 * 8192 * 1 * 128 + (8192 * 8192) / 8 // 18,874,368
    const mlp = (3 * 8192 * 28672) / 8 // 88,080,384
    const norms = 2 * 8192 // replicated
    const layer = attention + mlp + norms
    const embedding = (32000 * 8192) / 8
    const lmHead = (32000 * 8192) / 8
    const expected = 80 * layer + embedding + lmHead + 8192 // + the final norm
    expect(expected).toBe(8_623_235_072)
    const p = stageParameters(llama70b, strategy({ tp: 8 }))(0)
    expect(p.total).toBe(expected)
    expect(p.attention).toBe(80 * attention)
    // 17.25 GB of fp16 weights per GPU, a little over 137.95 / 8 because norms are replicated
    expect(p.total * 2).toBe(17_246_470_144)
  })

  it('replicates KV projections when tp exceeds the KV heads', () => {
    // tp 16 over 8 KV heads: each GPU keeps one KV head's K and V projections, 2 * 8192 * 128
    expect(attentionParametersPerGpu(llama70b)(16)).toBe((8192 * 8192) / 16 + 2 * 8192 * 128 + (8192 * 8192) / 16)
  })

  it('replicates MLA down-projections and splits the rest', () => {
    const v3 = models['deepseek-v3']
    // q_a 7168*1536 + q_a_norm 1536 + kv_a 7168*576 + kv_a_norm 512 stay whole;
    // q_b 1536*128*192, kv_b 512*128*256, o 128*128*7168 split over tp 8
    const whole = 7168 * 1536 + 1536 + 7168 * 576 + 512
    const split = (1536 * 128 * 192 + 512 * 128 * 256 + 128 * 128 * 7168) / 8
    expect(attentionParametersPerGpu(v3)(8)).toBe(whole + split)
  })

  it('puts the embedding on the first stage and the LM head on the last', () => {
    const s = strategy({ pp: 4 })
    const [first, middle, last] = [0, 1, 3].map((r) => stageParameters(llama70b, s)(r))
    expect(first?.embedding).toBe(32000 * 8192)
    expect(first?.lmHead).toBe(0)
    expect(middle?.embedding).toBe(0)
    expect(last?.lmHead).toBe(32000 * 8192)
    // the four stages add up to the model
    const sum = [0, 1, 2, 3].reduce((n, r) => n + stageParameters(llama70b, s)(r).total, 0)
    expect(sum).toBe(parameterCounts(llama70b).total)
  })

  it('gives the reference plan 16 half-experts per GPU: 0.34 GB of weights in bf16, not 69 MB', () => {
    const reference = models['reference-moe']
    const p = stageParameters(reference, strategy({ tp: 2, dp: 64, ep: 64, etp: 2 }))(0)
    // one SwiGLU expert: 3 * 1024 * 4096 = 12,582,912; half of one in each of 16 layers
    expect(p.routedExperts).toBe((16 * 3 * 1024 * 4096) / 2)
    expect(p.routedExperts * 2).toBe(201_326_592)
    // attention 4 * 1024 * 1024 / 2 per layer, routers 1024 * 64 per layer, norms 2 * 1024 per layer (+ final), embedding and head 32000 * 1024 / 2 each
    const expected = 16 * ((4 * 1024 * 1024) / 2 + 1024 * 64 + 2 * 1024) + 1024 + 2 * ((32000 * 1024) / 2) + (16 * 3 * 1024 * 4096) / 2
    expect(p.total).toBe(expected)
    // 16 * 2,164,736 + 1,024 + 32,768,000 + 100,663,296 = 168,068,096 parameters
    expect(p.total).toBe(168_068_096)
    expect(p.total * 2).toBe(336_136_192)
  })

  it('keeps one copy of tied embeddings on a single stage, and a second on the last stage when pp > 1', () => {
    const tied = { ...llama70b, tiedEmbeddings: true }
    expect(stageParameters(tied, strategy({}))(0).lmHead).toBe(0)
    expect(stageParameters(tied, strategy({ pp: 2 }))(1).lmHead).toBe(32000 * 8192)
  })
})
