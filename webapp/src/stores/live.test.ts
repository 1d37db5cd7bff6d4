import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { create } from '@bufbuild/protobuf'
import { EventSchema, ReadySchema, type Event } from '@/gen/chat/v1/event_pb'
import { Visibility } from '@/gen/chat/v1/types_pb'
import { member, msg, room, user } from '@/test/factories'

const api = vi.hoisted(() => ({ listMessages: vi.fn(), sendMessage: vi.fn(), listMembers: vi.fn() }))
vi.mock('@/api/client', () => ({
  messageClient: api,
  roomClient: api,
  authClient: {},
  keeper: { current: () => null, accessToken: async () => null, renew: async () => null },
}))

import { memberReloadDelayMs, useLiveStore } from './live'
import { useMessagesStore } from './messages'
import { useRoomsStore, typingShowMs } from './rooms'
import { useSessionStore } from './session'

function created(roomId: number, seq: number, sender = 2): Event {
  return create(EventSchema, {
    roomId: BigInt(roomId),
    seq: BigInt(seq),
    kind: { case: 'messageCreated', value: { message: msg(roomId, seq, { sender }) } },
  })
}

function setup() {
  setActivePinia(createPinia())
  const session = useSessionStore()
  session.user = user(1, 'me')
  const rooms = useRoomsStore()
  rooms.rooms = [room(1), room(2)]
  rooms.select(1n)
  return { live: useLiveStore(), rooms, messages: useMessagesStore(), session }
}

beforeEach(() => {
  vi.useRealTimers()
  api.listMembers.mockReset()
})

describe('live events', () => {
  it('unread: counts others’ new messages in rooms not shown, once each', () => {
    const { live, rooms } = setup()
    live.handleEvent(created(2, 1))
    live.handleEvent(created(2, 2))
    live.handleEvent(created(2, 2)) // replayed after a reconnect
    live.handleEvent(created(2, 3, 1)) // my own, from another tab
    live.handleEvent(created(1, 1)) // the open room
    expect(rooms.unreadOf(2n)).toBe(2)
    expect(rooms.unreadOf(1n)).toBe(0)
    rooms.select(2n)
    expect(rooms.unreadOf(2n)).toBe(0)
  })

  it('messages: replays merge with live ones in seq order, cursor follows', () => {
    const { live, messages } = setup()
    for (const s of [5, 3, 4, 5, 6]) live.handleEvent(created(1, s))
    expect(messages.logs['1'].items.map((m) => Number(m.seq))).toEqual([3, 4, 5, 6])
    expect(messages.resumeCursors([1n])).toEqual([{ roomId: 1n, afterSeq: 6n }])
  })

  it('presence: a member goes offline and back', () => {
    const { live, rooms } = setup()
    rooms.members['1'] = [member(1, true), member(2, true)]
    const presence = (online: boolean) =>
      create(EventSchema, { roomId: 1n, kind: { case: 'presenceChanged', value: { roomId: 1n, userId: 2n, online } } })
    live.handleEvent(presence(false))
    expect(rooms.membersOf(1n).find((m) => m.user?.id === 2n)?.online).toBe(false)
    live.handleEvent(presence(true))
    expect(rooms.membersOf(1n).find((m) => m.user?.id === 2n)?.online).toBe(true)
  })

  it('members: joined and left update the list and the count', async () => {
    vi.useFakeTimers()
    const { live, rooms } = setup()
    api.listMembers.mockResolvedValue({ members: [member(1, true), member(3, true)] })
    rooms.members['1'] = [member(1, true)]
    live.handleEvent(create(EventSchema, { roomId: 1n, kind: { case: 'memberJoined', value: { roomId: 1n, member: member(3, true) } } }))
    expect(rooms.membersOf(1n)).toHaveLength(2)
    expect(rooms.byId(1n)?.memberCount).toBe(3n)
    // The event has no presence, so the list is reloaded with it.
    await vi.advanceTimersByTimeAsync(memberReloadDelayMs)
    expect(api.listMembers).toHaveBeenCalledWith({ roomId: 1n })
    expect(rooms.membersOf(1n).find((m) => m.user?.id === 3n)?.online).toBe(true)
    live.handleEvent(create(EventSchema, { roomId: 1n, kind: { case: 'memberLeft', value: { roomId: 1n, userId: 3n } } }))
    expect(rooms.membersOf(1n)).toHaveLength(1)
    expect(rooms.byId(1n)?.memberCount).toBe(2n)
  })

  it('typing: shows for a while, ends with the message, ignores me', () => {
    vi.useFakeTimers()
    const { live, rooms } = setup()
    const typing = (userId: number) =>
      create(EventSchema, { roomId: 1n, kind: { case: 'typing', value: { roomId: 1n, userId: BigInt(userId) } } })
    live.handleEvent(typing(2))
    live.handleEvent(typing(1))
    expect(rooms.typingIn(1n)).toEqual([2n])
    live.handleEvent(created(1, 1, 2))
    expect(rooms.typingIn(1n)).toEqual([])
    live.handleEvent(typing(3))
    vi.advanceTimersByTime(typingShowMs + 1)
    expect(rooms.typingIn(1n)).toEqual([])
  })

  it('tooFarBehind: counts the skipped messages and reloads the newest page', async () => {
    const { live, rooms, messages } = setup()
    api.listMessages.mockResolvedValueOnce({ messages: [msg(2, 900)], hasMore: true })
    live.handleEvent(
      create(EventSchema, { roomId: 2n, kind: { case: 'tooFarBehind', value: { roomId: 2n, afterSeq: 10n, lastSeq: 900n } } }),
    )
    expect(rooms.unreadOf(2n)).toBe(890)
    await vi.waitFor(() => expect(messages.logs['2']?.items.map((m) => Number(m.seq))).toEqual([900]))
    expect(messages.cursors['2']).toBe(900n)
  })

  it('ready: remembers the subscribed rooms and reloads members', () => {
    const { live } = setup()
    api.listMembers.mockResolvedValue({ members: [] })
    live.handleReady(create(ReadySchema, { roomIds: [1n, 2n] }))
    expect([...live.subscribed]).toEqual(['1', '2'])
    expect(api.listMembers).toHaveBeenCalledWith({ roomId: 1n })
  })
})

