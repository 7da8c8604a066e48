import * as E from 'fp-ts/Either'
import { layersOfStage } from '../src/placement'
import { strategy, type PipelineSplit, type Strategy } from '../src/strategy'
import { validate, validateForModel, type Target, type Violation } from '../src/validate'
import { clusterOf, gqaModel, mlaModel, referenceCluster, referenceModel } from './fixtures'

const violations = (target: Target, s: Strategy): ReadonlyArray<Violation> => {
  const result = validate(target)(s)
  return E.isLeft(result) ? result.left : []
}
const codes = (target: Target, s: Strategy) => violations(target, s).map((v) => v.code)
const reference: Target = { model: referenceModel, cluster: referenceCluster }

describe('validate: the reference plan', () => {
  it('accepts EP64 x TP2 read as tp 2, dp 64, ep 64, etp 2 on 128 GPUs, with no warning', () => {
    const result = validate(reference)(strategy({ tp: 2, dp: 64, ep: 64, etp: 2 }))
    expect(E.isRight(result)).toBe(true)
    if (E.isRight(result)) expect(result.right.notes.filter((n) => n.severity === 'warning')).toEqual([])
  })

  it('rejects EP64 x TP2 read as tp 2 alone: 2 GPUs used of 128, and the experts cannot re-fold', () => {
    const found = violations(reference, strategy({ tp: 2, ep: 64 }))
    expect(found.map((v) => v.code).sort()).toEqual(['expert-fold', 'world-size'])
    const world = found.find((v) => v.code === 'world-size')
    expect(world?.values).toMatchObject({ product: 2, gpus: 128 })
    // dp = 128 / (tp * pp * cp) = 128 / 2 = 64
    expect(world?.suggestion).toBe('dp = 128 / (tp * pp * cp) = 64')
  })
})

describe('validate: every violation at once', () => {
  it('reports world size, heads and KV heads together for tp 3 dp 40 on 128 GPUs', () => {
    const found = violations(reference, strategy({ tp: 3, dp: 40, ep: 8 }))
    // 3 * 40 = 120 != 128; 16 heads % 3 != 0; 16 KV heads and 3 divide neither way;
    // ep * etp = 8 does not divide tp * dp * cp = 120? it does (120 / 8 = 15): no fold violation
    expect(found.map((v) => v.code).sort()).toEqual(['heads-tp', 'kv-heads-tp', 'world-size'])
    const heads = found.find((v) => v.code === 'heads-tp')
    expect(heads?.values).toEqual({ heads: 16, tp: 3 })
    expect(heads?.suggestion).toBe('tp must divide the attention heads (16); nearest: tp = 2 or 4')
    // 128 is not a multiple of tp * pp * cp = 3: the nearest divisors of 128 around 3 are 2 and 4
    expect(found.find((v) => v.code === 'world-size')?.suggestion).toBe('tp * pp * cp (3) must divide 128; nearest: 2 or 4')
  })

  it('reports only the degree violations when a degree is not a positive integer', () => {
    expect(codes(reference, strategy({ tp: 1.5, pp: 0 }))).toEqual(['degree-not-positive-integer', 'degree-not-positive-integer'])
  })

  it('rejects more GPUs than the cluster has', () => {
    expect(codes({ ...reference, gpus: 256 }, strategy({ tp: 2, dp: 128, ep: 64, etp: 2 }))).toEqual(['gpus-exceed-cluster'])
  })
})

