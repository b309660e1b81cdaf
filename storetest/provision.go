package storetest

import (
	"testing"
	"time"

	"github.com/heraldrt/herald"
)

// provisioning returns a full provisioning for app id, in the shape of the
// sandbox's test-app-setup.json: several keys, namespaces and channels, none
// listed in sorted order, with Raw JSON whose spacing and field order must
// survive.
func provisioning(id string) *herald.Provisioning {
	k1 := newKey(id, "first", t0)
	k2 := newKey(id, "second", t0)
	k2.Capability = `{"cansubscribe:*":["subscribe"],"canpublish:*":["publish"]}`
	k3 := newKey(id, "third", t0)
	k3.RevocableTokens = true
	return &herald.Provisioning{
		App:  newApp(id, t0),
		Keys: []*herald.Key{k1, k2, k3},
		Namespaces: []*herald.Namespace{
			{AppID: id, ID: "persisted", Persisted: true, Raw: []byte(`{"id":"persisted","persisted":true}`)},
			{AppID: id, ID: "mutable", MutableMessages: true, Raw: []byte(`{ "mutableMessages": true, "id": "mutable" }`)},
			{AppID: id, ID: "pushenabled", PushEnabled: true, Raw: []byte("{\"id\":\"pushenabled\",\n \"pushEnabled\":true,\"x-future\":[1,2]}")},
			{AppID: id, ID: "bare"},
		},
		Channels: []*herald.ChannelFixture{
			{AppID: id, Name: "persisted:presence_fixtures", Raw: []byte(`{"name":"persisted:presence_fixtures","presence":[{"clientId":"client_bool","data":"true"}]}`)},
			{AppID: id, Name: "canpublish:x", Raw: []byte(`{"name":"canpublish:x"}`)},
			{AppID: id, Name: "a", Raw: []byte(`{"name":"a", "presence": []}`)},
		},
	}
}

func testProvision(t *testing.T, newStore func(t *testing.T) herald.Store) {
	t.Run("Everything", func(t *testing.T) {
		s := newStore(t)
		p := provisioning("app1")
		check(t, "Provision", s.Provision(t.Context(), provisioning("app1")))
		diff(t, "App", p.App, getApp(t, s, "app1"))
		diff(t, "Keys", p.Keys, listKeys(t, s, "app1"))
		for _, k := range p.Keys {
			diff(t, "Key "+k.KeyName(), k, getKey(t, s, k.KeyName()))
		}
		diff(t, "Namespaces", p.Namespaces, namespaces(t, s, "app1"))
		diff(t, "ChannelFixtures", p.Channels, fixtures(t, s, "app1"))
	})

	t.Run("AppOnly", func(t *testing.T) {
		s := newStore(t)
		check(t, "Provision", s.Provision(t.Context(), &herald.Provisioning{App: newApp("app1", t0)}))
		diff(t, "App", newApp("app1", t0), getApp(t, s, "app1"))
	})

	t.Run("SeveralApps", func(t *testing.T) {
		s := newStore(t)
		check(t, "Provision app1", s.Provision(t.Context(), provisioning("app1")))
		check(t, "Provision app2", s.Provision(t.Context(), provisioning("app2")))
		// The same namespace and channel names under two apps are separate.
		diff(t, "Namespaces app2", provisioning("app2").Namespaces, namespaces(t, s, "app2"))
		diff(t, "ChannelFixtures app1", provisioning("app1").Channels, fixtures(t, s, "app1"))
	})

	t.Run("UnknownApp", func(t *testing.T) {
		s := newStore(t)
		diff(t, "Namespaces", []*herald.Namespace(nil), namespaces(t, s, "nope"))
		diff(t, "ChannelFixtures", []*herald.ChannelFixture(nil), fixtures(t, s, "nope"))
	})

	t.Run("Atomic", testProvisionAtomic(newStore))
}

// testProvisionAtomic makes a provisioning fail at each step in turn and
// checks that nothing of it was stored, and that an app already present
// under the same id was left untouched.
func testProvisionAtomic(newStore func(t *testing.T) herald.Store) func(t *testing.T) {
	return func(t *testing.T) {
		tests := []struct {
			name     string
			existing bool // an app "app1" with one key exists beforehand
			spoil    func(p *herald.Provisioning)
		}{
			{"duplicate key id", false, func(p *herald.Provisioning) {
				p.Keys = append(p.Keys, newKey("app1", "second", t0))
			}},
			{"duplicate namespace id", false, func(p *herald.Provisioning) {
				p.Namespaces = append(p.Namespaces, &herald.Namespace{AppID: "app1", ID: "mutable"})
			}},
			{"duplicate channel", false, func(p *herald.Provisioning) {
				p.Channels = append(p.Channels, &herald.ChannelFixture{AppID: "app1", Name: "a", Raw: []byte(`{}`)})
			}},
			{"existing app", true, func(p *herald.Provisioning) {}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := newStore(t)
				var before []*herald.Key
				if tt.existing {
					createApp(t, s, newApp("app1", at(-time.Hour)))
					createKey(t, s, newKey("app1", "old", at(-time.Hour)))
					before = listKeys(t, s, "app1")
				}
				p := provisioning("app1")
				tt.spoil(p)
				wantErr(t, "Provision", s.Provision(t.Context(), p), herald.ErrConflict)

				if tt.existing {
					diff(t, "existing app", newApp("app1", at(-time.Hour)), getApp(t, s, "app1"))
				} else {
					_, err := s.App(t.Context(), "app1")
					wantErr(t, "App after failed Provision", err, herald.ErrNotFound)
					if n := len(listApps(t, s)); n != 0 {
						t.Errorf("Apps: %d, want none", n)
					}
				}
				diff(t, "Keys", before, listKeys(t, s, ""))
				_, err := s.Key(t.Context(), "app1.first")
				wantErr(t, "Key of failed Provision", err, herald.ErrNotFound)
				if n := len(namespaces(t, s, "app1")); n != 0 {
					t.Errorf("Namespaces: %d, want none", n)
				}
				if n := len(fixtures(t, s, "app1")); n != 0 {
					t.Errorf("ChannelFixtures: %d, want none", n)
				}

				// The store is still usable, and the same provisioning
				// without the fault succeeds (when the app id is free).
				if !tt.existing {
					check(t, "Provision after failure", s.Provision(t.Context(), provisioning("app1")))
					diff(t, "Keys after retry", provisioning("app1").Keys, listKeys(t, s, "app1"))
				}
			})
		}
	}
}
