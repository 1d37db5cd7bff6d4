// Each room's messages, kept sorted by seq without duplicates however they
// arrive (history pages, live events, replays after a reconnect, send
// acknowledgements), the outbox of messages not yet acknowledged, and the
// per-room cursor a reconnect resumes from.
import { defineStore } from 'pinia'
import { reactive, ref } from 'vue'
import type { Message } from '@/gen/chat/v1/types_pb'
import { messageClient } from '@/api/client'
import { describeError, isRetryable } from '@/api/errors'
import { backoffDelay } from '@/realtime/backoff'
import type { RoomCursorInit } from '@/realtime/live'

/** How many messages one history page asks for. */
export const pageSize = 50
/** A failing send is retried after at most this long. */
export const sendRetryMaxMs = 10_000

/** RoomLog is what the client holds of one room's history: a contiguous run of seqs ending at the newest known. */
export interface RoomLog {
  items: Message[]
  /** Whether older messages exist than the first item. */
  hasOlder: boolean
  loadingOlder: boolean
  /** Whether the newest page has been fetched at least once. */
  loaded: boolean
}

/** OutgoingState is where an unacknowledged message stands. */
export type OutgoingState = 'sending' | 'retrying' | 'failed'

/** Outgoing is a message the user sent that the server has not acknowledged yet. */
export interface Outgoing {
  clientMsgId: string
  roomId: bigint
  body: string
  state: OutgoingState
  attempts: number
  error: string
  createdAt: Date
}

/** mergeBySeq returns `into` plus `more`, sorted by seq, one message per seq (the first one kept). */
export function mergeBySeq(into: readonly Message[], more: readonly Message[]): { items: Message[]; added: Message[] } {
  const seen = new Set(into.map((m) => m.seq))
  const added: Message[] = []
  for (const m of more) {
    if (seen.has(m.seq)) continue
    seen.add(m.seq)
    added.push(m)
  }
  if (added.length === 0) return { items: into as Message[], added }
  const items = [...into, ...added].sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0))
  return { items, added }
}

const key = (roomId: bigint) => roomId.toString()

