package store

// ForgetCounts drops the unread counts the store remembers, so that a
// benchmark can time the counting itself.
func (s *Store) ForgetCounts() {
	s.counts.mu.Lock()
	s.counts.m = nil
	s.counts.mu.Unlock()
}
