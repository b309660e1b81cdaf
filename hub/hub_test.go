package hub_test

import (
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/hub"
)

type sub struct {
	id   string
	echo bool
	mu   sync.Mutex
	got  []*hub.Delivery
}

func (s *sub) ConnectionID() string { return s.id }
func (s *sub) Echo() bool           { return s.echo }
func (s *sub) Deliver(d *hub.Delivery) {
	s.mu.Lock()
	s.got = append(s.got, d)
	s.mu.Unlock()
}
func (s *sub) deliveries() []*hub.Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*hub.Delivery(nil), s.got...)
}

func principal(t testing.TB, capability, clientID string, any bool) *auth.Principal {
	t.Helper()
	c, err := auth.ParseCapability(capability)
	if err != nil {
		t.Fatal(err)
	}
	return &auth.Principal{AppID: "app", KeyName: "app.k", Capability: c, ClientID: clientID, AnyClientID: any}
}

func code(err error) int {
	if err == nil {
		return 0
	}
	return herald.AsError(err).Code
}

func newHub() *hub.Hub {
	now := time.Unix(1700000000, 0)
	return hub.New(hub.Config{MaxMessageSize: 1000}, herald.ClockFunc(func() time.Time { return now }), nil, nil)
}

func TestAttach_CapabilityAndModes(t *testing.T) {
	h := newHub()
	p := principal(t, `{"chat:*":["subscribe"],"pub":["publish"],"all":["*"]}`, "alice", false)
	s := &sub{id: "c1"}
	if _, err := h.Attach(p, s, "other", 0); code(err) != herald.CodeCapabilityDenied {
		t.Fatalf("attach without any grant: %v", err)
	}
	if _, err := h.Attach(p, s, ":bad", 0); code(err) != herald.CodeInvalidChannelName {
		t.Fatalf("invalid name: %v", err)
	}
	a, err := h.Attach(p, s, "chat:1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if a.Modes() != hub.ModeSubscribe|hub.ModePresenceSubscribe {
		t.Errorf("subscribe-only modes %b", a.Modes())
	}
	// A publish-only grant still attaches (attach needs any op).
	b, err := h.Attach(p, s, "pub", 0)
	if err != nil || b.Modes() != hub.ModePublish {
		t.Fatalf("publish-only attach %v %b", err, b.Modes())
	}
	// Requested modes narrow the grant.
	c, _ := h.Attach(p, s, "all", hub.ModeSubscribe|hub.ModePublish)
	if c.Modes() != hub.ModeSubscribe|hub.ModePublish {
		t.Errorf("requested modes %b", c.Modes())
	}
	if err := c.Presence([]*herald.PresenceMessage{{Action: herald.PresenceEnter}}, hub.PublishOptions{ConnectionID: "c1"}); code(err) != herald.CodeModeNotRequested {
		t.Errorf("presence without PRESENCE mode: %v", err)
	}
}

