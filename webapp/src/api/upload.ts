// Uploads go to POST /v1/uploads, not through Connect: the file is the raw
// request body, so a 25 MiB file is never copied into a protobuf message, and
// XMLHttpRequest reports progress and can be aborted (fetch can do neither
// for a request body). The answer is protojson {"upload": Attachment}; errors
// are JSON {"code", "message"} like Connect's, turned into ConnectErrors so the
// rest of the app describes them the same way.
import { Code, ConnectError } from '@connectrpc/connect'
import { fromJson } from '@bufbuild/protobuf'
import { UploadResponseSchema } from '@/gen/chat/v1/upload_pb'
import type { Attachment } from '@/gen/chat/v1/types_pb'
import { keeper } from './client'

/** The path that takes uploads. */
export const uploadPath = '/v1/uploads'

/** UploadOptions describe a file beyond its bytes. */
export interface UploadOptions {
  filename: string
  /** 'voice' marks a recording; its duration and waveform go along. */
  kind?: 'voice'
  durationMs?: number
  waveform?: Uint8Array
}

/** Upload is one upload under way. */
export interface Upload {
  /** Resolves with what the server stored; rejects with a ConnectError (canceled after abort). */
  done: Promise<Attachment>
  abort: () => void
}

/** Uploader starts an upload, reporting progress as a fraction 0-1. */
export type Uploader = (file: Blob, opts: UploadOptions, onProgress?: (fraction: number) => void) => Upload

/** base64url encodes bytes without padding, as the waveform query parameter wants. */
export function base64url(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += String.fromCharCode(b)
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** uploadUrl is the request's URL with its query parameters. */
export function uploadUrl(opts: UploadOptions): string {
  const q = new URLSearchParams({ filename: opts.filename })
  if (opts.kind === 'voice') {
    q.set('kind', 'voice')
    q.set('duration_ms', String(Math.round(opts.durationMs ?? 0)))
    if (opts.waveform) q.set('waveform', base64url(opts.waveform))
  }
  return `${uploadPath}?${q}`
}

/** HTTP statuses that say what went wrong when the body does not. */
const statusCodes: Record<number, Code> = {
  400: Code.InvalidArgument,
  401: Code.Unauthenticated,
  403: Code.PermissionDenied,
  404: Code.Unimplemented, // no upload endpoint on this server
  405: Code.Unimplemented,
  409: Code.FailedPrecondition,
  413: Code.ResourceExhausted,
  415: Code.InvalidArgument,
  429: Code.ResourceExhausted,
  503: Code.Unavailable,
}

/** codeFromName reads a snake_case Connect code ("resource_exhausted"). */
function codeFromName(name: unknown): Code | undefined {
  if (typeof name !== 'string') return undefined
  const camel = name.replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase())
  const code = (Code as unknown as Record<string, Code | undefined>)[camel]
  return typeof code === 'number' ? code : undefined
}

/**
 * uploadError turns a refused upload into a ConnectError: the code and
 * sentence of the JSON body when there is one, else the HTTP status's
 * meaning (413 is always "too large": a proxy may answer it without JSON).
 */
export function uploadError(status: number, body: string): ConnectError {
  let parsed: { code?: unknown; message?: unknown } = {}
  try {
    parsed = JSON.parse(body) ?? {}
  } catch {
    // not JSON: a proxy's page, or nothing
  }
  const fallback = statusCodes[status] ?? (status >= 500 ? Code.Internal : Code.Unknown)
  const code = status === 413 ? Code.ResourceExhausted : (codeFromName(parsed.code) ?? fallback)
  const message = typeof parsed.message === 'string' ? parsed.message : status === 413 ? 'the file is too large' : ''
  return new ConnectError(message, code)
}

/** parseUpload reads the server's answer to a stored upload. */
export function parseUpload(body: string): Attachment {
  const res = fromJson(UploadResponseSchema, JSON.parse(body), { ignoreUnknownFields: true })
  if (!res.upload) throw new ConnectError('the server answered without the upload', Code.Internal)
  return res.upload
}

/** send runs one XMLHttpRequest with the given token. */
function send(file: Blob, opts: UploadOptions, token: string, xhr: XMLHttpRequest, onProgress?: (f: number) => void): Promise<Attachment> {
  return new Promise((resolve, reject) => {
    xhr.open('POST', uploadUrl(opts))
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`)
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream')
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress?.(e.loaded / e.total)
    }
    xhr.onload = () => {
      if (xhr.status < 200 || xhr.status >= 300) return reject(uploadError(xhr.status, xhr.responseText))
      try {
        resolve(parseUpload(xhr.responseText))
      } catch (e) {
        reject(ConnectError.from(e))
      }
    }
    xhr.onerror = () => reject(new ConnectError('the upload was interrupted', Code.Unavailable))
    xhr.onabort = () => reject(new ConnectError('upload canceled', Code.Canceled))
    xhr.send(file)
  })
}

/** uploadFile sends a file with the session's token, renewing it once when the server refuses it. */
export const uploadFile: Uploader = (file, opts, onProgress) => {
  let xhr = new XMLHttpRequest()
  let aborted = false
  const done = (async () => {
    const token = (await keeper.accessToken()) ?? ''
    if (aborted) throw new ConnectError('upload canceled', Code.Canceled)
    try {
      return await send(file, opts, token, xhr, onProgress)
    } catch (e) {
      if (!token || ConnectError.from(e).code !== Code.Unauthenticated) throw e
      const fresh = await keeper.renew(token)
      if (!fresh || aborted) throw e
      xhr = new XMLHttpRequest()
      return await send(file, opts, fresh, xhr, onProgress)
    }
  })()
  return {
    done,
    abort: () => {
      aborted = true
      xhr.abort()
    },
  }
}
