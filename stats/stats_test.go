package stats_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/sqlitestore"
	"github.com/heraldrt/herald/stats"
)

func openStore(t *testing.T) *sqlitestore.DB {
	t.Helper()
	db, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: filepath.Join(t.TempDir(), "s.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, id := range []string{"a1", "a2"} {
		if err := db.CreateApp(context.Background(), &herald.App{ID: id, Status: herald.AppEnabled, Created: time.Now(), Modified: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func TestRecorder_FlushAccumulates(t *testing.T) {
	db := openStore(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := herald.ClockFunc(func() time.Time { return now })
	r := stats.New(stats.Config{}, db, clock)
	ctx := context.Background()
	r.Incr("a1", stats.APIRequestsSucceeded, 2)
	r.Incr("a1", stats.APIRequestsSucceeded, 3)
	r.Incr("a2", stats.APIRequestsFailed, 1)
	r.Incr("", stats.APIRequestsFailed, 1) // no app: ignored
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r.Incr("a1", stats.APIRequestsSucceeded, 1)
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	ivs, err := stats.Load(ctx, db, stats.Query{AppID: "a1", Unit: stats.UnitMinute})
	if err != nil || len(ivs) != 1 || ivs[0].Entries[stats.APIRequestsSucceeded] != 6 || stats.IntervalID(ivs[0].Start, "minute") != "2026-01-02:03:04" {
		t.Fatalf("got %+v %v", ivs, err)
	}
}

// Counts of a deleted app can never be written; they must not block the
// counts of other apps (found by the SDK suite).
func TestRecorder_DeletedAppDoesNotBlock(t *testing.T) {
	db := openStore(t)
	r := stats.New(stats.Config{}, db, nil)
	ctx := context.Background()
	r.Incr("a1", stats.APIRequestsSucceeded, 1)
	r.Incr("a2", stats.APIRequestsSucceeded, 1)
	if err := db.DeleteApp(ctx, "a1"); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatalf("flush with a deleted app: %v", err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatalf("second flush: %v", err)
	}
	ivs, _ := stats.Load(ctx, db, stats.Query{AppID: "a2"})
	if len(ivs) != 1 {
		t.Fatalf("a2 stats lost: %+v", ivs)
	}
	r.Incr("a2", stats.APIRequestsSucceeded, 1)
	r.Forget("a2")
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ivs, _ = stats.Load(ctx, db, stats.Query{AppID: "a2"})
	if ivs[0].Entries[stats.APIRequestsSucceeded] != 1 {
		t.Errorf("Forget must drop pending counts: %+v", ivs)
	}
}

func TestTruncateAndIDs(t *testing.T) {
	tm := time.Date(2026, 11, 28, 18, 42, 13, 0, time.UTC)
	for unit, want := range map[string]string{"minute": "2026-11-28:18:42", "hour": "2026-11-28:18", "day": "2026-11-28", "month": "2026-11"} {
		if got := stats.IntervalID(stats.Truncate(tm, unit), unit); got != want {
			t.Errorf("%s: %q want %q", unit, got, want)
		}
	}
}
