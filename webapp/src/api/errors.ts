// Turns errors from the server into words for people.
import { Code, ConnectError } from '@connectrpc/connect'
import { isMessageKey, t } from '@/i18n'

/** codeName gives an error's Connect code in snake_case, e.g. "already_exists". */
export function codeName(e: unknown): string {
  const code = ConnectError.from(e).code
  return (Code[code] ?? 'Unknown').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase()
}

/** describeError says in the user's language what went wrong. */
export function describeError(e: unknown): string {
  const key = `err.${codeName(e)}`
  return t(isMessageKey(key) ? key : 'err.unknown')
}

/** Codes after which the same request will fail again, so retrying is pointless. */
const permanentCodes = new Set<Code>([
  Code.InvalidArgument,
  Code.NotFound,
  Code.PermissionDenied,
  Code.Unauthenticated,
  Code.FailedPrecondition,
  Code.AlreadyExists,
  Code.OutOfRange,
  Code.Unimplemented,
])

/** isRetryable says whether repeating an idempotent request may succeed. */
export function isRetryable(e: unknown): boolean {
  return !permanentCodes.has(ConnectError.from(e).code)
}
