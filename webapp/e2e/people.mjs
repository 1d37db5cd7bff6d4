// People using the app in the browser tests: a browser context each, and
// what they do (register, open a room, write) and see.
import { watchCsp } from './harness.mjs'

export const desktop = { width: 1280, height: 800 }
export const phone = { width: 390, height: 844 }
/** How long to wait for something a person would see soon. */
export const seeTimeoutMs = 15_000
export const password = 'correct horse battery'

/**
 * newPerson opens a browser context for one person. Every CSP violation goes
 * into cspViolations; dialogs are dismissed and kept; the live socket's
 * frame kinds are kept in liveMessages.
 */
export async function newPerson({ browser, server, cspViolations }, name, { viewport = desktop, locale = 'en-US', ...options } = {}) {
  const context = await browser.newContext({ viewport, locale, timezoneId: 'UTC', baseURL: server.base, ...options })
  await watchCsp(context, cspViolations)
  const page = await context.newPage()
  const dialogs = []
  page.on('dialog', (d) => {
    dialogs.push(d.message())
    void d.dismiss()
  })
  // Whether each message the live socket got was binary or text: the app asks
  // for parley.v1.batch.proto, and would fall back to JSON text unnoticed.
  const liveMessages = []
  page.on('websocket', (ws) => {
    if (new URL(ws.url()).pathname !== '/ws') return
    ws.on('framereceived', ({ payload }) => liveMessages.push(typeof payload === 'string' ? 'text' : 'binary'))
  })
  return { name, context, page, dialogs, liveMessages }
}

export async function register(p) {
  await p.page.goto('/register')
  await p.page.locator('#username').fill(p.name)
  await p.page.locator('#email').fill(`${p.name}@example.com`)
  await p.page.locator('#password').fill(password)
  await p.page.getByTestId('register-submit').click()
  await p.page.waitForURL(/\/chat\/\d+/, { timeout: seeTimeoutMs })
}

export async function login(p) {
  await p.page.goto('/login')
  await p.page.locator('#login').fill(p.name)
  await p.page.locator('#password').fill(password)
  await p.page.getByTestId('login-submit').click()
  await p.page.waitForURL(/\/chat\/\d+/, { timeout: seeTimeoutMs })
}

export async function openRoom(p, name) {
  await p.page.getByTestId(`room-${name}`).first().click()
  await p.page.locator('#composer').waitFor({ timeout: seeTimeoutMs })
  await p.page.getByTestId('room-title').filter({ hasText: name }).waitFor()
  await waitOnline(p)
}

export async function openGeneral(p) {
  await openRoom(p, 'general')
}

export async function waitOnline(p) {
  await p.page.locator('[data-testid="connection-status"][data-status="online"]').waitFor({ timeout: seeTimeoutMs })
}

export async function say(p, text) {
  await p.page.locator('#composer').fill(text)
  await p.page.locator('#composer').press('Enter')
}

export function bodyLocator(p, text) {
  return p.page.locator('[data-testid="message"] [data-testid="message-body"]', { hasText: text })
}

export async function sees(p, text) {
  await bodyLocator(p, text).first().waitFor({ timeout: seeTimeoutMs })
}

/** bodies lists the stored messages the page shows, in page order. */
export function bodies(p) {
  return p.page.locator('[data-testid="message"] [data-testid="message-body"]').allTextContents()
}

/** messageLocator is the row of the (last) stored message whose body has the text. */
export function messageLocator(p, text) {
  return p.page.locator('[data-testid="message"]', { has: p.page.locator('[data-testid="message-body"]', { hasText: text }) }).last()
}

/** savedOutbox lists the unsent messages the page's origin keeps in IndexedDB, as stored. */
export function savedOutbox(page) {
  return page.evaluate(
    () =>
      new Promise((resolve) => {
        const req = indexedDB.open('parley')
        req.onerror = () => resolve([])
        req.onsuccess = () => {
          const db = req.result
          if (!db.objectStoreNames.contains('outbox')) return resolve([])
          const all = db.transaction('outbox', 'readonly').objectStore('outbox').getAll()
          all.onsuccess = () => resolve(all.result.flat())
          all.onerror = () => resolve([])
        }
      }),
  )
}
