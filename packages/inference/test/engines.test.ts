import fc from 'fast-check'
import { defaultPrecision, models, precision } from '@meshplan/model'
import { expectClose } from '@meshplan/test-utils'
import {
  compareVersions,
  engineModel,
  engineModels,
  genericEngine,
  inRange,
  sglang,
  hostCostOn,
  hostCpuOf,
  trtllm,
  trtllmPytorch,
  trtllmBatch,
  trtllmBenchRequests,
  TRTLLM_BENCH_KV_FRACTION,
  TRTLLM_BUILD_KV_FRACTION,
  TRTLLM_TORCH_SEQUENCE_SECONDS,
  TRTLLM_TORCH_SEQUENCE_SECONDS_GRACE,
  trtllmTokens,
  versionNumbers,
  vllmCustomAllReduce,
  vllmV0,
  vllmV1,
  VLLM_V1_SEQUENCE_SECONDS,
  VLLM_V1_STEP_SECONDS,
  VLLM_SAMPLER_BYTES_PER_LOGIT,
  EAGER_LAYER_SECONDS,
  type EngineContext,
} from '../src/engines'

// -------------------------------------------------------------------------------------
// fixtures
// -------------------------------------------------------------------------------------

const GiB = 2 ** 30
/** A context on a device of `gib` GiB named `name`. */
const on = (gib: number, name: string, over: Partial<EngineContext> = {}): EngineContext => ({
  deviceMemory: gib * GiB,
  deviceName: name,
  tp: 1,
  pp: 1,
  replicaGpus: 1,
  kvSequences: 500,
  kvTokens: 1_000_000,
  inputTokens: 1000,
  outputTokens: 1000,
  maxModelLength: 131_072,
  hostCpu: 'x86',
  model: models['llama-3.1-8b'],
  precision: defaultPrecision,
  instanceGpus: 1,
  ...over,
})
const h100 = on(79.6, 'H100-SXM5-80GB')
const h200 = on(140.4, 'H200-SXM-141GB')
const b200 = on(179.06, 'B200-180GB')
const a100 = on(79.2, 'A100-SXM4-80GB')
const a100x40 = on(39.5, 'A100-SXM4-40GB')

// -------------------------------------------------------------------------------------
// versions
// -------------------------------------------------------------------------------------

describe('versions', () => {
  it('reads the numbers of a version string and ignores what follows them', () => {
    expect(versionNumbers('0.11.0')).toEqual([0, 11, 0])
    expect(versionNumbers('1.2.0rc1')).toEqual([1, 2, 0])
    expect(versionNumbers('v0.5.3')).toEqual([0, 5, 3])
    expect(versionNumbers('0.1.0a1')).toEqual([0, 1, 0])
    expect(versionNumbers('main')).toEqual([])
  })

  it('compares numerically, missing parts being 0: 0.8 = 0.8.0 < 0.11.0 < 1.0', () => {
    expect(compareVersions('0.8', '0.8.0')).toBe(0)
    expect(compareVersions('0.8.0', '0.11.0')).toBe(-1)
    expect(compareVersions('0.11.0', '1.0')).toBe(-1)
    expect(compareVersions('1.2.0rc1', '1.1')).toBe(1)
  })

  it('law: compareVersions is antisymmetric', () => {
    const version = fc.array(fc.nat(30), { minLength: 1, maxLength: 3 }).map((xs) => xs.join('.'))
    fc.assert(fc.property(version, version, (a, b) => compareVersions(a, b) === -compareVersions(b, a)))
  })

  it('a range holds its lower end and not its upper one; no version matches every range', () => {
    expect(inRange({ from: '0.8.0' }, '0.8.0')).toBe(true)
    expect(inRange({ below: '0.8.0' }, '0.8.0')).toBe(false)
    expect(inRange({ below: '0.8.0' }, '0.7.3')).toBe(true)
    expect(inRange({ from: '0.8.0' }, undefined)).toBe(true)
  })
})

// -------------------------------------------------------------------------------------
// the records
// -------------------------------------------------------------------------------------

