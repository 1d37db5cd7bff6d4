// The session's tokens, kept in localStorage so a reload stays logged in,
// and renewed one refresh at a time: the server rotates refresh tokens, so a
// second refresh with the same token would fail and end the session.

/** Tokens are what Login and Refresh hand out. */
export interface Tokens {
  accessToken: string
  refreshToken: string
  /** When the access token stops working, in ms since the epoch; 0 if unknown. */
  accessExpiresAt: number
}

/** RefreshFn trades a refresh token for new tokens. It throws SessionEnded when the server refuses it. */
export type RefreshFn = (refreshToken: string) => Promise<Tokens>

/** SessionEnded says the refresh token no longer works: the user must log in again. */
export class SessionEnded extends Error {
  constructor() {
    super('session ended')
    this.name = 'SessionEnded'
  }
}

/** How long before its expiry an access token is renewed ahead of a call. */
export const renewMarginMs = 30_000

const storageKey = 'parley.tokens'
const lockName = 'parley.refresh'

/** KeyValue is the slice of the Storage API the keeper uses. */
export type KeyValue = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>

/** TokenKeeper owns the tokens and serializes their renewal. */
export class TokenKeeper {
  private tokens: Tokens | null
  private inflight: Promise<string | null> | null = null
  private refreshFn: RefreshFn | null = null
  /** Called once when the session can no longer be renewed. */
  onEnded: () => void = () => {}

  constructor(
    private readonly storage: KeyValue | undefined = globalThis.localStorage,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.tokens = this.read()
  }

  /** useRefresh sets how tokens are renewed (the Auth client is built after the keeper). */
  useRefresh(fn: RefreshFn): void {
    this.refreshFn = fn
  }

  /** current returns the tokens as they are, without renewing. */
  current(): Tokens | null {
    return this.tokens
  }

  /** set stores new tokens, or forgets them with null. */
  set(tokens: Tokens | null): void {
    this.tokens = tokens
    if (tokens) this.storage?.setItem(storageKey, JSON.stringify(tokens))
    else this.storage?.removeItem(storageKey)
  }

  /** accessToken returns a token that should work for a while, renewing it first when it is about to expire. */
  async accessToken(): Promise<string | null> {
    const t = this.tokens
    if (!t) return null
    if (t.accessExpiresAt && t.accessExpiresAt - this.now() < renewMarginMs) {
      try {
        return await this.renew(t.accessToken)
      } catch {
        return this.tokens?.accessToken ?? null // offline: let the call try and fail on its own
      }
    }
    return t.accessToken
  }

  /**
   * renew gets a new access token after the server refused `rejected`. When
   * another call has already renewed it, that result is shared. It returns
   * null when the session is over, and throws when the server was not reached.
   */
  async renew(rejected: string): Promise<string | null> {
    const t = this.tokens
    if (!t) return null
    if (t.accessToken !== rejected) return t.accessToken
    if (!this.inflight) {
      this.inflight = this.withLock(() => this.refresh(rejected)).finally(() => {
        this.inflight = null
      })
    }
    return this.inflight
  }

  private async refresh(rejected: string): Promise<string | null> {
    // Another tab may have rotated the tokens already: take its result.
    const stored = this.read()
    if (stored && stored.accessToken !== rejected) {
      this.tokens = stored
      return stored.accessToken
    }
    const t = this.tokens
    if (!t || !this.refreshFn) return null
    try {
      const fresh = await this.refreshFn(t.refreshToken)
      this.set(fresh)
      return fresh.accessToken
    } catch (e) {
      if (e instanceof SessionEnded) {
        this.set(null)
        this.onEnded()
        return null
      }
      throw e
    }
  }

  private withLock<T>(fn: () => Promise<T>): Promise<T> {
    const locks = globalThis.navigator?.locks
    return locks ? locks.request(lockName, fn) : fn()
  }

  private read(): Tokens | null {
    try {
      const raw = this.storage?.getItem(storageKey)
      if (!raw) return null
      const v = JSON.parse(raw) as Partial<Tokens>
      if (typeof v.accessToken !== 'string' || typeof v.refreshToken !== 'string') return null
      return { accessToken: v.accessToken, refreshToken: v.refreshToken, accessExpiresAt: Number(v.accessExpiresAt) || 0 }
    } catch {
      return null
    }
  }
}
