// Recording a voice message with MediaRecorder: Opus in WebM (Chromium,
// Firefox) or in Ogg, whichever the browser records; the time shown ticks
// while it records; a recording stops by itself at maxRecordingMs.
import { onBeforeUnmount, ref } from 'vue'

/** The container and codec tried, best first. */
export const voiceTypes = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm', 'audio/ogg']
/** A voice message is at most this long. */
export const maxRecordingMs = 5 * 60_000
/** How often the recording time is updated. */
const tickMs = 200

/** Recording is what a finished recording gives. */
export interface Recording {
  blob: Blob
  filename: string
}

/** pickVoiceType is the first type of voiceTypes the browser records; '' for its default. */
export function pickVoiceType(supported: (type: string) => boolean): string {
  return voiceTypes.find(supported) ?? ''
}

/** useRecorder records from the microphone: start, then stop (a Recording) or cancel. */
export function useRecorder() {
  const recording = ref(false)
  const elapsedMs = ref(0)
  let rec: MediaRecorder | null = null
  let stream: MediaStream | null = null
  let timer: ReturnType<typeof setInterval> | undefined
  let finished: ((r: Recording | null) => void) | null = null
  let keep = false

  function release() {
    clearInterval(timer)
    stream?.getTracks().forEach((t) => t.stop())
    stream = null
    rec = null
    recording.value = false
  }

  /** start asks for the microphone and records; it resolves with the recording once stopped, null when canceled. */
  async function start(): Promise<Recording | null> {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true })
    const mimeType = pickVoiceType((t) => MediaRecorder.isTypeSupported(t))
    rec = new MediaRecorder(stream, mimeType ? { mimeType } : undefined)
    const chunks: Blob[] = []
    rec.ondataavailable = (e) => e.data.size > 0 && chunks.push(e.data)
    const began = Date.now()
    elapsedMs.value = 0
    recording.value = true
    keep = false
    timer = setInterval(() => {
      elapsedMs.value = Date.now() - began
      if (elapsedMs.value >= maxRecordingMs) stop()
    }, tickMs)
    return new Promise((resolve) => {
      finished = resolve
      rec!.onstop = () => {
        const type = rec?.mimeType || mimeType || 'audio/webm'
        release()
        const blob = new Blob(chunks, { type: type.split(';')[0] })
        resolve(keep && blob.size > 0 ? { blob, filename: `voice-${began}.${type.includes('ogg') ? 'ogg' : 'webm'}` } : null)
      }
      rec!.start()
    })
  }

  /** stop ends the recording and keeps it. */
  function stop() {
    keep = true
    if (rec?.state === 'recording') rec.stop()
  }

  /** cancel ends the recording and throws it away. */
  function cancel() {
    keep = false
    if (rec?.state === 'recording') rec.stop()
    else {
      release()
      finished?.(null)
    }
  }

  onBeforeUnmount(cancel)
  return { recording, elapsedMs, start, stop, cancel }
}
