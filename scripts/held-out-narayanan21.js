// Writes validation/held-out/narayanan21-megatron-a100.json: the 19 training runs of Narayanan et al. 2021
// (SC21, arXiv 2104.04473), Tables 1 and 2, transcribed here, each run's iteration seconds derived from
// the table's teraFLOP/s per GPU by the paper's equation (3). No fit reads the file. Run: node scripts/held-out-narayanan21.js
const fs = require('fs')
const s = 2048, V = 51200
// the paper's equation (3): FLOPs per iteration, activation recomputation's extra forward included
const eq3 = (B, l, h) => 96 * B * s * l * h * h * (1 + s / (6 * h) + V / (16 * l * h))
const paper = "Narayanan et al. 2021, 'Efficient Large-Scale Language Model Training on GPU Clusters Using Megatron-LM' (SC21, arXiv 2104.04473)"
const common = "Selene, DGX A100 80GB (8 GPUs per node through NVSwitch, 8x 200 Gb/s HDR InfiniBand per node: 25 GB/s per GPU), fp16 mixed precision. The paper's section 5.1: GPT models, vocabulary 51,200, sequence length 2048, 4h MLP with GeLU, learned positions, tied embeddings; 'throughput is measured for end-to-end training, i.e., includes all operations including data loading, optimizer steps, communication, and logging'. Value = one iteration's seconds, derived from the table's achieved teraFLOP/s per GPU X with the paper's equation (3), F = 96 B s l h^2 (1 + s/(6h) + V/(16 l h)) (it assumes activation recomputation): seconds = F / (X 1e12 n). Attention as Megatron-LM ran it in 2021 (the score matrix written to memory: attention_kernel unfused)."
const model = (name, h, l, heads) => ({ _name_or_path: name, model_type: 'gpt_neox', hidden_size: h, num_hidden_layers: l, num_attention_heads: heads, intermediate_size: 4 * h, vocab_size: V, hidden_act: 'gelu', max_position_embeddings: s, tie_word_embeddings: true })
const hardware = (n) => ({ num_gpus: n, gpus_per_node: 8, gpu: { name: 'A100-SXM4-80GB', memory_gib: 80, tflops: { bf16: 312, fp16: 312 }, hbm_tbps: 2.039 }, scale_up: { bandwidth_gbps: 300, in_network_reduction: false }, scale_out: { bandwidth_gbps: 25 } })
// the interleaved schedule's degree is not given: the smallest of 2, 3, 5 that divides a stage's layers
const interleave = (l, pp) => { if (pp === 1) return 1; for (const v of [2, 3, 5]) if ((l / pp) % v === 0) return v; return 1 }
const kase = ({ id, source, notes, name, heads, h, l, tp, pp, n, B, mb, X, zero, v, engine }) => ({
  id, source, notes: `${common} ${notes}`,
  model: model(name, h, l, heads), hardware: hardware(n),
  precision: { weights: 'fp16', activations: 'fp16', kv_cache: 'fp16' },
  parallelism: { tp, pp, dp: n / (tp * pp), sequence_parallel: false, ...(v > 1 ? { virtual_pipeline: v } : {}) },
  workload: { kind: 'training', global_batch: B, micro_batch: mb, seq_len: s, recompute: 'full', zero_stage: zero },
  measured: { metric: 'iteration_time_s', value: +(eq3(B, l, h) / (X * 1e12 * n)).toFixed(3) },
  engine,
})
const megatron = { name: 'megatron', options: { attention_kernel: 'unfused' } }
const t1 = [[1.7, 24, 2304, 24, 1, 1, 32, 512, 137], [3.6, 32, 3072, 30, 2, 1, 64, 512, 138], [7.5, 32, 4096, 36, 4, 1, 128, 512, 142], [18.4, 48, 6144, 40, 8, 1, 256, 1024, 135], [39.1, 64, 8192, 48, 8, 2, 512, 1536, 138], [76.1, 80, 10240, 60, 8, 4, 1024, 1792, 140], [145.6, 96, 12288, 80, 8, 8, 1536, 2304, 148], [310.1, 128, 16384, 96, 8, 16, 1920, 2160, 155], [529.6, 128, 20480, 105, 8, 35, 2520, 2520, 163], [1008, 160, 25600, 128, 8, 64, 3072, 3072, 163]]
const cases = [
  ...t1.map(([P, heads, h, l, tp, pp, n, B, X]) => {
    const v = interleave(l, pp)
    return kase({ id: `narayanan21-a100-gpt-${P}b-tp${tp}-pp${pp}-${n}gpu`, source: `${paper}, Table 1 (weak scaling), row ${P} billion parameters: ${X} teraFLOP/s per GPU`, notes: `Row: ${heads} heads, hidden ${h}, ${l} layers, TP ${tp}, PP ${pp}, ${n} GPUs (dp = ${n / (tp * pp)}), batch ${B}, ${X} teraFLOP/s per GPU. Section 5.1: 'we use the interleaved pipeline schedule with the scatter/gather optimization enabled'; the table gives neither the interleaving degree nor the micro-batch size: micro-batch 1 (as the paper's Table 2 PTD rows state)${pp > 1 ? `, ${v > 1 ? `virtual_pipeline ${v}, the smallest degree that divides the ${l / pp} layers per stage` : 'no interleaving (no degree divides the layers per stage)'}` : ''}; full activation recomputation (equation 3 assumes it).`, name: `Megatron GPT ${P}B (Narayanan 2021 Table 1)`, heads, h, l, tp, pp, n, B, mb: 1, X, zero: 0, v, engine: megatron })
  }),
  ...[[384, 4, 144], [768, 2, 88], [1536, 1, 44]].map(([n, mb, X]) => kase({ id: `narayanan21-a100-gpt3-175b-zero3-${n}gpu`, source: `${paper}, Table 2, 'ZeRO-3 without Model Parallelism', 174.6B, ${n} GPUs: ${X} teraFLOP/s per GPU`, notes: `GPT-3 175B (96 layers, 96 heads, hidden 12288). DeepSpeed ZeRO-3 'integrated into our codebase using the DeepSpeed Python library', no tensor or pipeline parallelism (dp = ${n}), global batch 1536, micro-batch ${mb} (the table's), so one micro-batch per GPU per step; full activation recomputation (equation 3).`, name: 'GPT-3 175B (Narayanan 2021 Table 2)', heads: 96, h: 12288, l: 96, tp: 1, pp: 1, n, B: 1536, mb, X, zero: 3, v: 1, engine: { name: 'deepspeed', options: { attention_kernel: 'unfused' } } })),
  ...[[384, 153], [768, 149], [1536, 141]].map(([n, X]) => kase({ id: `narayanan21-a100-gpt3-175b-ptdp-tp8-pp12-${n}gpu`, source: `${paper}, Table 2, 'PTD Parallelism', 174.6B, model-parallel size 96, ${n} GPUs: ${X} teraFLOP/s per GPU`, notes: `GPT-3 175B (96 layers, 96 heads, hidden 12288). Model-parallel size 96 = TP 8 (inside a node) x PP 12; dp = ${n / 96}; global batch 1536, micro-batch 1 (the table's). Interleaving degree not given: virtual_pipeline ${interleave(96, 12)} (the same rule as the Table 1 rows); full activation recomputation (equation 3).`, name: 'GPT-3 175B (Narayanan 2021 Table 2)', heads: 96, h: 12288, l: 96, tp: 8, pp: 12, n, B: 1536, mb: 1, X, zero: 0, v: interleave(96, 12), engine: megatron })),
  ...[[560, 171], [1120, 167], [2240, 159]].map(([n, X]) => kase({ id: `narayanan21-a100-gpt-530b-ptdp-tp8-pp35-${n}gpu`, source: `${paper}, Table 2, 'PTD Parallelism', 529.6B, model-parallel size 280, ${n} GPUs: ${X} teraFLOP/s per GPU`, notes: `The Table 1 529.6B model (105 layers, 128 heads, hidden 20480). Model-parallel size 280 = TP 8 x PP 35 (Table 1's split of this model); dp = ${n / 280}; global batch 2240, micro-batch 1 (the table's). Interleaving degree not given: virtual_pipeline ${interleave(105, 35)} (the same rule as the Table 1 rows); full activation recomputation (equation 3).`, name: 'Megatron GPT 529.6B (Narayanan 2021 Tables 1, 2)', heads: 128, h: 20480, l: 105, tp: 8, pp: 35, n, B: 2240, mb: 1, X, zero: 0, v: interleave(105, 35), engine: megatron })),
]
fs.writeFileSync(require('path').resolve(__dirname, '../validation/held-out/narayanan21-megatron-a100.json'), JSON.stringify({ format: 'meshplan-cases/1', cases }, null, 1) + '\n')
console.log(cases.length, 'cases')
