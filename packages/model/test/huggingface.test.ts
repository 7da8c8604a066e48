import * as fs from 'node:fs'
import * as path from 'node:path'
import fc from 'fast-check'
import * as E from 'fp-ts/Either'
import { describeIssue, type DecodeIssue } from '@meshplan/units'
import type { Architecture } from '../src/architecture'
import { fromHuggingFace } from '../src/huggingface'
import { parameterCounts } from '../src/parameters'
import { architectureProblems } from './arbitraries'
import { llamaConfig as llama } from './configs'

const right = (u: unknown, name?: string): Architecture => {
  const result = fromHuggingFace(u, name)
  if (E.isLeft(result)) throw new Error(`expected an architecture, got: ${result.left.map(describeIssue).join('; ')}`)
  return result.right
}

const left = (u: unknown): ReadonlyArray<DecodeIssue> => {
  const result = fromHuggingFace(u)
  if (E.isRight(result)) throw new Error(`expected issues, got ${JSON.stringify(result.right)}`)
  return result.left
}


describe('families', () => {
  it('llama: MHA by default (num_key_value_heads = heads), head_dim = hidden / heads, untied, RMSNorm, rope', () => {
    const arch = right({ ...llama, some_future_key: { nested: true } }, 'mine')
    expect(arch).toEqual({
      name: 'mine',
      family: 'llama',
      hidden: 4096,
      layers: 32,
      vocab: 32000,
      tiedEmbeddings: false,
      attention: { kind: 'mha', heads: 32, kvHeads: 32, headDim: 128, qkvBias: false, outputBias: false, qkNorm: false },
      mlp: { kind: 'swiglu', ffn: 11008, bias: false },
      norm: 'rmsnorm',
      positions: 'rope',
      maxPositions: 4096,
    })
  })

  it('the name comes from the argument, then _name_or_path, then model_type', () => {
    expect(right({ ...llama, _name_or_path: 'meta-llama/Llama-2-7b-hf' }).name).toBe('meta-llama/Llama-2-7b-hf')
    expect(right(llama).name).toBe('llama')
  })

  it('llama with fewer KV heads is GQA; attention_bias turns on Q, K, V and O biases', () => {
    const arch = right({ ...llama, num_key_value_heads: 8, attention_bias: true })
    expect(arch.attention).toEqual({ kind: 'gqa', heads: 32, kvHeads: 8, headDim: 128, qkvBias: true, outputBias: true, qkNorm: false })
  })

  it('mistral keeps its sliding window; qwen2 only with use_sliding_window', () => {
    expect(right({ ...llama, model_type: 'mistral', sliding_window: 4096 }).slidingWindow).toBe(4096)
    expect(right({ ...llama, model_type: 'mistral', sliding_window: null }).slidingWindow).toBeUndefined()
    expect(right({ ...llama, model_type: 'qwen2', sliding_window: 4096, use_sliding_window: false }).slidingWindow).toBeUndefined()
    expect(right({ ...llama, model_type: 'qwen2', sliding_window: 4096, use_sliding_window: true }).slidingWindow).toBe(4096)
    expect(right({ ...llama, sliding_window: 4096 }).slidingWindow).toBeUndefined()
  })

  it('qwen2 has Q, K, V bias and no output bias; qwen3 has q/k norm and its own head_dim', () => {
    const qwen2 = right({ ...llama, model_type: 'qwen2' }).attention
    expect(qwen2.kind !== 'mla' && [qwen2.qkvBias, qwen2.outputBias, qwen2.qkNorm]).toEqual([true, false, false])
    const qwen3 = right({ ...llama, model_type: 'qwen3', head_dim: 64 }).attention
    expect(qwen3.kind !== 'mla' && [qwen3.qkvBias, qwen3.qkNorm, qwen3.headDim]).toEqual([false, true, 64])
  })

  it('mixtral: every layer MoE, experts the shape of intermediate_size', () => {
    const arch = right({ ...llama, model_type: 'mixtral', num_local_experts: 8, num_experts_per_tok: 2 })
    expect(arch.moe).toEqual({
      experts: 8,
      topK: 2,
      expertFfn: 11008,
      sharedExperts: 0,
      sharedExpertFfn: 0,
      firstDenseLayers: 0,
      step: 1,
      routerBias: false,
    })
  })

  it('qwen3_moe: experts of moe_intermediate_size every decoder_sparse_step layers', () => {
    const arch = right({
      ...llama,
      model_type: 'qwen3_moe',
      num_experts: 128,
      num_experts_per_tok: 8,
      moe_intermediate_size: 1536,
      decoder_sparse_step: 2,
      norm_topk_prob: true,
    })
    expect(arch.moe).toMatchObject({ experts: 128, topK: 8, expertFfn: 1536, step: 2, sharedExperts: 0 })
    expect(arch.attention.kind !== 'mla' && arch.attention.qkNorm).toBe(true)
  })

  it('qwen3_moe with dense layers at listed positions is refused: mlp_only_layers must be empty', () => {
    const issues = left({ ...llama, model_type: 'qwen3_moe', num_experts: 8, num_experts_per_tok: 2, moe_intermediate_size: 64, mlp_only_layers: [0, 5] })
    expect(issues.map((i) => i.path)).toEqual(['config.mlp_only_layers'])
  })

  it('deepseek_v3: MLA, dense leading layers, a shared expert, a router bias', () => {
    const arch = right({
      ...llama,
      model_type: 'deepseek_v3',
      n_routed_experts: 64,
      n_shared_experts: 2,
      num_experts_per_tok: 6,
      moe_intermediate_size: 1408,
      first_k_dense_replace: 1,
      kv_lora_rank: 512,
      q_lora_rank: null,
      qk_nope_head_dim: 128,
      qk_rope_head_dim: 64,
      v_head_dim: 128,
    })
    expect(arch.attention).toEqual({ kind: 'mla', heads: 32, qLoraRank: null, kvLoraRank: 512, qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128 })
    expect(arch.moe).toEqual({
      experts: 64,
      topK: 6,
      expertFfn: 1408,
      sharedExperts: 2,
      sharedExpertFfn: 1408,
      firstDenseLayers: 1,
      step: 1,
      routerBias: true,
    })
    expect(arch.mlp).toEqual({ kind: 'swiglu', ffn: 11008, bias: false })
  })

  it('deepseek_v3: group-limited routing from n_group and topk_group, when it limits anything', () => {
    const base = { ...llama, model_type: 'deepseek_v3', n_routed_experts: 256, n_shared_experts: 1, num_experts_per_tok: 8, moe_intermediate_size: 2048, first_k_dense_replace: 3, kv_lora_rank: 512, q_lora_rank: 1536, qk_nope_head_dim: 128, qk_rope_head_dim: 64, v_head_dim: 128 }
    // DeepSeek-V3: 8 groups of 32 experts, a token's 8 experts from the best 4 groups
    expect(right({ ...base, n_group: 8, topk_group: 4 }).moe?.routingGroups).toEqual({ groups: 8, selected: 4 })
    // Kimi-K2's one group, every group selected, or groups that do not split the experts: no limit
    expect(right({ ...base, n_group: 1, topk_group: 1 }).moe?.routingGroups).toBeUndefined()
    expect(right({ ...base, n_group: 8, topk_group: 8 }).moe?.routingGroups).toBeUndefined()
    expect(right({ ...base, n_group: 3, topk_group: 2 }).moe?.routingGroups).toBeUndefined()
    expect(right(base).moe?.routingGroups).toBeUndefined()
  })

  it('gpt_neox: LayerNorm, 2-matrix GELU with biases, learned positions unless rotary is configured', () => {
    const gpt = right({ ...llama, model_type: 'gpt_neox', tie_word_embeddings: true })
    expect(gpt).toMatchObject({ norm: 'layernorm', positions: 'learned', tiedEmbeddings: true, mlp: { kind: 'gelu', ffn: 11008, bias: true } })
    expect(gpt.attention).toMatchObject({ kind: 'mha', qkvBias: true, outputBias: true })
    expect(right({ ...llama, model_type: 'gpt_neox', rotary_pct: 0.25 }).positions).toBe('rope')
    expect(right({ ...llama, model_type: 'gpt_neox', rotary_emb_base: 10000 }).positions).toBe('rope')
    expect(right({ ...llama, model_type: 'gpt_neox', rotary_pct: 0 }).positions).toBe('learned')
  })
})

