/**
 * @meshplan/cost-models/internal: what the estimates' inner loops share and a user
 * should not depend on (it may change in any release): collective groups priced once
 * per span and cached.
 */
export * from './groups'
