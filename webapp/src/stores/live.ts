// Connects the real-time socket to the stores: events update messages (and
// their edits, tombstones and reactions), members, presence, typing, read
// state and settings, and raise desktop notifications for mentions; the
// status feeds the connection indicator.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { Event, Ready } from '@/gen/chat/v1/event_pb'
import type { Message, Room } from '@/gen/chat/v1/types_pb'
import { keeper, roomClient } from '@/api/client'
import { LiveSocket, liveUrl, type LiveOptions, type LiveStatus } from '@/realtime/live'
import { useMessagesStore } from './messages'
import { mentions, useRoomsStore } from './rooms'
import { useSessionStore } from './session'
import { useSettingsStore } from './settings'
import { usePeopleStore } from './people'
import { roomLabel } from '@/components/roomName'

/** At most one typing frame is sent per room in this long (the server drops more). */
export const typingThrottleMs = 3_000
/** A typing frame held back goes this much after the window, so the server's window surely ended too. */
export const typingSlackMs = 100
/** Member list reloads wait this long for more joins to arrive. */
export const memberReloadDelayMs = 300
/** Unread counts are fetched again this long after a change the client cannot count itself. */
export const countsReloadDelayMs = 300
/** A notification shows at most this much of the message. */
const notifyChars = 140

