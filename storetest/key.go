package storetest

import (
	"testing"
	"time"

	"github.com/heraldrt/herald"
)

func testKeys(t *testing.T, newStore func(t *testing.T) herald.Store) {
	t.Run("CapabilityKeptByteForByte", func(t *testing.T) {
		s := newStore(t)
		createApp(t, s, newApp("app1", t0))
		// SDK tests compare a blanket token's capability with the key's
		// string itself, so no normalisation of any kind is allowed.
		tests := []struct {
			name, capability string
		}{
			{"default", herald.DefaultCapability},
			{"ops not sorted", `{"chat:*":["subscribe","publish","presence"],"*":["history"]}`},
			{"whitespace and newlines", "{ \"*\" : [ \"publish\" ,\n\t\"subscribe\" ] }\n"},
			{"channels not sorted", `{"z":["*"],"a":["*"],"m":["publish"]}`},
			{"unicode and escapes", `{"caf\u00e9:☕":["publish"],"x\"y":["*"]}`},
			{"duplicate keys", `{"a":["publish"],"a":["subscribe"]}`},
			{"empty", ``},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				k := newKey("app1", "k"+string(rune('a'+i)), t0)
				k.Capability = tt.capability
				createKey(t, s, k)
				if got := getKey(t, s, k.KeyName()).Capability; got != tt.capability {
					t.Errorf("Capability = %q, want %q", got, tt.capability)
				}
			})
		}
	})

	t.Run("CreateAndGet", func(t *testing.T) {
		s := newStore(t)
		createApp(t, s, newApp("app1", t0))
		revoked := newKey("app1", "revoked", at(time.Second))
		revoked.Status = herald.KeyRevoked
		revoked.RevocableTokens = true
		revoked.Modified = at(time.Minute)
		for _, k := range []*herald.Key{newKey("app1", "plain", t0), revoked} {
			createKey(t, s, k)
			diff(t, "Key "+k.KeyName(), k, getKey(t, s, k.KeyName()))
		}
	})

	t.Run("ZeroTimesAreSet", func(t *testing.T) {
		s := newStore(t)
		createApp(t, s, newApp("app1", t0))
		createKey(t, s, &herald.Key{AppID: "app1", ID: "k", Secret: "s", Capability: herald.DefaultCapability})
		got := getKey(t, s, "app1.k")
		if got.Created.IsZero() || got.Modified.IsZero() {
			t.Errorf("Created %v, Modified %v: want both set", got.Created, got.Modified)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		createApp(t, s, newApp("app1", t0))
		createKey(t, s, newKey("app1", "k1", t0))
		for _, name := range []string{"app1.k2", "app2.k1", "app1", "app1.", ".k1", "", "app1k1", "APP1.k1"} {
			_, err := s.Key(t.Context(), name)
			wantErr(t, "Key "+name, err, herald.ErrNotFound)
		}
		wantErr(t, "UpdateKey missing", s.UpdateKey(t.Context(), newKey("app1", "k2", t0)), herald.ErrNotFound)
		wantErr(t, "UpdateKey missing app", s.UpdateKey(t.Context(), newKey("app2", "k1", t0)), herald.ErrNotFound)
	})

	t.Run("MissingApp", func(t *testing.T) {
		s := newStore(t)
		err := s.CreateKey(t.Context(), newKey("nope", "k1", t0))
		wantErr(t, "CreateKey for a missing app", err, herald.ErrNotFound)
		if n := len(listKeys(t, s, "")); n != 0 {
			t.Errorf("Keys: %d, want none", n)
		}
	})

	t.Run("Duplicate", func(t *testing.T) {
		s := newStore(t)
		createApp(t, s, newApp("app1", t0))
		createApp(t, s, newApp("app2", t0))
		orig := newKey("app1", "k1", t0)
		createKey(t, s, orig)
		dup := newKey("app1", "k1", at(time.Hour))
		dup.Secret = "other"
		wantErr(t, "CreateKey duplicate", s.CreateKey(t.Context(), dup), herald.ErrConflict)
		diff(t, "Key after failed duplicate", orig, getKey(t, s, "app1.k1"))
		// The same key id under another app is another key.
		createKey(t, s, newKey("app2", "k1", t0))
	})

	t.Run("ListInCreationOrder", func(t *testing.T) {
		s := newStore(t)
		createApp(t, s, newApp("b", t0))
		createApp(t, s, newApp("a", t0))
		// Interleaved between apps, ids neither sorted nor reverse sorted,
		// and all created in the same millisecond.
		keys := []*herald.Key{
			newKey("b", "m", t0), newKey("a", "z", t0), newKey("b", "a", t0),
			newKey("a", "b", t0), newKey("a", "y", t0), newKey("b", "q", t0),
		}
		for _, k := range keys {
			createKey(t, s, k)
		}
		tests := []struct {
			name, appID string
			want        []*herald.Key
		}{
			{"app a", "a", []*herald.Key{keys[1], keys[3], keys[4]}},
			{"app b", "b", []*herald.Key{keys[0], keys[2], keys[5]}},
			{"all apps", "", keys},
			{"unknown app", "c", nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				diff(t, "Keys", tt.want, listKeys(t, s, tt.appID))
			})
		}
	})

	t.Run("Update", testUpdateKey(newStore))
}

