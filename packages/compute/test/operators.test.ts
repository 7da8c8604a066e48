import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import fc from 'fast-check'
import { attentionFlopsPerToken, fromHuggingFace, matmulFlopsPerToken, modelNames, models, windowLayerCount } from '@meshplan/model'
import { strategy } from '@meshplan/parallelism'
import { defaultComputeModel, EXPERT_ROW_BLOCK, withAttentionKernel, withMoeImbalance } from '../src/computeModel'
import { FLASH_BACKWARD_RATIO, operators, paddedExpertRows, type Operator, type OperatorName } from '../src/operators'
import { operatorTime } from '../src/roofline'
import { bytes, flops } from '@meshplan/units'
import { causalPairs, type Phase } from '../src/phase'
import { arbitraryDeployment, arbitraryPhase, deploymentOf, h100, right } from './fixtures'

const opsOf = (deployment: Parameters<typeof operators>[1], phase: Phase): ReadonlyArray<Operator> =>
  right(operators(defaultComputeModel, deployment)(phase))

const named = (ops: ReadonlyArray<Operator>, name: OperatorName, pass: Operator['pass'] = 'forward'): Operator => {
  const op = ops.find((o) => o.name === name && o.pass === pass)
  if (op === undefined) throw new Error(`no ${pass} ${name}`)
  return op
}

const total = (ops: ReadonlyArray<Operator>, pick: (o: Operator) => number, keep: (o: Operator) => boolean = () => true): number =>
  ops.filter(keep).reduce((sum, o) => sum + o.count * pick(o), 0)

describe('Llama-2-7B prefill of 2048 tokens, one GPU: FLOPs per layer by hand', () => {
  const ops = opsOf(deploymentOf('llama-2-7b'), { kind: 'prefill', tokens: 2048, batch: 1 })

  it('each GEMM is 2·m·n·k with m = 2048 tokens', () => {
    // Q, K, V: 4096 → 3 × 32 heads × 128
    expect(named(ops, 'qkv').flops).toBe(2 * 2048 * 4096 * 12288) // 206,158,430,208
    expect(named(ops, 'qkv').gemm).toEqual({ m: 2048, n: 12288, k: 4096, batch: 1 })
    expect(named(ops, 'output').flops).toBe(2 * 2048 * 4096 * 4096) // 68,719,476,736
    // SwiGLU: gate and up fused (2 × 11008), then down
    expect(named(ops, 'mlp-up').flops).toBe(2 * 2048 * 4096 * 22016) // 369,367,187,456
    expect(named(ops, 'mlp-down').flops).toBe(2 * 2048 * 11008 * 4096) // 184,683,593,728
    expect(named(ops, 'qkv').count).toBe(32)
  })

  it('causal attention: 2048·2049/2 pairs × 32 heads × 2 × (128 + 128)', () => {
    const pairs = (2048 * 2049) / 2 // 2,098,176
    expect(named(ops, 'attention').flops).toBe(pairs * 32 * 2 * 256) // 34,376,515,584
    // mean keys per query: (n + 1)/2
    expect(named(ops, 'attention').attention).toEqual({ queries: 2048, keys: 1024.5 })
  })

  it('a layer\'s matmuls sum to 2 × 2048 × its 4·4096² + 3·4096·11008 weights', () => {
    const layerGemms = ['qkv', 'output', 'mlp-up', 'mlp-down'] as const
    const sum = layerGemms.reduce((s, n) => s + named(ops, n).flops, 0)
    expect(sum).toBe(2 * 2048 * (4 * 4096 * 4096 + 3 * 4096 * 11008)) // 828,928,688,128
  })

  it('norms, residual adds and the SwiGLU are element-wise, counted per element', () => {
    expect(named(ops, 'attention-norm').flops).toBe(4 * 4096 * 2048) // RMSNorm: 4 per element
    expect(named(ops, 'residual').flops).toBe(2 * 4096 * 2048) // two adds per layer
    expect(named(ops, 'mlp-activation').flops).toBe(5 * 11008 * 2048)
    expect(named(ops, 'attention-norm').kind).toBe('elementwise')
  })

  it('inference computes logits for the last token of each sequence only', () => {
    expect(named(ops, 'lm-head').gemm).toEqual({ m: 1, n: 32000, k: 4096, batch: 1 })
    expect(named(ops, 'lm-head').group).toBe('lm_head')
  })

  it('bytes: the qkv GEMM reads its bf16 weights and input, writes its output', () => {
    const qkv = named(ops, 'qkv')
    expect(qkv.weightBytes).toBe(4096 * 12288 * 2)
    expect(qkv.activationBytes).toBe(2048 * (4096 + 12288) * 2)
    // the attention writes K and V of the 2048 tokens to the cache: 32 heads × 2 × 128 × 2 bytes each
    expect(named(ops, 'attention').kvCacheBytes).toBe(2048 * 32 * 2 * 128 * 2)
  })
})

