/**
 * @meshplan/units: quantities (bytes, seconds, FLOPs, rates), numeric formats,
 * parsing of human strings, formatting for tables, and the boundary toolkit
 * (codecs and error reporting) every meshplan package uses for user files.
 */
export * from './quantity'
export * from './dtype'
export * from './parse'
export * from './format'
export * from './codec'
export * from './document'
export * from './suggest'
export * from './ranges'
