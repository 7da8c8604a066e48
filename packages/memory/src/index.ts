/**
 * @meshplan/memory: bytes per GPU. Parameters after sharding (`weights`), the KV cache
 * (`kv-cache`), training activations after Korthikanti et al. 2022 (`activations`), the
 * runtime reserve (`reserve`), and the two estimates built from them: serving
 * (`inference`) and training with ZeRO (`training`), behind a replaceable record of
 * functions (`model`).
 */
export * from './weights'
export * from './kv-cache'
export * from './activations'
export * from './reserve'
export * from './errors'
export * from './model'
export * from './inference'
export * from './training'
