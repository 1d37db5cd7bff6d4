// What an avatar shows until uploaded pictures exist: initials from the
// display name and a colour from the user id, so two users with alike names
// ("histbot1", "histbot2") still look apart.

/** avatarPalette holds colours white text reads well on (4.5:1 or better). */
export const avatarPalette = ['#4f46e5', '#0e7490', '#047857', '#b45309', '#be185d', '#7c3aed', '#1d4ed8', '#b91c1c', '#4d7c0f', '#0f766e']

/** A step coprime with the palette's size: users made one after another (ids n, n+1) never share a colour. */
const idStep = 7n

/**
 * avatarColor picks a palette colour from a user id, the same on every page
 * and device; a name (when the id is not known) is hashed (FNV-1a) instead.
 */
export function avatarColor(id: bigint | number | string): string {
  const n = BigInt(avatarPalette.length)
  if (typeof id !== 'string') return avatarPalette[Number((((BigInt(id) * idStep) % n) + n) % n)]
  let h = 0x811c9dc5
  for (const ch of id) {
    h ^= ch.charCodeAt(0)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return avatarPalette[h % avatarPalette.length]
}

/**
 * initials are the first letters of a name's first two words ("Ann Lee" ->
 * "AL"); a single word gives its first two letters, or its first letter and
 * last digit when it ends in one ("histbot2" -> "H2").
 */
export function initials(name: string): string {
  const words = name.replace(/^[_\s]+/, '').split(/[\s_.-]+/u).filter(Boolean)
  if (words.length === 0) return '?'
  const first = (w: string) => [...w][0] ?? ''
  if (words.length > 1) return (first(words[0]) + first(words[1])).toUpperCase()
  const w = [...words[0]]
  const digit = /\d$/.test(words[0]) && w.length > 1 && !/^\d+$/.test(words[0]) ? w[w.length - 1] : ''
  return (w[0] + (digit || (w[1] ?? ''))).toUpperCase()
}