describe('Llama-2-70B decode on TP8', () => {
  const deployment = deploymentOf('llama-2-70b', { tp: 8 })
  const batch1 = opsOf(deployment, { kind: 'decode', batch: 1, context: 4096 })

  it('reads 138 GB / 8 of weights per GPU per step, by hand', () => {
    // per layer per GPU: Q 8192·1024, K and V 8192·128 each (8 KV heads / 8), O 1024·8192, MLP 3·8192·3584;
    // LM head 4000·8192 (32000 / 8); bf16
    const perLayer = 8192 * 1024 + 8192 * 256 + 1024 * 8192 + 3 * 8192 * 3584 // 106,954,752
    const gemmWeights = 2 * (80 * perLayer + 4000 * 8192)
    expect(gemmWeights).toBe(17_178_296_320)
    // the whole model's 68.71e9 matmul weights in bf16 (137.4 GB), an eighth each
    expect(gemmWeights).toBe((2 * (80 * (2 * 8192 * 8192 + 2 * 8192 * 1024 + 3 * 8192 * 28672) + 32000 * 8192)) / 8)
    expect(total(batch1, (o) => o.weightBytes, (o) => o.kind === 'gemm')).toBe(gemmWeights)
  })

  it('reads the KV cache of 4096 keys: one KV head per GPU, 80 layers, and writes the new token\'s', () => {
    // 4096 keys × 80 layers × (1 head × 2 × 128 × 2 bytes) + the new token
    expect(total(batch1, (o) => o.kvCacheBytes)).toBe(80 * 4097 * 512)
  })

  it('heads split over TP: 8 query heads and 1 KV head per GPU', () => {
    expect(named(batch1, 'qkv').gemm).toEqual({ m: 1, n: (8 + 2) * 128, k: 8192, batch: 1 })
  })
})

describe("per-head query and key norms (Qwen3's q_norm and k_norm)", () => {
  it('Qwen3-235B-A22B on TP8, a prefill of 1000 tokens: 8 query heads and 1 replicated KV head of 128 norm, 4 FLOPs and 2 · 2 bytes an element, by hand', () => {
    const ops = opsOf(deploymentOf('qwen3-235b-a22b', { tp: 8 }), { kind: 'prefill', tokens: 1000, batch: 1 })
    const qk = named(ops, 'qk-norm')
    expect(qk.count).toBe(94)
    expect(qk.kind).toBe('elementwise')
    expect(qk.group).toBe('attention')
    // (64/8 + 1) · 128 = 1152 elements a token
    expect(qk.flops).toBe(4 * 1152 * 1000) // 4,608,000
    expect(qk.activationBytes).toBe(2 * 1152 * 2 * 1000) // read and written in bf16: 4,608,000
    expect(qk.weightBytes).toBe(2 * 128 * 2) // the two norms' weights
    // it sits between the projection and the attention core
    const names = ops.filter((o) => o.pass === 'forward').map((o) => o.name)
    expect(names.indexOf('qk-norm')).toBe(names.indexOf('qkv') + 1)
  })

  it('a model without them runs none: Llama-2-7B', () => {
    expect(opsOf(deploymentOf('llama-2-7b'), { kind: 'prefill', tokens: 1000, batch: 1 }).some((o) => o.name === 'qk-norm')).toBe(false)
  })
})

describe('training: backward is twice the forward, recomputation adds a forward', () => {
  const deployment = deploymentOf('llama-2-7b', { tp: 2 })
  const phase = (recompute: 'none' | 'selective' | 'full'): Phase => ({ kind: 'training', sequence: 4096, batch: 2, recompute })
  const flops = (ops: ReadonlyArray<Operator>, pass: Operator['pass']) => total(ops, (o) => o.flops, (o) => o.pass === pass)

  it('backward = 2 × forward, operator by operator, but the fused attention core\'s 2.5 × (it recomputes its scores)', () => {
    const ops = opsOf(deployment, phase('none'))
    const forward = ops.filter((o) => o.pass === 'forward')
    expect(FLASH_BACKWARD_RATIO).toBe(2.5)
    for (const f of forward) {
      const b = named(ops, f.name, 'backward')
      const ratio = f.name === 'attention' ? 2.5 : 2
      expect(b.count * b.flops).toBe(ratio * f.count * f.flops)
      expect(b.count * b.bytes).toBe(ratio * f.count * f.bytes)
    }
    const core = flops(ops.filter((o) => o.name === 'attention'), 'forward')
    expect(core).toBeGreaterThan(0)
    expect(flops(ops, 'backward')).toBe(2 * flops(ops, 'forward') + 0.5 * core)
    expect(flops(ops, 'recompute')).toBe(0)
  })

  it('selective recomputation adds the attention core\'s forward; full adds every layer operator\'s', () => {
    const none = opsOf(deployment, phase('none'))
    const attention = named(none, 'attention')
    expect(flops(opsOf(deployment, phase('selective')), 'recompute')).toBe(attention.count * attention.flops)
    const layerForward = total(none, (o) => o.flops, (o) => o.pass === 'forward' && !['embedding', 'final-norm', 'lm-head', 'loss'].includes(o.name))
    expect(flops(opsOf(deployment, phase('full')), 'recompute')).toBe(layerForward)
  })

  it('GPT-3 175B with full recomputation: the GEMMs do Narayanan et al.\'s 96·B·s·l·h²·(1 + V/16lh)', () => {
    const s = 2048
    const l = 96
    const h = 12288
    const V = 50257
    const ops = opsOf(deploymentOf('gpt3-175b'), { kind: 'training', sequence: s, batch: 1, recompute: 'full' })
    const gemms = total(ops, (o) => o.flops, (o) => o.kind === 'gemm')
    expect(gemms / (96 * s * l * h * h * (1 + V / (16 * l * h))) - 1).toBeCloseTo(0, 12)
    // and the causal attention core: 4.5 passes (forward, a backward of 2.5, the recomputed forward) × 96 layers × 96 heads × 2 × 256 per pair
    expect(total(ops, (o) => o.flops, (o) => o.name === 'attention')).toBe(4.5 * l * 96 * 2 * 256 * causalPairs(s))
  })
})

