/**
 * @meshplan/fuzz: the fuzzing suite of the meshplan packages. `targets` says what is
 * fuzzed and which laws each output keeps, `runCampaign` runs one target on many
 * inputs from a seed. `npm test` runs a fixed-seed sample of every target;
 * `npm run fuzz` runs a long campaign and writes its figures to docs/reliability.md.
 */
export * from './mutate'
export * from './targets'
export * from './campaign'
