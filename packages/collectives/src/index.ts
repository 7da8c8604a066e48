/**
 * @meshplan/collectives: the time of a collective (all-reduce, all-gather,
 * reduce-scatter, all-to-all, broadcast, send/recv) over a group of GPUs spanning a
 * cluster's tiers, with NCCL's algorithms (ring, tree, NVLS, NVLS tree, CollNet), a
 * hierarchical all-reduce and pairwise all-to-all in the latency–bandwidth form; the
 * fastest applicable is chosen and named. nccl-tests' bandwidths, a fast path for the
 * planner, and the prediction of measured collective cases.
 */
export * from './op'
export * from './error'
export * from './shape'
export * from './constants'
export * from './tuning'
export * from './algorithm'
export * from './model'
export * from './moe-exchange'
export * from './calibration'
