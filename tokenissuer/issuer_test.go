package tokenissuer_test

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/tokenissuer"
)

// The key and instant of the reference's vectors (ably-auth §3.3, §4.1).
const (
	refKeyName = "appId1.keyId1"
	refSecret  = "s3cr3t-K3y_value"
	refKey     = refKeyName + ":" + refSecret
)

var refNow = time.Unix(1700000000, 0)

func newIssuer(t testing.TB, cfg tokenissuer.Config) *tokenissuer.Issuer {
	t.Helper()
	if cfg.Key == "" {
		cfg.Key = refKey
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return refNow }
	}
	i, err := tokenissuer.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return i
}

// TestMAC_ReferenceVectors checks the two vectors of ably-auth §3.3.
func TestMAC_ReferenceVectors(t *testing.T) {
	tests := []struct {
		name string
		req  tokenissuer.TokenRequest
		want string
	}{
		{"all fields", tokenissuer.TokenRequest{
			KeyName: refKeyName, TTL: 3600000,
			Capability: `{"chat:*":["presence","publish","subscribe"]}`, ClientID: "alice",
			Timestamp: 1700000000000, Nonce: "1234567890abcdef",
		}, "B0Op/TmE0uG5PXDjzkof5RUpfHkY4mxxyoiV0CgZtog="},
		{"no ttl, capability or clientId", tokenissuer.TokenRequest{
			KeyName: refKeyName, Timestamp: 1700000000000, Nonce: "1234567890abcdef",
		}, "Cm7euh4cC8+JcYiAa56bUhVMoGx9DbHyTQXIhYq30ek="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tokenissuer.MAC(refSecret, &tt.req); got != tt.want {
				t.Errorf("MAC = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestCreateTokenRequest_HeraldMAC checks issued TokenRequests against
// Herald's own verifier, auth.TokenRequestMAC, over the decimal text the
// server receives.
func TestCreateTokenRequest_HeraldMAC(t *testing.T) {
	i := newIssuer(t, tokenissuer.Config{})
	for _, p := range []tokenissuer.TokenParams{
		{},
		{ClientID: "alice", TTL: 90 * time.Second},
		{ClientID: "*", Capability: tokenissuer.Capability{"chat:*": {"subscribe", "publish", "publish"}, "[meta]log": {"*"}}},
		{ClientID: "Zoë <zoe@example.com>", Capability: tokenissuer.Capability{`quote"d\`: {"history"}}},
	} {
		r, err := i.CreateTokenRequest(p)
		if err != nil {
			t.Fatalf("CreateTokenRequest(%+v): %v", p, err)
		}
		hr := &herald.TokenRequest{KeyName: r.KeyName, Capability: r.Capability, ClientID: r.ClientID,
			Timestamp: strconv.FormatInt(r.Timestamp, 10), Nonce: r.Nonce}
		if r.TTL != 0 {
			hr.TTL = strconv.FormatInt(r.TTL, 10)
		}
		if want := auth.TokenRequestMAC(refSecret, hr); r.MAC != want {
			t.Errorf("%+v: mac %s, Herald computes %s", p, r.MAC, want)
		}
		if r.Timestamp != refNow.UnixMilli() || len(r.Nonce) != 32 || r.KeyName != refKeyName {
			t.Errorf("timestamp %d, nonce %q, keyName %q", r.Timestamp, r.Nonce, r.KeyName)
		}
		wantTTL := p.TTL
		if wantTTL == 0 {
			wantTTL = time.Hour
		}
		if r.TTL != wantTTL.Milliseconds() {
			t.Errorf("ttl %d, want %d", r.TTL, wantTTL.Milliseconds())
		}
		if p.Capability != nil {
			c, err := auth.ParseCapability(r.Capability)
			if err != nil {
				t.Fatalf("Herald refuses the capability %s: %v", r.Capability, err)
			}
			if c.Canonical() != r.Capability {
				t.Errorf("capability %s is not canonical; Herald: %s", r.Capability, c.Canonical())
			}
		}
	}
}

func TestCreateTokenRequest_FreshNonces(t *testing.T) {
	i := newIssuer(t, tokenissuer.Config{})
	seen := map[string]bool{}
	for range 100 {
		r, err := i.CreateTokenRequest(tokenissuer.TokenParams{})
		if err != nil {
			t.Fatal(err)
		}
		if seen[r.Nonce] {
			t.Fatalf("nonce %s repeated", r.Nonce)
		}
		seen[r.Nonce] = true
	}
}

// TestMintJWT_ReferenceVector reproduces the composed JWT of ably-auth §4.1.
func TestMintJWT_ReferenceVector(t *testing.T) {
	const want = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiIsImtpZCI6ImFwcElkMS5rZXlJZDEifQ." +
		"eyJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMCwieC1hYmx5LWNhcGFiaWxpdHkiOiJ7XCJjaGF0OipcIjpbXCJwdWJsaXNoXCIsXCJzdWJzY3JpYmVcIl19IiwieC1hYmx5LWNsaWVudElkIjoiYWxpY2UifQ." +
		"o4WEqRaf2cBpnwTDSb296FDVXJAsrjFguneVbWSe4CY"
	i := newIssuer(t, tokenissuer.Config{})
	td, err := i.MintJWT(tokenissuer.TokenParams{
		TTL:        time.Hour,
		Capability: tokenissuer.Capability{"chat:*": {"subscribe", "publish"}},
		ClientID:   "alice",
	})
	if err != nil {
		t.Fatal(err)
	}
	if td.Token != want {
		t.Errorf("JWT\n got %s\nwant %s", td.Token, want)
	}
	wantTD := tokenissuer.TokenDetails{Token: want, KeyName: refKeyName, Issued: 1700000000000, Expires: 1700003600000,
		Capability: `{"chat:*":["publish","subscribe"]}`, ClientID: "alice"}
	if diff := cmp.Diff(wantTD, *td); diff != "" {
		t.Errorf("TokenDetails (-want +got):\n%s", diff)
	}
}

// TestMintJWT_HeraldVerifies mints JWTs with every claim and checks that
// Herald's verifier, auth.VerifyJWT, accepts them and reads back exactly
// what was asked for.
func TestMintJWT_HeraldVerifies(t *testing.T) {
	tests := []struct {
		name      string
		cfg       tokenissuer.Config
		p         tokenissuer.TokenParams
		revocable bool
	}{
		{name: "minimal", p: tokenissuer.TokenParams{Capability: tokenissuer.Capability{"*": {"*"}}}},
		{name: "every claim", p: tokenissuer.TokenParams{
			TTL:           24 * time.Hour,
			Capability:    tokenissuer.Capability{"chat:alice": {"publish", "subscribe", "presence"}, "notifications": {"subscribe"}},
			ClientID:      "alice",
			RevocationKey: "group-1",
			ChannelClaims: map[string]string{"chat:*": `{"role":"moderator"}`, "*": "guest"},
			RateLimits:    map[string]float64{"chat:*": 0.1, "chat:alice": 5},
		}},
		{name: "wildcard clientId, odd characters", p: tokenissuer.TokenParams{
			TTL:        90*time.Second + 500*time.Millisecond, // fraction dropped
			Capability: tokenissuer.Capability{"[*]*": {"subscribe"}, "x<&>\u2028": {"publish"}},
			ClientID:   "*",
		}},
		{name: "revocable key, 1h", cfg: tokenissuer.Config{Revocable: true}, revocable: true,
			p: tokenissuer.TokenParams{TTL: time.Hour, Capability: tokenissuer.Capability{"a": {"publish"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := newIssuer(t, tt.cfg)
			td, err := i.MintJWT(tt.p)
			if err != nil {
				t.Fatalf("MintJWT: %v", err)
			}
			h, err := auth.ParseJWTHeader(td.Token)
			if err != nil || h.Kid != refKeyName || h.Alg != "HS256" || h.Typ != "JWT" {
				t.Fatalf("header %+v, err %v", h, err)
			}
			got, err := auth.VerifyJWT(td.Token, []byte(refSecret), refNow, auth.JWTOptions{Revocable: tt.revocable})
			if err != nil {
				t.Fatalf("Herald refuses the JWT: %v", err)
			}
			ttl := tt.p.TTL.Truncate(time.Second)
			if ttl == 0 {
				ttl = time.Hour
			}
			canon, _ := tt.p.Capability.Canonical()
			want := &auth.JWTClaims{
				KeyName: refKeyName, IssuedAt: refNow.UTC(), ExpiresAt: refNow.Add(ttl).UTC(),
				Capability: canon, HasCapability: true,
				ClientID: tt.p.ClientID, HasClientID: tt.p.ClientID != "",
				RevocationKey: tt.p.RevocationKey,
				ChannelClaims: tt.p.ChannelClaims, RateLimits: tt.p.RateLimits,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
			if _, err := auth.ParseCapability(got.Capability); err != nil {
				t.Errorf("Herald refuses the capability: %v", err)
			}
			if td.Issued != refNow.UnixMilli() || td.Expires != refNow.Add(ttl).UnixMilli() {
				t.Errorf("issued %d expires %d", td.Issued, td.Expires)
			}
		})
	}
}

func TestMintJWT_Deterministic(t *testing.T) {
	i := newIssuer(t, tokenissuer.Config{})
	p := tokenissuer.TokenParams{Capability: tokenissuer.Capability{"b": {"publish"}, "a": {"subscribe"}},
		ChannelClaims: map[string]string{"z": "1", "y": "2", "x": "3"}, RateLimits: map[string]float64{"q": 1, "p": 2}}
	first, err := i.MintJWT(p)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		again, _ := i.MintJWT(p)
		if again.Token != first.Token {
			t.Fatal("equal inputs gave different JWTs")
		}
	}
}

// TestIssuer_RefusesBeforeSigning feeds every kind of invalid input to
// both kinds of token and checks the Ably error code and that nothing was
// signed (no HMAC state was ever created).
func TestIssuer_RefusesBeforeSigning(t *testing.T) {
	ok := tokenissuer.Capability{"chat": {"publish"}}
	many := tokenissuer.Capability{}
	for n := range 1001 {
		many["r"+strconv.Itoa(n)] = []string{"publish"}
	}
	big := tokenissuer.Capability{}
	for n := range 200 {
		big["a-fairly-long-channel-name-"+strconv.Itoa(n)] = []string{"publish", "subscribe"}
	}
	tests := []struct {
		name      string
		cfg       tokenissuer.Config
		p         tokenissuer.TokenParams
		code      int
		jwtOnly   bool // only the JWT is refused
		tokenOnly bool // only the TokenRequest is refused
	}{
		{name: "negative ttl", p: tokenissuer.TokenParams{TTL: -time.Second, Capability: ok}, code: 40003},
		{name: "ttl over 24h", p: tokenissuer.TokenParams{TTL: 24*time.Hour + time.Second, Capability: ok}, code: 40003},
		{name: "ttl over 1h on a revocable key", cfg: tokenissuer.Config{Revocable: true},
			p: tokenissuer.TokenParams{TTL: time.Hour + time.Second, Capability: ok}, code: 40003},
		{name: "ttl over Config.MaxTTL", cfg: tokenissuer.Config{MaxTTL: time.Minute},
			p: tokenissuer.TokenParams{TTL: 2 * time.Minute, Capability: ok}, code: 40003},
		{name: "JWT ttl under a second", p: tokenissuer.TokenParams{TTL: 500 * time.Millisecond, Capability: ok}, code: 40003, jwtOnly: true},
		{name: "ttl under a millisecond", p: tokenissuer.TokenParams{TTL: time.Microsecond, Capability: ok}, code: 40003},
		{name: "JWT without capability", p: tokenissuer.TokenParams{}, code: 40000, jwtOnly: true},
		{name: "empty capability", p: tokenissuer.TokenParams{Capability: tokenissuer.Capability{}}, code: 40000},
		{name: "empty resource", p: tokenissuer.TokenParams{Capability: tokenissuer.Capability{"": {"publish"}}}, code: 40000},
		{name: "resource starting with ':'", p: tokenissuer.TokenParams{Capability: tokenissuer.Capability{":x": {"publish"}}}, code: 40000},
		{name: "unknown qualifier", p: tokenissuer.TokenParams{Capability: tokenissuer.Capability{"[foo]x": {"publish"}}}, code: 40000},
		{name: "qualifier without name", p: tokenissuer.TokenParams{Capability: tokenissuer.Capability{"[meta]": {"publish"}}}, code: 40000},
		{name: "unterminated qualifier", p: tokenissuer.TokenParams{Capability: tokenissuer.Capability{"[meta": {"publish"}}}, code: 40000},
		{name: "two qualifiers", p: tokenissuer.TokenParams{Capability: tokenissuer.Capability{"[meta][queue]x": {"publish"}}}, code: 40000},
		{name: "line break in resource", p: tokenissuer.TokenParams{Capability: tokenissuer.Capability{"a\nb": {"publish"}}}, code: 40000},
		{name: "resource not UTF-8", p: tokenissuer.TokenParams{Capability: tokenissuer.Capability{"a\xffb": {"publish"}}}, code: 40000},
		{name: "resource too long", p: tokenissuer.TokenParams{Capability: tokenissuer.Capability{strings.Repeat("a", 2049): {"publish"}}}, code: 40000},
		{name: "empty op list", p: tokenissuer.TokenParams{Capability: tokenissuer.Capability{"a": {}}}, code: 40000},
		{name: "* with other ops", p: tokenissuer.TokenParams{Capability: tokenissuer.Capability{"a": {"*", "publish"}}}, code: 40000},
		{name: "unknown op", p: tokenissuer.TokenParams{Capability: tokenissuer.Capability{"a": {"publish_"}}}, code: 40000},
		{name: "op family wildcard", p: tokenissuer.TokenParams{Capability: tokenissuer.Capability{"a": {"object-*"}}}, code: 40000},
		{name: "too many resources", p: tokenissuer.TokenParams{Capability: many}, code: 40000},
		{name: "clientId not UTF-8", p: tokenissuer.TokenParams{Capability: ok, ClientID: "a\xff"}, code: 40012},
		{name: "clientId with control character", p: tokenissuer.TokenParams{Capability: ok, ClientID: "a\x00b"}, code: 40012},
		{name: "clientId too long", p: tokenissuer.TokenParams{Capability: ok, ClientID: strings.Repeat("a", 1025)}, code: 40012},
		{name: "revocation key with newline", p: tokenissuer.TokenParams{Capability: ok, RevocationKey: "a\nb"}, code: 40003, jwtOnly: true},
		{name: "revocation key too long", p: tokenissuer.TokenParams{Capability: ok, RevocationKey: strings.Repeat("k", 1025)}, code: 40003, jwtOnly: true},
		{name: "channel claim with bad resource", p: tokenissuer.TokenParams{Capability: ok, ChannelClaims: map[string]string{":x": "v"}}, code: 40003, jwtOnly: true},
		{name: "channel claim not UTF-8", p: tokenissuer.TokenParams{Capability: ok, ChannelClaims: map[string]string{"x": "\xff"}}, code: 40003, jwtOnly: true},
		{name: "rate limit zero", p: tokenissuer.TokenParams{Capability: ok, RateLimits: map[string]float64{"x": 0}}, code: 40003, jwtOnly: true},
		{name: "rate limit negative", p: tokenissuer.TokenParams{Capability: ok, RateLimits: map[string]float64{"x": -1}}, code: 40003, jwtOnly: true},
		{name: "rate limit NaN", p: tokenissuer.TokenParams{Capability: ok, RateLimits: map[string]float64{"x": math.NaN()}}, code: 40003, jwtOnly: true},
		{name: "rate limit infinite", p: tokenissuer.TokenParams{Capability: ok, RateLimits: map[string]float64{"x": math.Inf(1)}}, code: 40003, jwtOnly: true},
		{name: "rate limit bad resource", p: tokenissuer.TokenParams{Capability: ok, RateLimits: map[string]float64{"[x]y": 1}}, code: 40003, jwtOnly: true},
		{name: "JWT over 8 KiB", p: tokenissuer.TokenParams{Capability: big}, code: 40003, jwtOnly: true},
		{name: "revocation key in a TokenRequest", p: tokenissuer.TokenParams{Capability: ok, RevocationKey: "g"}, code: 40002, tokenOnly: true},
		{name: "channel claims in a TokenRequest", p: tokenissuer.TokenParams{Capability: ok, ChannelClaims: map[string]string{"x": "v"}}, code: 40002, tokenOnly: true},
		{name: "rate limits in a TokenRequest", p: tokenissuer.TokenParams{Capability: ok, RateLimits: map[string]float64{"x": 1}}, code: 40002, tokenOnly: true},
	}
	for _, tt := range tests {
		for _, kind := range []string{"JWT", "TokenRequest"} {
			t.Run(tt.name+"/"+kind, func(t *testing.T) {
				i := newIssuer(t, tt.cfg)
				signed := tokenissuer.CountSigning(i)
				var err error
				if kind == "JWT" {
					_, err = i.MintJWT(tt.p)
				} else {
					_, err = i.CreateTokenRequest(tt.p)
				}
				refused := !(kind == "JWT" && tt.tokenOnly) && !(kind == "TokenRequest" && tt.jwtOnly)
				if !refused {
					// Fine for this kind, or refused for its JWT-only fields,
					// which their own cases test.
					if err != nil && herald.AsError(err).Code != 40002 {
						t.Fatalf("unexpected error %v", err)
					}
					return
				}
				var e *herald.Error
				if !errors.As(err, &e) {
					t.Fatalf("err = %v, want a *herald.Error with code %d", err, tt.code)
				}
				if e.Code != tt.code || e.StatusCode != 400 {
					t.Errorf("code %d status %d (%s), want %d/400", e.Code, e.StatusCode, e.Message, tt.code)
				}
				if *signed != 0 {
					t.Errorf("signed %d time(s) before refusing", *signed)
				}
			})
		}
	}
}

func TestNew_RefusesBadKeys(t *testing.T) {
	for _, key := range []string{
		"", "no-colon", "nodot:secret", ".keyId:secret", "appId.:secret", "appId.keyId:",
		"app Id.keyId:secret", "app/Id.keyId:secret", "appId.keyId:sec\x00ret",
		"appId.keyId:" + strings.Repeat("s", 257),
	} {
		_, err := tokenissuer.New(tokenissuer.Config{Key: key})
		if err == nil {
			t.Errorf("New(%q) accepted", key)
			continue
		}
		_, secret, _ := strings.Cut(key, ":")
		if e := herald.AsError(err); e.Code != 40005 || (len(secret) > 3 && strings.Contains(e.Message, secret)) {
			t.Errorf("New(%q): %v", key, err)
		}
	}
	if _, err := tokenissuer.New(tokenissuer.Config{Key: refKey, MaxTTL: -1}); err == nil {
		t.Error("negative MaxTTL accepted")
	}
	i := newIssuer(t, tokenissuer.Config{Key: "a.b:c:d"}) // the secret runs to the end (RSA11)
	if i.KeyName() != "a.b" {
		t.Errorf("KeyName %q", i.KeyName())
	}
}

func TestIssuer_MaxTTL(t *testing.T) {
	for _, tt := range []struct {
		cfg  tokenissuer.Config
		want time.Duration
	}{
		{tokenissuer.Config{}, 24 * time.Hour},
		{tokenissuer.Config{Revocable: true}, time.Hour},
		{tokenissuer.Config{Revocable: true, MaxTTL: 2 * time.Hour}, time.Hour},
		{tokenissuer.Config{MaxTTL: 10 * time.Minute}, 10 * time.Minute},
	} {
		if got := newIssuer(t, tt.cfg).MaxTTL(); got != tt.want {
			t.Errorf("%+v: MaxTTL %s, want %s", tt.cfg, got, tt.want)
		}
	}
	// With a MaxTTL under an hour the default TTL shrinks to it.
	i := newIssuer(t, tokenissuer.Config{MaxTTL: 10 * time.Minute})
	td, err := i.MintJWT(tokenissuer.TokenParams{Capability: tokenissuer.Capability{"a": {"publish"}}})
	if err != nil || td.Expires-td.Issued != (10*time.Minute).Milliseconds() {
		t.Errorf("default ttl under MaxTTL: %+v %v", td, err)
	}
}
