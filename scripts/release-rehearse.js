#!/usr/bin/env node
// `npm run release:rehearse`: a release of every public package, end to end, to a
// registry that lives only while this script runs, then a user's first install of it.
//
//   1. verdaccio on a free localhost port, with its own storage and configuration in a
//      temporary folder: anyone may read and publish @meshplan/*, and it proxies nothing.
//   2. a copy of the working tree's files that git tracks or would track (as on disk:
//      `git ls-files --cached --others --exclude-standard`) in that folder, never the
//      working tree itself: `changeset version` with the repository's changesets, a
//      build, and `npm publish` of every public workspace (packages/* and apps/cli).
//   3. a new project beside it that takes @meshplan/* from verdaccio (a scoped
//      `@meshplan:registry` line in its .npmrc) and everything else from the usual
//      registry: the published packages install and resolve one another, ship what
//      their package.json promises, import by name from ESM as from CommonJS, every
//      TypeScript example of their READMEs type-checks and runs both ways with the same
//      output, and `npx meshplan example` and `npx meshplan --version` work.
//   4. a summary of each step with its time; verdaccio stopped, the folder removed; exit
//      1 when any step failed.
//
// The copy reuses this repository's node_modules (a link per entry, the workspaces'
// own links pointing into the copy) when node_modules is exactly what package-lock.json
// asks for, as right after `npm ci`; otherwise, or with --fresh-install, it runs its own
// `npm ci`. Usage: node scripts/release-rehearse.js [--fresh-install] [--keep]
// (--keep leaves the temporary folder and prints where it is).
'use strict'
const childProcess = require('node:child_process')
const dns = require('node:dns')
const fs = require('node:fs')
const http = require('node:http')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const options = new Set(process.argv.slice(2))
for (const option of options) {
  if (option !== '--fresh-install' && option !== '--keep') {
    console.error(`release-rehearse: unknown option ${option}; options: --fresh-install, --keep`)
    process.exit(2)
  }
}
const freshInstall = options.has('--fresh-install')
const keep = options.has('--keep')

// Where everything lives: one temporary folder, removed at the end.
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplan-rehearse-'))
const copy = path.join(work, 'repository')
const registryDir = path.join(work, 'registry')
const consumer = path.join(work, 'consumer')

// ---------------------------------------------------------------------------------
// Steps and their record
// ---------------------------------------------------------------------------------

/** What each step gave, in order: name, status (ok, failed, skipped), seconds, a note. */
const record = []
const started = Date.now()
let stopped = false

/**
 * Runs one step, timed. A step returns its note (a short string, or { status, note,
 * ...what later steps need }) or throws; a failed step stops the rehearsal when later
 * steps need what it makes (`needed`), else the rehearsal goes on to the next check.
 */
const step = async (name, body, { needed = true } = {}) => {
  if (stopped) {
    record.push({ name, status: 'skipped', seconds: 0, note: 'an earlier step failed' })
    return undefined
  }
  const begin = Date.now()
  process.stdout.write(`release rehearsal: ${name} ...\n`)
  try {
    const result = await body()
    const { status, note } = typeof result === 'object' && result !== null ? result : { status: 'ok', note: result }
    record.push({ name, status, seconds: (Date.now() - begin) / 1000, note: note ?? '' })
    return result
  } catch (error) {
    record.push({ name, status: 'failed', seconds: (Date.now() - begin) / 1000, note: error.message })
    if (needed) stopped = true
    return undefined
  }
}

/** A failure whose message is the first line of the summary note, with details below. */
const failure = (summary, details = []) => new Error([summary, ...details.map((line) => `    ${line}`)].join('\n'))

// ---------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------

// `npm run` hands its whole configuration to the script as npm_* variables, and those
// outrank a project's .npmrc: a child npm would publish or install as the repository's
// root says, not as the copy's or the consumer's .npmrc says. The children keep only
// where the user's configuration and cache are.
const kept = new Set(['npm_config_cache', 'npm_config_userconfig', 'npm_config_globalconfig', 'npm_config_registry'])
const childEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !(/^npm_/i.test(key) && !kept.has(key.toLowerCase())) && key !== 'INIT_CWD'),
)
childEnv.TURBO_TELEMETRY_DISABLED = '1'
childEnv.NO_UPDATE_NOTIFIER = '1'

