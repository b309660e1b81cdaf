package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

func TestParseTarget(t *testing.T) {
	good := map[string][2]string{
		"clientId:alice":        {"clientId", "alice"},
		"revocationKey:group:1": {"revocationKey", "group:1"},
		"channel:foo:*":         {"channel", "foo:*"},
		"clientId:a:b:c":        {"clientId", "a:b:c"},
	}
	for in, want := range good {
		typ, val, err := auth.ParseTarget(in)
		if err != nil || typ != want[0] || val != want[1] {
			t.Errorf("ParseTarget(%q) = %q %q %v", in, typ, val, err)
		}
	}
	for _, in := range []string{"", "clientId", "clientId:", "invalidType:abc", ":x", "ClientId:x", "channel"} {
		_, _, err := auth.ParseTarget(in)
		if e := herald.AsError(err); err == nil || e.Code != 40000 || e.StatusCode != 400 {
			t.Errorf("ParseTarget(%q) = %v, want 40000/400", in, err)
		}
	}
}

func principalFor(t *testing.T, method auth.Method, issued time.Time, clientID, revKey, capability string) *auth.Principal {
	t.Helper()
	c, err := auth.ParseCapability(capability)
	if err != nil {
		t.Fatal(err)
	}
	return &auth.Principal{KeyName: "app.k", Method: method, Revocable: true, Issued: issued,
		TokenClientID: clientID, RevocationKey: revKey, Capability: c}
}

func TestRevocationIndex(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	x := auth.NewRevocationIndex()
	rule := func(typ, val string, ib, at time.Time) *herald.Revocation {
		return &herald.Revocation{AppID: "app", KeyName: "app.k", Type: typ, Value: val, IssuedBefore: ib, AppliesAt: at, Expires: ib.Add(time.Hour)}
	}
	x.Add(
		rule(herald.TargetClientID, "alice", t0, t0),
		rule(herald.TargetRevocationKey, "g1", t0, t0.Add(30*time.Second)),
		rule(herald.TargetChannel, "chat:*", t0, t0),
	)
	cases := []struct {
		name string
		p    *auth.Principal
		now  time.Time
		want int
	}{
		{"clientId, issued before", principalFor(t, auth.MethodToken, t0.Add(-time.Millisecond), "alice", "", `{"x":["*"]}`), t0, 40141},
		{"clientId, issued at issuedBefore", principalFor(t, auth.MethodToken, t0, "alice", "", `{"x":["*"]}`), t0, 0},
		{"other clientId", principalFor(t, auth.MethodToken, t0.Add(-time.Minute), "bob", "", `{"x":["*"]}`), t0, 0},
		{"revocationKey before appliesAt", principalFor(t, auth.MethodJWT, t0.Add(-time.Minute), "", "g1", `{"x":["*"]}`), t0.Add(29 * time.Second), 0},
		{"revocationKey at appliesAt", principalFor(t, auth.MethodJWT, t0.Add(-time.Minute), "", "g1", `{"x":["*"]}`), t0.Add(30 * time.Second), 40141},
		{"channel resource equal", principalFor(t, auth.MethodToken, t0.Add(-time.Minute), "", "", `{"chat:*":["subscribe"]}`), t0, 40141},
		{"channel resource not equal", principalFor(t, auth.MethodToken, t0.Add(-time.Minute), "", "", `{"chat:room1":["subscribe"],"*:*":["publish"]}`), t0, 0},
		// A JWT's iat has whole seconds: one issued in the revocation's
		// second is not revoked.
		{"JWT same second", principalFor(t, auth.MethodJWT, t0.Add(500*time.Millisecond).Truncate(time.Second), "alice", "", `{"x":["*"]}`), t0.Add(time.Second), 0},
		{"JWT earlier second", principalFor(t, auth.MethodJWT, t0.Add(-time.Second), "alice", "", `{"x":["*"]}`), t0, 40141},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := code(x.Check(tc.p, tc.now)); got != tc.want {
				t.Errorf("Check = %d, want %d", got, tc.want)
			}
		})
	}
	nonRevocable := principalFor(t, auth.MethodToken, t0.Add(-time.Minute), "alice", "", `{"x":["*"]}`)
	nonRevocable.Revocable = false
	if err := x.Check(nonRevocable, t0); err != nil {
		t.Error("tokens of keys without revocableTokens are never revoked")
	}
	basic := principalFor(t, auth.MethodBasic, time.Time{}, "alice", "", `{"x":["*"]}`)
	if err := x.Check(basic, t0); err != nil {
		t.Error("Basic auth is never revoked by revokeTokens")
	}
	if x.Len() != 3 {
		t.Fatalf("Len %d", x.Len())
	}
	x.Prune(t0.Add(time.Hour + time.Millisecond))
	if x.Len() != 0 {
		t.Errorf("rules past their expiry must be pruned: %d left", x.Len())
	}
}

// TestAuthenticate_Revoked runs the whole path: a revocable token, a rule,
// 40141 for the old token and a fresh token after the revocation works.
func TestAuthenticate_Revoked(t *testing.T) {
	f, a, clock := newTokenFixture(t)
	ctx := context.Background()
	rk := &herald.Key{AppID: "app1", ID: "revo", Secret: auth.NewSecret(), Capability: herald.DefaultCapability, RevocableTokens: true, Created: clock.Now(), Modified: clock.Now()}
	if err := f.store.CreateKey(ctx, rk); err != nil {
		t.Fatal(err)
	}
	f.cache.Invalidate(ctx)
	old := issue(t, a, f, rk, auth.TokenParams{ClientID: "alice", HasClientID: true}, clock.Now())
	clock.Add(time.Millisecond)
	a.Revocations().Add(&herald.Revocation{AppID: "app1", KeyName: rk.KeyName(), Type: herald.TargetClientID, Value: "alice",
		IssuedBefore: clock.Now(), AppliesAt: clock.Now(), Expires: clock.Now().Add(time.Hour)})
	_, err := a.Authenticate(ctx, auth.Credentials{Token: old.Token})
	if e := herald.AsError(err); err == nil || e.Code != 40141 || !e.IsTokenError() {
		t.Fatalf("revoked token: %v", err)
	}
	clock.Add(time.Millisecond)
	fresh := issue(t, a, f, rk, auth.TokenParams{ClientID: "alice", HasClientID: true}, clock.Now())
	if _, err := a.Authenticate(ctx, auth.Credentials{Token: fresh.Token}); err != nil {
		t.Fatalf("token issued after the revocation: %v", err)
	}
}

func BenchmarkRevocationCheck(b *testing.B) {
	for _, n := range []int{0, 1000, 1_000_000} {
		b.Run(itoaB(n), func(b *testing.B) {
			x := auth.NewRevocationIndex()
			t0 := time.Unix(1_800_000_000, 0)
			rules := make([]*herald.Revocation, n)
			for i := range rules {
				rules[i] = &herald.Revocation{KeyName: "app.k", Type: herald.TargetClientID, Value: "user-" + itoaB(i),
					IssuedBefore: t0, AppliesAt: t0, Expires: t0.Add(time.Hour)}
			}
			x.Load(rules)
			c, _ := auth.ParseCapability(`{"chat:*":["publish","subscribe"],"notifications":["subscribe"]}`)
			p := &auth.Principal{KeyName: "app.k", Method: auth.MethodToken, Revocable: true, Issued: t0.Add(-time.Minute),
				TokenClientID: "someone-else", Capability: c}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if x.Check(p, t0) != nil {
					b.Fatal("unexpected revocation")
				}
			}
		})
	}
}

func itoaB(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
