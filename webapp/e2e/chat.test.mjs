// Browser tests: two people chat through the built app served by a real chatd.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { mkdirSync } from 'node:fs'
import { api, serverSays, startBrowser, startServer, webappDir } from './harness.mjs'
import {
  bodies,
  bodyLocator,
  desktop,
  newPerson as makePerson,
  openGeneral,
  password,
  phone,
  register,
  say,
  seeTimeoutMs,
  sees,
  waitOnline,
} from './people.mjs'

const shots = path.join(webappDir, 'screenshots')
// Each run has its own database, so fixed names are free (and keep the screenshots stable).
const alice = 'alice'
const bob = 'bob'
const carol = 'carol'

let server
let browser
const people = {}
/** Every Content-Security-Policy violation any page reported: the app needs none. */
const cspViolations = []

function newPerson(name, viewport = desktop, locale = 'en-US') {
  return makePerson({ browser, server, cspViolations }, name, { viewport, locale })
}

before(async () => {
  server = await startServer()
  browser = await startBrowser()
})

after(async () => {
  await browser?.close()
  await server?.stop()
})

after(() => {
  assert.deepEqual(cspViolations, [], 'the app runs under its Content-Security-Policy without a single violation')
})

describe('two people in #general', () => {
  it('register, land in chat and open general', async () => {
    people.alice = await newPerson(alice)
    people.bob = await newPerson(bob)
    await register(people.alice)
    await register(people.bob)
    await openGeneral(people.alice)
    await openGeneral(people.bob)
  })

  it('chat both ways, live', async () => {
    await say(people.alice, `hi bob, from ${alice}`)
    await sees(people.bob, `hi bob, from ${alice}`)
    await say(people.bob, 'hello alice')
    await sees(people.alice, 'hello alice')
    await sees(people.bob, 'hello alice')
    const own = people.alice.page.locator('[data-testid="message"].is-own', { hasText: `hi bob, from ${alice}` })
    assert.equal(await own.count(), 1, 'own message is marked as own')
    const theirs = people.alice.page.locator('[data-testid="message"]:not(.is-own)', { hasText: 'hello alice' })
    assert.equal(await theirs.count(), 1)
  })

  it('live frames arrive as binary batches (parley.v1.batch.proto)', () => {
    for (const p of [people.alice, people.bob]) {
      assert.ok(p.liveMessages.length > 0, `${p.name}'s live socket got messages`)
      assert.deepEqual([...new Set(p.liveMessages)], ['binary'], `${p.name}'s live socket got only binary messages`)
    }
  })

  it('the online list shows both, and updates when one leaves', async () => {
    const member = (name, online) =>
      people.alice.page.locator(`[data-testid="member"][data-username="${name}"][data-online="${online}"]`)
    await member(bob, 'true').waitFor({ timeout: seeTimeoutMs })
    await member(alice, 'true').waitFor({ timeout: seeTimeoutMs })
    const late = await newPerson(carol)
    await register(late)
    await openGeneral(late)
    await member(carol, 'true').waitFor({ timeout: seeTimeoutMs })
    await late.context.close()
    await member(carol, 'false').waitFor({ timeout: seeTimeoutMs })
  })

  it('shows who is typing', async () => {
    // Typing notices are throttled to one per 3 s, so keep typing for longer than that.
    const typing = people.bob.page.locator('#composer').pressSequentially('still typing a long thought', { delay: 150 })
    await people.alice.page.getByTestId('typing').filter({ hasText: bob }).waitFor({ timeout: seeTimeoutMs })
    await typing
    await people.bob.page.locator('#composer').fill('')
  })

  it('after a dropped connection, the missed messages show once, in order', async () => {
    const { bob: b, alice: a } = people
    await b.context.setOffline(true)
    await b.page.locator('[data-testid="connection-status"][data-status="waiting"]').waitFor({ timeout: seeTimeoutMs })
    const missed = [1, 2, 3, 4, 5].map((i) => `missed ${i} while bob was away`)
    for (const text of missed) {
      await say(a, text)
      await sees(a, text)
    }
    // Bob writes while offline: it stays pending, then goes out once.
    await say(b, 'written offline')
    await b.page.getByTestId('pending-message').filter({ hasText: 'written offline' }).waitFor()
    assert.equal(await bodyLocator(b, 'missed 1').count(), 0, 'nothing arrives while offline')

    await b.context.setOffline(false)
    await waitOnline(b)
    await sees(b, missed.at(-1))
    await sees(a, 'written offline')
    await sees(b, 'written offline')
    await b.page.getByTestId('pending-message').waitFor({ state: 'detached', timeout: seeTimeoutMs })

    for (const p of [a, b]) {
      const all = await bodies(p)
      const got = all.filter((t) => t.includes('while bob was away'))
      assert.deepEqual(got, missed, `${p.name} sees each missed message once, in order`)
      assert.equal(all.filter((t) => t === 'written offline').length, 1, `${p.name} sees the offline message once`)
      const seqs = await p.page.locator('[data-testid="message"]').evaluateAll((els) => els.map((e) => Number(e.dataset.seq)))
      assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'ordered by seq')
      assert.equal(new Set(seqs).size, seqs.length, 'no seq twice')
    }
  })

  it('a reload keeps the session and the history', async () => {
    const { bob: b } = people
    await b.page.reload()
    await waitOnline(b)
    await sees(b, 'missed 5 while bob was away')
  })

  it('markup in a message is shown as text and never runs', async () => {
    const payload = '<img src=x onerror=alert(1)><script>alert(2)</script>'
    await say(people.alice, payload)
    for (const p of [people.alice, people.bob]) {
      await sees(p, payload)
      assert.equal(await bodyLocator(p, payload).first().textContent(), payload)
      assert.equal(await p.page.locator('[data-testid="message-body"] img, [data-testid="message-body"] script').count(), 0)
    }
    await people.bob.page.waitForTimeout(500)
    assert.deepEqual(people.alice.dialogs, [])
    assert.deepEqual(people.bob.dialogs, [])
  })

  it('screenshots at desktop and phone sizes', async () => {
    mkdirSync(shots, { recursive: true })
    const { alice: a } = people
    await say(a, 'Shipping the release at 5pm — anything blocking?')
    await sees(people.bob, 'Shipping the release')
    await say(people.bob, 'All green on my side, ship it')
    await sees(a, 'All green on my side')
    await a.page.mouse.move(0, 0)
    await a.page.screenshot({ path: path.join(shots, 'chat-desktop.png') })

    const mobile = await newPerson(alice, phone)
    await mobile.page.goto('/login')
    await mobile.page.locator('#login').fill(alice)
    await mobile.page.locator('#password').fill(password)
    await mobile.page.getByTestId('login-submit').click()
    await mobile.page.waitForURL(/\/chat\/\d+/, { timeout: seeTimeoutMs })
    await waitOnline(mobile)
    await sees(mobile, 'All green on my side')
    await mobile.page.mouse.move(0, 0)
    await mobile.page.screenshot({ path: path.join(shots, 'chat-phone.png') })
    // The side panels are drawers on a phone.
    await mobile.page.getByTestId('open-rooms').click()
    await mobile.page.getByTestId('room-general').waitFor({ state: 'visible' })
    await mobile.context.close()
  })

  it('a new room: join it, unread counts, older history loads on scroll', async () => {
    const { alice: a, bob: b } = people
    const name = 'backlog'
    await a.page.getByTestId('new-room').click()
    await a.page.locator('#room-name').fill(name)
    await a.page.locator('#room-topic').fill('Where the backlog lives')
    await a.page.getByTestId('create-room-submit').click()
    await a.page.getByTestId('room-title').filter({ hasText: name }).waitFor({ timeout: seeTimeoutMs })
    const roomId = a.page.url().split('/').pop()

    await b.page.reload()
    await waitOnline(b)
    await b.page.getByTestId(`room-${name}`).click() // a public room: joins it
    await b.page.getByTestId('room-title').filter({ hasText: name }).waitFor({ timeout: seeTimeoutMs })
    await b.page.getByTestId('room-general').click()
    await b.page.getByTestId('room-title').filter({ hasText: 'general' }).waitFor()

    const total = 70
    // Seeded through the API, as a bot would: the page's own token is out of reach by design.
    const { accessToken } = await api(server.base, 'chat.v1.AuthService/Login', { login: alice, password })
    for (let i = 1; i <= total; i++) {
      const req = { roomId, body: `backlog ${i}`, clientMsgId: `backlog-${roomId}-${i}` }
      await api(server.base, 'chat.v1.MessageService/SendMessage', req, accessToken)
    }
    const badge = b.page.getByTestId(`room-${name}`).getByTestId('unread')
    await badge.filter({ hasText: String(total) }).waitFor({ timeout: seeTimeoutMs })

    await b.page.getByTestId(`room-${name}`).click()
    await sees(b, `backlog ${total}`)
    assert.equal(await badge.count(), 0, 'opening the room clears its unread count')
    const list = b.page.getByTestId('message-list')
    for (let i = 0; i < 20 && (await bodyLocator(b, 'backlog 1').filter({ hasText: /^backlog 1$/ }).count()) === 0; i++) {
      await list.evaluate((el) => (el.scrollTop = 0))
      await b.page.waitForTimeout(250)
    }
    const got = (await bodies(b)).filter((t) => t.startsWith('backlog '))
    assert.deepEqual(got, Array.from({ length: total }, (_, i) => `backlog ${i + 1}`))
  })

  it('logout clears the session', async () => {
    const { bob: b } = people
    await b.page.getByTestId('logout').click()
    await b.page.waitForURL(/\/login/)
    await b.page.goto('/chat')
    await b.page.waitForURL(/\/login/)
    const refresh = (await b.context.cookies()).filter((c) => c.name === 'parley_refresh')
    assert.deepEqual(refresh, [], 'logout deletes the refresh cookies')
  })
})

