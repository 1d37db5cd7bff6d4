// Search hits mark the matched parts of a body in characters (Unicode code
// points), as the server counts them; JavaScript strings count UTF-16 units,
// so the body is sliced as an array of code points, or an emoji or a rare
// Chinese character before a match would shift every mark after it.

/** Part is a run of a body, matched or not. */
export interface Part {
  text: string
  hit: boolean
}

/** Range is [start, end) in code points. */
export interface Range {
  start: number
  end: number
}

/** highlightParts splits a body into runs by the ranges, which are clamped, sorted and merged first. */
export function highlightParts(body: string, ranges: readonly Range[]): Part[] {
  const chars = Array.from(body)
  const parts: Part[] = []
  let at = 0
  for (const r of normalise(ranges, chars.length)) {
    if (r.start > at) parts.push({ text: chars.slice(at, r.start).join(''), hit: false })
    parts.push({ text: chars.slice(r.start, r.end).join(''), hit: true })
    at = r.end
  }
  if (at < chars.length || parts.length === 0) parts.push({ text: chars.slice(at).join(''), hit: false })
  return parts
}

function normalise(ranges: readonly Range[], len: number): Range[] {
  const sorted = ranges
    .map((r) => ({ start: Math.max(0, r.start), end: Math.min(len, r.end) }))
    .filter((r) => r.end > r.start)
    .sort((a, b) => a.start - b.start)
  const out: Range[] = []
  for (const r of sorted) {
    const last = out[out.length - 1]
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end)
    else out.push(r)
  }
  return out
}
