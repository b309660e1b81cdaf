package sqlitestore_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/sqlitestore"
)

// newHistoryStore opens a store holding app1.
func newHistoryStore(t *testing.T) *sqlitestore.DB {
	t.Helper()
	s := open(t, filepath.Join(t.TempDir(), "herald.db"))
	if err := s.CreateApp(t.Context(), &herald.App{ID: "app1", Status: herald.AppEnabled}); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDB_HistoryData checks the payload normalisations history.go
// documents, which the conformance suite (comparing nil and empty alike)
// does not see.
func TestDB_HistoryData(t *testing.T) {
	s := newHistoryStore(t)
	ctx := t.Context()
	tests := []struct {
		name string
		in   herald.Data
		want herald.Data
	}{
		{"none drops bytes", herald.Data{Kind: herald.DataNone, Bytes: []byte("x")}, herald.Data{Kind: herald.DataNone}},
		{"none", herald.Data{Kind: herald.DataNone, Bytes: []byte{}}, herald.Data{Kind: herald.DataNone}},
		{"string nil bytes", herald.Data{Kind: herald.DataString}, herald.Data{Kind: herald.DataString, Bytes: []byte{}}},
		{"binary empty", herald.Data{Kind: herald.DataBinary, Bytes: []byte{}}, herald.Data{Kind: herald.DataBinary, Bytes: []byte{}}},
		{"invalid UTF-8 text", herald.Data{Kind: herald.DataString, Bytes: []byte{'a', 0xff, 0x00}}, herald.Data{Kind: herald.DataString, Bytes: []byte{'a', 0xff, 0x00}}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := fmt.Sprintf("ch%d", i)
			m := &herald.Message{Serial: "s1", Data: tt.in}
			if err := s.AppendMessages(ctx, "app1", ch, []*herald.Message{m}); err != nil {
				t.Fatal(err)
			}
			if err := s.AppendPresence(ctx, "app1", ch, "s1", []*herald.PresenceMessage{{Data: tt.in}}); err != nil {
				t.Fatal(err)
			}
			q := herald.HistoryQuery{AppID: "app1", Channel: ch}
			msgs, err := s.Messages(ctx, q)
			if err != nil || len(msgs) != 1 {
				t.Fatalf("Messages = %v, %v", msgs, err)
			}
			events, err := s.PresenceHistory(ctx, q)
			if err != nil || len(events) != 1 {
				t.Fatalf("PresenceHistory = %v, %v", events, err)
			}
			for what, got := range map[string]herald.Data{"message": msgs[0].Data, "presence": events[0].Data} {
				// cmp without EquateEmpty: nil and empty differ here.
				if d := cmp.Diff(tt.want, got); d != "" {
					t.Errorf("%s data (-want +got):\n%s", what, d)
				}
			}
		})
	}

	t.Run("extras numbers come back as float64", func(t *testing.T) {
		m := &herald.Message{Serial: "s1", Extras: map[string]any{"n": 7, "big": int64(1) << 60, "list": []int{1}}}
		if err := s.AppendMessages(ctx, "app1", "extras", []*herald.Message{m}); err != nil {
			t.Fatal(err)
		}
		msgs, err := s.Messages(ctx, herald.HistoryQuery{AppID: "app1", Channel: "extras"})
		if err != nil || len(msgs) != 1 {
			t.Fatalf("Messages = %v, %v", msgs, err)
		}
		want := map[string]any{"n": float64(7), "big": float64(1 << 60), "list": []any{float64(1)}}
		if d := cmp.Diff(want, msgs[0].Extras); d != "" {
			t.Errorf("extras (-want +got):\n%s", d)
		}
	})
}

