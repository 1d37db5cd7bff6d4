// Pure helpers that turn a room's messages into what the list shows.
import { timestampDate } from '@bufbuild/protobuf/wkt'
import type { Message } from '@/gen/chat/v1/types_pb'
import { locale, t } from '@/i18n'

const clocks = new Map<string, Intl.DateTimeFormat>()
const fulls = new Map<string, Intl.DateTimeFormat>()
const days = new Map<string, Intl.DateTimeFormat>()

/** clockFormat is a message's time of day, without a leading zero (9:05, not 09:05). */
export function clockFormat(d: Date): string {
  const l = locale.value
  if (!clocks.has(l)) clocks.set(l, new Intl.DateTimeFormat(l, { hour: 'numeric', minute: '2-digit' }))
  return clocks.get(l)!.format(d)
}

/** fullFormat is the full date and time, for a title on hover. */
export function fullFormat(d: Date): string {
  const l = locale.value
  if (!fulls.has(l)) fulls.set(l, new Intl.DateTimeFormat(l, { dateStyle: 'full', timeStyle: 'medium' }))
  return fulls.get(l)!.format(d)
}

/** Messages from one sender closer together than this share a header. */
export const groupWindowMs = 5 * 60_000

/** dayLabel names a day separator: today, yesterday, or the date. */
export function dayLabel(d: Date, now = new Date()): string {
  const yesterday = new Date(now.getTime() - 86_400_000)
  if (sameDay(d, now)) return t('chat.today')
  if (sameDay(d, yesterday)) return t('chat.yesterday')
  const l = locale.value
  if (!days.has(l)) days.set(l, new Intl.DateTimeFormat(l, { weekday: 'long', month: 'long', day: 'numeric' }))
  return days.get(l)!.format(d)
}

/** Row is one line of the message list. */
export type Row =
  | { kind: 'day'; key: string; date: Date }
  | { kind: 'unread'; key: string }
  | { kind: 'message'; key: string; message: Message; date: Date; first: boolean }
  | { kind: 'blocked'; key: string; seqs: bigint[] }

export function messageDate(m: Message): Date {
  return m.createdAt ? timestampDate(m.createdAt) : new Date(0)
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate()
}

/**
 * buildRows adds day separators, marks where a sender's run of messages
 * starts, and puts the "new messages" divider before the first message after
 * unreadAfter that counts as unread (not mine, not deleted).
 */
export function buildRows(messages: readonly Message[], unreadAfter: bigint | null = null, me?: bigint): Row[] {
  const rows: Row[] = []
  let prev: { date: Date; sender: bigint | undefined } | null = null
  let divided = unreadAfter === null
  for (const m of messages) {
    const date = messageDate(m)
    if (!prev || !sameDay(prev.date, date)) {
      rows.push({ kind: 'day', key: `d${m.seq}`, date })
      prev = null
    }
    if (!divided && m.seq > unreadAfter! && m.sender?.id !== me && !m.deleted) {
      divided = true
      rows.push({ kind: 'unread', key: 'unread' })
      prev = null
    }
    const first =
      !prev || prev.sender !== m.sender?.id || date.getTime() - prev.date.getTime() > groupWindowMs
    rows.push({ kind: 'message', key: `m${m.seq}`, message: m, date, first })
    prev = { date, sender: m.sender?.id }
  }
  return rows
}

/**
 * foldBlocked folds each run of messages from users the viewer blocked into
 * one row ("2 messages from a blocked user"), except those the viewer chose
 * to show; the message after a fold starts a new header.
 */
export function foldBlocked(rows: readonly Row[], isBlocked: (m: Message) => boolean, shown: ReadonlySet<bigint>): Row[] {
  const out: Row[] = []
  for (const row of rows) {
    const last = out.at(-1)
    if (row.kind !== 'message' || !isBlocked(row.message) || shown.has(row.message.seq)) {
      out.push(row.kind === 'message' && last?.kind === 'blocked' ? { ...row, first: true } : row)
    } else if (last?.kind === 'blocked') last.seqs.push(row.message.seq)
    else out.push({ kind: 'blocked', key: `b${row.message.seq}`, seqs: [row.message.seq] })
  }
  return out
}
