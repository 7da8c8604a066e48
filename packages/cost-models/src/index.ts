/**
 * @meshplan/cost-models: what the inference and the training estimates share. The
 * record of cost models a user can change a field of (memory, compute, collectives,
 * and the overlap and training assumptions), the bytes each layer moves per
 * collective, and the errors an estimate can end in. Prepared collective groups, which
 * a search needs but a user should not touch, are on the `internal` subpath.
 */
export * from './error'
export * from './models'
export * from './communication'
export * from './figures'
