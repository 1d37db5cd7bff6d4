// Starts a private chatd (own port, MariaDB database and Redis prefix) with the
// built web app embedded, and headless Chromium to drive it.
import { spawn, execFile } from 'node:child_process'
import { createServer } from 'node:net'
import { existsSync, mkdirSync, createWriteStream } from 'node:fs'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { chromium } from 'playwright-core'

const run = promisify(execFile)
export const webappDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const repoDir = path.resolve(webappDir, '..')
const tmpDir = path.join(webappDir, 'e2e', '.tmp')

/** How long chatd may take to answer /readyz. */
const readyTimeoutMs = 60_000
/** How long `go build` may take (a cold cache on 2 cores is slow). */
const buildTimeoutMs = 8 * 60_000

export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

async function waitReady(base, proc) {
  const deadline = Date.now() + readyTimeoutMs
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`chatd exited with ${proc.exitCode}; see ${path.join(tmpDir, 'chatd.log')}`)
    try {
      const res = await fetch(`${base}/readyz`)
      if (res.status === 200) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`chatd not ready after ${readyTimeoutMs} ms`)
}

/** startServer builds and starts chatd; stop() ends it and drops its database. */
export async function startServer() {
  if (!existsSync(path.join(webappDir, 'dist', 'app', 'index.html'))) {
    throw new Error('webapp/dist/app is missing: run `npm run build` first')
  }
  mkdirSync(tmpDir, { recursive: true })
  const bin = path.join(tmpDir, 'chatd')
  await run('go', ['build', '-o', bin, './cmd/chatd'], { cwd: repoDir, timeout: buildTimeoutMs })
  const port = await freePort()
  const unique = `parley_e2e_${process.pid}_${Date.now()}`
  const log = createWriteStream(path.join(tmpDir, 'chatd.log'))
  const proc = spawn(bin, [], {
    cwd: repoDir,
    env: {
      ...process.env,
      PARLEY_ADDR: `127.0.0.1:${port}`,
      PARLEY_MYSQL_DSN: `root@tcp(127.0.0.1:3306)/${unique}?parseTime=true`,
      PARLEY_REDIS_URL: 'redis://127.0.0.1:6379/0',
      PARLEY_REDIS_PREFIX: `${unique}:`,
      PARLEY_ADMIN_ADDR: 'off',
      // One test seeds 70 messages through the API to build history and
      // unread counts; the default 10-per-10s send limit would stall it.
      PARLEY_LIMIT_SEND: '100000/100s',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  proc.stdout.pipe(log)
  proc.stderr.pipe(log)
  const base = `http://127.0.0.1:${port}`
  try {
    await waitReady(base, proc)
  } catch (e) {
    proc.kill('SIGKILL')
    throw e
  }
  return {
    base,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r))
        proc.kill('SIGTERM')
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))])
        if (proc.exitCode === null) proc.kill('SIGKILL')
      }
      await run('mariadb', ['-uroot', '-h127.0.0.1', '-e', `DROP DATABASE IF EXISTS \`${unique}\``]).catch(() => {})
    },
  }
}

/** startBrowser launches the system Chromium. */
export function startBrowser() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs })
}
