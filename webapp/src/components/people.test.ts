import { describe, expect, it } from 'vitest'
import { create } from '@bufbuild/protobuf'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import { MessageSchema, RoomKind, UserSchema } from '@/gen/chat/v1/types_pb'
import { room, user } from '@/test/factories'
import { setLocale } from '@/i18n'
import { avatarColor, avatarPalette, initials } from './avatar'
import { roomLabel, roomTitle } from './roomName'
import { buildRows, foldBlocked } from './messageView'

const named = (id: number, displayName: string) => create(UserSchema, { id: BigInt(id), username: `u${id}`, displayName })
const me = 1n

describe('roomTitle', () => {
  const people = [user(1, 'me'), named(2, 'Ann'), named(3, 'Bo'), named(4, 'Cy'), named(5, 'Di')]
  const conversation = (n: number) =>
    room(9, { name: '', kind: n === 1 ? RoomKind.DIRECT : RoomKind.GROUP, members: people.slice(0, n + 1) })

  it('names a channel by its name, with a # in sentences', () => {
    const r = room(9, { name: 'general', kind: RoomKind.CHANNEL })
    expect(roomTitle(r, me)).toBe('general')
    expect(roomLabel(r, me)).toBe('#general')
  })

  it('names conversations by the others: one, two, three, then a count', () => {
    setLocale('en')
    expect(roomTitle(conversation(1), me)).toBe('Ann')
    expect(roomLabel(conversation(1), me)).toBe('Ann')
    expect(roomTitle(conversation(2), me)).toBe('Ann and Bo')
    expect(roomTitle(conversation(3), me)).toBe('Ann, Bo and Cy')
    expect(roomTitle(conversation(4), me)).toBe('Ann, Bo and 2 others')
  })

  it('falls back to the username, and to "just you" when the others left', () => {
    setLocale('en')
    expect(roomTitle(room(9, { kind: RoomKind.DIRECT, name: '', members: [user(1, 'me'), user(7, 'zed')] }), me)).toBe('zed')
    expect(roomTitle(room(9, { kind: RoomKind.GROUP, name: '', members: [user(1, 'me')] }), me)).toBe('Just you')
  })

  it('speaks Chinese too', () => {
    setLocale('zh-CN')
    expect(roomTitle(conversation(4), me)).toBe('Ann、Bo 和另外 2 人')
    setLocale('en')
  })
})

describe('avatars', () => {
  it('users made one after another get different colours, the same each time', () => {
    for (let id = 1; id < 50; id++) {
      expect(avatarColor(BigInt(id))).not.toBe(avatarColor(BigInt(id + 1)))
      expect(avatarColor(BigInt(id))).toBe(avatarColor(id))
    }
    expect(avatarPalette).toContain(avatarColor('histbot1'))
  })

  it('initials: two words, a trailing digit, or the first two letters', () => {
    expect(initials('Ann Lee')).toBe('AL')
    expect(initials('histbot1')).toBe('H1')
    expect(initials('histbot2')).toBe('H2')
    expect(initials('bo')).toBe('BO')
    expect(initials('_root')).toBe('RO')
    expect(initials('bo_lee')).toBe('BL')
    expect(initials('张三')).toBe('张三')
    expect(initials('2024')).toBe('20')
    expect(initials('')).toBe('?')
  })
})

describe('foldBlocked', () => {
  const at = (seq: number, sender: number) =>
    create(MessageSchema, { roomId: 1n, seq: BigInt(seq), sender: user(sender), body: `m${seq}`, createdAt: timestampFromMs(Date.UTC(2026, 0, 1, 12, 0, seq)) })
  const rows = buildRows([at(1, 2), at(2, 3), at(3, 3), at(4, 2), at(5, 3)])
  const blocked = (m: { sender?: { id: bigint } }) => m.sender?.id === 3n

  it('folds each run of a blocked user into one row; the next message gets its header back', () => {
    const out = foldBlocked(rows, blocked, new Set())
    expect(out.map((r) => r.kind)).toEqual(['day', 'message', 'blocked', 'message', 'blocked'])
    expect(out[2].kind === 'blocked' && out[2].seqs).toEqual([2n, 3n])
    expect(out[3].kind === 'message' && out[3].first).toBe(true)
  })

  it('shows the messages the viewer unfolded', () => {
    const out = foldBlocked(rows, blocked, new Set([2n, 3n]))
    expect(out.map((r) => r.kind)).toEqual(['day', 'message', 'message', 'message', 'message', 'blocked'])
  })
})
