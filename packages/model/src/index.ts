export * from './architecture'
