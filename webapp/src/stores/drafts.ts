// What the user typed in each room and did not send yet, per user, in
// localStorage: kept across room switches, reloads and closed tabs, dropped
// on logout.

const prefix = 'parley.draft.'

function draftKey(userId: bigint, roomId: bigint): string {
  return `${prefix}${userId}.${roomId}`
}

/** loadDraft returns what was left typed in a room, or ''. */
export function loadDraft(userId: bigint, roomId: bigint): string {
  try {
    return globalThis.localStorage?.getItem(draftKey(userId, roomId)) ?? ''
  } catch {
    return ''
  }
}

/** saveDraft keeps a room's draft, or forgets it when empty. */
export function saveDraft(userId: bigint, roomId: bigint, text: string): void {
  try {
    if (text.trim()) globalThis.localStorage?.setItem(draftKey(userId, roomId), text)
    else globalThis.localStorage?.removeItem(draftKey(userId, roomId))
  } catch {
    // storage full or disabled: the draft lives as long as the page
  }
}

/** dropDrafts forgets every draft of a user (logout, so the next person on this browser sees none). */
export function dropDrafts(userId: bigint): void {
  const ls = globalThis.localStorage
  if (!ls) return
  const mine = `${prefix}${userId}.`
  const keys: string[] = []
  for (let i = 0; i < ls.length; i++) {
    const k = ls.key(i)
    if (k?.startsWith(mine)) keys.push(k)
  }
  for (const k of keys) ls.removeItem(k)
}
