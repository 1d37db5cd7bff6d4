// Browser tests of issue 17's attachments and search, as people see them: an
// image pasted into the composer and opened in the lightbox, a file dropped in
// and downloaded by another member, a voice message recorded from Chromium's
// fake microphone and played back, and a Chinese search whose hit opens the
// room at the message. Each skips, saying why, on a server without uploads or
// search.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { api, fakeMicrophone, serverLacks, serverLacksUploads, startBrowser, startServer } from './harness.mjs'
import { desktop, newPerson as makePerson, openGeneral, password, phone, register, say, seeTimeoutMs, sees } from './people.mjs'

let server
let browser
const cspViolations = []
const people = {}
let noUploads = ''
let noSearch = ''

const searchRpc = 'chat.v1.MessageService/SearchMessages'
/** A 2×2 PNG, red, green, blue and white. */
const png = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEklEQVR4nGP4z8DAAMIM/4EAAB/uBfsL2WiLAAAAAElFTkSuQmCC',
  'base64',
)

function newPerson(name, opts) {
  return makePerson({ browser, server, cspViolations }, name, opts)
}

async function token(name) {
  return (await api(server.base, 'chat.v1.AuthService/Login', { login: name, password })).accessToken
}

/** composerHasReady waits until the composer's attachments are all stored. */
async function uploaded(p, n) {
  await p.page.locator('[data-testid="pending-attachment"][data-state="done"]').nth(n - 1).waitFor({ timeout: seeTimeoutMs })
}

/** lastMessage is the newest stored message row. */
function lastMessage(p) {
  return p.page.locator('[data-testid="message"]').last()
}

before(async () => {
  server = await startServer({ env: { PARLEY_LIMIT_SEND: '100000/100s' } })
  browser = await startBrowser(fakeMicrophone)
  people.ann = await newPerson('ann_media')
  people.bo = await newPerson('bo_media')
  await register(people.ann)
  await register(people.bo)
  await openGeneral(people.ann)
  await openGeneral(people.bo)
  noUploads = await serverLacksUploads(server.base, await token('ann_media'))
  noSearch = (await serverLacks(server.base, { [searchRpc]: { query: 'zz' } })).has(searchRpc) ? `the server does not implement ${searchRpc} yet` : ''
})

after(async () => {
  await browser?.close()
  await server?.stop()
})

after(() => {
  assert.deepEqual(cspViolations, [], 'the pages run under the Content-Security-Policy')
})

