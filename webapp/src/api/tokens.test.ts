import { describe, expect, it, vi } from 'vitest'
import { createRouterTransport, createClient, Code, ConnectError } from '@connectrpc/connect'
import { RoomService } from '@/gen/chat/v1/room_pb'
import { AuthService } from '@/gen/chat/v1/auth_pb'
import { SessionEnded, TokenKeeper, renewMarginMs, type KeyValue, type Tokens } from './tokens'
import { authInterceptor } from './client'

function memStorage(): KeyValue & { data: Map<string, string> } {
  const data = new Map<string, string>()
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: (k) => void data.delete(k),
  }
}

const tokens = (n: number, expiresAt = 0): Tokens => ({ accessToken: `a${n}`, refreshToken: `r${n}`, accessExpiresAt: expiresAt })

describe('TokenKeeper', () => {
  it('Concurrent: many refused calls share one refresh', async () => {
    const keeper = new TokenKeeper(memStorage())
    keeper.set(tokens(1))
    const refresh = vi.fn(async (rt: string) => {
      await new Promise((r) => setTimeout(r, 5))
      expect(rt).toBe('r1')
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

  it('ErrSessionEnded: forgets the tokens and says so once', async () => {
    const store = memStorage()
    const keeper = new TokenKeeper(store)
    keeper.set(tokens(1))
    keeper.useRefresh(async () => {
      throw new SessionEnded()
    })
    const ended = vi.fn()
    keeper.onEnded = ended
    expect(await Promise.all([keeper.renew('a1'), keeper.renew('a1')])).toEqual([null, null])
    expect(ended).toHaveBeenCalledOnce()
    expect(keeper.current()).toBeNull()
    expect(store.data.size).toBe(0)
  })

  it('ErrNetwork: keeps the session', async () => {
    const keeper = new TokenKeeper(memStorage())
    keeper.set(tokens(1))
    keeper.useRefresh(async () => {
      throw new ConnectError('offline', Code.Unavailable)
    })
    await expect(keeper.renew('a1')).rejects.toThrow('offline')
    expect(keeper.current()).toEqual(tokens(1))
  })

  it('OtherTab: adopts tokens another tab already rotated', async () => {
    const store = memStorage()
    const keeper = new TokenKeeper(store)
    keeper.set(tokens(1))
    const other = new TokenKeeper(store)
    other.set(tokens(2))
    const refresh = vi.fn(async () => tokens(3))
    keeper.useRefresh(refresh)
    expect(await keeper.renew('a1')).toBe('a2')
    expect(refresh).not.toHaveBeenCalled()
  })

  it('NearExpiry: renews ahead of a call', async () => {
    let now = 1_000_000
    const keeper = new TokenKeeper(memStorage(), () => now)
    keeper.set(tokens(1, now + renewMarginMs + 1000))
    keeper.useRefresh(async () => tokens(2, now + 900_000))
    expect(await keeper.accessToken()).toBe('a1')
    now += 2000
    expect(await keeper.accessToken()).toBe('a2')
  })

  it('survives a reload', () => {
    const store = memStorage()
    new TokenKeeper(store).set(tokens(1, 5))
    expect(new TokenKeeper(store).current()).toEqual(tokens(1, 5))
  })
})

describe('authInterceptor', () => {
  function setup(validToken: string) {
    const seen: (string | null)[] = []
    const keeper = new TokenKeeper(memStorage())
    keeper.set(tokens(1))
    keeper.useRefresh(async () => tokens(2))
    const transport = createRouterTransport(
      ({ service }) => {
        service(RoomService, {
          listRooms: (_req, ctx) => {
            const h = ctx.requestHeader.get('Authorization')
            seen.push(h)
            if (h !== `Bearer ${validToken}`) throw new ConnectError('expired', Code.Unauthenticated)
            return { rooms: [] }
          },
        })
        service(AuthService, {
          login: (_req, ctx) => {
            seen.push(ctx.requestHeader.get('Authorization'))
            return { accessToken: 'x' }
          },
        })
      },
      { transport: { interceptors: [authInterceptor(keeper)] } },
    )
    return { seen, keeper, rooms: createClient(RoomService, transport), auth: createClient(AuthService, transport) }
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
    expect(h.keeper.current()?.refreshToken).toBe('r2')
  })

  it('ErrStillRefused: gives up after one retry', async () => {
    const h = setup('never')
    await expect(h.rooms.listRooms({})).rejects.toMatchObject({ code: Code.Unauthenticated })
    expect(h.seen).toHaveLength(2)
  })

  it('Login carries no token', async () => {
    const h = setup('a1')
    await h.auth.login({ login: 'x', password: 'y' })
    expect(h.seen).toEqual([null])
  })
})
