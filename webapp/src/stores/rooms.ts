// Rooms, the selected room, its members with live presence, who is typing,
// and the read state: the server's watermark and unread and mention counts
// per room, moved forward (MarkRead) as the user sees messages, and how far
// the other members have read (receipts).
import { defineStore } from 'pinia'
import { computed, reactive, ref } from 'vue'
import { Visibility, type Member, type Message, type Room, type User } from '@/gen/chat/v1/types_pb'
import { roomClient } from '@/api/client'
import { usePeopleStore } from './people'
import { isConversation } from '@/components/roomName'

/** How long a typing notice shows without a new one. */
export const typingShowMs = 5_000

/** mentions says whether a message mentions the user, by name or as @room. */
export function mentions(m: Message, me: bigint | undefined): boolean {
  return m.mentionsRoom || (me !== undefined && m.mentionUserIds.includes(me))
}

const key = (id: bigint) => id.toString()
/** maxCounted bounds the messages held per room for takeCounts. */
const maxCounted = 500

/** useRoomsStore holds the room list and everything shown per room. */
export const useRoomsStore = defineStore('rooms', () => {
  const rooms = ref<Room[]>([])
  const selectedId = ref<bigint | null>(null)
  const members = reactive<Record<string, Member[]>>({})
  /** receipts[room][user] is how far that member has read the room. */
  const receipts = reactive<Record<string, Record<string, bigint>>>({})
  /** What MarkRead is told next per room, and the rooms with a call in flight. */
  const readWanted = new Map<string, bigint>()
  const reading = new Set<string>()
  /** typing[room][user] is true while that user's typing notice shows. */
  const typing = reactive<Record<string, Record<string, true>>>({})
  const typingTimers = new Map<string, ReturnType<typeof setTimeout>>()

  const joined = computed(() => rooms.value.filter((r) => r.joined))
  /** The joined channels, and the direct and group rooms (newest message first), as the sidebar lists them. */
  const channels = computed(() => joined.value.filter((r) => !isConversation(r)))
  const conversations = computed(() => joined.value.filter(isConversation).sort((a, b) => (b.lastSeq > a.lastSeq ? 1 : b.lastSeq < a.lastSeq ? -1 : 0)))
  const discoverable = computed(() => rooms.value.filter((r) => !r.joined))
  const selected = computed(() => rooms.value.find((r) => r.id === selectedId.value) ?? null)

  /**
   * counted keeps, per room, the latest messages countNew counted, so that
   * a room list fetched while they arrived (counted before them) adds them
   * back instead of dropping them from the badge.
   */
  const counted = new Map<string, Message[]>()

  function byId(id: bigint): Room | undefined {
    return rooms.value.find((r) => r.id === id)
  }

  async function fetchRooms(): Promise<Room[]> {
    const res = await roomClient.listRooms({})
    rooms.value = sortRooms(res.rooms)
    return rooms.value
  }

  function upsert(room: Room): void {
    const i = rooms.value.findIndex((r) => r.id === room.id)
    if (i >= 0) rooms.value[i] = room
    else rooms.value = sortRooms([...rooms.value, room])
  }

  /**
   * takeCounts applies a fresh room list's read state to the rooms held,
   * keeping any room the list lacks; late lists the messages that arrived
   * after the server counted (seq above its last_seq), which it could not
   * include.
   */
  function takeCounts(fresh: readonly Room[], late: (r: Room) => readonly Message[], me: bigint | undefined): void {
    for (const f of fresh) {
      const r = byId(f.id)
      // countNew's messages above the list's last_seq arrived after the
      // server counted, also in rooms whose messages are not held.
      const after = (counted.get(key(f.id)) ?? []).filter((m) => m.seq > f.lastSeq)
      counted.set(key(f.id), after)
      const bySeq = new Map([...late(f), ...after].map((m) => [m.seq, m]))
      const extra = [...bySeq.values()].filter((m) => m.seq > f.readSeq && m.sender?.id !== me && !m.deleted)
      const unreadCount = f.unreadCount + BigInt(extra.length)
      const mentionCount = f.mentionCount + BigInt(extra.filter((m) => mentions(m, me)).length)
      const lastSeq = r && r.lastSeq > f.lastSeq ? r.lastSeq : f.lastSeq
      upsert({ ...f, unreadCount, mentionCount, lastSeq })
    }
  }

  function select(id: bigint | null): void {
    selectedId.value = id
  }

  async function join(id: bigint): Promise<Room> {
    const res = await roomClient.joinRoom({ roomId: id })
    const room = res.room ?? { ...byId(id)!, joined: true }
    upsert({ ...room, joined: true })
    return room
  }

  async function create(name: string, topic: string, visibility: Visibility): Promise<Room> {
    const res = await roomClient.createRoom({ name, topic, visibility })
    const room = res.room!
    upsert({ ...room, joined: true })
    return room
  }

  /** openDirect opens (or creates) the conversation of the user and these people, and lists it. */
  async function openDirect(usernames: string[]): Promise<Room> {
    const room = (await roomClient.openDirect({ usernames })).room!
    upsert({ ...room, joined: true })
    return room
  }

  /** hide takes a direct or group room off the list until its next message. */
  async function hide(id: bigint): Promise<void> {
    await roomClient.hideRoom({ roomId: id })
    rooms.value = rooms.value.filter((r) => r.id !== id)
  }

  /** update renames a channel or changes its topic (its owner only). */
  async function update(id: bigint, name: string, topic: string): Promise<Room> {
    const res = await roomClient.updateRoom({ roomId: id, name, topic })
    if (res.room) applyUpdate(res.room)
    return res.room ?? byId(id)!
  }

  /** applyUpdate takes a room's new name, topic or members, keeping the user's own state of it. */
  function applyUpdate(room: Room): void {
    const r = byId(room.id)
    if (!r) return
    upsert({ ...r, name: room.name, topic: room.topic, visibility: room.visibility, members: room.members.length > 0 ? room.members : r.members })
  }

  /**
   * applyListing takes a public room as everyone's directory is told it
   * (room_listed): a room not held joins the list, not joined; a held one
   * takes its name, topic and member count, keeping the user's own state
   * of it (joined, read state, mute).
   */
  function applyListing(room: Room): void {
    const r = byId(room.id)
    if (!r) upsert({ ...room, joined: false })
    else upsert({ ...r, name: room.name, topic: room.topic, memberCount: room.memberCount })
  }

  /** applyUser takes a user's new profile into the conversations named by them and the member lists. */
  function applyUser(u: User): void {
    for (const r of rooms.value) {
      if (r.members.some((x) => x.id === u.id)) upsert({ ...r, members: r.members.map((x) => (x.id === u.id ? u : x)) })
    }
    for (const list of Object.values(members)) for (const m of list) if (m.user?.id === u.id) m.user = u
  }

  /** invite adds a user to a private room or a group. */
  async function invite(id: bigint, username: string): Promise<void> {
    const res = await roomClient.addMember({ roomId: id, username })
    if (res.member) memberJoined(id, res.member)
  }

  async function leave(id: bigint): Promise<void> {
    await roomClient.leaveRoom({ roomId: id })
    markLeft(id)
  }

  /**
   * markLeft updates the list after the user left or was removed from a room;
   * it may be told more than once (the reply, member_left, room_removed).
   */
  function markLeft(id: bigint): void {
    const r = byId(id)
    if (!r) return
    if (r.visibility === Visibility.PRIVATE || isConversation(r)) rooms.value = rooms.value.filter((x) => x.id !== id)
    else if (r.joined) upsert({ ...r, joined: false, memberCount: r.memberCount > 0n ? r.memberCount - 1n : 0n })
    delete members[key(id)]
    delete receipts[key(id)]
  }

  async function loadMembers(id: bigint): Promise<void> {
    const res = await roomClient.listMembers({ roomId: id })
    members[key(id)] = res.members
    const people = usePeopleStore()
    for (const m of res.members) if (m.user) people.setOnline(m.user.id, m.online)
  }

  function membersOf(id: bigint | null): Member[] {
    return id === null ? [] : (members[key(id)] ?? [])
  }

  /** setOnline applies a presence change to the member lists that hold the user. */
  function setOnline(roomId: bigint, userId: bigint, online: boolean): void {
    const list = members[key(roomId)]
    const m = list?.find((x) => x.user?.id === userId)
    if (m) m.online = online
  }

  function memberJoined(roomId: bigint, member: Member): void {
    const list = members[key(roomId)]
    const r = byId(roomId)
    const known = list?.some((x) => x.user?.id === member.user?.id)
    if (list && !known) list.push(member)
    else if (list && known) setOnline(roomId, member.user!.id, member.online)
    if (r && !known) upsert({ ...r, memberCount: r.memberCount + 1n, members: withMember(r, member) })
  }

  /** withMember is a conversation's members with one more (it is named by them); a channel lists none. */
  function withMember(r: Room, m: Member): Room['members'] {
    const u = m.user
    if (!isConversation(r) || !u || r.members.some((x) => x.id === u.id)) return r.members
    return [...r.members, u]
  }

  function memberLeft(roomId: bigint, userId: bigint): void {
    const list = members[key(roomId)]
    if (list) members[key(roomId)] = list.filter((x) => x.user?.id !== userId)
    const r = byId(roomId)
    if (r && r.memberCount > 0n) upsert({ ...r, memberCount: r.memberCount - 1n, members: r.members.filter((u) => u.id !== userId) })
    stopTyping(roomId, userId)
  }

  /** countNew counts a message that just arrived as unread (or a mention) unless it is the user's own or already read. */
  function countNew(m: Message, me: bigint | undefined): void {
    const r = byId(m.roomId)
    if (!r || m.sender?.id === me || m.seq <= r.readSeq || m.deleted) return
    counted.set(key(m.roomId), [...(counted.get(key(m.roomId)) ?? []), m].slice(-maxCounted))
    upsert({
      ...r,
      unreadCount: r.unreadCount + 1n,
      mentionCount: r.mentionCount + (mentions(m, me) ? 1n : 0n),
      lastSeq: r.lastSeq < m.seq ? m.seq : r.lastSeq,
    })
  }

  function unreadOf(roomId: bigint): number {
    return Number(byId(roomId)?.unreadCount ?? 0n)
  }

  function mentionsOf(roomId: bigint): number {
    return Number(byId(roomId)?.mentionCount ?? 0n)
  }

  /**
   * setReadSeq moves a room's watermark forward, from MarkRead's answer or a
   * read_marker of any session of the user; counts follow from the server
   * (refreshCounts), or drop to zero when everything is read.
   */
  function setReadSeq(roomId: bigint, readSeq: bigint): void {
    const r = byId(roomId)
    if (!r || readSeq <= r.readSeq) return
    const all = readSeq >= r.lastSeq
    upsert({ ...r, readSeq, unreadCount: all ? 0n : r.unreadCount, mentionCount: all ? 0n : r.mentionCount })
  }

  /**
   * markSeen tells the server that the user saw a room up to seq. Calls are
   * batched: at most one in flight per room, and once it is answered only the
   * newest seq asked for meanwhile goes.
   */
  function markSeen(roomId: bigint, seq: bigint): void {
    const k = key(roomId)
    const r = byId(roomId)
    if (!r?.joined || seq <= r.readSeq || seq <= (readWanted.get(k) ?? 0n)) return
    readWanted.set(k, seq)
    if (!reading.has(k)) void flushRead(roomId)
  }

  async function flushRead(roomId: bigint): Promise<void> {
    const k = key(roomId)
    reading.add(k)
    try {
      for (let seq = readWanted.get(k); seq !== undefined && seq > (byId(roomId)?.readSeq ?? 0n); seq = readWanted.get(k)) {
        const res = await roomClient.markRead({ roomId, seq })
        setReadSeq(roomId, res.readSeq)
        if (readWanted.get(k) === seq) readWanted.delete(k)
      }
    } catch {
      readWanted.delete(k) // the next message seen asks again
    } finally {
      reading.delete(k)
    }
  }

  /**
   * applyReadMarker takes the watermark a read_marker says, exactly: it is the
   * server's, and may have moved back (MarkUnread from another client).
   */
  function applyReadMarker(roomId: bigint, readSeq: bigint): void {
    const r = byId(roomId)
    if (!r || r.readSeq === readSeq) return
    if (readSeq > r.readSeq) setReadSeq(roomId, readSeq)
    else upsert({ ...r, readSeq })
  }

  async function setMuted(roomId: bigint, muted: boolean): Promise<void> {
    const res = await roomClient.setMuted({ roomId, muted })
    applyMuted(roomId, res.room?.muted ?? muted)
  }

  function applyMuted(roomId: bigint, muted: boolean): void {
    const r = byId(roomId)
    if (r && r.muted !== muted) upsert({ ...r, muted })
  }

  async function loadReceipts(roomId: bigint): Promise<void> {
    const res = await roomClient.listReadReceipts({ roomId })
    const map: Record<string, bigint> = {}
    for (const rr of res.receipts) map[key(rr.userId)] = rr.readSeq
    receipts[key(roomId)] = map
  }

  /** applyReceipt notes how far a member read; a receipt never moves back. */
  function applyReceipt(roomId: bigint, userId: bigint, readSeq: bigint): void {
    const map = (receipts[key(roomId)] ??= {})
    const old = map[key(userId)]
    if (old === undefined || old < readSeq) map[key(userId)] = readSeq
  }

  /** readersOf lists the members other than me who read a room up to seq at least. */
  function readersOf(roomId: bigint, seq: bigint, me: bigint | undefined): Member[] {
    const map = receipts[key(roomId)] ?? {}
    return membersOf(roomId).filter((m) => m.user && m.user.id !== me && (map[key(m.user.id)] ?? 0n) >= seq)
  }

  function forgetReceipts(): void {
    for (const k of Object.keys(receipts)) delete receipts[k]
  }

  /** noteTyping shows that a user is typing in a room for a few seconds. */
  function noteTyping(roomId: bigint, userId: bigint): void {
    const rk = key(roomId)
    const tk = `${rk}:${userId}`
    if (!typing[rk]) typing[rk] = {}
    typing[rk][key(userId)] = true
    const old = typingTimers.get(tk)
    if (old) clearTimeout(old)
    typingTimers.set(tk, setTimeout(() => stopTyping(roomId, userId), typingShowMs))
  }

  /** stopTyping hides a typing notice, e.g. when that user's message arrives. */
  function stopTyping(roomId: bigint, userId: bigint): void {
    const tk = `${key(roomId)}:${userId}`
    const t = typingTimers.get(tk)
    if (t) clearTimeout(t)
    typingTimers.delete(tk)
    const room = typing[key(roomId)]
    if (room) delete room[key(userId)]
  }

  /** typingIn lists the users typing in a room, by id. */
  function typingIn(roomId: bigint | null): bigint[] {
    if (roomId === null) return []
    return Object.keys(typing[key(roomId)] ?? {}).map((s) => BigInt(s))
  }

  function $reset(): void {
    rooms.value = []
    selectedId.value = null
    for (const k of Object.keys(members)) delete members[k]
    forgetReceipts()
    readWanted.clear()
    for (const k of Object.keys(typing)) delete typing[k]
    for (const t of typingTimers.values()) clearTimeout(t)
    typingTimers.clear()
  }

  return {
    rooms,
    selectedId,
    selected,
    joined,
    channels,
    conversations,
    discoverable,
    members,
    receipts,
    typing,
    byId,
    fetchRooms,
    upsert,
    takeCounts,
    select,
    join,
    create,
    leave,
    openDirect,
    hide,
    update,
    applyUpdate,
    applyListing,
    applyUser,
    invite,
    markLeft,
    loadMembers,
    membersOf,
    setOnline,
    memberJoined,
    memberLeft,
    countNew,
    unreadOf,
    mentionsOf,
    setReadSeq,
    markSeen,
    applyReadMarker,
    setMuted,
    applyMuted,
    loadReceipts,
    applyReceipt,
    readersOf,
    forgetReceipts,
    noteTyping,
    stopTyping,
    typingIn,
    $reset,
  }
})

function sortRooms(rs: Room[]): Room[] {
  return [...rs].sort((a, b) => a.name.localeCompare(b.name))
}
