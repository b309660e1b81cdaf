// Package storetest is the conformance suite every herald.Store must pass:
// sqlitestore and pgstore run it from their own tests, so the server can
// rely on one behaviour whatever the backing database.
//
// Beyond the comments in herald's store.go, the suite pins down:
//   - Times come back equal (time.Time.Equal) to what was written, truncated
//     to the millisecond: stores keep integer milliseconds, Ably's unit. The
//     suite therefore writes millisecond-precise times, and checks separately
//     that finer ones are truncated. Locations are not compared.
//   - CreateApp and CreateKey give a zero Created or Modified a non-zero value.
//   - UpdateApp replaces every field but ID and Created; UpdateKey replaces
//     the fields store.go lists and keeps Created.
//   - Missing records: App and Key wrap herald.ErrNotFound, and so do
//     UpdateApp, UpdateKey and DeleteApp; Keys, Namespaces and ChannelFixtures
//     of an unknown app are empty. Duplicates wrap herald.ErrConflict.
//   - A key name that is not "appId.keyId" is simply not found.
//   - Key capability strings are returned byte for byte as written.
//   - Namespaces, channel fixtures and keys come back in the order written.
//   - Generation changes on every app and key write, never returns to an
//     earlier value (a cache holding that value would miss the writes in
//     between), does not change on reads, and survives a reopen.
//   - Stats: zero Start or End leave that side unbounded; Limit counts
//     minutes, not counters.
//   - A key's PreviousSecret and PreviousExpires round trip (zero stays
//     zero); EndKeyRotations clears only ended windows and keeps Modified.
//   - Access tokens: optional times come back zero; revocation keeps the
//     first time; a touch changes LastUsed only.
//   - Audit: ids increase and are never reused after pruning; queries are
//     newest first; entries outlive their app.
//   - Close may be called more than once.
//
// Compare with cmpopts.EquateEmpty: a nil and an empty slice or map are the
// same answer.
package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/heraldrt/herald"
)

// Run runs the conformance suite. open must return a new, empty store each
// time it is called; the suite closes it, and the store may also close itself
// in a t.Cleanup the factory registers.
func Run(t *testing.T, open func(t *testing.T) herald.Store) {
	newStore := func(t *testing.T) herald.Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	}
	groups := []struct {
		name string
		run  func(t *testing.T, newStore func(t *testing.T) herald.Store)
	}{
		{"Apps", testApps},
		{"Keys", testKeys},
		{"Generation", testGeneration},
		{"Provision", testProvision},
		{"Stats", testStats},
		{"Tokens", testTokens},
		{"Revocations", testRevocations},
		{"KeyRotation", testKeyRotation},
		{"AccessTokens", testAccessTokens},
		{"Audit", testAudit},
		{"History", testHistory},
		{"Meta", testMeta},
		{"Close", testClose},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.run(t, newStore) })
	}
}

// t0 is the base of every time the suite writes: millisecond precise, so that
// what comes back must be equal.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// cmpOpts are the options of every comparison: nil and empty are equal, and
// time.Time compares with its Equal method (cmp's default).
var cmpOpts = []cmp.Option{cmpopts.EquateEmpty()}

// diff fails t with a -want +got diff when want and got differ.
func diff(t testing.TB, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpOpts...); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// wantErr fails t unless err wraps target.
func wantErr(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want one wrapping %v", what, err, target)
	}
}