describe('MoE', () => {
  it('Mixtral on one GPU: each token goes to 2 of 8 experts; expected experts touched by 1 token is 2', () => {
    const ops = opsOf(deploymentOf('mixtral-8x7b'), { kind: 'decode', batch: 1, context: 100 })
    const up = named(ops, 'expert-up')
    expect(up.gemm?.batch).toBeCloseTo(2, 12) // 8 · (1 − 6/8)
    expect(up.gemm?.m).toBeCloseTo(1, 12) // 2 assignments over 2 experts
    // weights read only for the 2 experts touched: 2 × 4096 × 2·14336 in bf16
    expect(up.weightBytes).toBeCloseTo(2 * 4096 * 2 * 14336 * 2, 0)
    expect(named(ops, 'router').flops).toBe(2 * 4096 * 8)
    expect(up.group).toBe('moe')
  })

  it('EP splits the experts: reference-moe on EP8 × 8 replicas, 32 tokens each', () => {
    // 64 experts, top-2; EP8 over DP8 (edp = 1): the group routes 8 × 32 = 256 tokens, 256 · 2 / 8 = 64
    // assignments per GPU, over its 8 experts; each is touched with probability 1 − (62/64)^256
    const ops = opsOf(deploymentOf('reference-moe', { dp: 8, ep: 8 }), { kind: 'decode', batch: 32, context: 100 })
    const up = named(ops, 'expert-up')
    const touched = 8 * (1 - Math.pow(62 / 64, 256))
    expect(up.gemm?.batch).toBeCloseTo(touched, 12)
    expect(up.gemm?.m).toBeCloseTo(64 / touched, 12)
    expect(up.flops).toBeCloseTo(64 * 2 * 1024 * 2 * 4096, 0)
  })

  it('the load imbalance scales the busiest GPU\'s routed work', () => {
    const deployment = deploymentOf('reference-moe', { dp: 8, ep: 8 })
    const phase: Phase = { kind: 'prefill', tokens: 512, batch: 1 }
    const balanced = named(opsOf(deployment, phase), 'expert-down')
    const skewed = named(right(operators(withMoeImbalance(1.5)(defaultComputeModel), deployment)(phase)), 'expert-down')
    expect(skewed.flops / balanced.flops).toBeCloseTo(1.5, 12)
  })
})

describe('DeepSeek-V3 MLA decode, weight-absorbed, by hand', () => {
  const ops = opsOf(deploymentOf('deepseek-v3'), { kind: 'decode', batch: 1, context: 1000 })
  it('attends over the cached latent (512 + 64), shared by the 128 heads', () => {
    const attention = named(ops, 'attention')
    // scores over kvLoraRank + rope = 576, context over kvLoraRank = 512, per head per key
    expect(attention.flops).toBe(1000 * 2 * 128 * (576 + 512))
    // reads 1000 cached latents and writes the new one, bf16
    expect(attention.kvCacheBytes).toBe(1001 * 576 * 2)
    expect(attention.count).toBe(61)
  })
  it('folds W_UK into the query and W_UV into the output: 128 small GEMMs each', () => {
    expect(named(ops, 'q-absorb').gemm).toEqual({ m: 1, n: 512, k: 128, batch: 128 })
    expect(named(ops, 'q-absorb').flops).toBe(2 * 128 * 128 * 512)
    expect(named(ops, 'v-absorb').gemm).toEqual({ m: 1, n: 128, k: 512, batch: 128 })
    // together they read kv_b's weights: 512 × 128 × (128 + 128)
    expect(named(ops, 'q-absorb').weightBytes + named(ops, 'v-absorb').weightBytes).toBe(2 * 512 * 128 * 256)
    expect(ops.map((o) => o.name)).not.toContain('kv-up')
  })
})

