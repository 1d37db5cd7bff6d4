package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/gen/proto/chat/v1/chatv1connect"
)

// benchUser is one of the run's users with its current tokens.
type benchUser struct {
	Name    string `json:"name"`
	Access  string `json:"access"`
	Refresh string `json:"refresh"`
	room    int64  // the room this run puts the user in
}

// tokenCache is the file that lets runs reuse users without the cost of
// logging them in again (argon2id, ~30 ms of CPU each).
type tokenCache struct {
	Users map[string]benchUser `json:"users"`
}

func loadTokens(path string) tokenCache {
	c := tokenCache{Users: map[string]benchUser{}}
	data, err := os.ReadFile(path)
	if err == nil {
		_ = json.Unmarshal(data, &c)
	}
	if c.Users == nil {
		c.Users = map[string]benchUser{}
	}
	return c
}

func saveTokens(path string, users []benchUser, old tokenCache) error {
	for _, u := range users {
		old.Users[u.Name] = u
	}
	data, err := json.Marshal(old)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// newHTTPClient is a keep-alive pool sized for the senders, or one cleartext
// HTTP/2 connection per server when h2c is set.
func newHTTPClient(h2c bool, conns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = conns + 16
	t.MaxIdleConnsPerHost = conns + 16
	t.Protocols = new(http.Protocols)
	if h2c {
		t.Protocols.SetUnencryptedHTTP2(true)
	} else {
		t.Protocols.SetHTTP1(true)
	}
	return &http.Client{Transport: t, Timeout: rpcTimeout}
}

func withToken[T any](msg *T, token string) *connect.Request[T] {
	req := connect.NewRequest(msg)
	req.Header().Set("Authorization", "Bearer "+token)
	return req
}

// Generated clients use the simple signatures, so the bench calls the
// procedures through connect's generic client to set headers per request.
type calls struct {
	login    *connect.Client[chatv1.LoginRequest, chatv1.LoginResponse]
	register *connect.Client[chatv1.RegisterRequest, chatv1.RegisterResponse]
	refresh  *connect.Client[chatv1.RefreshRequest, chatv1.RefreshResponse]
	list     *connect.Client[chatv1.ListRoomsRequest, chatv1.ListRoomsResponse]
	create   *connect.Client[chatv1.CreateRoomRequest, chatv1.CreateRoomResponse]
	join     *connect.Client[chatv1.JoinRoomRequest, chatv1.JoinRoomResponse]
	send     *connect.Client[chatv1.SendMessageRequest, chatv1.SendMessageResponse]
}

// newCalls makes the clients of the procedures at base; sendOpts apply to
// SendMessage only (-send-json).
func newCalls(hc *http.Client, base string, sendOpts ...connect.ClientOption) *calls {
	return &calls{
		login:    connect.NewClient[chatv1.LoginRequest, chatv1.LoginResponse](hc, base+chatv1connect.AuthServiceLoginProcedure),
		register: connect.NewClient[chatv1.RegisterRequest, chatv1.RegisterResponse](hc, base+chatv1connect.AuthServiceRegisterProcedure),
		refresh:  connect.NewClient[chatv1.RefreshRequest, chatv1.RefreshResponse](hc, base+chatv1connect.AuthServiceRefreshProcedure),
		list:     connect.NewClient[chatv1.ListRoomsRequest, chatv1.ListRoomsResponse](hc, base+chatv1connect.RoomServiceListRoomsProcedure),
		create:   connect.NewClient[chatv1.CreateRoomRequest, chatv1.CreateRoomResponse](hc, base+chatv1connect.RoomServiceCreateRoomProcedure),
		join:     connect.NewClient[chatv1.JoinRoomRequest, chatv1.JoinRoomResponse](hc, base+chatv1connect.RoomServiceJoinRoomProcedure),
		send:     connect.NewClient[chatv1.SendMessageRequest, chatv1.SendMessageResponse](hc, base+chatv1connect.MessageServiceSendMessageProcedure, sendOpts...),
	}
}

func userName(prefix string, i int) string { return fmt.Sprintf("%su%06d", prefix, i) }

// everywhereName names the i-th member of every room.
func everywhereName(prefix string, i int) string { return fmt.Sprintf("%se%04d", prefix, i) }

// setupStats counts what preparing the users cost.
type setupStats struct {
	reused, refreshed, loggedIn, registered atomic.Int64
}

// authenticate gets the user fresh tokens: a refresh when the cache has one, else a
// login, registering the user first when it does not exist yet.
func (c *calls) authenticate(ctx context.Context, u *benchUser, known bool, st *setupStats) error {
	if u.Refresh != "" {
		res, err := c.refresh.CallUnary(ctx, connect.NewRequest(&chatv1.RefreshRequest{RefreshToken: u.Refresh}))
		if err == nil {
			u.Access, u.Refresh = res.Msg.GetAccessToken(), res.Msg.GetRefreshToken()
			st.refreshed.Add(1)
			return nil
		}
	}
	if !known {
		if err := c.registerUser(ctx, u, st); err != nil {
			return err
		}
	}
	err := c.loginUser(ctx, u, st)
	if known && err != nil && connect.CodeOf(err) == connect.CodeUnauthenticated {
		// The cache outlived the database: register again.
		if err := c.registerUser(ctx, u, st); err != nil {
			return err
		}
		err = c.loginUser(ctx, u, st)
	}
	return err
}

func (c *calls) registerUser(ctx context.Context, u *benchUser, st *setupStats) error {
	_, err := c.register.CallUnary(ctx, connect.NewRequest(&chatv1.RegisterRequest{
		Username: u.Name, Email: u.Name + "@bench.invalid", Password: passwordPrefix + u.Name,
	}))
	if err == nil {
		st.registered.Add(1)
		return nil
	}
	if connect.CodeOf(err) == connect.CodeAlreadyExists {
		return nil
	}
	return fmt.Errorf("register %s: %w", u.Name, err)
}

func (c *calls) loginUser(ctx context.Context, u *benchUser, st *setupStats) error {
	res, err := c.login.CallUnary(ctx, connect.NewRequest(&chatv1.LoginRequest{Login: u.Name, Password: passwordPrefix + u.Name}))
	if err != nil {
		return fmt.Errorf("log in %s: %w", u.Name, err)
	}
	u.Access, u.Refresh = res.Msg.GetAccessToken(), res.Msg.GetRefreshToken()
	st.loggedIn.Add(1)
	return nil
}

// joinRoom puts the user in the room, renewing its tokens first when the
// cached access token no longer works. It reports whether the cached token
// did.
func (c *calls) joinRoom(ctx context.Context, u *benchUser, room int64, known bool, minLife time.Duration, st *setupStats) (bool, error) {
	if u.Access != "" && time.Until(tokenExpiry(u.Access)) < minLife {
		u.Access = "" // it would expire during the run: refresh it now
	}
	reused := u.Access != ""
	for attempt := range setupAttempts {
		if u.Access == "" || attempt > 0 {
			reused = false
			if err := c.authenticate(ctx, u, known, st); err != nil {
				return false, err
			}
		}
		_, err := c.join.CallUnary(ctx, withToken(&chatv1.JoinRoomRequest{RoomId: room}, u.Access))
		if err == nil {
			return reused, nil
		}
		if connect.CodeOf(err) != connect.CodeUnauthenticated {
			return false, fmt.Errorf("%s joins room %d: %w", u.Name, room, err)
		}
		u.Access = ""
	}
	return false, fmt.Errorf("%s: no working token after %d attempts", u.Name, setupAttempts)
}

// joinRooms puts the user in each of the rooms.
func (c *calls) joinRooms(ctx context.Context, u *benchUser, rooms []int64, known bool, minLife time.Duration, st *setupStats) error {
	reused := true
	for _, r := range rooms {
		ok, err := c.joinRoom(ctx, u, r, known, minLife, st)
		if err != nil {
			return err
		}
		reused = reused && ok
	}
	if reused {
		st.reused.Add(1)
	}
	return nil
}

// tokenExpiry reads the exp claim of a JWT without checking it (the server
// does); the zero time when it cannot.
func tokenExpiry(token string) time.Time {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}
	}
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return time.Time{}
	}
	return time.Unix(claims.Exp, 0)
}

