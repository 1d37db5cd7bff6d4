// The files a user attached in the composer and has not sent yet, per room:
// each starts uploading at once (so sending is quick), shows its progress, can
// be removed (aborting its upload), and once all are stored their ids go with
// the message. A failed upload stays with its reason until removed.
import { defineStore } from 'pinia'
import { reactive } from 'vue'
import { AttachmentKind, type Attachment } from '@/gen/chat/v1/types_pb'
import { uploadFile, type UploadOptions } from '@/api/upload'
import { describeError } from '@/api/errors'
import type { VoiceShape } from '@/media/waveform'

/** The server takes at most this many attachments on one message. */
export const maxAttachments = 10

/** PendingState is where an attached file stands. */
export type PendingState = 'uploading' | 'done' | 'failed'

/** Pending is one file attached in the composer. */
export interface Pending {
  key: string
  roomId: bigint
  name: string
  size: number
  kind: AttachmentKind
  /**
   * An image's preview, as a data: URL (the app's Content-Security-Policy
   * allows data: images but not blob: ones); '' for others and until read.
   */
  preview: string
  progress: number
  state: PendingState
  error: string
  attachment: Attachment | null
  abort: () => void
}

/** kindOf guesses from the declared type how a file will show; the server decides in the end. */
export function kindOf(type: string): AttachmentKind {
  return /^image\/(png|jpeg|gif|webp)$/.test(type) ? AttachmentKind.IMAGE : AttachmentKind.FILE
}

/** pastedName names a clipboard image, which has none of its own ("image.png"). */
export function pastedName(file: File, now = new Date()): string {
  if (file.name && file.name !== 'image.png') return file.name
  const ext = file.type.split('/')[1]?.replace('jpeg', 'jpg') || 'png'
  const stamp = now.toISOString().slice(0, 19).replace(/[-:T]/g, '')
  return `pasted-${stamp}.${ext}`
}

/** Images larger than this get no preview before they are stored (the thumbnail comes then). */
export const maxPreviewBytes = 8 * 1024 * 1024

/** readPreview reads an image as a data: URL; '' if it cannot. */
function readPreview(file: Blob): Promise<string> {
  return new Promise((resolve) => {
    const r = new FileReader()
    r.onload = () => resolve(typeof r.result === 'string' ? r.result : '')
    r.onerror = () => resolve('')
    r.readAsDataURL(file)
  })
}

/** useAttachmentsStore holds the composer's attachments of every room. */
export const useAttachmentsStore = defineStore('attachments', () => {
  const items = reactive<Pending[]>([])

  function inRoom(roomId: bigint): Pending[] {
    return items.filter((p) => p.roomId === roomId)
  }

  function start(roomId: bigint, file: Blob, opts: UploadOptions, kind: AttachmentKind): Pending {
    items.push({ key: crypto.randomUUID(), roomId, name: opts.filename, size: file.size, kind, preview: '', progress: 0, state: 'uploading', error: '', attachment: null, abort: () => {} })
    const p = items[items.length - 1] // the reactive proxy, so progress shows
    if (kind === AttachmentKind.IMAGE && file.size <= maxPreviewBytes) void readPreview(file).then((url) => (p.preview ||= url))
    const up = uploadFile(file, opts, (f) => (p.progress = f))
    p.abort = up.abort
    up.done.then(
      (a) => Object.assign(p, { state: 'done', progress: 1, attachment: a, preview: a.thumbnailUrl || p.preview }),
      (e) => Object.assign(p, { state: 'failed', error: describeError(e) }),
    )
    return p
  }

  /** add attaches files to a room's composer; it returns how many did not fit under maxAttachments. */
  function add(roomId: bigint, files: readonly File[]): number {
    const room = maxAttachments - inRoom(roomId).length
    const fit = files.slice(0, Math.max(0, room))
    for (const f of fit) start(roomId, f, { filename: pastedName(f) }, kindOf(f.type))
    return files.length - fit.length
  }

  /** addVoice attaches a recording; false when the message is full. */
  function addVoice(roomId: bigint, blob: Blob, shape: VoiceShape, filename: string): boolean {
    if (inRoom(roomId).length >= maxAttachments) return false
    start(roomId, blob, { filename, kind: 'voice', ...shape }, AttachmentKind.VOICE)
    return true
  }

  function drop(match: (p: Pending) => boolean): void {
    for (let i = items.length - 1; i >= 0; i--) if (match(items[i])) items.splice(i, 1)
  }

  /** remove takes a file off, stopping its upload. */
  function remove(key: string): void {
    items.find((p) => p.key === key && p.state === 'uploading')?.abort()
    drop((p) => p.key === key)
  }

  /** ready says whether a room's attachments can be sent: all stored. */
  function ready(roomId: bigint): boolean {
    return inRoom(roomId).every((p) => p.state === 'done')
  }

  /** take hands over a room's stored attachments' ids and clears its composer. */
  function take(roomId: bigint): string[] {
    const ids = inRoom(roomId).flatMap((p) => (p.attachment ? [p.attachment.id] : []))
    drop((p) => p.roomId === roomId && p.state === 'done')
    return ids
  }

  /** $reset aborts and forgets everything (logout). */
  function $reset(): void {
    for (const p of items) if (p.state === 'uploading') p.abort()
    drop(() => true)
  }

  return { items, inRoom, add, addVoice, remove, ready, take, $reset }
})
