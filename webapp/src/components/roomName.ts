// How a room is named in the list, its header and notifications: channels
// by their name, direct and group rooms by their members other than the user.
import { RoomKind, type Room, type User } from '@/gen/chat/v1/types_pb'
import { t } from '@/i18n'

/** isConversation says whether a room is a direct or group room, not a channel. */
export function isConversation(r: Room): boolean {
  return r.kind === RoomKind.DIRECT || r.kind === RoomKind.GROUP
}

/** nameOf is how a user is called: their display name, else their username. */
export function nameOf(u: User | undefined): string {
  return u?.displayName || u?.username || '?'
}

/** othersIn lists a conversation's members other than me, in the order the server gave. */
export function othersIn(r: Room, me: bigint | undefined): User[] {
  return r.members.filter((u) => u.id !== me)
}

/**
 * roomTitle names a room: a channel by its name, a direct room by the other
 * person, a group by up to two others and a count ("Ann, Bo and 2 others").
 * A conversation whose others all left is named by the user alone.
 */
export function roomTitle(r: Room, me: bigint | undefined): string {
  if (!isConversation(r)) return r.name
  const others = othersIn(r, me).map(nameOf)
  if (others.length === 0) return r.name || t('dm.onlyYou')
  if (others.length === 1) return others[0]
  if (others.length === 2) return t('dm.two', { a: others[0], b: others[1] })
  if (others.length === 3) return t('dm.three', { a: others[0], b: others[1], c: others[2] })
  return t('dm.many', { a: others[0], b: others[1], n: others.length - 2 })
}

/** roomLabel is roomTitle with a channel's "#", for sentences ("Message #general", "Message Ann"). */
export function roomLabel(r: Room, me: bigint | undefined): string {
  return isConversation(r) ? roomTitle(r, me) : `#${r.name}`
}
