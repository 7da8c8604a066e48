export * from './device'
export * from './cluster'
export * from './span'