/** useMessagesStore holds messages, the outbox and resume cursors. */
export const useMessagesStore = defineStore('messages', () => {
  const logs = reactive<Record<string, RoomLog>>({})
  const cursors = reactive<Record<string, bigint>>({})
  const outbox = ref<Outgoing[]>([])
  const retryTimers = new Map<string, ReturnType<typeof setTimeout>>()
  const inFlight = new Set<string>()

  function log(roomId: bigint): RoomLog {
    const k = key(roomId)
    if (!logs[k]) logs[k] = { items: [], hasOlder: false, loadingOlder: false, loaded: false }
    return logs[k]
  }

  /** merge adds messages to a room and returns those that were new. */
  function merge(roomId: bigint, msgs: readonly Message[]): Message[] {
    const l = log(roomId)
    const { items, added } = mergeBySeq(l.items, msgs)
    l.items = items
    if (items.length > 0) {
      l.hasOlder = items[0].seq > 1n
      advanceCursor(roomId, items[items.length - 1].seq)
    }
    const ids = new Set(msgs.map((m) => m.clientMsgId).filter(Boolean))
    if (ids.size > 0) settle(ids)
    return added
  }

  /** advanceCursor moves a room's resume cursor forward, never back. */
  function advanceCursor(roomId: bigint, seq: bigint): void {
    const k = key(roomId)
    if (cursors[k] === undefined || cursors[k] < seq) cursors[k] = seq
  }

  /** trackRoom starts a resume cursor at the room's newest seq if the client holds none yet. */
  function trackRoom(roomId: bigint, lastSeq: bigint): void {
    const k = key(roomId)
    if (cursors[k] === undefined) cursors[k] = lastSeq
  }

  /** resumeCursors lists where each of the given rooms should resume. */
  function resumeCursors(roomIds: Iterable<bigint>): RoomCursorInit[] {
    const out: RoomCursorInit[] = []
    for (const id of roomIds) {
      const c = cursors[key(id)]
      if (c !== undefined) out.push({ roomId: id, afterSeq: c })
    }
    return out
  }

  /** loadLatest fetches a room's newest page. */
  async function loadLatest(roomId: bigint): Promise<void> {
    const res = await messageClient.listMessages({ roomId, limit: pageSize })
    const l = log(roomId)
    merge(roomId, res.messages)
    l.loaded = true
    if (l.items.length > 0) l.hasOlder = l.items[0].seq > 1n
    else l.hasOlder = false
  }

  /** loadOlder fetches the page before the oldest message held; false when there is nothing more. */
  async function loadOlder(roomId: bigint): Promise<boolean> {
    const l = log(roomId)
    if (l.loadingOlder || !l.hasOlder || l.items.length === 0) return false
    l.loadingOlder = true
    try {
      const res = await messageClient.listMessages({ roomId, beforeSeq: l.items[0].seq, limit: pageSize })
      merge(roomId, res.messages)
      if (!res.hasMore && res.messages.length === 0) l.hasOlder = false
      return res.messages.length > 0
    } finally {
      l.loadingOlder = false
    }
  }

  /**
   * skipAhead handles a resume the server cut short: the messages between
   * afterSeq and lastSeq were not replayed, so the room's log restarts from the
   * newest page and older ones load on scroll as usual.
   */
  async function skipAhead(roomId: bigint, lastSeq: bigint): Promise<void> {
    const l = log(roomId)
    l.items = l.items.filter((m) => m.seq > lastSeq)
    advanceCursor(roomId, lastSeq)
    await loadLatest(roomId)
  }

  /** send queues a message and delivers it, retrying with the same client_msg_id until acknowledged. */
  function send(roomId: bigint, body: string): Outgoing {
    const o = reactive<Outgoing>({
      clientMsgId: crypto.randomUUID(),
      roomId,
      body,
      state: 'sending',
      attempts: 0,
      error: '',
      createdAt: new Date(),
    })
    outbox.value.push(o)
    void deliver(o.clientMsgId)
    return o
  }

  function find(clientMsgId: string): Outgoing | undefined {
    return outbox.value.find((o) => o.clientMsgId === clientMsgId)
  }

  async function deliver(clientMsgId: string): Promise<void> {
    const o = find(clientMsgId)
    if (!o || inFlight.has(clientMsgId)) return
    clearRetry(clientMsgId)
    inFlight.add(clientMsgId)
    o.attempts++
    if (o.state === 'failed') o.state = 'sending'
    try {
      const res = await messageClient.sendMessage({ roomId: o.roomId, body: o.body, clientMsgId })
      inFlight.delete(clientMsgId)
      if (res.message) merge(o.roomId, [res.message])
      settle(new Set([clientMsgId]))
    } catch (e) {
      inFlight.delete(clientMsgId)
      if (!find(clientMsgId)) return // acknowledged meanwhile by a live event
      o.error = describeError(e)
      if (!isRetryable(e)) {
        o.state = 'failed'
        return
      }
      o.state = 'retrying'
      const wait = Math.min(sendRetryMaxMs, backoffDelay(o.attempts - 1))
      retryTimers.set(clientMsgId, setTimeout(() => void deliver(clientMsgId), wait))
    }
  }

  function clearRetry(clientMsgId: string): void {
    const t = retryTimers.get(clientMsgId)
    if (t) clearTimeout(t)
    retryTimers.delete(clientMsgId)
  }

  /** settle drops acknowledged messages from the outbox. */
  function settle(ids: Set<string>): void {
    if (!outbox.value.some((o) => ids.has(o.clientMsgId))) return
    for (const id of ids) clearRetry(id)
    outbox.value = outbox.value.filter((o) => !ids.has(o.clientMsgId))
  }

  /** retry sends a failed message again, with its original client_msg_id. */
  function retry(clientMsgId: string): void {
    void deliver(clientMsgId)
  }

  /** retryAll resends everything waiting, e.g. once the connection is back. */
  function retryAll(): void {
    for (const o of outbox.value) if (o.state === 'retrying') void deliver(o.clientMsgId)
  }

  /** discard gives up on a message that was not sent. */
  function discard(clientMsgId: string): void {
    clearRetry(clientMsgId)
    outbox.value = outbox.value.filter((o) => o.clientMsgId !== clientMsgId)
  }

  /** pendingIn lists a room's unacknowledged messages, oldest first. */
  function pendingIn(roomId: bigint): Outgoing[] {
    return outbox.value.filter((o) => o.roomId === roomId)
  }

  /** forgetRoom drops what is held of a room the user left. */
  function forgetRoom(roomId: bigint): void {
    delete logs[key(roomId)]
    delete cursors[key(roomId)]
  }

  /** $reset forgets everything (logout). */
  function $reset(): void {
    for (const k of Object.keys(logs)) delete logs[k]
    for (const k of Object.keys(cursors)) delete cursors[k]
    for (const id of retryTimers.keys()) clearRetry(id)
    inFlight.clear()
    outbox.value = []
  }

  return {
    logs,
    cursors,
    outbox,
    log,
    merge,
    advanceCursor,
    trackRoom,
    resumeCursors,
    loadLatest,
    loadOlder,
    skipAhead,
    send,
    retry,
    retryAll,
    discard,
    pendingIn,
    forgetRoom,
    $reset,
  }
})