describe('validate: attention and MLP', () => {
  const node16: Target = { model: gqaModel, cluster: clusterOf(8, 2) }

  it('replicates 8 KV heads twice under tp 16, and warns that tp 16 leaves the 8-GPU node', () => {
    const result = validate(node16)(strategy({ tp: 16 }))
    expect(E.isRight(result)).toBe(true)
    if (E.isRight(result)) {
      const notes = Object.fromEntries(result.right.notes.map((n) => [n.code, n]))
      expect(notes['kv-heads-replicated']?.values).toEqual({ tp: 16, kvHeads: 8, replicas: 2 })
      expect(notes['tp-beyond-scale-up']?.severity).toBe('warning')
      expect(notes['tp-beyond-scale-up']?.values).toEqual({ tp: 16, scaleUpDomain: 8 })
    }
  })

  it('rejects KV heads that tp neither divides nor is a multiple of', () => {
    // 48 heads split by 4, but 6 KV heads: 6 % 4 and 4 % 6 are both non-zero
    const model = { ...gqaModel, attention: { ...gqaModel.attention, heads: 48, kvHeads: 6 } }
    const found = violations({ model, cluster: clusterOf(4, 1) }, strategy({ tp: 4 }))
    expect(found.map((v) => v.code)).toEqual(['kv-heads-tp'])
    // nearest splitting degrees around 4 among the divisors of 6 are 3 and 6; the next replicating multiple of 6 is 6
    expect(found[0]?.suggestion).toBe('tp must divide 6 or be a multiple of it; nearest: tp = 3 or 6 (split) or 6 (replicated)')
  })

  it('rejects a tp that does not divide the dense FFN size', () => {
    const model = { ...gqaModel, mlp: { ...gqaModel.mlp, ffn: 28680 } } // 28680 = 2^3 * 3585: 16 does not divide it
    expect(codes({ model, cluster: clusterOf(8, 2) }, strategy({ tp: 16 }))).toEqual(['ffn-tp'])
  })

  it('notes that an MLA latent cache is held whole by every TP rank', () => {
    const result = validate({ model: mlaModel, cluster: clusterOf(8, 4) })(strategy({ tp: 8, dp: 4, ep: 32 }))
    expect(E.isRight(result) && result.right.notes.some((n) => n.code === 'latent-cache-replicated')).toBe(true)
  })

  it('notes vocabulary padding when tp does not divide it', () => {
    // 32000 = 2^8 * 125 is not a multiple of 3; Megatron pads to a multiple of 128 * 3 = 384:
    // ceil(32000 / 384) = 84, 84 * 384 = 32256
    const model = { ...gqaModel, attention: { ...gqaModel.attention, heads: 48, kvHeads: 6 }, mlp: { ...gqaModel.mlp, ffn: 27648 } }
    const result = validate({ model, cluster: clusterOf(3, 1) })(strategy({ tp: 3 }))
    expect(E.isRight(result)).toBe(true)
    if (E.isRight(result)) expect(result.right.notes.find((n) => n.code === 'vocab-padded')?.values).toEqual({ vocab: 32000, padded: 32256, tp: 3 })
  })
})

describe('validate: pipeline', () => {
  it('rejects 16 layers over pp 3 and suggests 2 or 4', () => {
    const found = violations({ model: referenceModel, cluster: clusterOf(3, 1) }, strategy({ pp: 3 }))
    expect(found.map((v) => v.code)).toEqual(['layers-pp'])
    // (16 + 2) / 3 = 6: the embedding and the loss counted as layers give 5 + 6 + 5
    expect(found[0]?.suggestion).toBe('pp * virtualStages must divide the layers (16); nearest: pp * virtualStages = 2 or 4; or cut the stages unevenly: embedding and loss in the split')
  })

  it('rejects interleaving without a pipeline, and chunks that do not divide the layers', () => {
    expect(codes({ model: referenceModel, cluster: clusterOf(1, 1) }, strategy({ virtualStages: 2 }))).toEqual(['virtual-stages-without-pp'])
    // pp 4 * vp 8 = 32 chunks of 16 layers
    expect(codes({ model: referenceModel, cluster: clusterOf(4, 1) }, strategy({ pp: 4, virtualStages: 8 }))).toEqual(['layers-pp'])
  })
})

describe('validate: experts', () => {
  it('rejects expert parallelism on a dense model', () => {
    expect(codes({ model: gqaModel, cluster: clusterOf(8, 1) }, strategy({ tp: 8, ep: 8 }))).toEqual(['experts-without-moe'])
  })

  it('rejects an ep that does not divide the experts', () => {
    // 64 experts over ep 48 (stage of 48 GPUs: tp 1, dp 48)
    const found = violations({ model: referenceModel, cluster: clusterOf(8, 6) }, strategy({ dp: 48, ep: 48 }))
    expect(found.map((v) => v.code)).toEqual(['experts-ep'])
    expect(found[0]?.suggestion).toBe('ep must divide the routed experts (64); nearest: ep = 32 or 64; or add redundant experts so that ep divides the slots')
  })

  it('rejects an etp that does not divide the expert FFN size', () => {
    expect(codes({ model: referenceModel, cluster: clusterOf(8, 1) }, strategy({ tp: 8, ep: 1, etp: 3 }))).toEqual(
      expect.arrayContaining(['expert-ffn-etp', 'expert-fold']),
    )
  })

  it('checks the shared experts against tp', () => {
    // DeepSeek-V3 shape: 1 shared expert of FFN 2048; tp 3 fails on heads (128), the dense FFN (18432 = 3 * 6144 passes) and 2048
    expect(codes({ model: mlaModel, cluster: clusterOf(3, 1) }, strategy({ tp: 3 })).sort()).toEqual(['heads-tp', 'shared-expert-ffn-tp'])
  })
})

