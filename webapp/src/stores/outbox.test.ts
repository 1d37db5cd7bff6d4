import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { create, toBinary } from '@bufbuild/protobuf'
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire'
import { DurationSchema } from '@bufbuild/protobuf/wkt'
import { Code, ConnectError } from '@connectrpc/connect'
import type { Message } from '@/gen/chat/v1/types_pb'
import { msg } from '@/test/factories'
import { retryDelayMs } from '@/api/errors'
import { Outbox, rateLimitSlackMs, type Outgoing } from './outbox'

/** retryInfo is a google.rpc.RetryInfo detail asking to wait ms. */
function retryInfo(ms: number) {
  const d = create(DurationSchema, { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 })
  const value = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(toBinary(DurationSchema, d)).finish()
  return { type: 'google.rpc.RetryInfo', value }
}

/** exhausted is the server's answer past the send limit: Retry-After in whole seconds, RetryInfo exact. */
function exhausted(ms: number): ConnectError {
  const h = new Headers({ 'Retry-After': String(Math.ceil(ms / 1000)) })
  const err = new ConnectError('sending too fast; try again in 1s', Code.ResourceExhausted, h)
  err.details.push(retryInfo(ms)) // as a client receives it: type name and bytes
  return err
}

/**
 * fakeServer stores messages like chatd: idempotent on client_msg_id, with a
 * token bucket per room (burst, then one per refillMs), each call taking rttMs.
 */
function fakeServer(opts: { burst?: number; refillMs?: number; rttMs?: number } = {}) {
  const burst = opts.burst ?? 10
  const refillMs = opts.refillMs ?? 1000
  const rtt = opts.rttMs ?? 20
  const stored = new Map<string, Message[]>()
  const bucket = new Map<string, { tokens: number; at: number }>()
  let inFlight = 0
  let maxInFlight = 0
  const calls: string[] = []
  const send = async (o: Outgoing): Promise<Message> => {
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    calls.push(o.clientMsgId)
    try {
      await new Promise((r) => setTimeout(r, rtt))
      const k = o.roomId.toString()
      const room = stored.get(k) ?? []
      stored.set(k, room)
      const again = room.find((m) => m.clientMsgId === o.clientMsgId)
      if (again) return again
      const now = Date.now()
      const b = bucket.get(k) ?? { tokens: burst, at: now }
      b.tokens = Math.min(burst, b.tokens + (now - b.at) / refillMs)
      b.at = now
      bucket.set(k, b)
      if (b.tokens < 1) throw exhausted(Math.ceil((1 - b.tokens) * refillMs))
      b.tokens--
      const m = msg(Number(o.roomId), room.length + 1, { body: o.body, clientMsgId: o.clientMsgId, sender: 1 })
      room.push(m)
      return m
    } finally {
      inFlight--
    }
  }
  return { send, stored: (room: number) => stored.get(String(room)) ?? [], calls, maxInFlight: () => maxInFlight }
}

