import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as E from 'fp-ts/Either'
import { isMoeLayer, isWindowLayer, meanCachedTokens, meanKeys, windowLayerCount, type Architecture } from '../src/architecture'
import { fromHuggingFace } from '../src/huggingface'
import { parameterCounts } from '../src/parameters'
import { attentionFlopsPerToken } from '../src/flops'
import { models } from '../src/presets'

/** A real `config.json` kept in `fixtures/hf` (its source is in `fixtures/hf/SOURCES.md`). */
const config = (file: string): unknown => JSON.parse(readFileSync(join(__dirname, 'fixtures', 'hf', file), 'utf8'))

const imported = (file: string): Architecture => {
  const result = fromHuggingFace(config(file))
  if (E.isLeft(result)) throw new Error(`${file}: ${JSON.stringify(result.left)}`)
  return result.right
}

/** |actual / published - 1|. */
const relative = (actual: number, published: number): number => Math.abs(actual / published - 1)

/**
 * Each family's official total, from the publisher: the count from the real config must
 * be within 1% of it.
 */
const official: ReadonlyArray<{ readonly file: string; readonly total: number; readonly source: string }> = [
  // Gemma 2 report (arXiv 2408.00118), table 2: embedding + non-embedding parameters
  { file: 'gemma-2-2b-it.json', total: 590_118_912 + 2_024_517_888, source: 'Gemma 2 report, table 2' },
  { file: 'gemma-2-9b-it.json', total: 917_962_752 + 8_324_201_984, source: 'Gemma 2 report, table 2' },
  { file: 'gemma-2-27b-it.json', total: 1_180_237_824 + 26_047_480_320, source: 'Gemma 2 report, table 2' },
  // Gemma 3 report (arXiv 2503.19786), table 1: vision encoder + embedding + non-embedding, in millions
  { file: 'gemma-3-1b-it.json', total: (0 + 302 + 698) * 1e6, source: 'Gemma 3 report, table 1' },
  { file: 'gemma-3-12b-it.json', total: (417 + 1012 + 10_759) * 1e6, source: 'Gemma 3 report, table 1' },
  // Phi-3 report (arXiv 2404.14219): phi-3-mini 3.8B, phi-3-medium 14B; Phi-4-mini's model card: 3.8B
  { file: 'phi-3-mini-4k-instruct.json', total: 3.8e9, source: 'Phi-3 report, abstract' },
  { file: 'phi-3-medium-4k-instruct.json', total: 14e9, source: 'Phi-3 report, section 2' },
  { file: 'phi-4-mini-instruct.json', total: 3.8e9, source: 'Phi-4-mini model card' },
  // Meta, "The Llama 4 herd" (ai.meta.com/blog/llama-4-multimodal-intelligence): 109B and 400B total
  { file: 'llama-4-scout-17b-16e-instruct.json', total: 109e9, source: 'Meta, The Llama 4 herd' },
  { file: 'llama-4-maverick-17b-128e-instruct.json', total: 400e9, source: 'Meta, The Llama 4 herd' },
  // OpenAI, gpt-oss model card (arXiv 2508.10925), table 1
  { file: 'gpt-oss-120b.json', total: 116.83e9, source: 'gpt-oss model card, table 1' },
  { file: 'gpt-oss-20b.json', total: 20.91e9, source: 'gpt-oss model card, table 1' },
  // Z.ai, GLM-4.5 report (arXiv 2508.06471) and the zai-org/GLM-4.5 README: GLM-4.5-Air 106B total
  { file: 'glm-4.5-air.json', total: 106e9, source: 'GLM-4.5 report' },
  // DeepSeek-V3 report (arXiv 2412.19437), section 1: 671B (the main model, without the MTP module)
  { file: 'deepseek-v3.json', total: 671e9, source: 'DeepSeek-V3 report' },
]

