package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// rotate rotates k in the store with overlap and reloads the cache, as the
// Control API does.
func rotate(t *testing.T, f *fixture, k *herald.Key, now time.Time, overlap time.Duration) *herald.Key {
	t.Helper()
	rotated := *k
	auth.Rotate(&rotated, now, overlap)
	if err := f.store.UpdateKey(context.Background(), &rotated); err != nil {
		t.Fatal(err)
	}
	if err := f.cache.Invalidate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &rotated
}

// TestRotation_Overlap checks that everything made with the old secret —
// Basic auth, a signed token request, an Ably token and a JWT — works
// until the overlap ends and fails from then on, while the new secret works
// throughout; all with an injected clock.
func TestRotation_Overlap(t *testing.T) {
	f, a, clock := newTokenFixture(t)
	ctx := context.Background()
	start := clock.Now()
	old := *f.key

	// Made before the rotation, with the old secret.
	oldTD, err := a.RequestToken(ctx, old.KeyName(), signed(&old, start, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	iat := start.Unix()
	oldJWT := jwtFor(t, &old, map[string]any{"iat": iat, "exp": iat + 3600})
	basicBefore, err := a.Authenticate(ctx, auth.Credentials{Key: old.KeyString(), TLS: true})
	if err != nil {
		t.Fatal(err)
	}

	const overlap = 10 * time.Minute
	cur := rotate(t, f, &old, start, overlap)
	if cur.Secret == old.Secret || cur.PreviousSecret != old.Secret || !cur.PreviousExpires.Equal(start.Add(overlap)) {
		t.Fatalf("Rotate: secret %q previous %q until %v", cur.Secret[:4], cur.PreviousSecret[:4], cur.PreviousExpires)
	}
	newJWT := jwtFor(t, cur, map[string]any{"iat": iat, "exp": iat + 3600})

	type check struct {
		name string
		run  func(now time.Time) error
	}
	basic := func(k *herald.Key) func(time.Time) error {
		return func(time.Time) error {
			_, err := a.Authenticate(ctx, auth.Credentials{Key: k.KeyString(), TLS: true})
			return err
		}
	}
	bearer := func(tok string) func(time.Time) error {
		return func(time.Time) error { _, err := a.Authenticate(ctx, auth.Credentials{Token: tok}); return err }
	}
	tokenRequest := func(k *herald.Key) func(time.Time) error {
		return func(now time.Time) error {
			_, err := a.RequestToken(ctx, k.KeyName(), signed(k, now, nil), nil)
			return err
		}
	}
	oldChecks := []check{
		{"basic", basic(&old)},
		{"signed token request", tokenRequest(&old)},
		{"ably token", bearer(oldTD.Token)},
		{"jwt", bearer(oldJWT)},
	}
	newChecks := []check{
		{"basic", basic(cur)},
		{"signed token request", tokenRequest(cur)},
		{"jwt", bearer(newJWT)},
	}
	wantOldCodes := map[string]int{"basic": 40101, "signed token request": 40101, "ably token": 40145, "jwt": 40144}

	for _, step := range []struct {
		name      string
		at        time.Duration
		oldWorks  bool
		principal bool // basicBefore's secret still valid
	}{
		{"just after rotation", time.Second, true, true},
		{"one ms before the end", overlap - time.Millisecond, true, true},
		{"at the end", overlap, false, false},
		{"long after", 5 * overlap, false, false},
	} {
		t.Run(step.name, func(t *testing.T) {
			clock.mu.Lock()
			clock.t = start.Add(step.at)
			clock.mu.Unlock()
			now := clock.Now()
			for _, c := range oldChecks {
				err := c.run(now)
				switch {
				case step.oldWorks && err != nil:
					t.Errorf("old secret, %s: %v; want accepted during the overlap", c.name, err)
				case !step.oldWorks && code(err) != wantOldCodes[c.name]:
					t.Errorf("old secret, %s: %v; want %d after the overlap", c.name, err, wantOldCodes[c.name])
				}
			}
			for _, c := range newChecks {
				if err := c.run(now); err != nil {
					t.Errorf("new secret, %s: %v", c.name, err)
				}
			}
			e, err := a.Keys().Lookup(ctx, old.KeyName())
			if err != nil {
				t.Fatal(err)
			}
			if got := e.BasicSecretValid(basicBefore, now); got != step.principal {
				t.Errorf("BasicSecretValid(connection made before the rotation) = %v, want %v", got, step.principal)
			}
		})
	}

	t.Run("messages say the secret was rotated", func(t *testing.T) {
		_, err := a.Authenticate(ctx, auth.Credentials{Key: old.KeyString(), TLS: true})
		if msg := herald.AsError(err).Message; !strings.Contains(msg, "rotated") || strings.Contains(msg, old.Secret) {
			t.Errorf("Basic message %q: want it to say rotated, never the secret", msg)
		}
		_, err = a.Authenticate(ctx, auth.Credentials{Token: oldTD.Token})
		if msg := herald.AsError(err).Message; !strings.Contains(msg, "rotated") || !herald.AsError(err).IsTokenError() {
			t.Errorf("token error %v: want a token error (SDKs renew) saying rotated", err)
		}
	})
}

// TestRotation_Principal checks how a Basic principal records which secret
// it used, and BasicSecretValid across a second rotation.
func TestRotation_Principal(t *testing.T) {
	f, a, clock := newTokenFixture(t)
	ctx := context.Background()
	now := clock.Now()
	old := *f.key
	cur := rotate(t, f, &old, now, time.Hour)

	pOld, err := a.Authenticate(ctx, auth.Credentials{Key: old.KeyString(), TLS: true})
	if err != nil || !pOld.PreviousSecret {
		t.Fatalf("old secret during overlap: %v, PreviousSecret %v", err, pOld != nil && pOld.PreviousSecret)
	}
	pNew, err := a.Authenticate(ctx, auth.Credentials{Key: cur.KeyString(), TLS: true})
	if err != nil || pNew.PreviousSecret {
		t.Fatalf("new secret: %v, PreviousSecret %v", err, pNew != nil && pNew.PreviousSecret)
	}

	// A second rotation drops the first secret at once.
	third := rotate(t, f, cur, now, time.Hour)
	e, err := a.Keys().Lookup(ctx, old.KeyName())
	if err != nil {
		t.Fatal(err)
	}
	if e.BasicSecretValid(pOld, now) {
		t.Error("the first secret is still valid after a second rotation")
	}
	if !e.BasicSecretValid(pNew, now) {
		t.Error("the second secret is not valid during the second overlap")
	}
	if _, err := a.Authenticate(ctx, auth.Credentials{Key: old.KeyString(), TLS: true}); code(err) != 40101 {
		t.Errorf("first secret after a second rotation: %v, want 40101", err)
	}

	// Overlap 0 ends the old secret immediately.
	fourth := rotate(t, f, third, now, 0)
	if fourth.PreviousSecret != "" || !fourth.PreviousExpires.IsZero() {
		t.Errorf("overlap 0 kept previous secret until %v", fourth.PreviousExpires)
	}
	if _, err := a.Authenticate(ctx, auth.Credentials{Key: third.KeyString(), TLS: true}); code(err) != 40101 {
		t.Errorf("secret replaced with no overlap: %v, want 40101", err)
	}
}

// TestRotation_NewTokensUseNewSecret checks that tokens issued during the
// overlap are signed with the new secret: they outlive the old one.
func TestRotation_NewTokensUseNewSecret(t *testing.T) {
	f, a, clock := newTokenFixture(t)
	ctx := context.Background()
	old := *f.key
	rotate(t, f, &old, clock.Now(), time.Minute)
	td, err := a.RequestToken(ctx, old.KeyName(), signed(&old, clock.Now(), nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(2 * time.Minute)
	if _, err := a.Authenticate(ctx, auth.Credentials{Token: td.Token}); err != nil {
		t.Errorf("token issued during the overlap stopped working with the old secret: %v", err)
	}
}