// testUpdateKey changes each field UpdateKey replaces, one at a time, and
// checks that the stored key is exactly the update with Created kept.
func testUpdateKey(newStore func(t *testing.T) herald.Store) func(t *testing.T) {
	return func(t *testing.T) {
		s := newStore(t)
		createApp(t, s, newApp("app1", t0))
		tests := []struct {
			name   string
			change func(k *herald.Key)
		}{
			{"name", func(k *herald.Key) { k.Name = "renamed" }},
			{"capability", func(k *herald.Key) { k.Capability = "{\"b\":[\"publish\", \"subscribe\"],\n \"a\":[\"*\"]}" }},
			{"revocable tokens", func(k *herald.Key) { k.RevocableTokens = true }},
			{"revoke", func(k *herald.Key) { k.Status = herald.KeyRevoked }},
			{"secret", func(k *herald.Key) { k.Secret = "rotated" }},
			{"modified", func(k *herald.Key) { k.Modified = at(24 * time.Hour) }},
			{"created is kept", func(k *herald.Key) { k.Created = at(-24 * time.Hour) }},
			{"everything", func(k *herald.Key) {
				k.Name, k.Capability, k.RevocableTokens = "all", `{"x":["history"]}`, true
				k.Status, k.Secret, k.Modified = herald.KeyRevoked, "new", at(time.Hour)
			}},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				orig := newKey("app1", "k"+string(rune('a'+i)), t0)
				createKey(t, s, orig)
				upd := copyKey(orig)
				tt.change(upd)
				check(t, "UpdateKey", s.UpdateKey(t.Context(), copyKey(upd)))
				want := copyKey(upd)
				want.Created = orig.Created
				diff(t, "Key after update", want, getKey(t, s, orig.KeyName()))
			})
		}
		t.Run("reenable", func(t *testing.T) {
			k := newKey("app1", "back", t0)
			k.Status = herald.KeyRevoked
			createKey(t, s, k)
			k.Status = herald.KeyEnabled
			check(t, "UpdateKey", s.UpdateKey(t.Context(), copyKey(k)))
			if got := getKey(t, s, k.KeyName()).Status; got != herald.KeyEnabled {
				t.Errorf("Status = %v, want enabled", got)
			}
		})
	}
}

// testGeneration checks that every app and key write changes Generation and
// that reads of any kind leave it alone.
func testGeneration(t *testing.T, newStore func(t *testing.T) herald.Store) {
	s := newStore(t)
	ctx := t.Context()
	reads := func(t *testing.T) {
		t.Helper()
		before := generation(t, s)
		_, _ = s.App(ctx, "app1")
		_, _ = s.App(ctx, "missing")
		_, _ = s.Apps(ctx)
		_, _ = s.Key(ctx, "app1.k1")
		_, _ = s.Keys(ctx, "")
		_, _ = s.Keys(ctx, "app1")
		_, _ = s.Namespaces(ctx, "app2")
		_, _ = s.ChannelFixtures(ctx, "app2")
		_, _ = s.Stats(ctx, herald.StatsQuery{AppID: "app1"})
		_, _ = s.Meta(ctx, "x")
		if after := generation(t, s); after != before {
			t.Errorf("reads changed Generation from %d to %d", before, after)
		}
	}
	k := newKey("app1", "k1", t0)
	writes := []struct {
		name  string
		write func() error
	}{
		{"CreateApp", func() error { return s.CreateApp(ctx, newApp("app1", t0)) }},
		{"CreateKey", func() error { return s.CreateKey(ctx, copyKey(k)) }},
		{"UpdateKey", func() error { k.Capability = `{"a":["*"]}`; return s.UpdateKey(ctx, copyKey(k)) }},
		{"RevokeKey", func() error { k.Status = herald.KeyRevoked; return s.UpdateKey(ctx, copyKey(k)) }},
		{"UpdateApp", func() error {
			a := newApp("app1", t0)
			a.Status = herald.AppDisabled
			return s.UpdateApp(ctx, a)
		}},
		{"Provision", func() error {
			return s.Provision(ctx, &herald.Provisioning{
				App:        newApp("app2", t0),
				Keys:       []*herald.Key{newKey("app2", "k1", t0)},
				Namespaces: []*herald.Namespace{{AppID: "app2", ID: "ns"}},
			})
		}},
		{"DeleteApp", func() error { return s.DeleteApp(ctx, "app1") }},
		{"DeleteProvisionedApp", func() error { return s.DeleteApp(ctx, "app2") }},
		// An app with no keys: its own deletion must count, not its keys'.
		{"CreateBareApp", func() error { return s.CreateApp(ctx, newApp("app3", t0)) }},
		{"DeleteBareApp", func() error { return s.DeleteApp(ctx, "app3") }},
	}
	seen := map[int64]string{generation(t, s): "start"}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			before := generation(t, s)
			check(t, w.name, w.write())
			after := generation(t, s)
			if after == before {
				t.Errorf("Generation still %d after %s", after, w.name)
			}
			if prev, ok := seen[after]; ok {
				t.Errorf("Generation %d after %s was already seen after %s", after, w.name, prev)
			}
			seen[after] = w.name
			reads(t)
		})
	}
}