/** Runs `command args` in `cwd`; resolves with its exit code and output, never rejects. */
const run = (command, args, cwd, timeoutSeconds = 300) =>
  new Promise((resolve) => {
    const child = childProcess.spawn(command, args, { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutSeconds * 1000)
    child.on('error', (error) => {
      clearTimeout(timer)
      resolve({ code: -1, stdout, stderr: `${stderr}${error.message}\n` })
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code: code ?? -1, stdout, stderr: signal === null ? stderr : `${stderr}killed by ${signal}${signal === 'SIGKILL' ? ` after ${timeoutSeconds} s` : ''}\n` })
    })
  })

/** The last `count` non-empty lines of a command's output, for a failure's details. */
const tail = (text, count = 15) => text.split('\n').filter((line) => line.trim() !== '').slice(-count)

/** The line of `stderr` that names the error Node died of (else its last line). */
const firstError = (stderr) => stderr.split('\n').find((line) => /^\w*Error\b/.test(line.trim())) ?? tail(stderr, 1).join('')

/** Runs a command that must succeed; throws with its last lines of output if it does not. */
const mustRun = async (what, command, args, cwd, timeoutSeconds) => {
  const result = await run(command, args, cwd, timeoutSeconds)
  if (result.code !== 0) throw failure(`${what} exited ${result.code}`, tail(`${result.stdout}\n${result.stderr}`))
  return result
}

/** `tasks` run with at most `limit` at a time; resolves with their results in order. */
const inParallel = async (limit, tasks) => {
  const results = new Array(tasks.length)
  let next = 0
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++
      results[index] = await tasks[index]()
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker))
  return results
}

// ---------------------------------------------------------------------------------
// The registry
// ---------------------------------------------------------------------------------

const verdaccioPackage = require.resolve('verdaccio/package.json', { paths: [root] })
const verdaccioVersion = JSON.parse(fs.readFileSync(verdaccioPackage, 'utf8')).version
let verdaccio // the child process, while it runs

/** A TCP port that nothing listens on at `host` right now. */
const freePort = (host) =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, host, () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

/** GET `url`: resolves with the status code and body, rejects when nothing answers. */
const get = (url) =>
  new Promise((resolve, reject) => {
    const request = http.get(url, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk) => (body += chunk))
      response.on('end', () => resolve({ status: response.statusCode, body }))
    })
    request.setTimeout(5000, () => request.destroy(new Error(`no answer from ${url} in 5 s`)))
    request.on('error', reject)
  })

/**
 * Starts verdaccio with a configuration of its own: storage in the temporary folder,
 * no uplinks (it proxies nothing), @meshplan/* readable and publishable by anyone, no
 * web interface, warnings only, to a log file. Resolves with its URL once it answers.
 * The URL names `localhost`, as the .npmrc lines do; verdaccio listens on the address
 * `localhost` resolves to here.
 */
const startRegistry = async () => {
  const { address } = await dns.promises.lookup('localhost')
  const port = await freePort(address)
  fs.mkdirSync(registryDir, { recursive: true })
  const config = path.join(registryDir, 'config.yaml')
  fs.writeFileSync(
    config,
    [
      `storage: ${JSON.stringify(path.join(registryDir, 'storage'))}`,
      'auth:',
      '  htpasswd:',
      `    file: ${JSON.stringify(path.join(registryDir, 'htpasswd'))}`,
      '    max_users: -1',
      'uplinks: {}',
      'packages:',
      "  '@meshplan/*':",
      '    access: $all',
      '    publish: $all',
      "  '**':",
      '    access: $all',
      'web:',
      '  enable: false',
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  )
  const logFile = path.join(registryDir, 'verdaccio.log')
  const log = fs.openSync(logFile, 'w')
  const bin = path.join(path.dirname(verdaccioPackage), 'bin', 'verdaccio')
  const host = address.includes(':') ? `[${address}]` : address
  verdaccio = childProcess.spawn(process.execPath, [bin, '--config', config, '--listen', `${host}:${port}`], {
    cwd: registryDir,
    env: childEnv,
    stdio: ['ignore', log, log],
  })
  fs.closeSync(log)
  const exited = new Promise((resolve) => verdaccio.once('exit', (code) => resolve(code)))
  const url = `http://localhost:${port}/`
  const deadline = Date.now() + 60_000
  for (;;) {
    const answer = await Promise.race([get(`${url}-/ping`).catch(() => undefined), exited.then((code) => ({ exited: code }))])
    if (answer !== undefined && 'exited' in answer) {
      throw failure(`verdaccio exited (${answer.exited}) before it answered`, tail(fs.readFileSync(logFile, 'utf8')))
    }
    if (answer !== undefined && answer.status === 200) return { url, port, logFile }
    if (Date.now() > deadline) throw failure('verdaccio did not answer /-/ping in 60 s', tail(fs.readFileSync(logFile, 'utf8')))
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/**
 * Stops verdaccio: TERM, then KILL after a second (it waits for idle keep-alive
 * connections otherwise, and its storage is thrown away anyway); resolves once it has
 * exited.
 */
const stopRegistry = async () => {
  const child = verdaccio
  verdaccio = undefined
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 1000)
  await exited
  clearTimeout(timer)
}

// An interrupted rehearsal leaves nothing behind either.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    if (verdaccio !== undefined) verdaccio.kill('SIGKILL')
    if (!keep) fs.rmSync(work, { recursive: true, force: true })
    process.exit(130)
  })
}

