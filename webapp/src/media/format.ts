// How sizes and durations read to a person.

const units = ['B', 'KB', 'MB', 'GB']

/** humanSize says a size in bytes as "1.5 MB" (1024 per step; whole bytes below 1 KB). */
export function humanSize(bytes: bigint | number): string {
  let n = Number(bytes)
  let u = 0
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024
    u++
  }
  return u === 0 ? `${n} B` : `${n < 10 ? n.toFixed(1) : Math.round(n)} ${units[u]}`
}

/** clock says a duration in ms as m:ss. */
export function clock(ms: bigint | number): string {
  const s = Math.max(0, Math.floor(Number(ms) / 1000))
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}
