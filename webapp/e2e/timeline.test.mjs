// Browser tests of issue 15's timeline and read state, as people see them:
// formatting, replies, reactions, edits and deletes, mentions, read state on
// two devices of one person, mute, notifications, drafts, the outbox across a
// reload, and what the app tells about a room that cannot be opened.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { api, startBrowser, startServer } from './harness.mjs'
import {
  bodyLocator,
  login,
  messageLocator,
  newPerson,
  openGeneral,
  openRoom,
  password,
  phone,
  register,
  savedOutbox,
  say,
  seeTimeoutMs,
  sees,
  waitOnline,
} from './people.mjs'

let server
let browser
const cspViolations = []
const people = {}
/** Access tokens of the people, for seeding through the API as a bot would. */
const tokens = {}
let generalId
let standupId

const cast = () => ({ browser, server, cspViolations })

async function token(name) {
  tokens[name] ??= (await api(server.base, 'chat.v1.AuthService/Login', { login: name, password })).accessToken
  return tokens[name]
}

let sent = 0
/** post sends a message through the API and returns it. */
async function post(name, roomId, body, extra = {}) {
  const req = { roomId, body, clientMsgId: `seed-${++sent}`, ...extra }
  return (await api(server.base, 'chat.v1.MessageService/SendMessage', req, await token(name))).message
}

/** hoverActions shows a message's actions, as a pointer over it does. */
async function action(p, text, name) {
  const row = messageLocator(p, text)
  await row.hover()
  await row.getByTestId(`action-${name}`).click()
}

function badge(p, room, kind = 'unread') {
  return p.page.getByTestId(`room-${room}`).getByTestId(kind)
}

/** inView says whether an element shows inside the message list's visible part. */
async function inView(p, locator) {
  const list = await p.page.getByTestId('message-list').boundingBox()
  const box = await locator.boundingBox()
  return !!box && !!list && box.y + box.height > list.y && box.y < list.y + list.height
}

/** closeDialogs closes what a failed test may have left open, so the next one starts on the page itself. */
async function closeDialogs(p) {
  for (let i = 0; i < 3 && (await p.page.locator('.el-overlay:visible').count()) > 0; i++) {
    await p.page.keyboard.press('Escape')
    await p.page.locator('.el-overlay:visible').first().waitFor({ state: 'hidden', timeout: 2_000 }).catch(() => {})
  }
}

/** hiddenTabs makes the context's pages report a hidden tab on demand, and records the notifications shown. */
async function hiddenTabs(context) {
  await context.addInitScript(() => {
    let hidden = false
    Object.defineProperty(document, 'visibilityState', { get: () => (hidden ? 'hidden' : 'visible') })
    Object.defineProperty(document, 'hidden', { get: () => hidden })
    window.setTabHidden = (h) => {
      hidden = h
      document.dispatchEvent(new Event('visibilitychange'))
    }
    window.shownNotifications = []
    const Real = window.Notification
    if (!Real) return
    window.Notification = class extends Real {
      constructor(title, options) {
        super(title, options)
        window.shownNotifications.push({ title, body: options?.body ?? '' })
      }
    }
  })
}

before(async () => {
  // The tests seed history through the API, faster than the per-user call limit allows.
  server = await startServer({ env: { PARLEY_LIMIT_CALLS: '100000/100s' }, name: 'timeline' })
  browser = await startBrowser()
  people.alice = await newPerson(cast(), 'alice')
  people.bob = await newPerson(cast(), 'bob')
  await register(people.alice)
  await register(people.bob)
  await openGeneral(people.alice)
  await openGeneral(people.bob)
  generalId = people.alice.page.url().split('/').pop()
})

after(async () => {
  await browser?.close()
  await server?.stop()
})

after(() => {
  assert.deepEqual(cspViolations, [], 'the app runs under its Content-Security-Policy without a single violation')
})

