/**
 * @meshplan/parallelism: the algebra of parallel strategies. What a strategy is
 * (`strategy`), the laws it must satisfy (`laws`, `validate`), the space of valid
 * ones (`enumerate`), which GPUs form each process group (`layout`) and what each
 * GPU holds (`placement`).
 */
export * from './arithmetic'
export * from './strategy'
export * from './laws'
export * from './validate'
export * from './enumerate'
export * from './layout'
export * from './placement'
export * from './split'
export * from './codec'
