// The people around the user: friends with their presence, friend requests
// both ways, the users the user blocked, and the presence of anyone seen in
// a room. Kept live by the per-user events (see live.ts); the user card it
// opens is shown by ChatView.
import { defineStore } from 'pinia'
import { computed, reactive, ref } from 'vue'
import { create } from '@bufbuild/protobuf'
import { FriendRequestSchema, FriendSchema, type Friend, type FriendRequest, type User } from '@/gen/chat/v1/types_pb'
import { friendClient } from '@/api/client'

const key = (id: bigint) => id.toString()
const byName = (a: { user?: User }, b: { user?: User }) => (a.user?.username ?? '').localeCompare(b.user?.username ?? '')

/** usePeopleStore holds friends, requests, blocks and presence. */
export const usePeopleStore = defineStore('people', () => {
  const friends = ref<Friend[]>([])
  const incoming = ref<FriendRequest[]>([])
  const outgoing = ref<FriendRequest[]>([])
  const blocked = ref<User[]>([])
  /** online[user] is the last presence heard of that user, from any room or the friends list. */
  const online = reactive<Record<string, boolean>>({})
  /** The user whose card is open, null when none. */
  const card = ref<User | null>(null)
  const blockedIds = computed(() => new Set(blocked.value.map((u) => key(u.id))))

  function isBlocked(id: bigint | undefined): boolean {
    return id !== undefined && blockedIds.value.has(key(id))
  }

  function isFriend(id: bigint): boolean {
    return friends.value.some((f) => f.user?.id === id)
  }

  /** relation says what the user is to this person, for the card's buttons. */
  function relation(id: bigint): 'friend' | 'incoming' | 'outgoing' | 'none' {
    if (isFriend(id)) return 'friend'
    if (incoming.value.some((r) => r.user?.id === id)) return 'incoming'
    if (outgoing.value.some((r) => r.user?.id === id)) return 'outgoing'
    return 'none'
  }

  function isOnline(id: bigint | undefined): boolean | null {
    if (id === undefined) return null
    return online[key(id)] ?? null
  }

  function setOnline(id: bigint, on: boolean): void {
    online[key(id)] = on
    const f = friends.value.find((x) => x.user?.id === id)
    if (f) f.online = on
  }

  async function loadFriends(): Promise<void> {
    const res = await friendClient.listFriends({})
    friends.value = [...res.friends].sort(byName)
    incoming.value = res.incoming
    outgoing.value = res.outgoing
    for (const f of res.friends) if (f.user) online[key(f.user.id)] = f.online
  }

  async function loadBlocked(): Promise<void> {
    blocked.value = (await friendClient.listBlocked({})).users
  }

  /** sendRequest asks someone to be friends; it makes friends at once when they had asked already. */
  async function sendRequest(u: User): Promise<boolean> {
    const res = await friendClient.sendFriendRequest({ username: u.username })
    if (res.friends) await loadFriends()
    else if (!outgoing.value.some((r) => r.user?.id === u.id)) outgoing.value = [...outgoing.value, create(FriendRequestSchema, { user: u })]
    return res.friends
  }

  async function respond(userId: bigint, accept: boolean): Promise<void> {
    await friendClient.respondFriendRequest({ userId, accept })
    const req = incoming.value.find((r) => r.user?.id === userId)
    incoming.value = incoming.value.filter((r) => r.user?.id !== userId)
    if (accept && req?.user) addFriend(req.user)
  }

  async function cancel(userId: bigint): Promise<void> {
    await friendClient.cancelFriendRequest({ userId })
    outgoing.value = outgoing.value.filter((r) => r.user?.id !== userId)
  }

  async function removeFriend(userId: bigint): Promise<void> {
    await friendClient.removeFriend({ userId })
    dropFriend(userId)
  }

  async function block(u: User): Promise<void> {
    await friendClient.blockUser({ userId: u.id })
    applyBlock(u, true)
  }

  async function unblock(userId: bigint): Promise<void> {
    await friendClient.unblockUser({ userId })
    blocked.value = blocked.value.filter((x) => x.id !== userId)
  }

  function addFriend(u: User): void {
    if (isFriend(u.id)) return
    const f = create(FriendSchema, { user: u, online: online[key(u.id)] ?? false })
    friends.value = [...friends.value, f].sort(byName)
  }

  function dropFriend(userId: bigint): void {
    friends.value = friends.value.filter((f) => f.user?.id !== userId)
  }

  function dropRequests(userId: bigint): void {
    incoming.value = incoming.value.filter((r) => r.user?.id !== userId)
    outgoing.value = outgoing.value.filter((r) => r.user?.id !== userId)
  }

  /** applyRequest takes FriendRequestReceived: a request to the user, or one they sent elsewhere. */
  function applyRequest(req: FriendRequest | undefined, isOutgoing: boolean): void {
    const id = req?.user?.id
    if (!req || id === undefined) return
    const list = isOutgoing ? outgoing : incoming
    if (!list.value.some((r) => r.user?.id === id)) list.value = [...list.value, req]
  }

  /** applyAnswer takes FriendRequestAnswered: the request with that user is over, maybe as friends. */
  function applyAnswer(u: User | undefined, accepted: boolean): void {
    if (!u) return
    dropRequests(u.id)
    if (accepted) addFriend(u)
  }

  /** applyBlock takes BlockChanged; a block ends the friendship and any request. */
  function applyBlock(u: User | undefined, isBlocked: boolean): void {
    if (!u) return
    blocked.value = blocked.value.filter((x) => x.id !== u.id)
    if (!isBlocked) return
    blocked.value = [...blocked.value, u]
    dropFriend(u.id)
    dropRequests(u.id)
  }

  /** applyUser takes UserUpdated: a new display name or status everywhere the user is shown here. */
  function applyUser(u: User | undefined): void {
    if (!u) return
    for (const f of friends.value) if (f.user?.id === u.id) f.user = u
    for (const r of [...incoming.value, ...outgoing.value]) if (r.user?.id === u.id) r.user = u
    if (card.value?.id === u.id) card.value = u
  }

  function showCard(u: User | undefined): void {
    if (u) card.value = u
  }

  function $reset(): void {
    friends.value = []
    incoming.value = []
    outgoing.value = []
    blocked.value = []
    card.value = null
    for (const k of Object.keys(online)) delete online[k]
  }

  return {
    friends,
    incoming,
    outgoing,
    blocked,
    online,
    card,
    isBlocked,
    isFriend,
    relation,
    isOnline,
    setOnline,
    loadFriends,
    loadBlocked,
    sendRequest,
    respond,
    cancel,
    removeFriend,
    block,
    unblock,
    dropFriend,
    applyRequest,
    applyAnswer,
    applyBlock,
    applyUser,
    showCard,
    $reset,
  }
})