// TestDB_HistoryErrors checks refusals that happen before anything is
// written: they name the channel and store nothing.
func TestDB_HistoryErrors(t *testing.T) {
	s := newHistoryStore(t)
	ctx := t.Context()
	ok := &herald.Message{Serial: "s1"}
	tests := []struct {
		name string
		err  error
	}{
		{"message without serial", s.AppendMessages(ctx, "app1", "ch", []*herald.Message{ok, {}})},
		{"extras not JSON", s.AppendMessages(ctx, "app1", "ch", []*herald.Message{ok, {Serial: "s2", Extras: map[string]any{"x": math.NaN()}}})},
		{"presence without serial", s.AppendPresence(ctx, "app1", "ch", "", []*herald.PresenceMessage{{}})},
		{"presence extras not JSON", s.AppendPresence(ctx, "app1", "ch", "s1", []*herald.PresenceMessage{{}, {Extras: map[string]any{"f": func() {}}}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil || !strings.Contains(tt.err.Error(), `"ch"`) {
				t.Errorf("error %v, want one naming the channel", tt.err)
			}
			if errors.Is(tt.err, herald.ErrConflict) || errors.Is(tt.err, herald.ErrNotFound) {
				t.Errorf("error %v wraps a store sentinel", tt.err)
			}
		})
	}
	q := herald.HistoryQuery{AppID: "app1", Channel: "ch"}
	if msgs, err := s.Messages(ctx, q); err != nil || len(msgs) != 0 {
		t.Errorf("Messages after refused writes = %d messages, %v", len(msgs), err)
	}
	if events, err := s.PresenceHistory(ctx, q); err != nil || len(events) != 0 {
		t.Errorf("PresenceHistory after refused writes = %d events, %v", len(events), err)
	}
}

// TestDB_HistoryQueryPlan pins down how SQLite runs each plan of
// history_query.go: walking serials reads the primary key in order and
// never sorts, whatever the filters; sorting a window reads the timestamp
// index. Presence always walks.
func TestDB_HistoryQueryPlan(t *testing.T) {
	s := newHistoryStore(t)
	from, to := time.UnixMilli(1000), time.UnixMilli(2000)
	walk := func(q herald.HistoryQuery) (string, []any) { return sqlitestore.MessagesQuery(q, false) }
	window := func(q herald.HistoryQuery) (string, []any) { return sqlitestore.MessagesQuery(q, true) }
	tests := []struct {
		name     string
		query    func(herald.HistoryQuery) (string, []any)
		q        herald.HistoryQuery
		want     string // in the plan
		wantSort bool
	}{
		{"newest", walk, herald.HistoryQuery{Limit: 100}, "PRIMARY KEY", false},
		{"oldest", walk, herald.HistoryQuery{Limit: 100, Forwards: true}, "PRIMARY KEY", false},
		{"before cursor", walk, herald.HistoryQuery{BeforeSerial: "s", Limit: 100}, "serial<?", false},
		{"after cursor", walk, herald.HistoryQuery{AfterSerial: "s", Forwards: true}, "serial>?", false},
		{"until attach", walk, herald.HistoryQuery{UntilSerial: "s", BeforeSerial: "r"}, "PRIMARY KEY", false},
		{"start only", walk, herald.HistoryQuery{Start: from, Limit: 100}, "PRIMARY KEY", false},
		{"walked window", walk, herald.HistoryQuery{Start: from, End: to, Limit: 100}, "PRIMARY KEY", false},
		{"walked window and cursor", walk, herald.HistoryQuery{Start: from, End: to, BeforeSerial: "s"}, "serial<?", false},
		{"sorted window", window, herald.HistoryQuery{Start: from, End: to, Limit: 100}, "messages_channel_timestamp", true},
		{"sorted window forwards", window, herald.HistoryQuery{Start: from, Forwards: true}, "messages_channel_timestamp", true},
		{"presence", sqlitestore.PresenceQuery, herald.HistoryQuery{Limit: 100}, "PRIMARY KEY", false},
		{"presence cursor", sqlitestore.PresenceQuery, herald.HistoryQuery{AfterSerial: "s", Forwards: true}, "serial>?", false},
		{"presence window", sqlitestore.PresenceQuery, herald.HistoryQuery{Start: from, End: to}, "PRIMARY KEY", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.AppID, q.Channel = "app1", "ch"
			query, args := tt.query(q)
			plan := explain(t, s, query, args)
			if !strings.Contains(plan, tt.want) {
				t.Errorf("plan does not use %s:\n%s", tt.want, plan)
			}
			if sorts := strings.Contains(plan, "TEMP B-TREE"); sorts != tt.wantSort {
				t.Errorf("plan sorts = %v, want %v:\n%s", sorts, tt.wantSort, plan)
			}
		})
	}
}

// seedPlanned writes n messages to app1's "ch"; message i has serial
// benchSerial(i) and timestamp stamp(i).
func seedPlanned(t *testing.T, s *sqlitestore.DB, n int, stamp func(i int) int64) {
	t.Helper()
	msgs := make([]*herald.Message, n)
	for i := range msgs {
		msgs[i] = &herald.Message{Serial: benchSerial(i), Name: fmt.Sprint(i), Timestamp: stamp(i)}
	}
	if err := s.AppendMessages(t.Context(), "app1", "ch", msgs); err != nil {
		t.Fatal(err)
	}
}

// TestDB_HistoryPlanChoice checks when Messages sorts a time window: only
// when the window may lie away from where a walk starts, and holds at most
// a thousand candidate rows.
func TestDB_HistoryPlanChoice(t *testing.T) {
	s := newHistoryStore(t)
	seedPlanned(t, s, 3000, func(i int) int64 { return int64(i) })
	ms := func(i int64) time.Time { return time.UnixMilli(i) }
	tests := []struct {
		name     string
		q        herald.HistoryQuery
		wantSort bool
	}{
		{"no bounds", herald.HistoryQuery{}, false},
		{"start backwards", herald.HistoryQuery{Start: ms(2900)}, false},
		{"end forwards", herald.HistoryQuery{End: ms(100), Forwards: true}, false},
		{"small start forwards", herald.HistoryQuery{Start: ms(2500), Forwards: true}, true},
		{"large start forwards", herald.HistoryQuery{Start: ms(1000), Forwards: true}, false},
		{"small end backwards", herald.HistoryQuery{End: ms(999)}, true},
		{"large end backwards", herald.HistoryQuery{End: ms(1000)}, false},
		{"small window", herald.HistoryQuery{Start: ms(1000), End: ms(1100)}, true},
		{"large window", herald.HistoryQuery{Start: ms(0), End: ms(3000)}, false},
		{"large window narrowed by cursors", herald.HistoryQuery{Start: ms(0), End: ms(3000), AfterSerial: benchSerial(2500)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.AppID, q.Channel, q.Limit = "app1", "ch", 100
			got, err := sqlitestore.MessagesPlan(t.Context(), s, q)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.wantSort {
				t.Errorf("sorts window = %v, want %v", got, tt.wantSort)
			}
		})
	}
}

