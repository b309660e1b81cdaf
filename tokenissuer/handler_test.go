package tokenissuer_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/tokenissuer"
)

const (
	aliceSecret = "alice-bearer-secret-0123456789"
	eveSecret   = "eve-bearer-secret-0123456789ab"
)

// clock is a settable clock for the rate limiter and the tokens.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	h     http.Handler
	clock *clock
	logs  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newFixture(t *testing.T, policy string, mod func(*tokenissuer.HandlerConfig)) *fixture {
	t.Helper()
	f := &fixture{clock: &clock{t: refNow}, logs: &syncBuffer{}}
	i := newIssuer(t, tokenissuer.Config{Now: f.clock.Now})
	a, err := tokenissuer.BearerAuth(map[string]tokenissuer.Identity{
		aliceSecret: {User: "alice"},
		eveSecret:   {User: "eve:*"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := tokenissuer.HandlerConfig{
		Issuer: i, Policy: mustPolicy(t, policy), Authenticator: a,
		Logger: slog.New(slog.NewTextHandler(f.logs, nil)),
	}
	if mod != nil {
		mod(&cfg)
	}
	f.h, err = tokenissuer.NewHandler(cfg)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	return f
}

func (f *fixture) do(method, target, bearer string, hdr map[string]string, body url.Values) *httptest.ResponseRecorder {
	var r *http.Request
	if body != nil {
		r = httptest.NewRequest(method, target, strings.NewReader(body.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

func errorOf(t *testing.T, w *httptest.ResponseRecorder) *herald.Error {
	t.Helper()
	var body struct{ Error herald.Error }
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body %q: %v", w.Body.String(), err)
	}
	return &body.Error
}

const wantAliceCap = `{"chat:alice":["presence","publish","subscribe"],"notifications":["subscribe"]}`

func TestHandler_JWT(t *testing.T) {
	f := newFixture(t, chatPolicy, nil)
	w := f.do("GET", "/token", aliceSecret, map[string]string{"Accept": "application/json, text/plain"}, nil)
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/jwt" || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, headers %v, body %s", w.Code, w.Header(), w.Body)
	}
	c, err := auth.VerifyJWT(w.Body.String(), []byte(refSecret), refNow, auth.JWTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Capability != wantAliceCap || c.ClientID != "alice" || c.ExpiresAt.Sub(c.IssuedAt) != time.Hour {
		t.Errorf("claims %+v", c)
	}

	// Accept: application/json alone gets TokenDetails.
	w = f.do("POST", "/jwt", aliceSecret, map[string]string{"Accept": "application/json"}, url.Values{})
	var td tokenissuer.TokenDetails
	if err := json.Unmarshal(w.Body.Bytes(), &td); err != nil || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("TokenDetails %q: %v", w.Body, err)
	}
	if td.Capability != wantAliceCap || td.ClientID != "alice" || td.Issued != refNow.UnixMilli() || td.Expires != refNow.Add(time.Hour).UnixMilli() {
		t.Errorf("TokenDetails %+v", td)
	}
	if _, err := auth.VerifyJWT(td.Token, []byte(refSecret), refNow, auth.JWTOptions{}); err != nil {
		t.Error(err)
	}
}

func TestHandler_TokenRequest(t *testing.T) {
	f := newFixture(t, chatPolicy, nil)
	// POST with a form body, as ably-js's authMethod "POST" sends.
	w := f.do("POST", "/token-request", aliceSecret, nil, url.Values{"clientId": {"alice"}, "ttl": {"60000"}})
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d body %s", w.Code, w.Body)
	}
	var tr tokenissuer.TokenRequest
	if err := json.Unmarshal(w.Body.Bytes(), &tr); err != nil {
		t.Fatal(err)
	}
	if tr.Capability != wantAliceCap || tr.ClientID != "alice" || tr.TTL != 60000 || tr.KeyName != refKeyName {
		t.Errorf("TokenRequest %+v", tr)
	}
	hr := &herald.TokenRequest{KeyName: tr.KeyName, TTL: "60000", Capability: tr.Capability, ClientID: tr.ClientID,
		Timestamp: strconv.FormatInt(tr.Timestamp, 10), Nonce: tr.Nonce}
	if auth.TokenRequestMAC(refSecret, hr) != tr.MAC {
		t.Error("Herald does not verify the mac")
	}
	// The policy's format is used on /token.
	f = newFixture(t, `{"capability":{"a":["publish"]},"format":"tokenRequest"}`, nil)
	if w := f.do("GET", "/token", aliceSecret, nil, nil); !strings.Contains(w.Body.String(), `"mac"`) {
		t.Errorf("/token with a tokenRequest policy: %s", w.Body)
	}
	// A policy with JWT-only claims cannot issue TokenRequests.
	f = newFixture(t, `{"capability":{"a":["publish"]},"rateLimits":{"a":1}}`, nil)
	if w := f.do("GET", "/token-request", aliceSecret, nil, nil); w.Code != 403 {
		t.Errorf("TokenRequest dropping rate limits: %d %s", w.Code, w.Body)
	}
}

func TestHandler_Refusals(t *testing.T) {
	f := newFixture(t, chatPolicy, nil)
	tests := []struct {
		name           string
		method, target string
		bearer         string
		form           url.Values
		status, code   int
	}{
		{"no credentials", "GET", "/token", "", nil, 401, 40101},
		{"unknown secret", "GET", "/token", "not-a-known-secret-at-all", nil, 401, 40101},
		{"unsafe user", "GET", "/token", eveSecret, nil, 403, 40300},
		{"clientId mismatch", "GET", "/token?clientId=bob", aliceSecret, nil, 403, 40102},
		{"bad ttl", "GET", "/token?ttl=-5", aliceSecret, nil, 400, 40003},
		{"JWT ttl under a second", "GET", "/jwt?ttl=10", aliceSecret, nil, 403, 40003},
		{"unknown path", "GET", "/nope", aliceSecret, nil, 404, 40400},
		{"wrong method", "PUT", "/token", aliceSecret, nil, 405, 40500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(tt.method, tt.target, tt.bearer, nil, tt.form)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if e := errorOf(t, w); e.Code != tt.code || e.StatusCode != tt.status {
				t.Errorf("error %+v, want code %d", e, tt.code)
			}
		})
	}
}

func TestHandler_TTLParameter(t *testing.T) {
	f := newFixture(t, chatPolicy, nil)
	for _, tt := range []struct {
		ttl  string
		want time.Duration
	}{{"5000", 5 * time.Second}, {"7200000", time.Hour}} {
		w := f.do("GET", "/jwt?ttl="+tt.ttl, aliceSecret, nil, nil)
		c, err := auth.VerifyJWT(w.Body.String(), []byte(refSecret), refNow, auth.JWTOptions{})
		if err != nil {
			t.Fatalf("ttl %s: %v (%s)", tt.ttl, err, w.Body)
		}
		if got := c.ExpiresAt.Sub(c.IssuedAt); got != tt.want {
			t.Errorf("ttl=%s gave %s, want %s", tt.ttl, got, tt.want)
		}
	}
}

func TestHandler_RateLimit(t *testing.T) {
	f := newFixture(t, chatPolicy, func(c *tokenissuer.HandlerConfig) { c.RatePerSecond, c.Burst = 1, 3 })
	for n := range 3 {
		if w := f.do("GET", "/token", aliceSecret, nil, nil); w.Code != 200 {
			t.Fatalf("request %d: %d", n, w.Code)
		}
	}
	w := f.do("GET", "/token", aliceSecret, nil, nil)
	if w.Code != 429 || w.Header().Get("Retry-After") == "" || errorOf(t, w).Code != 42910 {
		t.Fatalf("4th request: %d %s", w.Code, w.Body)
	}
	f.clock.Add(time.Second)
	if w := f.do("GET", "/token", aliceSecret, nil, nil); w.Code != 200 {
		t.Errorf("after a second: %d", w.Code)
	}
	// Failed authentications are limited per address, even with a valid
	// secret afterwards.
	for range 3 {
		f.do("GET", "/token", "wrong-secret-wrong-secret", nil, nil)
	}
	if w := f.do("GET", "/token", "wrong-secret-wrong-secret", nil, nil); w.Code != 429 {
		t.Errorf("guessing: %d", w.Code)
	}
}

func TestHandler_CORS(t *testing.T) {
	f := newFixture(t, chatPolicy, func(c *tokenissuer.HandlerConfig) {
		c.CORS = tokenissuer.CORS{AllowedOrigins: []string{"https://app.example.com"}}
	})
	pre := map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET",
		"Access-Control-Request-Headers": "authorization"}
	w := f.do("OPTIONS", "/token", "", pre, nil)
	if w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		w.Header().Get("Access-Control-Allow-Headers") != "authorization" || w.Header().Get("Access-Control-Max-Age") != "600" {
		t.Errorf("preflight: %d %v", w.Code, w.Header())
	}
	pre["Origin"] = "https://evil.example"
	if w := f.do("OPTIONS", "/token", "", pre, nil); w.Code != 403 || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin: %d %v", w.Code, w.Header())
	}
	w = f.do("GET", "/token", aliceSecret, map[string]string{"Origin": "https://app.example.com"}, nil)
	if w.Code != 200 || w.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" || w.Header().Get("Vary") != "Origin" {
		t.Errorf("GET: %d %v", w.Code, w.Header())
	}
	for _, cors := range []tokenissuer.CORS{
		{AllowedOrigins: []string{"*"}, AllowCredentials: true},
		{AllowedOrigins: []string{"app.example.com"}},
		{AllowedOrigins: []string{"https://app.example.com/path"}},
	} {
		_, err := tokenissuer.NewHandler(tokenissuer.HandlerConfig{Issuer: newIssuer(t, tokenissuer.Config{}),
			Policy: mustPolicy(t, chatPolicy), Authenticator: tokenissuer.QueryAuth("u"), CORS: cors})
		if err == nil {
			t.Errorf("CORS %+v accepted", cors)
		}
	}
}

