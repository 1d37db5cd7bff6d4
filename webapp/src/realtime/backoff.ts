// Reconnect delays: exponential, capped, with jitter so that many clients
// dropped together do not all come back in the same instant.

/** The first reconnect waits about this long. */
export const backoffBaseMs = 500
/** No reconnect waits longer than this. */
export const backoffMaxMs = 30_000

/** backoffDelay is the wait before reconnect attempt number `attempt` (0-based): half fixed, half random. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(backoffMaxMs, backoffBaseMs * 2 ** Math.max(0, attempt))
  return Math.round(ceiling / 2 + random() * (ceiling / 2))
}
