/**
 * @meshplan/export: engine launch commands from a plan. For vLLM, SGLang and TensorRT-LLM
 * (serving) and Megatron-LM and torchtitan (training): the commands every node runs and
 * the configuration files they read, with the plan's parallelism, formats, batch limits
 * and memory fraction, each flag from a table of the engine's release with its source.
 * Where a release cannot run the plan as written, the reasons and the nearest plan it
 * can run, with both estimates (@meshplan/inference, @meshplan/training).
 */
export * from './launch'
export * from './files'
export * from './engine'
export * from './nearest'
export * from './serving/export'
export * from './serving/vllm'
export * from './serving/sglang'
export * from './serving/trtllm'
export * from './training/export'
export * from './training/megatron'
export * from './training/torchtitan'
export * from './registry'
export * from './comparison'
