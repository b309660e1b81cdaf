package server

import (
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/sqlitestore"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func openTestStore(t *testing.T) *sqlitestore.DB {
	t.Helper()
	db, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: filepath.Join(t.TempDir(), "h.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func audit(t *testing.T, db herald.AuditStore) []*herald.AuditEntry {
	t.Helper()
	es, err := db.Audit(context.Background(), herald.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestAuditRecorder_Counts checks the per-minute counting: one entry per
// minute, app, key, code and address, written only once the minute is over
// (or at close), with the port stripped from addresses.
func TestAuditRecorder_Counts(t *testing.T) {
	db := openTestStore(t)
	clock := &testClock{t: time.Date(2026, 5, 1, 10, 0, 30, 0, time.UTC)}
	r := newAuditRecorder(db, clock, nil)
	for range 3 {
		r.TokenIssued("app1", "app1.k")
	}
	r.TokenIssued("app1", "app1.j")
	for range 5 {
		r.AuthFailed(auth.Failure{AppID: "app1", KeyName: "app1.k", Method: "basic", Code: 40101, RemoteAddr: "192.0.2.9:4000"})
	}
	r.AuthFailed(auth.Failure{AppID: "app1", KeyName: "app1.k", Method: "basic", Code: 40101, RemoteAddr: "192.0.2.9:4001"})
	r.AuthFailed(auth.Failure{KeyName: "x.y", Method: "basic", Code: 40400, RemoteAddr: "[2001:db8::1]:443"})

	r.flush(clock.Now(), false)
	if n := len(audit(t, db)); n != 0 {
		t.Fatalf("%d entries written before their minute ended", n)
	}
	clock.Add(30 * time.Second) // 10:01:00
	r.TokenIssued("app1", "app1.k")
	r.flush(clock.Now(), false)
	got := audit(t, db)
	counts := map[string]int{}
	for _, e := range got {
		if !e.Time.Equal(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)) {
			t.Errorf("entry time %v, want the minute's start", e.Time)
		}
		counts[string(e.Kind)+" "+e.AppID+" "+e.Target+" "+e.Address] += e.Count
	}
	want := map[string]int{
		"token.issue app1 app1.k ":           3,
		"token.issue app1 app1.j ":           1,
		"auth.failure app1 app1.k 192.0.2.9": 6, // both ports: one client
		"auth.failure  x.y 2001:db8::1":      1,
	}
	if len(got) != len(want) {
		t.Errorf("%d entries, want %d: %v", len(got), len(want), counts)
	}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%q counted %d, want %d (all: %v)", k, counts[k], n, counts)
		}
	}
	r.close()
	if n := len(audit(t, db)); n != len(want)+1 {
		t.Errorf("close wrote %d entries in all, want %d (the current minute too)", n, len(want)+1)
	}
}

// TestAuditRecorder_Bounded checks that a flood of distinct failures keeps
// memory bounded: past the limit, one overflow counter takes the rest.
func TestAuditRecorder_Bounded(t *testing.T) {
	db := openTestStore(t)
	clock := &testClock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	r := newAuditRecorder(db, clock, nil)
	for i := range maxAuditCounters + 500 {
		r.AuthFailed(auth.Failure{KeyName: "k" + strconv.Itoa(i), Code: 40400, Method: "basic"})
	}
	if n := len(r.counts); n > maxAuditCounters+1 {
		t.Fatalf("%d counters held, want at most %d", n, maxAuditCounters+1)
	}
	r.close()
	total := 0
	for _, e := range audit(t, db) {
		total += e.Count
	}
	if total != maxAuditCounters+500 {
		t.Errorf("counted %d failures, want %d", total, maxAuditCounters+500)
	}
}

// TestJanitor_Sweep checks that a sweep prunes the audit log and ends key
// rotations whose overlap is over (reloading the key cache).
func TestJanitor_Sweep(t *testing.T) {
	ctx := context.Background()
	db := openTestStore(t)
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	k := &herald.Key{AppID: "app1", ID: "k", Secret: "new", PreviousSecret: "old", PreviousExpires: now.Add(time.Minute),
		Capability: herald.DefaultCapability}
	if err := db.Provision(ctx, &herald.Provisioning{App: &herald.App{ID: "app1", Status: herald.AppEnabled}, Keys: []*herald.Key{k}}); err != nil {
		t.Fatal(err)
	}
	var entries []*herald.AuditEntry
	for i := range 5 {
		entries = append(entries, &herald.AuditEntry{Time: now.Add(-time.Duration(i) * 24 * time.Hour), AppID: "app1", Kind: herald.AuditKeyUpdate})
	}
	if err := db.AppendAudit(ctx, entries...); err != nil {
		t.Fatal(err)
	}
	keys := auth.NewKeyCache(db, auth.KeyCacheConfig{})
	if err := keys.Load(ctx); err != nil {
		t.Fatal(err)
	}
	a := auth.New(auth.Config{}, keys, db, herald.ClockFunc(func() time.Time { return now }))
	j := &janitor{store: db, auth: a, clock: herald.ClockFunc(func() time.Time { return now }), logger: discard(),
		audit: AuditConfig{Retention: 48 * time.Hour, MaxEntries: 2}}

	j.sweep(ctx, now)
	if got := audit(t, db); len(got) != 2 {
		t.Errorf("%d audit entries after the sweep, want 2 (row cap)", len(got))
	}
	if got, _ := db.Key(ctx, "app1.k"); got.PreviousSecret != "old" {
		t.Error("a rotation inside its overlap was ended")
	}
	j.sweep(ctx, now.Add(time.Minute))
	if got, _ := db.Key(ctx, "app1.k"); got.PreviousSecret != "" || !got.PreviousExpires.IsZero() {
		t.Errorf("rotation not ended after its overlap: %+v", got)
	}
	e, err := keys.Lookup(ctx, "app1.k")
	if err != nil || e.Key.PreviousSecret != "" {
		t.Errorf("key cache not reloaded: %+v %v", e, err)
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
