// Turns errors from the server into words for people.
import { Code, ConnectError } from '@connectrpc/connect'
import { fromBinary } from '@bufbuild/protobuf'
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire'
import { DurationSchema } from '@bufbuild/protobuf/wkt'
import { isMessageKey, locale, t, type MessageKey } from '@/i18n'

/** codeName gives an error's Connect code in snake_case, e.g. "already_exists". */
export function codeName(e: unknown): string {
  const code = ConnectError.from(e).code
  return (Code[code] ?? 'Unknown').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase()
}

/**
 * The server's sentences that the app translates, and the form field each
 * one is about (the server says them in English whatever the user reads).
 */
const sentences: Record<string, { key: MessageKey; field?: string }> = {
  'that username is taken': { key: 'err.usernameTaken', field: 'username' },
  'that email is already registered': { key: 'err.emailTaken', field: 'email' },
  'a room with that name exists': { key: 'err.roomNameTaken', field: 'name' },
  'this user does not accept messages from you': { key: 'err.policy' },
  'you blocked this user: unblock them first': { key: 'err.youBlocked' },
  'a direct conversation cannot be left; hide it instead': { key: 'err.directLeave' },
  'you have sent too many friend requests': { key: 'err.tooManyRequests' },
}

/** Codes whose message is the server's sentence about the request, not a fault of the server. */
const sentenceCodes = new Set<Code>([Code.InvalidArgument, Code.NotFound, Code.AlreadyExists, Code.PermissionDenied, Code.FailedPrecondition, Code.ResourceExhausted])

function sentenceOf(e: unknown): (typeof sentences)[string] | undefined {
  return sentences[ConnectError.from(e).rawMessage.trim().toLowerCase()]
}

/**
 * describeError says in the user's language what went wrong: a sentence of
 * the server's it knows, translated; in English any other sentence the
 * server gave about the request; else the words for its code.
 */
export function describeError(e: unknown): string {
  const known = sentenceOf(e)
  if (known) return t(known.key)
  const err = ConnectError.from(e)
  if (locale.value === 'en' && sentenceCodes.has(err.code) && /^[a-z][^:]*\s/i.test(err.rawMessage)) {
    return err.rawMessage.charAt(0).toUpperCase() + err.rawMessage.slice(1)
  }
  const key = `err.${codeName(e)}`
  return t(isMessageKey(key) ? key : 'err.unknown')
}

/** fieldOf names the form field an error is about ("username", "email", "name"), or '' for the whole form. */
export function fieldOf(e: unknown): string {
  return sentenceOf(e)?.field ?? ''
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

const retryInfoType = 'google.rpc.RetryInfo'

/**
 * retryDelayMs is how long the server asked the client to wait before trying
 * again (resource_exhausted): its google.rpc.RetryInfo detail, else its
 * Retry-After header in seconds; null when it said nothing.
 */
export function retryDelayMs(e: unknown): number | null {
  const err = ConnectError.from(e)
  for (const d of err.details) {
    if ('type' in d && d.type === retryInfoType) {
      const ms = retryInfoDelayMs(d.value)
      if (ms !== null) return ms
    }
  }
  const secs = Number(err.metadata.get('retry-after'))
  return err.metadata.has('retry-after') && Number.isFinite(secs) && secs >= 0 ? secs * 1000 : null
}

/** retryInfoDelayMs reads RetryInfo.retry_delay (field 1, a Duration) from its wire form. */
function retryInfoDelayMs(bytes: Uint8Array): number | null {
  try {
    const r = new BinaryReader(bytes)
    while (r.pos < r.len) {
      const [field, wire] = r.tag()
      if (field === 1 && wire === WireType.LengthDelimited) {
        const d = fromBinary(DurationSchema, r.bytes())
        return Number(d.seconds) * 1000 + Math.ceil(d.nanos / 1e6)
      }
      r.skip(wire)
    }
  } catch {
    // a detail this client cannot read: fall back to the header
  }
  return null
}