// TestDB_HistoryPlansAgree runs random queries against a channel whose
// timestamps do not follow its serials, with both plans, and compares them
// with a reference filter written in Go. The conformance suite's channels
// are too small to reach the walking plan with time bounds.
func TestDB_HistoryPlansAgree(t *testing.T) {
	const n = 1500
	rng := rand.New(rand.NewPCG(1, 2))
	stamps := make([]int64, n)
	for i := range stamps {
		// Mostly increasing, with jitter and a few far outliers.
		stamps[i] = int64(i) + rng.Int64N(50)
		if rng.IntN(20) == 0 {
			stamps[i] = rng.Int64N(n)
		}
	}
	s := newHistoryStore(t)
	seedPlanned(t, s, n, func(i int) int64 { return stamps[i] })
	reference := func(q herald.HistoryQuery) []string {
		var out []string
		for i := range n {
			sr, ts := benchSerial(i), stamps[i]
			switch {
			case !q.Start.IsZero() && ts < q.Start.UnixMilli(),
				!q.End.IsZero() && ts > q.End.UnixMilli(),
				q.UntilSerial != "" && sr > q.UntilSerial,
				q.AfterSerial != "" && sr <= q.AfterSerial,
				q.BeforeSerial != "" && sr >= q.BeforeSerial:
				continue
			}
			out = append(out, sr)
		}
		if !q.Forwards {
			slices.Reverse(out)
		}
		if q.Limit > 0 && len(out) > q.Limit {
			out = out[:q.Limit]
		}
		return out
	}
	serialsOf := func(msgs []*herald.Message) []string {
		var out []string
		for _, m := range msgs {
			out = append(out, m.Serial)
		}
		return out
	}
	ctx := t.Context()
	for i := range 300 {
		q := herald.HistoryQuery{AppID: "app1", Channel: "ch", Forwards: rng.IntN(2) == 0, Limit: rng.IntN(150)}
		if rng.IntN(2) == 0 {
			q.Start = time.UnixMilli(rng.Int64N(n + 100))
		}
		if rng.IntN(2) == 0 {
			q.End = time.UnixMilli(rng.Int64N(n + 100))
		}
		if rng.IntN(4) == 0 {
			q.UntilSerial = benchSerial(rng.IntN(n))
		}
		if rng.IntN(4) == 0 {
			q.AfterSerial = benchSerial(rng.IntN(n))
		}
		if rng.IntN(4) == 0 {
			q.BeforeSerial = benchSerial(rng.IntN(n))
		}
		want := reference(q)
		for _, sort := range []bool{false, true} {
			got, err := sqlitestore.MessagesWith(ctx, s, q, sort)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, serialsOf(got)); d != "" {
				t.Fatalf("query %d %+v, sort window %v (-want +got):\n%s", i, q, sort, d)
			}
		}
		got, err := s.Messages(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, serialsOf(got)); d != "" {
			t.Fatalf("query %d %+v, Messages (-want +got):\n%s", i, q, d)
		}
	}
}

func explain(t *testing.T, s *sqlitestore.DB, query string, args []any) string {
	t.Helper()
	rows, err := sqlitestore.SQLDB(s).QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestDB_HistoryConcurrent reads with many query shapes while another
// goroutine appends, so the race detector sees the statement cache and the
// prepared inserts shared between goroutines.
func TestDB_HistoryConcurrent(t *testing.T) {
	s := newHistoryStore(t)
	ctx := t.Context()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 50 {
			m := &herald.Message{Serial: fmt.Sprintf("%06d", i), Timestamp: int64(i)}
			if err := s.AppendMessages(ctx, "app1", "ch", []*herald.Message{m}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				q := herald.HistoryQuery{AppID: "app1", Channel: "ch", Forwards: i%2 == 0, Limit: i % 3}
				if i%4 == r {
					q.AfterSerial = "000010"
				}
				if i%5 == r {
					q.Start = time.UnixMilli(5)
				}
				if _, err := s.Messages(ctx, q); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestDB_HistoryAfterClose checks that a closed store refuses history reads
// with an error rather than a panic.
func TestDB_HistoryAfterClose(t *testing.T) {
	s := newHistoryStore(t)
	s.Close()
	if _, err := s.Messages(t.Context(), herald.HistoryQuery{AppID: "app1", Channel: "ch"}); err == nil {
		t.Error("Messages after Close succeeded")
	}
	if err := s.AppendMessages(t.Context(), "app1", "ch", []*herald.Message{{Serial: "s"}}); err == nil {
		t.Error("AppendMessages after Close succeeded")
	}
}
