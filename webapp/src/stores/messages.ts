// Each room's messages, kept sorted by seq without duplicates however they
// arrive (history pages, live events, replays after a reconnect, send
// acknowledgements), in their current state (edits, tombstones, reactions
// applied as their log entries arrive), the outbox of messages not yet
// acknowledged (outbox.ts), and the per-room cursor a reconnect resumes from:
// the seq of the last log entry seen, whatever its kind.
import { defineStore } from 'pinia'
import { reactive } from 'vue'
import { create } from '@bufbuild/protobuf'
import { ReactionSchema, type Message } from '@/gen/chat/v1/types_pb'
import { messageClient } from '@/api/client'
import type { RoomCursorInit } from '@/realtime/live'
import { Outbox, type Outgoing } from './outbox'
import { loadOutbox, saveOutbox } from './outboxStorage'

export type { Outgoing, OutgoingState, WaitReason } from './outbox'

/** How many messages one history page asks for. */
export const pageSize = 50
/** At most this many messages are asked for at once to sign their attachments' URLs. */
export const signBatch = 200
/** A message is read again for new download links this long before its links expire. */
export const renewAhead = 5 * 60_000
/** Links are renewed at most this often, whatever the clocks say. */
export const renewEvery = 60_000
/** Jumping to an old message loads pages of this size, at most jumpPages of them. */
export const jumpPageSize = 200
export const jumpPages = 10

