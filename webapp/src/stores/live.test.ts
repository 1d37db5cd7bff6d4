import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { create, type MessageInitShape } from '@bufbuild/protobuf'
import { EventSchema, ReadySchema, type Event } from '@/gen/chat/v1/event_pb'
import { ReplyToSchema, Visibility } from '@/gen/chat/v1/types_pb'
import { member, msg, room, user } from '@/test/factories'

const api = vi.hoisted(() => ({
  listMessages: vi.fn(),
  sendMessage: vi.fn(),
  listMembers: vi.fn(),
  listRooms: vi.fn(),
  listReadReceipts: vi.fn(),
  markRead: vi.fn(),
}))
vi.mock('@/api/client', () => ({
  messageClient: api,
  roomClient: api,
  userClient: {},
  authClient: {},
  keeper: { current: () => null, accessToken: async () => null, renew: async () => null },
}))

import { countsReloadDelayMs, memberReloadDelayMs, useLiveStore } from './live'
import { useSettingsStore } from './settings'
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
  for (const f of Object.values(api)) f.mockReset()
})

describe('live events', () => {
  it('unread: counts others’ new messages past the watermark, once each', () => {
    const { live, rooms } = setup()
    rooms.upsert({ ...rooms.byId(2n)!, readSeq: 1n, unreadCount: 0n })
    live.handleEvent(created(2, 1)) // already read (on another device, before this tab knew)
    live.handleEvent(created(2, 2))
    live.handleEvent(created(2, 3))
    live.handleEvent(created(2, 3)) // replayed after a reconnect
    live.handleEvent(created(2, 4, 1)) // my own, from another tab
    expect(rooms.unreadOf(2n)).toBe(2)
    expect(rooms.mentionsOf(2n)).toBe(0)
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

  it('tooFarBehind: asks the server for the counts and reloads the newest page', async () => {
    const { live, rooms, messages } = setup()
    api.listMessages.mockResolvedValueOnce({ messages: [msg(2, 900)], hasMore: true })
    api.listRooms.mockResolvedValueOnce({ rooms: [room(1), room(2, { lastSeq: 900n, readSeq: 10n, unreadCount: 850n })] })
    live.handleEvent(
      create(EventSchema, { roomId: 2n, kind: { case: 'tooFarBehind', value: { roomId: 2n, afterSeq: 10n, lastSeq: 900n } } }),
    )
    await vi.waitFor(() => expect(rooms.unreadOf(2n)).toBe(850))
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
    const listRooms = api.listRooms.mockImplementation(async () => ({ rooms: [room(1), room(2), room(3, { lastSeq: 9n })] }))
    live.handleEvent(created(3, 10))
    live.handleEvent(created(3, 11))
    await vi.advanceTimersByTimeAsync(memberReloadDelayMs)
    expect(listRooms).toHaveBeenCalledOnce()
    expect(rooms.byId(3n)?.joined).toBe(true)
    expect(rooms.unreadOf(3n)).toBe(2)
  })
})

function ev(roomId: number, seq: number, kind: MessageInitShape<typeof EventSchema>['kind']): Event {
  return create(EventSchema, { roomId: BigInt(roomId), seq: BigInt(seq), kind })
}

describe('timeline events', () => {
  it('edit, reactions and delete change the message in place and move the cursor', () => {
    const { live, messages } = setup()
    live.handleEvent(created(1, 1))
    const replying = msg(1, 2)
    replying.replyTo = create(ReplyToSchema, { seq: 1n, excerpt: 'message 1' })
    live.handleEvent(ev(1, 2, { case: 'messageCreated', value: { message: replying } }))
    const edited = msg(1, 1, { body: 'fixed typo' })
    edited.editedAt = edited.createdAt
    live.handleEvent(ev(1, 3, { case: 'messageEdited', value: { message: edited } }))
    const react = (seq: number, userId: number, added = true) =>
      ev(1, seq, {
        case: added ? 'reactionAdded' : 'reactionRemoved',
        value: { roomId: 1n, messageSeq: 1n, emoji: '👍', userId: BigInt(userId) },
      })
    live.handleEvent(react(4, 2))
    live.handleEvent(react(5, 1))
    const m = messages.find(1n, 1n)!
    expect(m.body).toBe('fixed typo')
    expect(m.editedAt).toBeDefined()
    expect(m.reactions.map((r) => [r.emoji, r.count, r.me])).toEqual([['👍', 2n, true]])
    live.handleEvent(react(6, 1, false))
    expect(m.reactions.map((r) => [r.emoji, r.count, r.me])).toEqual([['👍', 1n, false]])
    live.handleEvent(ev(1, 7, { case: 'messageDeleted', value: { roomId: 1n, messageSeq: 1n } }))
    expect(m.deleted).toBe(true)
    expect(m.body).toBe('')
    expect(m.reactions).toEqual([])
    expect(messages.find(1n, 2n)?.replyTo?.deleted).toBe(true)
    expect(messages.resumeCursors([1n])).toEqual([{ roomId: 1n, afterSeq: 7n }])
  })

  it('my own reaction shown at once is not counted again when its event comes', async () => {
    const { live, messages } = setup()
    live.handleEvent(created(1, 1))
    const api2 = await import('@/api/client')
    ;(api2.messageClient as unknown as Record<string, unknown>).addReaction = vi.fn(async () => ({}))
    await messages.toggleReaction(1n, 1n, '🎉')
    live.handleEvent(ev(1, 2, { case: 'reactionAdded', value: { roomId: 1n, messageSeq: 1n, emoji: '🎉', userId: 1n } }))
    expect(messages.find(1n, 1n)?.reactions.map((r) => [r.count, r.me])).toEqual([[1n, true]])
  })
})

describe('read state', () => {
  it('mentions count apart; a read marker from another session fetches the exact counts', async () => {
    vi.useFakeTimers()
    const { live, rooms } = setup()
    const mention = msg(2, 1)
    mention.mentionUserIds = [1n]
    live.handleEvent(ev(2, 1, { case: 'messageCreated', value: { message: mention } }))
    live.handleEvent(created(2, 2))
    expect([rooms.unreadOf(2n), rooms.mentionsOf(2n)]).toEqual([2, 1])
    api.listRooms.mockResolvedValueOnce({ rooms: [room(1), room(2, { lastSeq: 2n, readSeq: 1n, unreadCount: 1n })] })
    live.handleEvent(create(EventSchema, { userId: 1n, kind: { case: 'readMarker', value: { roomId: 2n, readSeq: 1n } } }))
    await vi.advanceTimersByTimeAsync(countsReloadDelayMs)
    expect([rooms.unreadOf(2n), rooms.mentionsOf(2n)]).toEqual([1, 0])
    live.handleEvent(create(EventSchema, { userId: 1n, kind: { case: 'readMarker', value: { roomId: 2n, readSeq: 2n } } }))
    expect(rooms.unreadOf(2n)).toBe(0) // read to the end: no need to wait for the server
  })

  it('counts what arrived after the server counted', async () => {
    vi.useFakeTimers()
    const { live, rooms } = setup()
    api.listRooms.mockResolvedValueOnce({ rooms: [room(2, { lastSeq: 5n, readSeq: 3n, unreadCount: 2n })] })
    live.refreshCountsSoon()
    live.handleEvent(created(2, 6)) // in flight while the list was made
    await vi.advanceTimersByTimeAsync(countsReloadDelayMs)
    expect(rooms.unreadOf(2n)).toBe(3)
  })

  it('receipts, mute and settings follow their events', () => {
    const { live, rooms } = setup()
    rooms.members['1'] = [member(1, true), member(2, true), member(3, true)]
    live.handleEvent(create(EventSchema, { kind: { case: 'readReceipt', value: { roomId: 1n, userId: 2n, readSeq: 5n } } }))
    live.handleEvent(create(EventSchema, { kind: { case: 'readReceipt', value: { roomId: 1n, userId: 3n, readSeq: 3n } } }))
    expect(rooms.readersOf(1n, 4n, 1n).map((m) => m.user?.id)).toEqual([2n])
    live.handleEvent(create(EventSchema, { kind: { case: 'muteChanged', value: { roomId: 2n, muted: true } } }))
    expect(rooms.byId(2n)?.muted).toBe(true)
    api.listReadReceipts.mockResolvedValue({ receipts: [] })
    live.handleEvent(create(EventSchema, { kind: { case: 'settingsChanged', value: { settings: { shareReadReceipts: false } } } }))
    expect(useSettingsStore().shareReadReceipts).toBe(false)
    expect(rooms.readersOf(1n, 1n, 1n)).toEqual([]) // receipts are reciprocal: none seen any more
  })
})

describe('notifications', () => {
  function mentionOf(roomId: number, seq: number): Event {
    const m = msg(roomId, seq, { body: 'hey @me' })
    m.mentionUserIds = [1n]
    return ev(roomId, seq, { case: 'messageCreated', value: { message: m } })
  }

  it('a mention in a hidden tab notifies, never for a muted room nor for my own', () => {
    const shown: { title: string; body?: string }[] = []
    class FakeNotification {
      static permission = 'granted'
      onclick: (() => void) | null = null
      constructor(title: string, opts: { body?: string }) {
        shown.push({ title, body: opts.body })
      }
      close() {}
    }
    vi.stubGlobal('Notification', FakeNotification)
    const hidden = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('hidden')
    try {
      const { live, rooms } = setup()
      rooms.upsert({ ...rooms.byId(2n)!, muted: true })
      live.handleEvent(mentionOf(1, 1))
      live.handleEvent(mentionOf(2, 1)) // muted
      const mine = msg(1, 2, { sender: 1 })
      mine.mentionsRoom = true
      live.handleEvent(ev(1, 2, { case: 'messageCreated', value: { message: mine } }))
      expect(shown).toEqual([{ title: '#room1 · user2', body: 'hey @me' }])
      hidden.mockReturnValue('visible')
      live.handleEvent(mentionOf(1, 3)) // the user is looking
      expect(shown).toHaveLength(1)
    } finally {
      hidden.mockRestore()
      vi.unstubAllGlobals()
    }
  })

  it('a mention before notifications were decided offers them, without asking the browser', () => {
    const ask = vi.fn()
    vi.stubGlobal('Notification', Object.assign(class {}, { permission: 'default', requestPermission: ask }))
    try {
      const { live } = setup()
      const settings = useSettingsStore()
      expect(settings.offerNotifications).toBe(false)
      live.handleEvent(mentionOf(1, 1))
      expect(settings.offerNotifications).toBe(true)
      expect(ask).not.toHaveBeenCalled()
    } finally {
      vi.unstubAllGlobals()
    }
  })
})
