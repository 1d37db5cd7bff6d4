import { describe, expect, it, vi } from 'vitest'
import { createRouterTransport, createClient, Code, ConnectError } from '@connectrpc/connect'
import { RoomService } from '@/gen/chat/v1/room_pb'
import { AuthService } from '@/gen/chat/v1/auth_pb'
import { SessionEnded, TokenKeeper, renewMarginMs, type Locks, type TabLink, type Tokens } from './tokens'
import { authInterceptor, refreshCookieHeader } from './client'

const tokens = (n: number, expiresAt = 0): Tokens => ({ accessToken: `a${n}`, accessExpiresAt: expiresAt })

/** tabs is a BroadcastChannel and a Web Lock shared by fake tabs, delivering news asynchronously as browsers do. */
function tabs() {
  const listeners: ((news: unknown) => void)[] = []
  let queue = Promise.resolve()
  const locks: Locks = {
    request: <T>(_name: string, fn: () => Promise<T>): Promise<T> => {
      const run = queue.then(fn)
      queue = run.then(
        () => undefined,
        () => undefined,
      )
      return run
    },
  }
  const open = (): TabLink => {
    let mine: ((news: unknown) => void) | null = null
    return {
      post: (news) => {
        for (const l of listeners) if (l !== mine) queueMicrotask(() => l(structuredClone(news)))
      },
      listen: (fn) => {
        mine = fn
        listeners.push(fn)
      },
    }
  }
  return { keeper: (now?: () => number) => new TokenKeeper({ link: open(), locks, now }) }
}

const alone = (now?: () => number) => new TokenKeeper({ link: null, locks: null, now })

describe('TokenKeeper', () => {
  it('Concurrent: many refused calls share one refresh', async () => {
    const keeper = alone()
    keeper.set(tokens(1))
    const refresh = vi.fn(async () => {
      await new Promise((r) => setTimeout(r, 5))
      return tokens(2)
    })
    keeper.useRefresh(refresh)
    const got = await Promise.all([keeper.renew('a1'), keeper.renew('a1'), keeper.renew('a1')])
    expect(got).toEqual(['a2', 'a2', 'a2'])
    expect(refresh).toHaveBeenCalledOnce()
    // A call that still carried the old token after the renewal gets the new one without refreshing.
    expect(await keeper.renew('a1')).toBe('a2')
    expect(refresh).toHaveBeenCalledOnce()
  })

  it('ErrSessionEnded: forgets the token and says so once', async () => {
    const keeper = alone()
    keeper.set(tokens(1))
    keeper.useRefresh(async () => {
      throw new SessionEnded()
    })
    const ended = vi.fn()
    keeper.onEnded = ended
    expect(await Promise.all([keeper.renew('a1'), keeper.renew('a1')])).toEqual([null, null])
    expect(ended).toHaveBeenCalledOnce()
    expect(keeper.current()).toBeNull()
  })

  it('ErrNetwork: keeps the session', async () => {
    const keeper = alone()
    keeper.set(tokens(1))
    keeper.useRefresh(async () => {
      throw new ConnectError('offline', Code.Unavailable)
    })
    await expect(keeper.renew('a1')).rejects.toThrow('offline')
    expect(keeper.current()).toEqual(tokens(1))
  })

  it('NearExpiry: renews ahead of a call', async () => {
    let now = 1_000_000
    const keeper = alone(() => now)
    keeper.set(tokens(1, now + renewMarginMs + 1000))
    keeper.useRefresh(async () => tokens(2, now + 900_000))
    expect(await keeper.accessToken()).toBe('a1')
    now += 2000
    expect(await keeper.accessToken()).toBe('a2')
  })

  it('Reload: resumes from the refresh cookie, and a first visit is no ended session', async () => {
    const keeper = alone()
    const ended = vi.fn()
    keeper.onEnded = ended
    keeper.useRefresh(async () => tokens(7))
    expect(await keeper.resume()).toBe('a7')
    const fresh = alone()
    fresh.onEnded = ended
    fresh.useRefresh(async () => {
      throw new SessionEnded()
    })
    expect(await fresh.resume()).toBeNull()
    expect(ended).not.toHaveBeenCalled()
  })

  it('Tabs: refreshes never overlap, and a tab that waited takes the token the other one got', async () => {
    const shared = tabs()
    const a = shared.keeper()
    const b = shared.keeper()
    a.set(tokens(1))
    await Promise.resolve()
    expect(b.current()).toEqual(tokens(1)) // a login is shared too
    let running = 0
    let overlapped = false
    let n = 1
    const refresh = vi.fn(async () => {
      overlapped ||= running > 0
      running++
      await new Promise((r) => setTimeout(r, 5))
      running--
      return tokens(++n)
    })
    a.useRefresh(refresh)
    b.useRefresh(refresh)
    const [ta, tb] = await Promise.all([a.renew('a1'), b.renew('a1')])
    expect(overlapped).toBe(false)
    expect(refresh).toHaveBeenCalledOnce()
    expect([ta, tb]).toEqual(['a2', 'a2'])
  })

  it('Tabs: a session that ended in one tab ends in the others', async () => {
    const shared = tabs()
    const a = shared.keeper()
    const b = shared.keeper()
    a.set(tokens(1))
    await Promise.resolve()
    const ended = vi.fn()
    b.onEnded = ended
    a.set(null) // logout in tab a
    await vi.waitFor(() => expect(ended).toHaveBeenCalledOnce())
    expect(b.current()).toBeNull()
  })
})