// ---------------------------------------------------------------------------------
// The copy
// ---------------------------------------------------------------------------------

/**
 * Copies every file git tracks, or would track (new files that .gitignore does not
 * exclude), as it is on disk (links stay links), into the copy: what `npm test` builds
 * here is what the rehearsal builds; node_modules, dist and caches stay out.
 */
const copyWorkingTree = () => {
  const listed = childProcess
    .execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, maxBuffer: 64 * 1024 * 1024 })
    .toString('utf8')
    .split('\0')
    .filter(Boolean)
  let copied = 0
  for (const file of new Set(listed)) {
    const from = path.join(root, file)
    const to = path.join(copy, file)
    let stat
    try {
      stat = fs.lstatSync(from)
    } catch {
      continue // deleted in the working tree: not part of what would be released
    }
    fs.mkdirSync(path.dirname(to), { recursive: true })
    if (stat.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to)
    else fs.copyFileSync(from, to)
    copied += 1
  }
  return `${copied} files into ${path.relative(work, copy)}/`
}

/**
 * Whether this repository's node_modules is what package-lock.json asks for: npm's
 * record of the installed tree (node_modules/.package-lock.json) holds the same
 * packages at the same versions, but for optional ones left out on this platform.
 * Gives the reason when it is not.
 */
const installedTreeMatchesLock = () => {
  const read = (file) => JSON.parse(fs.readFileSync(file, 'utf8')).packages ?? {}
  let lock
  let installed
  try {
    lock = read(path.join(root, 'package-lock.json'))
    installed = read(path.join(root, 'node_modules', '.package-lock.json'))
  } catch (error) {
    return `cannot read the lock or the installed tree (${error.message})`
  }
  const inTree = (key) => key.includes('node_modules/')
  for (const [key, entry] of Object.entries(lock)) {
    if (!inTree(key)) continue
    const there = installed[key]
    if (there === undefined) {
      if (entry.optional === true) continue
      return `${key} is in package-lock.json but not installed`
    }
    if (there.version !== entry.version || Boolean(there.link) !== Boolean(entry.link) || there.resolved !== entry.resolved) {
      return `${key} is ${there.version ?? there.resolved} in node_modules, ${entry.version ?? entry.resolved} in package-lock.json`
    }
  }
  for (const key of Object.keys(installed)) {
    if (inTree(key) && lock[key] === undefined) return `${key} is installed but not in package-lock.json`
  }
  return undefined
}

/**
 * Gives the copy this repository's dependencies: each entry of node_modules (and of a
 * workspace's own node_modules) is a link to the repository's, but a workspace's link
 * (node_modules/@meshplan/units) points to the workspace in the copy, so the copy builds
 * and type-checks against its own packages. Dot entries other than .bin (caches) are
 * left out so that nothing run in the copy writes into the repository.
 */
