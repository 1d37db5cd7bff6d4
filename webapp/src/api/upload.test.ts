import { describe, expect, it } from 'vitest'
import { Code } from '@connectrpc/connect'
import { AttachmentKind } from '@/gen/chat/v1/types_pb'
import { base64url, parseUpload, uploadError, uploadUrl } from './upload'
import { describeError } from './errors'
import { setLocale } from '@/i18n'

describe('uploadError', () => {
  it('maps 413 to resource_exhausted, with or without a JSON body', () => {
    const bare = uploadError(413, '<html>Request Entity Too Large</html>')
    expect(bare.code).toBe(Code.ResourceExhausted)
    expect(bare.rawMessage).toBe('the file is too large')
    const json = uploadError(413, '{"code":"resource_exhausted","message":"the file is larger than 25 MiB"}')
    expect(json.code).toBe(Code.ResourceExhausted)
    expect(json.rawMessage).toBe('the file is larger than 25 MiB')
  })
  it('takes the code and sentence of the JSON body', () => {
    const e = uploadError(400, '{"code":"invalid_argument","message":"the file is empty"}')
    expect(e.code).toBe(Code.InvalidArgument)
    setLocale('en')
    expect(describeError(e)).toBe('The file is empty')
  })
  it('falls back to the HTTP status', () => {
    expect(uploadError(401, '').code).toBe(Code.Unauthenticated)
    expect(uploadError(404, 'not found').code).toBe(Code.Unimplemented)
    expect(uploadError(502, '').code).toBe(Code.Internal)
    expect(uploadError(503, '').code).toBe(Code.Unavailable)
  })
})

describe('uploadUrl', () => {
  it('names the file', () => {
    expect(uploadUrl({ filename: '报告 1.pdf' })).toBe('/v1/uploads?filename=%E6%8A%A5%E5%91%8A+1.pdf')
  })
  it('describes a voice recording', () => {
    const u = new URL(uploadUrl({ filename: 'voice.webm', kind: 'voice', durationMs: 1234.4, waveform: new Uint8Array([255, 254, 0]) }), 'http://x')
    expect(u.searchParams.get('kind')).toBe('voice')
    expect(u.searchParams.get('duration_ms')).toBe('1234')
    expect(u.searchParams.get('waveform')).toBe('__4A')
  })
  it('encodes base64url without padding', () => {
    expect(base64url(new Uint8Array([251, 255]))).toBe('-_8')
  })
})

describe('parseUpload', () => {
  it('reads protojson', () => {
    const a = parseUpload('{"upload":{"id":"u1","kind":"ATTACHMENT_KIND_IMAGE","filename":"a.png","contentType":"image/png","size":"42","width":10,"height":5,"url":"/v1/files/u1?sig=x","thumbnailUrl":"/v1/files/u1/thumb","future":1}}')
    expect(a.id).toBe('u1')
    expect(a.kind).toBe(AttachmentKind.IMAGE)
    expect(a.size).toBe(42n)
    expect(a.thumbnailUrl).toBe('/v1/files/u1/thumb')
  })
})
