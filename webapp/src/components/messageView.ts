// Pure helpers that turn a room's messages into what the list shows.
import { timestampDate } from '@bufbuild/protobuf/wkt'
import type { Message } from '@/gen/chat/v1/types_pb'

/** Messages from one sender closer together than this share a header. */
export const groupWindowMs = 5 * 60_000

/** Row is one line of the message list. */
export type Row =
  | { kind: 'day'; key: string; date: Date }
  | { kind: 'message'; key: string; message: Message; date: Date; first: boolean }

export function messageDate(m: Message): Date {
  return m.createdAt ? timestampDate(m.createdAt) : new Date(0)
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate()
}

/** buildRows adds day separators and marks where a sender's run of messages starts. */
export function buildRows(messages: readonly Message[]): Row[] {
  const rows: Row[] = []
  let prev: { date: Date; sender: bigint | undefined } | null = null
  for (const m of messages) {
    const date = messageDate(m)
    if (!prev || !sameDay(prev.date, date)) {
      rows.push({ kind: 'day', key: `d${m.seq}`, date })
      prev = null
    }
    const first =
      !prev || prev.sender !== m.sender?.id || date.getTime() - prev.date.getTime() > groupWindowMs
    rows.push({ kind: 'message', key: `m${m.seq}`, message: m, date, first })
    prev = { date, sender: m.sender?.id }
  }
  return rows
}
