// Message formatting: a safe Markdown subset rendered by markdown-it with raw
// HTML off (a body's tags come out as text), links made clickable and opened
// in a new tab without access to this page, and @mentions marked.
import MarkdownIt from 'markdown-it'
import type { StateCore, Token } from 'markdown-it'

/** MentionEnv says which @names to mark in one body: lower-case usernames mentioned, and mine. */
export interface MentionEnv {
  mentioned: ReadonlySet<string>
  me: string
  /** Whether the message mentions @room. */
  room: boolean
}

const mentionRe = /(^|[^\w@])@(room|[A-Za-z0-9_]{3,32})(?![\w])/g

const md = new MarkdownIt('zero', { html: false, linkify: true, breaks: true }).enable([
  'emphasis',
  'strikethrough',
  'backticks',
  'fence',
  'code',
  'blockquote',
  'list',
  'link',
  'linkify',
  'autolink',
  'newline',
  'escape',
  'entity',
  'paragraph',
])

const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options))
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx].attrSet('target', '_blank')
  tokens[idx].attrSet('rel', 'noopener noreferrer')
  return defaultLinkOpen(tokens, idx, options, env, self)
}

md.renderer.rules.mention = (tokens, idx) => {
  const t = tokens[idx]
  const cls = t.meta?.me ? 'mention is-me' : 'mention'
  return `<span class="${cls}" data-testid="mention">${md.utils.escapeHtml(t.content)}</span>`
}

/** isMentioned says whether an @name in a body is one the server read as a mention. */
function isMentioned(name: string, env: MentionEnv): { me: boolean } | null {
  const n = name.toLowerCase()
  if (n === 'room') return env.room ? { me: true } : null
  if (!env.mentioned.has(n)) return null
  return { me: n === env.me.toLowerCase() }
}

/** splitMentions cuts one text token into text and mention tokens. */
function splitMentions(state: StateCore, text: Token, env: MentionEnv): Token[] {
  const out: Token[] = []
  let at = 0
  for (const m of text.content.matchAll(mentionRe)) {
    const hit = isMentioned(m[2], env)
    if (!hit) continue
    const start = m.index + m[1].length
    if (start > at) out.push(textToken(state, text.content.slice(at, start)))
    const t = new state.Token('mention', '', 0)
    t.content = '@' + m[2]
    t.meta = hit
    out.push(t)
    at = start + 1 + m[2].length
  }
  if (out.length === 0) return [text]
  if (at < text.content.length) out.push(textToken(state, text.content.slice(at)))
  return out
}

function textToken(state: StateCore, content: string): Token {
  const t = new state.Token('text', '', 0)
  t.content = content
  return t
}

// Mentions live in plain text only: not in code spans or blocks, not inside links.
md.core.ruler.push('mentions', (state) => {
  const env = state.env as unknown as MentionEnv | undefined
  if (!env?.mentioned) return
  for (const block of state.tokens) {
    if (block.type !== 'inline' || !block.children) continue
    let inLink = 0
    block.children = block.children.flatMap((t) => {
      if (t.type === 'link_open') inLink++
      if (t.type === 'link_close') inLink--
      return t.type === 'text' && inLink === 0 ? splitMentions(state, t, env) : [t]
    })
  }
})

/** renderMarkdown turns a message body into safe HTML. */
export function renderMarkdown(body: string, env: MentionEnv): string {
  // No newline after the last block: the body's text is the message's own.
  return md.render(body, { ...env }).trimEnd()
}

/** foldChars and foldLines say when a message is long enough to be folded behind "show more". */
export const foldChars = 1200
export const foldLines = 14

export function isLong(body: string): boolean {
  return [...body].length > foldChars || body.split('\n').length > foldLines
}
