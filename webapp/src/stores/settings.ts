// The user's own preferences kept by the server (read receipts, who may
// message them), and this browser's desktop notifications: whether they may
// be shown, and showing them for mentions while the tab is hidden.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { DmPolicy, type Settings } from '@/gen/chat/v1/types_pb'
import { userClient } from '@/api/client'

/** NotifyState is the browser's answer about notifications, or 'unsupported'. */
export type NotifyState = NotificationPermission | 'unsupported'

function permission(): NotifyState {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission
}

/** useSettingsStore holds the user's settings. */
export const useSettingsStore = defineStore('settings', () => {
  const shareReadReceipts = ref(true)
  /** Who may start a conversation with the user; unspecified reads as everyone. */
  const dmPolicy = ref<DmPolicy>(DmPolicy.EVERYONE)
  const notify = ref<NotifyState>(permission())
  /** Set once a mention arrived while notifications were not decided: the moment to offer them. */
  const offerNotifications = ref(false)

  function apply(s: Settings | undefined): void {
    if (!s) return
    shareReadReceipts.value = s.shareReadReceipts
    dmPolicy.value = s.dmPolicy === DmPolicy.FRIENDS ? DmPolicy.FRIENDS : DmPolicy.EVERYONE
  }

  async function load(): Promise<void> {
    apply((await userClient.getSettings({})).settings)
  }

  async function setShareReadReceipts(on: boolean): Promise<void> {
    apply((await userClient.updateSettings({ shareReadReceipts: on })).settings)
  }

  async function setDmPolicy(p: DmPolicy): Promise<void> {
    apply((await userClient.updateSettings({ dmPolicy: p })).settings)
  }

  /** askNotifications asks the browser, from a click of the user's (browsers ignore it otherwise). */
  async function askNotifications(): Promise<void> {
    offerNotifications.value = false
    if (notify.value === 'unsupported') return
    notify.value = await Notification.requestPermission()
  }

  /** mentioned is told of a mention in a room that is not muted; it notifies when the tab is hidden. */
  function mentioned(title: string, body: string, tag: string, onClick: () => void): void {
    notify.value = permission()
    if (notify.value === 'default') offerNotifications.value = true
    if (notify.value !== 'granted' || document.visibilityState === 'visible') return
    const n = new Notification(title, { body, tag })
    n.onclick = () => {
      window.focus()
      onClick()
      n.close()
    }
  }

  function $reset(): void {
    shareReadReceipts.value = true
    dmPolicy.value = DmPolicy.EVERYONE
    offerNotifications.value = false
  }

  return { shareReadReceipts, dmPolicy, notify, offerNotifications, apply, load, setShareReadReceipts, setDmPolicy, askNotifications, mentioned, $reset }
})
