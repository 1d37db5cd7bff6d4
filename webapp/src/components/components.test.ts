import { describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import ElementPlus from 'element-plus'
import { Code, ConnectError } from '@connectrpc/connect'
import { member, msg, room, user } from '@/test/factories'
import { create } from '@bufbuild/protobuf'
import { ReactionSchema, Role, type Member, type Message } from '@/gen/chat/v1/types_pb'

const api = vi.hoisted(() => ({ sendMessage: vi.fn(), listMessages: vi.fn(), editMessage: vi.fn(), addReaction: vi.fn(), removeReaction: vi.fn() }))
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

describe('MessageItem in the list', () => {
  it('a tombstone says the message was deleted and offers no actions', async () => {
    const { w, messages } = await mountList()
    const m = msg(1, 1, { sender: 2, body: 'gone soon' })
    messages.merge(1n, [m])
    messages.applyDelete(1n, 1n)
    await w.vm.$nextTick()
    expect(w.get('[data-testid="message-body"]').text()).toBe('message deleted')
    expect(w.find('[data-testid="message-actions"]').exists()).toBe(false)
  })

  it('edits inline: Esc cancels, Enter saves and shows (edited)', async () => {
    const { w, messages } = await mountList()
    messages.merge(1n, [msg(1, 1, { sender: 1, body: 'teh typo' })])
    await w.vm.$nextTick()
    await w.get('[data-testid="action-edit"]').trigger('click')
    const box = w.get('[data-testid="edit-box"]')
    await box.setValue('changed my mind')
    await box.trigger('keydown', { key: 'Escape' })
    expect(w.get('[data-testid="message-body"]').text()).toBe('teh typo')
    const edited = msg(1, 1, { sender: 1, body: 'the typo' })
    edited.editedAt = edited.createdAt
    api.editMessage.mockResolvedValueOnce({ message: edited })
    await w.get('[data-testid="action-edit"]').trigger('click')
    await w.get('[data-testid="edit-box"]').setValue('the typo')
    await w.get('[data-testid="edit-box"]').trigger('keydown', { key: 'Enter' })
    await vi.waitFor(() => expect(w.get('[data-testid="message-body"]').text()).toBe('the typo'))
    expect(api.editMessage).toHaveBeenCalledWith({ roomId: 1n, messageSeq: 1n, body: 'the typo' })
    expect(w.get('[data-testid="edited"]').text()).toBe('(edited)')
    expect(w.find('[data-testid="action-edit"]').exists()).toBe(true)
  })

  it('only my own messages can be edited; the room owner may delete any', async () => {
    const { w, messages, rooms } = await mountList()
    messages.merge(1n, [msg(1, 1, { sender: 2 })])
    await w.vm.$nextTick()
    expect(w.find('[data-testid="action-edit"]').exists()).toBe(false)
    expect(w.find('[data-testid="action-delete"]').exists()).toBe(false)
    const owner = member(1)
    owner.role = Role.OWNER
    rooms.members['1'] = [owner, member(2)]
    await w.vm.$nextTick()
    expect(w.find('[data-testid="action-delete"]').exists()).toBe(true)
  })

  it('reactions show counts, mine highlighted, and a click takes mine back', async () => {
    const { w, messages } = await mountList()
    const m = msg(1, 1, { sender: 2 })
    m.reactions = [create(ReactionSchema, { emoji: '👍', count: 2n, me: true }), create(ReactionSchema, { emoji: '🎉', count: 1n })]
    messages.merge(1n, [m])
    await w.vm.$nextTick()
    const rs = w.findAll('[data-testid="reaction"]')
    expect(rs.map((r) => [r.text(), r.attributes('data-mine')])).toEqual([
      ['👍2', 'true'],
      ['🎉1', 'false'],
    ])
    api.removeReaction.mockResolvedValueOnce({})
    await rs[0].trigger('click')
    expect(api.removeReaction).toHaveBeenCalledWith({ roomId: 1n, messageSeq: 1n, emoji: '👍' })
    expect(w.findAll('[data-testid="reaction"]')[0].text()).toBe('👍1')
  })

  it('"seen by" shows under my latest message the members who read that far', async () => {
    const { w, messages, rooms } = await mountList()
    rooms.members['1'] = [member(1), member(2), member(3)]
    messages.merge(1n, [msg(1, 1, { sender: 1 }), msg(1, 2, { sender: 1 }), msg(1, 3, { sender: 2 })])
    rooms.applyReceipt(1n, 2n, 3n)
    rooms.applyReceipt(1n, 3n, 1n) // read only my first one
    await w.vm.$nextTick()
    const seen = w.findAll('[data-testid="seen-by"]')
    expect(seen).toHaveLength(1)
    expect(seen[0].element.closest('[data-testid="message"]')?.getAttribute('data-seq')).toBe('2')
    expect(seen[0].attributes('title')).toContain('user2')
    expect(seen[0].attributes('title')).not.toContain('user3')
  })

  it('the new-messages divider sits before the first unread message of others', async () => {
    const { w, messages } = await mountList(room(1, { readSeq: 1n, unreadCount: 1n }))
    messages.merge(1n, [msg(1, 1, { sender: 2 }), msg(1, 2, { sender: 1 }), msg(1, 3, { sender: 2 })])
    await w.vm.$nextTick()
    const order = w.findAll('[data-testid="message"], [data-testid="unread-divider"]').map((e) => e.attributes('data-seq') ?? 'divider')
    expect(order).toEqual(['1', '2', 'divider', '3'])
  })

  it('mentions are marked, mine stand out, and the time has no leading zero with the date on hover', async () => {
    const { w, messages, rooms } = await mountList()
    const alice = member(2)
    alice.user!.username = 'alice'
    rooms.members['1'] = [member(1), alice]
    const m = msg(1, 1, { sender: 2, body: 'hi @me and @alice', at: new Date(2026, 0, 5, 9, 5).getTime() })
    m.mentionUserIds = [2n]
    const me = msg(1, 2, { sender: 3, body: '@room lunch?' })
    me.mentionsRoom = true
    messages.merge(1n, [m, me])
    await w.vm.$nextTick()
    const marks = w.findAll('[data-testid="mention"]')
    expect(marks.map((x) => [x.text(), x.classes().includes('is-me')])).toEqual([
      ['@alice', false],
      ['@room', true],
    ])
    const time = w.get('[data-testid="message-time"]')
    expect(time.text()).toBe('9:05 AM')
    expect(time.attributes('title')).toContain('2026')
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
    expect(w.emitted('send')).toEqual([['hello\nworld', 0n, []]])
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

  it('@ offers the room’s members and @room; Enter puts the name in', async () => {
    const alice = member(2)
    alice.user!.username = 'alice'
    const albert = member(3)
    albert.user!.username = 'albert'
    const w = mountComposer({ members: [member(1), alice, albert] })
    const ta = w.get('textarea')
    await ta.setValue('hi @al')
    await ta.trigger('input')
    const names = () => w.findAll('[data-testid="mention-option"]').map((o) => o.attributes('data-username'))
    expect(names()).toEqual(['albert', 'alice'])
    await ta.trigger('keydown', { key: 'ArrowDown' })
    await ta.trigger('keydown', { key: 'Enter' })
    expect((ta.element as HTMLTextAreaElement).value).toBe('hi @alice ')
    expect(w.emitted('send')).toBeUndefined() // Enter chose the name, it did not send
    await ta.setValue('@r')
    await ta.trigger('input')
    expect(names()).toEqual(['room'])
  })

  it('a reply shows above the composer and goes with the message', async () => {
    const w = mountComposer({ replyTo: msg(1, 9, { body: 'the question', sender: 2 }) })
    expect(w.get('[data-testid="reply-bar"]').text()).toContain('the question')
    const ta = w.get('textarea')
    await ta.setValue('the answer')
    await ta.trigger('keydown', { key: 'Enter' })
    expect(w.emitted('send')).toEqual([['the answer', 9n, []]])
  })

  it('keeps each room’s draft across switches and reloads', async () => {
    localStorage.clear()
    const w = mountComposer()
    const ta = w.get('textarea')
    await ta.setValue('half a thought')
    await ta.trigger('input')
    await w.setProps({ room: room(2) })
    expect((ta.element as HTMLTextAreaElement).value).toBe('')
    await w.setProps({ room: room(1) })
    expect((ta.element as HTMLTextAreaElement).value).toBe('half a thought')
    const again = mountComposer() // a reload
    expect((again.get('textarea').element as HTMLTextAreaElement).value).toBe('half a thought')
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
