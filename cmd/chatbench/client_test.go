package main

import (
	"testing"
	"time"
)

func TestHandleCountsGapsAndDuplicates(t *testing.T) {
	sent := time.Now().Add(-5 * time.Millisecond)
	frame := func(seq string) []byte {
		return []byte(`{"event":{"roomId": "7","seq":"` + seq + `","messageCreated":{"message":{"id":"1","roomId":"7","seq":"` + seq +
			`","sender":{"id":"2","username":"a"},"body": "` + body(60, sent, "r1", 0, 0) + `"}}}}`)
	}
	var tl tally
	c := &wsClient{last: map[int64]int64{7: 3}}
	for _, seq := range []string{"4", "5", "5", "8", "9"} {
		c.handle(&tl, frame(seq))
	}
	if got := tl.delivered.Load(); got != 4 {
		t.Errorf("delivered = %d, want 4", got)
	}
	if got := tl.duplicates.Load(); got != 1 {
		t.Errorf("duplicates = %d, want 1", got)
	}
	if got := tl.gaps.Load(); got != 2 {
		t.Errorf("gaps = %d, want 2 (seq 6 and 7)", got)
	}
	if tl.badBodies.Load() != 0 || tl.e2e.count() != 4 {
		t.Errorf("bad bodies %d, e2e samples %d", tl.badBodies.Load(), tl.e2e.count())
	}
	if p50 := tl.e2e.quantile(0.5); p50 < 4*time.Millisecond || p50 > time.Second {
		t.Errorf("e2e p50 = %v, want about 5ms", p50)
	}
}

func TestHandleOtherFrames(t *testing.T) {
	var tl tally
	c := &wsClient{last: map[int64]int64{}}
	c.handle(&tl, []byte(`{"pong":{}}`))
	c.handle(&tl, []byte(`{"event":{"roomId":"1","presenceChanged":{"roomId":"1","userId":"3","online":true}}}`))
	c.handle(&tl, []byte(`{"error":{"code":"resource_exhausted","message":"too slow"}}`))
	if tl.otherEvents.Load() != 1 || tl.wsErrors.Load() != 1 || tl.delivered.Load() != 0 {
		t.Errorf("other %d, errors %d, delivered %d", tl.otherEvents.Load(), tl.wsErrors.Load(), tl.delivered.Load())
	}
}

// TestGenericClientCountsAlike: the generic decoder reaches the same counts
// as the fast one on the same frames, including a frame whose fields come
// in another order (which a byte scan cannot read, and a JSON decoder can).
func TestGenericClientCountsAlike(t *testing.T) {
	sent := time.Now().Add(-5 * time.Millisecond)
	b := body(60, sent, "r1", 0, 0)
	frames := [][]byte{
		[]byte(`{"event":{"roomId":"7","seq":"4","messageCreated":{"message":{"id":"1","roomId":"7","seq":"4","body":"` + b + `"}}}}`),
		[]byte(`{"event":{"messageCreated":{"message":{"body":"` + b + `","seq":"5","roomId":"7"}},"seq":"5","roomId":"7"}}`),
		[]byte(`{"event":{"roomId":"7","seq":"5","messageCreated":{"message":{"body":"` + b + `"}}}}`),
		[]byte(`{"pong":{}}`),
		[]byte(`{"event":{"roomId":"1","presenceChanged":{"roomId":"1","userId":"3","online":true}}}`),
		[]byte(`{"event":{"roomId":"7","tooFarBehind":{"roomId":"7","afterSeq":"1","lastSeq":"900"}}}`),
		[]byte(`not json`),
	}
	var tl tally
	c := &wsClient{last: map[int64]int64{7: 3}, generic: true}
	for _, f := range frames {
		c.handle(&tl, f)
	}
	if tl.delivered.Load() != 2 || tl.duplicates.Load() != 1 || tl.gaps.Load() != 0 || tl.e2e.count() != 2 {
		t.Errorf("delivered %d, duplicates %d, gaps %d, e2e %d", tl.delivered.Load(), tl.duplicates.Load(), tl.gaps.Load(), tl.e2e.count())
	}
	if tl.otherEvents.Load() != 1 || tl.wsErrors.Load() != 2 || tl.badBodies.Load() != 0 {
		t.Errorf("other %d, errors %d (too far behind, undecodable), bad bodies %d", tl.otherEvents.Load(), tl.wsErrors.Load(), tl.badBodies.Load())
	}
}
