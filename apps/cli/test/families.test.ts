// `meshplan estimate --model FILE` on real config.json files of the families added with
// their sources (packages/model/test/fixtures/hf): Gemma 3, Llama 4, gpt-oss and Kimi-K2.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { meshplan, tempFile } from './cli'

const fixture = (file: string): string => path.resolve(__dirname, '../../../packages/model/test/fixtures/hf', file)

interface EstimateJson {
  gpus: number
  output_tokens_per_second: number
  ttft_seconds: number
  tpot_seconds: number
  memory: { weights_bytes: number; kv_cache_bytes: number; fits: boolean }
}

const estimate = async (...args: string[]): Promise<EstimateJson> => {
  const r = await meshplan('estimate', ...args, '--json')
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  return JSON.parse(r.stdout) as EstimateJson
}

const finite = (e: EstimateJson): void => {
  for (const v of [e.output_tokens_per_second, e.ttft_seconds, e.tpot_seconds, e.memory.weights_bytes, e.memory.kv_cache_bytes]) {
    expect(Number.isFinite(v) && v > 0).toBe(true)
  }
}

describe('meshplan estimate --model FILE for the new families', () => {
  it.each([
    ['gemma-3-12b-it.json', ['--cluster', 'dgx-h100', '--tp', '8']],
    ['llama-4-scout-17b-16e-instruct.json', ['--cluster', 'dgx-h100', '--tp', '8']],
    ['gpt-oss-120b.json', ['--cluster', 'dgx-h100', '--tp', '8']],
    ['kimi-k2-instruct.json', ['--cluster', 'dgx-h100', '--nodes', '2', '--tp', '8', '--dp', '2', '--ep', '16']],
  ])('%s estimates with finite, positive figures', async (file, args) => {
    const e = await estimate('--model', fixture(file), ...args)
    finite(e)
    expect(e.memory.fits).toBe(true)
  })

  it('gpt-oss-120b on 8 GPUs holds its checkpoint: MXFP4 experts with their scales, the rest bf16, about 65 GB (the model card: 60.8 GiB)', async () => {
    const e = await estimate('--model', fixture('gpt-oss-120b.json'), '--cluster', 'dgx-h100', '--tp', '8')
    // experts 36·128·(3·2880² + 2·2880 + 2880) at 0.5 byte and 1/16 of it in scales, split 8
    // ways; the routers (2880·128 + 128 per layer) and norms (2·2880 per layer + 2880) whole
    // on every GPU; the rest (attention, embedding, LM head) split 8 ways; all of those bf16
    const experts = 36 * 128 * (3 * 2880 * 2880 + 2 * 2880 + 2880)
    const whole = 36 * (2880 * 128 + 128) + 36 * 2 * 2880 + 2880
    const rest = 116_829_156_672 - experts - whole
    const byHand = (experts * 0.5 * 1.0625 + rest * 2) / 8 + whole * 2
    expect(e.memory.weights_bytes).toBeCloseTo(byHand, -3)
    expect(Math.abs((e.memory.weights_bytes * 8) / (60.8 * 2 ** 30) - 1)).toBeLessThan(0.01)
  })

  it("Gemma 3 12B at 128k: the KV cache is the full-attention model's times (40·1024 + 8·131,072) / (48·131,072)", async () => {
    const args = ['--cluster', 'dgx-h100', '--tp', '8', '--input-tokens', '130816', '--output-tokens', '256', '--batch', '1']
    const windowed = await estimate('--model', fixture('gemma-3-12b-it.json'), ...args)
    const config = JSON.parse(fs.readFileSync(fixture('gemma-3-12b-it.json'), 'utf8')) as { text_config: Record<string, unknown> }
    const global = tempFile('gemma-3-12b-global.json', JSON.stringify({ ...config, text_config: { ...config.text_config, sliding_window: null } }))
    const full = await estimate('--model', global, ...args)
    // per token on one GPU of TP 8: 48 layers · 2 (K, V) · 1 KV head · 256 · 2 bytes = 49,152
    expect(full.memory.kv_cache_bytes).toBe(49_152 * 131_072)
    expect(windowed.memory.kv_cache_bytes).toBeCloseTo((49_152 * (40 * 1024 + 8 * 131_072)) / 48, 0)
    expect(windowed.memory.kv_cache_bytes / full.memory.kv_cache_bytes).toBeCloseTo(0.1732, 4)
    // and a decode step reads less: TPOT is lower at the same batch
    expect(windowed.tpot_seconds).toBeLessThan(full.tpot_seconds)
  })
})
