import { describe, expect, it } from 'vitest'
import { canonicalEmoji } from './emoji'

describe('canonicalEmoji', () => {
  it('drops a redundant U+FE0F, keeps a needed one and sequences whole', () => {
    expect(canonicalEmoji('👍\uFE0F')).toBe('👍')
    expect(canonicalEmoji('❤\uFE0F')).toBe('❤\uFE0F')
    expect(canonicalEmoji('👍🏽')).toBe('👍🏽')
    expect(canonicalEmoji('👨‍👩‍👧')).toBe('👨‍👩‍👧')
    expect(canonicalEmoji('🏳\uFE0F‍🌈')).toBe('🏳\uFE0F‍🌈')
  })
})
