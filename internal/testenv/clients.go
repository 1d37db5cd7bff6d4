package testenv

import (
	"context"
	"net"
	"net/http"
	"testing"

	"connectrpc.com/connect"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/gen/proto/chat/v1/chatv1connect"
)

// Protocol is one of the three wire protocols chatd serves on one port.
type Protocol struct {
	Name string
	Opts []connect.ClientOption
}

// Protocols lists Connect, gRPC and gRPC-Web, for tests that run each case
// over all three.
var Protocols = []Protocol{
	{Name: "connect"},
	{Name: "grpc", Opts: []connect.ClientOption{connect.WithGRPC()}},
	{Name: "grpcweb", Opts: []connect.ClientOption{connect.WithGRPCWeb()}},
}

// HTTPClient speaks HTTP/1.1 and cleartext HTTP/2, as gRPC needs.
func HTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Protocols = new(http.Protocols)
	t.Protocols.SetHTTP1(true)
	t.Protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: t}
}

// HTTPClientFrom is HTTPClient with its connections made from the loopback
// address from (such as 127.0.0.2), so that a test can play two client
// hosts on one machine: Linux answers all of 127.0.0.0/8.
func HTTPClientFrom(from string) *http.Client {
	c := HTTPClient()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c.Transport.(*http.Transport).DialContext = d.DialContext
	return c
}

// Client calls every service of one server over one protocol, with a bearer
// token when Token is set.
type Client struct {
	Auth     chatv1connect.AuthServiceClient
	Rooms    chatv1connect.RoomServiceClient
	Messages chatv1connect.MessageServiceClient
	Users    chatv1connect.UserServiceClient
	Friends  chatv1connect.FriendServiceClient
	Token    string
	// Header is added to every call.
	Header map[string]string
}

// NewClient builds a client of s over p.
func NewClient(s *Server, p Protocol) *Client {
	return NewClientAt(s.URL, HTTPClient(), p.Opts...)
}

// NewClientAt builds a client of the server at base (a proxy, say) over
// httpc, with the given protocol options.
func NewClientAt(base string, httpc *http.Client, protocol ...connect.ClientOption) *Client {
	c := &Client{}
	opts := append([]connect.ClientOption{connect.WithInterceptors(bearer{c})}, protocol...)
	c.Auth = chatv1connect.NewAuthServiceClient(httpc, base, opts...)
	c.Rooms = chatv1connect.NewRoomServiceClient(httpc, base, opts...)
	c.Messages = chatv1connect.NewMessageServiceClient(httpc, base, opts...)
	c.Users = chatv1connect.NewUserServiceClient(httpc, base, opts...)
	c.Friends = chatv1connect.NewFriendServiceClient(httpc, base, opts...)
	return c
}

func (c *Client) setHeaders(h http.Header) {
	if c.Token != "" {
		h.Set("Authorization", "Bearer "+c.Token)
	}
	for k, v := range c.Header {
		h.Set(k, v)
	}
}

// bearer adds the client's token and headers to every call.
type bearer struct{ c *Client }

func (b bearer) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		b.c.setHeaders(req.Header())
		return next(ctx, req)
	}
}

func (b bearer) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		b.c.setHeaders(conn.RequestHeader())
		return conn
	}
}

func (b bearer) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// Signup registers a user named name (email name@example.com, password
// "password-"+name), logs in and keeps the access token.
func (c *Client) Signup(tb testing.TB, name string) *chatv1.LoginResponse {
	tb.Helper()
	ctx := context.Background()
	_, err := c.Auth.Register(ctx, &chatv1.RegisterRequest{Username: name, Email: name + "@example.com", Password: "password-" + name})
	if err != nil {
		tb.Fatalf("register %s: %v", name, err)
	}
	res, err := c.Auth.Login(ctx, &chatv1.LoginRequest{Login: name, Password: "password-" + name})
	if err != nil {
		tb.Fatalf("login %s: %v", name, err)
	}
	c.Token = res.GetAccessToken()
	return res
}

// General is the id of the room every server creates first.
const General int64 = 1

// Join joins a room or fails the test.
func (c *Client) Join(tb testing.TB, roomID int64) {
	tb.Helper()
	if _, err := c.Rooms.JoinRoom(context.Background(), &chatv1.JoinRoomRequest{RoomId: roomID}); err != nil {
		tb.Fatalf("join room %d: %v", roomID, err)
	}
}

// Send sends a message or fails the test.
func (c *Client) Send(tb testing.TB, roomID int64, body, clientID string) *chatv1.Message {
	tb.Helper()
	res, err := c.Messages.SendMessage(context.Background(), &chatv1.SendMessageRequest{RoomId: roomID, Body: body, ClientMsgId: clientID})
	if err != nil {
		tb.Fatalf("send %q: %v", body, err)
	}
	return res.GetMessage()
}

// CodeOf is the Connect code of err, or 0 for nil.
func CodeOf(err error) connect.Code {
	if err == nil {
		return 0
	}
	return connect.CodeOf(err)
}