// roomName names room i of a layout with n rooms, so a layout is reused by
// every run that asks for the same number of rooms.
func roomName(prefix string, n, i int) string { return fmt.Sprintf("%s-%dr-%d", prefix, n, i) }

// ensureRooms finds or creates the layout's rooms, as their owner.
func (c *calls) ensureRooms(ctx context.Context, cfg config, owner *benchUser) ([]int64, error) {
	res, err := c.list.CallUnary(ctx, withToken(&chatv1.ListRoomsRequest{}, owner.Access))
	if err != nil {
		return nil, fmt.Errorf("list rooms: %w", err)
	}
	byName := map[string]int64{}
	for _, r := range res.Msg.GetRooms() {
		byName[r.GetName()] = r.GetId()
	}
	ids := make([]int64, cfg.rooms)
	for i := range ids {
		name := roomName(cfg.prefix, cfg.rooms, i)
		if id, ok := byName[name]; ok {
			ids[i] = id
			continue
		}
		cr, err := c.create.CallUnary(ctx, withToken(&chatv1.CreateRoomRequest{Name: name, Topic: "chatbench"}, owner.Access))
		if err != nil {
			return nil, fmt.Errorf("create room %s: %w", name, err)
		}
		ids[i] = cr.Msg.GetRoom().GetId()
	}
	return ids, nil
}

