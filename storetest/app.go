package storetest

import (
	"testing"
	"time"

	"github.com/heraldrt/herald"
)

func testApps(t *testing.T, newStore func(t *testing.T) herald.Store) {
	t.Run("CreateAndGet", func(t *testing.T) {
		s := newStore(t)
		tests := []struct {
			name string
			app  *herald.App
		}{
			{"enabled", newApp("app1", t0)},
			{"disabled tls only", &herald.App{ID: "app2", AccountID: "acct-2", Name: "Second",
				Status: herald.AppDisabled, TLSOnly: true, Created: at(time.Second), Modified: at(time.Hour)}},
			{"empty strings", &herald.App{ID: "app3", Status: herald.AppEnabled, Created: t0, Modified: t0}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				createApp(t, s, tt.app)
				diff(t, "App", tt.app, getApp(t, s, tt.app.ID))
			})
		}
	})

	t.Run("TimesTruncatedToMillisecond", func(t *testing.T) {
		s := newStore(t)
		app := newApp("app1", t0.Add(123_456*time.Nanosecond))
		app.Modified = t0.Add(time.Minute + 999_999*time.Nanosecond)
		createApp(t, s, app)
		got := getApp(t, s, app.ID)
		if want := app.Created.Truncate(time.Millisecond); !got.Created.Equal(want) {
			t.Errorf("Created = %v, want %v", got.Created, want)
		}
		if want := app.Modified.Truncate(time.Millisecond); !got.Modified.Equal(want) {
			t.Errorf("Modified = %v, want %v", got.Modified, want)
		}
	})

	t.Run("ZeroTimesAreSet", func(t *testing.T) {
		s := newStore(t)
		createApp(t, s, &herald.App{ID: "app1", Status: herald.AppEnabled})
		got := getApp(t, s, "app1")
		if got.Created.IsZero() || got.Modified.IsZero() {
			t.Errorf("Created %v, Modified %v: want both set", got.Created, got.Modified)
		}
	})

	t.Run("ListOldestFirst", func(t *testing.T) {
		s := newStore(t)
		if apps := listApps(t, s); len(apps) != 0 {
			t.Errorf("Apps of an empty store = %d apps, want none", len(apps))
		}
		// Created out of id order and out of creation order.
		apps := []*herald.App{
			newApp("b", at(2*time.Hour)),
			newApp("c", at(0)),
			newApp("a", at(time.Hour)),
		}
		for _, a := range apps {
			createApp(t, s, a)
		}
		diff(t, "Apps", []*herald.App{apps[1], apps[2], apps[0]}, listApps(t, s))
	})

	t.Run("Duplicate", func(t *testing.T) {
		s := newStore(t)
		orig := newApp("app1", t0)
		createApp(t, s, orig)
		dup := newApp("app1", at(time.Hour))
		dup.Name = "impostor"
		wantErr(t, "CreateApp duplicate", s.CreateApp(t.Context(), dup), herald.ErrConflict)
		diff(t, "App after failed duplicate", orig, getApp(t, s, "app1"))
	})

	t.Run("Update", func(t *testing.T) {
		s := newStore(t)
		orig := newApp("app1", t0)
		createApp(t, s, orig)
		upd := &herald.App{
			ID:        "app1",
			AccountID: "acct-9",
			Name:      "Renamed",
			Status:    herald.AppDisabled,
			TLSOnly:   true,
			Created:   at(-time.Hour), // must be ignored
			Modified:  at(time.Hour),
		}
		check(t, "UpdateApp", s.UpdateApp(t.Context(), copyApp(upd)))
		want := copyApp(upd)
		want.Created = orig.Created
		diff(t, "App after update", want, getApp(t, s, "app1"))
	})

	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		createApp(t, s, newApp("other", t0))
		ctx := t.Context()
		_, err := s.App(ctx, "missing")
		wantErr(t, "App", err, herald.ErrNotFound)
		wantErr(t, "UpdateApp", s.UpdateApp(ctx, newApp("missing", t0)), herald.ErrNotFound)
		wantErr(t, "DeleteApp", s.DeleteApp(ctx, "missing"), herald.ErrNotFound)
		diff(t, "Apps", []*herald.App{newApp("other", t0)}, listApps(t, s))
	})

	t.Run("DeleteCascades", testDeleteCascades(newStore))
}

// testDeleteCascades deletes an app that owns one of everything and checks
// that all of it went, that the other app kept its own, and that re-creating
// the app finds nothing left behind.
func testDeleteCascades(newStore func(t *testing.T) herald.Store) func(t *testing.T) {
	return func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		for _, id := range []string{"doomed", "kept"} {
			check(t, "Provision "+id, s.Provision(ctx, &herald.Provisioning{
				App:        newApp(id, t0),
				Keys:       []*herald.Key{newKey(id, "k1", t0), newKey(id, "k2", t0)},
				Namespaces: []*herald.Namespace{{AppID: id, ID: "ns", Raw: []byte(`{"id":"ns"}`)}},
				Channels:   []*herald.ChannelFixture{{AppID: id, Name: "ch", Raw: []byte(`{"name":"ch"}`)}},
			}))
			addStats(t, s, id, t0, map[string]int64{"messages": 1})
		}
		check(t, "DeleteApp", s.DeleteApp(ctx, "doomed"))

		_, err := s.App(ctx, "doomed")
		wantErr(t, "App after delete", err, herald.ErrNotFound)
		_, err = s.Key(ctx, "doomed.k1")
		wantErr(t, "Key after delete", err, herald.ErrNotFound)
		wantGone := func(t *testing.T) {
			t.Helper()
			if n := len(listKeys(t, s, "doomed")); n != 0 {
				t.Errorf("Keys: %d left", n)
			}
			if n := len(namespaces(t, s, "doomed")); n != 0 {
				t.Errorf("Namespaces: %d left", n)
			}
			if n := len(fixtures(t, s, "doomed")); n != 0 {
				t.Errorf("ChannelFixtures: %d left", n)
			}
			if n := len(stats(t, s, herald.StatsQuery{AppID: "doomed"})); n != 0 {
				t.Errorf("Stats: %d records left", n)
			}
		}
		wantGone(t)
		for _, k := range listKeys(t, s, "") {
			if k.AppID == "doomed" {
				t.Errorf("Keys(\"\") still lists %s", k.KeyName())
			}
		}

		// The other app keeps everything.
		getApp(t, s, "kept")
		if n := len(listKeys(t, s, "kept")); n != 2 {
			t.Errorf("kept app has %d keys, want 2", n)
		}
		if n := len(namespaces(t, s, "kept")); n != 1 {
			t.Errorf("kept app has %d namespaces, want 1", n)
		}
		if n := len(fixtures(t, s, "kept")); n != 1 {
			t.Errorf("kept app has %d channel fixtures, want 1", n)
		}
		if n := len(stats(t, s, herald.StatsQuery{AppID: "kept"})); n != 1 {
			t.Errorf("kept app has %d stats records, want 1", n)
		}

		// A new app with the same id starts empty.
		createApp(t, s, newApp("doomed", at(time.Hour)))
		wantGone(t)
	}
}
