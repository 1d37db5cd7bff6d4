// The Connect clients every store uses, over one transport that adds the
// bearer token and renews it transparently when the server refuses it. Auth
// calls ask for the refresh token in an HttpOnly cookie (see tokens.ts).
import { Code, ConnectError, createClient, type Interceptor, type Transport } from '@connectrpc/connect'
import { createConnectTransport } from '@connectrpc/connect-web'
import { timestampMs } from '@bufbuild/protobuf/wkt'
import { AuthService, type LoginResponse, type RefreshResponse } from '@/gen/chat/v1/auth_pb'
import { RoomService } from '@/gen/chat/v1/room_pb'
import { MessageService } from '@/gen/chat/v1/message_pb'
import { UserService } from '@/gen/chat/v1/user_pb'
import { FriendService } from '@/gen/chat/v1/friend_pb'
import { SessionEnded, TokenKeeper, type Tokens } from './tokens'

/** Methods that run before there is a session, so they carry no token. */
const anonymousMethods = new Set(['Register', 'Login', 'Refresh'])
/** Methods that hand out, take or clear the refresh cookie. */
const cookieMethods = new Set(['Login', 'Refresh', 'Logout'])
/** The header that asks chatd for the refresh token in a cookie instead of the body. */
export const refreshCookieHeader = 'X-Parley-Refresh-Cookie'

/** tokensFrom turns a Login or Refresh answer into Tokens. */
export function tokensFrom(res: LoginResponse | RefreshResponse): Tokens {
  return {
    accessToken: res.accessToken,
    accessExpiresAt: res.accessExpiresAt ? timestampMs(res.accessExpiresAt) : 0,
  }
}

/** authInterceptor adds the bearer token and, on unauthenticated, renews it once and retries. */
export function authInterceptor(keeper: TokenKeeper): Interceptor {
  return (next) => async (req) => {
    const auth = req.service.typeName === AuthService.typeName
    if (auth && cookieMethods.has(req.method.name)) req.header.set(refreshCookieHeader, '1')
    if (auth && anonymousMethods.has(req.method.name)) return next(req)
    const token = await keeper.accessToken()
    if (token) req.header.set('Authorization', `Bearer ${token}`)
    try {
      return await next(req)
    } catch (e) {
      if (!token || ConnectError.from(e).code !== Code.Unauthenticated) throw e
      const fresh = await keeper.renew(token)
      if (!fresh) throw e
      req.header.set('Authorization', `Bearer ${fresh}`)
      return await next(req)
    }
  }
}

/** keeper holds this browser's session tokens. */
export const keeper = new TokenKeeper()

function makeTransport(): Transport {
  return createConnectTransport({
    baseUrl: globalThis.location?.origin ?? 'http://localhost',
    interceptors: [authInterceptor(keeper)],
  })
}

const transport = makeTransport()

/** authClient calls AuthService. */
export const authClient = createClient(AuthService, transport)
/** roomClient calls RoomService. */
export const roomClient = createClient(RoomService, transport)
/** messageClient calls MessageService. */
export const messageClient = createClient(MessageService, transport)
/** userClient calls UserService. */
export const userClient = createClient(UserService, transport)
/** friendClient calls FriendService. */
export const friendClient = createClient(FriendService, transport)

keeper.useRefresh(async () => {
  try {
    return tokensFrom(await authClient.refresh({})) // the cookie carries the refresh token
  } catch (e) {
    const code = ConnectError.from(e).code
    if (code === Code.Unauthenticated || code === Code.InvalidArgument || code === Code.NotFound) {
      throw new SessionEnded()
    }
    throw e
  }
})
