package auth_test

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// MAC test vectors from the reference (ably-auth §3.3), secret s3cr3t-K3y_value.
func TestTokenRequestMAC_Vectors(t *testing.T) {
	const secret = "s3cr3t-K3y_value"
	full := &herald.TokenRequest{
		KeyName: "appId1.keyId1", TTL: "3600000",
		Capability: `{"chat:*":["presence","publish","subscribe"]}`,
		ClientID:   "alice", HasClientID: true, Timestamp: "1700000000000", Nonce: "1234567890abcdef",
	}
	if got := auth.TokenRequestMAC(secret, full); got != "B0Op/TmE0uG5PXDjzkof5RUpfHkY4mxxyoiV0CgZtog=" {
		t.Errorf("full vector: %s", got)
	}
	bare := &herald.TokenRequest{KeyName: "appId1.keyId1", Timestamp: "1700000000000", Nonce: "1234567890abcdef"}
	if got := auth.TokenRequestMAC(secret, bare); got != "Cm7euh4cC8+JcYiAa56bUhVMoGx9DbHyTQXIhYq30ek=" {
		t.Errorf("bare vector: %s", got)
	}
}

type clockVar struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clockVar) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clockVar) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newTokenFixture(t *testing.T) (*fixture, *auth.Authenticator, *clockVar) {
	t.Helper()
	f := newFixture(t)
	clock := &clockVar{t: time.Now().Truncate(time.Millisecond)}
	return f, auth.New(auth.Config{}, f.cache, f.store, clock), clock
}

func signed(k *herald.Key, now time.Time, mod func(*herald.TokenRequest)) *herald.TokenRequest {
	r := &herald.TokenRequest{KeyName: k.KeyName(), Timestamp: strconv.FormatInt(now.UnixMilli(), 10), Nonce: auth.RandomID(16)}
	if mod != nil {
		mod(r)
	}
	r.MAC = auth.TokenRequestMAC(k.Secret, r)
	return r
}

