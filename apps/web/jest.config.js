// The page's tests: its pure modules under node, and the built page (dist/, from
// `npm run build`) in headless Chromium (test/browser.test.ts). The build's own
// modules are ES modules (build/*.mts), transformed like the TypeScript sources.
const preset = require('../../jest.preset.js');

module.exports = {
  ...preset,
  moduleFileExtensions: [...preset.moduleFileExtensions, 'mts'],
  transform: { '^.+\\.m?ts$': preset.transform['^.+\\.ts$'] },
};
