package main

import "testing"

// TestEverywhere: members of every room of a 100-room layout, as bots and
// moderators are, keep up with all of it: 200 clients, 8 members of every
// room connecting together, 300 sends/s for 10 s. Each of them receives
// every message, with no gap, duplicate or error, and is never cut off as
// slow; nor is anyone else. The server runs with its default queue.
func TestEverywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chatd and 208 WebSocket clients")
	}
	const everywhere = 8
	res := benchAgainstChatd(t, "-clients", "200", "-users", "100", "-rooms", "100", "-everywhere", "8",
		"-senders", "20", "-rate", "300", "-duration", "10s")
	e := res.Everywhere
	t.Logf("%d sends acked (%.0f/s); members of every room: %d of %d deliveries, send→deliver p99 %.1f ms",
		res.Sends.Acked, res.Sends.PerSec, e.Delivered, e.Expected, e.EndToEnd.P99)
	if res.Connect.Connected != 200+everywhere || e.Clients != everywhere {
		t.Fatalf("%d clients connected, %d in every room", res.Connect.Connected, e.Clients)
	}
	if e.Expected != everywhere*res.Sends.Acked {
		t.Errorf("members of every room expected %d deliveries, want %d × %d", e.Expected, everywhere, res.Sends.Acked)
	}
	if e.Gaps != 0 || e.Duplicates != 0 || e.Errors != 0 || e.Delivered != e.Expected {
		t.Errorf("members of every room: %d of %d delivered, gaps %d, duplicates %d, errors %d: %v",
			e.Delivered, e.Expected, e.Gaps, e.Duplicates, e.Errors, res.ErrorKinds)
	}
	checkDelivered(t, res)
}
