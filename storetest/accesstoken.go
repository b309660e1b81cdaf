package storetest

import (
	"testing"
	"time"

	"github.com/heraldrt/herald"
)

// testKeyRotation checks that a key's previous secret and its expiry round
// trip through CreateKey and UpdateKey, that a zero expiry comes back zero,
// and that clearing them sticks.
func testKeyRotation(t *testing.T, newStore func(t *testing.T) herald.Store) {
	s := newStore(t)
	createApp(t, s, newApp("app1", t0))
	k := newKey("app1", "k1", t0)
	createKey(t, s, k)
	diff(t, "Key without rotation", k, getKey(t, s, k.KeyName()))
	if got := getKey(t, s, k.KeyName()); !got.PreviousExpires.IsZero() || got.PreviousSecret != "" {
		t.Errorf("new key has previous secret %q until %v; want none", got.PreviousSecret, got.PreviousExpires)
	}

	rotated := copyKey(k)
	rotated.PreviousSecret, rotated.PreviousExpires = k.Secret, at(time.Hour)
	rotated.Secret, rotated.Modified = "secret-k1-v2", at(time.Minute)
	before := generation(t, s)
	check(t, "UpdateKey rotate", s.UpdateKey(t.Context(), copyKey(rotated)))
	diff(t, "Key after rotation", rotated, getKey(t, s, k.KeyName()))
	if generation(t, s) == before {
		t.Error("Generation unchanged by a rotation")
	}

	cleared := copyKey(rotated)
	cleared.PreviousSecret, cleared.PreviousExpires = "", time.Time{}
	check(t, "UpdateKey clear", s.UpdateKey(t.Context(), copyKey(cleared)))
	diff(t, "Key after clearing", cleared, getKey(t, s, k.KeyName()))

	created := newKey("app1", "k2", t0)
	created.PreviousSecret, created.PreviousExpires = "old", at(time.Second)
	createKey(t, s, created)
	diff(t, "Key created mid-rotation", created, getKey(t, s, created.KeyName()))
	diff(t, "Keys", []*herald.Key{cleared, created}, listKeys(t, s, "app1"))

	// EndKeyRotations clears only the windows that have ended (the end
	// itself included), keeps Modified, and moves Generation.
	later := newKey("app1", "k3", t0)
	later.PreviousSecret, later.PreviousExpires = "old3", at(time.Hour)
	createKey(t, s, later)
	before = generation(t, s)
	n, err := s.EndKeyRotations(t.Context(), at(time.Second))
	check(t, "EndKeyRotations", err)
	if n != 1 {
		t.Errorf("EndKeyRotations cleared %d keys, want 1", n)
	}
	if generation(t, s) == before {
		t.Error("Generation unchanged by EndKeyRotations")
	}
	ended := copyKey(created)
	ended.PreviousSecret, ended.PreviousExpires = "", time.Time{}
	diff(t, "Keys after EndKeyRotations", []*herald.Key{cleared, ended, later}, listKeys(t, s, "app1"))
	before = generation(t, s)
	if n, err := s.EndKeyRotations(t.Context(), at(time.Second)); err != nil || n != 0 {
		t.Errorf("EndKeyRotations again = %d, %v; want 0", n, err)
	}
	if generation(t, s) != before {
		t.Error("Generation changed by an EndKeyRotations that cleared nothing")
	}
}

// testAccessTokens checks access tokens: round trip (optional times zero),
// order, duplicates, unknown ids, revocation keeping the first time, and
// touch changing nothing but LastUsed.
func testAccessTokens(t *testing.T, newStore func(t *testing.T) herald.Store) {
	s := newStore(t)
	ctx := t.Context()
	mk := func(id string) *herald.AccessToken {
		return &herald.AccessToken{ID: id, AccountID: "acct-1", Name: "token " + id,
			Capabilities: []string{herald.CapReadKey, herald.CapWriteKey}, Hash: []byte("hash-" + id), Created: t0}
	}
	get := func(id string) *herald.AccessToken {
		t.Helper()
		tok, err := s.AccessToken(ctx, id)
		check(t, "AccessToken "+id, err)
		return tok
	}
	a, b := mk("atB"), mk("atA")
	b.Expires, b.Capabilities = at(30*24*time.Hour), nil
	for _, tok := range []*herald.AccessToken{a, b} {
		c := *tok
		check(t, "CreateAccessToken "+tok.ID, s.CreateAccessToken(ctx, &c))
		diff(t, "AccessToken "+tok.ID, tok, get(tok.ID))
	}
	list, err := s.AccessTokens(ctx)
	check(t, "AccessTokens", err)
	diff(t, "AccessTokens in creation order", []*herald.AccessToken{a, b}, list)

	dup := mk("atB")
	wantErr(t, "CreateAccessToken duplicate", s.CreateAccessToken(ctx, dup), herald.ErrConflict)
	_, err = s.AccessToken(ctx, "nope")
	wantErr(t, "AccessToken unknown", err, herald.ErrNotFound)
	wantErr(t, "RevokeAccessToken unknown", s.RevokeAccessToken(ctx, "nope", at(0)), herald.ErrNotFound)
	wantErr(t, "TouchAccessToken unknown", s.TouchAccessToken(ctx, "nope", at(0)), herald.ErrNotFound)

	check(t, "TouchAccessToken", s.TouchAccessToken(ctx, a.ID, at(time.Minute)))
	a.LastUsed = at(time.Minute)
	diff(t, "after touch", a, get(a.ID))
	check(t, "RevokeAccessToken", s.RevokeAccessToken(ctx, a.ID, at(time.Hour)))
	check(t, "RevokeAccessToken again", s.RevokeAccessToken(ctx, a.ID, at(2*time.Hour)))
	a.Revoked = at(time.Hour)
	diff(t, "after revoke: the first time is kept", a, get(a.ID))
	// A touch racing a revocation must not undo it.
	check(t, "TouchAccessToken revoked", s.TouchAccessToken(ctx, a.ID, at(3*time.Hour)))
	a.LastUsed = at(3 * time.Hour)
	diff(t, "touch after revoke", a, get(a.ID))

	zero := &herald.AccessToken{ID: "atZ", AccountID: "acct-1", Hash: []byte{1}}
	check(t, "CreateAccessToken zero created", s.CreateAccessToken(ctx, zero))
	if got := get("atZ"); got.Created.IsZero() {
		t.Error("zero Created not set")
	}
}
