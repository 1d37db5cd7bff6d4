// The outbox: messages the user sent that the server has not acknowledged.
// Each room's messages are stored in the order they were typed, so a room has
// at most one send in flight, and only its oldest message (the head) is ever
// sent; the others wait behind it. A head that cannot go yet is retried with
// the same client_msg_id (SendMessage is idempotent on it), after the wait the
// server asks for when it is the rate limit, with backoff otherwise. A head
// the server refuses for itself (invalid_argument and the like) would be
// refused again however often it is sent: it is set aside as failed, with the
// server's reason, and the messages behind it go on, as a person expects; it
// stays in its place until the user retries or removes it.
import { reactive } from 'vue'
import { Code, ConnectError } from '@connectrpc/connect'
import type { Message } from '@/gen/chat/v1/types_pb'
import { isRetryable, retryDelayMs } from '@/api/errors'
import { backoffDelay } from '@/realtime/backoff'
import type { SavedMessage } from './outboxStorage'

/** A failing send is retried after at most this long, unless the server asks for longer. */
export const sendRetryMaxMs = 10_000
/** Added to the server's rate-limit wait, so the retry lands after the bucket refilled. */
export const rateLimitSlackMs = 50

/** OutgoingState is where an unacknowledged message stands. */
export type OutgoingState = 'queued' | 'sending' | 'waiting' | 'failed'

/** WaitReason says why a room's head is waiting, for the user. */
export type WaitReason = 'rateLimit' | 'offline' | 'unavailable' | 'signedOut'

/** Outgoing is a message the user sent that the server has not acknowledged yet. */
export interface Outgoing extends SavedMessage {
  state: OutgoingState
  attempts: number
  /** Why a waiting message waits; null otherwise. */
  reason: WaitReason | null
  /** When a waiting message is tried again, in ms since the epoch; 0 when not timed. */
  retryAt: number
  /** The server's reason for refusing a failed message. */
  error: string
}

/** OutboxDeps is what the outbox needs from the rest of the app. */
export interface OutboxDeps {
  /** send delivers one message and returns what the server stored. */
  send: (o: Outgoing) => Promise<Message | undefined>
  /** stored hands an acknowledged message to the room's log. */
  stored: (o: Outgoing, m: Message | undefined) => void
  /** changed is told the messages waiting, whenever the set changes, to keep them. */
  changed: (items: readonly Outgoing[]) => void
  /** online says whether the browser thinks it has a network. */
  online?: () => boolean
  now?: () => number
  random?: () => number
}

/** Hold is what to do with a head whose send failed. */
type Hold = { kind: 'wait'; reason: WaitReason; ms: number } | { kind: 'signedOut' } | { kind: 'refused'; message: string }

const key = (roomId: bigint) => roomId.toString()

/** Outbox keeps unacknowledged messages and delivers them in order, room by room. */
export class Outbox {
  /** Every unacknowledged message, in the order typed; reactive, for the UI. */
  readonly items: Outgoing[] = reactive([])
  private readonly busy = new Set<string>()
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>()
  private paused = true
  private readonly now: () => number

  constructor(private readonly deps: OutboxDeps) {
    this.now = deps.now ?? (() => Date.now())
  }

  /** add queues a new message (a reply when replyToSeq is set, with stored uploads' ids) and returns it. */
  add(roomId: bigint, body: string, replyToSeq = 0n, attachmentIds: readonly string[] = []): Outgoing {
    this.items.push(outgoing({ clientMsgId: crypto.randomUUID(), roomId, body, createdAt: new Date(this.now()), replyToSeq, attachmentIds: [...attachmentIds] }))
    const o = this.items[this.items.length - 1]
    this.changed()
    this.pump(roomId)
    return o
  }

  /**
   * load puts back messages kept from before (a reload, another login), ahead
   * of those typed while they were being read; messages of another user are
   * dropped first (clear).
   */
  load(saved: readonly SavedMessage[]): void {
    const typed = this.items.filter((o) => !saved.some((s) => s.clientMsgId === o.clientMsgId))
    this.items.splice(0, this.items.length, ...saved.map(outgoing), ...typed)
    if (saved.length > 0) this.changed()
  }

  /** start delivers, e.g. once a user is logged in; what waited for the network or the login goes at once. */
  start(): void {
    this.paused = false
    this.retryNow(['offline', 'unavailable', 'signedOut'])
  }

  /** pause stops delivering, keeping every message, e.g. when the session ended. */
  pause(): void {
    this.paused = true
    for (const t of this.timers.values()) clearTimeout(t)
    this.timers.clear()
  }

  /** kick retries at once the heads that wait for the network, e.g. once the connection is back. */
  kick(): void {
    this.retryNow(['offline', 'unavailable'])
  }

  /** settle drops acknowledged messages, e.g. when their live event arrives first. */
  settle(ids: ReadonlySet<string>): void {
    const rooms = this.remove((o) => ids.has(o.clientMsgId))
    for (const room of rooms) this.pump(room)
  }