describe('validate: sequence', () => {
  it('rejects sequence parallelism without tensor parallelism', () => {
    expect(codes({ model: gqaModel, cluster: clusterOf(1, 1) }, strategy({ sequenceParallel: true }))).toEqual(['sequence-parallel-without-tp'])
  })

  it('rejects a cp that cannot cut the sequence into 2 * cp equal chunks', () => {
    // 1000 tokens: 2 * 8 = 16 does not divide 1000 (1000 = 8 * 125); 2 * 4 = 8 does
    const target: Target = { model: gqaModel, cluster: clusterOf(8, 1), sequenceLength: 1000 }
    expect(codes(target, strategy({ cp: 8 }))).toEqual(['sequence-cp'])
    expect(codes(target, strategy({ cp: 4, dp: 2 }))).toEqual([])
  })

  it('rejects sequence parallelism whose tp does not divide the tokens per GPU', () => {
    // 1000 tokens over cp 1, tp 16 with SP: 1000 / 16 is not whole
    expect(codes({ model: gqaModel, cluster: clusterOf(8, 2), sequenceLength: 1000 }, strategy({ tp: 16, sequenceParallel: true }))).toEqual(['sequence-tp'])
  })
})

describe('validateForModel: the laws of the model alone', () => {
  it('ignores the GPU count but keeps every model law', () => {
    // tp 2 dp 64 would need 128 GPUs: no cluster here, so no world-size violation
    expect(E.isRight(validateForModel({ model: referenceModel })(strategy({ tp: 2, dp: 64, ep: 64, etp: 2 })))).toBe(true)
    const found = validateForModel({ model: referenceModel })(strategy({ tp: 3, pp: 3 }))
    expect(E.isLeft(found) && found.left.map((v) => v.code).sort()).toEqual(['heads-tp', 'kv-heads-tp', 'layers-pp'])
  })

  it('agrees with validate on every law but the world size', () => {
    const s = strategy({ tp: 3, dp: 40, ep: 8 })
    const all = violations(reference, s).map((v) => v.code).filter((c) => c !== 'world-size' && c !== 'gpus-exceed-cluster')
    const modelOnly = validateForModel({ model: referenceModel })(s)
    expect(E.isLeft(modelOnly) && modelOnly.left.map((v) => v.code)).toEqual(all)
  })

  it('checks the sequence when it is given, and the degrees first', () => {
    expect(E.isLeft(validateForModel({ model: gqaModel, sequenceLength: 1000 })(strategy({ cp: 8 })))).toBe(true)
    const degrees = validateForModel({ model: gqaModel })(strategy({ tp: Number.NaN }))
    expect(E.isLeft(degrees) && degrees.left.map((v) => v.code)).toEqual(['degree-not-positive-integer'])
  })
})

