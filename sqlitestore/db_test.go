package sqlitestore_test

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/sqlitestore"
	"github.com/heraldrt/herald/storetest"
)

// open opens a store at path and closes it when the test ends.
func open(t testing.TB, path string) *sqlitestore.DB {
	t.Helper()
	s, err := sqlitestore.Open(t.Context(), sqlitestore.Config{Path: path})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestDB_Conformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) herald.Store {
		return open(t, filepath.Join(t.TempDir(), "herald.db"))
	})
}

func TestDB_Persistence(t *testing.T) {
	storetest.RunPersistence(t, func(t *testing.T, dir string) herald.Store {
		return open(t, filepath.Join(dir, "herald.db"))
	})
}

// TestDB_SharedFile is the CLI writing while the server runs: two handles on
// one file see each other's writes, and the reader's Generation moves.
func TestDB_SharedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "herald.db")
	server, cli := open(t, path), open(t, path)
	ctx := t.Context()

	steps := []struct {
		name  string
		write func() error
	}{
		{"create app", func() error {
			return cli.CreateApp(ctx, &herald.App{ID: "app1", Status: herald.AppEnabled})
		}},
		{"create key", func() error {
			return cli.CreateKey(ctx, &herald.Key{AppID: "app1", ID: "k1", Secret: "s", Capability: herald.DefaultCapability})
		}},
		{"revoke key", func() error {
			return cli.UpdateKey(ctx, &herald.Key{AppID: "app1", ID: "k1", Secret: "s", Status: herald.KeyRevoked})
		}},
		{"delete app", func() error { return cli.DeleteApp(ctx, "app1") }},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := generation(t, server)
			if err := st.write(); err != nil {
				t.Fatal(err)
			}
			if after := generation(t, server); after == before {
				t.Errorf("server Generation still %d after the other handle's write", after)
			}
			want, wantErr := cli.Key(ctx, "app1.k1")
			got, gotErr := server.Key(ctx, "app1.k1")
			if diff := cmp.Diff(want, got); diff != "" || errors.Is(gotErr, herald.ErrNotFound) != errors.Is(wantErr, herald.ErrNotFound) {
				t.Errorf("server sees key %+v (%v), writer sees %+v (%v)", got, gotErr, want, wantErr)
			}
		})
	}

	// Another program (say the sqlite3 shell, which does not even turn
	// foreign keys on) writing the file directly bumps Generation too,
	// because the schema's triggers do the counting.
	t.Run("foreign program", func(t *testing.T) {
		raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		before := generation(t, server)
		if _, err := raw.ExecContext(ctx, `INSERT INTO apps (id, account_id, name, status, tls_only, created, modified)
			VALUES ('app9', '', '', 'enabled', 0, 0, 0)`); err != nil {
			t.Fatal(err)
		}
		if after := generation(t, server); after == before {
			t.Errorf("Generation still %d after a raw insert", after)
		}
		if _, err := server.App(ctx, "app9"); err != nil {
			t.Errorf("App: %v", err)
		}
	})
}

func generation(t testing.TB, s herald.Store) int64 {
	t.Helper()
	g, err := s.Generation(t.Context())
	if err != nil {
		t.Fatalf("Generation: %v", err)
	}
	return g
}

// TestDB_ConcurrentWriters has two handles add to the same counters at once:
// with IMMEDIATE transactions and busy_timeout no add fails or is lost.
func TestDB_ConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "herald.db")
	a, b := open(t, path), open(t, path)
	ctx := t.Context()
	if err := a.CreateApp(ctx, &herald.App{ID: "app1", Status: herald.AppEnabled}); err != nil {
		t.Fatal(err)
	}
	minute := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	const perWriter = 50
	var wg sync.WaitGroup
	errs := make(chan error, 4*perWriter)
	for _, s := range []*sqlitestore.DB{a, b, a, b} {
		wg.Go(func() {
			for range perWriter {
				if err := s.AddStats(ctx, "app1", minute, map[string]int64{"messages": 1, "bytes": 10}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("AddStats: %v", err)
	}
	got, err := b.Stats(ctx, herald.StatsQuery{AppID: "app1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []herald.StatsRecord{{AppID: "app1", Minute: minute,
		Entries: map[string]int64{"messages": 4 * perWriter, "bytes": 40 * perWriter}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

func TestOpen_Pragmas(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "herald.db"))
	db := sqlitestore.SQLDB(s)
	ctx := t.Context()
	// Hold several connections at once so the pool must open new ones:
	// each must carry the pragmas, not only the first.
	var conns []*sql.Conn
	for range 3 {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	tests := []struct {
		pragma, want string
	}{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
		{"synchronous", "1"}, // NORMAL
	}
	for i, c := range conns {
		for _, tt := range tests {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("connection %d: PRAGMA %s = %q, want %q", i, tt.pragma, got, tt.want)
			}
		}
	}
}

func TestOpen_Paths(t *testing.T) {
	tests := []struct {
		name string
		rel  string
	}{
		{"missing parents", "a/b/c/herald.db"},
		{"URI characters", "we?ird#dir %41/h&e=r%ld.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.rel)
			s := open(t, path)
			if err := s.SetMeta(t.Context(), "x", "y"); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("database not at the path given: %v", err)
			}
		})
	}
	t.Run("empty", func(t *testing.T) {
		if _, err := sqlitestore.Open(t.Context(), sqlitestore.Config{}); err == nil {
			t.Error("Open with no path succeeded")
		}
	})
}

func TestOpen_Migrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "herald.db")
	versions := func(s *sqlitestore.DB) []int {
		t.Helper()
		rows, err := sqlitestore.SQLDB(s).QueryContext(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var vs []int
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			vs = append(vs, v)
		}
		return vs
	}
	first := open(t, path)
	want := versions(first)
	if len(want) == 0 || want[0] != 1 {
		t.Fatalf("schema_migrations = %v, want versions from 1", want)
	}
	first.Close()
	second := open(t, path)
	if got := versions(second); !cmp.Equal(want, got) {
		t.Errorf("after reopen schema_migrations = %v, want %v", got, want)
	}

	// A file migrated by a newer binary is refused rather than misread.
	next := want[len(want)-1] + 1
	if _, err := sqlitestore.SQLDB(second).ExecContext(t.Context(),
		`INSERT INTO schema_migrations (version, name, applied) VALUES (?, 'future.sql', 0)`, next); err != nil {
		t.Fatal(err)
	}
	second.Close()
	if s, err := sqlitestore.Open(t.Context(), sqlitestore.Config{Path: path}); err == nil {
		s.Close()
		t.Errorf("Open of a schema at version %d succeeded", next)
	}
}