describe('engineModel: the record of an engine name and version, with the options of a run', () => {
  it('vLLM from 0.8.0 is the V1 engine, before it the V0 engine (vllm/engine/arg_utils.py)', () => {
    expect(engineModel({ name: 'vllm', version: '0.11.0' })).toBe(vllmV1)
    expect(engineModel({ name: 'vLLM', version: '0.8.0' })).toBe(vllmV1)
    expect(engineModel({ name: 'vllm', version: '0.6.3' })).toBe(vllmV0)
    expect(engineModel({ name: 'vllm' })).toBe(vllmV1)
  })

  it('SGLang from 0.4 and TensorRT-LLM of any version have their records', () => {
    expect(engineModel({ name: 'sglang', version: '0.5.3' })).toBe(sglang)
    expect(engineModel({ name: 'trtllm', version: '1.2.0rc1' })).toBe(trtllmPytorch)
    expect(engineModel({ name: 'trtllm', version: '1.0' })).toBe(trtllmPytorch)
    expect(engineModel({ name: 'trtllm' })).toBe(trtllmPytorch)
    expect(engineModel({ name: 'trtllm', version: '0.17.0' })).toBe(trtllm)
    expect(engineModel({ name: 'trtllm', version: '0.9.0' })).toBe(trtllm)
  })

  it('an unknown engine, or a version no record covers, gets the generic defaults under its own name', () => {
    const lmdeploy = engineModel({ name: 'lmdeploy', version: '0.1.0a1' })
    expect(lmdeploy).toEqual({ ...genericEngine, name: 'lmdeploy' })
    expect(engineModel({ name: 'sglang', version: '0.3.0' }).name).toBe('sglang')
    expect(engineModel({ name: 'sglang', version: '0.3.0' }).source).toBe(genericEngine.source)
  })

  it('options of the run override the record: CUDA graphs off, NCCL instead of the custom all-reduce, ADP balance, two-batch overlap', () => {
    const m = engineModel({ name: 'vllm', version: '0.11.0', options: { cudaGraphs: false, customAllReduce: false, attentionDpBalance: true, twoBatchOverlap: true } })
    expect(m).toMatchObject({ cudaGraphs: false, customAllReduce: undefined, attentionDpBalance: true, twoBatchOverlap: true })
    // switching the custom all-reduce on for an engine without one gives it vLLM's kernel
    expect(engineModel({ name: 'lmdeploy', options: { customAllReduce: true } }).customAllReduce).toBe(vllmCustomAllReduce)
  })

  it('a registry of your own replaces the built-in records', () => {
    const mine = { ...vllmV1, maxBatch: () => 64 }
    expect(engineModel({ name: 'vllm', version: '0.11.0' }, [mine]).maxBatch(h100)).toBe(64)
    expect(engineModels).toContain(vllmV1)
  })
})

