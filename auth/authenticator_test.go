package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/sqlitestore"
)

type fixture struct {
	path  string
	store *sqlitestore.DB
	cache *auth.KeyCache
	app   *herald.App
	key   *herald.Key // enabled, {"*":["*"]}
	rev   *herald.Key // revoked
	sub   *herald.Key // {"*":["subscribe"]}
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	db, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Now()
	f := &fixture{store: db, path: path}
	f.app = &herald.App{ID: "app1", Name: "a", Status: herald.AppEnabled, Created: now, Modified: now}
	mk := func(id, capa string, st herald.KeyStatus) *herald.Key {
		return &herald.Key{AppID: "app1", ID: id, Secret: auth.NewSecret(), Capability: capa, Status: st, Created: now, Modified: now}
	}
	f.key = mk("root", herald.DefaultCapability, herald.KeyEnabled)
	f.rev = mk("gone", herald.DefaultCapability, herald.KeyRevoked)
	f.sub = mk("subs", `{"*":["subscribe"]}`, herald.KeyEnabled)
	if err := db.Provision(ctx, &herald.Provisioning{App: f.app, Keys: []*herald.Key{f.key, f.rev, f.sub}}); err != nil {
		t.Fatal(err)
	}
	f.cache = auth.NewKeyCache(db, auth.KeyCacheConfig{PollInterval: 20 * time.Millisecond})
	if err := f.cache.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.cache.Close)
	return f
}

func code(err error) int {
	if err == nil {
		return 0
	}
	return herald.AsError(err).Code
}

func TestAuthenticate_Basic(t *testing.T) {
	f := newFixture(t)
	a := auth.New(auth.Config{}, f.cache, f.store, nil)
	ctx := context.Background()
	cases := []struct {
		name   string
		c      auth.Credentials
		code   int
		status int
	}{
		{"ok over TLS", auth.Credentials{Key: f.key.KeyString(), TLS: true}, 0, 0},
		{"non-TLS refused", auth.Credentials{Key: f.key.KeyString()}, 40103, 401},
		{"wrong secret", auth.Credentials{Key: f.key.KeyName() + ":nope", TLS: true}, 40101, 401},
		{"unknown key in real app", auth.Credentials{Key: "app1.nokey:secret", TLS: true}, 40400, 401},
		{"unknown app", auth.Credentials{Key: "noapp.nokey:secret", TLS: true}, 40400, 401},
		{"revoked key", auth.Credentials{Key: f.rev.KeyString(), TLS: true}, 40131, 401},
		{"revoked key, wrong secret: secret checked first", auth.Credentials{Key: f.rev.KeyName() + ":nope", TLS: true}, 40101, 401},
		{"malformed", auth.Credentials{Key: "garbage:x", TLS: true}, 40005, 400},
		{"no credentials", auth.Credentials{TLS: true}, 40101, 401},
		{"clientId '*' refused", auth.Credentials{Key: f.key.KeyString(), TLS: true, ClientID: "*", HasClientID: true}, 40012, 400},
		{"empty clientId refused", auth.Credentials{Key: f.key.KeyString(), TLS: true, ClientID: "", HasClientID: true}, 40012, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := a.Authenticate(ctx, tc.c)
			if tc.code == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if p.AppID != "app1" || p.KeyName != f.key.KeyName() || p.Method != auth.MethodBasic || !p.AnyClientID {
					t.Errorf("principal %+v", p)
				}
				return
			}
			e := herald.AsError(err)
			if err == nil || e.Code != tc.code || e.StatusCode != tc.status {
				t.Fatalf("err = %v, want %d/%d", err, tc.code, tc.status)
			}
		})
	}
}

func TestAuthenticate_InsecureAllowed(t *testing.T) {
	f := newFixture(t)
	a := auth.New(auth.Config{AllowInsecureBasic: true}, f.cache, f.store, nil)
	if _, err := a.Authenticate(context.Background(), auth.Credentials{Key: f.key.KeyString()}); err != nil {
		t.Fatal(err)
	}
}

func TestAuthenticate_ClientIDHeader(t *testing.T) {
	f := newFixture(t)
	a := auth.New(auth.Config{}, f.cache, f.store, nil)
	p, err := a.Authenticate(context.Background(), auth.Credentials{Key: f.key.KeyString(), TLS: true, ClientID: "bob", HasClientID: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.ClientID != "bob" || p.AnyClientID {
		t.Errorf("basic + clientId must identify as bob: %+v", p)
	}
}

func TestAuthenticate_DisabledApp(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.app.Status = herald.AppDisabled
	if err := f.store.UpdateApp(ctx, f.app); err != nil {
		t.Fatal(err)
	}
	if err := f.cache.Invalidate(ctx); err != nil {
		t.Fatal(err)
	}
	a := auth.New(auth.Config{}, f.cache, f.store, nil)
	_, err := a.Authenticate(ctx, auth.Credentials{Key: f.key.KeyString(), TLS: true})
	if code(err) != herald.CodeAppDisabled {
		t.Fatalf("err = %v, want 40120", err)
	}
}

func TestAuthenticate_CapabilityFromKey(t *testing.T) {
	f := newFixture(t)
	a := auth.New(auth.Config{}, f.cache, f.store, nil)
	p, err := a.Authenticate(context.Background(), auth.Credentials{Key: f.sub.KeyString(), TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.RequireAppWide(auth.OpStats); code(err) != herald.CodeCapabilityDenied {
		t.Errorf("subscribe-only key must not read stats: %v", err)
	}
	root, _ := a.Authenticate(context.Background(), auth.Credentials{Key: f.key.KeyString(), TLS: true})
	if err := root.RequireAppWide(auth.OpStats); err != nil {
		t.Errorf("root key must read stats: %v", err)
	}
}

// A write made by another process (another handle on the same file, as the
// CLI is) reaches the cache through the generation poll.
func TestKeyCache_SeesWritesFromOtherProcess(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	other, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: f.path})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	a := auth.New(auth.Config{}, f.cache, f.store, nil)
	cred := auth.Credentials{Key: f.key.KeyString(), TLS: true}
	if _, err := a.Authenticate(ctx, cred); err != nil {
		t.Fatal(err)
	}
	k := *f.key
	k.Status = herald.KeyRevoked
	if err := other.UpdateKey(ctx, &k); err != nil {
		t.Fatal(err)
	}
	// A new key created elsewhere becomes usable too (negative cache cleared).
	nk := &herald.Key{AppID: "app1", ID: "late", Secret: auth.NewSecret(), Capability: herald.DefaultCapability, Created: time.Now(), Modified: time.Now()}
	if _, err := a.Authenticate(ctx, auth.Credentials{Key: nk.KeyString(), TLS: true}); code(err) != herald.CodeNotFound {
		t.Fatalf("before creation: %v", err)
	}
	if err := other.CreateKey(ctx, nk); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, errOld := a.Authenticate(ctx, cred)
		_, errNew := a.Authenticate(ctx, auth.Credentials{Key: nk.KeyString(), TLS: true})
		if code(errOld) == herald.CodeKeyRevoked && errNew == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("cache did not pick up writes: old=%v new=%v", errOld, errNew)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKeyCache_LookupMissIsCached(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.cache.Lookup(ctx, "app1.none"); !errors.Is(err, herald.ErrNotFound) {
		t.Fatal(err)
	}
	e, err := f.cache.Lookup(ctx, f.key.KeyName())
	if err != nil || e.Key.Secret != f.key.Secret || e.Capability == nil {
		t.Fatalf("lookup: %v %+v", err, e)
	}
}
