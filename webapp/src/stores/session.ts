// The logged-in user and the login, register and logout flows. The outbox
// follows the session: it is delivered while the user is logged in, held when
// the server ends the session, and dropped on logout.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { User } from '@/gen/chat/v1/types_pb'
import { authClient, keeper, tokensFrom } from '@/api/client'
import { useMessagesStore } from './messages'
import { dropDrafts } from './drafts'

/** useSessionStore holds who is logged in. */
export const useSessionStore = defineStore('session', () => {
  const user = ref<User | null>(null)
  /** Set when the server ended the session, to explain the trip to /login. */
  const expired = ref(false)
  const loggedIn = computed(() => keeper.current() !== null && user.value !== null)
  const messages = useMessagesStore()
  /** Whether this page already asked the refresh cookie for a session: after a no, only a login (here or in another tab) brings one. */
  let triedCookie = false

  // The server refused to renew the session, in this tab or another one.
  keeper.onEnded = () => {
    expired.value = true
    forget()
  }

  function signedIn(u: User | undefined): boolean {
    user.value = u ?? null
    if (u) void messages.adopt(u.id)
    return user.value !== null
  }

  /** restore picks up the session of an earlier visit from its refresh cookie; false when there is none. */
  async function restore(): Promise<boolean> {
    if (user.value) return true
    if (triedCookie && !keeper.current()) return false
    triedCookie = true
    try {
      if (!(await keeper.resume())) return false
      return signedIn((await authClient.getMe({})).user)
    } catch {
      return false
    }
  }

  async function login(login: string, password: string): Promise<void> {
    const res = await authClient.login({ login, password })
    keeper.set(tokensFrom(res))
    expired.value = false
    signedIn(res.user)
  }

  /** register creates the account and logs straight in with it. */
  async function register(username: string, email: string, password: string): Promise<void> {
    await authClient.register({ username, email, password })
    await login(username, password)
  }

  /** logout ends the session on the server (best effort, which also clears the refresh cookie) and forgets it here. */
  async function logout(): Promise<void> {
    messages.dropOutbox()
    if (user.value) dropDrafts(user.value.id)
    if (keeper.current()) {
      try {
        await authClient.logout({})
      } catch {
        // the local session is forgotten anyway
      }
    }
    keeper.set(null)
    forget()
  }

  /** forget drops the session locally, e.g. when the server refused to renew it; unsent messages wait for the next login. */
  function forget(): void {
    messages.suspend()
    user.value = null
  }

  return { user, expired, loggedIn, restore, login, register, logout, forget }
})