describe('weight-only quantization reads fewer weight bytes', () => {
  it('int4 weights are half a byte each, in bf16 compute', () => {
    const ops = opsOf(deploymentOf('llama-2-7b', {}, { weights: 'int4', activations: 'bf16', kvCache: 'bf16' }), { kind: 'decode', batch: 1, context: 10 })
    expect(named(ops, 'qkv').weightBytes).toBe(4096 * 12288 * 0.5)
    expect(named(ops, 'qkv').dtype).toBe('bf16')
  })
})

describe('pipeline stages', () => {
  it('the first stage looks up the embedding, the last runs the LM head; each its share of the layers', () => {
    const first = opsOf({ ...deploymentOf('llama-2-7b', { pp: 4 }), ppRank: 0 }, { kind: 'prefill', tokens: 16, batch: 1 })
    const last = opsOf(deploymentOf('llama-2-7b', { pp: 4 }), { kind: 'prefill', tokens: 16, batch: 1 })
    expect(first.map((o) => o.name)).toContain('embedding')
    expect(first.map((o) => o.name)).not.toContain('lm-head')
    expect(last.map((o) => o.name)).toContain('lm-head')
    expect(named(first, 'qkv').count).toBe(8)
  })
})

describe('forms shared between deployments', () => {
  // a fresh copy of the module has an empty cache: what it builds for a deployment alone
  const alone = (d: Parameters<typeof operators>[1], phase: Phase): ReadonlyArray<Operator> => {
    let fresh: typeof operators | undefined
    jest.isolateModules(() => {
      fresh = (jest.requireActual('../src/operators') as { operators: typeof operators }).operators
    })
    if (fresh === undefined) throw new Error('no fresh module')
    return right(fresh(defaultComputeModel, d)(phase))
  }

  it('give every deployment the operators it gets alone, after any other deployments were built', () => {
    fc.assert(
      fc.property(fc.array(arbitraryDeployment, { minLength: 1, maxLength: 6 }), arbitraryDeployment, arbitraryPhase, (others, d, phase) => {
        for (const o of others) opsOf(o, phase)
        expect(opsOf(d, phase)).toEqual(alone(d, phase))
      }),
      { numRuns: 60, seed: 20261130 },
    )
  })

  it('are the same between strategies that differ in dp, ep or pp only where the stage is alike, and not between tp', () => {
    const phase: Phase = { kind: 'decode', batch: 8, context: 1024 }
    const a = opsOf(deploymentOf('mixtral-8x7b', { tp: 2, dp: 1, ep: 1, etp: 2 }), phase)
    const b = opsOf(deploymentOf('mixtral-8x7b', { tp: 2, dp: 4, ep: 4, etp: 2 }), phase)
    const c = opsOf(deploymentOf('mixtral-8x7b', { tp: 4, etp: 4 }), phase)
    expect(named(b, 'qkv').flops).toBe(named(a, 'qkv').flops)
    // tp 4 splits the heads over twice the GPUs: half the QKV FLOPs per GPU
    expect(named(c, 'qkv').flops).toBe(named(a, 'qkv').flops / 2)
  })
})

describe('bad deployments are errors with a code', () => {
  const phase: Phase = { kind: 'prefill', tokens: 16, batch: 1 }
  const code = (e: E.Either<{ readonly code: string }, unknown>) => (E.isLeft(e) ? e.left.code : 'none')
  it('degrees that do not fit', () => {
    expect(code(operators(defaultComputeModel, deploymentOf('llama-2-7b', { tp: 3 }))(phase))).toBe('invalid-degree')
    expect(code(operators(defaultComputeModel, deploymentOf('llama-2-7b', { pp: 5 }))(phase))).toBe('invalid-degree')
    expect(code(operators(defaultComputeModel, deploymentOf('llama-2-7b', { ep: 2 }))(phase))).toBe('invalid-degree')
    expect(code(operators(defaultComputeModel, deploymentOf('mixtral-8x7b', { ep: 8 }))(phase))).toBe('invalid-degree') // 8 does not divide 1
    expect(code(operators(defaultComputeModel, deploymentOf('llama-2-7b', { tp: 0 }))(phase))).toBe('invalid-degree')
    expect(code(operators(defaultComputeModel, deploymentOf('llama-2-7b', { tp: Number.NaN }))(phase))).toBe('invalid-degree')
  })
  it('a pipeline rank outside the pipeline, a bad phase, a bad imbalance', () => {
    expect(code(operators(defaultComputeModel, { ...deploymentOf('llama-2-7b', { pp: 2 }), ppRank: 2 })(phase))).toBe('invalid-stage')
    expect(code(operators(defaultComputeModel, deploymentOf('llama-2-7b'))({ kind: 'decode', batch: -1, context: 3 }))).toBe('invalid-size')
    expect(code(operators(withMoeImbalance(0)(defaultComputeModel), deploymentOf('llama-2-7b'))(phase))).toBe('invalid-size')
  })
  it('a model with a zero size', () => {
    const arch = { ...models['llama-2-7b'], hidden: 0 }
    expect(code(operators(defaultComputeModel, { ...deploymentOf('llama-2-7b'), arch })(phase))).toBe('invalid-model')
  })
})

