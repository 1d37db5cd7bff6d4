package push

import "sync/atomic"

// Stats counts what the hub did since start; the metrics endpoint reads it.
type Stats struct {
	EventsFannedOut atomic.Int64 // event deliveries queued to connections
	SlowConsumers   atomic.Int64 // connections dropped for falling behind
	ResumeReplays   atomic.Int64 // messages replayed from the store (resume, gaps, resync)
	TooFarBehind    atomic.Int64 // too_far_behind answers
	// ResumeOverBudget counts the too_far_behind answers given because a
	// connection's replay budget was spent, not its window.
	ResumeOverBudget atomic.Int64
}

// Stats returns the hub's live counters.
func (h *Hub) Stats() *Stats { return &h.stats }
