import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { create } from '@bufbuild/protobuf'
import { Code, ConnectError } from '@connectrpc/connect'
import { AttachmentKind, AttachmentSchema } from '@/gen/chat/v1/types_pb'
import type { UploadOptions } from '@/api/upload'

interface Call {
  opts: UploadOptions
  progress: (f: number) => void
  resolve: (id: string) => void
  reject: (e: unknown) => void
  aborted: boolean
}
const calls: Call[] = []

vi.mock('@/api/upload', () => ({
  uploadFile: (_file: Blob, opts: UploadOptions, onProgress: (f: number) => void) => {
    let call!: Call
    const done = new Promise((res, rej) => {
      call = { opts, progress: onProgress, resolve: (id) => res(create(AttachmentSchema, { id })), reject: rej, aborted: false }
    })
    calls.push(call)
    return { done, abort: () => { call.aborted = true; call.reject(new ConnectError('upload canceled', Code.Canceled)) } }
  },
}))

const { useAttachmentsStore, maxAttachments, kindOf, pastedName } = await import('./attachments')

const file = (name: string, type = 'application/pdf') => new File(['x'], name, { type })
const settle = () => new Promise((r) => setTimeout(r, 0))

describe('attachments store', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    calls.length = 0
  })

  it('uploads each file at once and reports progress', async () => {
    const s = useAttachmentsStore()
    s.add(1n, [file('a.pdf'), file('b.png', 'image/png')])
    expect(calls.map((c) => c.opts.filename)).toEqual(['a.pdf', 'b.png'])
    expect(s.inRoom(1n).map((p) => p.kind)).toEqual([AttachmentKind.FILE, AttachmentKind.IMAGE])
    calls[0].progress(0.5)
    expect(s.inRoom(1n)[0].progress).toBe(0.5)
    expect(s.ready(1n)).toBe(false)
    calls[0].resolve('u1')
    calls[1].resolve('u2')
    await vi.waitFor(() => expect(s.inRoom(1n)[1].preview).toMatch(/^data:image\/png;base64,/))
    expect(s.ready(1n)).toBe(true)
    expect(s.take(1n)).toEqual(['u1', 'u2'])
    expect(s.inRoom(1n)).toEqual([])
  })

  it('keeps rooms apart', () => {
    const s = useAttachmentsStore()
    s.add(1n, [file('a.pdf')])
    s.add(2n, [file('b.pdf')])
    expect(s.inRoom(2n).map((p) => p.name)).toEqual(['b.pdf'])
  })

  it('takes at most ten per message', () => {
    const s = useAttachmentsStore()
    const files = Array.from({ length: 12 }, (_, i) => file(`f${i}.txt`))
    expect(s.add(1n, files)).toBe(2)
    expect(s.inRoom(1n)).toHaveLength(maxAttachments)
    expect(s.add(1n, [file('more.txt')])).toBe(1)
    expect(s.addVoice(1n, new Blob(['v']), { durationMs: 1000, waveform: new Uint8Array(64) }, 'voice.webm')).toBe(false)
  })

  it('aborts an upload that is removed', async () => {
    const s = useAttachmentsStore()
    s.add(1n, [file('a.pdf')])
    s.remove(s.inRoom(1n)[0].key)
    await settle()
    expect(calls[0].aborted).toBe(true)
    expect(s.inRoom(1n)).toEqual([])
  })

  it('keeps a failed upload with its reason, and does not send it', async () => {
    const s = useAttachmentsStore()
    s.add(1n, [file('big.bin')])
    calls[0].reject(new ConnectError('the file is too large', Code.ResourceExhausted))
    await settle()
    const [p] = s.inRoom(1n)
    expect(p.state).toBe('failed')
    expect(p.error).toMatch(/too large/i)
    expect(s.ready(1n)).toBe(false)
  })

  it('sends a recording as voice with its duration and waveform', () => {
    const s = useAttachmentsStore()
    const wf = new Uint8Array(64).fill(9)
    expect(s.addVoice(1n, new Blob(['v'], { type: 'audio/webm' }), { durationMs: 1500, waveform: wf }, 'voice.webm')).toBe(true)
    expect(calls[0].opts).toEqual({ filename: 'voice.webm', kind: 'voice', durationMs: 1500, waveform: wf })
    expect(s.inRoom(1n)[0].kind).toBe(AttachmentKind.VOICE)
  })
})

describe('helpers', () => {
  it('guesses images from the declared type', () => {
    expect(kindOf('image/png')).toBe(AttachmentKind.IMAGE)
    expect(kindOf('image/svg+xml')).toBe(AttachmentKind.FILE)
  })
  it('names pasted images', () => {
    const now = new Date(Date.UTC(2026, 11, 2, 13, 5, 9))
    expect(pastedName(new File(['x'], 'image.png', { type: 'image/png' }), now)).toBe('pasted-20261202130509.png')
    expect(pastedName(new File(['x'], 'cat.jpg', { type: 'image/jpeg' }), now)).toBe('cat.jpg')
  })
})
