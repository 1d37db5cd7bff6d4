// Message search: the query and its filters, the hits found so far and the
// token of the next page. A new search replaces the hits; more() appends the
// next page. An answer to a search that was replaced meanwhile is dropped, so
// typing fast never shows the hits of an older query.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import { SearchOrder, type SearchHit } from '@/gen/chat/v1/message_pb'
import { messageClient } from '@/api/client'

/** How many hits one page asks for. */
export const searchPageSize = 20
/** The server wants at least this many characters (code points). */
export const minQueryChars = 2

/** SearchFilters narrow a search. */
export interface SearchFilters {
  query: string
  /** 0n for every room of the user's. */
  roomId: bigint
  /** 0n for anyone. */
  fromUserId: bigint
  /** Day range, in ms since the epoch; null for none. */
  after: number | null
  before: number | null
  order: SearchOrder
}

/** emptyFilters is a search over everything, newest first. */
export function emptyFilters(): SearchFilters {
  return { query: '', roomId: 0n, fromUserId: 0n, after: null, before: null, order: SearchOrder.NEWEST }
}

/** searchable says whether a query is long enough to send. */
export function searchable(query: string): boolean {
  return Array.from(query.trim()).length >= minQueryChars
}

/** useSearchStore runs searches and pages through their hits. */
export const useSearchStore = defineStore('search', () => {
  const hits = ref<SearchHit[]>([])
  const nextPageToken = ref('')
  const loading = ref(false)
  const searched = ref(false)
  let filters = emptyFilters()
  let generation = 0

  async function fetchPage(token: string): Promise<void> {
    const gen = generation
    loading.value = true
    try {
      const res = await messageClient.searchMessages({
        query: filters.query.trim(),
        roomId: filters.roomId,
        fromUserId: filters.fromUserId,
        after: filters.after !== null ? timestampFromMs(filters.after) : undefined,
        before: filters.before !== null ? timestampFromMs(filters.before) : undefined,
        limit: searchPageSize,
        pageToken: token,
        order: filters.order,
      })
      if (gen !== generation) return
      hits.value = token ? [...hits.value, ...res.hits] : res.hits
      nextPageToken.value = res.nextPageToken
      searched.value = true
    } finally {
      if (gen === generation) loading.value = false
    }
  }

  /** search runs a new search, replacing the hits; a query too short clears them. */
  async function search(f: SearchFilters): Promise<void> {
    generation++
    filters = { ...f }
    hits.value = []
    nextPageToken.value = ''
    searched.value = false
    if (!searchable(f.query)) {
      loading.value = false
      return
    }
    await fetchPage('')
  }

  /** more appends the next page, when there is one and none is loading. */
  async function more(): Promise<void> {
    if (!nextPageToken.value || loading.value) return
    await fetchPage(nextPageToken.value)
  }

  function $reset(): void {
    generation++
    hits.value = []
    nextPageToken.value = ''
    loading.value = false
    searched.value = false
  }

  return { hits, nextPageToken, loading, searched, search, more, $reset }
})