// cast is the run's users: one per client group, each logged in and a
// member of its rooms.
type cast struct {
	users []benchUser // client i is users[i % len(users)], in its one room
	// everywhere are members of every room, one client each.
	everywhere []benchUser
	rooms      []int64
}

// prepare returns the run's users, each logged in and member of its room
// (or of every room), reusing what the token cache and the server already
// have.
func prepare(ctx context.Context, cfg config, c *calls, say func(string, ...any)) (*cast, *setupStats, error) {
	cache := loadTokens(cfg.tokenFile)
	cached := func(names []string) ([]benchUser, []bool) {
		users, known := make([]benchUser, len(names)), make([]bool, len(names))
		for i, name := range names {
			users[i], known[i] = cache.Users[name]
			users[i].Name = name
		}
		return users, known
	}
	names := make([]string, cfg.users)
	for i := range names {
		names[i] = userName(cfg.prefix, i)
	}
	users, known := cached(names)
	names = make([]string, cfg.everywhere)
	for i := range names {
		names[i] = everywhereName(cfg.prefix, i)
	}
	everywhere, everywhereKnown := cached(names)
	st := &setupStats{}
	// A cached access token must last until the clients have connected;
	// during the run the senders renew theirs (see keeper).
	minLife := cfg.settle + time.Duration(cfg.clients+cfg.everywhere)*time.Millisecond + 2*renewBefore
	// A user of its own owns the rooms and never connects: as owner it is
	// a member of every room, and the members of every room that connect
	// are -everywhere's.
	ownerName := cfg.prefix + "owner"
	cachedOwner, ownerKnown := cache.Users[ownerName]
	owner := &cachedOwner
	owner.Name = ownerName
	if owner.Access == "" || time.Until(tokenExpiry(owner.Access)) < minLife {
		if err := c.authenticate(ctx, owner, ownerKnown, st); err != nil {
			return nil, nil, err
		}
	}
	rooms, err := c.ensureRooms(ctx, cfg, owner)
	if err != nil && connect.CodeOf(err) == connect.CodeUnauthenticated {
		if err = c.authenticate(ctx, owner, ownerKnown, st); err == nil {
			rooms, err = c.ensureRooms(ctx, cfg, owner)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	cache.Users[ownerName] = *owner
	for i := range users {
		users[i].room = rooms[i%cfg.rooms]
	}
	total := len(users) + len(everywhere)
	var (
		next     atomic.Int64
		done     atomic.Int64
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				say("setup: %d/%d users ready (reused %d, refreshed %d, logged in %d, registered %d)",
					done.Load(), total, st.reused.Load(), st.refreshed.Load(), st.loggedIn.Load(), st.registered.Load())
			}
		}
	}()
	// Job i is users[i], then everywhere[i-len(users)].
	join := func(i int) error {
		if i < len(users) {
			return c.joinRooms(ctx, &users[i], []int64{users[i].room}, known[i], minLife, st)
		}
		i -= len(users)
		return c.joinRooms(ctx, &everywhere[i], rooms, everywhereKnown[i], minLife, st)
	}
	for range cfg.setupWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= total || ctx.Err() != nil {
					return
				}
				if err := join(i); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := saveTokens(cfg.tokenFile, slices.Concat(users, everywhere), cache); err != nil {
		say("could not save the token cache %s: %v", cfg.tokenFile, err)
	}
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return nil, nil, errors.Join(errors.New("setup failed"), firstErr)
	}
	return &cast{users: users, everywhere: everywhere, rooms: rooms}, st, nil
}
