import { describe, expect, it } from 'vitest'
import { mixDown, waveform } from './waveform'
import { highlightParts } from './highlight'
import { clock, humanSize } from './format'

describe('waveform', () => {
  it('gives 64 bars, the loudest 255', () => {
    const samples = new Float32Array(6400)
    for (let i = 0; i < samples.length; i++) samples[i] = (i < 3200 ? 0.25 : 0.5) * Math.sin(i)
    const bars = waveform(samples)
    expect(bars).toHaveLength(64)
    expect(Math.max(...bars)).toBe(255)
    expect(bars[0]).toBeGreaterThan(120) // half as loud as the second half
    expect(bars[0]).toBeLessThan(135)
    expect(bars[63]).toBeGreaterThan(250)
  })
  it('takes the RMS of each bucket', () => {
    const bars = waveform(new Float32Array([1, -1, 0.5, -0.5]), 2)
    expect([...bars]).toEqual([255, 128])
  })
  it('is all zeros for silence and for no samples', () => {
    expect([...waveform(new Float32Array(100))].every((b) => b === 0)).toBe(true)
    expect(waveform(new Float32Array(0))).toHaveLength(64)
  })
  it('covers every sample when there are fewer samples than bars', () => {
    const bars = waveform(new Float32Array([0, 1]), 4)
    expect(bars).toHaveLength(4)
    expect(Math.max(...bars)).toBe(255)
  })
  it('mixes channels by their mean', () => {
    expect([...mixDown([new Float32Array([1, 0]), new Float32Array([0, 1])])]).toEqual([0.5, 0.5])
  })
})

describe('highlightParts', () => {
  it('slices by code points, not UTF-16 units', () => {
    // 😀 and 𠮷 are two UTF-16 units each: a slice by units would be off by three.
    const parts = highlightParts('😀𠮷我们说你好吧', [{ start: 5, end: 7 }])
    expect(parts).toEqual([
      { text: '😀𠮷我们说', hit: false },
      { text: '你好', hit: true },
      { text: '吧', hit: false },
    ])
  })
  it('sorts, merges and clamps ranges', () => {
    const parts = highlightParts('deploy the deployment', [
      { start: 11, end: 30 },
      { start: 0, end: 4 },
      { start: 2, end: 6 },
    ])
    expect(parts.filter((p) => p.hit).map((p) => p.text)).toEqual(['deploy', 'deployment'])
    expect(parts.map((p) => p.text).join('')).toBe('deploy the deployment')
  })
  it('keeps the whole body without ranges', () => {
    expect(highlightParts('hi', [])).toEqual([{ text: 'hi', hit: false }])
    expect(highlightParts('', [])).toEqual([{ text: '', hit: false }])
  })
})

describe('format', () => {
  it('says sizes', () => {
    expect(humanSize(512)).toBe('512 B')
    expect(humanSize(1536n)).toBe('1.5 KB')
    expect(humanSize(25n * 1024n * 1024n)).toBe('25 MB')
  })
  it('says durations', () => {
    expect(clock(0)).toBe('0:00')
    expect(clock(65_400n)).toBe('1:05')
  })
})
