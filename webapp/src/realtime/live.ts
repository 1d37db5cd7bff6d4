// LiveSocket keeps one WebSocket to /ws open: it authenticates and resumes
// every room from the caller's cursors in its first frame, pings to notice
// dead connections, and reconnects with backoff after a drop. It knows
// nothing of Vue or Pinia.
import { create, fromBinary, fromJson, toJson, type MessageInitShape } from '@bufbuild/protobuf'
import {
  ClientFrameSchema,
  RoomCursorSchema,
  ServerFrameSchema,
  ServerFramesSchema,
  type Event,
  type Ready,
  type ServerFrame,
} from '@/gen/chat/v1/event_pb'
import { backoffDelay } from './backoff'

/** How often a Ping is sent on a quiet connection. */
export const pingIntervalMs = 20_000
/** A Pong later than this means the connection is dead. */
export const pongTimeoutMs = 10_000

/**
 * batchProtocol is the subprotocol whose every server message is one binary
 * ServerFrames: a busy room's burst arrives as one message, not one per event.
 */
export const batchProtocol = 'parley.v1.batch.proto'

/**
 * liveProtocols are the subprotocols asked for, preferred first. A server
 * older than subprotocols picks none, and then speaks JSON text frames, as
 * parley.v1.json does.
 */
export const liveProtocols = [batchProtocol, 'parley.v1.json']

/** LiveStatus is what the connection indicator shows. */
export type LiveStatus = 'idle' | 'connecting' | 'online' | 'waiting'

/** RoomCursorInit is the last seq the client holds in one room. */
export type RoomCursorInit = MessageInitShape<typeof RoomCursorSchema>

/** SocketLike is the part of the browser's WebSocket that LiveSocket uses. */
export interface SocketLike {
  readonly readyState: number
  /** The subprotocol the server chose, '' for none; known once open. */
  readonly protocol: string
  binaryType: 'blob' | 'arraybuffer'
  onopen: ((ev: unknown) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  onclose: ((ev: unknown) => void) | null
  onerror: ((ev: unknown) => void) | null
  send(data: string): void
  close(code?: number, reason?: string): void
}

/** LiveOptions wires a LiveSocket to the rest of the app. */
export interface LiveOptions {
  url: string
  /** A current access token, or null when logged out. */
  token: () => Promise<string | null>
  /** A new token after the server refused `rejected`; null when the session is over. */
  renewToken: (rejected: string) => Promise<string | null>
  /**
   * Where to resume each room, asked as each connection opens: the server
   * replays those rooms first, then their live events follow.
   */
  cursors: () => RoomCursorInit[]
  onReady: (ready: Ready) => void
  onEvent: (event: Event) => void
  onStatus: (status: LiveStatus, retryAt: number | null) => void
  onSessionEnded: () => void
  openSocket?: (url: string, protocols: string[]) => SocketLike
  random?: () => number
}

const OPEN = 1

/** LiveSocket is the app's single real-time connection. */
export class LiveSocket {
  private ws: SocketLike | null = null
  private running = false
  private attempt = 0
  private generation = 0
  private retryTimer: ReturnType<typeof setTimeout> | null = null
  private pingTimer: ReturnType<typeof setInterval> | null = null
  private pongTimer: ReturnType<typeof setTimeout> | null = null
  private serverDelayMs: number | null = null
  private sentToken: string | null = null
  private authRefused = false
  private ready = false
  status: LiveStatus = 'idle'

  constructor(private readonly opts: LiveOptions) {}

  /** start connects and keeps connecting until stop. */
  start(): void {
    if (this.running) return
    this.running = true
    this.attempt = 0
    void this.connect()
  }

  /** stop closes the connection for good (logout). */
  stop(): void {
    this.running = false
    this.drop()
    this.clearRetry()
    this.setStatus('idle', null)
  }

  /** reconnectNow skips the remaining backoff wait, e.g. when the browser is back online. */
  reconnectNow(): void {
    if (!this.running || this.status === 'online' || this.status === 'connecting') return
    this.clearRetry()
    this.attempt = 0
    void this.connect()
  }

  /** goOffline drops the connection because the browser says the network is gone. */
  goOffline(): void {
    if (!this.running || !this.ws) return
    this.drop()
    this.scheduleRetry()
  }

  /** sendTyping tells the room's members that the user is typing; dropped when offline. */
  sendTyping(roomId: bigint): boolean {
    return this.send({ kind: { case: 'typing', value: { roomId } } })
  }

