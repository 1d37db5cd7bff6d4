package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// result is what a run measured; -json prints it as is.
type result struct {
	Run        string           `json:"run"`
	Config     configSummary    `json:"config"`
	Setup      setupResult      `json:"setup"`
	Connect    connectResult    `json:"connect"`
	Sends      sendResult       `json:"sends"`
	Deliveries deliveryResult   `json:"deliveries"`
	Gaps       int64            `json:"gaps"`
	Duplicates int64            `json:"duplicates"`
	Errors     int64            `json:"errors"`
	ErrorKinds map[string]int64 `json:"error_kinds,omitempty"`
	// Protocols counts the connected clients by the -protocol in effect:
	// what the server chose of what was asked for (a chatd that knows no
	// subprotocol writes json). Centrifugo's clients are in none.
	Protocols map[string]int64 `json:"protocols,omitempty"`
	// Everywhere is what the members of every room saw, when there are.
	Everywhere *groupResult `json:"everywhere,omitempty"`
	Processes  []procResult `json:"processes"`
}

// groupResult is what a group of clients saw.
type groupResult struct {
	Clients    int64   `json:"clients"`
	Delivered  int64   `json:"delivered"`
	Expected   int64   `json:"expected"`
	Missing    int64   `json:"missing"`
	Gaps       int64   `json:"gaps"`
	Duplicates int64   `json:"duplicates"`
	Errors     int64   `json:"errors"` // error frames, lost sockets, missing deliveries
	EndToEnd   latency `json:"end_to_end"`
}

func groupOf(k *counts, clients int64) *groupResult {
	missing := max(k.expected.Load()-k.delivered.Load(), 0)
	return &groupResult{
		Clients: clients, Delivered: k.delivered.Load(), Expected: k.expected.Load(), Missing: missing,
		Gaps: k.gaps.Load(), Duplicates: k.duplicates.Load(), Errors: k.wsErrors.Load() + missing, EndToEnd: k.e2e.summary(),
	}
}

type configSummary struct {
	Servers    []string `json:"servers"`
	Clients    int      `json:"clients"`
	Everywhere int      `json:"everywhere"`
	Users      int      `json:"users"`
	Rooms      int      `json:"rooms"`
	Senders    int      `json:"senders"`
	Rate       float64  `json:"rate"`
	Duration   float64  `json:"duration_s"`
	BodyBytes  int      `json:"body_bytes"`
	H2C        bool     `json:"h2c"`
	SendJSON   bool     `json:"send_json"`
	Client     string   `json:"client"`
	Protocol   string   `json:"protocol"` // asked for; result.Protocols says what was in effect
	Target     string   `json:"target"`
}

func (c config) summary() configSummary {
	return configSummary{
		Servers: c.addrs, Clients: c.clients, Everywhere: c.everywhere, Users: c.users, Rooms: c.rooms, Senders: c.senders, Rate: c.rate,
		Duration: c.duration.Seconds(), BodyBytes: c.bodyBytes, H2C: c.h2c, SendJSON: c.sendJSON, Client: c.client, Protocol: c.protocol, Target: c.target,
	}
}

type setupResult struct {
	Seconds    float64 `json:"seconds"`
	Reused     int64   `json:"reused"`
	Refreshed  int64   `json:"refreshed"`
	LoggedIn   int64   `json:"logged_in"`
	Registered int64   `json:"registered"`
}

type connectResult struct {
	Connected int64   `json:"connected"`
	Failed    int64   `json:"failed"`
	Seconds   float64 `json:"seconds"`
	Latency   latency `json:"latency"`
}

type sendResult struct {
	Acked         int64   `json:"acked"`
	Errors        int64   `json:"errors"`
	Seconds       float64 `json:"seconds"`
	PerSec        float64 `json:"per_s"`
	Latency       latency `json:"latency"`
	TokensRenewed int64   `json:"tokens_renewed"`
}

