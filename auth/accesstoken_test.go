package auth_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

func TestAccessToken_NewAndVerify(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	token, rec := auth.NewAccessToken("acct", "ci", []string{herald.CapReadKey}, now.Add(time.Hour), now)
	if strings.Contains(token, ":") || !strings.HasPrefix(token, rec.ID+".") || !auth.IsAccessTokenID(rec.ID) {
		t.Fatalf("token %q does not have the form <id>.<secret> (id %q)", token, rec.ID)
	}
	if !bytes.Equal(rec.Hash, auth.HashAccessToken(token)) || bytes.Contains(rec.Hash, []byte(token)) {
		t.Fatal("the record must hold the token's SHA-256 and never the token")
	}
	if err := f.store.CreateAccessToken(ctx, rec); err != nil {
		t.Fatal(err)
	}
	revokedTok, revoked := auth.NewAccessToken("acct", "old", []string{herald.CapReadKey}, time.Time{}, now)
	revoked.Revoked = now.Add(-time.Minute)
	if err := f.store.CreateAccessToken(ctx, revoked); err != nil {
		t.Fatal(err)
	}
	id, secret, _ := strings.Cut(token, ".")
	other, _ := auth.NewAccessToken("acct", "never stored", nil, time.Time{}, now)
	tests := []struct {
		name  string
		token string
		at    time.Time
		ok    bool
		frag  string
	}{
		{"valid", token, now, true, ""},
		{"valid until just before expiry", token, now.Add(time.Hour - time.Millisecond), true, ""},
		{"expired at expiry", token, now.Add(time.Hour), false, "expired"},
		{"wrong secret", id + "." + strings.Repeat("A", len(secret)), now, false, "not a token of this server"},
		{"unknown id", other, now, false, "not a token of this server"},
		{"malformed", "garbage", now, false, "not a token of this server"},
		{"api key shape", "app1.root:secret", now, false, "not a token of this server"},
		{"secret too short", id + "." + secret[:10], now, false, "not a token of this server"},
		{"revoked", revokedTok, now, false, "revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := auth.VerifyAccessToken(ctx, f.store, tt.token, tt.at)
			if tt.ok {
				if err != nil || got.ID != rec.ID {
					t.Fatalf("VerifyAccessToken: %v", err)
				}
				return
			}
			e := herald.AsError(err)
			if e.Code != 40101 || e.StatusCode != 401 || !strings.Contains(e.Message, tt.frag) {
				t.Errorf("error %v: want 40101/401 mentioning %q", err, tt.frag)
			}
			if strings.Contains(e.Message, secret) {
				t.Error("the message repeats the token's secret")
			}
		})
	}
}

func TestValidateAccessTokenCapabilities(t *testing.T) {
	for _, tt := range []struct {
		caps []string
		ok   bool
	}{
		{herald.AccessTokenCapabilities, true},
		{[]string{herald.CapReadApp}, true},
		{nil, false},
		{[]string{"read:rule"}, false},
		{[]string{herald.CapReadKey, herald.CapReadKey}, false},
	} {
		if err := auth.ValidateAccessTokenCapabilities(tt.caps); (err == nil) != tt.ok {
			t.Errorf("%v: %v, want ok=%v", tt.caps, err, tt.ok)
		}
	}
}