  /** retry sends a failed message again, with its original client_msg_id. */
  retry(clientMsgId: string): void {
    const o = this.items.find((x) => x.clientMsgId === clientMsgId)
    if (!o || o.state !== 'failed') return
    patch(o, { state: 'queued', error: '', reason: null, retryAt: 0 })
    this.clearTimer(o.roomId) // it may now be the head: it goes first
    this.pump(o.roomId)
  }

  /** discard gives up on a message that was not sent. */
  discard(clientMsgId: string): void {
    for (const room of this.remove((o) => o.clientMsgId === clientMsgId && o.state !== 'sending')) this.pump(room)
  }

  /** clear forgets every message (another user, or logout). */
  clear(): void {
    this.pause()
    this.items.splice(0)
  }

  /** inRoom lists a room's unacknowledged messages, oldest first. */
  inRoom(roomId: bigint): Outgoing[] {
    return this.items.filter((o) => o.roomId === roomId)
  }

  /** head is the message a room sends next (or is sending); failed ones are passed over. */
  head(roomId: bigint): Outgoing | undefined {
    return this.items.find((o) => o.roomId === roomId && o.state !== 'failed')
  }

  /** retryNow cuts short the waits for the given reasons (never the rate limit's: the server would refuse again). */
  private retryNow(reasons: readonly WaitReason[]): void {
    for (const room of this.rooms()) {
      const head = this.head(room)
      if (head?.state === 'waiting' && head.reason && reasons.includes(head.reason)) {
        head.retryAt = 0
        this.clearTimer(room)
      }
      this.pump(room)
    }
  }

  private pump(roomId: bigint): void {
    const k = key(roomId)
    if (this.paused || this.busy.has(k) || this.timers.has(k)) return
    const head = this.head(roomId)
    if (!head) return
    const wait = head.retryAt - this.now()
    if (wait > 0) {
      this.timers.set(
        k,
        setTimeout(() => {
          this.timers.delete(k)
          this.pump(roomId)
        }, wait),
      )
      return
    }
    void this.deliver(head)
  }

  private async deliver(head: Outgoing): Promise<void> {
    const k = key(head.roomId)
    this.busy.add(k)
    head.state = 'sending'
    head.attempts++
    try {
      const m = await this.deps.send(head)
      this.deps.stored(head, m)
      this.settle(new Set([head.clientMsgId]))
    } catch (e) {
      if (this.items.some((o) => o.clientMsgId === head.clientMsgId)) this.hold(head, e)
    } finally {
      this.busy.delete(k)
    }
    this.pump(head.roomId)
  }

  private hold(head: Outgoing, e: unknown): void {
    const h = this.classify(head, e)
    switch (h.kind) {
      case 'refused':
        patch(head, { state: 'failed', error: h.message, reason: null, retryAt: 0 })
        return
      case 'signedOut':
        // Every room would be refused alike: stop until a login starts the outbox again.
        patch(head, { state: 'waiting', reason: 'signedOut', retryAt: 0 })
        this.pause()
        return
      case 'wait':
        patch(head, { state: 'waiting', reason: h.reason, retryAt: this.now() + h.ms })
    }
  }

  private classify(head: Outgoing, e: unknown): Hold {
    const err = ConnectError.from(e)
    if (err.code === Code.Unauthenticated) return { kind: 'signedOut' }
    if (err.code === Code.ResourceExhausted) {
      const ms = retryDelayMs(err)
      return { kind: 'wait', reason: 'rateLimit', ms: ms === null ? this.backoff(head) : ms + rateLimitSlackMs }
    }
    if (!isRetryable(err)) return { kind: 'refused', message: err.rawMessage }
    const offline = this.deps.online?.() === false
    return { kind: 'wait', reason: offline ? 'offline' : 'unavailable', ms: this.backoff(head) }
  }

  private backoff(head: Outgoing): number {
    return Math.min(sendRetryMaxMs, backoffDelay(head.attempts - 1, this.deps.random))
  }

  /** remove drops the matching messages and returns the rooms they were in. */
  private remove(match: (o: Outgoing) => boolean): bigint[] {
    const rooms = new Map<string, bigint>()
    for (let i = this.items.length - 1; i >= 0; i--) {
      const o = this.items[i]
      if (!match(o)) continue
      rooms.set(key(o.roomId), o.roomId)
      this.items.splice(i, 1)
    }
    if (rooms.size === 0) return []
    for (const room of rooms.values()) if (!this.busy.has(key(room))) this.clearTimer(room)
    this.changed()
    return [...rooms.values()]
  }

  private clearTimer(roomId: bigint): void {
    const k = key(roomId)
    const t = this.timers.get(k)
    if (t) clearTimeout(t)
    this.timers.delete(k)
  }

  private rooms(): bigint[] {
    return [...new Map(this.items.map((o) => [key(o.roomId), o.roomId])).values()]
  }

  private changed(): void {
    this.deps.changed(this.items)
  }
}

function outgoing(s: SavedMessage): Outgoing {
  return { ...s, state: 'queued', attempts: 0, reason: null, retryAt: 0, error: '' }
}

function patch(o: Outgoing, changes: Partial<Outgoing>): void {
  Object.assign(o, changes)
}
