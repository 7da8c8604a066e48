// Shared by the topology tests.

/** A cluster file written out in full: every tier, units on most figures, a domain, a latency given and one left to its default. */
export const fullClusterFile = {
  name: 'lab',
  nodes: 4,
  devicesPerNode: 8,
  device: { name: 'npu', memory: '64GiB', memoryBandwidth: '1.6TB/s', peak: { bf16: '400TFLOPS' } },
  scaleUp: { bandwidth: '196GB/s' },
  domain: { nodes: 2, bandwidth: '100GB/s', latency: '2us' },
  scaleOut: { bandwidth: 25e9, latency: '8us', inNetworkReduction: true },
} as const