describe('validate: uneven pipeline splits (Megatron-Core TransformerConfig checks)', () => {
  const llama405b = { ...gqaModel, name: 'llama-3.1-405b-shaped', layers: 126 }
  const split = (pp: number, pipelineSplit: PipelineSplit, virtualStages = 1): Strategy => strategy({ pp, virtualStages, pipelineSplit })
  const modelCodes = (s: Strategy, model = llama405b) => {
    const r = validateForModel({ model })(s)
    return E.isLeft(r) ? r.left.map((v) => v.code) : []
  }

  it('126 layers cannot be cut evenly into 16 stages, but can with the embedding and the loss counted (128 / 16) or with first 6 and last 8 layers (112 / 14)', () => {
    expect(modelCodes(strategy({ pp: 16 }))).toEqual(['layers-pp'])
    expect(modelCodes(split(16, { embeddingInSplit: true, lossInSplit: true }))).toEqual([])
    expect(modelCodes(split(16, { firstStageLayers: 6, lastStageLayers: 8 }))).toEqual([])
    expect(modelCodes(split(16, { firstStageLayers: 6, lastStageLayers: 8 }, 2))).toEqual([])
  })

  it('the embedding alone counted: 127 layers over 16 stages do not divide; the violation says 127', () => {
    const r = validateForModel({ model: llama405b })(split(16, { embeddingInSplit: true }))
    expect(E.isLeft(r)).toBe(true)
    if (E.isLeft(r)) {
      expect(r.left.map((v) => v.code)).toEqual(['layers-pp'])
      expect(r.left[0]?.values).toMatchObject({ layers: 126, counted: 127, chunks: 16 })
    }
  })

  it('refuses a split without a pipeline, and layer counts together with the embedding counted', () => {
    expect(modelCodes(split(1, { firstStageLayers: 6 }))).toEqual(['pipeline-split-without-pp'])
    expect(modelCodes(split(16, { firstStageLayers: 6, embeddingInSplit: true }))).toEqual(['pipeline-split-kinds'])
  })

  it('first / last layers must be whole chunks: first 7 with 2 virtual stages is not', () => {
    // the middle: 126 − 7 − 7 = 112 over 14 stages of 2 chunks, 4 layers each: fine; 7 is odd
    expect(modelCodes(split(16, { firstStageLayers: 7, lastStageLayers: 7 }, 2))).toEqual(['stage-layers-chunks'])
  })

  it('the middle must split evenly: first 5, last 8 leaves 113 for 14 stages; the suggestion leaves 112', () => {
    const r = validateForModel({ model: llama405b })(split(16, { firstStageLayers: 5, lastStageLayers: 8 }))
    expect(E.isLeft(r)).toBe(true)
    if (E.isLeft(r)) {
      expect(r.left.map((v) => v.code)).toEqual(['middle-layers-pp'])
      expect(r.left[0]?.values).toEqual({ layers: 126, middleLayers: 113, middleStages: 14, virtualStages: 1 })
      // the largest multiple of 14 at most 126 − 2 = 124 is 112: first + last = 14
      expect(r.left[0]?.suggestion).toBe('the middle stages need a multiple of 14 layers: e.g. first + last stage layers = 14, leaving 112')
    }
  })

  it('pp 2 has no middle stage: first + last must be all the layers', () => {
    expect(modelCodes(split(2, { firstStageLayers: 60, lastStageLayers: 66 }))).toEqual([])
    expect(modelCodes(split(2, { firstStageLayers: 60, lastStageLayers: 60 }))).toEqual(['middle-layers-pp'])
  })

  it('law: every strategy validate accepts with a split lays out each layer on exactly one stage (layersOfStage)', () => {
    for (const s of [
      split(16, { embeddingInSplit: true, lossInSplit: true }),
      split(16, { embeddingInSplit: true, lossInSplit: true }, 2),
      split(16, { firstStageLayers: 6, lastStageLayers: 8 }, 2),
      split(8, { lastStageLayers: 14 }),
    ]) {
      expect(modelCodes(s)).toEqual([])
      const all = Array.from({ length: s.pp }, (_, r) => layersOfStage(llama405b, s)(r)).flat().sort((a, b) => a - b)
      expect(all).toEqual(Array.from({ length: 126 }, (_, i) => i))
    }
  })
})

describe('validate: redundant experts (DeepSeek EPLB: ep divides the routed experts + the redundant slots)', () => {
  // mlaModel has DeepSeek-V3's 256 routed experts: 256 over ep 72 is 3.56 each, 256 + 32 = 288 over ep 72 is 4 each
  const nine = clusterOf(8, 9)
  const s = strategy({ dp: 72, ep: 72 })

  it('makes ep 72 valid for 256 experts with 32 redundant slots, and not without them', () => {
    expect(codes({ model: mlaModel, cluster: nine }, s)).toEqual(['experts-ep'])
    expect(violations({ model: mlaModel, cluster: nine }, s)[0]?.suggestion).toContain('or add redundant experts so that ep divides the slots')
    expect(codes({ model: mlaModel, cluster: nine, redundantExperts: 32 }, s)).toEqual([])
  })

  it('names the slots when they do not divide: 256 + 30 = 286 over 72', () => {
    const [v] = violations({ model: mlaModel, cluster: nine, redundantExperts: 30 }, s)
    expect(v?.code).toBe('experts-ep')
    expect(v?.message).toBe('286 expert slots (256 routed experts + 30 redundant) cannot be split evenly over ep = 72')
    // 286 = 2 · 11 · 13: its divisors nearest 72 are 26 and 143
    expect(v?.suggestion).toBe('ep must divide the expert slots (286); nearest: ep = 26 or 143')
  })

  it('refuses redundant slots for a dense model, a negative count or a fraction', () => {
    expect(codes({ model: gqaModel, cluster: referenceCluster, redundantExperts: 8 }, strategy({ tp: 8, dp: 16 }))).toContain('redundant-experts')
    expect(codes({ model: mlaModel, cluster: nine, redundantExperts: -8 }, strategy({ dp: 72, ep: 8 }))).toContain('redundant-experts')
    expect(codes({ model: mlaModel, cluster: nine, redundantExperts: 1.5 }, strategy({ dp: 72, ep: 8 }))).toContain('redundant-experts')
  })
})
