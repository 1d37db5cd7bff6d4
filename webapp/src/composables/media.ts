import { onBeforeUnmount, ref, type Ref } from 'vue'

/** useMediaQuery tracks whether a CSS media query matches. */
export function useMediaQuery(query: string): Ref<boolean> {
  const mql = globalThis.matchMedia?.(query)
  const matches = ref(mql?.matches ?? false)
  const update = (e: MediaQueryListEvent) => (matches.value = e.matches)
  mql?.addEventListener('change', update)
  onBeforeUnmount(() => mql?.removeEventListener('change', update))
  return matches
}
