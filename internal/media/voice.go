package media

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
)

// Voice limits: a recording of 1 ms to 15 minutes, a waveform of at most
// WaveformBars bars.
const (
	MaxVoiceMS   = 15 * 60 * 1000
	WaveformBars = 64
)

// Voice is what the client declares of a recording; the server checks
// what it can (the container, the ranges), not the audio itself.
type Voice struct {
	DurationMS int64
	Waveform   []byte
}

// ParseVoice reads the upload's duration_ms and waveform (base64url of up
// to WaveformBars bytes, padded or not) parameters.
func ParseVoice(duration, waveform string) (Voice, error) {
	ms, err := strconv.ParseInt(duration, 10, 64)
	if err != nil || ms < 1 || ms > MaxVoiceMS {
		return Voice{}, fmt.Errorf("duration_ms must be a number of milliseconds from 1 to %d (15 minutes)", MaxVoiceMS)
	}
	wave, err := base64.RawURLEncoding.DecodeString(trimPad(waveform))
	if err != nil {
		return Voice{}, errors.New("waveform must be base64url")
	}
	if len(wave) > WaveformBars {
		return Voice{}, fmt.Errorf("waveform has %d bars; the most is %d", len(wave), WaveformBars)
	}
	return Voice{DurationMS: ms, Waveform: wave}, nil
}

func trimPad(s string) string {
	for len(s) > 0 && s[len(s)-1] == '=' {
		s = s[:len(s)-1]
	}
	return s
}
