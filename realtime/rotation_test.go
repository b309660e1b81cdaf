package realtime_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/hub"
	"github.com/heraldrt/herald/protocol"
	"github.com/heraldrt/herald/realtime"
	"github.com/heraldrt/herald/sqlitestore"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// TestRecheckKeys_Rotation checks that rotating a key does not close Basic
// connections that use the old secret before the overlap ends, and that the
// first key recheck after it does (40131).
func TestRecheckKeys_Rotation(t *testing.T) {
	ctx := context.Background()
	db, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(t.TempDir(), "h.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := &testClock{t: time.Now().Truncate(time.Millisecond)}
	root := &herald.Key{AppID: "app1", ID: "root", Secret: "rootsecret", Capability: herald.DefaultCapability}
	if err := db.Provision(ctx, &herald.Provisioning{App: &herald.App{ID: "app1", Status: herald.AppEnabled},
		Keys: []*herald.Key{root}}); err != nil {
		t.Fatal(err)
	}
	keys := auth.NewKeyCache(db, auth.KeyCacheConfig{})
	if err := keys.Load(ctx); err != nil {
		t.Fatal(err)
	}
	a := auth.New(auth.Config{AllowInsecureBasic: true}, keys, db, clock)
	rt := realtime.New(realtime.Config{}, realtime.Deps{Auth: a, Hub: hub.New(hub.Config{}, clock, nil, nil), Clock: clock})
	e := &env{srv: httptest.NewServer(rt), rt: rt, a: a, keys: keys, root: root}
	t.Cleanup(func() { rt.Close(context.Background()); e.srv.Close() })

	before := e.dial(t, q("key", root.KeyString()))
	before.expect(protocol.ActionConnected)

	old := *root
	rotated := *root
	auth.Rotate(&rotated, clock.Now(), time.Minute)
	if err := db.UpdateKey(ctx, &rotated); err != nil {
		t.Fatal(err)
	}
	if err := keys.Invalidate(ctx); err != nil {
		t.Fatal(err)
	}
	during := e.dial(t, q("key", old.KeyString()))
	during.expect(protocol.ActionConnected)
	fresh := e.dial(t, q("key", rotated.KeyString()))
	fresh.expect(protocol.ActionConnected)

	clock.Add(59 * time.Second)
	rt.RecheckKeys()
	if n := len(rt.Connections()); n != 3 {
		t.Fatalf("%d connections after a recheck inside the overlap, want 3 (none dropped early)", n)
	}

	clock.Add(time.Second)
	rt.RecheckKeys()
	for name, c := range map[string]*client{"connected before the rotation": before, "connected during the overlap": during} {
		if pm := c.expect(protocol.ActionError); pm.Error == nil || pm.Error.Code != herald.CodeKeyRevoked {
			t.Errorf("%s: %+v, want ERROR 40131", name, pm.Error)
		}
	}
	if n := len(rt.Connections()); n != 1 {
		t.Errorf("%d connections after the overlap, want 1 (the new secret's)", n)
	}
}
