// Shared jest settings for every workspace: TypeScript through @swc/jest (type checking is
// the separate `typecheck` turbo task), tests in test/**/*.test.ts mirroring src/.
//
// Vega and Vega-Lite (@meshplan/plots renders with them) ship only ES modules, and
// jest's CommonJS runtime cannot import() them (it would need --experimental-vm-modules):
// their files and their d3 dependencies go through @swc/jest to CommonJS as well, and
// vega-canvas resolves to its browser build, whose node build has a top-level await (it
// looks for the optional `canvas` package) that CommonJS cannot hold. @meshplan/plots
// turns canvas measuring off anyway, so the SVG is the same bytes either way.
const esmPackages = ['vega', 'vega-[a-z-]+', 'd3-[a-z-]+', 'internmap', 'delaunator', 'robust-predicates', 'json-stringify-pretty-compact']
const esmFiles = `/node_modules/(${esmPackages.join('|')})/.+\\.m?js$`

module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
    [esmFiles]: ['@swc/jest', { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages.join('|')})/)`],
  moduleNameMapper: { '^vega-canvas$': require('node:path').join(__dirname, 'node_modules', 'vega-canvas', 'build', 'vega-canvas.browser.js') },
  moduleFileExtensions: ['ts', 'js', 'json'],
};
