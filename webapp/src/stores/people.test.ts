import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { create, type MessageInitShape } from '@bufbuild/protobuf'
import { Code, ConnectError } from '@connectrpc/connect'
import { EventSchema, type Event } from '@/gen/chat/v1/event_pb'
import { FriendRequestSchema, FriendSchema, RoomKind, UserSchema } from '@/gen/chat/v1/types_pb'
import { roomTitle } from '@/components/roomName'
import { room, user } from '@/test/factories'
import { setLocale } from '@/i18n'
import { describeError, fieldOf } from '@/api/errors'

const api = vi.hoisted(() => ({
  listFriends: vi.fn(),
  sendFriendRequest: vi.fn(),
  blockUser: vi.fn(),
  updateRoom: vi.fn(),
  openDirect: vi.fn(),
}))
vi.mock('@/api/client', () => ({
  messageClient: {},
  roomClient: api,
  friendClient: api,
  userClient: {},
  authClient: {},
  keeper: { current: () => null, accessToken: async () => null, renew: async () => null },
}))

import { useLiveStore } from './live'
import { usePeopleStore } from './people'
import { useRoomsStore } from './rooms'
import { useSessionStore } from './session'

type Kind = MessageInitShape<typeof EventSchema>['kind']
const ev = (kind: Kind, roomId = 0n): Event => create(EventSchema, { roomId, userId: roomId ? 0n : 1n, kind })
const request = (id: number, name: string) => create(FriendRequestSchema, { user: user(id, name) })

function setup() {
  setActivePinia(createPinia())
  useSessionStore().user = user(1, 'me')
  return { live: useLiveStore(), people: usePeopleStore(), rooms: useRoomsStore() }
}

beforeEach(() => {
  for (const f of Object.values(api)) f.mockReset()
})

describe('people events', () => {
  it('a request arrives, is accepted elsewhere, and the friend shows with presence', () => {
    const { live, people } = setup()
    live.handleEvent(ev({ case: 'friendRequestReceived', value: { request: request(2, 'ann') } }))
    live.handleEvent(ev({ case: 'friendRequestReceived', value: { request: request(2, 'ann') } })) // told twice
    expect(people.incoming.map((r) => r.user?.username)).toEqual(['ann'])
    expect(people.relation(2n)).toBe('incoming')
    live.handleEvent(ev({ case: 'presenceChanged', value: { roomId: 0n, userId: 2n, online: true } }))
    live.handleEvent(ev({ case: 'friendRequestAnswered', value: { user: user(2, 'ann'), accepted: true } }))
    expect(people.incoming).toEqual([])
    expect(people.friends.map((f) => [f.user?.username, f.online])).toEqual([['ann', true]])
    live.handleEvent(ev({ case: 'presenceChanged', value: { roomId: 0n, userId: 2n, online: false } }))
    expect(people.friends[0].online).toBe(false)
    live.handleEvent(ev({ case: 'friendRemoved', value: { userId: 2n } }))
    expect(people.relation(2n)).toBe('none')
  })

  it('my own request sent from another tab shows as outgoing; a decline ends it', () => {
    const { live, people } = setup()
    live.handleEvent(ev({ case: 'friendRequestReceived', value: { request: request(3, 'bo'), outgoing: true } }))
    expect(people.relation(3n)).toBe('outgoing')
    live.handleEvent(ev({ case: 'friendRequestAnswered', value: { user: user(3, 'bo'), accepted: false } }))
    expect(people.relation(3n)).toBe('none')
    expect(people.friends).toEqual([])
  })

  it('a block ends the friendship and folds the user; an unblock lifts only the fold', () => {
    const { live, people } = setup()
    people.friends = [create(FriendSchema, { user: user(2, 'ann'), online: true })]
    live.handleEvent(ev({ case: 'blockChanged', value: { user: user(2, 'ann'), blocked: true } }))
    expect(people.isBlocked(2n)).toBe(true)
    expect(people.friends).toEqual([])
    live.handleEvent(ev({ case: 'blockChanged', value: { user: user(2, 'ann'), blocked: false } }))
    expect(people.isBlocked(2n)).toBe(false)
    expect(people.blocked).toEqual([])
  })

  it('RoomUpdated renames a room and keeps my unread count and membership', () => {
    const { live, rooms } = setup()
    rooms.rooms = [room(5, { name: 'old', unreadCount: 3n, kind: RoomKind.CHANNEL })]
    live.handleEvent(ev({ case: 'roomUpdated', value: { room: room(5, { name: 'new', topic: 'fresh', joined: false, unreadCount: 0n }) } }, 5n))
    expect(rooms.byId(5n)).toMatchObject({ name: 'new', topic: 'fresh', joined: true, unreadCount: 3n })
  })

  it('a request to someone who asked already makes friends at once (the list is read again)', async () => {
    const { people } = setup()
    api.sendFriendRequest.mockResolvedValue({ friends: true })
    api.listFriends.mockResolvedValue({ friends: [create(FriendSchema, { user: user(2, 'ann') })], incoming: [], outgoing: [] })
    expect(await people.sendRequest(user(2, 'ann'))).toBe(true)
    expect(people.relation(2n)).toBe('friend')
    api.sendFriendRequest.mockResolvedValue({ friends: false })
    await people.sendRequest(user(3, 'bo'))
    expect(people.relation(3n)).toBe('outgoing')
  })
})