const linkNodeModules = () => {
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')).packages ?? {}
  const links = new Map(
    Object.entries(lock)
      .filter(([, entry]) => entry.link === true)
      .map(([key, entry]) => [key, entry.resolved]),
  )
  let linked = 0
  const linkFolder = (relative) => {
    const from = path.join(root, relative)
    const to = path.join(copy, relative)
    fs.mkdirSync(to, { recursive: true })
    for (const name of fs.readdirSync(from)) {
      if (name.startsWith('.') && name !== '.bin') continue
      const entry = `${relative}/${name}`
      if (name.startsWith('@') && fs.lstatSync(path.join(from, name)).isDirectory()) {
        fs.mkdirSync(path.join(to, name))
        for (const inner of fs.readdirSync(path.join(from, name))) {
          const target = links.get(`${entry}/${inner}`)
          fs.symlinkSync(target === undefined ? path.join(from, name, inner) : path.join(copy, target), path.join(to, name, inner))
          linked += 1
        }
        continue
      }
      const target = links.get(entry)
      fs.symlinkSync(target === undefined ? path.join(from, name) : path.join(copy, target), path.join(to, name))
      linked += 1
    }
  }
  linkFolder('node_modules')
  for (const key of Object.keys(lock)) {
    if (key !== '' && !key.includes('node_modules') && fs.existsSync(path.join(root, key, 'node_modules'))) linkFolder(`${key}/node_modules`)
  }
  return linked
}

/** The workspaces of the copy ({ folder, manifest }), in the order of the root's workspaces globs. */
const workspacesOf = () => {
  const rootPackage = JSON.parse(fs.readFileSync(path.join(copy, 'package.json'), 'utf8'))
  const folders = []
  for (const glob of rootPackage.workspaces) {
    if (!glob.endsWith('/*')) throw new Error(`workspace pattern ${glob}: only folder/* is understood here`)
    const parent = glob.slice(0, -2)
    for (const name of fs.readdirSync(path.join(copy, parent)).sort()) {
      if (fs.existsSync(path.join(copy, parent, name, 'package.json'))) folders.push(`${parent}/${name}`)
    }
  }
  return folders.map((folder) => ({ folder, manifest: JSON.parse(fs.readFileSync(path.join(copy, folder, 'package.json'), 'utf8')) }))
}

/** The workspaces that are published: all but the private ones. */
const publicWorkspaces = () => workspacesOf().filter(({ manifest }) => manifest.private !== true)

// semver, as @changesets/cli (which bumps the ranges) resolves it.
const semver = require(require.resolve('semver', { paths: [path.dirname(require.resolve('@changesets/cli/package.json', { paths: [root] }))] }))

// ---------------------------------------------------------------------------------
// The consumer
// ---------------------------------------------------------------------------------

/** The code of every fenced block tagged ts or typescript in `markdown`, in order. */
const typescriptBlocks = (markdown) => [...markdown.matchAll(/^```(?:ts|typescript)[ \t]*\n([\s\S]*?)^```/gm)].map((match) => match[1])

/**
 * An example as an ESM user writes it: fp-ts and io-ts 2.x have no `exports` map, so
 * Node's ESM resolver cannot import the folder `fp-ts/Either` (ERR_UNSUPPORTED_DIR_IMPORT);
 * their CommonJS file `fp-ts/lib/Either.js` imports, with named exports. TypeScript
 * under NodeNext accepts `fp-ts/Either` in an .mts file all the same (it reads the
 * folder's package.json), so only running it shows the difference. Gives the code and
 * how many imports it rewrote. The @meshplan imports stay as they are.
 */
