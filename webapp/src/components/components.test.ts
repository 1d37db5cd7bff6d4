import { describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import ElementPlus from 'element-plus'
import { Code, ConnectError } from '@connectrpc/connect'
import { member, msg, room, user } from '@/test/factories'
import type { Member, Message } from '@/gen/chat/v1/types_pb'

const api = vi.hoisted(() => ({ sendMessage: vi.fn(), listMessages: vi.fn() }))
vi.mock('@/api/client', () => ({
  messageClient: api,
  roomClient: {},
  authClient: {},
  keeper: {},
}))

import MessageList from './MessageList.vue'
import MessageComposer from './MessageComposer.vue'
import { buildRows, groupWindowMs } from './messageView'
import { useMessagesStore } from '@/stores/messages'
import { useSessionStore } from '@/stores/session'
import { useRoomsStore } from '@/stores/rooms'
import { saveOutbox } from '@/stores/outboxStorage'
import { setLocale } from '@/i18n'

const xss = '<img src=x onerror=alert(1)><script>alert(2)</script>'

async function mountList(r = room(1, { name: 'general' })) {
  await saveOutbox(1n, []) // the outbox a test leaves is kept there, as for a reload
  api.sendMessage.mockReset().mockReturnValue(new Promise(() => {}))
  const pinia = createPinia()
  setActivePinia(pinia)
  useSessionStore().user = user(1, 'me')
  const messages = useMessagesStore()
  await messages.adopt(1n) // what a login does
  const w = mount(MessageList, { props: { room: r }, global: { plugins: [pinia, ElementPlus] } })
  return { w, messages, rooms: useRoomsStore() }
}

describe('MessageList', () => {
  it('renders bodies as text, never as HTML', async () => {
    const { w, messages } = await mountList()
    messages.merge(1n, [msg(1, 1, { body: xss, sender: 2 })])
    await w.vm.$nextTick()
    const body = w.get('[data-testid="message-body"]')
    expect(body.text()).toBe(xss)
    expect(w.find('img').exists()).toBe(false)
    expect(w.find('script').exists()).toBe(false)
  })

  it('orders by seq, marks my own, shows pending ones after', async () => {
    const { w, messages } = await mountList()
    messages.merge(1n, [msg(1, 2, { sender: 1, body: 'mine' }), msg(1, 1, { sender: 2, body: 'theirs' })])
    messages.send(1n, 'on its way')
    await w.vm.$nextTick()
    const rows = w.findAll('[data-testid="message"]')
    expect(rows.map((r) => r.attributes('data-seq'))).toEqual(['1', '2'])
    expect(rows[1].classes()).toContain('is-own')
    expect(rows[0].classes()).not.toContain('is-own')
    const pending = w.get('[data-testid="pending-message"]')
    expect(pending.text()).toContain('on its way')
    expect(pending.attributes('data-state')).toBe('sending')
  })

  it('says why unsent messages wait, counting down, in the user’s language', async () => {
    const { w, messages } = await mountList()
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) })
    try {
      api.sendMessage.mockRejectedValueOnce(
        new ConnectError('sending too fast', Code.ResourceExhausted, new Headers({ 'Retry-After': '3' })),
      )
      messages.send(1n, 'eleventh')
      messages.send(1n, 'twelfth')
      await vi.advanceTimersByTimeAsync(0)
      const states = () => w.findAll('[data-testid="pending-state"]').map((s) => s.text())
      const paused = 'Sending paused by the rate limit, retrying in 4 s' // 3 s and the slack, rounded up
      expect(states()).toEqual([paused, paused])
      await vi.advanceTimersByTimeAsync(1_000)
      expect(states()[0]).toBe('Sending paused by the rate limit, retrying in 3 s')
      setLocale('zh-CN')
      await w.vm.$nextTick()
      expect(states()[1]).toBe('发送过快，已暂停，3 秒后重试')
    } finally {
      setLocale('en')
      vi.useRealTimers()
    }
  })

  it('an unsendable message shows the server’s words and can be removed', async () => {
    const { w, messages } = await mountList()
    api.sendMessage.mockRejectedValueOnce(new ConnectError('invalid: the message is empty', Code.InvalidArgument))
    messages.send(1n, '\u200b')
    await vi.waitFor(() => expect(w.find('[data-testid="pending-discard"]').exists()).toBe(true))
    expect(w.get('[data-testid="pending-state"]').text()).toBe('Not sent: invalid: the message is empty')
    await w.get('[data-testid="pending-discard"]').trigger('click')
    expect(w.find('[data-testid="pending-message"]').exists()).toBe(false)
  })

  it('isolates bidi text: bodies have dir=auto, names are in <bdi>', async () => {
    const { w, messages } = await mountList()
    messages.merge(1n, [msg(1, 1, { sender: 2, body: '\u202Eflipped' }), msg(1, 2, { sender: 2, body: 'next' })])
    await w.vm.$nextTick()
    const bodies = w.findAll('[data-testid="message-body"]')
    expect(bodies.map((b) => b.attributes('dir'))).toEqual(['auto', 'auto'])
    expect(bodies[0].text()).toBe('\u202Eflipped') // kept, only isolated
    expect(w.get('[data-testid="message-sender"]').element.tagName).toBe('BDI')
  })
})

describe('MessageComposer', () => {
  function mountComposer(props: Partial<{ members: Member[]; replyTo: Message | null }> = {}) {
    const pinia = createPinia()
    setActivePinia(pinia)
    useSessionStore().user = user(1, 'me')
    return mount(MessageComposer, {
      props: { room: room(1), members: [], replyTo: null, ...props },
      global: { plugins: [pinia, ElementPlus] },
    })
  }

  it('Enter sends the trimmed text; Shift+Enter does not', async () => {
    const w = mountComposer()
    const ta = w.get('textarea')
    await ta.setValue('  hello\nworld  ')
    await ta.trigger('keydown', { key: 'Enter', shiftKey: true })
    expect(w.emitted('send')).toBeUndefined()
    await ta.trigger('keydown', { key: 'Enter' })
    expect(w.emitted('send')).toEqual([['hello\nworld', 0n]])
    expect((ta.element as HTMLTextAreaElement).value).toBe('')
  })

  it('does not send blanks or over-long text', async () => {
    const w = mountComposer()
    const ta = w.get('textarea')
    await ta.setValue('   ')
    await ta.trigger('keydown', { key: 'Enter' })
    await ta.setValue('x'.repeat(4001))
    await ta.trigger('keydown', { key: 'Enter' })
    expect(w.emitted('send')).toBeUndefined()
    expect(w.find('[data-testid="composer-error"]').exists()).toBe(true)
  })

  it('says the user is typing', async () => {
    const w = mountComposer()
    await w.get('textarea').setValue('h')
    expect(w.emitted('typing')).toHaveLength(1)
  })
})

describe('buildRows', () => {
  it('groups a sender’s run and splits days', () => {
    const day1 = Date.UTC(2026, 0, 1, 10)
    const rows = buildRows([
      msg(1, 1, { sender: 2, at: day1 }),
      msg(1, 2, { sender: 2, at: day1 + 1000 }),
      msg(1, 3, { sender: 3, at: day1 + 2000 }),
      msg(1, 4, { sender: 3, at: day1 + 2000 + groupWindowMs + 1 }),
      msg(1, 5, { sender: 3, at: day1 + 2 * 86_400_000 }),
    ])
    expect(rows.map((r) => (r.kind !== 'message' ? r.kind : r.first ? 'first' : 'cont'))).toEqual([
      'day',
      'first',
      'cont',
      'first',
      'first',
      'day',
      'first',
    ])
  })
})
