package presence

import "time"

// SetClock makes t read the time from now, so tests can add connections
// that have already expired.
func SetClock(t *Tracker, now func() time.Time) { t.now = now }
