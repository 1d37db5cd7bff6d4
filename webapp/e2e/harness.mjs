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

async function waitReady(base, proc, logPath) {
  const deadline = Date.now() + readyTimeoutMs
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`chatd exited with ${proc.exitCode}; see ${logPath}`)
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

/**
 * startServer builds and starts chatd; stop() ends it and drops its database.
 * env overrides the test settings below (undefined removes one, for chatd's
 * default); name tells the log files of several servers apart.
 */
export async function startServer({ env = {}, name = 'chatd' } = {}) {
  if (!existsSync(path.join(webappDir, 'dist', 'app', 'index.html'))) {
    throw new Error('webapp/dist/app is missing: run `npm run build` first')
  }
  mkdirSync(tmpDir, { recursive: true })
  const bin = path.join(tmpDir, 'chatd')
  await run('go', ['build', '-o', bin, './cmd/chatd'], { cwd: repoDir, timeout: buildTimeoutMs })
  const port = await freePort()
  const unique = `parley_e2e_${process.pid}_${Date.now()}`
  const logPath = path.join(tmpDir, `${name}.log`)
  const log = createWriteStream(logPath)
  const settings = {
    ...process.env,
    PARLEY_ADDR: `127.0.0.1:${port}`,
    PARLEY_MYSQL_DSN: `root@tcp(127.0.0.1:3306)/${unique}?parseTime=true`,
    PARLEY_REDIS_URL: 'redis://127.0.0.1:6379/0',
    PARLEY_REDIS_PREFIX: `${unique}:`,
    PARLEY_ADMIN_ADDR: 'off',
    // One test seeds 70 messages through the API to build history and
    // unread counts; the default 10-per-10s send limit would stall it.
    PARLEY_LIMIT_SEND: '100000/100s',
    PARLEY_LIMIT_CREATE_ROOM: '100000/100s',
    ...env,
  }
  for (const [k, v] of Object.entries(settings)) if (v === undefined) delete settings[k]
  const proc = spawn(bin, [], { cwd: repoDir, env: settings, stdio: ['ignore', 'pipe', 'pipe'] })
  proc.stdout.pipe(log)
  proc.stderr.pipe(log)
  const base = `http://127.0.0.1:${port}`
  try {
    await waitReady(base, proc, logPath)
  } catch (e) {
    proc.kill('SIGKILL')
    throw e
  }
  return {
    base,
    /** redisPrefix starts every Redis key of this server. */
    redisPrefix: `${unique}:`,
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

/** startBrowser launches the system Chromium, with extra switches when given. */
export function startBrowser(extraArgs = []) {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: [...chromiumArgs, ...extraArgs] })
}

/** fakeMicrophone makes Chromium grant the microphone and feed it a test tone, for voice recording. */
export const fakeMicrophone = ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream']

/**
 * serverLacksUploads says why this chatd takes no uploads ('' when it does):
 * an empty POST /v1/uploads is refused in JSON by a server that has them, and
 * falls through to a 404/405 (or the app's HTML page) on one that does not.
 */
export async function serverLacksUploads(base, token) {
  const res = await fetch(`${base}/v1/uploads?filename=probe.txt`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/plain' }, body: '' })
  const json = (res.headers.get('content-type') ?? '').includes('json')
  if (res.status === 404 || res.status === 405 || !json) return `the server has no POST /v1/uploads yet (HTTP ${res.status})`
  return ''
}

/** redisKeys lists this machine's Redis keys matching a glob pattern. */
export async function redisKeys(pattern) {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '--scan', '--pattern', pattern])
  return stdout.split('\n').filter(Boolean)
}

/** redisDelete deletes keys from Redis. */
export async function redisDelete(keys) {
  if (keys.length > 0) await run('redis-cli', ['-h', '127.0.0.1', 'DEL', ...keys])
}

/** api calls one RPC over Connect JSON, as curl would, and returns the parsed answer. */
export async function api(base, procedure, body, token) {
  const headers = { 'Content-Type': 'application/json' }
  if (token) headers.Authorization = `Bearer ${token}`
  const res = await fetch(`${base}/${procedure}`, { method: 'POST', headers, body: JSON.stringify(body) })
  const json = await res.json()
  if (!res.ok) throw new Error(`${procedure}: ${res.status} ${JSON.stringify(json)}`)
  return json
}

/**
 * watchCsp collects into `into` every Content-Security-Policy violation the
 * context's pages report (the listener is installed by the test, so the policy
 * does not block it).
 */
export async function watchCsp(context, into) {
  await context.exposeBinding('reportCspViolation', (_source, v) => into.push(v))
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.reportCspViolation({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample, page: location.pathname })
    })
  })
}

/**
 * serverLacks finds which of the calls (procedure: body) this chatd answers
 * `unimplemented`, with a fresh user's token: browser tests of features whose
 * server part has not landed yet skip with that reason instead of failing.
 */
export async function serverLacks(base, calls) {
  const name = `probe_${Date.now() % 1e9}`
  await api(base, 'chat.v1.AuthService/Register', { username: name, email: `${name}@example.com`, password: 'probe password 1' })
  const { accessToken } = await api(base, 'chat.v1.AuthService/Login', { login: name, password: 'probe password 1' })
  const lacking = new Set()
  for (const [procedure, body] of Object.entries(calls)) {
    const res = await fetch(`${base}/${procedure}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${accessToken}` },
      body: JSON.stringify(body),
    })
    if (!res.ok && (await res.json()).code === 'unimplemented') lacking.add(procedure)
  }
  return lacking
}

/** serverSays is the message chatd answers a call with that fails, '' when it succeeds. */
export async function serverSays(base, procedure, body, token) {
  const headers = { 'Content-Type': 'application/json' }
  if (token) headers.Authorization = `Bearer ${token}`
  const res = await fetch(`${base}/${procedure}`, { method: 'POST', headers, body: JSON.stringify(body) })
  return res.ok ? '' : ((await res.json()).message ?? '')
}