describe('authInterceptor', () => {
  function setup(validToken: string) {
    const seen: (string | null)[] = []
    const cookieAsked: string[] = []
    const keeper = alone()
    keeper.set(tokens(1))
    keeper.useRefresh(async () => tokens(2))
    const transport = createRouterTransport(
      ({ service }) => {
        service(RoomService, {
          listRooms: (_req, ctx) => {
            const h = ctx.requestHeader.get('Authorization')
            seen.push(h)
            if (ctx.requestHeader.get(refreshCookieHeader)) cookieAsked.push('listRooms')
            if (h !== `Bearer ${validToken}`) throw new ConnectError('expired', Code.Unauthenticated)
            return { rooms: [] }
          },
        })
        service(AuthService, {
          login: (_req, ctx) => {
            seen.push(ctx.requestHeader.get('Authorization'))
            if (ctx.requestHeader.get(refreshCookieHeader) === '1') cookieAsked.push('login')
            return { accessToken: 'x' }
          },
        })
      },
      { transport: { interceptors: [authInterceptor(keeper)] } },
    )
    return { seen, cookieAsked, keeper, rooms: createClient(RoomService, transport), auth: createClient(AuthService, transport) }
  }

  it('OK: adds the bearer token', async () => {
    const h = setup('a1')
    await h.rooms.listRooms({})
    expect(h.seen).toEqual(['Bearer a1'])
  })

  it('Expired: refreshes and retries once with the new token', async () => {
    const h = setup('a2')
    await h.rooms.listRooms({})
    expect(h.seen).toEqual(['Bearer a1', 'Bearer a2'])
    expect(h.keeper.current()?.accessToken).toBe('a2')
  })

  it('ErrStillRefused: gives up after one retry', async () => {
    const h = setup('never')
    await expect(h.rooms.listRooms({})).rejects.toMatchObject({ code: Code.Unauthenticated })
    expect(h.seen).toHaveLength(2)
  })

  it('Login carries no token and asks for the refresh cookie; other calls do not', async () => {
    const h = setup('a1')
    await h.auth.login({ login: 'x', password: 'y' })
    await h.rooms.listRooms({})
    expect(h.seen).toEqual([null, 'Bearer a1'])
    expect(h.cookieAsked).toEqual(['login'])
  })
})