func TestPublish_FanOutAndIdentity(t *testing.T) {
	h := newHub()
	alice := principal(t, `{"*":["*"]}`, "alice", false)
	anon := principal(t, `{"*":["*"]}`, "", false)
	basic := principal(t, `{"*":["*"]}`, "", true)
	subOnly := principal(t, `{"*":["subscribe"]}`, "", false)
	s1, s2, s3 := &sub{id: "c1", echo: true}, &sub{id: "c2"}, &sub{id: "c3"}
	a1, _ := h.Attach(alice, s1, "room", 0)
	a2, _ := h.Attach(subOnly, s2, "room", 0)
	a3, _ := h.Attach(anon, s3, "room", 0)
	a3.Detach()

	serials, err := a1.Publish([]*herald.Message{{Name: "n", Data: herald.Data{Kind: herald.DataString, Bytes: []byte("hi")}}}, hub.PublishOptions{ConnectionID: "c1", MsgSerial: 7})
	if err != nil || len(serials) != 1 {
		t.Fatal(err)
	}
	for _, s := range []*sub{s1, s2} {
		ds := s.deliveries()
		if len(ds) != 1 {
			t.Fatalf("%s got %d deliveries", s.id, len(ds))
		}
		m := ds[0].Messages[0]
		if m.ClientID != "alice" || m.ID != "c1:7:0" || m.ConnectionID != "c1" || m.Timestamp != 1700000000000 || m.Serial != serials[0] {
			t.Errorf("delivered %+v", m)
		}
	}
	if len(s3.deliveries()) != 0 {
		t.Error("detached subscriber received a message")
	}
	// echo=false: the publisher does not get its own message.
	s2msgs := len(s2.deliveries())
	a2b, _ := h.Attach(alice, &sub{id: "c4"}, "room", 0)
	if _, err := a2b.Publish([]*herald.Message{{Name: "x"}}, hub.PublishOptions{ConnectionID: "c4"}); err != nil {
		t.Fatal(err)
	}
	if len(s2.deliveries()) != s2msgs+1 {
		t.Error("subscriber missed the second message")
	}
	if _, err := a2.Publish([]*herald.Message{{Name: "x"}}, hub.PublishOptions{ConnectionID: "c2"}); code(err) != herald.CodeCapabilityDenied {
		t.Errorf("subscribe-only publish: %v", err)
	}
	cases := []struct {
		name string
		p    *auth.Principal
		cid  string
		want int
	}{
		{"identified, other clientId", alice, "bob", herald.CodeInvalidClientID},
		{"anonymous, explicit clientId", anon, "bob", herald.CodeInvalidClientID},
		{"basic/wildcard, explicit clientId", basic, "bob", 0},
		{"identified, same clientId", alice, "alice", 0},
	}
	for _, tc := range cases {
		_, err := h.Publish(tc.p, "room", []*herald.Message{{ClientID: tc.cid}})
		if code(err) != tc.want {
			t.Errorf("%s: %v, want %d", tc.name, err, tc.want)
		}
	}
	big := make([]byte, 1001)
	if _, err := h.Publish(basic, "room", []*herald.Message{{Data: herald.Data{Kind: herald.DataBinary, Bytes: big}}}); code(err) != herald.CodeMessageTooLarge {
		t.Errorf("oversized: %v", err)
	}
	if _, err := h.Publish(basic, "room", []*herald.Message{{Extras: map[string]any{"privileged": map[string]any{}}}}); err != nil {
		t.Errorf("privileged with * grant: %v", err)
	}
	pub := principal(t, `{"*":["publish"]}`, "", true)
	if _, err := h.Publish(pub, "room", []*herald.Message{{Extras: map[string]any{"privileged": map[string]any{}}}}); code(err) != herald.CodeCapabilityDenied {
		t.Errorf("privileged without privileged-headers: %v", err)
	}
}

