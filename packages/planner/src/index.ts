/**
 * @meshplan/planner: the cost models composed into answers. The estimate of one
 * inference deployment (TTFT, TPOT, tokens/s, memory, where the time goes), the search
 * over strategies and batches under service-level objectives, the audit of a plan
 * someone wrote, the deployment graph, and the prediction of measured cases.
 */
export * from './error'
export * from './models'
export * from './workload'
export * from './fast'
export * from './estimate'
export * from './cases'
export * from './search'
export * from './dag'
export * from './plan-file'
export * from './check'
export * from './training-workload'
export * from './training'
export * from './estimate-training'
export * from './train-search'