// check fails t now if err is not nil: later steps depend on this one.
func check(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func newApp(id string, created time.Time) *herald.App {
	return &herald.App{
		ID:        id,
		AccountID: "acct-1",
		Name:      "App " + id,
		Status:    herald.AppEnabled,
		Created:   created,
		Modified:  created,
	}
}

func newKey(appID, id string, created time.Time) *herald.Key {
	return &herald.Key{
		AppID:      appID,
		ID:         id,
		Secret:     "secret-" + id,
		Name:       "key " + id,
		Capability: herald.DefaultCapability,
		Created:    created,
		Modified:   created,
	}
}

// copyApp and copyKey return copies, so that a want value is not changed by
// a store that writes defaults back into what it is given.
func copyApp(a *herald.App) *herald.App { c := *a; return &c }
func copyKey(k *herald.Key) *herald.Key { c := *k; return &c }

func createApp(t testing.TB, s herald.Store, app *herald.App) {
	t.Helper()
	check(t, "CreateApp "+app.ID, s.CreateApp(t.Context(), copyApp(app)))
}

func createKey(t testing.TB, s herald.Store, k *herald.Key) {
	t.Helper()
	check(t, "CreateKey "+k.KeyName(), s.CreateKey(t.Context(), copyKey(k)))
}

func getApp(t testing.TB, s herald.Store, id string) *herald.App {
	t.Helper()
	app, err := s.App(t.Context(), id)
	check(t, "App "+id, err)
	return app
}

func getKey(t testing.TB, s herald.Store, keyName string) *herald.Key {
	t.Helper()
	k, err := s.Key(t.Context(), keyName)
	check(t, "Key "+keyName, err)
	return k
}

func listApps(t testing.TB, s herald.Store) []*herald.App {
	t.Helper()
	apps, err := s.Apps(t.Context())
	check(t, "Apps", err)
	return apps
}

func listKeys(t testing.TB, s herald.Store, appID string) []*herald.Key {
	t.Helper()
	keys, err := s.Keys(t.Context(), appID)
	check(t, "Keys "+appID, err)
	return keys
}

func generation(t testing.TB, s herald.Store) int64 {
	t.Helper()
	g, err := s.Generation(t.Context())
	check(t, "Generation", err)
	return g
}

func namespaces(t testing.TB, s herald.Store, appID string) []*herald.Namespace {
	t.Helper()
	ns, err := s.Namespaces(t.Context(), appID)
	check(t, "Namespaces "+appID, err)
	return ns
}

func fixtures(t testing.TB, s herald.Store, appID string) []*herald.ChannelFixture {
	t.Helper()
	ch, err := s.ChannelFixtures(t.Context(), appID)
	check(t, "ChannelFixtures "+appID, err)
	return ch
}

func stats(t testing.TB, s herald.Store, q herald.StatsQuery) []herald.StatsRecord {
	t.Helper()
	recs, err := s.Stats(t.Context(), q)
	check(t, "Stats", err)
	return recs
}

func addStats(t testing.TB, s herald.Store, appID string, minute time.Time, entries map[string]int64) {
	t.Helper()
	check(t, "AddStats "+appID, s.AddStats(t.Context(), appID, minute, entries))
}

func testMeta(t *testing.T, newStore func(t *testing.T) herald.Store) {
	s := newStore(t)
	ctx := t.Context()
	get := func(name string) string {
		t.Helper()
		v, err := s.Meta(ctx, name)
		check(t, "Meta "+name, err)
		return v
	}
	if v := get("account"); v != "" {
		t.Errorf(`Meta of a missing setting = %q, want ""`, v)
	}
	steps := []struct {
		name, setting, value string
	}{
		{"set", "account", "acct-1"},
		{"overwrite", "account", "acct-2"},
		{"empty value", "account", ""},
		{"another setting", "dashboard.title", "Herald  \n{\"x\": 1}"},
	}
	want := map[string]string{}
	for _, st := range steps {
		check(t, st.name, s.SetMeta(ctx, st.setting, st.value))
		want[st.setting] = st.value
		for name, v := range want {
			if got := get(name); got != v {
				t.Errorf("after %s: Meta(%q) = %q, want %q", st.name, name, got, v)
			}
		}
	}
}

func testClose(t *testing.T, newStore func(t *testing.T) herald.Store) {
	s := newStore(t)
	for i := range 2 {
		if err := s.Close(); err != nil {
			t.Errorf("Close #%d: %v", i+1, err)
		}
	}
}