describe('attachments and search', () => {
  it('an image pasted into the composer is previewed, sent, and opens in a lightbox on a phone', async (t) => {
    if (noUploads) return t.skip(noUploads)
    const { ann, bo } = people
    await ann.page.locator('#composer').focus()
    await ann.page.evaluate((bytes) => {
      const dt = new DataTransfer()
      dt.items.add(new File([new Uint8Array(bytes)], 'image.png', { type: 'image/png' }))
      document.querySelector('#composer').dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }))
    }, [...png])
    await ann.page.getByTestId('pending-preview').waitFor({ timeout: seeTimeoutMs })
    await uploaded(ann, 1)
    await say(ann, 'a tiny picture')
    await ann.page.getByTestId('attachment-tray').waitFor({ state: 'detached', timeout: seeTimeoutMs })

    await sees(bo, 'a tiny picture')
    await bo.page.setViewportSize(phone)
    const img = lastMessage(bo).getByTestId('attachment-image').locator('img')
    await img.waitFor({ timeout: seeTimeoutMs })
    await bo.page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle(), { timeout: seeTimeoutMs })
    await lastMessage(bo).getByTestId('attachment-image').click()
    const full = bo.page.locator('.el-image-viewer__img')
    await full.waitFor({ timeout: seeTimeoutMs })
    await bo.page.waitForFunction((el) => el.complete && el.naturalWidth === 2, await full.elementHandle(), { timeout: seeTimeoutMs })
    const box = await full.boundingBox()
    assert.ok(box && box.x >= 0 && box.x + box.width <= phone.width, 'the full image fits the phone screen')
    await bo.page.locator('.el-image-viewer__close').click()
    await full.waitFor({ state: 'detached', timeout: seeTimeoutMs })
    await bo.page.setViewportSize(desktop)
  })

  it('a file attached with the button is a card the other member downloads', async (t) => {
    if (noUploads) return t.skip(noUploads)
    const { ann, bo } = people
    const text = '季度报告 quarterly report\n'.repeat(200)
    await ann.page.getByTestId('attach-input').setInputFiles({ name: '报告.txt', mimeType: 'text/plain', buffer: Buffer.from(text) })
    await uploaded(ann, 1)
    await ann.page.getByTestId('send').click()

    const card = bo.page.locator('[data-testid="attachment-file"]', { hasText: '报告.txt' }).last()
    await card.waitFor({ timeout: seeTimeoutMs })
    assert.match(await card.getByTestId('attachment-size').textContent(), /^\d+(\.\d)? KB · TXT$/)
    const [download] = await Promise.all([bo.page.waitForEvent('download', { timeout: seeTimeoutMs }), card.getByTestId('attachment-download').click()])
    const chunks = []
    for await (const c of await download.createReadStream()) chunks.push(c)
    assert.equal(Buffer.concat(chunks).toString(), text)
  })

  it('a voice message recorded from the microphone plays back for the other member', async (t) => {
    if (noUploads) return t.skip(noUploads)
    const { ann, bo } = people
    await ann.page.getByTestId('record').click()
    await ann.page.getByTestId('recording-time').filter({ hasText: '0:02' }).waitFor({ timeout: seeTimeoutMs })
    await ann.page.getByTestId('recording-stop').click()
    await uploaded(ann, 1)
    await ann.page.getByTestId('send').click()

    const voice = bo.page.getByTestId('voice').last()
    await voice.waitFor({ timeout: seeTimeoutMs })
    assert.match(await voice.getByTestId('voice-time').textContent(), /^0:00 \/ 0:0[23]$/)
    const bars = await voice.locator('.voice__bar').evaluateAll((els) => els.map((e) => parseFloat(e.style.height)))
    assert.equal(bars.length, 64)
    assert.ok(bars.some((h) => h > 50), 'the fake tone shows in the waveform')
    await voice.getByTestId('voice-toggle').click()
    await bo.page.locator('[data-testid="voice"][data-playing="true"]').waitFor({ timeout: seeTimeoutMs })
    await bo.page.waitForFunction(() => {
      const a = [...document.querySelectorAll('[data-testid="voice-audio"]')].at(-1)
      return a && (a.currentTime > 0.2 || a.ended)
    }, null, { timeout: seeTimeoutMs })
    // Seeking: a click at the middle of the waveform moves playback there.
    const seek = voice.getByTestId('voice-seek')
    const b = await seek.boundingBox()
    await seek.click({ position: { x: b.width * 0.9, y: b.height / 2 } })
    await bo.page.waitForFunction(() => Number(document.querySelectorAll('[data-testid="voice-seek"]')[document.querySelectorAll('[data-testid="voice-seek"]').length - 1].dataset.progress) > 0.8, null, { timeout: seeTimeoutMs })
  })

  it('a Chinese search finds the message and opens the room at it', async (t) => {
    if (noSearch) return t.skip(noSearch)
    const { ann } = people
    const bo = people.bo
    const tok = await token('ann_media')
    const general = (await api(server.base, 'chat.v1.RoomService/ListRooms', {}, tok)).rooms.find((r) => r.name === 'general')
    const post = (body, i) => api(server.base, 'chat.v1.MessageService/SendMessage', { roomId: general.id, body, clientMsgId: `media-${i}` }, tok)
    await post('我们说你好吧，然后开始部署', 0)
    for (let i = 1; i <= 80; i++) await post(`filler message ${i}`, i)
    await sees(bo, 'filler message 80')

    await bo.page.keyboard.press('Control+k')
    await bo.page.getByTestId('search-input').fill('你好')
    const hit = bo.page.getByTestId('search-hit').first()
    await hit.waitFor({ timeout: seeTimeoutMs })
    assert.equal(await hit.getByTestId('search-mark').first().textContent(), '你好')
    await hit.click()
    const row = bo.page.locator('[data-testid="message"].is-highlighted', { hasText: '我们说你好吧' })
    await row.waitFor({ timeout: seeTimeoutMs })
    assert.ok(await row.isVisible())
    await say(ann, 'after the search')
    await sees(bo, 'after the search')
  })
})
