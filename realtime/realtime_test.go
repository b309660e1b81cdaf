package realtime_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/hub"
	"github.com/heraldrt/herald/protocol"
	"github.com/heraldrt/herald/realtime"
	"github.com/heraldrt/herald/sqlitestore"
)

type env struct {
	srv  *httptest.Server
	rt   *realtime.Handler
	a    *auth.Authenticator
	keys *auth.KeyCache
	root *herald.Key
}

func newEnv(t *testing.T, cfg realtime.Config) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(t.TempDir(), "h.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Now()
	e := &env{root: &herald.Key{AppID: "app1", ID: "root", Secret: "rootsecret", Capability: herald.DefaultCapability, Created: now, Modified: now}}
	app := &herald.App{ID: "app1", Status: herald.AppEnabled, Created: now, Modified: now}
	if err := db.Provision(ctx, &herald.Provisioning{App: app, Keys: []*herald.Key{e.root}}); err != nil {
		t.Fatal(err)
	}
	e.keys = auth.NewKeyCache(db, auth.KeyCacheConfig{})
	if err := e.keys.Load(ctx); err != nil {
		t.Fatal(err)
	}
	e.a = auth.New(auth.Config{AllowInsecureBasic: true}, e.keys, db, nil)
	h := hub.New(hub.Config{}, nil, nil, nil)
	e.rt = realtime.New(cfg, realtime.Deps{Auth: e.a, Hub: h})
	e.srv = httptest.NewServer(e.rt)
	t.Cleanup(func() { e.rt.Close(context.Background()); e.srv.Close() })
	return e
}