describe('calibration models', () => {
  // The repository's copy of the measured cases (validation/calibration.json; `npm run sync-cases` refreshes it).
  const file = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'validation', 'calibration.json'), 'utf8')) as {
    readonly cases: ReadonlyArray<{ readonly id: string; readonly model?: unknown }>
  }
  const withModel = file.cases.filter((c) => c.model !== undefined)

  it('the file has models to import', () => {
    expect(withModel.length).toBeGreaterThan(0)
  })

  it.each(withModel.map((c) => [c.id, c.model] as const))('%s imports', (_id, model) => {
    expect(architectureProblems(right(model))).toEqual([])
  })

  it('the Megatron GPT 175B of Korthikanti et al. 2022 counts 12h² + 13h per layer, tied 51200-token vocabulary', () => {
    const model = withModel.find((c) => c.id === 'korthikanti22-175b-a100-full-recompute')?.model
    const h = 12288
    expect(parameterCounts(right(model)).total).toBe(96 * (12 * h * h + 13 * h) + (51200 + 2048) * h + 2 * h)
  })
})

describe('issues', () => {
  it('an unknown model_type names the field, the value and the families', () => {
    const issues = left({ ...llama, model_type: 'gpt2' })
    expect(issues).toHaveLength(1)
    expect(issues[0]).toMatchObject({ path: 'config.model_type', value: 'gpt2' })
    for (const family of ['llama', 'gpt_neox', 'gemma3', 'gemma3_text', 'kimi_k2']) expect(issues[0]?.expected).toContain(`"${family}"`)
    expect(issues[0]?.expected).toContain('kv_lora_rank')
  })

  it('missing and malformed fields are all reported, each with its path and value', () => {
    const { num_attention_heads: _heads, ...rest } = llama
    const issues = left({ ...rest, hidden_size: '4096', vocab_size: 0, tie_word_embeddings: 'no' })
    expect(issues.map((i) => [i.path, i.value])).toEqual([
      ['config.hidden_size', '4096'],
      ['config.num_attention_heads', undefined],
      ['config.vocab_size', 0],
      ['config.tie_word_embeddings', 'no'],
    ])
    expect(describeIssue(issues[1] as DecodeIssue)).toBe(
      'config.num_attention_heads: expected a positive integer, at most 65,536 (heads or experts: the most published are 128 heads and 384 experts), got nothing (the field is missing)',
    )
  })

  it('family fields are reported together with the common ones', () => {
    const { vocab_size: _vocab, ...rest } = llama
    const issues = left({ ...rest, model_type: 'mixtral', num_local_experts: 8.5 })
    expect(issues.map((i) => i.path).sort()).toEqual(['config.num_experts_per_tok', 'config.num_local_experts', 'config.vocab_size'])
  })

  it('a config that is not an object gets one issue at the root', () => {
    expect(left(null)).toEqual([{ path: 'config', value: null, expected: 'a config.json object' }])
    expect(left([llama])).toHaveLength(1)
  })

  it('heads must be divisible by KV heads', () => {
    expect(left({ ...llama, num_key_value_heads: 5 })).toEqual([
      { path: 'config.num_key_value_heads', value: 5, expected: 'a divisor of num_attention_heads (32)' },
    ])
  })

  it('hidden must be divisible by heads unless head_dim is given', () => {
    expect(left({ ...llama, num_attention_heads: 24 })).toEqual([
      { path: 'config.num_attention_heads', value: 24, expected: 'a divisor of hidden_size (4096), or a head_dim field' },
    ])
    expect(right({ ...llama, num_attention_heads: 24, head_dim: 128 }).attention).toMatchObject({ heads: 24, headDim: 128 })
  })

  it('top-k at most the experts; dense leading layers fewer than the layers', () => {
    expect(left({ ...llama, model_type: 'mixtral', num_local_experts: 8, num_experts_per_tok: 9 })).toEqual([
      { path: 'config.num_experts_per_tok', value: 9, expected: 'at most num_local_experts (8)' },
    ])
    const deepseek = {
      ...llama,
      model_type: 'deepseek_v3',
      n_routed_experts: 8,
      n_shared_experts: 0,
      num_experts_per_tok: 2,
      moe_intermediate_size: 64,
      first_k_dense_replace: 32,
      kv_lora_rank: 16,
      q_lora_rank: 16,
      qk_nope_head_dim: 8,
      qk_rope_head_dim: 8,
      v_head_dim: 8,
    }
    expect(left(deepseek).map((i) => i.path)).toEqual(['config.first_k_dense_replace'])
    expect(left({ ...deepseek, first_k_dense_replace: 0, moe_layer_freq: 2 }).map((i) => i.path)).toEqual(['config.moe_layer_freq'])
  })
})

