// Browser tests of issue 16's people features: two users become friends,
// write to each other in a direct room, one blocks the other, settings
// persist, a device is logged out from another one; in both languages.
import { after, afterEach, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { mkdirSync } from 'node:fs'
import { api, serverLacks, serverSays, startBrowser, startServer, webappDir } from './harness.mjs'
import { login, newPerson as makePerson, openGeneral, password, phone, register, say, seeTimeoutMs, sees, waitOnline } from './people.mjs'

const shots = path.join(webappDir, 'screenshots')
let server
let browser
const people = {}
const cspViolations = []

function newPerson(name, opts) {
  return makePerson({ browser, server, cspViolations }, name, opts)
}

/** clickName opens the user card of a message's sender. */
async function clickName(p, sender) {
  await p.page.locator(`[data-testid="message"][data-sender="${sender}"] [data-testid="message-sender"]`).first().click()
  await p.page.locator(`[data-testid="user-card"] [data-username="${sender}"]`).waitFor({ timeout: seeTimeoutMs })
}

/** toast waits for an Element Plus message with this text. */
async function toast(p, text) {
  await p.page.locator('.el-message', { hasText: text }).first().waitFor({ timeout: seeTimeoutMs })
}

/** closeDialogs closes what a failed test may have left open, so the next one starts on the page itself. */
async function closeDialogs(p) {
  for (let i = 0; i < 3 && (await p.page.locator('.el-overlay:visible').count()) > 0; i++) {
    await p.page.keyboard.press('Escape')
    await p.page.locator('.el-overlay:visible').first().waitFor({ state: 'hidden', timeout: 2_000 }).catch(() => {})
  }
}

afterEach(async () => {
  for (const p of Object.values(people)) await closeDialogs(p)
})

async function closeCard(p) {
  await p.page.keyboard.press('Escape')
  await p.page.locator('[data-testid="user-card"]').waitFor({ state: 'hidden', timeout: seeTimeoutMs })
}

/** The server calls each test needs; a test whose calls are not built yet is skipped, saying which. */
const friendsRpc = 'chat.v1.FriendService/ListFriends'
const searchRpc = 'chat.v1.UserService/SearchUsers'
const profileRpc = 'chat.v1.UserService/UpdateProfile'
const openRpc = 'chat.v1.RoomService/OpenDirect'
const updateRpc = 'chat.v1.RoomService/UpdateRoom'
const sessionsRpc = 'chat.v1.AuthService/ListSessions'
let lacking = new Set()

/** needs skips the test when the server lacks one of the calls. */
function needs(t, ...rpcs) {
  const missing = rpcs.filter((r) => lacking.has(r))
  if (missing.length === 0) return false
  t.skip(`the server does not implement ${missing.join(', ')} yet`)
  return true
}

before(async () => {
  server = await startServer({ env: { PARLEY_LIMIT_SEND: '100000/100s' } })
  browser = await startBrowser()
  lacking = await serverLacks(server.base, {
    [friendsRpc]: {},
    [searchRpc]: { query: 'zz' },
    [profileRpc]: {},
    [openRpc]: { usernames: ['nobody_here'] },
    [updateRpc]: { roomId: 1 },
    [sessionsRpc]: {},
  })
})

after(async () => {
  await browser?.close()
  await server?.stop()
})

after(() => {
  assert.deepEqual(cspViolations, [], 'the people pages run under the Content-Security-Policy')
})

describe('friends, direct messages and blocking', () => {
  it('two people meet in #general', async () => {
    people.ann = await newPerson('ann')
    people.bo = await newPerson('bo_lee')
    await register(people.ann)
    await register(people.bo)
    await openGeneral(people.ann)
    await openGeneral(people.bo)
    await say(people.bo, 'hello from bo')
    await sees(people.ann, 'hello from bo')
  })

  it('a friend request from the user card arrives at once and is accepted', async (t) => {
    if (needs(t, friendsRpc)) return
    const { ann, bo } = people
    await clickName(ann, 'bo_lee')
    await ann.page.getByTestId('card-add-friend').click()
    await toast(ann, 'Friend request sent')
    await ann.page.getByTestId('card-requested').waitFor({ timeout: seeTimeoutMs })
    await closeCard(ann)
    // Bo sees the request live, without a reload.
    await bo.page.getByTestId('friend-requests-badge').waitFor({ timeout: seeTimeoutMs })
    await bo.page.getByTestId('open-friends').click()
    await bo.page.locator('[data-testid="incoming"][data-username="ann"] [data-testid="accept"]').click()
    await bo.page.locator('[data-testid="friend"][data-username="ann"][data-online="true"]').waitFor({ timeout: seeTimeoutMs })
    // And Ann's list has Bo, online, also live.
    await ann.page.getByTestId('open-friends').click()
    await ann.page.locator('[data-testid="friend"][data-username="bo_lee"][data-online="true"]').waitFor({ timeout: seeTimeoutMs })
  })

  it('a direct message found by search reaches the other live, both ways', async (t) => {
    if (needs(t, searchRpc, openRpc)) return
    const { ann, bo } = people
    await ann.page.getByTestId('new-message').click()
    await ann.page.locator('#dm-search').fill('bo')
    await ann.page.locator('[data-testid="dm-result"][data-username="bo_lee"]').click()
    await ann.page.getByTestId('dm-open').click()
    await ann.page.getByTestId('room-title').filter({ hasText: 'bo_lee' }).waitFor({ timeout: seeTimeoutMs })
    await say(ann, 'just between us')
    await sees(ann, 'just between us')
    // Bo's sidebar gets the conversation, named by Ann, with an unread badge.
    const dm = bo.page.locator('[data-testid="dm-room"][data-title="ann"]')
    await dm.getByTestId('unread').waitFor({ timeout: seeTimeoutMs })
    await dm.click()
    await sees(bo, 'just between us')
    await say(bo, 'sure thing')
    await sees(ann, 'sure thing')
    await clickName(bo, 'ann')
    mkdirSync(shots, { recursive: true })
    await bo.page.mouse.move(0, 0)
    await bo.page.screenshot({ path: path.join(shots, 'direct-desktop.png') })
    await closeCard(bo)
    // A direct room has no "leave", only "hide"; hidden, it comes back with the next message.
    await bo.page.getByTestId('room-menu-button').click()
    await bo.page.getByTestId('room-hide').waitFor({ state: 'visible' })
    assert.equal(await bo.page.getByTestId('room-leave').count(), 0)
    await bo.page.getByTestId('room-hide').click()
    await dm.waitFor({ state: 'detached', timeout: seeTimeoutMs })
    await say(ann, 'are you there?')
    await dm.getByTestId('unread').waitFor({ timeout: seeTimeoutMs })
  })

  it('a group conversation of three is named by the others, for each of them', async (t) => {
    if (needs(t, searchRpc, openRpc)) return
    const { ann, bo } = people
    people.cy = await newPerson('cy_group')
    await register(people.cy)
    await ann.page.getByTestId('new-message').click()
    for (const [q, name] of [['bo', 'bo_lee'], ['cy', 'cy_group']]) {
      await ann.page.locator('#dm-search').fill(q)
      await ann.page.locator(`[data-testid="dm-result"][data-username="${name}"]`).click()
    }
    await ann.page.getByTestId('dm-open').click()
    await ann.page.getByTestId('room-title').filter({ hasText: 'bo_lee and cy_group' }).waitFor({ timeout: seeTimeoutMs })
    await say(ann, 'hello both')
    await bo.page.locator('[data-testid="dm-room"][data-title="ann and cy_group"]').getByTestId('unread').waitFor({ timeout: seeTimeoutMs })
    await people.cy.page.locator('[data-testid="dm-room"][data-title="ann and bo_lee"]').click()
    await sees(people.cy, 'hello both')
  })

  it('blocking: the blocked one can no longer write, and their messages fold', async (t) => {
    if (needs(t, friendsRpc, openRpc)) return
    const { ann, bo } = people
    await openGeneral(bo)
    await openGeneral(ann)
    await say(ann, 'ann in general')
    await sees(bo, 'ann in general')
    await clickName(bo, 'ann')
    await bo.page.getByTestId('card-block').click()
    await bo.page.locator('.el-message-box').getByRole('button', { name: 'Block' }).click()
    await bo.page.getByTestId('card-unblock').waitFor({ timeout: seeTimeoutMs })
    await closeCard(bo)
    // Ann's messages in a shared room fold at Bo's, and open on a click.
    await bo.page.getByTestId('blocked-fold').filter({ hasText: 'message from a blocked user' }).first().waitFor({ timeout: seeTimeoutMs })
    await say(ann, 'ann again')
    await sees(ann, 'ann again')
    await bo.page.waitForFunction(() => document.querySelectorAll('[data-testid="blocked-fold"]').length >= 1)
    await bo.page.getByTestId('blocked-fold').last().click()
    await sees(bo, 'ann again')
    // Ann is told what a policy would say, nothing about a block.
    await clickName(ann, 'bo_lee')
    await ann.page.getByTestId('card-message').click()
    await toast(ann, 'This user does not accept messages from you')
    await closeCard(ann)
    // The friendship ended with the block.
    await ann.page.getByTestId('open-friends').click()
    await ann.page.locator('[data-testid="friend"][data-username="bo_lee"]').waitFor({ state: 'detached', timeout: seeTimeoutMs })
    // Bo's blocked list has Ann; unblocking takes her off it.
    await bo.page.getByTestId('open-friends').click()
    await bo.page.locator('[data-testid="blocked"][data-username="ann"] [data-testid="unblock"]').click()
    await bo.page.locator('[data-testid="blocked"][data-username="ann"]').waitFor({ state: 'detached', timeout: seeTimeoutMs })
  })
})

describe('channels', () => {
  it('a private room: marked in its header; invite, rename live, leave', async (t) => {
    if (needs(t, updateRpc)) return
    const { ann, bo } = people
    await openGeneral(ann)
    await openGeneral(bo)
    await ann.page.getByTestId('new-room').click()
    await ann.page.locator('#room-name').fill('secret')
    await ann.page.getByText('Private', { exact: true }).click()
    await ann.page.getByTestId('create-room-submit').click()
    await ann.page.getByTestId('room-title').filter({ hasText: 'secret' }).waitFor({ timeout: seeTimeoutMs })
    await ann.page.getByTestId('room-private').waitFor()
    await ann.page.getByTestId('room-menu-button').click()
    await ann.page.getByTestId('room-invite').click()
    await ann.page.locator('#invite-username').fill('bo_lee')
    await ann.page.getByTestId('invite-submit').click()
    await toast(ann, 'was added')
    await ann.page.keyboard.press('Escape')
    // Bo has the room at once, and sees its new name and topic as Ann edits them.
    await bo.page.getByTestId('room-secret').click()
    await bo.page.getByTestId('room-private').waitFor({ timeout: seeTimeoutMs })
    await ann.page.getByTestId('room-menu-button').click()
    await ann.page.getByTestId('room-edit').click()
    await ann.page.locator('#edit-room-name').fill('hideout')
    await ann.page.locator('#edit-room-topic').fill('plans go here')
    await ann.page.getByTestId('edit-room-submit').click()
    await bo.page.getByTestId('room-title').filter({ hasText: 'hideout' }).waitFor({ timeout: seeTimeoutMs })
    await bo.page.getByTestId('room-topic').filter({ hasText: 'plans go here' }).waitFor()
    await bo.page.getByTestId('room-hideout').waitFor()
    // Bo leaves (after a confirm), and the private room is gone from his list.
    await bo.page.getByTestId('room-menu-button').click()
    await bo.page.getByTestId('room-leave').click()
    await bo.page.locator('.el-message-box').getByRole('button', { name: 'Leave room' }).click()
    await bo.page.getByTestId('room-hideout').waitFor({ state: 'detached', timeout: seeTimeoutMs })
  })

  it('a taken room name is said on the name field', async (t) => {
    const { ann } = people
    const { accessToken } = await api(server.base, 'chat.v1.AuthService/Login', { login: 'ann', password })
    const said = await serverSays(server.base, 'chat.v1.RoomService/CreateRoom', { name: 'general', visibility: 'VISIBILITY_PUBLIC' }, accessToken)
    if (said !== 'a room with that name exists') return t.skip(`the server says "${said}" for a taken room name, not the sentence yet`)
    await ann.page.getByTestId('new-room').click()
    await ann.page.locator('#room-name').fill('general')
    await ann.page.getByTestId('create-room-submit').click()
    const field = ann.page.locator('[data-testid="create-room-dialog"] .el-form-item', { has: ann.page.locator('#room-name') })
    await field.getByText('A room with that name exists').waitFor({ timeout: seeTimeoutMs })
  })
})

describe('settings', () => {
  it('profile and privacy persist after a reload', async (t) => {
    if (needs(t, profileRpc)) return
    const { ann } = people
    await ann.page.goto('/settings')
    await ann.page.locator('#display-name').fill('Ann Lee')
    await ann.page.locator('#status-text').fill('writing tests')
    await ann.page.getByTestId('save-profile').click()
    await toast(ann, 'Saved')
    await ann.page.getByTestId('dm-policy-friends').click()
    await ann.page.waitForFunction(() => document.querySelector('[data-testid="dm-policy-friends"]')?.classList.contains('is-active'))
    await ann.page.reload()
    await waitOnline(ann)
    assert.equal(await ann.page.locator('#display-name').inputValue(), 'Ann Lee')
    assert.equal(await ann.page.locator('#status-text').inputValue(), 'writing tests')
    await ann.page.waitForFunction(() => document.querySelector('[data-testid="dm-policy-friends"]')?.classList.contains('is-active'))
    await ann.page.getByTestId('me').filter({ hasText: 'Ann Lee' }).waitFor()
  })

  it('a device logged out from another one goes to the login page at once', async (t) => {
    if (needs(t, sessionsRpc)) return
    const { ann } = people
    const other = await newPerson('ann', { viewport: phone })
    await login(other)
    await waitOnline(other)
    await ann.page.goto('/settings')
    const others = ann.page.locator('[data-testid="session"][data-current="false"]')
    await others.first().waitFor({ timeout: seeTimeoutMs })
    assert.equal(await ann.page.locator('[data-testid="session"][data-current="true"]').count(), 1, 'this device is marked')
    const before = await others.count()
    await others.first().getByTestId('session-revoke').click()
    await ann.page.waitForFunction((n) => document.querySelectorAll('[data-testid="session"][data-current="false"]').length === n - 1, before)
    await other.page.waitForURL(/\/login/, { timeout: seeTimeoutMs })
    await other.context.close()
  })

  it('the pages in Chinese, on a phone: reached from the rooms drawer', async () => {
    const zh = await newPerson('ann', { viewport: phone, locale: 'zh-CN' })
    await login(zh)
    await zh.page.getByTestId('open-rooms').click()
    await zh.page.getByTestId('open-settings').click()
    await zh.page.getByTestId('page-title').filter({ hasText: '设置' }).waitFor()
    await zh.page.getByText('谁可以给你发消息').waitFor()
    await zh.page.locator('.drawer-rooms').waitFor({ state: 'hidden' })
    await zh.page.mouse.move(0, 0)
    await zh.page.screenshot({ path: path.join(shots, 'settings-phone-zh.png') })
    await zh.page.getByTestId('open-rooms').click()
    await zh.page.getByTestId('open-friends').click()
    await zh.page.getByTestId('page-title').filter({ hasText: '好友' }).waitFor()
    await zh.page.getByText('你的好友').waitFor()
    await zh.context.close()
  })
})