describe('grouped expert GEMMs pad each expert to a block of rows', () => {
  it('paddedExpertRows: at least one block, else half a block on average (64-row blocks: 8 -> 64, 100 -> 132, 300 -> 332); none with blocks of 1', () => {
    expect(EXPERT_ROW_BLOCK).toBe(64)
    expect([8, 100, 300, 0].map((m) => paddedExpertRows(m, 64))).toEqual([64, 132, 332, 0])
    expect(paddedExpertRows(100, 1)).toBe(100)
  })

  it('an expert GEMM of 100 tokens an expert runs at the grouped efficiency of 132 rows, 100 of them useful; a dense GEMM of 100 rows is not padded', () => {
    const op = (grouped: boolean): Operator => ({
      name: 'expert-up',
      group: 'moe',
      kind: 'gemm',
      pass: 'forward',
      dtype: 'bf16',
      count: 1,
      flops: flops(2 * 100 * 28_672 * 4096 * 8),
      bytes: bytes(0),
      weightBytes: bytes(0),
      activationBytes: bytes(0),
      kvCacheBytes: bytes(0),
      gemm: { m: 100, n: 28_672, k: 4096, batch: 8, ...(grouped ? { grouped: true } : {}) },
    })
    const e = (o: Operator, model = defaultComputeModel) => right(operatorTime(model, h100)(o)).computeEfficiency
    const gemm = defaultComputeModel.efficiency.gemm
    expect(e(op(true))).toBeCloseTo(gemm(132, 28_672, 4096, 'bf16', h100, 8, false, true) * (100 / 132), 12)
    expect(e(op(false))).toBeCloseTo(gemm(100, 28_672, 4096, 'bf16', h100, 8), 12)
    // without padding the experts keep the grouped k term
    expect(e(op(true), { ...defaultComputeModel, expertRowBlock: 1 })).toBeCloseTo(gemm(100, 28_672, 4096, 'bf16', h100, 8, false, true), 12)
    // 100/(132 + 32) against 100/(100 + 32) in the shape term, and 4096/(4096 + 4 · 96) against 4096/(4096 + 96) in k:
    // 0.8049 · 0.9357 = 0.7531 of the dense unpadded efficiency, less the fixed cost's share
    expect(e(op(true)) / e(op(false))).toBeCloseTo((132 / 164) * (4192 / 4480), 2)
  })
})

describe('laws', () => {
  it('every operator of a valid deployment and phase is finite and non-negative', () => {
    fc.assert(
      fc.property(arbitraryDeployment, arbitraryPhase, (deployment, phase) => {
        for (const o of opsOf(deployment, phase)) {
          for (const v of [o.flops, o.bytes, o.weightBytes, o.activationBytes, o.kvCacheBytes, o.count]) {
            expect(Number.isFinite(v)).toBe(true)
            expect(v).toBeGreaterThanOrEqual(0)
          }
          if (o.gemm !== undefined) for (const v of [o.gemm.m, o.gemm.n, o.gemm.k, o.gemm.batch]) expect(Number.isFinite(v) && v > 0).toBe(true)
          // the expert GEMMs, and only they, are grouped over the experts touched
          expect(o.gemm?.grouped === true).toBe(o.name === 'expert-up' || o.name === 'expert-down')
        }
      }),
      { numRuns: 300 },
    )
  })

  it('on one GPU, a training forward does the FLOPs of @meshplan/model: tokens × matmul FLOPs + causal attention', () => {
    fc.assert(
      fc.property(fc.constantFrom(...modelNames), fc.integer({ min: 1, max: 8192 }), fc.integer({ min: 1, max: 4 }), (name, s, batch) => {
        const arch = models[name]
        const ops = opsOf(deploymentOf(name), { kind: 'training', sequence: s, batch, recompute: 'none' })
        const forward = (o: Operator) => o.pass === 'forward'
        const gemms = total(ops, (o) => o.flops, (o) => forward(o) && o.kind === 'gemm')
        expect(gemms / (batch * s * matmulFlopsPerToken(arch)) - 1).toBeCloseTo(0, 9)
        // attentionFlopsPerToken(c) is linear in the keys c: per key, times the causal pairs, the
        // window layers' capped at the window and the others not (gpt-oss: half of each)
        const perKey = attentionFlopsPerToken(1)(arch)
        const attention = total(ops, (o) => o.flops, (o) => forward(o) && o.kind === 'attention')
        const share = windowLayerCount(arch) / arch.layers
        const pairs = share * causalPairs(s, arch.slidingWindow) + (1 - share) * causalPairs(s)
        expect(attention / (batch * perKey * pairs) - 1).toBeCloseTo(0, 9)
      }),
      { numRuns: 100 },
    )
  })

  it('TP divides the per-GPU FLOPs of a dense layer by tp (when it divides the KV heads)', () => {
    fc.assert(
      fc.property(fc.constantFrom('llama-2-7b' as const, 'llama-2-70b' as const, 'qwen2.5-72b' as const), fc.constantFrom(2, 4, 8), fc.integer({ min: 1, max: 4096 }), (name, tp, tokens) => {
        const phase: Phase = { kind: 'prefill', tokens, batch: 1 }
        const layer = (ops: ReadonlyArray<Operator>) => total(ops, (o) => o.flops, (o) => o.kind !== 'elementwise' && o.group !== 'lm_head')
        const one = layer(opsOf(deploymentOf(name), phase))
        const split = layer(opsOf(deploymentOf(name, { tp }), phase))
        expect((split * tp) / one - 1).toBeCloseTo(0, 9)
      }),
      { numRuns: 50 },
    )
  })

  it('the operators of a phase do not depend on how it was built', () => {
    const deployment = deploymentOf('llama-2-7b')
    const a = opsOf(deployment, { kind: 'decode', batch: 2, context: 100 })
    const b = opsOf(deployment, { kind: 'decode', batch: 2, context: [100, 100] })
    expect(pipe(a, (x) => x.map((o) => o.flops))).toEqual(b.map((o) => o.flops))
  })
})

