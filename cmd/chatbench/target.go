package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
)

// target is the server a run loads, so the same clients, senders and
// counts measure chatd and Centrifugo alike.
type target interface {
	// prepare readies what the clients and senders need (Parley's users,
	// rooms and tokens) and reports what that cost.
	prepare(ctx context.Context, say func(string, ...any)) (setupResult, error)
	// dial opens client i (those from -clients on are members of every
	// room) and returns the rooms the server says it is in.
	dial(ctx context.Context, i int) (conn, []int64, error)
	// send makes sender's k-th send and returns its room and how long the
	// server took to accept it. An error's text is the kind it is counted
	// under.
	send(ctx context.Context, sender, k int) (room int64, took time.Duration, err error)
	// finish adds what only this target knows to the result.
	finish(res *result, say func(string, ...any))
}

// conn is one open WebSocket client of a target.
type conn interface {
	// read handles frames until the socket closes or until deadline.
	read(t *tally, deadline time.Time)
	// protocol is the -protocol value the server chose for the client, or
	// "" for a target that has no such choice.
	protocol() string
	close()
}

func newTarget(cfg config, hc *http.Client, run string) target {
	if cfg.target == targetCentrifugo {
		return newCentrifugo(cfg, hc, run)
	}
	var sendOpts []connect.ClientOption
	if cfg.sendJSON {
		sendOpts = append(sendOpts, connect.WithProtoJSON())
	}
	callsOf := make([]*calls, len(cfg.addrs))
	for i, a := range cfg.addrs {
		callsOf[i] = newCalls(hc, a, sendOpts...)
	}
	return &parley{cfg: cfg, callsOf: callsOf, run: run}
}

// parley is chatd: users registered and logged in over Connect, WebSocket
// clients on /ws, sends through SendMessage.
type parley struct {
	cfg     config
	callsOf []*calls
	run     string
	cast    *cast
	tokens  *keeper
}

var _ target = (*parley)(nil)

func (p *parley) prepare(ctx context.Context, say func(string, ...any)) (setupResult, error) {
	cast, st, err := prepare(ctx, p.cfg, p.callsOf[0], say)
	if err != nil {
		return setupResult{}, err
	}
	p.cast, p.tokens = cast, newKeeper(cast.users)
	return setupResult{Reused: st.reused.Load(), Refreshed: st.refreshed.Load(), LoggedIn: st.loggedIn.Load(), Registered: st.registered.Load()}, nil
}

func (p *parley) dial(ctx context.Context, i int) (conn, []int64, error) {
	u, everywhere := &p.cast.users[i%len(p.cast.users)], i >= p.cfg.clients
	if everywhere {
		u = &p.cast.everywhere[i-p.cfg.clients]
	}
	c, err := dial(ctx, p.cfg.addrs[i%len(p.cfg.addrs)], u, p.cfg.protocol)
	if err != nil {
		return nil, nil, err
	}
	c.everywhere = everywhere
	c.generic = p.cfg.client == clientGeneric
	rooms := make([]int64, 0, len(c.last))
	for room := range c.last {
		rooms = append(rooms, room)
	}
	return c, rooms, nil
}

func (p *parley) send(ctx context.Context, sender, k int) (int64, time.Duration, error) {
	user := sender % len(p.tokens.users)
	c := p.callsOf[sender%len(p.callsOf)]
	token, err := p.tokens.access(ctx, c, user)
	if err != nil {
		return 0, 0, errors.New("renew token: " + shortErr(err))
	}
	room := p.tokens.users[user].room
	t0 := time.Now()
	_, err = c.send.CallUnary(ctx, withToken(&chatv1.SendMessageRequest{
		RoomId: room, Body: body(p.cfg.bodyBytes, t0, p.run, sender, k),
		ClientMsgId: fmt.Sprintf("%s-%d-%d", p.run, sender, k),
	}, token))
	if err != nil {
		var ce *connect.Error
		if errors.As(err, &ce) {
			return room, 0, errors.New("send: " + ce.Code().String())
		}
		return room, 0, errors.New("send: " + shortErr(err))
	}
	return room, time.Since(t0), nil
}

func (p *parley) finish(res *result, say func(string, ...any)) {
	res.Sends.TokensRenewed = p.tokens.renewed.Load()
	if res.Sends.TokensRenewed > 0 {
		// Renewal rotated the refresh tokens: keep the new ones for the next run.
		if err := saveTokens(p.cfg.tokenFile, p.cast.users, loadTokens(p.cfg.tokenFile)); err != nil {
			say("could not save the token cache %s: %v", p.cfg.tokenFile, err)
		}
	}
}