const asEsm = (code) => {
  let rewritten = 0
  const text = code.replace(/(\bfrom\s+)(['"])(fp-ts|io-ts)\/([A-Za-z]+)\2/g, (_match, from, quote, library, module) => {
    rewritten += 1
    return `${from}${quote}${library}/lib/${module}.js${quote}`
  })
  return { text, rewritten }
}

/**
 * The files an installed package must hold: main, types, bin, every exports target, every
 * `files` entry; a pattern target (`./schemas/*`) promises its folder.
 */
const promisedFiles = (manifest) => {
  const files = new Set(['package.json', 'README.md', 'CHANGELOG.md', ...(manifest.files ?? [])])
  for (const field of ['main', 'types']) if (typeof manifest[field] === 'string') files.add(manifest[field])
  if (typeof manifest.bin === 'string') files.add(manifest.bin)
  else for (const target of Object.values(manifest.bin ?? {})) files.add(target)
  const targets = (value) => (typeof value === 'string' ? [value] : Object.values(value ?? {}).flatMap(targets))
  for (const target of targets(manifest.exports)) files.add(target.includes('*') ? path.dirname(target) : target)
  return [...files].map((file) => path.normalize(file))
}

/**
 * The module specifiers an installed package offers: its name and each subpath of its
 * `exports`, but for pattern subpaths (`./schemas/*`: data files, not modules).
 */
const entryPoints = (manifest) =>
  Object.keys(manifest.exports ?? { '.': manifest.main })
    .filter((subpath) => subpath !== './package.json' && !subpath.includes('*'))
    .map((subpath) => (subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`))

// The ESM check, run in the consumer: every name a package exports to require() is a
// named export of import(), and the default import is module.exports.
const exportsCheck = `import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
const results = []
for (const specifier of JSON.parse(process.argv[2])) {
  const required = require(specifier)
  const imported = await import(specifier)
  const names = Object.keys(required).filter((name) => name !== 'default' && name !== '__esModule')
  results.push({ specifier, names: names.length, missing: names.filter((name) => !(name in imported)), defaultIsExports: imported.default === required })
}
console.log(JSON.stringify(results))
`

// ---------------------------------------------------------------------------------
// The rehearsal
// ---------------------------------------------------------------------------------

// verdaccio starts first and comes up while the copy is made and built; settles with
// { registry, seconds } or { error, seconds }.
let registryReady = Promise.resolve({ error: new Error('not started'), seconds: 0 })

const rehearse = async () => {
  const registryStart = Date.now()
  registryReady = startRegistry().then(
    (registry) => ({ registry, seconds: (Date.now() - registryStart) / 1000 }),
    (error) => ({ error, seconds: (Date.now() - registryStart) / 1000 }),
  )

  await step('copy the working tree', copyWorkingTree)

  await step('dependencies of the copy', async () => {
    const mismatch = freshInstall ? 'asked for --fresh-install' : installedTreeMatchesLock()
    if (mismatch === undefined) return `${linkNodeModules()} entries linked to this repository's node_modules (it matches package-lock.json)`
    await mustRun('npm ci', 'npm', ['ci', '--no-audit', '--no-fund'], copy, 600)
    return `npm ci (${mismatch})`
  })

  const workspaces = await step('changeset version', async () => {
    const before = new Map(publicWorkspaces().map(({ manifest }) => [manifest.name, manifest.version]))
    await mustRun('changeset version', path.join(copy, 'node_modules', '.bin', 'changeset'), ['version'], copy)
    const after = publicWorkspaces()
    const bumps = new Map() // "0.0.0 -> 0.1.0" -> the packages that took it
    for (const { manifest } of after) {
      const bump = `${before.get(manifest.name)} -> ${manifest.version}`
      bumps.set(bump, [...(bumps.get(bump) ?? []), manifest.name.replace('@meshplan/', '')])
    }
    const note = [...bumps].map(([bump, names]) => `${bump}: ${names.length === after.length ? `all ${names.length}` : names.join(', ')}`).join('; ')
    return { status: 'ok', note: `${after.length} public packages, ${note}`, after }
  })
  const published = workspaces?.after ?? []
  const versionOf = new Map(published.map(({ manifest }) => [manifest.name, manifest.version]))

  await step('internal dependency ranges', () => {
    const problems = []
    const privateNames = new Set(workspacesOf().filter(({ manifest }) => manifest.private === true).map(({ manifest }) => manifest.name))
    let ranges = 0
    for (const { manifest } of published) {
      for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
        for (const [name, range] of Object.entries(manifest[field] ?? {})) {
          if (!name.startsWith('@meshplan/')) continue
          ranges += 1
          const version = versionOf.get(name)
          if (version === undefined) problems.push(`${manifest.name} ${field} ${name}: ${privateNames.has(name) ? 'a private package' : 'no such public workspace'}`)
          else if (!semver.satisfies(version, range)) problems.push(`${manifest.name} ${field} ${name} ${range}: the workspace is ${version}`)
        }
      }
    }
    if (problems.length > 0) throw failure(`${problems.length} internal ranges do not take the new versions`, problems)
    return `${ranges} ranges, each satisfied by the new version`
  })

  await step('build', async () => {
    await mustRun('turbo run build', path.join(copy, 'node_modules', '.bin', 'turbo'), ['run', 'build', '--output-logs=errors-only'], copy, 600)
    return 'turbo run build in the copy'
  })

  const registry = await step('start verdaccio', async () => {
    const ready = await registryReady
    if (ready.error !== undefined) throw ready.error
    return { status: 'ok', note: `verdaccio ${verdaccioVersion} on ${ready.registry.url} (up in ${ready.seconds.toFixed(1)} s, started alongside the copy)`, ...ready.registry }
  })
  const npmrc = registry === undefined ? '' : `@meshplan:registry=${registry.url}\n`

  await step('npm publish', async () => {
    fs.writeFileSync(path.join(copy, '.npmrc'), `${npmrc}//localhost:${registry.port}/:_authToken=dummy\n`)
    const result = await run('npm', ['publish', ...published.map(({ folder }) => `--workspace=${folder}`)], copy, 600)
    const missing = []
    for (const { manifest } of published) {
      const answer = await get(`${registry.url}${manifest.name.replace('/', '%2f')}`).catch((error) => ({ status: 0, body: error.message }))
      const document = answer.status === 200 ? JSON.parse(answer.body) : undefined
      if (document?.versions?.[manifest.version] === undefined) missing.push(`${manifest.name}@${manifest.version}: not in the registry (${answer.status})`)
    }
    if (result.code !== 0 || missing.length > 0) throw failure(`npm publish exited ${result.code}; ${missing.length} of ${published.length} missing`, [...missing, ...tail(result.stderr)])
    return `${published.length} packages in the registry: ${published.map(({ manifest }) => manifest.name).join(', ')}`
  })

  await step('install in a new project', async () => {
    const rootManifest = JSON.parse(fs.readFileSync(path.join(copy, 'package.json'), 'utf8'))
    const units = published.find(({ manifest }) => manifest.name === '@meshplan/units')?.manifest
    fs.mkdirSync(consumer, { recursive: true })
    fs.writeFileSync(path.join(consumer, 'package.json'), `${JSON.stringify({ name: 'meshplan-consumer', version: '0.0.0', private: true }, null, 2)}\n`)
    // resolved URLs in the lock, so that the next step can tell where each package came from
    fs.writeFileSync(path.join(consumer, '.npmrc'), `${npmrc}omit-lockfile-registry-resolved=false\n`)
    const wanted = [
      ...published.map(({ manifest }) => `${manifest.name}@${manifest.version}`),
      `fp-ts@${units?.peerDependencies?.['fp-ts'] ?? 'latest'}`,
      `typescript@${rootManifest.devDependencies.typescript}`,
      `@types/node@${rootManifest.devDependencies['@types/node']}`,
    ]
    // --prefer-online: a packument cached from an earlier rehearsal on the same port is
    // checked again, so the tarballs installed are the ones just published.
    await mustRun('npm install', 'npm', ['install', '--prefer-online', '--no-audit', '--no-fund', ...wanted], consumer, 600)
    return `${wanted.length} packages asked for: the ${published.length} published, fp-ts (their peer), typescript, @types/node`
  })

  const installed = new Map()
  for (const { manifest } of published) {
    const file = path.join(consumer, 'node_modules', manifest.name, 'package.json')
    if (fs.existsSync(file)) installed.set(manifest.name, JSON.parse(fs.readFileSync(file, 'utf8')))
  }

  await step('where each package came from', () => {
    const lock = JSON.parse(fs.readFileSync(path.join(consumer, 'package-lock.json'), 'utf8')).packages
    const problems = []
    let fromRegistry = 0
    let fromLocal = 0
    const copies = new Map()
    for (const [key, entry] of Object.entries(lock)) {
      if (key === '') continue
      const name = key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length)
      copies.set(name, [...(copies.get(name) ?? []), key])
      const local = typeof entry.resolved === 'string' && entry.resolved.startsWith(registry.url)
      if (name.startsWith('@meshplan/')) {
        fromLocal += 1
        if (!local) problems.push(`${key}: from ${entry.resolved}, not from ${registry.url}`)
        if (entry.version !== versionOf.get(name)) problems.push(`${key}: ${entry.version}, published ${versionOf.get(name)}`)
      } else {
        fromRegistry += 1
        if (local) problems.push(`${key}: from the local registry`)
      }
    }
    for (const name of [...versionOf.keys(), 'fp-ts', 'io-ts']) {
      const keys = copies.get(name) ?? []
      if (keys.length !== 1) problems.push(`${name}: ${keys.length} copies (${keys.join(', ') || 'not installed'}); one is expected`)
    }
    for (const [name, manifest] of installed) {
      for (const [peer, range] of Object.entries(manifest.peerDependencies ?? {})) {
        const version = lock[`node_modules/${peer}`]?.version
        if (version === undefined || !semver.satisfies(version, range)) problems.push(`${name} wants ${peer} ${range}: ${version ?? 'not installed'}`)
      }
    }
    if (installed.size !== published.length) problems.push(`${installed.size} of ${published.length} published packages installed`)
    if (problems.length > 0) throw failure(`${problems.length} problems in the installed tree`, problems)
    return `${fromLocal} @meshplan packages from ${registry.url}, one copy each; ${fromRegistry} others from the usual registry; fp-ts and io-ts once, satisfying every peer range`
  }, { needed: false })

  await step('package contents and metadata', () => {
    const problems = []
    for (const [name, manifest] of installed) {
      const folder = path.join(consumer, 'node_modules', name)
      for (const file of promisedFiles(manifest)) if (!fs.existsSync(path.join(folder, file))) problems.push(`${name}: no ${file}`)
      if (fs.existsSync(path.join(folder, 'test'))) problems.push(`${name}: ships its tests`)
      if (manifest.engines?.node !== '>=20') problems.push(`${name}: engines.node is ${manifest.engines?.node}, not >=20`)
      if (manifest.repository?.directory === undefined || !/github\.com\/meshplan\/meshplan/.test(manifest.repository?.url ?? '')) problems.push(`${name}: repository ${JSON.stringify(manifest.repository)}`)
      if (manifest.peerDependencies?.['fp-ts'] === undefined) problems.push(`${name}: fp-ts is not a peer dependency`)
      for (const library of ['fp-ts', 'io-ts']) if (manifest.dependencies?.[library] !== undefined) problems.push(`${name}: ${library} is a dependency, not a peer`)
    }
    if (problems.length > 0) throw failure(`${problems.length} problems in the installed packages`, problems)
    return `every main, types, bin, exports target and files entry is there; engines, repository and the fp-ts peer are set`
  }, { needed: false })

  await step('ESM named exports', async () => {
    const specifiers = [...installed.values()].flatMap(entryPoints)
    fs.writeFileSync(path.join(consumer, 'exports-check.mjs'), exportsCheck)
    const result = await mustRun('exports-check.mjs', process.execPath, ['exports-check.mjs', JSON.stringify(specifiers)], consumer)
    const results = JSON.parse(result.stdout)
    const problems = results.flatMap((entry) => [
      ...(entry.missing.length > 0 ? [`${entry.specifier}: ${entry.missing.length} of ${entry.names} names not importable by name: ${entry.missing.slice(0, 8).join(', ')}`] : []),
      ...(entry.defaultIsExports ? [] : [`${entry.specifier}: the default import is not module.exports`]),
    ])
    if (problems.length > 0) throw failure(`${problems.length} entry points fall short from ESM`, problems)
    const names = results.reduce((sum, entry) => sum + entry.names, 0)
    return `all ${names} names of ${results.length} entry points import by name from an .mjs file (Node's CommonJS export detection), and as a default import`
  }, { needed: false })

  // The README examples, as published: one .ts (CommonJS) and one .mts (ESM) file each.
  const examples = []
  const exampleDir = path.join(consumer, 'examples')
  const outDir = path.join(consumer, 'out')
  let rewrittenImports = 0
  const compiled = await step('README examples type-check', () => {
    fs.mkdirSync(exampleDir, { recursive: true })
    for (const [name, manifest] of installed) {
      if (manifest.bin !== undefined) continue // the command's README shows commands, not code
      const readme = fs.readFileSync(path.join(consumer, 'node_modules', name, 'README.md'), 'utf8')
      typescriptBlocks(readme).forEach((code, index) => {
        const base = `${name.replace('@meshplan/', '')}-${index + 1}`
        const esm = asEsm(code)
        rewrittenImports += esm.rewritten
        fs.writeFileSync(path.join(exampleDir, `${base}.ts`), code)
        fs.writeFileSync(path.join(exampleDir, `${base}.mts`), esm.text)
        examples.push({ base, cjs: path.join(outDir, `${base}.js`), esm: path.join(outDir, `${base}.mjs`) })
      })
    }
    if (examples.length === 0) throw new Error('no TypeScript example in the published READMEs')
    // The consumer's own typescript, against the published declarations, as a user's
    // strict project under NodeNext (a .ts file is CommonJS there, an .mts file ESM).
    const ts = require(require.resolve('typescript', { paths: [consumer] }))
    const compilerOptions = {
      strict: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ['node'],
      esModuleInterop: true,
      skipLibCheck: false,
      rootDir: exampleDir,
      outDir,
      noEmitOnError: true,
    }
    const files = examples.flatMap(({ base }) => [path.join(exampleDir, `${base}.ts`), path.join(exampleDir, `${base}.mts`)])
    const program = ts.createProgram(files, compilerOptions)
    const emitted = program.emit()
    const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics].map((d) => {
      const where = d.file !== undefined && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined
      const file = d.file === undefined ? '' : `${path.relative(consumer, d.file.fileName)}:${where.line + 1}:${where.character + 1} `
      return `${file}${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`
    })
    if (diagnostics.length > 0) throw failure(`${diagnostics.length} type errors`, diagnostics.slice(0, 20))
    return `${examples.length} examples x (CommonJS .ts, ESM .mts) under strict NodeNext with typescript ${ts.version}, declarations checked too; in the .mts files ${rewrittenImports} fp-ts imports name fp-ts/lib/<Module>.js`
  }, { needed: false })

  await step('README examples run', async () => {
    if (compiled === undefined) throw new Error('not compiled')
    const runs = await inParallel(
      2,
      examples.flatMap((example) => ['cjs', 'esm'].map((kind) => async () => ({ example, kind, result: await run(process.execPath, [example[kind]], consumer, 300) }))),
    )
    const problems = []
    for (const example of examples) {
      const [cjs, esm] = ['cjs', 'esm'].map((kind) => runs.find((r) => r.example === example && r.kind === kind).result)
      for (const [kind, result] of [['CommonJS', cjs], ['ESM', esm]]) {
        if (result.code !== 0) problems.push(`${example.base} (${kind}) exited ${result.code}: ${firstError(result.stderr)}`)
        else if (result.stdout.trim() === '') problems.push(`${example.base} (${kind}) printed nothing`)
      }
      if (cjs.code === 0 && esm.code === 0 && cjs.stdout !== esm.stdout) problems.push(`${example.base}: ESM printed other lines than CommonJS`)
    }
    if (problems.length > 0) throw failure(`${problems.length} of ${runs.length} runs fell short`, problems)
    return `${examples.length} examples from CommonJS and from ESM (${runs.length} runs), each printing, the same lines both ways`
  }, { needed: false })

  const cli = published.find(({ manifest }) => manifest.bin !== undefined)?.manifest
  await step('npx meshplan example', async () => {
    const result = await mustRun('npx meshplan example', 'npx', ['--no', '--', 'meshplan', 'example'], consumer)
    if (result.stdout.trim() === '') throw new Error('printed nothing')
    return `exit 0, ${result.stdout.trim().split('\n').length} lines from ${cli.name}@${cli.version}'s bin`
  }, { needed: false })

  // `--` ends npx's own options: `npx meshplan --version` alone prints npm's version.
  await step('npx meshplan --version', async () => {
    const result = await mustRun('npx meshplan --version', 'npx', ['--no', '--', 'meshplan', '--version'], consumer)
    if (result.stdout.trim() !== cli.version) throw new Error(`printed ${JSON.stringify(result.stdout.trim())}, not ${cli.version}`)
    return `${result.stdout.trim()}, the version published`
  }, { needed: false })
}

