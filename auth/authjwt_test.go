package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

func jwtFor(t testing.TB, k *herald.Key, claims map[string]any) string {
	t.Helper()
	tok, err := auth.SignJWT(k.KeyName(), []byte(k.Secret), claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestAuthenticate_JWT(t *testing.T) {
	f, a, clock := newTokenFixture(t)
	ctx := context.Background()
	now := clock.Now().Unix()
	base := func(extra map[string]any) map[string]any {
		m := map[string]any{"iat": now, "exp": now + 600}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	p, err := a.Authenticate(ctx, auth.Credentials{Token: jwtFor(t, f.key, base(map[string]any{
		"x-ably-capability":     `{"chat:*":["publish","subscribe"],"x":["presence"]}`,
		"x-ably-clientId":       "alice",
		"x-ably-revocation-key": "group-1",
		"ably.channel.chat:*":   "moderator",
		"ably.limits.publish.perAttachment.maxRate.chat:1": 2,
	}))})
	if err != nil {
		t.Fatal(err)
	}
	if p.Method != auth.MethodJWT || p.ClientID != "alice" || p.RevocationKey != "group-1" || p.Expires.Unix() != now+600 {
		t.Fatalf("principal %+v", p)
	}
	if !p.Capability.Allows("chat:1", auth.OpPublish) || p.Capability.Allows("other", auth.OpSubscribe) {
		t.Errorf("capability %s", p.Capability.Raw())
	}
	if c, ok := p.ChannelClaims.Lookup("chat:1"); !ok || c != "moderator" {
		t.Errorf("channel claim %q %v", c, ok)
	}
	if r, ok := p.RateLimits.Lookup("chat:1"); !ok || r != 2 {
		t.Errorf("rate limit %v %v", r, ok)
	}
	// Object-valued capability and no capability (= the key's).
	p, err = a.Authenticate(ctx, auth.Credentials{Token: jwtFor(t, f.sub, base(map[string]any{"x-ably-capability": map[string]any{"a": []string{"subscribe", "publish"}}}))})
	if err != nil || p.Capability.Allows("a", auth.OpPublish) || !p.Capability.Allows("a", auth.OpSubscribe) {
		t.Fatalf("object capability ∩ subscribe-only key: %v %v", p, err)
	}
	p, err = a.Authenticate(ctx, auth.Credentials{Token: jwtFor(t, f.sub, base(nil))})
	if err != nil || p.Capability.Raw() != f.sub.Capability {
		t.Fatalf("absent capability must be the key's: %v %v", p, err)
	}
	cases := []struct {
		name   string
		tok    string
		code   int
		status int
	}{
		{"empty intersection", jwtFor(t, f.sub, base(map[string]any{"x-ably-capability": `{"a":["publish"]}`})), 40160, 401},
		{"expired", jwtFor(t, f.key, map[string]any{"iat": now - 100, "exp": now - 1}), 40142, 401},
		{"revoked key", jwtFor(t, f.rev, base(nil)), 40131, 401},
		{"unknown key", func() string { k := *f.key; k.ID = "nope"; return jwtFor(t, &k, base(nil)) }(), 40400, 404},
		{"wrong secret", func() string { k := *f.key; k.Secret = "other"; return jwtFor(t, &k, base(nil)) }(), 40144, 401},
		{"clientId mismatch", "", 40102, 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := auth.Credentials{Token: tc.tok}
			if tc.name == "clientId mismatch" {
				c = auth.Credentials{Token: jwtFor(t, f.key, base(map[string]any{"x-ably-clientId": "alice"})), ClientID: "bob", HasClientID: true}
			}
			_, err := a.Authenticate(ctx, c)
			e := herald.AsError(err)
			if err == nil || e.Code != tc.code || e.StatusCode != tc.status {
				t.Fatalf("err = %v, want %d/%d", err, tc.code, tc.status)
			}
		})
	}
}

func TestAuthenticate_EmbeddedToken(t *testing.T) {
	f, a, clock := newTokenFixture(t)
	ctx := context.Background()
	td := issue(t, a, f, f.key, auth.TokenParams{TTL: 10 * time.Minute, ClientID: "carol", HasClientID: true}, clock.Now())
	// The outer JWT is signed with the customer's own secret: never checked.
	outer, err := auth.SignJWT("customer-key", []byte("customer-secret"), map[string]any{
		"iat": clock.Now().Unix(), "exp": clock.Now().Add(5 * time.Minute).Unix(), "x-ably-token": td.Token})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Authenticate(ctx, auth.Credentials{Token: outer})
	if err != nil || p.ClientID != "carol" || p.Method != auth.MethodToken {
		t.Fatalf("embedded: %+v %v", p, err)
	}
	late, _ := auth.SignJWT("customer-key", []byte("customer-secret"), map[string]any{
		"iat": clock.Now().Unix(), "exp": clock.Now().Add(time.Hour).Unix(), "x-ably-token": td.Token})
	if _, err := a.Authenticate(ctx, auth.Credentials{Token: late}); code(err) != herald.CodeInvalidJWT {
		t.Fatalf("outer exp after inner expiry: %v, want 40144", err)
	}
}

func BenchmarkAuthenticateJWT(b *testing.B) {
	f := newFixture(b)
	a := auth.New(auth.Config{}, f.cache, f.store, nil)
	now := time.Now().Unix()
	tok := jwtFor(b, f.key, map[string]any{"iat": now, "exp": now + 3600,
		"x-ably-capability": `{"chat:*":["publish","subscribe","presence"],"notifications":["subscribe"]}`,
		"x-ably-clientId":   "alice"})
	ctx := context.Background()
	c := auth.Credentials{Token: tok}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.Authenticate(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}