describe('the timeline', () => {
  it('formatting: the Markdown subset, links that open safely, long messages folded', async () => {
    const { alice: a, bob: b } = people
    await say(a, '**bold** _slanted_ ~~gone~~ `code` and https://example.com/docs')
    const body = messageLocator(b, 'slanted').getByTestId('message-body')
    await body.waitFor({ timeout: seeTimeoutMs })
    assert.equal(await body.locator('strong').textContent(), 'bold')
    assert.equal(await body.locator('em').textContent(), 'slanted')
    assert.equal(await body.locator('s').textContent(), 'gone')
    assert.equal(await body.locator('code').textContent(), 'code')
    const link = body.locator('a')
    assert.equal(await link.getAttribute('href'), 'https://example.com/docs')
    assert.equal(await link.getAttribute('target'), '_blank')
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer')

    const long = Array.from({ length: 30 }, (_, i) => `line ${i + 1} of a long report`).join('\n')
    await say(a, long)
    const row = messageLocator(b, 'line 30 of a long report')
    await row.waitFor({ timeout: seeTimeoutMs })
    const fold = row.getByTestId('fold')
    assert.equal(await fold.textContent().then((s) => s.trim()), 'Show more')
    const folded = await row.getByTestId('message-body').evaluate((el) => el.clientHeight < el.scrollHeight)
    assert.ok(folded, 'a long message is folded')
    await fold.click()
    assert.equal(await fold.textContent().then((s) => s.trim()), 'Show less')
  })

  it('reply: a bar above the composer, the quote in the message, a click on it jumps back to the original', async () => {
    const { alice: a, bob: b } = people
    await say(a, 'who takes the release notes?')
    await sees(b, 'who takes the release notes?')
    await action(b, 'who takes the release notes?', 'reply')
    const bar = b.page.getByTestId('reply-bar')
    await bar.filter({ hasText: 'who takes the release notes?' }).waitFor()
    await say(b, 'I will')
    await bar.waitFor({ state: 'detached' })
    for (const p of [a, b]) {
      const quote = messageLocator(p, 'I will').getByTestId('quote')
      await quote.filter({ hasText: 'who takes the release notes?' }).waitFor({ timeout: seeTimeoutMs })
    }

    // An answer to a message far back: the quote loads history until the original shows.
    const original = await post('alice', generalId, 'the original question, long ago')
    let last
    for (let i = 1; i <= 120; i++) last = await post('alice', generalId, `filler ${i}`)
    // Read up to here, so the room opens at the newest page (not back at an older watermark).
    await api(server.base, 'chat.v1.RoomService/MarkRead', { roomId: generalId, seq: last.seq }, await token('alice'))
    await post('bob', generalId, 'answering the old one', { replyToSeq: original.seq })
    await a.page.reload()
    await waitOnline(a)
    const quote = messageLocator(a, 'answering the old one').getByTestId('quote')
    await quote.waitFor({ timeout: seeTimeoutMs })
    assert.equal(await bodyLocator(a, 'the original question, long ago').count(), 0, 'the original is not loaded yet')
    await quote.click()
    const target = messageLocator(a, 'the original question, long ago')
    await target.waitFor({ timeout: seeTimeoutMs })
    await a.page.waitForFunction(
      (seq) => {
        const el = document.querySelector(`[data-testid="message"][data-seq="${seq}"]`)
        const list = document.querySelector('[data-testid="message-list"]').getBoundingClientRect()
        const r = el?.getBoundingClientRect()
        return r && r.bottom > list.top && r.top < list.bottom
      },
      String(original.seq),
      { timeout: seeTimeoutMs },
    )
    assert.ok(await inView(a, target), 'the original is scrolled into view')
  })

  it('reactions: the picker loads only when opened; counts, mine highlighted, a click toggles', async () => {
    const { alice: a, bob: b } = people
    const pickerRequests = []
    a.page.on('request', (r) => {
      if (/\/assets\/(EmojiPicker|database|data)-/.test(r.url())) pickerRequests.push(r.url())
    })
    await a.page.reload()
    await waitOnline(a)
    await say(b, 'react to this')
    await sees(a, 'react to this')
    assert.deepEqual(pickerRequests, [], 'the emoji picker is not part of the page until it is opened')
    await action(a, 'react to this', 'react')
    await a.page.getByTestId('emoji-search').fill('thumbs up')
    await a.page.getByTestId('emoji-option').filter({ hasText: '👍' }).first().click()
    assert.ok(pickerRequests.length > 0, 'the picker was loaded on demand')
    assert.ok(pickerRequests.every((u) => u.startsWith(server.base)), 'its code and data come from Parley itself')

    const reaction = (p) => messageLocator(p, 'react to this').locator('[data-testid="reaction"][data-emoji="👍"]')
    for (const [p, mine] of [
      [a, 'true'],
      [b, 'false'],
    ]) {
      await reaction(p).filter({ hasText: '1' }).waitFor({ timeout: seeTimeoutMs })
      assert.equal(await reaction(p).getAttribute('data-mine'), mine)
    }
    await reaction(b).click() // bob adds his too
    for (const p of [a, b]) await reaction(p).filter({ hasText: '2' }).waitFor({ timeout: seeTimeoutMs })
    assert.equal(await reaction(b).getAttribute('data-mine'), 'true')
    await reaction(a).click() // alice takes hers back
    for (const p of [a, b]) await reaction(p).filter({ hasText: '1' }).waitFor({ timeout: seeTimeoutMs })
    assert.equal(await reaction(a).getAttribute('data-mine'), 'false')
  })

  it('edit inline (Esc cancels, Enter saves), "(edited)" shows the history; copy; delete asks first and leaves a tombstone', async () => {
    const { alice: a, bob: b } = people
    await say(a, 'teh plan for today')
    await sees(b, 'teh plan for today')
    await action(a, 'teh plan for today', 'edit')
    await a.page.getByTestId('edit-box').fill('scrap that')
    await a.page.getByTestId('edit-box').press('Escape')
    await sees(a, 'teh plan for today')
    await action(a, 'teh plan for today', 'edit')
    await a.page.getByTestId('edit-box').fill('the plan for today')
    await a.page.getByTestId('edit-box').press('Enter')
    for (const p of [a, b]) {
      await sees(p, 'the plan for today')
      await messageLocator(p, 'the plan for today').getByTestId('edited').waitFor({ timeout: seeTimeoutMs })
    }
    await messageLocator(b, 'the plan for today').getByTestId('edited').click()
    await b.page.getByTestId('edit-history-item').filter({ hasText: 'teh plan for today' }).waitFor({ timeout: seeTimeoutMs })
    await b.page.keyboard.press('Escape')

    await a.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base })
    await action(a, 'the plan for today', 'copy')
    assert.equal(await a.page.evaluate(() => navigator.clipboard.readText()), 'the plan for today')

    assert.equal(await messageLocator(b, 'the plan for today').getByTestId('action-delete').count(), 0, 'bob may not delete alice’s message')
    await action(a, 'the plan for today', 'delete')
    await a.page.getByRole('button', { name: 'Cancel' }).click()
    await sees(a, 'the plan for today')
    await action(a, 'the plan for today', 'delete')
    await a.page.locator('.el-message-box').getByRole('button', { name: 'Delete' }).click()
    for (const p of [a, b]) {
      await p.page.locator('[data-testid="message-body"].is-tombstone', { hasText: 'message deleted' }).last().waitFor({ timeout: seeTimeoutMs })
      assert.equal(await bodyLocator(p, 'the plan for today').count(), 0)
    }
  })

  it('mentions: @ completes the room’s members; mentions are marked, mine stand out', async () => {
    const { alice: a, bob: b } = people
    await b.page.locator('#composer').fill('')
    await b.page.locator('#composer').pressSequentially('@al')
    await b.page.getByTestId('mention-option').filter({ hasText: 'alice' }).waitFor()
    await b.page.locator('#composer').press('Enter')
    assert.equal(await b.page.locator('#composer').inputValue(), '@alice ')
    await b.page.locator('#composer').pressSequentially('can you look?')
    await b.page.locator('#composer').press('Enter')
    const mention = (p) => messageLocator(p, 'can you look?').getByTestId('mention')
    await mention(a).waitFor({ timeout: seeTimeoutMs })
    await mention(b).waitFor({ timeout: seeTimeoutMs })
    assert.equal(await mention(a).textContent(), '@alice')
    assert.ok((await mention(a).getAttribute('class')).includes('is-me'), 'alice’s own name stands out for her')
    assert.ok(!(await mention(b).getAttribute('class')).includes('is-me'), 'for bob it is someone else’s')
    assert.ok((await messageLocator(a, 'can you look?').getAttribute('class')).includes('mentions-me'))
  })

  it('on a phone, a long press shows the actions', async () => {
    const m = await newPerson(cast(), 'bob', { viewport: phone, hasTouch: true, isMobile: true })
    await login(m)
    await waitOnline(m)
    await sees(m, 'can you look?')
    const row = messageLocator(m, 'can you look?')
    await row.dispatchEvent('touchstart', { touches: [], changedTouches: [] })
    await m.page.waitForTimeout(700)
    await row.dispatchEvent('touchend', { touches: [], changedTouches: [] })
    await row.getByTestId('action-reply').click()
    await m.page.getByTestId('reply-bar').waitFor()
    await m.context.close()
  })
})

