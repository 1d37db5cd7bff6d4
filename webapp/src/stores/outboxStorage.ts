// Unsent messages kept in the tab's sessionStorage, per user, so that they
// survive a reload or a trip to the login page when the server forgot the
// session (Redis restarted empty). Only what is needed to send them again is
// kept, with their client_msg_id, so a resend is never stored twice; tokens
// never go here.

/** SavedMessage is one unsent message as stored. */
export interface SavedMessage {
  clientMsgId: string
  roomId: bigint
  body: string
  createdAt: Date
}

/** KeyValue is the slice of the Storage API the outbox uses. */
export type KeyValue = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>

const keyPrefix = 'parley.outbox.'

function storageKey(userId: bigint): string {
  return keyPrefix + userId.toString()
}

/** loadOutbox returns a user's saved messages, oldest first; none when the entry is missing or unreadable. */
export function loadOutbox(userId: bigint, storage: KeyValue | undefined): SavedMessage[] {
  try {
    const raw = storage?.getItem(storageKey(userId))
    if (!raw) return []
    const items = JSON.parse(raw) as { clientMsgId: string; roomId: string; body: string; createdAt: number }[]
    return items
      .filter((o) => typeof o.clientMsgId === 'string' && typeof o.body === 'string' && /^\d+$/.test(o.roomId))
      .map((o) => ({ clientMsgId: o.clientMsgId, roomId: BigInt(o.roomId), body: o.body, createdAt: new Date(o.createdAt) }))
  } catch {
    return []
  }
}

/** saveOutbox stores a user's unsent messages, or removes the entry when there are none. */
export function saveOutbox(userId: bigint, items: readonly SavedMessage[], storage: KeyValue | undefined): void {
  try {
    if (items.length === 0) {
      storage?.removeItem(storageKey(userId))
      return
    }
    const rows = items.map((o) => ({ clientMsgId: o.clientMsgId, roomId: o.roomId.toString(), body: o.body, createdAt: o.createdAt.getTime() }))
    storage?.setItem(storageKey(userId), JSON.stringify(rows))
  } catch {
    // storage full or disabled: the outbox still works for as long as the page lives
  }
}