describe('vLLM V1 defaults as read in vllm/engine/arg_utils.py EngineArgs._set_default_args (v0.11, OpenAI server)', () => {
  it('a device of at least 70 GiB that is not an A100: max_num_seqs 1024, max_num_batched_tokens 8192', () => {
    for (const d of [h100, h200, b200]) {
      expect(vllmV1.maxBatch(d)).toBe(1024)
      expect(vllmV1.maxNumTokens(d)).toBe(8192)
    }
  })

  it('an A100 (80 GB included, PR #17885) or a smaller device: 256 and 2048', () => {
    for (const d of [a100, a100x40]) {
      expect(vllmV1.maxBatch(d)).toBe(256)
      expect(vllmV1.maxNumTokens(d)).toBe(2048)
    }
  })

  it('CUDA graphs up to min(2 x max_num_seqs, 512, budget) (vllm/config/vllm.py _set_cudagraph_sizes): 512 on an H100, 512 on an A100', () => {
    expect(vllmV1.cudaGraphMaxBatch(h100)).toBe(512)
    expect(vllmV1.cudaGraphMaxBatch(a100)).toBe(512)
  })

  it('chunked prefill fused into the decode pass, blocks allocated on demand, the host not overlapped', () => {
    expect(vllmV1).toMatchObject({ fusedChunkedPrefill: true, admission: 'on-demand', cudaGraphs: true })
    expect(vllmV1.host).toEqual({ stepSeconds: 0.43e-3, perSequenceSeconds: 0.287e-3 / 256, overlapped: false, eagerLayerSeconds: EAGER_LAYER_SECONDS })
  })

  it('host time: 0.2 + 0.18 + 0.05 = 0.43 ms per pass (vLLM PR #42131), 0.287 ms / 256 = 1.121 µs per sequence (PR #46112)', () => {
    expect(VLLM_V1_STEP_SECONDS).toBeCloseTo(0.2e-3 + 0.18e-3 + 0.05e-3, 12)
    expect(VLLM_V1_SEQUENCE_SECONDS).toBeCloseTo(1.121e-6, 9)
  })

  it('its start-up profile: a forward pass of max_num_batched_tokens, then the sampler over max_num_seqs at 2 + 4 + 4 + 4 = 14 bytes a logit (FlashInfer, v0.11)', () => {
    expect(VLLM_SAMPLER_BYTES_PER_LOGIT).toBe(14)
    const p = vllmV1.startupProfile
    expect(p?.samplerBytesPerLogit).toBe(14)
    expect([p?.tokens(h100), p?.sequences(h100), p?.tokens(a100), p?.sequences(a100)]).toEqual([8192, 1024, 2048, 256])
    // the V0 engine's profile (PyTorch's sampler) is not modelled, nor are the other engines'
    expect([vllmV0, sglang, trtllm, trtllmPytorch, genericEngine].map((m) => m.startupProfile)).toEqual([undefined, undefined, undefined, undefined, undefined])
  })

  it('the eager launch floor: 8.4 ms for a 32-layer decode step, 262.5 µs per layer', () => {
    expect(EAGER_LAYER_SECONDS).toBeCloseTo(262.5e-6, 12)
  })
})

describe('vLLM V0 defaults (v0.7 arg_utils.py): max_num_seqs 256, no chunked prefill, 4 ms of host per pass (RFC #6854)', () => {
  it('reads them', () => {
    expect(vllmV0.maxBatch(h100)).toBe(256)
    // a prompt is a pass of its own, up to max(max_model_len, 2048)
    expect(vllmV0.maxNumTokens(h100)).toBe(131_072)
    expect(vllmV0.maxNumTokens(on(80, 'H100', { maxModelLength: 1024 }))).toBe(2048)
    expect(vllmV0.fusedChunkedPrefill).toBe(false)
    expect(vllmV0.host.stepSeconds).toBe(4e-3)
  })
})

describe('SGLang defaults as read in python/sglang/srt/server_args.py ServerArgs._handle_gpu_memory_settings (v0.5.x)', () => {
  it('chunked_prefill_size: 8192 on an H100 and an H200, 16384 on a B200, 4096 on a 40 GB A100', () => {
    expect(sglang.maxNumTokens(h100)).toBe(8192)
    expect(sglang.maxNumTokens(h200)).toBe(8192)
    expect(sglang.maxNumTokens(b200)).toBe(16384)
    expect(sglang.maxNumTokens(a100x40)).toBe(4096)
  })

  it('cuda_graph_max_bs: 256 for tp < 4 and 512 from tp 4 on an H100 or an H200, 512 on a B200, 32 on a 40 GB A100, 8 below 20 GiB', () => {
    expect(sglang.cudaGraphMaxBatch(h100)).toBe(256)
    expect(sglang.cudaGraphMaxBatch({ ...h200, tp: 8 })).toBe(512)
    expect(sglang.cudaGraphMaxBatch(b200)).toBe(512)
    expect(sglang.cudaGraphMaxBatch(a100x40)).toBe(32)
    expect(sglang.cudaGraphMaxBatch(on(16, 'T4'))).toBe(8)
  })

  it('max_running_requests: min(max_total_num_tokens // 2, 2048) (tp_worker.py; the request pool from 2048)', () => {
    expect(sglang.maxBatch(h100)).toBe(2048)
    expect(sglang.maxBatch({ ...h100, kvTokens: 3000 })).toBe(1500)
  })

  it('prefill in passes of its own (enable_mixed_chunk off), the overlap scheduler on', () => {
    expect(sglang.fusedChunkedPrefill).toBe(false)
    expect(sglang.host.overlapped).toBe(true)
  })
})