type deliveryResult struct {
	Delivered int64 `json:"delivered"`
	Expected  int64 `json:"expected"`
	Missing   int64 `json:"missing"`
	Other     int64 `json:"other_events"`
	Frames    int64 `json:"frames"` // WebSocket messages read while sending and draining
	// PerMessage is Delivered / Frames: how many message events a
	// WebSocket message held on average, more than one on a batch protocol.
	PerMessage float64 `json:"deliveries_per_message"`
	Seconds    float64 `json:"seconds"`
	PerSec     float64 `json:"per_s"`
	EndToEnd   latency `json:"end_to_end"`
}

// procResult is a local process's memory and CPU. CPU is in percent of one
// core, so a 2-core box tops out at 200.
type procResult struct {
	Name         string  `json:"name"`
	PID          int     `json:"pid"`
	RSSBeforeMB  float64 `json:"rss_before_mb"`
	RSSIdleMB    float64 `json:"rss_idle_mb"`
	RSSEndMB     float64 `json:"rss_end_mb"`
	RSSPerConnKB float64 `json:"rss_per_conn_kb,omitempty"`
	CPUSendPct   float64 `json:"cpu_send_pct"`
	CPUPerKDeliv float64 `json:"cpu_ms_per_1k_deliveries,omitempty"`
}

func (r *result) fill(cfg config, t *tally, procs []*watched, sendStart, sendEnd time.Time) {
	sendSecs := sendEnd.Sub(sendStart).Seconds()
	r.Sends = sendResult{
		Acked: t.acked.Load(), Errors: t.sendErrors.Load(), Seconds: sendSecs,
		PerSec: float64(t.acked.Load()) / sendSecs, Latency: t.sendLat.summary(),
	}
	delivered, expected := t.delivered.Load(), t.expected.Load()
	// Deliveries run from the first send to the last delivery.
	deliverSecs := sendSecs
	if last := t.lastDelivery.Load(); last > 0 {
		deliverSecs = max(time.Unix(0, last).Sub(sendStart).Seconds(), 1e-3)
	}
	frames := t.frames.Load()
	r.Deliveries = deliveryResult{
		Delivered: delivered, Expected: expected, Missing: max(expected-delivered, 0), Other: t.otherEvents.Load(), Frames: frames,
		Seconds: deliverSecs, PerSec: float64(delivered) / deliverSecs, EndToEnd: t.e2e.summary(),
	}
	if frames > 0 {
		r.Deliveries.PerMessage = float64(delivered) / float64(frames)
	}
	r.Gaps, r.Duplicates = t.gaps.Load(), t.duplicates.Load()
	r.Errors = t.sendErrors.Load() + t.wsErrors.Load() + t.connectFailed.Load() + t.badBodies.Load() + r.Deliveries.Missing
	r.ErrorKinds = t.errorKinds()
	r.Protocols = t.protocolsInEffect()
	if cfg.everywhere > 0 {
		r.Everywhere = groupOf(&t.everywhere, int64(cfg.everywhere))
	}
	if n := t.badBodies.Load(); n > 0 {
		r.ErrorKinds["unreadable message body"] = n
	}
	if r.Deliveries.Missing > 0 {
		r.ErrorKinds["deliveries missing after drain"] = r.Deliveries.Missing
	}
	conns := float64(t.connected.Load())
	servers := 0
	for _, p := range procs {
		if p.server {
			servers++
		}
	}
	for _, p := range procs {
		pr := procResult{
			Name: p.name, PID: p.pid,
			RSSBeforeMB: float64(p.base.rssKB) / 1024, RSSIdleMB: float64(p.idle.rssKB) / 1024, RSSEndMB: float64(p.end.rssKB) / 1024,
			CPUSendPct: cpuPercent(p.send, p.end),
		}
		if p.server && conns > 0 && p.base.rssKB > 0 {
			// Each process holds its share of the clients.
			pr.RSSPerConnKB = float64(p.idle.rssKB-p.base.rssKB) / (conns / float64(servers))
		}
		if delivered > 0 {
			pr.CPUPerKDeliv = float64((p.end.cpuTime - p.send.cpuTime).Milliseconds()) / float64(delivered) * 1000
		}
		r.Processes = append(r.Processes, pr)
	}
}