func TestHandler_HeaderAuth(t *testing.T) {
	a, err := tokenissuer.HeaderAuth("X-Authenticated-User", map[string]string{"group": "X-Authenticated-Group"},
		[]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, `{"capability":{"team:{group}":["subscribe"],"chat:{clientId}":["publish"]},"clientId":"{user}"}`,
		func(c *tokenissuer.HandlerConfig) { c.Authenticator = a })
	get := func(remote string, hdr map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/token", nil)
		r.RemoteAddr = remote
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		return w
	}
	hdr := map[string]string{"X-Authenticated-User": "carol", "X-Authenticated-Group": "ops"}
	w := get("10.1.2.3:5555", hdr)
	c, err := auth.VerifyJWT(w.Body.String(), []byte(refSecret), refNow, auth.JWTOptions{})
	if err != nil {
		t.Fatalf("%d %s: %v", w.Code, w.Body, err)
	}
	if c.ClientID != "carol" || c.Capability != `{"chat:carol":["publish"],"team:ops":["subscribe"]}` {
		t.Errorf("claims %+v", c)
	}
	if w := get("[::1]:5555", hdr); w.Code != 200 {
		t.Errorf("IPv6 proxy: %d", w.Code)
	}
	if w := get("192.0.2.9:5555", hdr); w.Code != 401 {
		t.Errorf("untrusted peer setting the header: %d", w.Code)
	}
	if w := get("10.1.2.3:5555", map[string]string{"X-Authenticated-User": "carol"}); w.Code != 403 {
		t.Errorf("missing group: %d", w.Code)
	}
	if w := get("10.1.2.3:5555", nil); w.Code != 401 {
		t.Errorf("no user header: %d", w.Code)
	}
	if _, err := tokenissuer.HeaderAuth("X-User", nil, nil); err == nil {
		t.Error("HeaderAuth without trusted proxies accepted")
	}
}

