/**
 * @meshplan/planner: answers about a plan someone wrote and about published
 * measurements. Plan files (`meshplan-plan/1`) and their audit (every law, every claim,
 * the best alternative), prediction of measured cases (`meshplan-cases/1`), and the
 * deployment graph. The estimates themselves are @meshplan/inference's and
 * @meshplan/training's.
 */
export * from './plan-file'
export * from './check'
export * from './check-pools'
export * from './cases'
export * from './fit'
export * from './dag'
export * from './training-plan'
export * from './text'
export * from './parameters'
export * from './intervals'
export * from './residuals'
export * from './trust'
export * from './calibrate'
export * from './joint'
export * from './cost'
export * from './capacity'