func (r *result) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func (r *result) writeTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...) }
	lat := func(l latency) string {
		return fmt.Sprintf("p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f ms", l.P50, l.P90, l.P99, l.P999, l.Max)
	}
	c := r.Config
	rate := "max"
	if c.Rate > 0 {
		rate = fmt.Sprintf("%g/s", c.Rate)
	}
	row("run", "%s: %d clients (%d users, %s decoding) and %d in every room, %d rooms, %d senders at %s for %gs, %d-byte bodies, %s at %s",
		r.Run, c.Clients, c.Users, c.Client, c.Everywhere, c.Rooms, c.Senders, rate, c.Duration, c.BodyBytes, c.Target, strings.Join(c.Servers, " "))
	if len(r.Protocols) > 0 {
		row("protocol", "asked for %s; in effect %s", c.Protocol, clientsPer(r.Protocols))
	}
	row("setup", "%.1fs (reused %d, refreshed %d, logged in %d, registered %d)",
		r.Setup.Seconds, r.Setup.Reused, r.Setup.Refreshed, r.Setup.LoggedIn, r.Setup.Registered)
	row("connect", "%d open, %d failed in %.1fs; %s", r.Connect.Connected, r.Connect.Failed, r.Connect.Seconds, lat(r.Connect.Latency))
	if c.Senders > 0 {
		row("sends acked", "%d in %.1fs = %.0f/s, %d errors, %d tokens renewed; %s",
			r.Sends.Acked, r.Sends.Seconds, r.Sends.PerSec, r.Sends.Errors, r.Sends.TokensRenewed, lat(r.Sends.Latency))
		row("deliveries", "%d of %d expected in %.1fs = %.0f/s (%d other events), in %d WebSocket messages (%.2f deliveries per message)",
			r.Deliveries.Delivered, r.Deliveries.Expected, r.Deliveries.Seconds, r.Deliveries.PerSec, r.Deliveries.Other, r.Deliveries.Frames, r.Deliveries.PerMessage)
		row("send→deliver", "%s", lat(r.Deliveries.EndToEnd))
	}
	row("gaps / dups", "%d / %d", r.Gaps, r.Duplicates)
	if e := r.Everywhere; e != nil {
		row("in every room", "%d clients: %d of %d expected deliveries, gaps %d, dups %d, errors %d; send→deliver %s",
			e.Clients, e.Delivered, e.Expected, e.Gaps, e.Duplicates, e.Errors, lat(e.EndToEnd))
	}
	row("errors", "%d", r.Errors)
	for _, k := range slices.Sorted(maps.Keys(r.ErrorKinds)) {
		row("", "%6d  %s", r.ErrorKinds[k], k)
	}
	for _, p := range r.Processes {
		extra := ""
		if p.RSSPerConnKB != 0 {
			extra = fmt.Sprintf(", %.1f KB per connection", p.RSSPerConnKB)
		}
		if p.CPUPerKDeliv != 0 && c.Senders > 0 {
			extra += fmt.Sprintf(", %.1f ms CPU per 1k deliveries", p.CPUPerKDeliv)
		}
		row(fmt.Sprintf("%s %d", p.Name, p.PID), "RSS %.1f → %.1f (idle) → %.1f MB%s; CPU while sending %.0f%% of a core",
			p.RSSBeforeMB, p.RSSIdleMB, p.RSSEndMB, extra, p.CPUSendPct)
	}
	tw.Flush()
}

// clientsPer says how many clients each protocol had, e.g.
// "batch.proto (200 clients)", in a stable order.
func clientsPer(protocols map[string]int64) string {
	var parts []string
	for _, p := range slices.Sorted(maps.Keys(protocols)) {
		parts = append(parts, fmt.Sprintf("%s (%d clients)", p, protocols[p]))
	}
	return strings.Join(parts, ", ")
}
