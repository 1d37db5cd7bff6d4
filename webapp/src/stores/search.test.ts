import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { create } from '@bufbuild/protobuf'
import { timestampMs } from '@bufbuild/protobuf/wkt'
import { SearchHitSchema, SearchMessagesResponseSchema, SearchOrder } from '@/gen/chat/v1/message_pb'
import { msg } from '@/test/factories'

const api = { searchMessages: vi.fn() }
vi.mock('@/api/client', () => ({ messageClient: api }))
const { useSearchStore, emptyFilters, searchable } = await import('./search')

const page = (seqs: number[], next = '') =>
  create(SearchMessagesResponseSchema, { hits: seqs.map((s) => create(SearchHitSchema, { message: msg(1, s) })), nextPageToken: next })

describe('search store', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    api.searchMessages.mockReset()
  })

  it('sends the filters and pages with the token', async () => {
    const s = useSearchStore()
    api.searchMessages.mockResolvedValueOnce(page([9, 8], 'tok')).mockResolvedValueOnce(page([7]))
    const day = Date.UTC(2026, 11, 1)
    await s.search({ ...emptyFilters(), query: ' 你好 ', roomId: 3n, fromUserId: 4n, after: day, order: SearchOrder.RELEVANCE })
    const req = api.searchMessages.mock.calls[0][0]
    expect(req).toEqual(expect.objectContaining({ query: '你好', roomId: 3n, fromUserId: 4n, pageToken: '', order: SearchOrder.RELEVANCE, before: undefined }))
    expect(timestampMs(req.after)).toBe(day)
    expect(s.nextPageToken).toBe('tok')
    await s.more()
    expect(api.searchMessages.mock.calls[1][0].pageToken).toBe('tok')
    expect(s.hits.map((h) => h.message!.seq)).toEqual([9n, 8n, 7n])
    await s.more() // no token: nothing more to ask
    expect(api.searchMessages).toHaveBeenCalledTimes(2)
  })

  it('does not send a query of one character', async () => {
    const s = useSearchStore()
    await s.search({ ...emptyFilters(), query: '你' })
    expect(api.searchMessages).not.toHaveBeenCalled()
    expect(searchable('😀a')).toBe(true)
    expect(searchable(' a ')).toBe(false)
  })

  it('drops the answer of a search replaced meanwhile', async () => {
    const s = useSearchStore()
    let slow!: (v: unknown) => void
    api.searchMessages.mockReturnValueOnce(new Promise((r) => (slow = r))).mockResolvedValueOnce(page([2]))
    const first = s.search({ ...emptyFilters(), query: 'dep' })
    await s.search({ ...emptyFilters(), query: 'deploy' })
    slow(page([1]))
    await first
    expect(s.hits.map((h) => h.message!.seq)).toEqual([2n])
  })
})