describe('room list events', () => {
  it('roomAdded: lists the room as joined, subscribes it and resumes it from its last seq', () => {
    const { live, rooms, messages } = setup()
    live.handleEvent(
      create(EventSchema, {
        userId: 1n,
        kind: { case: 'roomAdded', value: { room: room(3, { name: 'secret', joined: true, lastSeq: 7n }) } },
      }),
    )
    expect(rooms.byId(3n)?.joined).toBe(true)
    expect(rooms.byId(3n)?.name).toBe('secret')
    expect(live.subscribed.has('3')).toBe(true)
    expect(messages.resumeCursors([3n])).toEqual([{ roomId: 3n, afterSeq: 7n }])
    live.handleEvent(created(3, 8))
    expect(rooms.unreadOf(3n)).toBe(1)
  })

  it('roomRemoved: a private room leaves the list, a public one is left once', () => {
    const { live, rooms, messages } = setup()
    rooms.rooms = [room(1), room(2, { visibility: Visibility.PRIVATE }), room(4, { memberCount: 5n })]
    live.handleReady(create(ReadySchema, { roomIds: [1n, 2n, 4n] }))
    live.handleEvent(created(2, 1))
    const removed = (roomId: bigint) => create(EventSchema, { userId: 1n, kind: { case: 'roomRemoved', value: { roomId } } })
    live.handleEvent(removed(2n))
    expect(rooms.byId(2n)).toBeUndefined()
    expect(messages.resumeCursors([2n])).toEqual([])
    expect(live.subscribed.has('2')).toBe(false)
    live.handleEvent(create(EventSchema, { roomId: 4n, kind: { case: 'memberLeft', value: { roomId: 4n, userId: 1n } } }))
    live.handleEvent(removed(4n))
    expect(rooms.byId(4n)?.joined).toBe(false)
    expect(rooms.byId(4n)?.memberCount).toBe(4n)
  })
})

describe('rooms joined elsewhere', () => {
  it('a message from a room not in the list reloads the list', async () => {
    vi.useFakeTimers()
    const { live, rooms } = setup()
    const listRooms = vi.fn(async () => ({ rooms: [room(1), room(2), room(3, { lastSeq: 9n })] }))
    ;(api as Record<string, unknown>).listRooms = listRooms
    live.handleEvent(created(3, 10))
    live.handleEvent(created(3, 11))
    await vi.advanceTimersByTimeAsync(memberReloadDelayMs)
    expect(listRooms).toHaveBeenCalledOnce()
    expect(rooms.byId(3n)?.joined).toBe(true)
    expect(rooms.unreadOf(3n)).toBe(2)
  })
})