// The unfused attention of Megatron-LM 2021-22 (Korthikanti et al. 2022, section 4.1 and
// figure 4: QKᵀ as a batched GEMM, a fused scale-mask-softmax, dropout with its mask, the
// second batched GEMM), worked by hand on their 22B GPT: h 6144, 64 heads of 96, TP8,
// 4 sequences of 2048 tokens, fp16.
describe('the unfused attention kernel: Korthikanti et al.\'s 22B GPT, TP8, 4 × 2048 tokens', () => {
  const gpt22b = right(
    E.mapLeft((issues: ReadonlyArray<{ readonly path: string }>) => ({ message: issues.map((i) => i.path).join(', ') }))(
      fromHuggingFace({ model_type: 'gpt_neox', hidden_size: 6144, num_hidden_layers: 48, num_attention_heads: 64, intermediate_size: 24576, vocab_size: 51200, max_position_embeddings: 2048, tie_word_embeddings: true }, 'GPT 22B'),
    ),
  )
  const deployment = { arch: gpt22b, strategy: strategy({ tp: 8 }), precision: { weights: 'fp16', activations: 'fp16', kvCache: 'fp16' } as const }
  const unfused = withAttentionKernel('unfused')(defaultComputeModel)
  const phase: Phase = { kind: 'training', sequence: 2048, batch: 4, recompute: 'none' }
  const ops = right(operators(unfused, deployment)(phase))
  // per GPU: 64 / 8 = 8 heads; 4 · 2048² = 16,777,216 scores per head, 134,217,728 over the 8 heads
  const scores = 8 * 4 * 2048 * 2048

  it('replaces the fused core by a scores GEMM, a softmax with dropout and a context GEMM', () => {
    expect(scores).toBe(134_217_728)
    expect(ops.some((o) => o.name === 'attention')).toBe(false)
    expect(named(ops, 'attention-scores').kind).toBe('gemm')
    expect(named(ops, 'attention-softmax').kind).toBe('elementwise')
    expect(named(ops, 'attention-context').kind).toBe('gemm')
  })

  it('the scores GEMM: (2048 × 96)·(96 × 2048) for each of 4 sequences × 8 heads, all 2048² scores (the mask comes after): 2 · 96 FLOPs each', () => {
    const qk = named(ops, 'attention-scores')
    expect(qk.gemm).toEqual({ m: 2048, n: 2048, k: 96, batch: 32 })
    expect(qk.flops).toBe(2 * 96 * scores) // 25,769,803,776
    expect(qk.weightBytes).toBe(0)
    // reads Q and K (8192 tokens × 8 heads × 96, 2 bytes each), writes 2 bytes per score
    expect(qk.activationBytes).toBe(8192 * (768 + 768) * 2 + 2 * scores) // 25,165,824 + 268,435,456
  })

  it('softmax and dropout: read 2, write 2; read 2, write 2 and a 1-byte mask: 9 bytes per score', () => {
    expect(named(ops, 'attention-softmax').activationBytes).toBe(9 * scores) // 1,207,959,552
    expect(named(ops, 'attention-softmax').flops).toBe((5 + 2) * scores)
  })

  it('the context GEMM: (2048 × 2048)·(2048 × 96), reads the probabilities and V, writes the output', () => {
    const av = named(ops, 'attention-context')
    expect(av.gemm).toEqual({ m: 2048, n: 96, k: 2048, batch: 32 })
    expect(av.flops).toBe(2 * 96 * scores)
    expect(av.activationBytes).toBe(2 * scores + 8192 * (768 + 768) * 2)
    // forward traffic of the core per layer: 2 + 9 + 2 = 13 bytes per score, the 1.7 GB docs/accuracy.md estimated
    const core = ['attention-scores', 'attention-softmax', 'attention-context'] as const
    expect(core.reduce((sum, n) => sum + named(ops, n).activationBytes, 0)).toBe(13 * scores + 2 * 8192 * 1536 * 2) // 1,795,162,112
  })

  it('the square costs twice the causal FLOPs of the fused kernel, as 2048² / (2048 · 2049 / 2) says', () => {
    const fused = right(operators(defaultComputeModel, deployment)(phase))
    const unfusedFlops = named(ops, 'attention-scores').flops + named(ops, 'attention-context').flops
    expect(unfusedFlops / named(fused, 'attention').flops).toBeCloseTo((2048 * 2048) / ((2048 * 2049) / 2), 12)
  })

  it('selective recomputation re-runs all three; a prefill has no dropout (4 bytes per score); a decode step keeps the fused kernel', () => {
    const selective = right(operators(unfused, deployment)({ ...phase, recompute: 'selective' })).filter((o) => o.pass === 'recompute')
    expect(selective.map((o) => o.name)).toEqual(['attention-scores', 'attention-softmax', 'attention-context'])
    const prefill = right(operators(unfused, deployment)({ kind: 'prefill', tokens: 2048, batch: 4 }))
    expect(named(prefill, 'attention-softmax').activationBytes).toBe(4 * scores)
    const decode = right(operators(unfused, deployment)({ kind: 'decode', batch: 4, context: 2048 }))
    expect(decode.map((o) => o.name)).toEqual(right(operators(defaultComputeModel, deployment)({ kind: 'decode', batch: 4, context: 2048 })).map((o) => o.name))
  })
})

