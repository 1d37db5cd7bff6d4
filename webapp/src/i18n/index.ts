// A small i18n: two languages, flat keys, {name} placeholders. vue-i18n would
// bring plural rules and lazy loading that this app does not need.
import { computed, ref } from 'vue'
import elEn from 'element-plus/es/locale/lang/en.mjs'
import elZhCn from 'element-plus/es/locale/lang/zh-cn.mjs'
import { en } from './en'
import { zhCN } from './zh-CN'

/** Messages is the shape every language's dictionary must fill. */
export type Messages = { [K in keyof typeof en]: string }
/** MessageKey names one translatable string. */
export type MessageKey = keyof typeof en
/** Locale is a language the app is translated into. */
export type Locale = 'en' | 'zh-CN'

const dictionaries: Record<Locale, Messages> = { en, 'zh-CN': zhCN }
const storageKey = 'parley.locale'

/** pickLocale chooses the app's language from the browser's preferences. */
export function pickLocale(languages: readonly string[]): Locale {
  for (const lang of languages) {
    const l = lang.toLowerCase()
    if (l.startsWith('zh')) return 'zh-CN'
    if (l.startsWith('en')) return 'en'
  }
  return 'en'
}

function initialLocale(): Locale {
  const saved = globalThis.localStorage?.getItem(storageKey)
  if (saved === 'en' || saved === 'zh-CN') return saved
  const nav = globalThis.navigator
  return pickLocale(nav?.languages?.length ? nav.languages : [nav?.language ?? 'en'])
}

/** locale is the language in use; setLocale changes and remembers it. */
export const locale = ref<Locale>(initialLocale())

/** elementLocale is Element Plus's own strings for the current language. */
export const elementLocale = computed(() => (locale.value === 'zh-CN' ? elZhCn : elEn))

/** setLocale switches the language and remembers the choice. */
export function setLocale(l: Locale): void {
  locale.value = l
  globalThis.localStorage?.setItem(storageKey, l)
  if (globalThis.document) document.documentElement.lang = l
}

/** t translates a key, filling {name} placeholders from params. */
export function t(key: MessageKey, params?: Record<string, string | number>): string {
  let s: string = dictionaries[locale.value][key] ?? en[key] ?? key
  if (params) {
    for (const [k, v] of Object.entries(params)) s = s.split(`{${k}}`).join(String(v))
  }
  return s
}

/** isMessageKey says whether a string names a translation. */
export function isMessageKey(key: string): key is MessageKey {
  return key in en
}

/**
 * isolate wraps text that people chose (a name, a room) for use inside a
 * sentence or an attribute, where <bdi> cannot go: between FIRST STRONG
 * ISOLATE and POP DIRECTIONAL ISOLATE, its bidi characters (U+202E and the
 * like) cannot reorder the words around it.
 */
export function isolate(text: string): string {
  return `\u2068${text}\u2069`
}
