// Rooms, the selected room, its members with live presence, unread counts
// and who is typing.
import { defineStore } from 'pinia'
import { computed, reactive, ref } from 'vue'
import { Visibility, type Member, type Room } from '@/gen/chat/v1/types_pb'
import { roomClient } from '@/api/client'

/** How long a typing notice shows without a new one. */
export const typingShowMs = 5_000

const key = (id: bigint) => id.toString()

/** useRoomsStore holds the room list and everything shown per room. */
export const useRoomsStore = defineStore('rooms', () => {
  const rooms = ref<Room[]>([])
  const selectedId = ref<bigint | null>(null)
  const members = reactive<Record<string, Member[]>>({})
  const unread = reactive<Record<string, number>>({})
  /** typing[room][user] is true while that user's typing notice shows. */
  const typing = reactive<Record<string, Record<string, true>>>({})
  const typingTimers = new Map<string, ReturnType<typeof setTimeout>>()

  const joined = computed(() => rooms.value.filter((r) => r.joined))
  const discoverable = computed(() => rooms.value.filter((r) => !r.joined))
  const selected = computed(() => rooms.value.find((r) => r.id === selectedId.value) ?? null)

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

  /** select shows a room and clears its unread count. */
  function select(id: bigint | null): void {
    selectedId.value = id
    if (id !== null) unread[key(id)] = 0
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
    if (r.visibility === Visibility.PRIVATE) rooms.value = rooms.value.filter((x) => x.id !== id)
    else if (r.joined) upsert({ ...r, joined: false, memberCount: r.memberCount > 0n ? r.memberCount - 1n : 0n })
    delete members[key(id)]
    unread[key(id)] = 0
  }

  async function loadMembers(id: bigint): Promise<void> {
    const res = await roomClient.listMembers({ roomId: id })
    members[key(id)] = res.members
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
    if (r && !known) upsert({ ...r, memberCount: r.memberCount + 1n })
  }

  function memberLeft(roomId: bigint, userId: bigint): void {
    const list = members[key(roomId)]
    if (list) members[key(roomId)] = list.filter((x) => x.user?.id !== userId)
    const r = byId(roomId)
    if (r && r.memberCount > 0n) upsert({ ...r, memberCount: r.memberCount - 1n })
    stopTyping(roomId, userId)
  }

  /** countUnread adds n to a room's unread count unless the user is looking at it. */
  function countUnread(roomId: bigint, n = 1): void {
    if (n <= 0 || roomId === selectedId.value) return
    unread[key(roomId)] = (unread[key(roomId)] ?? 0) + n
  }

  function unreadOf(roomId: bigint): number {
    return unread[key(roomId)] ?? 0
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
    for (const k of Object.keys(unread)) delete unread[k]
    for (const k of Object.keys(typing)) delete typing[k]
    for (const t of typingTimers.values()) clearTimeout(t)
    typingTimers.clear()
  }

  return {
    rooms,
    selectedId,
    selected,
    joined,
    discoverable,
    members,
    unread,
    typing,
    byId,
    fetchRooms,
    upsert,
    select,
    join,
    create,
    leave,
    markLeft,
    loadMembers,
    membersOf,
    setOnline,
    memberJoined,
    memberLeft,
    countUnread,
    unreadOf,
    noteTyping,
    stopTyping,
    typingIn,
    $reset,
  }
})

function sortRooms(rs: Room[]): Room[] {
  return [...rs].sort((a, b) => a.name.localeCompare(b.name))
}
