// Emoji as the server takes them.

/**
 * canonicalEmoji drops the variation selector U+FE0F after a character that
 * is drawn as an emoji anyway (Emoji_Presentation): emojibase's data writes
 * 👍 as U+1F44D U+FE0F, a form Unicode's emoji-test.txt does not list and
 * the server refuses, while ❤️ (U+2764 U+FE0F) needs it and keeps it.
 */
export function canonicalEmoji(s: string): string {
  return s.replace(/(\p{Emoji_Presentation})\uFE0F/gu, '$1')
}
