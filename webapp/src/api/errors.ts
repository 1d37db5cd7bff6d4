// Turns errors from the server into words for people.
import { Code, ConnectError } from '@connectrpc/connect'
import { fromBinary } from '@bufbuild/protobuf'
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire'
import { DurationSchema } from '@bufbuild/protobuf/wkt'
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
