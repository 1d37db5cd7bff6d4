import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf'
import { ServerFramesSchema, ServerFrameSchema, type Event } from '@/gen/chat/v1/event_pb'
import {
  batchProtocol,
  LiveSocket,
  liveProtocols,
  pingIntervalMs,
  pongTimeoutMs,
  type LiveOptions,
  type LiveStatus,
  type SocketLike,
} from './live'
import { backoffBaseMs, backoffDelay, backoffMaxMs } from './backoff'

type FrameInit = MessageInitShape<typeof ServerFrameSchema>

class FakeSocket implements SocketLike {
  readyState = 0
  protocol = ''
  binaryType: 'blob' | 'arraybuffer' = 'blob'
  sent: unknown[] = []
  closed = false
  onopen: ((ev: unknown) => void) | null = null
  onmessage: ((ev: { data: unknown }) => void) | null = null
  onclose: ((ev: unknown) => void) | null = null
  onerror: ((ev: unknown) => void) | null = null
  constructor(readonly protocols: string[]) {}
  send(data: string) {
    this.sent.push(JSON.parse(data))
  }
  close() {
    this.closed = true
    this.readyState = 3
  }
  /** open completes the handshake with the subprotocol the server chose ('' for none). */
  open(protocol = '') {
    this.protocol = protocol
    this.readyState = 1
    this.onopen?.({})
  }
  receive(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) })
  }
  /** receiveBatch is one binary message of the frames, as on batchProtocol. */
  receiveBatch(frames: FrameInit[]) {
    this.receiveBytes(toBinary(ServerFramesSchema, create(ServerFramesSchema, { frames })))
  }
  receiveBytes(bytes: Uint8Array) {
    if (this.binaryType !== 'arraybuffer') throw new Error('a browser would deliver a Blob')
    this.onmessage?.({ data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) })
  }
  serverClose() {
    this.readyState = 3
    this.onclose?.({})
  }
}

function harness(over: Partial<LiveOptions> = {}) {
  const sockets: FakeSocket[] = []
  const statuses: LiveStatus[] = []
  const events: unknown[] = []
  const opts: LiveOptions = {
    url: 'ws://x/ws',
    token: vi.fn(async () => 'tok1'),
    renewToken: vi.fn(async () => 'tok2'),
    cursors: () => [{ roomId: 1n, afterSeq: 42n }],
    onReady: vi.fn(),
    onEvent: (e) => events.push(e),
    onStatus: (s) => statuses.push(s),
    onSessionEnded: vi.fn(),
    openSocket: (_url, protocols) => {
      const s = new FakeSocket(protocols)
      sockets.push(s)
      return s
    },
    random: () => 0.5,
    ...over,
  }
  const live = new LiveSocket(opts)
  return { live, sockets, statuses, events, opts, last: () => sockets[sockets.length - 1] }
}

const ready = { ready: { user: { id: '1', username: 'me' }, roomIds: ['1'] } }

const readyInit: FrameInit = { kind: { case: 'ready', value: { user: { id: 1n, username: 'me' }, roomIds: [1n] } } }

function messageInit(seq: bigint): FrameInit {
  const message = { roomId: 1n, seq, body: `m${seq}` }
  return { kind: { case: 'event', value: { roomId: 1n, seq, kind: { case: 'messageCreated', value: { message } } } } }
}

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

describe('backoffDelay', () => {
  it('grows, caps and jitters', () => {
    expect(backoffDelay(0, () => 0)).toBe(backoffBaseMs / 2)
    expect(backoffDelay(0, () => 1)).toBe(backoffBaseMs)
    expect(backoffDelay(3, () => 1)).toBe(backoffBaseMs * 8)
    expect(backoffDelay(50, () => 1)).toBe(backoffMaxMs)
    expect(backoffDelay(50, () => 0)).toBe(backoffMaxMs / 2)
  })
})

