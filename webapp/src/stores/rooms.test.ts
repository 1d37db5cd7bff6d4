import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { msg, room } from '@/test/factories'

const api = vi.hoisted(() => ({ markRead: vi.fn() }))
vi.mock('@/api/client', () => ({ messageClient: {}, roomClient: api, userClient: {}, authClient: {}, keeper: {} }))

import { useRoomsStore } from './rooms'

beforeEach(() => {
  setActivePinia(createPinia())
  api.markRead.mockReset()
})

describe('markSeen', () => {
  it('one MarkRead in flight per room; then only the newest seq seen meanwhile; never backwards', async () => {
    const rooms = useRoomsStore()
    rooms.rooms = [room(1, { lastSeq: 20n, readSeq: 2n, unreadCount: 18n })]
    const answers: ((v: { readSeq: bigint }) => void)[] = []
    api.markRead.mockImplementation(() => new Promise((r) => answers.push(r)))
    rooms.markSeen(1n, 5n)
    rooms.markSeen(1n, 7n)
    rooms.markSeen(1n, 9n)
    rooms.markSeen(1n, 1n) // already read
    expect(api.markRead.mock.calls.map((c) => c[0].seq)).toEqual([5n])
    answers[0]({ readSeq: 5n })
    await vi.waitFor(() => expect(api.markRead).toHaveBeenCalledTimes(2))
    expect(api.markRead.mock.calls[1][0]).toEqual({ roomId: 1n, seq: 9n })
    answers[1]({ readSeq: 20n }) // the server clamps and says where the watermark is
    await vi.waitFor(() => expect(rooms.byId(1n)?.readSeq).toBe(20n))
    expect(rooms.unreadOf(1n)).toBe(0)
    rooms.markSeen(1n, 9n)
    expect(api.markRead).toHaveBeenCalledTimes(2)
  })

  it('a failed call lets the next message seen ask again', async () => {
    const rooms = useRoomsStore()
    rooms.rooms = [room(1, { lastSeq: 3n })]
    api.markRead.mockRejectedValueOnce(new Error('down')).mockResolvedValueOnce({ readSeq: 3n })
    rooms.markSeen(1n, 2n)
    await vi.waitFor(() => expect(api.markRead).toHaveBeenCalledTimes(1))
    await new Promise((r) => setTimeout(r, 0))
    rooms.markSeen(1n, 3n)
    await vi.waitFor(() => expect(rooms.byId(1n)?.readSeq).toBe(3n))
  })
})

describe('takeCounts', () => {
  it('a room list counted before some messages arrived keeps them in the badge, in a room whose messages are not held', () => {
    const rooms = useRoomsStore()
    rooms.rooms = [room(1, { lastSeq: 10n, readSeq: 10n, unreadCount: 0n })]
    // Messages 11 to 13 arrive live while a room list is being fetched,
    // which the server counted at last_seq 12.
    for (const seq of [11, 12, 13]) rooms.countNew(msg(1, seq, { sender: 2 }), 7n)
    expect(rooms.unreadOf(1n)).toBe(3)
    rooms.takeCounts([room(1, { lastSeq: 12n, readSeq: 10n, unreadCount: 2n })], () => [], 7n)
    expect(rooms.unreadOf(1n)).toBe(3)
    // A later list that counted all of them adds nothing twice.
    rooms.takeCounts([room(1, { lastSeq: 13n, readSeq: 10n, unreadCount: 3n })], () => [], 7n)
    expect(rooms.unreadOf(1n)).toBe(3)
  })
})

describe('applyListing', () => {
  it('adds an unseen public room to the directory, not joined, in name order', () => {
    const rooms = useRoomsStore()
    rooms.rooms = [room(1, { name: 'alpha' }), room(3, { name: 'zulu' })]
    rooms.applyListing(room(2, { name: 'mid', joined: false, memberCount: 1n }))
    expect(rooms.rooms.map((r) => r.name)).toEqual(['alpha', 'mid', 'zulu'])
    expect(rooms.discoverable.map((r) => r.id)).toEqual([2n])
    expect(rooms.byId(2n)).toMatchObject({ joined: false, memberCount: 1n })
  })

  it('moves a known room’s name, topic and member count and keeps my joined flag, read state and mute', () => {
    const rooms = useRoomsStore()
    rooms.rooms = [room(5, { name: 'old', memberCount: 2n, readSeq: 4n, lastSeq: 9n, unreadCount: 5n, mentionCount: 1n, muted: true })]
    rooms.applyListing(room(5, { name: 'new', topic: 'sofas', memberCount: 7n, joined: false, readSeq: 0n, lastSeq: 12n, unreadCount: 0n, mentionCount: 0n, muted: false }))
    expect(rooms.byId(5n)).toMatchObject({
      name: 'new', topic: 'sofas', memberCount: 7n, joined: true, readSeq: 4n, lastSeq: 9n, unreadCount: 5n, mentionCount: 1n, muted: true,
    })
    expect(rooms.channels.map((r) => r.id)).toEqual([5n])
  })
})