func TestBearerAuth_RefusesShortSecrets(t *testing.T) {
	if _, err := tokenissuer.BearerAuth(map[string]tokenissuer.Identity{"short": {User: "a"}}); err == nil {
		t.Error("short secret accepted")
	}
	if _, err := tokenissuer.BearerAuth(map[string]tokenissuer.Identity{aliceSecret: {}}); err == nil {
		t.Error("identity without user accepted")
	}
}

// TestHandler_NeverLogsSecrets runs successes and failures and checks that
// neither the key secret, nor bearer secrets, nor tokens reach the log.
func TestHandler_NeverLogsSecrets(t *testing.T) {
	f := newFixture(t, chatPolicy, nil)
	var issued []string
	for _, target := range []string{"/token", "/jwt", "/token-request", "/token?clientId=x"} {
		w := f.do("GET", target, aliceSecret, nil, nil)
		issued = append(issued, w.Body.String())
	}
	f.do("GET", "/token", "a-wrong-secret-1234567", nil, nil)
	f.do("GET", "/token", eveSecret, nil, nil)
	logs := f.logs.String()
	if !strings.Contains(logs, "token issued") || !strings.Contains(logs, "token refused") {
		t.Fatalf("expected log lines, got:\n%s", logs)
	}
	for _, secret := range append([]string{refSecret, aliceSecret, "a-wrong-secret-1234567", eveSecret}, issued[:2]...) {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
	var tr tokenissuer.TokenRequest
	json.Unmarshal([]byte(issued[2]), &tr)
	if tr.MAC == "" || strings.Contains(logs, tr.MAC) {
		t.Errorf("mac %q in logs or missing", tr.MAC)
	}
}

func TestHandler_Healthz(t *testing.T) {
	f := newFixture(t, chatPolicy, nil)
	w := f.do("GET", "/healthz", "", nil, nil)
	if b, _ := io.ReadAll(w.Body); w.Code != 200 || string(b) != "ok\n" {
		t.Errorf("%d %q", w.Code, b)
	}
}

func TestNewHandler_Config(t *testing.T) {
	i := newIssuer(t, tokenissuer.Config{Revocable: true})
	p := mustPolicy(t, `{"capability":{"a":["publish"]},"ttl":"2h"}`)
	if _, err := tokenissuer.NewHandler(tokenissuer.HandlerConfig{Issuer: i, Policy: p, Authenticator: tokenissuer.QueryAuth("u")}); err == nil {
		t.Error("policy ttl above the revocable key's 1h accepted")
	}
	if _, err := tokenissuer.NewHandler(tokenissuer.HandlerConfig{Issuer: i, Policy: p}); err == nil {
		t.Error("missing Authenticator accepted")
	}
}