describe('families from real config.json files', () => {
  it.each(official)('$file counts within 1% of its official total ($source)', ({ file, total }) => {
    expect(relative(parameterCounts(imported(file)).total, total)).toBeLessThan(0.01)
  })

  it('Gemma 2 9B: 42 layers of 16 query heads and 8 KV heads of 256, GeGLU 14,336, four norms, tied 256,000-token embedding', () => {
    const h = 3584
    const attention = h * 16 * 256 + 2 * h * 8 * 256 + 16 * 256 * h // 44,040,192
    const mlp = 3 * h * 14_336 // 154,140,672
    const norms = 4 * h // 14,336
    const counts = parameterCounts(imported('gemma-2-9b-it.json'))
    // the report's non-embedding count, to the parameter
    expect(42 * (attention + mlp + norms) + h).toBe(8_324_201_984)
    expect(counts.total - counts.embedding).toBe(8_324_201_984)
    expect(counts.lmHead).toBe(0)
  })

  it('gpt-oss-120b by component, as its model card counts them (table 1: MLP 114.71B, attention 0.96B, embedding and unembedding 1.16B, active 5.13B)', () => {
    const counts = parameterCounts(imported('gpt-oss-120b.json'))
    const h = 2880
    // an expert: gate, up, down and their biases; 128 per layer, 36 layers
    expect(counts.routedExperts).toBe(36 * 128 * (3 * h * 2880 + 2 * 2880 + h))
    expect(relative(counts.routedExperts + counts.router, 114.71e9)).toBeLessThan(0.001)
    // Q (64 heads of 64), K and V (8 heads), output, four biases and 64 sinks per layer
    expect(counts.attention).toBe(36 * (h * 4096 + 2 * h * 512 + 4096 * h + 4096 + 2 * 512 + h + 64))
    expect(relative(counts.attention, 0.96e9)).toBeLessThan(0.005)
    expect(counts.embedding + counts.lmHead).toBe(2 * 201_088 * h)
    // the card counts the unembedding as active, not the embedding
    expect(relative(counts.activeNonEmbeddingPerToken, 5.13e9)).toBeLessThan(0.001)
  })

  it('Llama 4: Scout has an MoE block on every layer, Maverick on every second, each with one shared expert; the vision encoder is counted', () => {
    const scout = imported('llama-4-scout-17b-16e-instruct.json')
    const maverick = imported('llama-4-maverick-17b-128e-instruct.json')
    expect(Array.from({ length: 48 }, (_, i) => isMoeLayer(scout)(i)).every(Boolean)).toBe(true)
    expect(Array.from({ length: 4 }, (_, i) => isMoeLayer(maverick)(i))).toEqual([false, true, false, true])
    expect(maverick.mlp.ffn).toBe(16_384)
    expect(maverick.moe?.sharedExpertFfn).toBe(8192)
    // ViT: 34 layers of d = 1408, f = 5632; patches (336/14)² = 576 and a class token; the
    // pixel-shuffle adapter 5632 → 4096 → 4096; the projector 4096 → 5120
    const d = 1408
    const encoder = 34 * (4 * d * d + 4 * d + 2 * d * 5632 + 5632 + d + 4 * d) + (3 * 196 * d + d + 577 * d + 2 * d) + 5632 * 4096 + 4096 * 4096 + 4096 * 5120
    expect(parameterCounts(scout).encoder).toBe(encoder)
    // Meta publishes 17B active for both
    expect(relative(parameterCounts(scout).activePerToken, 17e9)).toBeLessThan(0.02)
    expect(relative(parameterCounts(maverick).activePerToken, 17e9)).toBeLessThan(0.02)
  })

  it("Kimi-K2 is read as DeepSeek-V3's architecture by its fields, with its fp8 checkpoint", () => {
    const kimi = imported('kimi-k2-instruct.json')
    expect(kimi.family).toBe('deepseek_v3')
    expect(kimi.moe).toMatchObject({ experts: 384, topK: 8, sharedExperts: 1, firstDenseLayers: 1 })
    expect(kimi.quantization).toMatchObject({ weights: 'fp8' })
    // by hand: 61 MLA layers of 64 heads, 1 dense layer (SwiGLU 18,432), 60 MoE layers of
    // 384 experts + 1 shared of 2048, untied 163,840-token vocabulary
    const h = 7168
    const mla = h * 1536 + 1536 * 64 * 192 + h * 576 + 512 * 64 * 256 + 64 * 128 * h + 1536 + 512
    const moe = 385 * 3 * h * 2048 + h * 384 + 384
    const total = 61 * (mla + 2 * h) + 3 * h * 18_432 + 60 * moe + 2 * 163_840 * h + h
    expect(parameterCounts(kimi).total).toBe(total)
    // The Kimi K2 report (arXiv 2507.20534) gives "1.04 trillion"; the config's shapes give
    // 1.026 trillion (1.3% less), which this count follows.
    expect(total).toBe(1_026_408_232_448)
  })

  it('a vision_config outside physical bounds is refused at its path, never counted as infinite (a fuzzing find)', () => {
    const scout = config('llama-4-scout-17b-16e-instruct.json') as { vision_config: Record<string, unknown> }
    for (const [field, value] of [['pixel_shuffle_ratio', 1e-300], ['image_size', 2 ** 31 - 1], ['patch_size', 0]] as const) {
      const result = fromHuggingFace({ ...scout, vision_config: { ...scout.vision_config, [field]: value } })
      expect(E.isLeft(result) && result.left.map((i) => [i.path, i.value])).toEqual([[`config.vision_config.${field}`, value]])
    }
  })

  it('a config whose model_type is unknown but has DeepSeek-V3 fields is read as DeepSeek-V3', () => {
    const { model_type: _type, ...fields } = config('deepseek-v3.json') as Record<string, unknown>
    const result = fromHuggingFace({ ...fields, model_type: 'my_mla_moe' })
    expect(E.isRight(result) && result.right.family).toBe('deepseek_v3')
    expect(E.isRight(result) && result.right.name).toBe('my_mla_moe')
  })
})