  private async connect(): Promise<void> {
    const gen = ++this.generation
    this.setStatus('connecting', null)
    const token = await this.opts.token()
    if (gen !== this.generation || !this.running) return
    if (!token) {
      this.endSession()
      return
    }
    let ws: SocketLike
    try {
      ws = (this.opts.openSocket ?? defaultOpen)(this.opts.url, liveProtocols)
    } catch {
      this.scheduleRetry()
      return
    }
    // Binary messages come only on batchProtocol. As an ArrayBuffer each
    // decodes at once, in the order it came; a Blob would need an async read.
    ws.binaryType = 'arraybuffer'
    this.ws = ws
    this.ready = false
    this.authRefused = false
    this.serverDelayMs = null
    ws.onopen = () => {
      if (gen !== this.generation) return
      this.sentToken = token
      this.send({ kind: { case: 'auth', value: { token, resume: this.opts.cursors() } } })
    }
    ws.onmessage = (ev) => {
      for (const frame of readFrames(ev.data, ws.protocol)) {
        // A frame's handler may have dropped this socket (onReady or onEvent
        // can stop it): the rest of its batch belongs to a connection gone.
        if (gen !== this.generation) return
        this.handle(frame)
      }
    }
    ws.onerror = () => {}
    ws.onclose = () => {
      if (gen !== this.generation) return
      void this.closed()
    }
  }

  private handle(frame: ServerFrame): void {
    const k = frame.kind
    switch (k.case) {
      case 'ready':
        this.ready = true
        this.attempt = 0
        this.startPing()
        this.setStatus('online', null)
        this.opts.onReady(k.value)
        break
      case 'event':
        this.opts.onEvent(k.value)
        break
      case 'pong':
        this.clearPong()
        break
      case 'reconnect':
        this.serverDelayMs = Number(k.value.delayMs)
        break
      case 'error':
        if (k.value.code === 'unauthenticated') this.authRefused = true
        break
    }
  }

  private async closed(): Promise<void> {
    const refused = this.authRefused
    const serverDelay = this.serverDelayMs
    this.drop()
    if (!this.running) return
    if (refused && this.sentToken) {
      let fresh: string | null
      try {
        fresh = await this.opts.renewToken(this.sentToken)
      } catch {
        this.scheduleRetry()
        return
      }
      if (!fresh) {
        this.endSession()
        return
      }
      if (this.running) void this.connect()
      return
    }
    this.scheduleRetry(serverDelay)
  }

  private scheduleRetry(delay: number | null = null): void {
    this.clearRetry()
    const wait = delay !== null && delay >= 0 ? delay : backoffDelay(this.attempt++, this.opts.random)
    this.setStatus('waiting', Date.now() + wait)
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      if (this.running) void this.connect()
    }, wait)
  }

  private endSession(): void {
    this.stop()
    this.opts.onSessionEnded()
  }

  private send(init: MessageInitShape<typeof ClientFrameSchema>): boolean {
    const ws = this.ws
    if (!ws || ws.readyState !== OPEN) return false
    if (init.kind?.case !== 'auth' && !this.ready) return false
    ws.send(JSON.stringify(toJson(ClientFrameSchema, create(ClientFrameSchema, init))))
    return true
  }

  private startPing(): void {
    this.stopPing()
    this.pingTimer = setInterval(() => {
      if (!this.send({ kind: { case: 'ping', value: {} } })) return
      if (this.pongTimer) return
      this.pongTimer = setTimeout(() => {
        this.pongTimer = null
        // No answer: the connection is dead even if the browser has not noticed.
        this.drop()
        if (this.running) this.scheduleRetry()
      }, pongTimeoutMs)
    }, pingIntervalMs)
  }

  private clearPong(): void {
    if (this.pongTimer) clearTimeout(this.pongTimer)
    this.pongTimer = null
  }

  private stopPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer)
    this.pingTimer = null
    this.clearPong()
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = null
  }

  /** drop forgets the current socket, closing it, without scheduling anything. */
  private drop(): void {
    this.generation++
    this.stopPing()
    this.ready = false
    const ws = this.ws
    this.ws = null
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null
      try {
        ws.close()
      } catch {
        // already closed
      }
    }
  }

  private setStatus(status: LiveStatus, retryAt: number | null): void {
    this.status = status
    this.opts.onStatus(status, retryAt)
  }
}

/**
 * readFrames is the server frames in one WebSocket message: a binary
 * ServerFrames on batchProtocol, else one ServerFrame in JSON text. A message
 * this client cannot read gives none: it is skipped, not fatal.
 */
function readFrames(data: unknown, protocol: string): ServerFrame[] {
  try {
    if (protocol === batchProtocol) {
      return data instanceof ArrayBuffer ? fromBinary(ServerFramesSchema, new Uint8Array(data)).frames : []
    }
    return typeof data === 'string' ? [fromJson(ServerFrameSchema, JSON.parse(data), { ignoreUnknownFields: true })] : []
  } catch {
    return []
  }
}

function defaultOpen(url: string, protocols: string[]): SocketLike {
  return new WebSocket(url, protocols) as unknown as SocketLike
}

/** liveUrl is the WebSocket address on the page's own origin. */
export function liveUrl(loc: Pick<Location, 'protocol' | 'host'> = location): string {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/ws`
}
