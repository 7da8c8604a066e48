#!/usr/bin/env node
// The `meshplan` command. This file is committed (npm links a workspace's bin at
// `npm ci`, before anything is built), and loads the compiled program from dist/.
'use strict'
let main
try {
  main = require('../dist/main.js').main
} catch (error) {
  if (error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes('dist/main.js')) {
    process.stderr.write('meshplan: not built yet; run `npm run build` (or `npm test`) at the repository root first\n')
    process.exit(2)
  }
  throw error
}
main(process.argv.slice(2))