/** useLiveStore owns the app's WebSocket. */
export const useLiveStore = defineStore('live', () => {
  const status = ref<LiveStatus>('idle')
  const retryAt = ref<number | null>(null)
  /** The rooms the current connection receives events of. */
  const subscribed = ref<Set<string>>(new Set())
  const lastTyping = new Map<string, number>()
  const typingLater = new Map<string, ReturnType<typeof setTimeout>>()
  const memberReloads = new Map<string, ReturnType<typeof setTimeout>>()
  let roomsReload: ReturnType<typeof setTimeout> | null = null
  let countsReload: ReturnType<typeof setTimeout> | null = null
  /** Opens a room, e.g. from a notification's click; ChatView sets it. */
  let openRoom: (roomId: bigint) => void = () => {}
  let socket: LiveSocket | null = null
  let onOnline: (() => void) | null = null
  let onOffline: (() => void) | null = null
  let onVisible: (() => void) | null = null

  const messages = useMessagesStore()
  const rooms = useRoomsStore()
  const session = useSessionStore()
  const settings = useSettingsStore()
  const people = usePeopleStore()

  /** handleEvent applies one server event to the stores. */
  function handleEvent(ev: Event): void {
    const k = ev.kind
    const me = session.user?.id
    // Every log entry moves the room's resume cursor, whatever its kind.
    if (ev.seq > 0n && ev.roomId > 0n) messages.advanceCursor(ev.roomId, ev.seq)
    switch (k.case) {
      case 'messageCreated': {
        const m = k.value.message
        if (!m) return
        const roomId = m.roomId || ev.roomId
        if (!rooms.byId(roomId)) refreshRoomsSoon()
        for (const added of messages.merge(roomId, [m])) {
          rooms.countNew(added, me)
          if (added.sender?.id !== me && mentions(added, me)) notifyMention(added)
        }
        if (m.sender) rooms.stopTyping(roomId, m.sender.id)
        break
      }
      case 'messageEdited':
        if (k.value.message) messages.applyEdit(k.value.message.roomId || ev.roomId, k.value.message)
        break
      case 'messageDeleted': {
        const roomId = k.value.roomId || ev.roomId
        messages.applyDelete(roomId, k.value.messageSeq)
        // An unread message gone changes counts the client may not hold the messages of.
        if (k.value.messageSeq > (rooms.byId(roomId)?.readSeq ?? 0n)) refreshCountsSoon()
        break
      }
      case 'reactionAdded':
      case 'reactionRemoved': {
        const v = k.value
        messages.applyReaction(v.roomId || ev.roomId, v.messageSeq, v.emoji, k.case === 'reactionAdded', v.userId === me)
        break
      }
      case 'readMarker':
        rooms.applyReadMarker(k.value.roomId, k.value.readSeq)
        refreshCountsSoon()
        break
      case 'readReceipt':
        rooms.applyReceipt(k.value.roomId, k.value.userId, k.value.readSeq)
        break
      case 'muteChanged':
        rooms.applyMuted(k.value.roomId, k.value.muted)
        break
      case 'settingsChanged':
        settings.apply(k.value.settings)
        // Receipts are reciprocal: what may be seen changed with the setting.
        rooms.forgetReceipts()
        if (rooms.selectedId !== null) void rooms.loadReceipts(rooms.selectedId).catch(() => {})
        break
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
        // room_id 0 is a friend's presence, told to the user directly.
        if (k.value.roomId) rooms.setOnline(k.value.roomId, k.value.userId, k.value.online)
        people.setOnline(k.value.userId, k.value.online)
        break
      case 'friendRequestReceived':
        people.applyRequest(k.value.request, k.value.outgoing)
        break
      case 'friendRequestAnswered':
        people.applyAnswer(k.value.user, k.value.accepted)
        break
      case 'friendRemoved':
        people.dropFriend(k.value.userId)
        break
      case 'blockChanged':
        people.applyBlock(k.value.user, k.value.blocked)
        break
      case 'userUpdated':
        people.applyUser(k.value.user)
        if (k.value.user) rooms.applyUser(k.value.user)
        if (k.value.user && k.value.user.id === me) session.user = { ...k.value.user, email: session.user?.email ?? '' }
        break
      case 'roomUpdated':
        if (k.value.room) rooms.applyUpdate(k.value.room)
        break
      case 'roomListed':
        if (k.value.room) rooms.applyListing(k.value.room)
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
        const { roomId, lastSeq } = k.value
        refreshCountsSoon()
        void messages.skipAhead(roomId, lastSeq).catch(() => {})
        break
      }
    }
  }

  /** notifyMention raises a desktop notification for a mention, unless the room is muted. */
  function notifyMention(m: Message): void {
    const r = rooms.byId(m.roomId)
    if (!r || r.muted) return
    const who = m.sender?.displayName || m.sender?.username || ''
    const body = [...m.body].slice(0, notifyChars).join('')
    settings.mentioned(`${roomLabel(r, session.user?.id)} · ${who}`, body, `parley-${m.roomId}-${m.seq}`, () => openRoom(m.roomId))
  }

  /** lateIn lists the messages held of a room that came after a room list was made. */
  function lateIn(r: Room): Message[] {
    return (messages.logs[r.id.toString()]?.items ?? []).filter((m) => m.seq > r.lastSeq)
  }

  /**
   * refreshCountsSoon fetches the rooms' unread and mention counts again once
   * a burst of changes is over: after a read marker (from any session of the
   * user), a delete of an unread message, or a replay cut short.
   */
  function refreshCountsSoon(): void {
    if (countsReload) return
    countsReload = setTimeout(async () => {
      countsReload = null
      try {
        const res = await roomClient.listRooms({})
        rooms.takeCounts(res.rooms, lateIn, session.user?.id)
      } catch {
        // the next change or reconnect asks again
      }
    }, countsReloadDelayMs)
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
        const list = await rooms.fetchRooms()
        for (const r of list) if (r.joined) messages.trackRoom(r.id, r.lastSeq)
        rooms.takeCounts(list, lateIn, session.user?.id)
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
    // Rooms may have been read on another device meanwhile.
    refreshCountsSoon()
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
    if (countsReload) clearTimeout(countsReload)
    roomsReload = countsReload = null
    for (const t of typingLater.values()) clearTimeout(t)
    typingLater.clear()
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

  /**
   * typing tells a room that the user is typing, at most once per
   * typingThrottleMs. Typing within that window is told once it is over
   * (trailing edge): after a send, which hides the notice at the others',
   * typing again would otherwise show nothing until the next keystroke past
   * the window.
   */
  function typing(roomId: bigint, now = Date.now()): void {
    const k = roomId.toString()
    const last = lastTyping.get(k)
    if (last === undefined || now - last >= typingThrottleMs) {
      if (socket?.sendTyping(roomId)) lastTyping.set(k, now)
      return
    }
    if (typingLater.has(k)) return
    typingLater.set(
      k,
      setTimeout(() => {
        typingLater.delete(k)
        typing(roomId)
      }, last + typingThrottleMs + typingSlackMs - now),
    )
  }

  /** stoppedTyping cancels a typing notice still to be told, e.g. when the composer was emptied. */
  function stoppedTyping(roomId: bigint): void {
    const k = roomId.toString()
    clearTimeout(typingLater.get(k))
    typingLater.delete(k)
  }

  /** onOpen sets what opening a room from outside the page (a notification) does. */
  function onOpen(fn: (roomId: bigint) => void): void {
    openRoom = fn
  }

  return {
    status,
    retryAt,
    subscribed,
    start,
    stop,
    joinedRoom,
    reconnectNow,
    typing,
    stoppedTyping,
    onOpen,
    handleEvent,
    handleReady,
    refreshCountsSoon,
  }
})
