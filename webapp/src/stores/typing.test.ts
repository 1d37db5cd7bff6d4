import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'

const sent = vi.hoisted(() => [] as number[])
vi.mock('@/realtime/live', () => ({
  liveUrl: () => 'ws://test/ws',
  LiveSocket: class {
    start() {}
    stop() {}
    sendTyping() {
      sent.push(Date.now())
      return true
    }
  },
}))
vi.mock('@/api/client', () => ({ messageClient: {}, roomClient: {}, userClient: {}, authClient: {}, keeper: {} }))

import { typingSlackMs, typingThrottleMs, useLiveStore } from './live'

beforeEach(() => {
  sent.length = 0
  vi.useFakeTimers({ now: 0 })
  setActivePinia(createPinia())
})

describe('typing frames', () => {
  it('go at most once per window; typing within it (as right after a send) is told when the window ends', async () => {
    const live = useLiveStore()
    live.start()
    live.typing(1n) // t=0: sent
    await vi.advanceTimersByTimeAsync(1_000)
    live.typing(1n) // t=1s, the message was sent and the user types on: held...
    live.typing(1n)
    expect(sent).toEqual([0])
    await vi.advanceTimersByTimeAsync(typingThrottleMs)
    expect(sent).toEqual([0, typingThrottleMs + typingSlackMs]) // ...and told once the server takes it again
    live.stop()
  })

  it('an emptied composer cancels what was held', async () => {
    const live = useLiveStore()
    live.start()
    live.typing(1n)
    live.typing(1n)
    live.stoppedTyping(1n)
    await vi.advanceTimersByTimeAsync(typingThrottleMs * 2)
    expect(sent).toEqual([0])
    live.stop()
  })
})