function outbox(send: (o: Outgoing) => Promise<Message | undefined>, online = () => true) {
  const saved: Outgoing[][] = []
  const box = new Outbox({ send, stored: () => {}, changed: (items) => saved.push([...items]), online, random: () => 0.5 })
  box.start()
  return { box, saved }
}

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('Outbox', () => {
  it('RateLimit: a burst of 14 past a limit of 10 is stored in the order typed, one send at a time', async () => {
    const server = fakeServer()
    const { box } = outbox(server.send)
    const typed = Array.from({ length: 14 }, (_, i) => `quick ${i + 1}`)
    const sent = typed.map((body) => box.add(1n, body))
    await vi.advanceTimersByTimeAsync(10 * 20 + 5) // the first ten go through
    await vi.advanceTimersByTimeAsync(20)
    const head = box.head(1n)!
    expect(head.body).toBe('quick 11')
    expect(head.state).toBe('waiting')
    expect(head.reason).toBe('rateLimit')
    expect(head.retryAt - Date.now()).toBeGreaterThan(500) // as long as the server said, not a guess
    expect(box.inRoom(1n).slice(1).map((o) => o.state)).toEqual(['queued', 'queued', 'queued'])

    await vi.advanceTimersByTimeAsync(10_000)
    expect(server.stored(1).map((m) => m.body)).toEqual(typed)
    expect(server.stored(1).map((m) => m.clientMsgId)).toEqual(sent.map((o) => o.clientMsgId))
    expect(server.maxInFlight()).toBe(1)
    expect(box.items).toHaveLength(0)
  })

  it('RateLimit: waits what RetryInfo says, plus a little', async () => {
    const send = vi.fn().mockRejectedValueOnce(exhausted(2_300)).mockImplementation(async (o: Outgoing) => msg(1, 1, { clientMsgId: o.clientMsgId }))
    const { box } = outbox(send)
    box.add(1n, 'x')
    await vi.advanceTimersByTimeAsync(0)
    expect(box.head(1n)!.retryAt - Date.now()).toBe(2_300 + rateLimitSlackMs)
    await vi.advanceTimersByTimeAsync(2_300 + rateLimitSlackMs - 1)
    expect(send).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(send).toHaveBeenCalledTimes(2)
  })

  it('Rooms: a room held by its limit does not hold another room', async () => {
    const server = fakeServer({ burst: 1, refillMs: 5_000 })
    const { box } = outbox(server.send)
    box.add(1n, 'a1')
    box.add(1n, 'a2')
    box.add(2n, 'b1')
    await vi.advanceTimersByTimeAsync(100)
    expect(server.stored(2).map((m) => m.body)).toEqual(['b1'])
    expect(box.head(1n)?.reason).toBe('rateLimit')
    await vi.advanceTimersByTimeAsync(6_000)
    expect(server.stored(1).map((m) => m.body)).toEqual(['a1', 'a2'])
  })

  it('Offline: the head waits with the reason and the rest queue behind it until the network is back', async () => {
    let online = false
    const server = fakeServer()
    const send = vi.fn(async (o: Outgoing) => {
      if (!online) throw new ConnectError('Failed to fetch', Code.Unknown)
      return server.send(o)
    })
    const { box } = outbox(send, () => online)
    for (const b of ['one', 'two', 'three']) box.add(1n, b)
    await vi.advanceTimersByTimeAsync(0)
    expect(box.head(1n)).toMatchObject({ body: 'one', state: 'waiting', reason: 'offline' })
    await vi.advanceTimersByTimeAsync(3_000)
    expect(new Set(send.mock.calls.map((c) => c[0].body))).toEqual(new Set(['one'])) // never the ones behind
    online = true
    box.kick()
    await vi.advanceTimersByTimeAsync(200)
    expect(server.stored(1).map((m) => m.body)).toEqual(['one', 'two', 'three'])
  })

  it('Unavailable: said so when the browser is online', async () => {
    const send = vi.fn().mockRejectedValue(new ConnectError('down', Code.Unavailable))
    const { box } = outbox(send)
    box.add(1n, 'x')
    await vi.advanceTimersByTimeAsync(0)
    expect(box.head(1n)?.reason).toBe('unavailable')
  })

  it('ErrRefused: an unsendable message shows the server’s words and does not block the ones behind it', async () => {
    const server = fakeServer()
    const send = vi.fn(async (o: Outgoing) => {
      if (o.body === 'bad') throw new ConnectError('invalid: the message is empty', Code.InvalidArgument)
      return server.send(o)
    })
    const { box } = outbox(send)
    const bad = box.add(1n, 'bad')
    box.add(1n, 'after 1')
    box.add(1n, 'after 2')
    await vi.advanceTimersByTimeAsync(200)
    expect(server.stored(1).map((m) => m.body)).toEqual(['after 1', 'after 2'])
    expect(box.items).toHaveLength(1)
    expect(bad).toMatchObject({ state: 'failed', error: 'invalid: the message is empty' })
    expect(send).toHaveBeenCalledTimes(3) // the refused one was not retried on its own
    box.discard(bad.clientMsgId)
    expect(box.items).toHaveLength(0)
  })

  it('ErrRefused: a retry by hand uses the same client_msg_id', async () => {
    const send = vi
      .fn()
      .mockRejectedValueOnce(new ConnectError('not a member', Code.PermissionDenied))
      .mockImplementation(async (o: Outgoing) => msg(1, 1, { clientMsgId: o.clientMsgId }))
    const { box } = outbox(send)
    const o = box.add(1n, 'x')
    await vi.advanceTimersByTimeAsync(0)
    box.retry(o.clientMsgId)
    await vi.advanceTimersByTimeAsync(0)
    expect(send.mock.calls.map((c) => c[0].clientMsgId)).toEqual([o.clientMsgId, o.clientMsgId])
    expect(box.items).toHaveLength(0)
  })

  it('SignedOut: a refused session stops every room until the next login, then goes on in order', async () => {
    let session = true
    const server = fakeServer()
    const send = vi.fn(async (o: Outgoing) => {
      if (!session) throw new ConnectError('invalid or expired token', Code.Unauthenticated)
      return server.send(o)
    })
    const { box } = outbox(send)
    box.add(1n, 'before')
    await vi.advanceTimersByTimeAsync(50)
    session = false
    const kept = ['lost 1', 'lost 2', 'lost 3'].map((b) => box.add(1n, b))
    box.add(2n, 'other room')
    await vi.advanceTimersByTimeAsync(60_000)
    expect(box.head(1n)).toMatchObject({ body: 'lost 1', reason: 'signedOut' })
    expect(send).toHaveBeenCalledTimes(3) // 'before', then one refusal in each room, no loop
    session = true
    box.start()
    await vi.advanceTimersByTimeAsync(500)
    expect(server.stored(1).map((m) => m.body)).toEqual(['before', 'lost 1', 'lost 2', 'lost 3'])
    expect(server.stored(1).slice(1).map((m) => m.clientMsgId)).toEqual(kept.map((o) => o.clientMsgId))
    expect(server.stored(2).map((m) => m.body)).toEqual(['other room'])
  })

  it('LiveEcho: a head acknowledged by its live event lets the next one go', async () => {
    const send = vi.fn().mockRejectedValueOnce(new ConnectError('down', Code.Unavailable)).mockResolvedValue(undefined)
    const { box } = outbox(send)
    const first = box.add(1n, 'first')
    box.add(1n, 'second')
    await vi.advanceTimersByTimeAsync(0)
    expect(first.state).toBe('waiting')
    box.settle(new Set([first.clientMsgId])) // it was stored after all: the event says so
    await vi.advanceTimersByTimeAsync(0)
    expect(send.mock.calls.map((c) => c[0].body)).toEqual(['first', 'second'])
  })

  it('Saves every change of what waits, for a reload or a new login', async () => {
    const send = vi.fn().mockResolvedValue(undefined)
    const { box, saved } = outbox(send)
    box.add(1n, 'a')
    await vi.advanceTimersByTimeAsync(0)
    expect(saved.map((s) => s.map((o) => o.body))).toEqual([['a'], []])
  })
})

describe('retryDelayMs', () => {
  it('OK: RetryInfo first, exact to the millisecond', () => {
    expect(retryDelayMs(exhausted(1_250))).toBe(1_250)
  })

  it('OK: Retry-After when there is no RetryInfo', () => {
    const e = new ConnectError('slow down', Code.ResourceExhausted, new Headers({ 'Retry-After': '3' }))
    expect(retryDelayMs(e)).toBe(3_000)
  })

  it('None: the server said nothing', () => {
    expect(retryDelayMs(new ConnectError('x', Code.ResourceExhausted))).toBeNull()
  })
})