func TestPublish_UserClaimAndRateLimit(t *testing.T) {
	h := newHub()
	p := principal(t, `{"*":["*"]}`, "alice", false)
	p.ChannelClaims, _ = auth.NewClaimSet(map[string]string{"chat:*": "moderator", "chat:1": "admin", "*": "guest"})
	p.RateLimits, _ = auth.NewRateLimitSet(map[string]float64{"limited": 1})
	s := &sub{id: "c1", echo: true}
	a, _ := h.Attach(p, s, "chat:1", 0)
	if _, err := a.Publish([]*herald.Message{{Extras: map[string]any{"userClaim": "forged"}}}, hub.PublishOptions{ConnectionID: "c1"}); err != nil {
		t.Fatal(err)
	}
	if got := s.deliveries()[0].Messages[0].Extras["userClaim"]; got != "admin" {
		t.Errorf("userClaim %v, want the most specific claim", got)
	}
	b, _ := h.Attach(p, s, "limited", 0)
	if _, err := b.Publish([]*herald.Message{{}}, hub.PublishOptions{ConnectionID: "c1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish([]*herald.Message{{}}, hub.PublishOptions{ConnectionID: "c1"}); code(err) != herald.CodePublishRate {
		t.Fatalf("second publish within a second at 1/s: %v", err)
	}
	if e := herald.AsError(func() error { _, err := b.Publish([]*herald.Message{{}}, hub.PublishOptions{}); return err }()); e.StatusCode != 429 {
		t.Errorf("status %d", e.StatusCode)
	}
}

func TestPresence_EnterLeaveAndSync(t *testing.T) {
	h := newHub()
	alice := principal(t, `{"*":["*"]}`, "alice", false)
	anon := principal(t, `{"*":["*"]}`, "", false)
	basic := principal(t, `{"*":["*"]}`, "", true)
	watcher := &sub{id: "w"}
	h.Attach(principal(t, `{"*":["subscribe"]}`, "", false), watcher, "room", 0)
	a, _ := h.Attach(alice, &sub{id: "c1"}, "room", 0)
	if err := a.Presence([]*herald.PresenceMessage{{Action: herald.PresenceEnter}}, hub.PublishOptions{ConnectionID: "c1"}); err != nil {
		t.Fatal(err)
	}
	n, _ := h.Attach(anon, &sub{id: "c2"}, "room", 0)
	if err := n.Presence([]*herald.PresenceMessage{{Action: herald.PresenceEnter}}, hub.PublishOptions{ConnectionID: "c2"}); code(err) != herald.CodePresenceNoID {
		t.Errorf("anonymous enter: %v", err)
	}
	b, _ := h.Attach(basic, &sub{id: "c3"}, "room", 0)
	if err := b.Presence([]*herald.PresenceMessage{{Action: herald.PresenceEnter, ClientID: "bot1"}, {Action: herald.PresenceEnter, ClientID: "bot2"}}, hub.PublishOptions{ConnectionID: "c3"}); err != nil {
		t.Errorf("enterClient with basic: %v", err)
	}
	if err := a.Presence([]*herald.PresenceMessage{{Action: herald.PresenceEnter, ClientID: "bob"}}, hub.PublishOptions{ConnectionID: "c1"}); code(err) != herald.CodeInvalidClientID {
		t.Errorf("enterClient by identified connection: %v", err)
	}
	noPresence := principal(t, `{"*":["subscribe","publish"]}`, "carol", false)
	c, _ := h.Attach(noPresence, &sub{id: "c4"}, "room", 0)
	if err := c.Presence([]*herald.PresenceMessage{{Action: herald.PresenceEnter}}, hub.PublishOptions{ConnectionID: "c4"}); code(err) != herald.CodeCapabilityDenied {
		t.Errorf("enter without presence capability: %v", err)
	}
	members := h.Members("app", "room")
	if len(members) != 3 || members[0].ClientID != "alice" || members[0].Action != herald.PresencePresent {
		t.Fatalf("members %+v", members)
	}
	b.Detach() // the connection's members leave
	members = h.Members("app", "room")
	if len(members) != 1 {
		t.Fatalf("after detach %+v", members)
	}
	var leaves int
	for _, d := range watcher.deliveries() {
		for _, pm := range d.Presence {
			if pm.Action == herald.PresenceLeave {
				leaves++
			}
		}
	}
	if leaves != 2 {
		t.Errorf("watcher saw %d leaves, want 2", leaves)
	}
	occ, ok := h.Occupancy("app", "room")
	if !ok || occ.PresenceMembers != 1 || occ.Connections != 4 {
		t.Errorf("occupancy %+v", occ)
	}
}

func TestReauth_DowngradeAndUpgrade(t *testing.T) {
	h := newHub()
	p := principal(t, `{"*":["*"]}`, "alice", false)
	a, _ := h.Attach(p, &sub{id: "c1"}, "room", 0)
	if !a.Update(principal(t, `{"room":["subscribe"]}`, "alice", false)) {
		t.Fatal("still allowed on room")
	}
	if _, err := a.Publish([]*herald.Message{{}}, hub.PublishOptions{ConnectionID: "c1"}); code(err) != herald.CodeCapabilityDenied {
		t.Errorf("publish after losing publish: %v", err)
	}
	if a.Update(principal(t, `{"other":["*"]}`, "alice", false)) {
		t.Error("a channel that is no longer allowed must report false")
	}
}

func BenchmarkFanout1000(b *testing.B) {
	h := newHub()
	p := principal(b, `{"*":["*"]}`, "", true)
	for i := 0; i < 1000; i++ {
		h.Attach(p, &nopSub{id: "s"}, "room", 0)
	}
	pub, _ := h.Attach(p, &nopSub{id: "pub"}, "room", 0)
	msg := []*herald.Message{{Name: "n", Data: herald.Data{Kind: herald.DataString, Bytes: make([]byte, 100)}}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		msg[0].ID, msg[0].Serial, msg[0].Timestamp = "", "", 0
		if _, err := pub.Publish(msg, hub.PublishOptions{ConnectionID: "pub"}); err != nil {
			b.Fatal(err)
		}
	}
}

type nopSub struct{ id string }

func (s *nopSub) ConnectionID() string    { return s.id }
func (s *nopSub) Echo() bool              { return true }
func (s *nopSub) Deliver(d *hub.Delivery) {}