// TestDB_Clock checks that zero times come from the injected clock, and are
// written back to the caller's struct.
func TestDB_Clock(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 123_456_789, time.UTC)
	s, err := sqlitestore.Open(t.Context(), sqlitestore.Config{
		Path: filepath.Join(t.TempDir(), "herald.db"),
		Now:  func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	app := &herald.App{ID: "app1", Status: herald.AppEnabled}
	if err := s.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	want := now.Truncate(time.Millisecond)
	if !app.Created.Equal(want) || !app.Modified.Equal(want) {
		t.Errorf("caller's app times %v, %v; want %v", app.Created, app.Modified, want)
	}
	got, err := s.App(ctx, "app1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(app, got); diff != "" {
		t.Errorf("stored app differs from the caller's (-caller +stored):\n%s", diff)
	}

	now = now.Add(time.Hour)
	app.Modified = time.Time{}
	if err := s.UpdateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	if want := now.Truncate(time.Millisecond); !app.Modified.Equal(want) {
		t.Errorf("UpdateApp Modified = %v, want %v", app.Modified, want)
	}
}

func TestDB_Provision_AppIDs(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "herald.db"))
	ctx := t.Context()
	p := &herald.Provisioning{
		App:        &herald.App{ID: "app1", Status: herald.AppEnabled},
		Keys:       []*herald.Key{{ID: "k1", Secret: "s"}},
		Namespaces: []*herald.Namespace{{ID: "ns"}},
		Channels:   []*herald.ChannelFixture{{Name: "ch"}},
	}
	if err := s.Provision(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Key(ctx, "app1.k1"); err != nil {
		t.Errorf("key without AppID not adopted: %v", err)
	}
	if p.Namespaces[0].AppID != "app1" || p.Channels[0].AppID != "app1" {
		t.Errorf("AppID not written back: namespace %q, channel %q", p.Namespaces[0].AppID, p.Channels[0].AppID)
	}

	foreign := &herald.Provisioning{
		App:  &herald.App{ID: "app2", Status: herald.AppEnabled},
		Keys: []*herald.Key{{AppID: "app1", ID: "k2", Secret: "s"}},
	}
	if err := s.Provision(ctx, foreign); err == nil {
		t.Error("Provision with another app's key succeeded")
	}
	if _, err := s.App(ctx, "app2"); !errors.Is(err, herald.ErrNotFound) {
		t.Errorf("App after refused Provision: %v, want ErrNotFound", err)
	}
	if err := s.Provision(ctx, &herald.Provisioning{}); err == nil {
		t.Error("Provision without an app succeeded")
	}
}

func TestDB_Errors(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "herald.db"))
	ctx := t.Context()
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"AddStats unknown app", s.AddStats(ctx, "nope", time.Now(), map[string]int64{"m": 1}), herald.ErrNotFound},
		{"AddStats unknown app, several entries", s.AddStats(ctx, "nope", time.Now(), map[string]int64{"m": 1, "n": 2}), herald.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.want) {
				t.Errorf("error %v, want one wrapping %v", tt.err, tt.want)
			}
		})
	}
	if err := s.SetMeta(ctx, "store.generation", "0"); err == nil {
		t.Error("SetMeta of the generation counter succeeded")
	}
	// The context comes from errors wrapped with fmt.Errorf: the sentinel
	// must be reachable and the message must say which record.
	err := s.CreateKey(ctx, &herald.Key{AppID: "nope", ID: "k"})
	if want := fmt.Sprintf("%q", "nope.k"); !errors.Is(err, herald.ErrNotFound) || !strings.Contains(err.Error(), want) {
		t.Errorf("CreateKey error %q: want ErrNotFound naming %s", err, want)
	}
}