describe('server sentences', () => {
  const taken = new ConnectError('that username is taken', Code.AlreadyExists)
  it('are translated and name their field', () => {
    setLocale('en')
    expect(describeError(taken)).toBe('That username is taken')
    expect(fieldOf(taken)).toBe('username')
    expect(fieldOf(new ConnectError('a room with that name exists', Code.AlreadyExists))).toBe('name')
    setLocale('zh-CN')
    expect(describeError(taken)).toBe('该用户名已被占用')
    expect(describeError(new ConnectError('this user does not accept messages from you', Code.PermissionDenied))).toBe('该用户不接受你的消息')
  })

  it('an unknown sentence about the request is shown in English, a fault of the server never', () => {
    setLocale('en')
    expect(describeError(new ConnectError('a group conversation has at most 10 members', Code.FailedPrecondition))).toBe('A group conversation has at most 10 members')
    expect(describeError(new ConnectError('MySQL: boom', Code.Internal))).toBe('Something went wrong')
    setLocale('zh-CN')
    expect(describeError(new ConnectError('a group conversation has at most 10 members', Code.FailedPrecondition))).toBe('现在无法执行此操作')
    setLocale('en')
  })
})

describe('conversation members', () => {
  it('a group is renamed as people join and leave it', () => {
    const { live, rooms } = setup()
    rooms.rooms = [room(7, { name: '', kind: RoomKind.GROUP, members: [user(1, 'me'), user(2, 'ann'), user(3, 'bo')] })]
    live.handleEvent(ev({ case: 'memberJoined', value: { roomId: 7n, member: { user: user(4, 'cy') } } }, 7n))
    expect(rooms.byId(7n)?.members.map((u) => u.username)).toEqual(['me', 'ann', 'bo', 'cy'])
    live.handleEvent(ev({ case: 'memberLeft', value: { roomId: 7n, userId: 2n } }, 7n))
    expect(rooms.byId(7n)?.members.map((u) => u.username)).toEqual(['me', 'bo', 'cy'])
    setLocale('en')
    live.handleEvent(ev({ case: 'userUpdated', value: { user: create(UserSchema, { id: 3n, username: 'bo', displayName: 'Bo Lee' }) } }))
    expect(roomTitle(rooms.byId(7n)!, 1n)).toBe('Bo Lee and cy')
  })
})

describe('openDirect', () => {
  it('lists the conversation it opens, named by the other person', async () => {
    const { rooms } = setup()
    setLocale('en')
    api.openDirect.mockResolvedValue({ room: room(8, { name: '', joined: false, kind: RoomKind.DIRECT, members: [user(1, 'me'), user(2, 'ann')] }) })
    const r = await rooms.openDirect(['ann'])
    expect(api.openDirect).toHaveBeenCalledWith({ usernames: ['ann'] })
    expect(rooms.conversations.map((x) => x.id)).toEqual([r.id])
    expect(rooms.channels).toEqual([])
  })
})