describe('LiveSocket', () => {
  it('OK: auth first with the cursors to resume from, then ready and events', async () => {
    const h = harness()
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    h.last().open()
    expect(h.last().sent).toEqual([{ auth: { token: 'tok1', resume: [{ roomId: '1', afterSeq: '42' }] } }])
    h.last().receive(ready)
    expect(h.last().sent).toHaveLength(1)
    expect(h.opts.onReady).toHaveBeenCalledOnce()
    h.last().receive({ event: { roomId: '1', seq: '43', messageCreated: { message: { seq: '43', body: 'hi' } } } })
    expect(h.events).toHaveLength(1)
    expect(h.statuses.at(-1)).toBe('online')
  })

  it('typing is only sent once ready', async () => {
    const h = harness()
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    h.last().open()
    expect(h.live.sendTyping(1n)).toBe(false)
    h.last().receive(ready)
    expect(h.live.sendTyping(1n)).toBe(true)
    expect(h.last().sent.at(-1)).toEqual({ typing: { roomId: '1' } })
  })

  it('Drop: reconnects with growing backoff and resumes with fresh cursors', async () => {
    let cursor = 42n
    const h = harness({ cursors: () => [{ roomId: 1n, afterSeq: cursor }] })
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    h.last().open()
    h.last().serverClose()
    expect(h.statuses.at(-1)).toBe('waiting')
    await vi.advanceTimersByTimeAsync(backoffDelay(0, () => 0.5) - 1)
    expect(h.sockets).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(h.sockets).toHaveLength(2)
    h.last().serverClose() // fails again before opening
    await vi.advanceTimersByTimeAsync(backoffDelay(1, () => 0.5) - 1)
    expect(h.sockets).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(h.sockets).toHaveLength(3)
    cursor = 50n
    h.last().open()
    expect(h.last().sent[0]).toEqual({ auth: { token: 'tok1', resume: [{ roomId: '1', afterSeq: '50' }] } })
  })

  it('Reconnect frame: waits the server’s delay', async () => {
    const h = harness()
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    h.last().open()
    h.last().receive(ready)
    h.last().receive({ reconnect: { delayMs: '5000', reason: 'shutdown' } })
    h.last().serverClose()
    await vi.advanceTimersByTimeAsync(4999)
    expect(h.sockets).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(h.sockets).toHaveLength(2)
  })

  it('ErrUnauthenticated: renews the token and reconnects with it', async () => {
    const h = harness()
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    h.last().open()
    h.last().receive({ error: { code: 'unauthenticated', message: 'expired' } })
    h.last().serverClose()
    await vi.advanceTimersByTimeAsync(0)
    expect(h.opts.renewToken).toHaveBeenCalledWith('tok1')
    expect(h.sockets).toHaveLength(2)
  })

  it('ErrSessionEnded: stops when the token cannot be renewed', async () => {
    const h = harness({ renewToken: vi.fn(async () => null) })
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    h.last().open()
    h.last().receive({ error: { code: 'unauthenticated', message: 'revoked' } })
    h.last().serverClose()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(h.opts.onSessionEnded).toHaveBeenCalledOnce()
    expect(h.sockets).toHaveLength(1)
    expect(h.statuses.at(-1)).toBe('idle')
  })

  it('DeadConnection: no pong closes and reconnects', async () => {
    const h = harness()
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    h.last().open()
    h.last().receive(ready)
    await vi.advanceTimersByTimeAsync(pingIntervalMs)
    expect(h.last().sent.at(-1)).toEqual({ ping: {} })
    h.last().receive({ pong: {} })
    await vi.advanceTimersByTimeAsync(pingIntervalMs + pongTimeoutMs)
    expect(h.sockets[0].closed).toBe(true)
    expect(h.statuses.at(-1)).toBe('waiting')
  })

  it('Offline then online: drops at once, reconnects without waiting', async () => {
    const h = harness()
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    h.last().open()
    h.last().receive(ready)
    h.live.goOffline()
    expect(h.sockets[0].closed).toBe(true)
    h.live.reconnectNow()
    await vi.advanceTimersByTimeAsync(0)
    expect(h.sockets).toHaveLength(2)
  })

  it('stop: no reconnect after logout', async () => {
    const h = harness()
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    h.last().open()
    h.live.stop()
    await vi.advanceTimersByTimeAsync(120_000)
    expect(h.sockets).toHaveLength(1)
  })

  it('skips frames it cannot read', async () => {
    const h = harness()
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    h.last().open()
    h.last().onmessage?.({ data: '{not json' })
    h.last().receive({ somethingNew: {} })
    h.last().receive(ready)
    expect(h.opts.onReady).toHaveBeenCalledOnce()
  })
})

describe('LiveSocket on parley.v1.batch.proto', () => {
  it('OK: a batch with a Ready and three events is handled in order', async () => {
    const seen: unknown[] = []
    const h = harness({ onReady: () => seen.push('ready'), onEvent: (e: Event) => seen.push(e.seq) })
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(h.last().protocols).toEqual(liveProtocols)
    h.last().open(batchProtocol)
    expect(h.last().sent).toEqual([{ auth: { token: 'tok1', resume: [{ roomId: '1', afterSeq: '42' }] } }])
    h.last().receiveBatch([readyInit, messageInit(43n), messageInit(44n), messageInit(45n)])
    expect(seen).toEqual(['ready', 43n, 44n, 45n])
    expect(h.statuses.at(-1)).toBe('online')
    expect(h.live.sendTyping(1n)).toBe(true)
    expect(h.last().sent.at(-1)).toEqual({ typing: { roomId: '1' } })
  })

  it('a pong in a batch clears the pong timer', async () => {
    const h = harness()
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    h.last().open(batchProtocol)
    h.last().receiveBatch([readyInit])
    await vi.advanceTimersByTimeAsync(pingIntervalMs)
    expect(h.last().sent.at(-1)).toEqual({ ping: {} })
    h.last().receiveBatch([messageInit(43n), { kind: { case: 'pong', value: {} } }])
    await vi.advanceTimersByTimeAsync(pongTimeoutMs)
    expect(h.sockets).toHaveLength(1)
    expect(h.last().closed).toBe(false)
    expect(h.statuses.at(-1)).toBe('online')
    expect(h.events).toHaveLength(1)
  })

  it('skips a binary message it cannot decode', async () => {
    const h = harness()
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    h.last().open(batchProtocol)
    // Field 1 says 5 bytes follow; only 1 does.
    h.last().receiveBytes(new Uint8Array([0x0a, 0x05, 0x01]))
    h.last().receiveBatch([readyInit, messageInit(43n)])
    expect(h.opts.onReady).toHaveBeenCalledOnce()
    expect(h.events).toHaveLength(1)
    expect(h.last().closed).toBe(false)
  })

  it('stops reading a batch once a frame’s handler ends the connection', async () => {
    const h = harness({
      onEvent: (e: Event) => {
        h.events.push(e)
        h.live.stop()
      },
    })
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    h.last().open(batchProtocol)
    h.last().receiveBatch([readyInit, messageInit(43n), messageInit(44n)])
    expect(h.events).toHaveLength(1)
  })

  it.each(['', 'parley.v1.json'])('FallbackJSON: a server that chose %j speaks JSON text frames', async (protocol) => {
    const h = harness()
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    h.last().open(protocol)
    h.last().receive(ready)
    h.last().receive({ event: { roomId: '1', seq: '43', messageCreated: { message: { seq: '43', body: 'hi' } } } })
    expect(h.opts.onReady).toHaveBeenCalledOnce()
    expect(h.events).toHaveLength(1)
    expect(h.statuses.at(-1)).toBe('online')
  })
})