/** RoomLog is what the client holds of one room's history: a contiguous run of seqs ending at the newest known. */
export interface RoomLog {
  items: Message[]
  /** Whether older messages exist than the first item. */
  hasOlder: boolean
  loadingOlder: boolean
  /** Whether the newest page has been fetched at least once. */
  loaded: boolean
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

/**
 * linksExpire is when the first of a message's signed download links
 * expires (their `exp`, in ms since the epoch), undefined with none.
 */
export function linksExpire(m: Message): number | undefined {
  let first: number | undefined
  for (const a of m.attachments) {
    for (const u of [a.url, a.thumbnailUrl]) {
      const exp = u ? Number(new URLSearchParams(u.split('?')[1] ?? '').get('exp')) * 1000 : 0
      if (exp > 0 && (first === undefined || exp < first)) first = exp
    }
  }
  return first
}

/**
 * countReaction applies one reaction added or removed to a message's list.
 * A change by the user that the list already shows (the optimistic update,
 * then its event) is not counted twice.
 */
export function countReaction(m: Message, emoji: string, added: boolean, mine: boolean): void {
  const i = m.reactions.findIndex((r) => r.emoji === emoji)
  const r = i >= 0 ? m.reactions[i] : undefined
  if (mine && r && r.me === added) return
  if (added) {
    if (r) {
      r.count++
      if (mine) r.me = true
    } else if (mine || !m.deleted) m.reactions.push(create(ReactionSchema, { emoji, count: 1n, me: mine }))
    return
  }
  if (!r) return
  r.count--
  if (mine) r.me = false
  if (r.count <= 0n) m.reactions.splice(i, 1)
}

/** tombstone turns a message into what is left of it once deleted. */
export function tombstone(m: Message): void {
  m.deleted = true
  m.body = ''
  m.attachments = []
  m.reactions = []
  m.mentionUserIds = []
  m.mentionsRoom = false
}

/** useMessagesStore holds messages, the outbox and resume cursors. */
export const useMessagesStore = defineStore('messages', () => {
  const logs = reactive<Record<string, RoomLog>>({})
  const cursors = reactive<Record<string, bigint>>({})
  /** Per room, the seqs of messages held whose attachments wait for signed URLs. */
  const unsigned = new Map<string, Set<bigint>>()
  /** The timer that renews links before they expire (renewLinks), and when it fires. */
  let renewTimer: ReturnType<typeof setTimeout> | undefined
  let renewAt = Infinity
  /** The user whose outbox this is; null before a login. */
  let owner: bigint | null = null
  const box = new Outbox({
    send: async (o) =>
      (
        await messageClient.sendMessage({ roomId: o.roomId, body: o.body, clientMsgId: o.clientMsgId, replyToSeq: o.replyToSeq, attachmentIds: o.attachmentIds })
      ).message,
    stored: (o, m) => {
      if (m) merge(o.roomId, [m])
    },
    changed: (items) => {
      if (owner !== null) void saveOutbox(owner, items)
    },
    online: () => globalThis.navigator?.onLine !== false,
  })
  const outbox = box.items

  function log(roomId: bigint): RoomLog {
    const k = key(roomId)
    if (!logs[k]) logs[k] = { items: [], hasOlder: false, loadingOlder: false, loaded: false }
    return logs[k]
  }

  /** find returns the message a room holds with that seq. */
  function find(roomId: bigint, seq: bigint): Message | undefined {
    return logs[key(roomId)]?.items.find((m) => m.seq === seq)
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
    if (ids.size > 0) box.settle(ids)
    const unsignedSeqs = added.filter((m) => m.attachments.some((a) => !a.url)).map((m) => m.seq)
    if (unsignedSeqs.length > 0) signLater(roomId, unsignedSeqs)
    watchLinks(added)
    return added
  }

  /**
   * watchLinks makes sure the messages' download links are renewed before
   * they expire (an hour after signing, by default): a tab left open keeps
   * showing its images and playing its voice messages.
   */
  function watchLinks(msgs: readonly Message[]): void {
    let first = Infinity
    for (const m of msgs) first = Math.min(first, linksExpire(m) ?? Infinity)
    const at = Math.max(first - renewAhead, Date.now() + renewEvery)
    if (first === Infinity || at >= renewAt) return
    clearTimeout(renewTimer)
    renewAt = at
    renewTimer = setTimeout(renewLinks, at - Date.now())
  }

  /**
   * renewLinks reads again the messages whose links expire soon and watches
   * every message held: one whose renewal fails (offline) is tried again
   * renewEvery later.
   */
  function renewLinks(): void {
    renewTimer = undefined
    renewAt = Infinity
    const due = Date.now() + renewAhead
    for (const [k, l] of Object.entries(logs)) {
      const soon = l.items.filter((m) => !m.deleted && (linksExpire(m) ?? Infinity) <= due)
      if (soon.length > 0) signLater(BigInt(k), soon.map((m) => m.seq))
      watchLinks(l.items)
    }
  }

  /**
   * signLater gets the download URLs of messages that came without them:
   * live events carry attachments unsigned (one encoding serves every
   * receiver, and URLs are signed per session), so the messages are read
   * again with ListMessages, which signs them. Messages arriving together are
   * read in one call.
   */
  function signLater(roomId: bigint, seqs: readonly bigint[]): void {
    const k = key(roomId)
    const first = !unsigned.has(k)
    const set = unsigned.get(k) ?? new Set<bigint>()
    for (const s of seqs) set.add(s)
    unsigned.set(k, set)
    if (first) queueMicrotask(() => void sign(roomId).catch(() => {}))
  }

  /** sign reads the room's messages waiting for URLs, signBatch seqs a call. */
  async function sign(roomId: bigint): Promise<void> {
    const k = key(roomId)
    let seqs = [...(unsigned.get(k) ?? [])].sort((a, b) => (a < b ? -1 : 1))
    unsigned.delete(k)
    while (seqs.length > 0) {
      const lo = seqs[0]
      const window = seqs.filter((s) => s < lo + BigInt(signBatch))
      seqs = seqs.slice(window.length)
      const span = Number(window[window.length - 1] - lo) + 1
      const res = await messageClient.listMessages({ roomId, afterSeq: lo - 1n, limit: span })
      for (const m of res.messages) {
        const held = find(roomId, m.seq)
        if (held && !held.deleted) held.attachments = m.attachments
      }
      watchLinks(res.messages)
    }
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
  async function loadOlder(roomId: bigint, limit = pageSize): Promise<boolean> {
    const l = log(roomId)
    if (l.loadingOlder || !l.hasOlder || l.items.length === 0) return false
    l.loadingOlder = true
    try {
      const res = await messageClient.listMessages({ roomId, beforeSeq: l.items[0].seq, limit })
      merge(roomId, res.messages)
      if (!res.hasMore && res.messages.length === 0) l.hasOlder = false
      return res.messages.length > 0
    } finally {
      l.loadingOlder = false
    }
  }

  /**
   * loadBack loads older pages until the room holds seq (the log stays one
   * contiguous run), e.g. to jump to the message a reply quotes; false when
   * it is further back than jumpPages pages.
   */
  async function loadBack(roomId: bigint, seq: bigint): Promise<boolean> {
    const l = log(roomId)
    for (let i = 0; i < jumpPages; i++) {
      if (l.items.length > 0 && l.items[0].seq <= seq) return true
      if (!l.loaded) await loadLatest(roomId)
      else if (!(await loadOlder(roomId, jumpPageSize))) break
    }
    return l.items.length > 0 && l.items[0].seq <= seq
  }

  /**
   * loadAround makes the room hold seq with context on both sides, e.g. to
   * open a search hit: the page around it (ListMessages around_seq), then the
   * pages between it and what is held, so the log stays one contiguous run;
   * false when that gap is wider than jumpPages pages.
   */
  async function loadAround(roomId: bigint, seq: bigint): Promise<boolean> {
    const l = log(roomId)
    if (!l.loaded) await loadLatest(roomId)
    if (find(roomId, seq)) {
      const context = BigInt(pageSize / 2)
      await loadBack(roomId, seq > context ? seq - context : 1n) // context above it
      return true
    }
    const res = await messageClient.listMessages({ roomId, aroundSeq: seq, limit: pageSize })
    let page = res.messages
    for (let i = 0; i < jumpPages && page.length > 0; i++) {
      const last = page[page.length - 1].seq
      const held = l.items[0]?.seq
      if (held === undefined || last + 1n >= held) {
        merge(roomId, page)
        return !!find(roomId, seq)
      }
      page = [...page, ...(await messageClient.listMessages({ roomId, afterSeq: last, limit: jumpPageSize })).messages]
    }
    return false
  }

  /** applyEdit shows a message's new body; the reactions held stay (the event carries none). */
  function applyEdit(roomId: bigint, edited: Message): void {
    const m = find(roomId, edited.seq)
    if (!m || m.deleted) return
    m.body = edited.body
    m.editedAt = edited.editedAt
    m.mentionUserIds = edited.mentionUserIds
    m.mentionsRoom = edited.mentionsRoom
  }

  /** applyDelete makes a message a tombstone, and the quotes of it too. */
  function applyDelete(roomId: bigint, seq: bigint): void {
    for (const m of logs[key(roomId)]?.items ?? []) {
      if (m.seq === seq) tombstone(m)
      else if (m.replyTo?.seq === seq) {
        m.replyTo.deleted = true
        m.replyTo.excerpt = ''
      }
    }
  }

  /** applyReaction counts a reaction added or removed; mine says it was the user's own. */
  function applyReaction(roomId: bigint, seq: bigint, emoji: string, added: boolean, mine: boolean): void {
    const m = find(roomId, seq)
    if (m) countReaction(m, emoji, added, mine)
  }

  /** edit replaces the body of one of the user's messages. */
  async function edit(roomId: bigint, seq: bigint, body: string): Promise<void> {
    const res = await messageClient.editMessage({ roomId, messageSeq: seq, body })
    if (res.message) applyEdit(roomId, res.message)
  }

  /** remove deletes a message (the user's own, or any in a room the user owns). */
  async function remove(roomId: bigint, seq: bigint): Promise<void> {
    await messageClient.deleteMessage({ roomId, messageSeq: seq })
    applyDelete(roomId, seq)
  }

  /** toggleReaction adds the user's reaction, or takes it back when it is there; shown at once, undone if refused. */
  async function toggleReaction(roomId: bigint, seq: bigint, emoji: string): Promise<void> {
    const m = find(roomId, seq)
    const add = !m?.reactions.some((r) => r.emoji === emoji && r.me)
    applyReaction(roomId, seq, emoji, add, true)
    try {
      if (add) await messageClient.addReaction({ roomId, messageSeq: seq, emoji })
      else await messageClient.removeReaction({ roomId, messageSeq: seq, emoji })
    } catch (e) {
      applyReaction(roomId, seq, emoji, !add, true)
      throw e
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

  /** send queues a message (a reply when replyToSeq is set, with uploads' ids); the outbox delivers it in order, retrying with the same client_msg_id until acknowledged. */
  function send(roomId: bigint, body: string, replyToSeq = 0n, attachmentIds: readonly string[] = []): Outgoing {
    return box.add(roomId, body, replyToSeq, attachmentIds)
  }

  /** retry sends a failed message again, with its original client_msg_id. */
  function retry(clientMsgId: string): void {
    box.retry(clientMsgId)
  }

  /** retryAll retries at once what waits for the network, e.g. once the connection is back. */
  function retryAll(): void {
    box.kick()
  }

  /** discard gives up on a message that was not sent. */
  function discard(clientMsgId: string): void {
    box.discard(clientMsgId)
  }

  /** pendingIn lists a room's unacknowledged messages, oldest first. */
  function pendingIn(roomId: bigint): Outgoing[] {
    return box.inRoom(roomId)
  }

  /** headOf is the message a room sends next, whose state says why the others wait. */
  function headOf(roomId: bigint): Outgoing | undefined {
    return box.head(roomId)
  }

  /**
   * adopt starts delivering the outbox of the user who just logged in: the
   * messages held since the session ended, or kept in this browser from
   * before a reload; it resolves once they are back.
   */
  async function adopt(userId: bigint): Promise<void> {
    if (owner !== userId) {
      if (owner !== null) box.clear()
      owner = userId
      const saved = await loadOutbox(userId)
      if (owner !== userId) return // another login came first
      box.load(saved)
    }
    box.start()
  }

  /** suspend stops delivering but keeps the outbox, for when the session ended. */
  function suspend(): void {
    box.pause()
  }

  /** dropOutbox forgets the unsent messages, here and in the tab's storage (logout). */
  function dropOutbox(): void {
    box.clear()
    if (owner !== null) void saveOutbox(owner, [])
    owner = null
  }

  /** forgetRoom drops what is held of a room the user left. */
  function forgetRoom(roomId: bigint): void {
    delete logs[key(roomId)]
    delete cursors[key(roomId)]
  }

  /** $reset forgets the rooms' messages and cursors; the outbox is kept until dropOutbox. */
  function $reset(): void {
    clearTimeout(renewTimer)
    renewTimer = undefined
    renewAt = Infinity
    for (const k of Object.keys(logs)) delete logs[k]
    for (const k of Object.keys(cursors)) delete cursors[k]
  }

  return {
    logs,
    cursors,
    outbox,
    log,
    find,
    merge,
    advanceCursor,
    trackRoom,
    resumeCursors,
    loadLatest,
    loadOlder,
    loadBack,
    loadAround,
    applyEdit,
    applyDelete,
    applyReaction,
    edit,
    remove,
    toggleReaction,
    skipAhead,
    send,
    retry,
    retryAll,
    discard,
    pendingIn,
    headOf,
    adopt,
    suspend,
    dropOutbox,
    forgetRoom,
    $reset,
  }
})