describe('trtllm-bench sizing as read in tensorrt_llm/bench/build/tuning.py finetune_setting', () => {
  it('max batch: min(requests, 4096) / pp rounded up to 32 (at least 64) below 256, to 128 below 1024, to 256 above', () => {
    expect(trtllmBatch(10, 1)).toBe(64)
    expect(trtllmBatch(100, 1)).toBe(128) // 32 · ceil(100/32) = 128
    expect(trtllmBatch(300, 1)).toBe(384) // 128 · ceil(300/128)
    expect(trtllmBatch(1500, 1)).toBe(1536) // 256 · ceil(1500/256)
    expect(trtllmBatch(10_000, 1)).toBe(4096)
    expect(trtllmBatch(10_000, 2)).toBe(2048)
  })

  it('max tokens: min(raw batch · (1 + input/output), 32768), the batch before its rounding, rounded up to 256 (at least 2048) below 4096, to 512 below 8192, to 1024 above', () => {
    expect(trtllmTokens(64, 1, 128, 128)).toBe(2048) // 128 → at least 2048
    expect(trtllmTokens(2048, 1, 1000, 1000)).toBe(4096) // 4096 → 1024 · 4
    expect(trtllmTokens(1500, 1, 2048, 2048)).toBe(3072) // 3000 → 256 · 12
    expect(trtllmTokens(3000, 1, 1000, 1000)).toBe(6144) // 6000 → 512 · 12
    expect(trtllmTokens(4096, 1, 20_000, 2000)).toBe(32768)
    expect(trtllmTokens(300, 1, 1000, 1000)).toBe(2048) // 600, not the rounded 384's 768 → at least 2048
    expect(trtllmTokens(10_000, 2, 1000, 1000)).toBe(4096) // 4096 / 2 · 2 = 4096 → 1024 · 4
  })

  it("the requests it believes fit, from its own arithmetic (calc_engine_setting): Llama 3.1 8B in bf16 on one 79.6 GiB H100, 128 + 128 tokens", () => {
    // (85,469,849,190.4 − 8,030,261,248 · 2 bytes) · 0.9 = 62,468,394,025 bytes of cache; a token 2 · 32 layers · 8 heads · 128 · 2 = 131,072 bytes
    const c = on(79.6, 'H100-SXM5-80GB', { inputTokens: 128, outputTokens: 128 })
    expectClose(trtllmBenchRequests(c, TRTLLM_BENCH_KV_FRACTION), ((79.6 * GiB - 8_030_261_248 * 2) * 0.9) / (131_072 * 256), 1e-12)
    expectClose(trtllmBenchRequests(c, TRTLLM_BENCH_KV_FRACTION), 1861.70, 1e-5)
    expect(trtllmPytorch.maxBatch(c)).toBe(2048) // 256 · ceil(1861.7 / 256)
    expect(trtllmPytorch.maxNumTokens(c)).toBe(3840) // 1861.7 · 2 = 3723.4 → 256 · 15
    // trtllm-bench build (before 1.0) gives the cache 0.95 of what is left
    expect(TRTLLM_BUILD_KV_FRACTION).toBe(0.95)
    expectClose(trtllmBenchRequests(c, TRTLLM_BUILD_KV_FRACTION) / trtllmBenchRequests(c, TRTLLM_BENCH_KV_FRACTION), 0.95 / 0.9, 1e-12)
  })

  it('a latent-attention model is reckoned at its config.json figures: DeepSeek-V3 on 8 H200 (140.4 GiB), fp8, 1024 + 1024, 128 KV heads of 7168/128 = 56', () => {
    const c = on(140.4, 'H200-SXM-141GB', { model: models['deepseek-v3'], precision: precision({ weights: 'fp8', activations: 'fp8', kvCache: 'fp8' }), instanceGpus: 8, tp: 8, inputTokens: 1024, outputTokens: 1024 })
    // (8 · 140.4 GiB − 671,026,419,200 bytes) · 0.9 = 481,501,478,431 bytes; a request 2 · 61 · 128 · 56 · 1 · 2048 = 1,790,967,808 bytes
    expectClose(trtllmBenchRequests(c, TRTLLM_BENCH_KV_FRACTION), ((8 * 140.4 * GiB - 671_026_419_200) * 0.9) / (2 * 61 * 128 * 56 * 2048), 1e-12)
    expectClose(trtllmBenchRequests(c, TRTLLM_BENCH_KV_FRACTION), 268.85, 1e-4)
    expect(trtllmPytorch.maxBatch(c)).toBe(384) // 128 · ceil(268.85 / 128)
    expect(trtllmPytorch.maxNumTokens(c)).toBe(2048) // 537.7 → at least 2048
  })

  it('its KV head count is at least the tensor-parallel size, and nothing fits when the checkpoint fills the GPUs', () => {
    const one = trtllmBenchRequests(on(79.6, 'H100-SXM5-80GB', { instanceGpus: 1 }), 0.9)
    const sixteen = trtllmBenchRequests(on(79.6, 'H100-SXM5-80GB', { instanceGpus: 16 }), 0.9)
    // 16 GPUs: 16 heads a token instead of 8, memory ×16 less one checkpoint
    expectClose(sixteen, ((16 * 79.6 * GiB - 8_030_261_248 * 2) * 0.9) / (2 * 32 * 16 * 128 * 2 * 2000), 1e-12)
    expect(sixteen).toBeGreaterThan(one)
    expect(trtllmBenchRequests(on(10, 'small', { model: models['llama-3.1-70b'] }), 0.9)).toBe(0)
    expect(trtllm.maxBatch(on(10, 'small', { model: models['llama-3.1-70b'] }))).toBe(64)
  })

  it('reserves each full request and fuses prompt chunks into the decode pass', () => {
    expect(trtllm.admission).toBe('reserve')
    expect(trtllm.fusedChunkedPrefill).toBe(true)
    // its one-shot all-reduce selection is not read: NCCL unless the run states custom_all_reduce
    expect(trtllm.customAllReduce).toBeUndefined()
    expect(engineModel({ name: 'trtllm', version: '1.0', options: { customAllReduce: true } }).customAllReduce).toBe(vllmCustomAllReduce)
  })
})

