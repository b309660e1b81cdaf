package auth_test

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// FuzzTokenDecode feeds arbitrary token strings to the verifier (it must
// never panic, and anything it accepts must be a token this server issued
// and can explain), and round-trips issued tokens built from fuzzed fields.
func FuzzTokenDecode(f *testing.F) {
	fx := newFixture(f)
	// A fixed clock: a 1 ms token issued "now" is still valid "now".
	now := time.Now()
	a := auth.New(auth.Config{}, fx.cache, fx.store, herald.ClockFunc(func() time.Time { return now }))
	e, err := fx.cache.Lookup(context.Background(), fx.key.KeyName())
	if err != nil {
		f.Fatal(err)
	}
	td, err := a.Issue(context.Background(), e, auth.TokenParams{ClientID: "alice", HasClientID: true}, now)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(td.Token, "bob", int64(60000), `{"x":["publish"]}`)
	f.Add("app1.AQ", "", int64(1), "")
	f.Add("app1."+base64.RawURLEncoding.EncodeToString([]byte{1, 0, 4, 'r', 'o', 'o', 't', 1, 1, 0}), "*", int64(3600000), `{"*":["*"]}`)
	f.Add("app1."+base64.RawURLEncoding.EncodeToString(append([]byte{2}, make([]byte, 28)...)), "x:y", int64(5), `{"[*]*":["subscribe"]}`)
	f.Add("", "", int64(0), "")
	f.Fuzz(func(t *testing.T, tok, clientID string, ttlMS int64, capability string) {
		ctx := context.Background()
		if p, err := a.Authenticate(ctx, auth.Credentials{Token: tok}); err == nil {
			if p.KeyName == "" || p.Capability == nil || p.Expires.IsZero() {
				t.Fatalf("accepted token %q with incomplete principal %+v", tok, p)
			}
		} else if e := herald.AsError(err); e.Code < 40000 || e.Code >= 50000 {
			t.Fatalf("token %q: non-client error %v", tok, err)
		}
		// Round trip: whatever Issue accepts, Verify gives back unchanged.
		params := auth.TokenParams{TTL: time.Duration(ttlMS) * time.Millisecond, Capability: capability, ClientID: clientID, HasClientID: clientID != ""}
		td, err := a.Issue(ctx, e, params, now)
		if err != nil {
			return
		}
		c, _, _, err := a.VerifyToken(ctx, td.Token)
		if err != nil {
			t.Fatalf("issued token does not verify: %v (params %+v)", err, params)
		}
		if c.ClientID != clientID || c.Capability != td.Capability || c.Expires.UnixMilli() != td.Expires {
			t.Fatalf("round trip changed claims: %+v vs %+v", c, td)
		}
	})
}