describe('read state', () => {
  it('badges come from the server: after a reload and on a second device; reading on one clears the other', async () => {
    const { alice: a, bob: b } = people
    const room = await api(server.base, 'chat.v1.RoomService/CreateRoom', { name: 'standup', topic: 'Daily notes' }, await token('alice'))
    standupId = room.room.id
    await api(server.base, 'chat.v1.RoomService/JoinRoom', { roomId: standupId }, await token('bob'))
    await b.page.reload()
    await waitOnline(b)
    people.bob2 = await newPerson(cast(), 'bob')
    await login(people.bob2)
    await waitOnline(people.bob2)
    for (let i = 1; i <= 40; i++) await post('alice', standupId, i === 20 ? `note ${i} for @bob` : `note ${i}`)
    for (const p of [b, people.bob2]) {
      await badge(p, 'standup').filter({ hasText: '40' }).waitFor({ timeout: seeTimeoutMs })
      await badge(p, 'standup', 'mentions').filter({ hasText: '@1' }).waitFor({ timeout: seeTimeoutMs })
    }
    await b.page.reload()
    await waitOnline(b)
    await badge(b, 'standup').filter({ hasText: '40' }).waitFor({ timeout: seeTimeoutMs })

    // Opening the room lands at the divider, the first unread message in view.
    await openRoom(b, 'standup')
    const divider = b.page.getByTestId('unread-divider')
    await divider.waitFor({ timeout: seeTimeoutMs })
    assert.ok(await inView(b, divider), 'the room opens at the "new messages" divider')
    assert.ok(await inView(b, messageLocator(b, 'note 1')), 'the first unread message shows')
    assert.equal(await badge(people.bob2, 'standup').count() > 0, true, 'the other device still has unread ones')
    await b.page.getByTestId('message-list').evaluate((el) => (el.scrollTop = el.scrollHeight))
    await badge(people.bob2, 'standup').waitFor({ state: 'detached', timeout: seeTimeoutMs })
    await badge(people.bob2, 'standup', 'mentions').waitFor({ state: 'detached', timeout: seeTimeoutMs })
    await people.bob2.page.reload()
    await waitOnline(people.bob2)
    assert.equal(await badge(people.bob2, 'standup').count(), 0, 'read stays read after a reload')
    await openRoom(a, 'standup')
  })

  it('"seen by" shows under my latest message once others read it', async () => {
    const { alice: a, bob: b } = people
    await say(a, 'please read this one')
    await sees(b, 'please read this one')
    const seen = messageLocator(a, 'please read this one').getByTestId('seen-by')
    await seen.waitFor({ timeout: seeTimeoutMs })
    assert.match(await seen.getAttribute('title'), /bob/)
  })

  it('turning read receipts off hides them both ways', async (t) => {
    const { alice: a, bob: b } = people
    t.after(() => closeDialogs(b))
    await b.page.getByTestId('open-settings').click()
    const toggle = b.page.getByTestId('share-receipts')
    const state = toggle.locator('[role="switch"]')
    assert.equal(await state.getAttribute('aria-checked'), 'true')
    await toggle.click()
    await b.page.waitForFunction(() => document.querySelector('[data-testid="share-receipts"] [role="switch"]')?.getAttribute('aria-checked') === 'false')
    await b.page.getByTestId('page-back').click()
    await b.page.locator('#composer').waitFor({ timeout: seeTimeoutMs })
    await a.page.reload()
    await waitOnline(a)
    await sees(a, 'please read this one')
    await a.page.waitForTimeout(1_000)
    assert.equal(await messageLocator(a, 'please read this one').getByTestId('seen-by').count(), 0, 'alice no longer sees how far bob read')
    await say(b, 'bob writes too')
    await sees(a, 'bob writes too')
    await b.page.waitForTimeout(1_000)
    assert.equal(await messageLocator(b, 'bob writes too').getByTestId('seen-by').count(), 0, 'and bob sees nobody’s')
    await b.page.getByTestId('open-settings').click()
    await b.page.getByTestId('share-receipts').click()
    await b.page.getByTestId('page-back').click()
    await b.page.locator('#composer').waitFor({ timeout: seeTimeoutMs })
  })

  it('mute from the room menu: a quiet badge, kept after a reload', async () => {
    const { alice: a, bob: b } = people
    await openRoom(b, 'standup')
    await b.page.getByTestId('room-menu-button').click()
    await b.page.getByTestId('room-mute').click()
    await b.page.getByTestId('room-standup').getByTestId('muted').waitFor({ timeout: seeTimeoutMs })
    await openGeneral(b)
    await say(a, 'a quiet note')
    const quiet = b.page.getByTestId('room-standup').locator('[data-testid="unread"].is-quiet')
    await quiet.waitFor({ timeout: seeTimeoutMs })
    await b.page.reload()
    await waitOnline(b)
    await b.page.getByTestId('room-standup').getByTestId('muted').waitFor({ timeout: seeTimeoutMs })
    await quiet.waitFor({ timeout: seeTimeoutMs })
  })

  it('desktop notifications for a mention in a hidden tab, offered after the first mention, never for a muted room', async () => {
    const c = await newPerson(cast(), 'carol')
    await hiddenTabs(c.context)
    await register(c)
    await openGeneral(c)
    await post('alice', generalId, 'welcome @carol')
    await c.page.getByTestId('notify-offer').waitFor({ timeout: seeTimeoutMs })
    await c.context.grantPermissions(['notifications'], { origin: server.base })
    await c.page.evaluate(() => window.setTabHidden(true))
    await post('alice', generalId, '@carol are you there?')
    await c.page.waitForFunction(() => window.shownNotifications.length > 0, null, { timeout: seeTimeoutMs })
    const shown = await c.page.evaluate(() => window.shownNotifications)
    assert.deepEqual(shown, [{ title: '#general · alice', body: '@carol are you there?' }])

    await c.page.evaluate(() => window.setTabHidden(false))
    await c.page.getByTestId('room-menu-button').click()
    await c.page.getByTestId('room-mute').click()
    await c.page.getByTestId('room-general').getByTestId('muted').waitFor({ timeout: seeTimeoutMs })
    await c.page.evaluate(() => window.setTabHidden(true))
    await post('alice', generalId, '@carol once more')
    await sees(c, '@carol once more')
    await c.page.waitForTimeout(500)
    assert.equal(await c.page.evaluate(() => window.shownNotifications.length), 1, 'a muted room raises none')
    await c.context.close()
  })
})

