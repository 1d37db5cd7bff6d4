package main

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram layout: values in microseconds, in log2 groups of subBuckets
// linear buckets each, so every bucket is within 1/subBuckets (≈3%) of its
// value, from 1 µs up to 2^maxGroups µs (about 18 minutes).
const (
	subBits    = 5
	subBuckets = 1 << subBits
	maxGroups  = 30
	numBuckets = (maxGroups + 1) * subBuckets
)

// histogram counts durations without locks, so thousands of connection
// goroutines record into it at once. Its memory is fixed (≈8 KB).
type histogram struct {
	counts [numBuckets]atomic.Uint64
	n      atomic.Uint64
	max    atomic.Int64
}

func bucketOf(us int64) int {
	if us < subBuckets {
		return int(max(us, 0))
	}
	g := bits.Len64(uint64(us)) - subBits // ≥ 1
	if g > maxGroups {
		return numBuckets - 1
	}
	return g*subBuckets + int(us>>(g-1)) - subBuckets
}

// lowerBound is the smallest value of bucket i, in microseconds.
func lowerBound(i int) int64 {
	if i < subBuckets {
		return int64(i)
	}
	g := i / subBuckets
	return int64(i%subBuckets+subBuckets) << (g - 1)
}

func (h *histogram) record(d time.Duration) {
	us := d.Microseconds()
	h.counts[bucketOf(us)].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			return
		}
	}
}

// quantile returns the value below which the fraction q of the recorded
// durations lie (bucket midpoint), or 0 when nothing was recorded.
func (h *histogram) quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	want := uint64(q*float64(n) + 0.5)
	want = max(want, 1)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= want {
			lo, hi := lowerBound(i), lowerBound(i+1)
			v := (lo + hi) / 2
			return min(time.Duration(v)*time.Microsecond, h.maxValue())
		}
	}
	return h.maxValue()
}

func (h *histogram) maxValue() time.Duration {
	return time.Duration(h.max.Load()) * time.Microsecond
}

func (h *histogram) count() uint64 { return h.n.Load() }

// latency is the summary printed and written as JSON.
type latency struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Max   float64 `json:"max_ms"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (h *histogram) summary() latency {
	return latency{
		Count: h.count(),
		P50:   ms(h.quantile(0.50)), P90: ms(h.quantile(0.90)), P99: ms(h.quantile(0.99)),
		P999: ms(h.quantile(0.999)), Max: ms(h.maxValue()),
	}
}
