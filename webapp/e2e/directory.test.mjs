// Browser test of issue 16's live directory: a public channel one person
// creates shows in another's sidebar without a reload, and its member count
// moves as people join and leave.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { api, startBrowser, startServer } from './harness.mjs'
import { newPerson as makePerson, openGeneral, password, register, seeTimeoutMs } from './people.mjs'

let server
let browser
const cspViolations = []

before(async () => {
  server = await startServer()
  browser = await startBrowser()
})

after(async () => {
  await browser?.close()
  await server?.stop()
  assert.deepEqual(cspViolations, [], 'the pages run under the Content-Security-Policy')
})

/** signup registers someone through the API and returns their access token. */
async function signup(username) {
  await api(server.base, 'chat.v1.AuthService/Register', { username, email: `${username}@example.com`, password })
  return (await api(server.base, 'chat.v1.AuthService/Login', { login: username, password })).accessToken
}

/** memberCount is the count a directory entry shows. */
function memberCount(p, name) {
  return p.page.locator(`.is-public[data-testid="room-${name}"] .room__count`)
}

describe('the room directory', () => {
  it('a new public channel and its member count reach another person live', async () => {
    const ann = await newPerson('dir_ann')
    const bo = await newPerson('dir_bo')
    await register(ann)
    await register(bo)
    await openGeneral(ann)
    await openGeneral(bo)
    // Opening #general marks it read, and a read marker refreshes the
    // counts once, 300 ms later (countsReloadDelayMs in stores/live.ts):
    // that list is not the directory's, so let it pass first.
    await bo.page.waitForTimeout(1000)
    // What Bo's app asks for from here: not the room list again.
    const lists = []
    bo.page.on('request', (r) => {
      if (r.url().endsWith('/chat.v1.RoomService/ListRooms')) lists.push(r.url())
    })

    await ann.page.getByTestId('new-room').click()
    await ann.page.locator('#room-name').fill('lounge')
    await ann.page.getByTestId('create-room-submit').click()
    await ann.page.getByTestId('room-title').filter({ hasText: 'lounge' }).waitFor({ timeout: seeTimeoutMs })

    // Bo never reloads: the channel appears under "discover", one member.
    const entry = bo.page.locator('.is-public[data-testid="room-lounge"]')
    await entry.waitFor({ timeout: seeTimeoutMs })
    await memberCount(bo, 'lounge').filter({ hasText: /^1$/ }).waitFor({ timeout: seeTimeoutMs })

    const roomId = await entry.getAttribute('data-room-id')
    const tokens = [await signup('dir_cy'), await signup('dir_di')]
    for (const token of tokens) await api(server.base, 'chat.v1.RoomService/JoinRoom', { roomId }, token)
    await memberCount(bo, 'lounge').filter({ hasText: /^3$/ }).waitFor({ timeout: seeTimeoutMs })
    await api(server.base, 'chat.v1.RoomService/LeaveRoom', { roomId }, tokens[0])
    await memberCount(bo, 'lounge').filter({ hasText: /^2$/ }).waitFor({ timeout: seeTimeoutMs })
    assert.deepEqual(lists, [], 'the directory moved by live events alone')
    await bo.context.close()
    await ann.context.close()
  })
})

function newPerson(name, opts) {
  return makePerson({ browser, server, cspViolations }, name, opts)
}