describe('forms', () => {
  it('register rules show inline and a taken name is explained', async (t) => {
    const p = await newPerson(alice)
    await p.page.goto('/register')
    await p.page.locator('#username').fill('a!')
    await p.page.locator('#email').fill('nope')
    await p.page.locator('#password').fill('short')
    await p.page.getByTestId('register-submit').click()
    await p.page.getByText('Use 3–32 letters, digits or underscores').waitFor()
    await p.page.getByText('Enter a valid email address').waitFor()
    await p.page.getByText('Use 8–128 characters').waitFor()
    await p.page.locator('#username').fill(alice)
    await p.page.locator('#email').fill(`${alice}@example.com`)
    await p.page.locator('#password').fill(password)
    const said = await serverSays(server.base, 'chat.v1.AuthService/Register', { username: alice, email: 'someone.else@example.com', password })
    if (said !== 'that username is taken') {
      await p.context.close()
      return t.skip(`the server says "${said}" for a taken username, not which field yet`)
    }
    await p.page.getByTestId('register-submit').click()
    // The server says which one is taken, and the form marks that field.
    await p.page.locator('.el-form-item', { has: p.page.locator('#username') }).getByText('That username is taken').waitFor({ timeout: seeTimeoutMs })
    await p.context.close()
  })

  it('a Chinese browser gets the Chinese app, and can switch to English', async () => {
    const p = await newPerson('zh', desktop, 'zh-CN')
    await p.page.goto('/login')
    await p.page.getByRole('heading', { name: '欢迎回来' }).waitFor()
    await p.page.getByTestId('locale-switch').click()
    await p.page.getByRole('option', { name: 'English' }).click()
    await p.page.getByRole('heading', { name: 'Welcome back' }).waitFor()
    await p.context.close()
  })
})