// FP8 training as Transformer Engine runs it ("Using FP8 with Transformer Engine"):
// fp8 GEMM inputs and weight copies, 16-bit outputs, norms, residuals, attention and loss;
// the LM head stays a 16-bit GEMM. Llama-2-7B, one GPU, one sequence of 4096 tokens.
describe('FP8 training: Llama-2-7B, 4096 tokens, bf16 weights and fp8 activations', () => {
  const fp8 = deploymentOf('llama-2-7b', {}, { weights: 'bf16', activations: 'fp8', kvCache: 'bf16' })
  const ops = opsOf(fp8, { kind: 'training', sequence: 4096, batch: 1, recompute: 'none' })
  const bf16 = opsOf(deploymentOf('llama-2-7b'), { kind: 'training', sequence: 4096, batch: 1, recompute: 'none' })

  it('a layer GEMM computes in fp8: reads its fp8 input and fp8 weight copy (1 byte), writes a bf16 output (2 bytes)', () => {
    const qkv = named(ops, 'qkv')
    expect(qkv.dtype).toBe('fp8')
    expect(qkv.weightBytes).toBe(4096 * 12288 * 1)
    expect(qkv.activationBytes).toBe(4096 * (12288 * 2 + 4096 * 1))
  })

  it('the LM head stays a bf16 GEMM (bf16 weights, bf16 input), as Megatron-LM keeps its output layer out of fp8', () => {
    const head = named(ops, 'lm-head')
    expect(head.dtype).toBe('bf16')
    expect(head.weightBytes).toBe(32000 * 4096 * 2)
    expect(head.activationBytes).toBe(4096 * (32000 + 4096) * 2)
  })

  it('norms read bf16 and write the fp8 input of their GEMM (the cast fused); the residual, the attention core and the loss stay bf16', () => {
    expect(named(ops, 'attention-norm').activationBytes).toBe(4096 * 4096 * (2 + 1))
    expect(named(ops, 'residual').activationBytes).toBe(named(bf16, 'residual').activationBytes)
    expect(named(ops, 'attention').activationBytes).toBe(named(bf16, 'attention').activationBytes)
    expect(named(ops, 'loss').activationBytes).toBe(named(bf16, 'loss').activationBytes)
    // SwiGLU reads gate and up in bf16, writes the down projection's fp8 input
    expect(named(ops, 'mlp-activation').activationBytes).toBe(4096 * 11008 * (2 * 2 + 1))
  })

  it('serving with fp8 activations moves the same bytes: fp8 GEMM inputs, bf16 outputs, norms and residuals (vLLM\'s cutlass_scaled_mm writes only bf16 or fp16); its LM head computes in fp8', () => {
    const prefill = opsOf(fp8, { kind: 'prefill', tokens: 4096, batch: 1 })
    const bf16Prefill = opsOf(deploymentOf('llama-2-7b'), { kind: 'prefill', tokens: 4096, batch: 1 })
    // reads 4096 fp8 inputs of 4096 (1 byte), writes 4096 bf16 outputs of 12288 (2 bytes): 117,440,512 B
    expect(named(prefill, 'qkv').activationBytes).toBe(4096 * (12288 * 2 + 4096 * 1))
    expect(named(prefill, 'qkv').activationBytes).toBe(117_440_512)
    expect(named(prefill, 'attention-norm').activationBytes).toBe(4096 * 4096 * (2 + 1))
    expect(named(prefill, 'residual').activationBytes).toBe(named(bf16Prefill, 'residual').activationBytes)
    expect(named(prefill, 'lm-head').dtype).toBe('fp8')
    // the LM head runs on the last token: reads the final norm's bf16 output (a quantized checkpoint leaves the head 16-bit), writes bf16 logits
    expect(named(prefill, 'lm-head').activationBytes).toBe(32000 * 2 + 4096 * 2)
  })
})

