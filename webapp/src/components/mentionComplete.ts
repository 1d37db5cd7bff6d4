// The @ autocomplete of the composer, as pure functions of the text and caret.
import type { Member } from '@/gen/chat/v1/types_pb'

/** How many names the list offers at once. */
export const maxCandidates = 8

/** MentionQuery is the @word being typed: where its @ is, and what follows it. */
export interface MentionQuery {
  start: number
  query: string
}

/** mentionQuery finds the @word that ends at the caret, if one is being typed. */
export function mentionQuery(text: string, caret: number): MentionQuery | null {
  const m = /(^|[^\w@`])@(\w{0,32})$/.exec(text.slice(0, caret))
  if (!m) return null
  return { start: caret - m[2].length - 1, query: m[2] }
}

/** Candidate is one name the list offers; room stands for @room. */
export interface Candidate {
  username: string
  label: string
  room: boolean
}

/** mentionCandidates lists the members (not me) whose name starts with the query, then @room. */
export function mentionCandidates(members: readonly Member[], query: string, me: bigint | undefined, roomLabel: string): Candidate[] {
  const q = query.toLowerCase()
  const out: Candidate[] = members
    .filter((m) => m.user && m.user.id !== me && m.user.username.toLowerCase().startsWith(q))
    .sort((a, b) => a.user!.username.localeCompare(b.user!.username))
    .map((m) => ({ username: m.user!.username, label: m.user!.displayName || m.user!.username, room: false }))
  if ('room'.startsWith(q)) out.push({ username: 'room', label: roomLabel, room: true })
  return out.slice(0, maxCandidates)
}

/** completeMention puts @username and a space in place of the @word typed, and says where the caret goes. */
export function completeMention(text: string, q: MentionQuery, caret: number, username: string): { text: string; caret: number } {
  const insert = `@${username} `
  const rest = text.slice(caret).replace(/^\w*/, '')
  return { text: text.slice(0, q.start) + insert + rest, caret: q.start + insert.length }
}
