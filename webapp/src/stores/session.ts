// The logged-in user and the login, register and logout flows.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { User } from '@/gen/chat/v1/types_pb'
import { authClient, keeper, tokensFrom } from '@/api/client'

/** useSessionStore holds who is logged in. */
export const useSessionStore = defineStore('session', () => {
  const user = ref<User | null>(null)
  /** Set when the server ended the session, to explain the trip to /login. */
  const expired = ref(false)
  const loggedIn = computed(() => keeper.current() !== null && user.value !== null)

  /** restore loads the user of a session kept from an earlier visit; false when there is none. */
  async function restore(): Promise<boolean> {
    if (user.value) return true
    if (!keeper.current()) return false
    try {
      const res = await authClient.getMe({})
      user.value = res.user ?? null
      return user.value !== null
    } catch {
      return false
    }
  }

  async function login(login: string, password: string): Promise<void> {
    const res = await authClient.login({ login, password })
    keeper.set(tokensFrom(res))
    user.value = res.user ?? null
    expired.value = false
  }

  /** register creates the account and logs straight in with it. */
  async function register(username: string, email: string, password: string): Promise<void> {
    await authClient.register({ username, email, password })
    await login(username, password)
  }

  /** logout ends the session on the server (best effort) and forgets it here. */
  async function logout(): Promise<void> {
    if (keeper.current()) {
      try {
        await authClient.logout({})
      } catch {
        // the local session is forgotten anyway
      }
    }
    forget()
  }

  /** forget drops the session locally, e.g. when the server refused to renew it. */
  function forget(): void {
    keeper.set(null)
    user.value = null
  }

  return { user, expired, loggedIn, restore, login, register, logout, forget }
})
