package storetest

import (
	"testing"
	"time"

	"github.com/heraldrt/herald"
)

// testAudit checks the audit log: ids increase, defaults are filled, every
// query filter and the cursor, entries outlive their app, and pruning by age
// and by row count.
func testAudit(t *testing.T, newStore func(t *testing.T) herald.Store) {
	ctx := t.Context()
	entry := func(app string, kind herald.AuditKind, d time.Duration) *herald.AuditEntry {
		return &herald.AuditEntry{Time: at(d), AppID: app, Kind: kind, Actor: "accessToken:at1", Target: app + ".k",
			Count: 1, Details: `{"changed":["name"]}`}
	}
	query := func(t *testing.T, s herald.Store, q herald.AuditQuery) []*herald.AuditEntry {
		t.Helper()
		got, err := s.Audit(ctx, q)
		check(t, "Audit", err)
		return got
	}

	t.Run("AppendAndQuery", func(t *testing.T) {
		s := newStore(t)
		createApp(t, s, newApp("app1", t0))
		es := []*herald.AuditEntry{
			entry("app1", herald.AuditKeyCreate, 0),
			entry("app2", herald.AuditKeyCreate, time.Second),
			entry("", herald.AuditAccessTokenCreate, 2*time.Second),
			{Time: at(3 * time.Second), AppID: "app1", Kind: herald.AuditAuthFailure, Code: 40101, Address: "192.0.2.1", Count: 7},
			entry("app1", herald.AuditKeyRotate, 4*time.Second),
		}
		check(t, "AppendAudit", s.AppendAudit(ctx, es[:2]...))
		check(t, "AppendAudit", s.AppendAudit(ctx, es[2:]...))
		for i := 1; i < len(es); i++ {
			if es[i].ID <= es[i-1].ID {
				t.Fatalf("ids not increasing: %d then %d", es[i-1].ID, es[i].ID)
			}
		}
		rev := func(idx ...int) []*herald.AuditEntry {
			out := make([]*herald.AuditEntry, len(idx))
			for i, j := range idx {
				out[i] = es[j]
			}
			return out
		}
		tests := []struct {
			name string
			q    herald.AuditQuery
			want []*herald.AuditEntry
		}{
			{"all, newest first", herald.AuditQuery{}, rev(4, 3, 2, 1, 0)},
			{"one app", herald.AuditQuery{AppID: "app1"}, rev(4, 3, 0)},
			{"deleted or unknown app still listed", herald.AuditQuery{AppID: "app2"}, rev(1)},
			{"kinds", herald.AuditQuery{Kinds: []herald.AuditKind{herald.AuditKeyCreate, herald.AuditAuthFailure}}, rev(3, 1, 0)},
			{"start and end inclusive", herald.AuditQuery{Start: at(time.Second), End: at(3 * time.Second)}, rev(3, 2, 1)},
			{"limit", herald.AuditQuery{Limit: 2}, rev(4, 3)},
			{"cursor", herald.AuditQuery{Before: es[3].ID, Limit: 2}, rev(2, 1)},
			{"everything together", herald.AuditQuery{AppID: "app1", Kinds: []herald.AuditKind{herald.AuditKeyCreate, herald.AuditKeyRotate},
				Start: at(0), End: at(time.Hour), Before: es[4].ID + 1, Limit: 10}, rev(4, 0)},
			{"nothing", herald.AuditQuery{AppID: "none"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { diff(t, "Audit", tt.want, query(t, s, tt.q)) })
		}
	})

	t.Run("Defaults", func(t *testing.T) {
		s := newStore(t)
		e := &herald.AuditEntry{Kind: herald.AuditAppDelete, AppID: "app1"}
		check(t, "AppendAudit", s.AppendAudit(ctx, e))
		got := query(t, s, herald.AuditQuery{})
		if len(got) != 1 || got[0].Time.IsZero() || got[0].Count != 1 || got[0].ID != e.ID {
			t.Errorf("got %+v: want the store's time, count 1 and the id written back (%d)", got, e.ID)
		}
		check(t, "AppendAudit nothing", s.AppendAudit(ctx))
	})

	t.Run("Prune", func(t *testing.T) {
		s := newStore(t)
		var es []*herald.AuditEntry
		for i := range 10 {
			es = append(es, entry("app1", herald.AuditKeyUpdate, time.Duration(i)*time.Minute))
		}
		check(t, "AppendAudit", s.AppendAudit(ctx, es...))
		n, err := s.PruneAudit(ctx, at(3*time.Minute), 0)
		check(t, "PruneAudit by age", err)
		if n != 3 || len(query(t, s, herald.AuditQuery{})) != 7 {
			t.Errorf("PruneAudit by age deleted %d, want 3", n)
		}
		n, err = s.PruneAudit(ctx, at(0), 100)
		check(t, "PruneAudit under the cap", err)
		if n != 0 {
			t.Errorf("PruneAudit under the row cap deleted %d", n)
		}
		n, err = s.PruneAudit(ctx, at(0), 4)
		check(t, "PruneAudit by rows", err)
		diff(t, "after the row cap", []*herald.AuditEntry{es[9], es[8], es[7], es[6]}, query(t, s, herald.AuditQuery{}))
		if n != 3 {
			t.Errorf("PruneAudit by rows deleted %d, want 3", n)
		}
		// Ids are not reused after pruning: they are the cursor.
		next := entry("app1", herald.AuditKeyUpdate, time.Hour)
		check(t, "AppendAudit", s.AppendAudit(ctx, next))
		if next.ID <= es[9].ID {
			t.Errorf("id %d reused after pruning (last was %d)", next.ID, es[9].ID)
		}
	})
}
