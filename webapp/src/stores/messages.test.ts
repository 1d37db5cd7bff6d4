import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { Code, ConnectError } from '@connectrpc/connect'
import { create } from '@bufbuild/protobuf'
import { msg } from '@/test/factories'
import { AttachmentKind, AttachmentSchema, type Message } from '@/gen/chat/v1/types_pb'

const api = vi.hoisted(() => ({
  sendMessage: vi.fn(),
  listMessages: vi.fn(),
}))
vi.mock('@/api/client', () => ({ messageClient: api, roomClient: {}, authClient: {}, keeper: {} }))

import { mergeBySeq, renewAhead, renewEvery, signBatch, useMessagesStore } from './messages'
import { loadOutbox, saveOutbox } from './outboxStorage'

const seqs = (ms: { seq: bigint }[]) => ms.map((m) => Number(m.seq))

beforeEach(async () => {
  vi.useRealTimers()
  await Promise.all([saveOutbox(1n, []), saveOutbox(2n, [])])
  setActivePinia(createPinia())
  api.sendMessage.mockReset()
  api.listMessages.mockReset()
  vi.useRealTimers()
})

describe('mergeBySeq', () => {
  it('OK: sorts and drops duplicates, keeping the first copy', () => {
    const first = msg(1, 2, { body: 'first copy' })
    const { items, added } = mergeBySeq([msg(1, 1), first, msg(1, 5)], [msg(1, 4), msg(1, 2, { body: 'dup' }), msg(1, 3), msg(1, 3)])
    expect(seqs(items)).toEqual([1, 2, 3, 4, 5])
    expect(seqs(added)).toEqual([4, 3])
    expect(items[1]).toBe(first)
  })

  it('OK: nothing new keeps the same array', () => {
    const into = [msg(1, 1)]
    expect(mergeBySeq(into, [msg(1, 1)]).items).toBe(into)
  })
})

function withFile(m: Message, url: string): Message {
  m.attachments = [create(AttachmentSchema, { id: `a${m.seq}`, kind: AttachmentKind.FILE, filename: 'f.txt', url })]
  return m
}