describe('never throws', () => {
  const check = (u: unknown): void => {
    const result = fromHuggingFace(u)
    if (E.isLeft(result)) {
      expect(result.left.length).toBeGreaterThan(0)
      for (const issue of result.left) expect(issue.path.startsWith('config')).toBe(true)
    } else {
      expect(architectureProblems(result.right)).toEqual([])
      const counts = parameterCounts(result.right)
      expect(Number.isFinite(counts.total) && counts.total > 0).toBe(true)
    }
  }

  it('on any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), check))
  })

  it('on anything', () => {
    fc.assert(fc.property(fc.anything(), check))
  })

  const field = fc.oneof(fc.integer({ min: -2, max: 300 }), fc.constant(2 ** 40), fc.double(), fc.constant(null), fc.string(), fc.boolean())
  it('on configs that are nearly right (every known key with arbitrary values)', () => {
    const config = fc.record(
      {
        model_type: fc.constantFrom('llama', 'mistral', 'mixtral', 'qwen2', 'qwen3', 'qwen3_moe', 'deepseek_v3', 'gpt_neox', 'bert'),
        hidden_size: field,
        num_hidden_layers: field,
        num_attention_heads: field,
        num_key_value_heads: field,
        head_dim: field,
        intermediate_size: field,
        vocab_size: field,
        max_position_embeddings: field,
        tie_word_embeddings: field,
        sliding_window: field,
        use_sliding_window: field,
        num_local_experts: field,
        num_experts: field,
        n_routed_experts: field,
        num_experts_per_tok: field,
        moe_intermediate_size: field,
        n_shared_experts: field,
        first_k_dense_replace: field,
        decoder_sparse_step: field,
        kv_lora_rank: field,
        q_lora_rank: field,
        qk_nope_head_dim: field,
        qk_rope_head_dim: field,
        v_head_dim: field,
        rotary_pct: field,
      },
      { requiredKeys: ['model_type'] },
    )
    fc.assert(fc.property(config, check), { numRuns: 500 })
  })

  it('on valid configs, it returns an architecture (the generator above is not all rejections)', () => {
    const size = fc.integer({ min: 1, max: 64 })
    const config = fc.record({
      model_type: fc.constantFrom('llama', 'mistral', 'qwen2', 'qwen3', 'gpt_neox'),
      num_hidden_layers: size,
      num_attention_heads: size,
      head_dim: size,
      intermediate_size: size,
      vocab_size: size,
      max_position_embeddings: size,
    })
    fc.assert(fc.property(config, (c) => expect(architectureProblems(right({ ...c, hidden_size: c.num_attention_heads * c.head_dim }))).toEqual([])))
  })
})
