// The page's tests: its pure modules under node, and the built page (dist/, from
// `npm run build`) in headless Chromium (test/browser.test.ts). The build's own
// modules are ES modules (build/*.mts), transformed like the TypeScript sources; Vega's
// ES modules (the Pareto plot, @meshplan/plots) go to CommonJS as the preset says.
const preset = require('../../jest.preset.js');

const { '^.+\\.ts$': typescript, ...others } = preset.transform;

module.exports = {
  ...preset,
  moduleFileExtensions: [...preset.moduleFileExtensions, 'mts'],
  transform: { '^.+\\.m?ts$': typescript, ...others },
};