const finish = async () => {
  const stopBegin = Date.now()
  await registryReady // so that a verdaccio still starting is stopped too
  await stopRegistry()
  if (!keep) fs.rmSync(work, { recursive: true, force: true })
  record.push({ name: 'stop verdaccio, clean up', status: 'ok', seconds: (Date.now() - stopBegin) / 1000, note: keep ? `kept ${work}` : `removed ${work}` })

  const failed = record.filter((entry) => entry.status === 'failed' || entry.status === 'skipped')
  const seconds = (Date.now() - started) / 1000
  const width = Math.max(...record.map((entry) => entry.name.length))
  console.log('')
  console.log(`release rehearsal summary (verdaccio ${verdaccioVersion}, node ${process.version})`)
  for (const entry of record) {
    const [first, ...rest] = entry.note.split('\n')
    console.log(`  ${entry.status.toUpperCase().padEnd(7)} ${entry.name.padEnd(width)} ${entry.seconds.toFixed(1).padStart(6)} s  ${first}`)
    for (const line of rest) console.log(`  ${' '.repeat(7 + width + 11)}${line}`)
  }
  console.log(`release rehearsal: ${failed.length === 0 ? 'ok' : 'FAILED'}, ${record.length - failed.length} of ${record.length} steps ok in ${seconds.toFixed(1)} s`)
  process.exitCode = failed.length === 0 ? 0 : 1
}

rehearse()
  .catch((error) => record.push({ name: 'rehearsal', status: 'failed', seconds: 0, note: error.stack ?? String(error) }))
  .finally(finish)