describe('attachment URLs and jumps', () => {
  it('renews download links before they expire, one call for the messages held', async () => {
    vi.useFakeTimers()
    vi.setSystemTime(new Date('2026-12-03T12:00:00Z'))
    const at = (ms: number, sig: string) => `/v1/files/a?exp=${Math.floor((Date.now() + ms) / 1000)}&s=x&sig=${sig}`
    const hour = 3_600_000
    const s = useMessagesStore()
    s.merge(1n, [withFile(msg(1, 1), at(hour, 'old')), msg(1, 2), withFile(msg(1, 3), at(hour, 'old'))])
    api.listMessages.mockResolvedValue({ messages: [withFile(msg(1, 1), at(2 * hour, 'new')), msg(1, 2), withFile(msg(1, 3), at(2 * hour, 'new'))] })
    await vi.advanceTimersByTimeAsync(hour - renewAhead - 1000)
    expect(api.listMessages).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(2000)
    expect(api.listMessages).toHaveBeenCalledTimes(1)
    expect(api.listMessages.mock.calls[0][0]).toEqual(expect.objectContaining({ roomId: 1n, afterSeq: 0n, limit: 3 }))
    expect(s.find(1n, 1n)!.attachments[0].url).toContain('sig=new')
    expect(s.find(1n, 3n)!.attachments[0].url).toContain('sig=new')
    await vi.advanceTimersByTimeAsync(hour) // the new links are renewed in their turn
    expect(api.listMessages).toHaveBeenCalledTimes(2)
  })

  it('tries a failed renewal of links again a minute later', async () => {
    vi.useFakeTimers()
    const at = (ms: number, sig: string) => `/v1/files/a?exp=${Math.floor((Date.now() + ms) / 1000)}&s=x&sig=${sig}`
    const s = useMessagesStore()
    s.merge(1n, [withFile(msg(1, 1), at(renewAhead + 30_000, 'old'))])
    api.listMessages.mockRejectedValueOnce(new ConnectError('offline', Code.Unavailable))
    api.listMessages.mockResolvedValue({ messages: [withFile(msg(1, 1), at(3_600_000, 'new'))] })
    await vi.advanceTimersByTimeAsync(renewEvery)
    expect(api.listMessages).toHaveBeenCalledTimes(1)
    expect(s.find(1n, 1n)!.attachments[0].url).toContain('sig=old')
    await vi.advanceTimersByTimeAsync(renewEvery)
    expect(api.listMessages).toHaveBeenCalledTimes(2)
    expect(s.find(1n, 1n)!.attachments[0].url).toContain('sig=new')
  })

  it('signs messages further apart than one call reaches in several calls', async () => {
    const s = useMessagesStore()
    const far = BigInt(signBatch) + 10n
    api.listMessages.mockImplementation(async ({ afterSeq }: { afterSeq: bigint }) => ({
      messages: [withFile(msg(1, Number(afterSeq + 1n)), `/v1/files/a${afterSeq + 1n}?sig=z`)],
    }))
    s.merge(1n, [withFile(msg(1, 1), ''), withFile(msg(1, Number(far)), '')])
    await vi.waitFor(() => expect(s.find(1n, far)!.attachments[0].url).toBe(`/v1/files/a${far}?sig=z`))
    expect(s.find(1n, 1n)!.attachments[0].url).toBe('/v1/files/a1?sig=z')
    expect(api.listMessages.mock.calls.map((c) => [c[0].afterSeq, c[0].limit])).toEqual([
      [0n, 1],
      [far - 1n, 1],
    ])
  })

  it('reads again, in one call, the live messages whose attachments came unsigned', async () => {
    const s = useMessagesStore()
    api.listMessages.mockResolvedValue({ messages: [withFile(msg(1, 3), '/v1/files/a3?sig=x'), msg(1, 4), withFile(msg(1, 5), '/v1/files/a5?sig=y')] })
    s.merge(1n, [msg(1, 2)])
    s.merge(1n, [withFile(msg(1, 3), '')])
    s.merge(1n, [msg(1, 4), withFile(msg(1, 5), '')])
    await vi.waitFor(() => expect(s.find(1n, 5n)!.attachments[0].url).toBe('/v1/files/a5?sig=y'))
    expect(s.find(1n, 3n)!.attachments[0].url).toBe('/v1/files/a3?sig=x')
    expect(api.listMessages).toHaveBeenCalledTimes(1)
    expect(api.listMessages.mock.calls[0][0]).toEqual(expect.objectContaining({ roomId: 1n, afterSeq: 2n, limit: 3 }))
  })

  it('loadAround opens an old message with the page around it, bridged to what is held', async () => {
    const s = useMessagesStore()
    const run = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => msg(1, from + i))
    api.listMessages
      .mockResolvedValueOnce({ messages: run(251, 300), hasMore: true }) // the newest page
      .mockResolvedValueOnce({ messages: run(75, 124) }) // around 100
      .mockResolvedValueOnce({ messages: run(125, 250) }) // the gap, after 124
    expect(await s.loadAround(1n, 100n)).toBe(true)
    expect(api.listMessages.mock.calls[1][0]).toEqual(expect.objectContaining({ aroundSeq: 100n }))
    expect(api.listMessages.mock.calls[2][0]).toEqual(expect.objectContaining({ afterSeq: 124n }))
    const items = s.log(1n).items
    expect(Number(items[0].seq)).toBe(75)
    expect(items.length).toBe(226) // one contiguous run, 75 to 300
  })
})

