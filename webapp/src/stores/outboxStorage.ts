// Unsent messages kept in IndexedDB, per user, so that they survive a reload,
// a closed tab or a trip to the login page when the server forgot the session
// (Redis restarted empty). Only what is needed to send them again is kept,
// with their client_msg_id, so a resend is never stored twice; tokens never go
// here. Writes are chained, so the last state saved is the one kept.
import { createStore, del, get, set, type UseStore } from 'idb-keyval'

/** SavedMessage is one unsent message as stored. */
export interface SavedMessage {
  clientMsgId: string
  roomId: bigint
  body: string
  createdAt: Date
  /** The seq of the message this one answers; 0n for none. */
  replyToSeq: bigint
  /** Uploads sent with it (stored already, so a resend names the same ones). */
  attachmentIds: string[]
}

interface Row {
  clientMsgId: string
  roomId: string
  body: string
  createdAt: number
  replyToSeq?: string
  attachmentIds?: string[]
}

const keyPrefix = 'parley.outbox.'
let db: UseStore | null = null
let writes: Promise<void> = Promise.resolve()

function store(): UseStore | null {
  if (!globalThis.indexedDB) return null
  db ??= createStore('parley', 'outbox')
  return db
}

function storageKey(userId: bigint): string {
  return keyPrefix + userId.toString()
}

const isSeq = (s: unknown) => typeof s === 'string' && /^\d+$/.test(s)

/** loadOutbox returns a user's saved messages, oldest first; none when the entry is missing or unreadable. */
export async function loadOutbox(userId: bigint): Promise<SavedMessage[]> {
  const s = store()
  if (!s) return []
  try {
    await writes
    const rows = ((await get<Row[]>(storageKey(userId), s)) ?? []).filter(
      (o) => typeof o.clientMsgId === 'string' && typeof o.body === 'string' && isSeq(o.roomId),
    )
    return rows.map((o) => ({
      clientMsgId: o.clientMsgId,
      roomId: BigInt(o.roomId),
      body: o.body,
      createdAt: new Date(o.createdAt),
      replyToSeq: isSeq(o.replyToSeq) ? BigInt(o.replyToSeq!) : 0n,
      attachmentIds: Array.isArray(o.attachmentIds) ? o.attachmentIds.filter((id) => typeof id === 'string') : [],
    }))
  } catch {
    return []
  }
}

/** saveOutbox stores a user's unsent messages, or removes the entry when there are none; it resolves once written. */
export function saveOutbox(userId: bigint, items: readonly SavedMessage[]): Promise<void> {
  const s = store()
  if (!s) return writes
  const rows: Row[] = items.map((o) => ({
    clientMsgId: o.clientMsgId,
    roomId: o.roomId.toString(),
    body: o.body,
    createdAt: o.createdAt.getTime(),
    replyToSeq: o.replyToSeq.toString(),
    attachmentIds: [...o.attachmentIds],
  }))
  writes = writes
    .then(() => (rows.length === 0 ? del(storageKey(userId), s) : set(storageKey(userId), rows, s)))
    .catch(() => {
      // storage full or disabled: the outbox still works for as long as the page lives
    })
  return writes
}