describe("serving a quantized checkpoint: the LM head it leaves 16-bit computes in 16 bits", () => {
  const precision = { weights: 'fp8', activations: 'fp8', kvCache: 'fp8' } as const
  const checkpoint = { method: 'fp8', weights: 'fp8', activations: 'fp8', scaleOverhead: 0, scope: 'linear' } as const
  const plain = deploymentOf('llama-2-7b', {}, precision)
  const quantized = { ...plain, arch: { ...plain.arch, quantization: checkpoint } }

  it('Llama-2-7B from an fp8 checkpoint: the head is a bf16 GEMM reading 32000 · 4096 bf16 weights; the layers stay fp8', () => {
    const ops = opsOf(quantized, { kind: 'decode', batch: 8, context: 1024 })
    const head = named(ops, 'lm-head')
    expect(head.dtype).toBe('bf16')
    expect(head.weightBytes).toBe(32000 * 4096 * 2)
    expect(named(ops, 'qkv').dtype).toBe('fp8')
    expect(named(ops, 'qkv').weightBytes).toBe(12288 * 4096 * 1)
  })

  it('without a checkpoint the precision quantizes the head too: an fp8 GEMM of 1-byte weights', () => {
    const head = named(opsOf(plain, { kind: 'decode', batch: 8, context: 1024 }), 'lm-head')
    expect(head.dtype).toBe('fp8')
    expect(head.weightBytes).toBe(32000 * 4096 * 1)
  })

  it("the bf16 head is timed at the bf16 peak: on an H100 its compute time is twice the fp8 head's at the same efficiency", () => {
    const time = (d: typeof plain) => right(operatorTime(defaultComputeModel, h100, true)(named(opsOf(d, { kind: 'prefill', tokens: 4096, batch: 8 }), 'lm-head')))
    const wide = time(quantized)
    const narrow = time(plain)
    expect(wide.operator.flops).toBe(narrow.operator.flops)
    // FLOPs over peak times efficiency: the bf16 peak is half the fp8 one (989.4 against 1978.9 TFLOP/s)
    expect((wide.computeSeconds as number) / (narrow.computeSeconds as number)).toBeCloseTo((1978.9 / 989.4) * (narrow.computeEfficiency / wide.computeEfficiency), 6)
  })
})

// NVFP4 serving (TensorRT-LLM's ModelOpt checkpoints): 4-bit GEMM inputs, 16-bit everything else.
describe('fp4 serving: the MoE permutations move 16-bit rows', () => {
  it('Mixtral 8x7B, 1024 prompt tokens, top-2: dispatch reads 2048 routed rows of 4096 at 2 bytes and writes them at half a byte; combine reads them back at 2 bytes and writes 1024 token rows', () => {
    const fp4 = deploymentOf('mixtral-8x7b', {}, { weights: 'fp4', activations: 'fp4', kvCache: 'fp8' })
    const prefill = opsOf(fp4, { kind: 'prefill', tokens: 1024, batch: 1 })
    // routed rows 1024 · 2 = 2048; dispatch 4096 · (2 + 0.5) = 10,240 B each: 20,971,520 B per layer
    expect(named(prefill, 'moe-dispatch').activationBytes).toBe(2048 * 4096 * 2.5)
    expect(named(prefill, 'moe-dispatch').activationBytes).toBe(20_971_520)
    // combine: 2048 rows read and 1024 written, 8192 B each: 25,165,824 B; 2 FLOPs per routed element (weight, accumulate)
    expect(named(prefill, 'moe-combine').activationBytes).toBe(25_165_824)
    expect(named(prefill, 'moe-combine').flops).toBe(2048 * 4096 * 2)
    // the expert up-projection reads 4-bit inputs (half a byte) and writes bf16 gate and up rows of 2 · 14336
    expect(named(prefill, 'expert-up').activationBytes).toBe(2048 * (2 * 14336 * 2 + 4096 * 0.5))
  })

  it("routing reads each token's 8 fp32 logits and writes 2 ids and 2 weights; the sort reads and writes 12 bytes an assignment", () => {
    const fp4 = deploymentOf('mixtral-8x7b', {}, { weights: 'fp4', activations: 'fp4', kvCache: 'fp8' })
    const prefill = opsOf(fp4, { kind: 'prefill', tokens: 1024, batch: 1 })
    // 1024 tokens · (8 · 4 + 2 · 8) = 49,152 B; softmax 5 FLOPs a logit: 40,960
    expect(named(prefill, 'moe-route').activationBytes).toBe(49_152)
    expect(named(prefill, 'moe-route').flops).toBe(40_960)
    expect(named(prefill, 'moe-sort').activationBytes).toBe(2048 * 12)
    // one kernel each, once per MoE layer: four around the grouped GEMMs where one stood
    for (const name of ['moe-route', 'moe-sort', 'moe-dispatch', 'moe-combine'] as const) expect(named(prefill, name).count).toBe(32)
  })
})
