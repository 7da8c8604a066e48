/**
 * @meshplan/topology: accelerators, node designs and clusters as hierarchies of
 * interconnect tiers; presets with their sources; how a group of ranks spans the
 * tiers; and the codec for a user's cluster file.
 */
export * from './device'
export * from './cluster'
export * from './span'
export * from './presets'
export * from './codec'
