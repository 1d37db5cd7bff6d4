// Connects the real-time socket to the stores: events update messages,
// members, presence, typing and unread counts; the status feeds the
// connection indicator.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { Event, Ready } from '@/gen/chat/v1/event_pb'
import { keeper } from '@/api/client'
import { LiveSocket, liveUrl, type LiveOptions, type LiveStatus } from '@/realtime/live'
import { useMessagesStore } from './messages'
import { useRoomsStore } from './rooms'
import { useSessionStore } from './session'

/** At most one typing frame is sent per room in this long. */
export const typingThrottleMs = 3_000
/** Member list reloads wait this long for more joins to arrive. */
export const memberReloadDelayMs = 300

/** useLiveStore owns the app's WebSocket. */
export const useLiveStore = defineStore('live', () => {
  const status = ref<LiveStatus>('idle')
  const retryAt = ref<number | null>(null)
  /** The rooms the current connection receives events of. */
  const subscribed = ref<Set<string>>(new Set())
  const lastTyping = new Map<string, number>()
  const memberReloads = new Map<string, ReturnType<typeof setTimeout>>()
  let roomsReload: ReturnType<typeof setTimeout> | null = null
  let socket: LiveSocket | null = null
  let onOnline: (() => void) | null = null
  let onOffline: (() => void) | null = null
  let onVisible: (() => void) | null = null

  const messages = useMessagesStore()
  const rooms = useRoomsStore()
  const session = useSessionStore()

  /** handleEvent applies one server event to the stores. */
  function handleEvent(ev: Event): void {
    const k = ev.kind
    switch (k.case) {
      case 'messageCreated': {
        const m = k.value.message
        if (!m) return
        const roomId = m.roomId || ev.roomId
        if (!rooms.byId(roomId)) refreshRoomsSoon()
        const added = messages.merge(roomId, [m])
        const me = session.user?.id
        const fromOthers = added.filter((x) => x.sender?.id !== me).length
        rooms.countUnread(roomId, fromOthers)
        if (m.sender) rooms.stopTyping(roomId, m.sender.id)
        const r = rooms.byId(roomId)
        if (r && r.lastSeq < m.seq) rooms.upsert({ ...r, lastSeq: m.seq })
        break
      }
      case 'memberJoined': {
        const roomId = k.value.roomId || ev.roomId
        if (!k.value.member) return
        if (k.value.member.user?.id === session.user?.id && !rooms.byId(roomId)?.joined) refreshRoomsSoon()
        rooms.memberJoined(roomId, k.value.member)
        // The event's member carries no presence: ask for the list with it.
        refreshMembersSoon(roomId)
        break
      }
      case 'memberLeft': {
        const roomId = k.value.roomId || ev.roomId
        if (k.value.userId === session.user?.id) {
          rooms.markLeft(roomId)
          messages.forgetRoom(roomId)
        } else rooms.memberLeft(roomId, k.value.userId)
        break
      }
      case 'presenceChanged':
        rooms.setOnline(k.value.roomId || ev.roomId, k.value.userId, k.value.online)
        break
      case 'typing':
        if (k.value.userId !== session.user?.id) rooms.noteTyping(k.value.roomId || ev.roomId, k.value.userId)
        break
      case 'roomAdded': {
        const r = k.value.room
        if (!r) return
        rooms.upsert({ ...r, joined: true })
        messages.trackRoom(r.id, r.lastSeq)
        joinedRoom(r.id)
        break
      }
      case 'roomRemoved': {
        const roomId = k.value.roomId
        rooms.markLeft(roomId)
        messages.forgetRoom(roomId)
        const left = new Set(subscribed.value)
        left.delete(roomId.toString())
        subscribed.value = left
        break
      }
      case 'tooFarBehind': {
        const { roomId, afterSeq, lastSeq } = k.value
        rooms.countUnread(roomId, Number(lastSeq - afterSeq))
        void messages.skipAhead(roomId, lastSeq).catch(() => {})
        break
      }
    }
  }

  /** refreshMembersSoon reloads a shown member list once a burst of changes is over. */
  function refreshMembersSoon(roomId: bigint): void {
    const k = roomId.toString()
    if (!rooms.members[k]) return
    const old = memberReloads.get(k)
    if (old) clearTimeout(old)
    memberReloads.set(
      k,
      setTimeout(() => {
        memberReloads.delete(k)
        if (rooms.members[k]) void rooms.loadMembers(roomId).catch(() => {})
      }, memberReloadDelayMs),
    )
  }

  /**
   * refreshRoomsSoon reloads the room list when the user turns out to be in a
   * room it lacks (joined or added elsewhere), keeping the cursors already held.
   */
  function refreshRoomsSoon(): void {
    if (roomsReload) return
    roomsReload = setTimeout(async () => {
      try {
        for (const r of await rooms.fetchRooms()) if (r.joined) messages.trackRoom(r.id, r.lastSeq)
      } catch {
        // the next event or reconnect tries again
      } finally {
        roomsReload = null
      }
    }, memberReloadDelayMs)
  }

  function handleReady(ready: Ready): void {
    subscribed.value = new Set(ready.roomIds.map((id) => id.toString()))
    if (ready.roomIds.some((id) => !rooms.byId(id)?.joined)) refreshRoomsSoon()
    // Members may have come and gone while disconnected: reload what is shown.
    const sel = rooms.selectedId
    if (sel !== null && subscribed.value.has(sel.toString())) void rooms.loadMembers(sel).catch(() => {})
    messages.retryAll()
  }

  /** start opens the connection for the logged-in user. */
  function start(overrides: Partial<LiveOptions> = {}): void {
    if (socket) return
    socket = new LiveSocket({
      url: liveUrl(),
      token: () => keeper.accessToken(),
      renewToken: (rejected) => keeper.renew(rejected),
      cursors: () => messages.resumeCursors(rooms.joined.map((r) => r.id)),
      onReady: handleReady,
      onEvent: handleEvent,
      onStatus: (s, at) => {
        status.value = s
        retryAt.value = at
      },
      onSessionEnded: () => {
        session.expired = true
        session.forget()
      },
      ...overrides,
    })
    socket.start()
    onOnline = () => socket?.reconnectNow()
    onOffline = () => socket?.goOffline()
    onVisible = () => {
      if (document.visibilityState === 'visible') socket?.reconnectNow()
    }
    window.addEventListener('online', onOnline)
    window.addEventListener('offline', onOffline)
    document.addEventListener('visibilitychange', onVisible)
  }

  function stop(): void {
    socket?.stop()
    socket = null
    if (onOnline) window.removeEventListener('online', onOnline)
    if (onOffline) window.removeEventListener('offline', onOffline)
    if (onVisible) document.removeEventListener('visibilitychange', onVisible)
    onOnline = onOffline = onVisible = null
    subscribed.value = new Set()
    lastTyping.clear()
    for (const t of memberReloads.values()) clearTimeout(t)
    memberReloads.clear()
    if (roomsReload) clearTimeout(roomsReload)
    roomsReload = null
  }

  /**
   * joinedRoom notes a room the user just joined or created. The server routes
   * its events to this connection on its own (it tells room_added first), so
   * no reconnect is needed; the room is resumed from here on.
   */
  function joinedRoom(roomId: bigint): void {
    subscribed.value = new Set([...subscribed.value, roomId.toString()])
  }

  function reconnectNow(): void {
    socket?.reconnectNow()
  }

  /** typing tells a room that the user is typing, at most once per typingThrottleMs. */
  function typing(roomId: bigint, now = Date.now()): void {
    const k = roomId.toString()
    const last = lastTyping.get(k)
    if (last !== undefined && now - last < typingThrottleMs) return
    if (socket?.sendTyping(roomId)) lastTyping.set(k, now)
  }

  return { status, retryAt, subscribed, start, stop, joinedRoom, reconnectNow, typing, handleEvent, handleReady }
})
