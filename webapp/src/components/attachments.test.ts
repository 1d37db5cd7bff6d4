import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { create } from '@bufbuild/protobuf'
import { AttachmentKind, AttachmentSchema } from '@/gen/chat/v1/types_pb'
import MessageAttachments from './MessageAttachments.vue'
import VoicePlayer from './VoicePlayer.vue'
import { setLocale } from '@/i18n'

const image = create(AttachmentSchema, { id: 'i', kind: AttachmentKind.IMAGE, filename: 'cat.png', width: 1600, height: 800, url: '/v1/files/i', thumbnailUrl: '/v1/files/i/t' })
const file = create(AttachmentSchema, { id: 'f', kind: AttachmentKind.FILE, filename: '报告.pdf', contentType: 'application/pdf', size: 1536n, url: '/v1/files/f' })
const voice = create(AttachmentSchema, { id: 'v', kind: AttachmentKind.VOICE, filename: 'v.webm', durationMs: 65_000n, waveform: new Uint8Array(64).fill(128), url: '/v1/files/v' })

describe('MessageAttachments', () => {
  setLocale('en')
  it('reserves an image box from its size and shows the thumbnail', () => {
    const w = mount(MessageAttachments, { props: { attachments: [image] }, global: { plugins: [ElementPlus] } })
    const box = w.get('[data-testid="attachment-image"]')
    expect(box.attributes('style')).toContain('width: 320px')
    expect(box.attributes('style')).toContain('height: 160px')
    expect(box.get('img').attributes('src')).toBe('/v1/files/i/t')
  })
  it('shows a file as a card with its size, type and a download link', () => {
    const w = mount(MessageAttachments, { props: { attachments: [file] }, global: { plugins: [ElementPlus] } })
    expect(w.get('[data-testid="attachment-name"]').text()).toBe('报告.pdf')
    expect(w.get('[data-testid="attachment-size"]').text()).toBe('1.5 KB · PDF')
    const a = w.get('[data-testid="attachment-download"]')
    expect(a.attributes('href')).toBe('/v1/files/f')
    expect(a.attributes('download')).toBe('报告.pdf')
  })
  it('plays voice with its recorded duration and 64 bars', () => {
    const w = mount(VoicePlayer, { props: { attachment: voice }, global: { plugins: [ElementPlus] } })
    expect(w.get('[data-testid="voice-time"]').text()).toBe('0:00 / 1:05')
    expect(w.findAll('.voice__bar')).toHaveLength(64)
    expect(w.get('audio').attributes('src')).toBe('/v1/files/v')
  })
})