describe('around the composer', () => {
  it('jump to latest: a button with a count when scrolled up and new messages arrive', async () => {
    const { alice: a, bob: b } = people
    await openGeneral(a)
    await openGeneral(b)
    await b.page.getByTestId('message-list').evaluate((el) => (el.scrollTop = 0))
    await b.page.getByTestId('jump-latest').waitFor()
    await say(a, 'news 1')
    await say(a, 'news 2')
    await b.page.getByTestId('jump-latest-count').filter({ hasText: '2 new' }).waitFor({ timeout: seeTimeoutMs })
    await b.page.getByTestId('jump-latest').click()
    await b.page.getByTestId('jump-latest').waitFor({ state: 'detached' })
    assert.ok(await inView(b, messageLocator(b, 'news 2')))
  })

  it('new messages are announced to screen readers', async () => {
    const { alice: a, bob: b } = people
    await say(a, 'announce me')
    await b.page.getByTestId('announcer').filter({ hasText: 'announce me' }).waitFor({ timeout: seeTimeoutMs })
    assert.equal(await b.page.getByTestId('announcer').getAttribute('aria-live'), 'polite')
  })

  it('each room keeps its draft across room switches and reloads', async () => {
    const { bob: b } = people
    await b.page.locator('#composer').fill('half-written thought')
    await openRoom(b, 'standup')
    assert.equal(await b.page.locator('#composer').inputValue(), '')
    await openGeneral(b)
    assert.equal(await b.page.locator('#composer').inputValue(), 'half-written thought')
    await b.page.reload()
    await waitOnline(b)
    assert.equal(await b.page.locator('#composer').inputValue(), 'half-written thought')
    await b.page.locator('#composer').fill('')
  })

  it('typing shows again right after a send', async () => {
    const { alice: a, bob: b } = people
    await b.page.locator('#composer').pressSequentially('quick one')
    await b.page.locator('#composer').press('Enter')
    await sees(a, 'quick one')
    const typing = b.page.locator('#composer').pressSequentially('and a follow-up', { delay: 200 })
    await a.page.getByTestId('typing').filter({ hasText: 'bob' }).waitFor({ timeout: 4_500 })
    await typing
    await b.page.locator('#composer').fill('')
  })

  it('a message typed while the server is out of reach survives a reload and is sent once, with the same id', async () => {
    const { alice: a, bob: b } = people
    const ids = []
    const sendUrl = '**/chat.v1.MessageService/SendMessage'
    await b.page.route(sendUrl, (route) => {
      ids.push(JSON.parse(route.request().postData()).clientMsgId)
      void route.abort('internetdisconnected')
    })
    await say(b, 'kept across a reload')
    await b.page.getByTestId('pending-message').filter({ hasText: 'kept across a reload' }).waitFor()
    for (let i = 0; !(await savedOutbox(b.page)).some((o) => o.body === 'kept across a reload'); i++) {
      assert.ok(i < 100, 'the message is kept in IndexedDB')
      await b.page.waitForTimeout(50)
    }
    await b.page.reload()
    await b.page.getByTestId('pending-message').filter({ hasText: 'kept across a reload' }).waitFor({ timeout: seeTimeoutMs })
    await b.page.unroute(sendUrl)
    const delivered = []
    b.page.on('request', (r) => {
      if (r.url().endsWith('/chat.v1.MessageService/SendMessage')) delivered.push(JSON.parse(r.postData()).clientMsgId)
    })
    await b.page.getByTestId('pending-message').waitFor({ state: 'detached', timeout: seeTimeoutMs * 2 })
    await sees(a, 'kept across a reload')
    await a.page.waitForTimeout(500)
    assert.equal(await bodyLocator(a, 'kept across a reload').count(), 1, 'sent once')
    assert.ok(ids.length > 0)
    assert.deepEqual([...new Set([...ids, ...delivered])], [ids[0]], 'every attempt, before and after the reload, had the same client_msg_id')
  })
})