describe('messages store', () => {
  it('merges live events, replays and pages into one ordered run', () => {
    const s = useMessagesStore()
    s.merge(1n, [msg(1, 10), msg(1, 11)])
    s.merge(1n, [msg(1, 11), msg(1, 12)]) // replay overlapping what was live
    s.merge(1n, [msg(1, 8), msg(1, 9)]) // an older page
    expect(seqs(s.logs['1'].items)).toEqual([8, 9, 10, 11, 12])
    expect(s.logs['1'].hasOlder).toBe(true)
    expect(s.merge(1n, [msg(1, 12)])).toEqual([])
  })

  it('keeps rooms apart', () => {
    const s = useMessagesStore()
    s.merge(1n, [msg(1, 1)])
    s.merge(2n, [msg(2, 1), msg(2, 2)])
    expect(seqs(s.logs['1'].items)).toEqual([1])
    expect(seqs(s.logs['2'].items)).toEqual([1, 2])
  })

  it('resume cursors: start at the room list, only move forward', () => {
    const s = useMessagesStore()
    s.trackRoom(1n, 42n)
    s.trackRoom(2n, 0n)
    s.trackRoom(1n, 7n) // already tracked: ignored
    s.merge(2n, [msg(2, 3)])
    s.merge(2n, [msg(2, 1)])
    expect(s.resumeCursors([1n, 2n, 3n])).toEqual([
      { roomId: 1n, afterSeq: 42n },
      { roomId: 2n, afterSeq: 3n },
    ])
  })

  it('loadOlder asks before the oldest seq and stops at seq 1', async () => {
    const s = useMessagesStore()
    api.listMessages.mockResolvedValueOnce({ messages: [msg(1, 3), msg(1, 4)], hasMore: true })
    await s.loadLatest(1n)
    api.listMessages.mockResolvedValueOnce({ messages: [msg(1, 1), msg(1, 2)], hasMore: false })
    expect(await s.loadOlder(1n)).toBe(true)
    expect(api.listMessages).toHaveBeenLastCalledWith(expect.objectContaining({ roomId: 1n, beforeSeq: 3n }))
    expect(seqs(s.logs['1'].items)).toEqual([1, 2, 3, 4])
    expect(s.logs['1'].hasOlder).toBe(false)
    expect(await s.loadOlder(1n)).toBe(false)
    expect(api.listMessages).toHaveBeenCalledTimes(2)
  })

  it('skipAhead restarts from the newest page after a cut resume', async () => {
    const s = useMessagesStore()
    s.merge(1n, [msg(1, 1), msg(1, 2), msg(1, 503)])
    api.listMessages.mockResolvedValueOnce({ messages: [msg(1, 451), msg(1, 500), msg(1, 501), msg(1, 502)], hasMore: true })
    await s.skipAhead(1n, 500n)
    expect(seqs(s.logs['1'].items)).toEqual([451, 500, 501, 502, 503])
    expect(s.cursors['1']).toBe(503n)
  })

  describe('send', () => {
    it('OK: pending until acknowledged, then merged', async () => {
      const s = useMessagesStore()
      let ack!: (v: unknown) => void
      api.sendMessage.mockReturnValueOnce(new Promise((r) => (ack = r)))
      await s.adopt(1n)
      const o = s.send(1n, 'hi')
      expect(s.pendingIn(1n)).toHaveLength(1)
      expect(o.state).toBe('sending')
      ack({ message: msg(1, 1, { body: 'hi', clientMsgId: o.clientMsgId, sender: 1 }) })
      await vi.waitFor(() => expect(s.outbox).toHaveLength(0))
      expect(s.logs['1'].items.map((m) => m.body)).toEqual(['hi'])
    })

    it('RetriesWithSameClientMsgId until acknowledged', async () => {
      const s = useMessagesStore()
      await s.adopt(1n)
      vi.useFakeTimers()
      api.sendMessage
        .mockRejectedValueOnce(new ConnectError('down', Code.Unavailable))
        .mockRejectedValueOnce(new ConnectError('failed to fetch', Code.Unknown))
        .mockImplementationOnce(async (req: { clientMsgId: string }) => ({
          message: msg(1, 7, { body: 'x', clientMsgId: req.clientMsgId }),
        }))
      const o = s.send(1n, 'x')
      await vi.advanceTimersByTimeAsync(0)
      expect(o.state).toBe('waiting')
      expect(o.reason).toBe('unavailable')
      await vi.advanceTimersByTimeAsync(60_000)
      expect(api.sendMessage).toHaveBeenCalledTimes(3)
      const ids = api.sendMessage.mock.calls.map((c) => c[0].clientMsgId)
      expect(new Set(ids)).toEqual(new Set([o.clientMsgId]))
      expect(s.outbox).toHaveLength(0)
      expect(seqs(s.logs['1'].items)).toEqual([7])
    })

    it('LiveEchoFirst: the event settles the message and the late ack adds no copy', async () => {
      const s = useMessagesStore()
      let ack!: (v: unknown) => void
      api.sendMessage.mockReturnValueOnce(new Promise((r) => (ack = r)))
      await s.adopt(1n)
      const o = s.send(1n, 'hello')
      const stored = msg(1, 3, { body: 'hello', clientMsgId: o.clientMsgId })
      s.merge(1n, [stored])
      expect(s.outbox).toHaveLength(0)
      ack({ message: stored })
      await Promise.resolve()
      expect(seqs(s.logs['1'].items)).toEqual([3])
    })

    it('ErrPermanent: marked failed with the server’s words, retried by hand with the same id', async () => {
      const s = useMessagesStore()
      await s.adopt(1n)
      api.sendMessage.mockRejectedValueOnce(new ConnectError('not a member of this room', Code.PermissionDenied))
      const o = s.send(1n, 'x')
      await vi.waitFor(() => expect(o.state).toBe('failed'))
      expect(o.error).toBe('not a member of this room')
      api.sendMessage.mockResolvedValueOnce({ message: msg(1, 1, { clientMsgId: o.clientMsgId }) })
      s.retry(o.clientMsgId)
      await vi.waitFor(() => expect(s.outbox).toHaveLength(0))
      expect(api.sendMessage.mock.calls[1][0].clientMsgId).toBe(o.clientMsgId)
    })

    it('SessionLost: kept through the login page and a reload, then sent in order with the same ids', async () => {
      const s = useMessagesStore()
      await s.adopt(1n)
      api.sendMessage.mockRejectedValue(new ConnectError('invalid or expired token', Code.Unauthenticated))
      const typed = ['one', 'two', 'three'].map((b) => s.send(1n, b))
      await vi.waitFor(() => expect(s.pendingIn(1n)[0].reason).toBe('signedOut'))
      s.suspend() // the session store does this on its way to /login
      s.$reset()
      expect(s.pendingIn(1n).map((o) => o.body)).toEqual(['one', 'two', 'three'])

      setActivePinia(createPinia()) // a reload
      api.sendMessage.mockReset().mockImplementation(async (req: { clientMsgId: string; body: string }) => ({
        message: msg(1, api.sendMessage.mock.calls.length, { body: req.body, clientMsgId: req.clientMsgId }),
      }))
      const after = useMessagesStore()
      expect(after.outbox).toHaveLength(0)
      await after.adopt(2n) // someone else logs in on this browser: not theirs
      expect(after.outbox).toHaveLength(0)
      await after.adopt(1n)
      await vi.waitFor(() => expect(after.outbox).toHaveLength(0))
      expect(api.sendMessage.mock.calls.map((c) => [c[0].body, c[0].clientMsgId])).toEqual(typed.map((o) => [o.body, o.clientMsgId]))
      expect(after.logs['1'].items.map((m) => m.body)).toEqual(['one', 'two', 'three'])
    })

    it('Logout: drops the outbox here and in IndexedDB', async () => {
      const s = useMessagesStore()
      await s.adopt(1n)
      api.sendMessage.mockReturnValue(new Promise(() => {}))
      s.send(1n, 'never mind')
      await vi.waitFor(async () => expect(await loadOutbox(1n)).toHaveLength(1))
      s.dropOutbox()
      expect(s.outbox).toHaveLength(0)
      expect(await loadOutbox(1n)).toHaveLength(0)
    })

    it('Reload: a message typed offline is kept in IndexedDB and sent once after, with its id and reply', async () => {
      const s = useMessagesStore()
      await s.adopt(1n)
      api.sendMessage.mockRejectedValue(new ConnectError('failed to fetch', Code.Unavailable))
      const o = s.send(1n, 'typed offline', 7n)
      await vi.waitFor(() => expect(o.state).toBe('waiting'))
      await vi.waitFor(async () => expect((await loadOutbox(1n)).map((x) => x.body)).toEqual(['typed offline']))

      setActivePinia(createPinia()) // the reload
      api.sendMessage.mockReset().mockImplementation(async (req: { clientMsgId: string; body: string }) => ({
        message: msg(1, 8, { body: req.body, clientMsgId: req.clientMsgId }),
      }))
      const after = useMessagesStore()
      after.send(1n, 'typed while loading') // goes after what was kept
      await after.adopt(1n)
      await vi.waitFor(() => expect(after.outbox).toHaveLength(0))
      const calls = api.sendMessage.mock.calls.map((c) => c[0])
      expect(calls[0]).toEqual(expect.objectContaining({ body: 'typed offline', clientMsgId: o.clientMsgId, replyToSeq: 7n }))
      expect(calls.filter((c) => c.clientMsgId === o.clientMsgId)).toHaveLength(1)
      expect(await loadOutbox(1n)).toEqual([])
    })

    it('distinct messages get distinct ids', () => {
      const s = useMessagesStore()
      api.sendMessage.mockReturnValue(new Promise(() => {}))
      const a = s.send(1n, 'a')
      const b = s.send(1n, 'a')
      expect(a.clientMsgId).not.toBe(b.clientMsgId)
    })
  })
})
