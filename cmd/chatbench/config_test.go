package main

import (
	"io"
	"strings"
	"testing"
)

func TestCheckTarget(t *testing.T) {
	for _, c := range []struct {
		url         string
		allowRemote bool
		ok          bool
	}{
		{"http://127.0.0.1:8080", false, true},
		{"http://localhost:8080", false, true},
		{"http://[::1]:8080", false, true},
		{"http://10.0.0.5:8080", false, false},
		{"https://chat.example.com", false, false},
		{"https://chat.example.com", true, true},
		{"ftp://127.0.0.1", false, false},
		{"127.0.0.1:8080", false, false},
	} {
		t.Run(c.url, func(t *testing.T) {
			if err := checkTarget(c.url, c.allowRemote); (err == nil) != c.ok {
				t.Errorf("checkTarget(%q, %v) = %v", c.url, c.allowRemote, err)
			}
		})
	}
}

func TestParseConfigRejectsNonsense(t *testing.T) {
	for name, args := range map[string][]string{
		"ErrRemote":               {"-addr", "http://192.0.2.1:8080"},
		"ErrRooms":                {"-clients", "10", "-rooms", "11"},
		"ErrSenders":              {"-clients", "10", "-senders", "11"},
		"ErrDuration":             {"-duration", "2h"},
		"ErrPrefix":               {"-prefix", "a-b"},
		"ErrNegativeRate":         {"-rate", "-1"},
		"ErrTarget":               {"-target", "nats"},
		"ErrProtocol":             {"-protocol", "msgpack"},
		"ErrProtocolPrefixed":     {"-protocol", "parley.v1.proto"},
		"ErrCentrifugoFastClient": {"-target", "centrifugo", "-client", "fast"},
		"ErrCentrifugoTwoServers": {"-target", "centrifugo", "-addr", "http://127.0.0.1:8000,http://127.0.0.1:8001"},
		"ErrCentrifugoH2C":        {"-target", "centrifugo", "-h2c"},
		"ErrCentrifugoNoKey":      {"-target", "centrifugo", "-centrifugo-api-key", ""},
		"ErrCentrifugoProtocol":   {"-target", "centrifugo", "-protocol", "batch.proto"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseConfig(args, io.Discard); err == nil {
				t.Errorf("parseConfig(%v) accepted", args)
			}
		})
	}
	if _, err := parseConfig(nil, io.Discard); err != nil {
		t.Errorf("defaults rejected: %v", err)
	}
}

// TestParseConfigProtocol: every -protocol value is taken as given, json
// (ask for no subprotocol) is the default, and an unknown one is refused
// with a message naming the flag and what it may be.
func TestParseConfigProtocol(t *testing.T) {
	for _, p := range []string{"json", "proto", "batch.json", "batch.proto"} {
		t.Run(p, func(t *testing.T) {
			c, err := parseConfig([]string{"-protocol", p}, io.Discard)
			if err != nil || c.protocol != p {
				t.Errorf("-protocol %s: protocol %q, err %v", p, c.protocol, err)
			}
		})
	}
	if c, _ := parseConfig(nil, io.Discard); c.protocol != "json" {
		t.Errorf("default protocol %q, want json", c.protocol)
	}
	_, err := parseConfig([]string{"-protocol", "msgpack"}, io.Discard)
	if want := `-protocol "msgpack": must be one of json, proto, batch.json, batch.proto`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want it to say %s", err, want)
	}
}
