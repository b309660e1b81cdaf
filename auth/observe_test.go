package auth_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// observer records what an Authenticator reports.
type observer struct {
	mu       sync.Mutex
	issued   []string
	failures []auth.Failure
}

func (o *observer) TokenIssued(appID, keyName string) {
	o.mu.Lock()
	o.issued = append(o.issued, appID+"|"+keyName)
	o.mu.Unlock()
}

func (o *observer) AuthFailed(f auth.Failure) {
	o.mu.Lock()
	o.failures = append(o.failures, f)
	o.mu.Unlock()
}

func TestObserver(t *testing.T) {
	f := newFixture(t)
	obs := &observer{}
	clock := &clockVar{t: f.key.Created}
	a := auth.New(auth.Config{Observer: obs}, f.cache, f.store, clock)
	ctx := auth.WithRemoteAddr(context.Background(), "192.0.2.7:5555")
	td, err := a.RequestToken(ctx, f.key.KeyName(), signed(f.key, clock.Now(), nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, auth.Credentials{Token: td.Token}); err != nil {
		t.Fatal(err)
	}
	badMAC := signed(f.key, clock.Now(), nil)
	badMAC.MAC = auth.TokenRequestMAC("wrong", badMAC)
	wrong := f.key.KeyName() + ":not-the-secret"
	refusals := []struct {
		name string
		run  func() error
	}{
		{"wrong secret", func() error {
			_, err := a.Authenticate(ctx, auth.Credentials{Key: wrong, TLS: true})
			return err
		}},
		{"revoked key", func() error {
			_, err := a.Authenticate(ctx, auth.Credentials{Key: f.rev.KeyString(), TLS: true})
			return err
		}},
		{"unknown key", func() error {
			_, err := a.Authenticate(ctx, auth.Credentials{Key: "noapp.nokey:secret", TLS: true})
			return err
		}},
		{"tampered token", func() error {
			_, err := a.Authenticate(ctx, auth.Credentials{Token: td.Token[:len(td.Token)-2] + "AA"})
			return err
		}},
		{"jwt of another secret", func() error {
			k := *f.key
			k.Secret = "other"
			_, err := a.Authenticate(ctx, auth.Credentials{Token: jwtFor(t, &k, map[string]any{"iat": 1, "exp": 2})})
			return err
		}},
		{"bad token request mac", func() error {
			_, err := a.RequestToken(ctx, f.key.KeyName(), badMAC, nil)
			return err
		}},
		// Not credential failures: a bad ttl in a valid request.
		{"bad ttl", func() error {
			_, err := a.RequestToken(ctx, f.key.KeyName(), signed(f.key, clock.Now(), func(r *herald.TokenRequest) { r.TTL = "-1" }), nil)
			return err
		}},
	}
	for _, r := range refusals {
		if r.run() == nil {
			t.Fatalf("%s: accepted", r.name)
		}
	}
	want := []auth.Failure{
		{AppID: "app1", KeyName: f.key.KeyName(), Method: "basic", Code: 40101, RemoteAddr: "192.0.2.7:5555"},
		{AppID: "app1", KeyName: f.rev.KeyName(), Method: "basic", Code: 40131, RemoteAddr: "192.0.2.7:5555"},
		{AppID: "", KeyName: "noapp.nokey", Method: "basic", Code: 40400, RemoteAddr: "192.0.2.7:5555"},
		{AppID: "app1", KeyName: f.key.KeyName(), Method: "token", Code: 40145, RemoteAddr: "192.0.2.7:5555"},
		{AppID: "app1", KeyName: f.key.KeyName(), Method: "jwt", Code: 40144, RemoteAddr: "192.0.2.7:5555"},
		{AppID: "app1", KeyName: f.key.KeyName(), Method: "tokenRequest", Code: 40101, RemoteAddr: "192.0.2.7:5555"},
	}
	if d := cmp.Diff(want, obs.failures); d != "" {
		t.Errorf("failures (-want +got):\n%s", d)
	}
	for _, fl := range obs.failures {
		if strings.Contains(fl.KeyName, f.key.Secret) || strings.Contains(fl.KeyName, "not-the-secret") {
			t.Errorf("failure carries secret material: %+v", fl)
		}
	}
	if d := cmp.Diff([]string{"app1|" + f.key.KeyName()}, obs.issued); d != "" {
		t.Errorf("issued (-want +got):\n%s", d)
	}
}
