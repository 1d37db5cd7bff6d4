// The Connect clients every store uses, over one transport that adds the
// bearer token and renews it transparently when the server refuses it.
import { Code, ConnectError, createClient, type Interceptor, type Transport } from '@connectrpc/connect'
import { createConnectTransport } from '@connectrpc/connect-web'
import { timestampMs } from '@bufbuild/protobuf/wkt'
import { AuthService, type LoginResponse, type RefreshResponse } from '@/gen/chat/v1/auth_pb'
import { RoomService } from '@/gen/chat/v1/room_pb'
import { MessageService } from '@/gen/chat/v1/message_pb'
import { SessionEnded, TokenKeeper, type Tokens } from './tokens'

/** Methods that run before there is a session, so they carry no token. */
const anonymousMethods = new Set(['Register', 'Login', 'Refresh'])

/** tokensFrom turns a Login or Refresh answer into Tokens. */
export function tokensFrom(res: LoginResponse | RefreshResponse): Tokens {
  return {
    accessToken: res.accessToken,
    refreshToken: res.refreshToken,
    accessExpiresAt: res.accessExpiresAt ? timestampMs(res.accessExpiresAt) : 0,
  }
}

/** authInterceptor adds the bearer token and, on unauthenticated, renews it once and retries. */
export function authInterceptor(keeper: TokenKeeper): Interceptor {
  return (next) => async (req) => {
    if (req.service.typeName === AuthService.typeName && anonymousMethods.has(req.method.name)) {
      return next(req)
    }
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

keeper.useRefresh(async (refreshToken) => {
  try {
    return tokensFrom(await authClient.refresh({ refreshToken }))
  } catch (e) {
    const code = ConnectError.from(e).code
    if (code === Code.Unauthenticated || code === Code.InvalidArgument || code === Code.NotFound) {
      throw new SessionEnded()
    }
    throw e
  }
})