func TestRequestToken_Signed(t *testing.T) {
	f, a, clock := newTokenFixture(t)
	ctx := context.Background()
	now := clock.Now()
	td, err := a.RequestToken(ctx, f.key.KeyName(), signed(f.key, now, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if td.KeyName != f.key.KeyName() || td.Issued != now.UnixMilli() || td.Expires != now.Add(time.Hour).UnixMilli() ||
		td.Capability != f.key.Capability || td.ClientID != "" || strings.Contains(td.Token, ":") || !strings.HasPrefix(td.Token, "app1.") {
		t.Fatalf("token details %+v", td)
	}
	if len(td.Token) > auth.MaxLiteralTokenLen {
		t.Errorf("typical token is %d bytes", len(td.Token))
	}
	p, err := a.Authenticate(ctx, auth.Credentials{Token: td.Token})
	if err != nil {
		t.Fatal(err)
	}
	if p.Method != auth.MethodToken || p.KeyName != f.key.KeyName() || p.ClientID != "" || p.AnyClientID || !p.Capability.Allows("x", auth.OpPublish) {
		t.Errorf("principal %+v", p)
	}
}

func TestRequestToken_Rules(t *testing.T) {
	f, a, clock := newTokenFixture(t)
	ctx := context.Background()
	now := clock.Now()
	ms := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).UnixMilli(), 10) }
	cases := []struct {
		name   string
		key    *herald.Key
		req    *herald.TokenRequest
		code   int
		status int
	}{
		{"bad mac", f.key, func() *herald.TokenRequest { r := signed(f.key, now, nil); r.MAC = "AAAA" + r.MAC[4:]; return r }(), 40101, 401},
		{"mac by another key", f.key, func() *herald.TokenRequest { r := signed(f.sub, now, nil); r.KeyName = f.key.KeyName(); return r }(), 40101, 401},
		{"field changed after signing", f.key, func() *herald.TokenRequest {
			r := signed(f.key, now, nil)
			r.ClientID, r.HasClientID = "eve", true
			return r
		}(), 40101, 401},
		{"timestamp 2m+1ms old", f.key, signed(f.key, now, func(r *herald.TokenRequest) { r.Timestamp = ms(-2*time.Minute - time.Millisecond) }), 40104, 401},
		{"timestamp 2m+1ms ahead", f.key, signed(f.key, now, func(r *herald.TokenRequest) { r.Timestamp = ms(2*time.Minute + time.Millisecond) }), 40104, 401},
		{"timestamp 30m old", f.key, signed(f.key, now, func(r *herald.TokenRequest) { r.Timestamp = ms(-30 * time.Minute) }), 40104, 401},
		{"ttl above 24h", f.key, signed(f.key, now, func(r *herald.TokenRequest) { r.TTL = "86400001" }), 40003, 400},
		{"ttl 365 days", f.key, signed(f.key, now, func(r *herald.TokenRequest) { r.TTL = "31536000000" }), 40003, 400},
		{"negative ttl", f.key, signed(f.key, now, func(r *herald.TokenRequest) { r.TTL = "-1" }), 40003, 400},
		{"non-numeric ttl", f.key, signed(f.key, now, func(r *herald.TokenRequest) { r.TTL = "abc" }), 40003, 400},
		{"empty clientId", f.key, signed(f.key, now, func(r *herald.TokenRequest) { r.HasClientID = true }), 40012, 400},
		{"invalid capability", f.key, signed(f.key, now, func(r *herald.TokenRequest) { r.Capability = `{"x":["publish_"]}` }), 40000, 400},
		{"empty intersection", f.sub, signed(f.sub, now, func(r *herald.TokenRequest) { r.Capability = `{"x":["publish"]}` }), 40160, 401},
		{"keyName mismatch", f.key, signed(f.sub, now, nil), 40003, 400},
		{"missing nonce", f.key, &herald.TokenRequest{KeyName: f.key.KeyName(), Timestamp: ms(0), MAC: "x"}, 40001, 400},
		{"revoked key", f.rev, signed(f.rev, now, nil), 40131, 401},
		{"unsigned without auth", f.key, &herald.TokenRequest{KeyName: f.key.KeyName()}, 40101, 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.RequestToken(ctx, tc.key.KeyName(), tc.req, nil)
			e := herald.AsError(err)
			if err == nil || e.Code != tc.code || e.StatusCode != tc.status {
				t.Fatalf("err = %v, want %d/%d", err, tc.code, tc.status)
			}
		})
	}
	t.Run("unknown key", func(t *testing.T) {
		k := *f.key
		k.ID = "nope"
		_, err := a.RequestToken(ctx, k.KeyName(), signed(&k, now, nil), nil)
		if code(err) != 40400 {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("window edges accepted", func(t *testing.T) {
		for _, d := range []time.Duration{-2 * time.Minute, 2 * time.Minute, 0} {
			if _, err := a.RequestToken(ctx, f.key.KeyName(), signed(f.key, now, func(r *herald.TokenRequest) { r.Timestamp = ms(d) }), nil); err != nil {
				t.Errorf("offset %s: %v", d, err)
			}
		}
	})
}

func TestRequestToken_Replay(t *testing.T) {
	f, a, clock := newTokenFixture(t)
	ctx := context.Background()
	req := signed(f.key, clock.Now(), nil)
	if _, err := a.RequestToken(ctx, f.key.KeyName(), req, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.RequestToken(ctx, f.key.KeyName(), req, nil); code(err) != herald.CodeNonceReplayed {
		t.Fatalf("replay: %v, want 40105", err)
	}
	// The same nonce with another timestamp is another request.
	again := signed(f.key, clock.Now().Add(time.Millisecond), func(r *herald.TokenRequest) { r.Nonce = req.Nonce })
	if _, err := a.RequestToken(ctx, f.key.KeyName(), again, nil); err != nil {
		t.Fatalf("same nonce, new timestamp: %v", err)
	}
}

func TestNonceCache_BoundedAndExpiring(t *testing.T) {
	now := time.Unix(1000, 0)
	c := auth.NewNonceCache(2, func() time.Time { return now })
	exp := now.Add(time.Minute)
	if c.Add("k", "a", "1", exp) != auth.NonceNew || c.Add("k", "b", "1", exp) != auth.NonceNew {
		t.Fatal("fresh entries")
	}
	if c.Add("k", "a", "1", exp) != auth.NonceReplayed {
		t.Fatal("replay not detected")
	}
	if c.Add("k", "c", "1", exp) != auth.NonceFull {
		t.Fatal("a full cache must refuse, not forget live entries")
	}
	now = exp
	if c.Add("k", "c", "1", exp.Add(time.Minute)) != auth.NonceNew || c.Len() != 1 {
		t.Fatalf("expired entries must be swept, len %d", c.Len())
	}
}

func TestRequestToken_TTLAndCapability(t *testing.T) {
	f, a, clock := newTokenFixture(t)
	ctx := context.Background()
	now := clock.Now()
	td, err := a.RequestToken(ctx, f.key.KeyName(), signed(f.key, now, func(r *herald.TokenRequest) {
		r.TTL = "1"
		r.Capability = `{"chat:*":["subscribe","publish"],"other":["presence"]}`
		r.ClientID, r.HasClientID = "*", true
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if td.Expires-td.Issued != 1 || td.Capability != `{"chat:*":["publish","subscribe"],"other":["presence"]}` || td.ClientID != "*" {
		t.Fatalf("details %+v", td)
	}
	// A 24 h token is fine from a normal key; a revocable key caps at 1 h.
	if _, err := a.RequestToken(ctx, f.key.KeyName(), signed(f.key, now, func(r *herald.TokenRequest) { r.TTL = "86400000" }), nil); err != nil {
		t.Fatal(err)
	}
	ctx2 := context.Background()
	rk := &herald.Key{AppID: "app1", ID: "revo", Secret: auth.NewSecret(), Capability: herald.DefaultCapability, RevocableTokens: true, Created: now, Modified: now}
	if err := f.store.CreateKey(ctx2, rk); err != nil {
		t.Fatal(err)
	}
	if err := f.cache.Invalidate(ctx2); err != nil {
		t.Fatal(err)
	}
	if _, err := a.RequestToken(ctx, rk.KeyName(), signed(rk, now, func(r *herald.TokenRequest) { r.TTL = "3600001" }), nil); code(err) != 40003 {
		t.Fatalf("revocable key ttl > 1h: %v", err)
	}
	td, err = a.RequestToken(ctx, rk.KeyName(), signed(rk, now, func(r *herald.TokenRequest) { r.TTL = "3600000" }), nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Authenticate(ctx, auth.Credentials{Token: td.Token})
	if err != nil || !p.Revocable {
		t.Fatalf("revocable flag lost: %+v %v", p, err)
	}
}

func TestRequestToken_Unsigned(t *testing.T) {
	f, a, clock := newTokenFixture(t)
	ctx := context.Background()
	basic, err := a.Authenticate(ctx, auth.Credentials{Key: f.key.KeyString(), TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	td, err := a.RequestToken(ctx, f.key.KeyName(), &herald.TokenRequest{TTL: "60000"}, basic)
	if err != nil || td.Expires-td.Issued != 60000 {
		t.Fatalf("unsigned with basic: %+v %v", td, err)
	}
	tokenCaller, err := a.Authenticate(ctx, auth.Credentials{Token: td.Token})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.RequestToken(ctx, f.key.KeyName(), &herald.TokenRequest{}, tokenCaller); code(err) != herald.CodeBasicAuthRequired {
		t.Errorf("token caller: %v, want 40162", err)
	}
	other, _ := a.Authenticate(ctx, auth.Credentials{Key: f.sub.KeyString(), TLS: true})
	if _, err := a.RequestToken(ctx, f.key.KeyName(), &herald.TokenRequest{}, other); code(err) != herald.CodeIncompatibleClientID {
		t.Errorf("other key: %v, want 40102", err)
	}
	_ = clock
}

func issue(t *testing.T, a *auth.Authenticator, f *fixture, k *herald.Key, p auth.TokenParams, now time.Time) *herald.TokenDetails {
	t.Helper()
	e, err := f.cache.Lookup(context.Background(), k.KeyName())
	if err != nil {
		t.Fatal(err)
	}
	td, err := a.Issue(context.Background(), e, p, now)
	if err != nil {
		t.Fatal(err)
	}
	return td
}

func TestVerifyToken(t *testing.T) {
	f, a, clock := newTokenFixture(t)
	ctx := context.Background()
	td := issue(t, a, f, f.key, auth.TokenParams{TTL: time.Minute, ClientID: "alice", HasClientID: true}, clock.Now())

	p, err := a.Authenticate(ctx, auth.Credentials{Token: td.Token})
	if err != nil || p.ClientID != "alice" || p.AnyClientID {
		t.Fatalf("%+v %v", p, err)
	}
	raw := strings.TrimPrefix(td.Token, "app1.")
	bodyBytes, _ := base64.RawURLEncoding.DecodeString(raw)
	tampered := append([]byte(nil), bodyBytes...)
	tampered[len(tampered)-20] ^= 1 // inside the body, before the mac
	cases := []struct {
		name string
		tok  string
		code int
	}{
		{"tampered body", "app1." + base64.RawURLEncoding.EncodeToString(tampered), 40145},
		{"other app prefix", "app2." + raw, 40143},
		{"no dot", "garbage", 40145},
		{"not base64", "app1.!!!", 40145},
		{"too short", "app1.AQ", 40145},
		{"unknown version", "app1." + base64.RawURLEncoding.EncodeToString(append([]byte{9}, make([]byte, 20)...)), 40145},
		{"truncated", "app1." + raw[:len(raw)-8], 40145},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.Authenticate(ctx, auth.Credentials{Token: tc.tok})
			e := herald.AsError(err)
			if err == nil || e.Code != tc.code || e.StatusCode != 401 {
				t.Fatalf("err = %v, want %d/401", err, tc.code)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		clock.Add(time.Minute)
		_, err := a.Authenticate(ctx, auth.Credentials{Token: td.Token})
		if e := herald.AsError(err); err == nil || e.Code != 40142 || !e.IsTokenError() {
			t.Fatalf("err = %v, want 40142", err)
		}
	})
}

func TestVerifyToken_KeyRevokedKillsTokens(t *testing.T) {
	f, a, clock := newTokenFixture(t)
	ctx := context.Background()
	td := issue(t, a, f, f.key, auth.TokenParams{}, clock.Now())
	k := *f.key
	k.Status = herald.KeyRevoked
	if err := f.store.UpdateKey(ctx, &k); err != nil {
		t.Fatal(err)
	}
	if err := f.cache.Invalidate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, auth.Credentials{Token: td.Token}); code(err) != herald.CodeKeyRevoked {
		t.Fatalf("err = %v, want 40131", err)
	}
}

func TestVerifyToken_SecretChangeInvalidates(t *testing.T) {
	f, a, clock := newTokenFixture(t)
	ctx := context.Background()
	td := issue(t, a, f, f.key, auth.TokenParams{}, clock.Now())
	k := *f.key
	k.Secret = auth.NewSecret()
	if err := f.store.UpdateKey(ctx, &k); err != nil {
		t.Fatal(err)
	}
	if err := f.cache.Invalidate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, auth.Credentials{Token: td.Token}); code(err) != herald.CodeInvalidToken {
		t.Fatalf("err = %v, want 40145", err)
	}
}

func TestPersistedToken(t *testing.T) {
	f, a, clock := newTokenFixture(t)
	ctx := context.Background()
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < 40; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"room:` + strconv.Itoa(i) + `":["publish","subscribe"]`)
	}
	b.WriteString("}")
	td := issue(t, a, f, f.key, auth.TokenParams{Capability: b.String(), ClientID: "bob", HasClientID: true}, clock.Now())
	if len(td.Token) > 65 {
		t.Fatalf("persisted token is %d bytes, want ≤ 65", len(td.Token))
	}
	// A fresh authenticator has an empty cache and reads the store.
	a2 := auth.New(auth.Config{}, f.cache, f.store, clock)
	p, err := a2.Authenticate(ctx, auth.Credentials{Token: td.Token})
	if err != nil {
		t.Fatal(err)
	}
	if p.ClientID != "bob" || !p.Capability.Allows("room:39", auth.OpPublish) || p.Capability.Allows("room:40", auth.OpPublish) {
		t.Errorf("persisted principal %+v", p)
	}
	if _, err := a2.Authenticate(ctx, auth.Credentials{Token: td.Token[:len(td.Token)-2] + "AA"}); err == nil {
		t.Error("a forged persisted token must fail")
	}
	bogus := "app1." + base64.RawURLEncoding.EncodeToString(append([]byte{2}, make([]byte, 28)...))
	if _, err := a2.Authenticate(ctx, auth.Credentials{Token: bogus}); code(err) != herald.CodeTokenUnrecognised {
		t.Errorf("unknown stored token: %v, want 40143", err)
	}
}

func TestResolveClientID(t *testing.T) {
	type in struct {
		tokenID  string
		hasToken bool
		reqID    string
		hasReq   bool
	}
	cases := []struct {
		name     string
		in       in
		clientID string
		any      bool
		conn     string
		code     int
	}{
		{"bound", in{"alice", true, "", false}, "alice", false, "alice", 0},
		{"bound, same requested", in{"alice", true, "alice", true}, "alice", false, "alice", 0},
		{"bound, other requested", in{"alice", true, "bob", true}, "", false, "", 40102},
		{"wildcard, none requested", in{"*", true, "", false}, "", true, "*", 0},
		{"wildcard, requested", in{"*", true, "bob", true}, "bob", false, "bob", 0},
		{"wildcard, '*' requested", in{"*", true, "*", true}, "", false, "", 40012},
		{"anonymous", in{"", false, "", false}, "", false, "", 0},
		{"anonymous, requested", in{"", false, "bob", true}, "", false, "", 40102},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &auth.Principal{}
			err := auth.ResolveClientID(p, tc.in.tokenID, tc.in.hasToken, auth.Credentials{ClientID: tc.in.reqID, HasClientID: tc.in.hasReq})
			if tc.code != 0 {
				if code(err) != tc.code {
					t.Fatalf("err = %v, want %d", err, tc.code)
				}
				return
			}
			if err != nil || p.ClientID != tc.clientID || p.AnyClientID != tc.any || p.ConnectionClientID() != tc.conn {
				t.Fatalf("got %+v %v", p, err)
			}
		})
	}
}