describe("TensorRT-LLM's PyTorch backend (1.0 on): the executor's Python loop over the running requests", () => {
  it('13.8 µs per sequence on an x86 host (PR #11983: 13.8 ms at a batch of 1000), 34.375 µs on a Grace host (PR #16564: 8.8 ms over 256 requests)', () => {
    expect(TRTLLM_TORCH_SEQUENCE_SECONDS).toBeCloseTo(13.8e-6, 15)
    expect(TRTLLM_TORCH_SEQUENCE_SECONDS_GRACE).toBeCloseTo(34.375e-6, 15)
    expect(trtllmPytorch.host).toEqual({ stepSeconds: 0, perSequenceSeconds: 13.8e-6, overlapped: true, eagerLayerSeconds: EAGER_LAYER_SECONDS })
    expect(hostCostOn(trtllmPytorch, 'x86')).toBe(trtllmPytorch.host)
    expect(hostCostOn(trtllmPytorch, 'grace')).toEqual({ ...trtllmPytorch.host, perSequenceSeconds: 34.375e-6 })
    // a host of your own measuring applies on every CPU
    const mine = { ...trtllmPytorch.host, perSequenceSeconds: 20e-6 }
    expect(hostCostOn({ ...trtllmPytorch, host: mine }, 'grace')).toBe(mine)
    expect(hostCostOn({ ...trtllmPytorch, host: mine }, 'x86')).toBe(mine)
    // options keep the record's own host, so the Grace figure still applies
    expect(hostCostOn(engineModel({ name: 'trtllm', version: '1.0', options: { cudaGraphs: false } }), 'grace').perSequenceSeconds).toBe(8.8e-3 / 256)
  })

  it('overlapped with the GPU (the overlap scheduler, on by default); sized by trtllm-bench throughput (0.90 of the memory left), scheduled as before 1.0', () => {
    expect(trtllmPytorch.host.overlapped).toBe(true)
    const c = on(79.6, 'H100-SXM5-80GB', { inputTokens: 128, outputTokens: 128 })
    expect(trtllmPytorch.maxBatch(c)).toBe(trtllmBatch(trtllmBenchRequests(c, 0.9), 1))
    expect(trtllm.maxBatch(c)).toBe(trtllmBatch(trtllmBenchRequests(c, 0.95), 1))
    expect(trtllmPytorch.admission).toBe('reserve')
    expect(trtllmPytorch.fusedChunkedPrefill).toBe(true)
  })

  it('the TensorRT backend before 1.0 and every other record cost the same on every host', () => {
    for (const m of [trtllm, vllmV1, vllmV0, sglang, genericEngine]) {
      expect(m.hostOn).toBeUndefined()
      expect(hostCostOn(m, 'grace')).toBe(m.host)
    }
    expect(trtllm.host.perSequenceSeconds).toBe(0)
  })

  it('the host CPU follows from the device: the GH200, GB200 and GB300 superchips are Grace, the rest x86', () => {
    for (const name of ['GB200', 'B200 in GB200 NVL72 186GB', 'B200-in-GB200-NVL72-186GB', 'B300 in GB300 NVL72 288GB', 'GH200 480GB', 'Grace Hopper']) expect(hostCpuOf(name)).toBe('grace')
    for (const name of ['H100-SXM5-80GB', 'B200 (HGX) 180GB', 'B200-180GB', 'A100 SXM4 80GB', 'Instinct MI300X 192GB', 'XGB2000', '']) expect(hostCpuOf(name)).toBe('x86')
  })
})

