// The page's tests: its pure modules under node, and the built page (dist/, from
// `npm run build`) in headless Chromium (test/browser.test.ts).
module.exports = require('../../jest.preset.js');
