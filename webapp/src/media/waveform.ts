// The bars a voice message shows: the recording split into equal buckets,
// each bar the loudness (RMS) of its bucket, scaled so the loudest bar is 255.
// Scaling to the loudest keeps the shape of a quiet recording visible.

/** How many bars a voice message carries (the server keeps up to 64). */
export const waveformBars = 64

/** waveform computes the bars of mono samples in [-1, 1]; all zeros for silence or no samples. */
export function waveform(samples: Float32Array, bars = waveformBars): Uint8Array {
  const rms = new Float64Array(bars)
  if (samples.length === 0) return new Uint8Array(bars)
  for (let b = 0; b < bars; b++) {
    const from = Math.floor((b * samples.length) / bars)
    const to = Math.max(from + 1, Math.floor(((b + 1) * samples.length) / bars))
    let sum = 0
    for (let i = from; i < to && i < samples.length; i++) sum += samples[i] * samples[i]
    rms[b] = Math.sqrt(sum / (to - from))
  }
  const peak = Math.max(...rms)
  const out = new Uint8Array(bars)
  if (peak === 0) return out
  for (let b = 0; b < bars; b++) out[b] = Math.round((rms[b] / peak) * 255)
  return out
}

/** mixDown averages an audio buffer's channels into one. */
export function mixDown(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0]
  const n = channels[0]?.length ?? 0
  const out = new Float32Array(n)
  for (const ch of channels) for (let i = 0; i < n; i++) out[i] += ch[i] / channels.length
  return out
}

/** VoiceShape is what the server is told about a recording. */
export interface VoiceShape {
  durationMs: number
  waveform: Uint8Array
}

/** analyse decodes a recording with Web Audio and measures its duration and bars. */
export async function analyse(blob: Blob): Promise<VoiceShape> {
  const ctx = new AudioContext()
  try {
    const buf = await ctx.decodeAudioData(await blob.arrayBuffer())
    const channels = Array.from({ length: buf.numberOfChannels }, (_, i) => buf.getChannelData(i))
    return { durationMs: Math.round(buf.duration * 1000), waveform: waveform(mixDown(channels)) }
  } finally {
    void ctx.close()
  }
}
