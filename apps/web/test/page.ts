/**
 * What the browser tests share: the built page (`dist/`, from `npm run build`) served
 * by a small static server on 127.0.0.1, Debian's Chromium (`/usr/bin/chromium`, which
 * `.ci/run` installs) driven by playwright-core, the `meshplan` command built beside it
 * (its JSON is what the page's figures must equal), and screenshots kept under
 * `test-artifacts/` (git-ignored).
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'

export const webRoot = resolve(__dirname, '..')
export const distDir = join(webRoot, 'dist')
export const repositoryRoot = resolve(webRoot, '..', '..')
export const artifactsDir = join(webRoot, 'test-artifacts')
export const chromiumPath = process.env['MESHPLAN_CHROMIUM'] ?? '/usr/bin/chromium'

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
}

/** A static server of `dist/` on a free port of 127.0.0.1; `close` also ends open connections (so the page is really offline). */
export interface StaticServer {
  readonly url: string
  readonly close: () => Promise<void>
}

export const serveDist = async (): Promise<StaticServer> => {
  if (!existsSync(join(distDir, 'index.html'))) throw new Error(`${join(distDir, 'index.html')} is missing: build the page first (npm run build)`)
  const sockets = new Set<Socket>()
  const server: Server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname)
    const file = normalize(join(distDir, path.endsWith('/') ? `${path}index.html` : path))
    if (!file.startsWith(distDir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404).end('not found')
      return
    }
    response.writeHead(200, { 'content-type': contentTypes[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' })
    response.end(readFileSync(file))
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((done) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => done())
      }),
  }
}

/** Headless Chromium from Debian's package. */
export const launch = (): Promise<Browser> => {
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: apt-get install -y chromium (.ci/run installs it)`)
  return chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
}

/** Runs the built `meshplan` command with `args` from the repository's root; resolves with its exit code and output. */
export const meshplan = (args: ReadonlyArray<string>): Promise<{ readonly code: number; readonly stdout: string; readonly stderr: string }> =>
  new Promise((done) => {
    execFile(process.execPath, [join(repositoryRoot, 'apps', 'cli', 'bin', 'meshplan.js'), ...args], { cwd: repositoryRoot, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1
      done({ code, stdout, stderr })
    })
  })

/** Saves a screenshot of the whole page as `test-artifacts/NAME.png`. */
export const screenshot = async (page: Page, name: string): Promise<void> => {
  mkdirSync(artifactsDir, { recursive: true })
  await page.screenshot({ path: join(artifactsDir, `${name}.png`), fullPage: true })
}

/** The errors a page logs or throws, collected from the moment it is opened. */
export const collectErrors = (page: Page): ReadonlyArray<string> => {
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text())
  })
  return errors
}