describe('the room and the people in it', () => {
  it('a room address that cannot be opened says so instead of landing elsewhere', async () => {
    const { bob: b } = people
    const secret = await api(server.base, 'chat.v1.RoomService/CreateRoom', { name: 'secret', visibility: 'VISIBILITY_PRIVATE' }, await token('alice'))
    for (const id of [secret.room.id, '999999']) {
      await b.page.goto(`/chat/${id}`)
      await b.page.getByTestId('room-missing').filter({ hasText: 'This room does not exist or you have no access.' }).waitFor({ timeout: seeTimeoutMs })
      assert.ok(b.page.url().endsWith(`/chat/${id}`), 'the address stays')
    }
    await b.page.goto(`/chat/${generalId}`)
    await waitOnline(b)
  })

  it('my own status shows offline while disconnected', async () => {
    const { bob: b } = people
    const me = b.page.getByTestId('me-status')
    assert.equal(await me.getAttribute('data-online'), 'true')
    await b.context.setOffline(true)
    await b.page.locator('[data-testid="me-status"][data-online="false"]').waitFor({ timeout: seeTimeoutMs })
    await b.context.setOffline(false)
    await b.page.locator('[data-testid="me-status"][data-online="true"]').waitFor({ timeout: seeTimeoutMs })
  })

  it('offline members are readable: contrast of at least 4.5:1', async () => {
    const { alice: a } = people
    await openGeneral(a)
    // Someone in the room who never opened the app.
    await api(server.base, 'chat.v1.AuthService/Register', { username: 'dora', email: 'dora@example.com', password })
    await api(server.base, 'chat.v1.RoomService/JoinRoom', { roomId: generalId }, await token('dora'))
    const offline = a.page.locator('[data-testid="member"][data-username="dora"][data-online="false"]')
    await offline.waitFor({ timeout: seeTimeoutMs })
    const ratio = await offline.evaluate((el) => {
      const rgb = (c) => c.match(/[\d.]+/g).slice(0, 3).map(Number)
      const lum = ([r, g, b]) => {
        const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b)
      }
      let bg = el
      while (bg && getComputedStyle(bg).backgroundColor.match(/[\d.]+/g)?.[3] === '0') bg = bg.parentElement
      const name = el.querySelector('bdi')
      const opacity = Number(getComputedStyle(el).opacity)
      const [fg, back] = [lum(rgb(getComputedStyle(name).color)), lum(rgb(getComputedStyle(bg).backgroundColor))]
      return opacity < 1 ? 0 : (Math.max(fg, back) + 0.05) / (Math.min(fg, back) + 0.05)
    })
    assert.ok(ratio >= 4.5, `contrast ${ratio.toFixed(2)} ≥ 4.5`)
  })

  it('times have no leading zero and the full date on hover', async () => {
    const { alice: a } = people
    const time = a.page.getByTestId('message-time').last()
    const text = (await time.textContent()).trim()
    assert.match(text, /^[1-9]\d?:\d\d/, `"${text}" has no leading zero`)
    assert.match(await time.getAttribute('title'), new RegExp(String(new Date().getUTCFullYear())))
  })

  it('the timeline in Chinese', async () => {
    const z = await newPerson(cast(), 'bob', { locale: 'zh-CN' })
    await login(z)
    await waitOnline(z)
    await openRoom(z, 'general')
    await z.page.locator('[data-testid="message-body"].is-tombstone', { hasText: '消息已删除' }).first().waitFor({ timeout: seeTimeoutMs })
    await z.page.getByTestId('room-menu-button').click()
    await z.page.getByText('静音聊天室').or(z.page.getByText('取消静音')).first().waitFor()
    await z.context.close()
  })
})
