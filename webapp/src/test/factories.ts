// Builders for generated API messages in tests.
import { create } from '@bufbuild/protobuf'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import { MemberSchema, MessageSchema, RoomSchema, UserSchema, type Member, type Message, type Room, type User } from '@/gen/chat/v1/types_pb'

export function user(id: number, username = `user${id}`): User {
  return create(UserSchema, { id: BigInt(id), username })
}

export function msg(roomId: number, seq: number, opts: { sender?: number; body?: string; clientMsgId?: string; at?: number } = {}): Message {
  return create(MessageSchema, {
    id: BigInt(roomId * 1000 + seq),
    roomId: BigInt(roomId),
    seq: BigInt(seq),
    sender: user(opts.sender ?? 2),
    body: opts.body ?? `message ${seq}`,
    clientMsgId: opts.clientMsgId ?? '',
    createdAt: timestampFromMs(opts.at ?? Date.UTC(2026, 0, 1, 12, 0, seq)),
  })
}

export function room(id: number, opts: Partial<Omit<Room, '$typeName'>> = {}): Room {
  return create(RoomSchema, { id: BigInt(id), name: `room${id}`, joined: true, memberCount: 2n, ...opts })
}

export function member(id: number, online = false): Member {
  return create(MemberSchema, { user: user(id), online })
}