describe("vLLM's custom all-reduce (csrc/custom_all_reduce.cuh REDUCE_CASE; custom_all_reduce.py)", () => {
  it('one-shot for 2 ranks, below 512 KiB up to 4 ranks, below 256 KiB up to 8; at most 8 MiB; groups of 2, 4, 6, 8', () => {
    expect(vllmCustomAllReduce.oneShotBelow(2)).toBe(8 * 2 ** 20)
    expect(vllmCustomAllReduce.oneShotBelow(4)).toBe(512 * 1024)
    expect(vllmCustomAllReduce.oneShotBelow(8)).toBe(256 * 1024)
    expect(vllmCustomAllReduce.maxBytes).toBe(8 * 2 ** 20)
    expect(vllmCustomAllReduce.ranks).toEqual([2, 4, 6, 8])
  })

  it('5.9 µs of fixed latency: the 512-byte one-shot all-reduce on 8 H100s of SGLang PR #2904', () => {
    expect(vllmCustomAllReduce.latencySeconds).toBe(5.9e-6)
  })
})

describe('the expert exchange each engine runs', () => {
  it('vLLM: allgather_reducescatter (vllm/envs.py VLLM_ALL2ALL_BACKEND default); SGLang and TensorRT-LLM gather and scatter too; the generic engine runs DeepEP', () => {
    expect(vllmV1.expertExchange).toBe('allgather-reducescatter')
    expect(sglang.expertExchange).toBe('allgather-reducescatter')
    expect(trtllm.expertExchange).toBe('allgather-reducescatter')
    expect(genericEngine.expertExchange).toBe('deepep')
  })
})

describe('the generic engine: documented idealised defaults', () => {
  it('1024 sequences, 8192 tokens, fused chunked prefill, full reservation, CUDA graphs everywhere, no host time, NCCL', () => {
    expect(genericEngine.maxBatch(h100)).toBe(1024)
    expect(genericEngine.maxNumTokens(h100)).toBe(8192)
    expect(genericEngine).toMatchObject({ fusedChunkedPrefill: true, admission: 'reserve', cudaGraphs: true, customAllReduce: undefined })
    expect(genericEngine.cudaGraphMaxBatch(h100)).toBe(Number.POSITIVE_INFINITY)
    expect(genericEngine.host).toMatchObject({ stepSeconds: 0, perSequenceSeconds: 0, overlapped: true })
  })
})
