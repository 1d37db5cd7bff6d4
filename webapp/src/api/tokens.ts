// The session's access token, held in memory only. The refresh token lives in
// an HttpOnly cookie that page script cannot read, so a script smuggled into
// the page cannot carry the session away; a reload gets a new access token
// from that cookie. Every tab shares the one cookie and the server rotates it
// on each refresh (a token presented twice ends the session), so refreshes
// are serialised across tabs with the Web Locks API and each one's access
// token is handed to the other tabs over a BroadcastChannel.

/** Tokens are what Login and Refresh hand out to page script. */
export interface Tokens {
  accessToken: string
  /** When the access token stops working, in ms since the epoch; 0 if unknown. */
  accessExpiresAt: number
}

/** RefreshFn trades the refresh cookie for new tokens. It throws SessionEnded when the server refuses it. */
export type RefreshFn = () => Promise<Tokens>

/** SessionEnded says the refresh cookie no longer works: the user must log in again. */
export class SessionEnded extends Error {
  constructor() {
    super('session ended')
    this.name = 'SessionEnded'
  }
}

/** How long before its expiry an access token is renewed ahead of a call. */
export const renewMarginMs = 30_000

const lockName = 'parley.refresh'
const channelName = 'parley.session'

/** TabLink carries news between the tabs of this app (a BroadcastChannel in the browser). */
export interface TabLink {
  post(news: unknown): void
  listen(fn: (news: unknown) => void): void
}

/** Locks is the part of the Web Locks API the keeper uses. */
export interface Locks {
  request<T>(name: string, fn: () => Promise<T>): Promise<T>
}

/** TabNews is what one tab tells the others: new tokens, or that the session is over. */
type TabNews = { kind: 'tokens'; tokens: Tokens } | { kind: 'ended' }

/** KeeperOptions are the browser facilities a keeper uses; tests pass fakes. */
export interface KeeperOptions {
  link?: TabLink | null
  locks?: Locks | null
  now?: () => number
}

function browserLink(): TabLink | null {
  if (typeof BroadcastChannel !== 'function') return null
  const ch = new BroadcastChannel(channelName)
  return { post: (news) => ch.postMessage(news), listen: (fn) => ch.addEventListener('message', (ev) => fn(ev.data)) }
}

function browserLocks(): Locks | null {
  const locks = globalThis.navigator?.locks
  return locks ? { request: (name, fn) => locks.request(name, fn) } : null
}

/** TokenKeeper owns the access token and serialises its renewal across tabs. */
export class TokenKeeper {
  private tokens: Tokens | null = null
  private inflight: Promise<string | null> | null = null
  private refreshFn: RefreshFn | null = null
  private readonly link: TabLink | null
  private readonly locks: Locks | null
  private readonly now: () => number
  /** Called once when a session this tab held can no longer be renewed, here or in another tab. */
  onEnded: () => void = () => {}

  constructor(opts: KeeperOptions = {}) {
    this.link = opts.link === undefined ? browserLink() : opts.link
    this.locks = opts.locks === undefined ? browserLocks() : opts.locks
    this.now = opts.now ?? (() => Date.now())
    this.link?.listen((news) => this.hear(news as TabNews))
  }

  /** useRefresh sets how tokens are renewed (the Auth client is built after the keeper). */
  useRefresh(fn: RefreshFn): void {
    this.refreshFn = fn
  }

  /** current returns the tokens as they are, without renewing. */
  current(): Tokens | null {
    return this.tokens
  }

  /** set keeps new tokens (after a login), or forgets them with null (after a logout), and tells the other tabs. */
  set(tokens: Tokens | null): void {
    this.tokens = tokens
    this.tell(tokens ? { kind: 'tokens', tokens } : { kind: 'ended' })
  }

  /**
   * resume gets an access token from the refresh cookie when this tab holds
   * none, e.g. after a reload; null when there is no session to resume.
   */
  async resume(): Promise<string | null> {
    return this.tokens?.accessToken ?? this.renew(null)
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
   * renew gets a new access token after the server refused `rejected` (null:
   * this tab has none). When another call or tab has already renewed it, that
   * result is shared. It returns null when the session is over, and throws
   * when the server was not reached.
   */
  async renew(rejected: string | null): Promise<string | null> {
    const t = this.tokens
    if (t && t.accessToken !== rejected) return t.accessToken
    if (!this.inflight) {
      this.inflight = this.withLock(() => this.refresh(rejected)).finally(() => {
        this.inflight = null
      })
    }
    return this.inflight
  }

  private async refresh(rejected: string | null): Promise<string | null> {
    // Another tab may have refreshed while this one waited for the lock.
    const shared = this.tokens
    if (shared && shared.accessToken !== rejected) return shared.accessToken
    if (!this.refreshFn) return null
    const had = this.tokens !== null
    try {
      const fresh = await this.refreshFn()
      this.set(fresh) // told before the lock is released, so the next tab in line can take it
      return fresh.accessToken
    } catch (e) {
      if (!(e instanceof SessionEnded)) throw e
      this.set(null)
      if (had) this.onEnded()
      return null
    }
  }

  private hear(news: TabNews): void {
    if (news?.kind === 'tokens') {
      this.tokens = news.tokens
    } else if (news?.kind === 'ended' && this.tokens) {
      this.tokens = null
      this.onEnded()
    }
  }

  private tell(news: TabNews): void {
    this.link?.post(news)
  }

  private withLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.locks ? this.locks.request(lockName, fn) : fn()
  }
}
