/**
 * @meshplan/compute: the time of the work one GPU does in a step. The operators of a
 * transformer step after sharding (`operators`), their roofline time with pluggable
 * efficiencies (`operatorTime`, `stepTime`, `phaseTime`), a no-allocation fast path for
 * planners (`precompute`, `decodeSeconds`, `prefillSeconds`, `trainingSeconds`), MoE
 * routing statistics (`expectedExpertsTouched`), and model FLOPs for MFU.
 */
export * from './error'
export * from './phase'
export * from './moe'
export * from './efficiency'
export * from './computeModel'
export * from './operators'
export * from './roofline'
export * from './fast'
export * from './mfu'