func (e *env) token(t *testing.T, p auth.TokenParams) string {
	t.Helper()
	ent, err := e.keys.Lookup(context.Background(), e.root.KeyName())
	if err != nil {
		t.Fatal(err)
	}
	td, err := e.a.Issue(context.Background(), ent, p, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return td.Token
}

type client struct {
	t      *testing.T
	ws     *websocket.Conn
	format protocol.Format
}

func (e *env) dial(t *testing.T, q url.Values) *client {
	t.Helper()
	if q.Get("format") == "" {
		q.Set("format", "json")
	}
	u := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/?" + q.Encode()
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	f, _ := protocol.ParseFormat(q.Get("format"))
	return &client{t: t, ws: ws, format: f}
}

func (c *client) send(pm *protocol.ProtocolMessage) {
	c.t.Helper()
	b, err := protocol.Encode(c.format, pm)
	if err != nil {
		c.t.Fatal(err)
	}
	mt := websocket.TextMessage
	if c.format == protocol.Msgpack {
		mt = websocket.BinaryMessage
	}
	if err := c.ws.WriteMessage(mt, b); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next frame that is not a HEARTBEAT.
func (c *client) next() *protocol.ProtocolMessage {
	c.t.Helper()
	for {
		c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		pm, err := protocol.Decode(c.format, b)
		if err != nil {
			c.t.Fatal(err)
		}
		if pm.Action != protocol.ActionHeartbeat || pm.ID != "" {
			return pm
		}
	}
}

func (c *client) expect(a protocol.Action) *protocol.ProtocolMessage {
	c.t.Helper()
	pm := c.next()
	if pm.Action != a {
		c.t.Fatalf("got %s (%+v, err %v), want %s", pm.Action, pm, pm.Error, a)
	}
	return pm
}

func q(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func TestConnect_Credentials(t *testing.T) {
	e := newEnv(t, realtime.Config{})
	for _, format := range []string{"json", "msgpack"} {
		t.Run(format, func(t *testing.T) {
			c := e.dial(t, q("key", e.root.KeyString(), "format", format, "clientId", "alice"))
			pm := c.expect(protocol.ActionConnected)
			if pm.ConnectionID == "" || pm.ConnectionDetails == nil || pm.ConnectionDetails.ClientID != "alice" ||
				!strings.HasPrefix(pm.ConnectionDetails.ConnectionKey, pm.ConnectionID+"!") || pm.ConnectionDetails.MaxMessageSize != 65536 {
				t.Fatalf("CONNECTED %+v %+v", pm, pm.ConnectionDetails)
			}
			bad := e.dial(t, q("key", e.root.KeyName()+":wrong", "format", format))
			if pm := bad.expect(protocol.ActionError); pm.Error.Code != 40101 || pm.Channel != "" {
				t.Fatalf("bad key: %+v", pm.Error)
			}
			wild := e.dial(t, q("access_token", e.token(t, auth.TokenParams{ClientID: "*", HasClientID: true}), "format", format))
			if pm := wild.expect(protocol.ActionConnected); pm.ConnectionDetails.ClientID != "*" {
				t.Fatalf("wildcard token clientId %q", pm.ConnectionDetails.ClientID)
			}
			anon := e.dial(t, q("accessToken", e.token(t, auth.TokenParams{}), "format", format))
			if pm := anon.expect(protocol.ActionConnected); pm.ConnectionDetails.ClientID != "" {
				t.Fatalf("anonymous clientId %q", pm.ConnectionDetails.ClientID)
			}
			mismatch := e.dial(t, q("access_token", e.token(t, auth.TokenParams{ClientID: "alice", HasClientID: true}), "clientId", "bob", "format", format))
			if pm := mismatch.expect(protocol.ActionError); pm.Error.Code != 40102 {
				t.Fatalf("mismatch: %+v", pm.Error)
			}
		})
	}
}

func TestHeartbeatAndAttach(t *testing.T) {
	e := newEnv(t, realtime.Config{})
	tok := e.token(t, auth.TokenParams{Capability: `{"chat:*":["subscribe","publish"]}`, ClientID: "alice", HasClientID: true})
	c := e.dial(t, q("access_token", tok))
	c.expect(protocol.ActionConnected)
	c.send(&protocol.ProtocolMessage{Action: protocol.ActionHeartbeat, ID: "ping1"})
	if pm := c.expect(protocol.ActionHeartbeat); pm.ID != "ping1" {
		t.Fatalf("ping id %q", pm.ID)
	}
	c.send(&protocol.ProtocolMessage{Action: protocol.ActionAttach, Channel: "other"})
	if pm := c.expect(protocol.ActionError); pm.Channel != "other" || pm.Error.Code != 40160 || !strings.Contains(pm.Error.Message, "other") {
		t.Fatalf("denied attach %+v %+v", pm, pm.Error)
	}
	c.send(&protocol.ProtocolMessage{Action: protocol.ActionAttach, Channel: "chat:1"})
	att := c.expect(protocol.ActionAttached)
	want := protocol.Flag(hub.ModePublish | hub.ModeSubscribe | hub.ModePresenceSubscribe)
	if att.Flags != want {
		t.Fatalf("flags %b want %b", att.Flags, want)
	}
	c.send(&protocol.ProtocolMessage{Action: protocol.ActionMessage, Channel: "chat:1", MsgSerial: 0,
		Messages: []*herald.Message{{Name: "n", Data: herald.Data{Kind: herald.DataString, Bytes: []byte("x")}}}})
	// Own message comes back (echo default true) and the ACK, in either order.
	var ack, msg *protocol.ProtocolMessage
	for ack == nil || msg == nil {
		pm := c.next()
		switch pm.Action {
		case protocol.ActionAck:
			ack = pm
		case protocol.ActionMessage:
			msg = pm
		default:
			t.Fatalf("unexpected %s", pm.Action)
		}
	}
	if ack.MsgSerial != 0 || ack.Count != 1 || len(ack.Res) != 1 || len(ack.Res[0].Serials) != 1 {
		t.Fatalf("ack %+v", ack)
	}
	if m := msg.Messages[0]; m.ClientID != "alice" || msg.ConnectionID == "" {
		t.Fatalf("message %+v / %+v", msg, m)
	}
	c.send(&protocol.ProtocolMessage{Action: protocol.ActionPresence, Channel: "chat:1", MsgSerial: 1,
		Presence: []*herald.PresenceMessage{{Action: herald.PresenceEnter}}})
	if pm := c.expect(protocol.ActionNack); pm.MsgSerial != 1 || pm.Error.Code != 40160 {
		t.Fatalf("presence without capability: %+v", pm.Error)
	}
	c.send(&protocol.ProtocolMessage{Action: protocol.ActionClose})
	c.expect(protocol.ActionClosed)
}

func TestTokenExpiry_AuthThenDisconnected(t *testing.T) {
	e := newEnv(t, realtime.Config{AuthLeadTime: 300 * time.Millisecond})
	tok := e.token(t, auth.TokenParams{TTL: 600 * time.Millisecond})
	c := e.dial(t, q("access_token", tok))
	c.expect(protocol.ActionConnected)
	c.expect(protocol.ActionAuth)
	pm := c.expect(protocol.ActionDisconnected)
	if pm.Error == nil || pm.Error.Code != 40142 || pm.Error.StatusCode != 401 {
		t.Fatalf("expiry: %+v", pm.Error)
	}
	// A token shorter than the lead time gets no AUTH, only the expiry.
	short := e.dial(t, q("access_token", e.token(t, auth.TokenParams{TTL: 200 * time.Millisecond})))
	short.expect(protocol.ActionConnected)
	pm = short.expect(protocol.ActionDisconnected)
	if pm.Error == nil || pm.Error.Code != 40142 || pm.Error.StatusCode != 401 {
		t.Fatalf("expiry: %+v", pm.Error)
	}
}

func TestReauth(t *testing.T) {
	e := newEnv(t, realtime.Config{})
	c := e.dial(t, q("access_token", e.token(t, auth.TokenParams{ClientID: "alice", HasClientID: true, Capability: `{"a":["*"],"b":["*"]}`})))
	first := c.expect(protocol.ActionConnected)
	for _, ch := range []string{"a", "b"} {
		c.send(&protocol.ProtocolMessage{Action: protocol.ActionAttach, Channel: ch})
		c.expect(protocol.ActionAttached)
	}
	c.send(&protocol.ProtocolMessage{Action: protocol.ActionAuth, Auth: &protocol.AuthDetails{
		AccessToken: e.token(t, auth.TokenParams{ClientID: "alice", HasClientID: true, Capability: `{"a":["subscribe"]}`})}})
	again := c.expect(protocol.ActionConnected)
	if again.ConnectionID != first.ConnectionID {
		t.Fatalf("re-auth changed the connection id")
	}
	if pm := c.expect(protocol.ActionError); pm.Channel != "b" || pm.Error.Code != 40160 {
		t.Fatalf("lost channel: %+v", pm)
	}
	c.send(&protocol.ProtocolMessage{Action: protocol.ActionMessage, Channel: "a", MsgSerial: 0, Messages: []*herald.Message{{Name: "x"}}})
	if pm := c.expect(protocol.ActionNack); pm.Error.Code != 40160 {
		t.Fatalf("publish after downgrade: %+v", pm.Error)
	}
	c.send(&protocol.ProtocolMessage{Action: protocol.ActionAuth, Auth: &protocol.AuthDetails{
		AccessToken: e.token(t, auth.TokenParams{ClientID: "mallory", HasClientID: true})}})
	if pm := c.expect(protocol.ActionError); pm.Channel != "" || pm.Error.Code != 40102 {
		t.Fatalf("clientId change: %+v", pm.Error)
	}
}

func TestResume_ReplaysHeldMessages(t *testing.T) {
	e := newEnv(t, realtime.Config{})
	c := e.dial(t, q("key", e.root.KeyString(), "clientId", "sub"))
	conn := c.expect(protocol.ActionConnected)
	c.send(&protocol.ProtocolMessage{Action: protocol.ActionAttach, Channel: "room"})
	c.expect(protocol.ActionAttached)
	c.ws.Close() // drop the socket without CLOSE
	time.Sleep(50 * time.Millisecond)
	pub := e.dial(t, q("key", e.root.KeyString(), "clientId", "pub"))
	pub.expect(protocol.ActionConnected)
	for i := 0; i < 3; i++ {
		pub.send(&protocol.ProtocolMessage{Action: protocol.ActionMessage, Channel: "room", MsgSerial: int64(i), Messages: []*herald.Message{{Name: "m" + string(rune('0'+i))}}})
		pub.expect(protocol.ActionAck)
	}
	r := e.dial(t, q("key", e.root.KeyString(), "clientId", "sub", "resume", conn.ConnectionDetails.ConnectionKey))
	got := r.expect(protocol.ActionConnected)
	if got.ConnectionID != conn.ConnectionID || got.Error != nil {
		t.Fatalf("resume: %+v %v", got, got.Error)
	}
	// The client re-attaches with the channelSerial it last saw (none
	// here) and gets what it missed, after an ATTACHED that says RESUMED.
	r.send(&protocol.ProtocolMessage{Action: protocol.ActionAttach, Channel: "room"})
	if pm := r.expect(protocol.ActionAttached); pm.Flags&protocol.FlagResumed == 0 {
		t.Errorf("re-attach after resume must say RESUMED")
	}
	var serials []string
	for i := 0; i < 3; i++ {
		pm := r.expect(protocol.ActionMessage)
		if pm.Messages[0].Name != "m"+string(rune('0'+i)) {
			t.Fatalf("replayed %d: %+v", i, pm.Messages[0])
		}
		serials = append(serials, pm.ChannelSerial)
	}
	// Re-attaching from the first serial replays only the later two.
	r.send(&protocol.ProtocolMessage{Action: protocol.ActionAttach, Channel: "room", ChannelSerial: serials[0]})
	r.expect(protocol.ActionAttached)
	for i := 1; i < 3; i++ {
		if pm := r.expect(protocol.ActionMessage); pm.ChannelSerial != serials[i] {
			t.Fatalf("replay from serial: got %s want %s", pm.ChannelSerial, serials[i])
		}
	}
	// An unknown connectionKey gets a new connection with an error.
	f := e.dial(t, q("key", e.root.KeyString(), "resume", "nope!x"))
	if pm := f.expect(protocol.ActionConnected); pm.ConnectionID == conn.ConnectionID || pm.Error == nil || pm.Error.Code != 80008 {
		t.Fatalf("failed resume %+v %v", pm, pm.Error)
	}
}

func TestConnectionStateTTL_MembersLeave(t *testing.T) {
	e := newEnv(t, realtime.Config{ConnectionStateTTL: 200 * time.Millisecond})
	w := e.dial(t, q("key", e.root.KeyString(), "clientId", "watcher"))
	w.expect(protocol.ActionConnected)
	w.send(&protocol.ProtocolMessage{Action: protocol.ActionAttach, Channel: "room"})
	w.expect(protocol.ActionAttached)
	c := e.dial(t, q("key", e.root.KeyString(), "clientId", "alice"))
	c.expect(protocol.ActionConnected)
	c.send(&protocol.ProtocolMessage{Action: protocol.ActionAttach, Channel: "room"})
	c.expect(protocol.ActionAttached)
	c.send(&protocol.ProtocolMessage{Action: protocol.ActionPresence, Channel: "room", Presence: []*herald.PresenceMessage{{Action: herald.PresenceEnter}}})
	if pm := w.expect(protocol.ActionPresence); pm.Presence[0].Action != herald.PresenceEnter || pm.Presence[0].ClientID != "alice" {
		t.Fatalf("enter %+v", pm.Presence[0])
	}
	c.ws.Close()
	if pm := w.expect(protocol.ActionPresence); pm.Presence[0].Action != herald.PresenceLeave {
		t.Fatalf("leave after state TTL %+v", pm.Presence[0])
	}
}

func TestRevocation_LiveConnections(t *testing.T) {
	e := newEnv(t, realtime.Config{})
	ctx := context.Background()
	e.root.RevocableTokens = true
	// (the env's root key becomes revocable for this test)
	e.keys.Invalidate(ctx)
	ent, _ := e.keys.Lookup(ctx, e.root.KeyName())
	ent.Key.RevocableTokens = true
	tok := func(cid string) string {
		td, err := e.a.Issue(ctx, ent, auth.TokenParams{ClientID: cid, HasClientID: true}, time.Now().Add(-time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return td.Token
	}
	alice := e.dial(t, q("access_token", tok("alice")))
	alice.expect(protocol.ActionConnected)
	bob := e.dial(t, q("access_token", tok("bob")))
	bob.expect(protocol.ActionConnected)
	now := time.Now()
	rule := &herald.Revocation{AppID: "app1", KeyName: e.root.KeyName(), Type: herald.TargetClientID, Value: "alice",
		IssuedBefore: now, AppliesAt: now, Expires: now.Add(time.Hour)}
	e.a.Revocations().Add(rule)
	e.rt.ApplyRevocations("app1", []*herald.Revocation{rule})
	pm := alice.expect(protocol.ActionDisconnected)
	if pm.Error == nil || pm.Error.Code != 40141 || pm.Error.StatusCode != 401 {
		t.Fatalf("alice: %+v", pm.Error)
	}
	// bob is untouched; with a reauth margin he first gets an AUTH hint.
	rb := &herald.Revocation{AppID: "app1", KeyName: e.root.KeyName(), Type: herald.TargetClientID, Value: "bob",
		IssuedBefore: now, AppliesAt: time.Now().Add(300 * time.Millisecond), Expires: now.Add(time.Hour)}
	e.a.Revocations().Add(rb)
	e.rt.ApplyRevocations("app1", []*herald.Revocation{rb})
	bob.expect(protocol.ActionAuth)
	if pm := bob.expect(protocol.ActionDisconnected); pm.Error.Code != 40141 {
		t.Fatalf("bob after the margin: %+v", pm.Error)
	}
}

// A connection that opens inside a rule's reauth margin still gets the hint
// and the enforcement at appliesAt.
func TestRevocation_ConnectDuringMargin(t *testing.T) {
	e := newEnv(t, realtime.Config{})
	ctx := context.Background()
	ent, _ := e.keys.Lookup(ctx, e.root.KeyName())
	ent.Key.RevocableTokens = true
	td, err := e.a.Issue(ctx, ent, auth.TokenParams{ClientID: "x", HasClientID: true}, time.Now().Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	e.a.Revocations().Add(&herald.Revocation{AppID: "app1", KeyName: e.root.KeyName(), Type: herald.TargetClientID, Value: "x",
		IssuedBefore: now, AppliesAt: now.Add(400 * time.Millisecond), Expires: now.Add(time.Hour)})
	c := e.dial(t, q("access_token", td.Token))
	c.expect(protocol.ActionConnected)
	c.expect(protocol.ActionAuth)
	if pm := c.expect(protocol.ActionDisconnected); pm.Error.Code != 40141 {
		t.Fatalf("after the margin: %+v", pm.Error)
	}
}

// A WebSocket ping is answered with a pong even when nothing else is being
// written (the pong is the only frame its writer sends).
func TestWebSocketPingGetsPong(t *testing.T) {
	e := newEnv(t, realtime.Config{})
	c := e.dial(t, q("key", e.root.KeyString()))
	c.expect(protocol.ActionConnected)
	pong := make(chan string, 1)
	c.ws.SetPongHandler(func(s string) error { pong <- s; return nil })
	if err := c.ws.WriteControl(websocket.PingMessage, []byte("p1"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.ws.SetReadDeadline(time.Now().Add(3 * time.Second))
		c.ws.ReadMessage() // runs the pong handler; no data frame comes
	}()
	select {
	case s := <-pong:
		if s != "p1" {
			t.Fatalf("pong %q", s)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no pong within 3 s")
	}
}

// permessage-deflate is declined unless configured; with it on, messages
// still arrive intact (deflated by gorilla, still batched).
func TestCompression_OffByDefault(t *testing.T) {
	for _, on := range []bool{false, true} {
		e := newEnv(t, realtime.Config{Compression: on})
		d := websocket.Dialer{EnableCompression: true}
		u := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/?" + q("key", e.root.KeyString(), "format", "json").Encode()
		ws, resp, err := d.Dial(u, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.Close() })
		if got := strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate"); got != on {
			t.Fatalf("compression configured %v, negotiated %v", on, got)
		}
		c := &client{t: t, ws: ws, format: protocol.JSON}
		c.expect(protocol.ActionConnected)
		c.send(&protocol.ProtocolMessage{Action: protocol.ActionAttach, Channel: "z"})
		c.expect(protocol.ActionAttached)
		data := strings.Repeat("compressible ", 1000)
		for i := range 3 {
			c.send(&protocol.ProtocolMessage{Action: protocol.ActionMessage, Channel: "z", MsgSerial: int64(i),
				Messages: []*herald.Message{{Name: "n", Data: herald.Data{Kind: herald.DataString, Bytes: []byte(data)}}}})
		}
		for got := 0; got < 3; {
			pm := c.next()
			if pm.Action != protocol.ActionMessage {
				continue
			}
			if string(pm.Messages[0].Data.Bytes) != data {
				t.Fatalf("compression %v: message %d corrupted", on, got)
			}
			got++
		}
	}
}
