import { describe, expect, it } from 'vitest'
import { isLong, renderMarkdown, type MentionEnv } from './markdown'

const none: MentionEnv = { mentioned: new Set(), me: 'me', room: false }

function dom(html: string): HTMLElement {
  const d = document.createElement('div')
  d.innerHTML = html
  return d
}

describe('renderMarkdown', () => {
  it('formats the subset: bold, italic, strike, code, blocks, quotes, lists', () => {
    const d = dom(renderMarkdown('**b** *i* ~~s~~ `c`\n\n```\nx < y\n```\n\n> q\n\n- one\n- two\n\n1. first', none))
    expect(d.querySelector('strong')?.textContent).toBe('b')
    expect(d.querySelector('em')?.textContent).toBe('i')
    expect(d.querySelector('s')?.textContent).toBe('s')
    expect(d.querySelector('p code')?.textContent).toBe('c')
    expect(d.querySelector('pre code')?.textContent).toBe('x < y\n')
    expect(d.querySelector('blockquote')?.textContent?.trim()).toBe('q')
    expect(d.querySelectorAll('ul li')).toHaveLength(2)
    expect(d.querySelectorAll('ol li')).toHaveLength(1)
  })

  it('keeps raw HTML as text and refuses javascript: links', () => {
    const xss = '<img src=x onerror=alert(1)><script>alert(2)</script> [x](javascript:alert(3))'
    const d = dom(renderMarkdown(xss, none))
    expect(d.querySelector('img, script')).toBeNull()
    expect(d.querySelector('a')).toBeNull()
    expect(d.textContent).toContain('<img src=x onerror=alert(1)>')
  })

  it('makes links clickable in a new tab without opener or referrer', () => {
    const d = dom(renderMarkdown('see https://example.com/a?b=1 and [docs](https://example.org)', none))
    const links = [...d.querySelectorAll('a')]
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['https://example.com/a?b=1', 'https://example.org'])
    for (const a of links) {
      expect(a.getAttribute('target')).toBe('_blank')
      expect(a.getAttribute('rel')).toBe('noopener noreferrer')
    }
  })

  it('marks the mentions the server read, mine apart, not in code', () => {
    const env: MentionEnv = { mentioned: new Set(['alice', 'mei']), me: 'Mei', room: true }
    const d = dom(renderMarkdown('hi @Alice and @mei, @room; not @bob, not `@alice`, mail a@alice.com', env))
    const ms = [...d.querySelectorAll('[data-testid="mention"]')]
    expect(ms.map((m) => m.textContent)).toEqual(['@Alice', '@mei', '@room'])
    expect(ms.map((m) => m.classList.contains('is-me'))).toEqual([false, true, true])
  })

  it('keeps single line breaks', () => {
    expect(dom(renderMarkdown('a\nb', none)).querySelector('br')).not.toBeNull()
  })
})

describe('isLong', () => {
  it('folds long bodies and many lines, not short ones', () => {
    expect(isLong('short')).toBe(false)
    expect(isLong('x'.repeat(1300))).toBe(true)
    expect(isLong('a\n'.repeat(20))).toBe(true)
  })
})