describe('presets of the new families', () => {
  it.each([
    ['llama-4-scout', 'llama-4-scout-17b-16e-instruct.json'],
    ['llama-4-maverick', 'llama-4-maverick-17b-128e-instruct.json'],
    ['gpt-oss-20b', 'gpt-oss-20b.json'],
    ['gpt-oss-120b', 'gpt-oss-120b.json'],
    ['glm-4.5-air', 'glm-4.5-air.json'],
    ['kimi-k2', 'kimi-k2-instruct.json'],
  ] as const)('%s counts as its real config does, window, experts and checkpoint format included', (name, file) => {
    const preset = models[name]
    const real = imported(file)
    expect(parameterCounts(preset)).toEqual(parameterCounts(real))
    expect([preset.slidingWindow, preset.windowKind, windowLayerCount(preset), preset.moe, preset.quantization]).toEqual([
      real.slidingWindow,
      real.windowKind,
      windowLayerCount(real),
      real.moe,
      real.quantization,
    ])
  })

  it('gemma-3-27b: the Gemma 3 report\'s 25,600M non-embedding and 417M vision parameters, 1024-token windows on 52 of 62 layers', () => {
    const counts = parameterCounts(models['gemma-3-27b'])
    expect(relative(counts.total - counts.embedding - counts.encoder, 25_600e6)).toBeLessThan(0.001)
    // SigLIP's 417M and the 1152 × 5376 projector
    expect(relative(counts.encoder, 417e6 + 1152 * 5376)).toBeLessThan(0.002)
    expect(windowLayerCount(models['gemma-3-27b'])).toBe(62 - 10)
  })
})

describe('local attention', () => {
  it('Gemma 3: five sliding-window layers to one global; Gemma 2 and gpt-oss alternate from a local first layer', () => {
    const gemma3 = imported('gemma-3-12b-it.json')
    expect(Array.from({ length: 6 }, (_, i) => isWindowLayer(gemma3)(i))).toEqual([true, true, true, true, true, false])
    expect(windowLayerCount(gemma3)).toBe(40)
    const gemma2 = imported('gemma-2-9b-it.json')
    expect(Array.from({ length: 4 }, (_, i) => isWindowLayer(gemma2)(i))).toEqual([true, false, true, false])
    expect(windowLayerCount(imported('gpt-oss-120b.json'))).toBe(18)
  })

  it("Gemma 3 1B without layer_types: the pattern of sliding_window_pattern gives the same layers", () => {
    const gemma = imported('gemma-3-1b-it.json')
    expect(windowLayerCount(gemma)).toBe(26 - 4) // layers 5, 11, 17, 23 are global
    expect(gemma.slidingWindow).toBe(512)
  })

  it('Llama 4: the RoPE layers attend within chunks of 8192, every fourth (NoPE) layer to everything', () => {
    const scout = imported('llama-4-scout-17b-16e-instruct.json')
    expect(scout.windowKind).toBe('chunked')
    expect(Array.from({ length: 4 }, (_, i) => isWindowLayer(scout)(i))).toEqual([true, true, true, false])
  })

  it('Gemma 3 12B at 128k: cached tokens and attention FLOPs worked by hand', () => {
    const gemma = imported('gemma-3-12b-it.json')
    const context = 131_072
    // 40 layers keep 1024 tokens, 8 keep all: (40·1024 + 8·131,072) / 48 = 22,698.67
    expect(meanCachedTokens(gemma, context)).toBeCloseTo((40 * 1024 + 8 * context) / 48, 6)
    // the same shape with global attention on every layer keeps all 131,072
    const { slidingWindow: _w, windowLayers: _l, ...global } = gemma
    expect(meanCachedTokens(global, context)).toBe(context)
    // attention FLOPs of one token: 2·48·16·(2·256)·keys, keys averaged the same way
    expect(attentionFlopsPerToken(context)(gemma)).toBeCloseTo(2 * 48 * 16 * 512 * ((40 * 1024 + 8 * context) / 48), 0)
  })

  it('a chunked layer beyond the first chunk sees on average half a chunk', () => {
    const scout = imported('llama-4-scout-17b-16e-instruct.json')
    // 36 chunked layers at (8192 + 1)/2, 12 global at the context
    expect(meanKeys(scout, 100_000)).toBeCloseTo((36 * 4096.5 + 12 * 100_000) / 48, 6)
    expect(meanKeys(scout, 5000)).toBe(5000)
    expect(meanCachedTokens(scout, 100_000)).toBeCloseTo((36 * 8192 + 12 * 100_000) / 48, 6)
  })
})
