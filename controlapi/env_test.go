package controlapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/controlapi"
	"github.com/heraldrt/herald/sqlitestore"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *fakeClock) Set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// auditor writes entries straight to the store and keeps refused access
// tokens, as the server's recorder would (without the per-minute counting).
type auditor struct {
	store    herald.AuditStore
	mu       sync.Mutex
	failures []auth.Failure
}

func (a *auditor) Record(ctx context.Context, e *herald.AuditEntry) {
	if err := a.store.AppendAudit(ctx, e); err != nil {
		panic(err)
	}
}

func (a *auditor) AuthFailed(f auth.Failure) {
	a.mu.Lock()
	a.failures = append(a.failures, f)
	a.mu.Unlock()
}

type env struct {
	srv     *httptest.Server
	store   *sqlitestore.DB
	keys    *auth.KeyCache
	auth    *auth.Authenticator
	clock   *fakeClock
	audit   *auditor
	deleted []string // apps OnAppDeleted saw
	root    *herald.Key
	// Access tokens by role: every capability, read-only, expired,
	// revoked, and one of another account.
	all, readOnly, expired, revoked, foreign string
}

const account = "acct1"

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(t.TempDir(), "h.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := &fakeClock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	e := &env{store: db, clock: clock, audit: &auditor{store: db}}
	now := clock.Now()
	app := &herald.App{ID: "app1", AccountID: account, Name: "First", Status: herald.AppEnabled, Created: now, Modified: now}
	e.root = &herald.Key{AppID: "app1", ID: "root", Secret: "rootsecret-rootsecret", Name: "Root",
		Capability: `{"*":["subscribe","publish"]}`, Created: now, Modified: now}
	other := &herald.App{ID: "other", AccountID: "acct2", Name: "Not ours", Status: herald.AppEnabled, Created: now, Modified: now}
	otherKey := &herald.Key{AppID: "other", ID: "k", Secret: "s", Capability: herald.DefaultCapability, Created: now, Modified: now}
	for _, p := range []*herald.Provisioning{{App: app, Keys: []*herald.Key{e.root}}, {App: other, Keys: []*herald.Key{otherKey}}} {
		if err := db.Provision(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(acct string, caps []string, expires time.Time, revoked bool) string {
		tok, rec := auth.NewAccessToken(acct, "test", caps, expires, now)
		if revoked {
			rec.Revoked = now
		}
		if err := db.CreateAccessToken(ctx, rec); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	e.all = mk(account, herald.AccessTokenCapabilities, time.Time{}, false)
	e.readOnly = mk(account, []string{herald.CapReadApp, herald.CapReadKey}, now.Add(365*24*time.Hour), false)
	e.expired = mk(account, herald.AccessTokenCapabilities, now.Add(-time.Second), false)
	e.revoked = mk(account, herald.AccessTokenCapabilities, time.Time{}, true)
	e.foreign = mk("acct2", herald.AccessTokenCapabilities, time.Time{}, false)

	e.keys = auth.NewKeyCache(db, auth.KeyCacheConfig{PollInterval: time.Hour})
	if err := e.keys.Load(ctx); err != nil {
		t.Fatal(err)
	}
	e.auth = auth.New(auth.Config{AllowInsecureBasic: true}, e.keys, db, clock)
	h := controlapi.New(controlapi.Config{AccountID: account}, controlapi.Deps{
		Store: db, Keys: e.keys, Audit: e.audit, Clock: clock,
		OnAppDeleted: func(id string) { e.deleted = append(e.deleted, id) },
	})
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

// do sends a request with token as the bearer access token ("" = none);
// body is sent as is when it is a string, else as JSON.
func (e *env) do(t *testing.T, method, path, token string, body any) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// ok sends a request that must answer status, and decodes the body into out
// (when not nil).
func (e *env) ok(t *testing.T, method, path string, body any, status int, out any) http.Header {
	t.Helper()
	resp, b := e.do(t, method, path, e.all, body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body %s", method, path, resp.StatusCode, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: body %s: %v", method, path, b, err)
		}
	}
	return resp.Header
}

// apiError is the Control API error body.
type apiError struct {
	Message    string            `json:"message"`
	Code       int               `json:"code"`
	StatusCode int               `json:"statusCode"`
	Href       string            `json:"href"`
	Details    map[string]string `json:"details"`
}

// fail sends a request that must fail with status and code; field, when
// not "", must be named in details.field.
func (e *env) fail(t *testing.T, method, path, token string, body any, status, code int, field string) apiError {
	t.Helper()
	resp, b := e.do(t, method, path, token, body)
	var ae apiError
	if err := json.Unmarshal(b, &ae); err != nil {
		t.Fatalf("%s %s: error body %s is not JSON", method, path, b)
	}
	if resp.StatusCode != status || ae.Code != code || ae.StatusCode != status || ae.Message == "" ||
		!strings.HasSuffix(ae.Href, "/"+strconv.Itoa(code)) || resp.Header.Get("X-Ably-Errorcode") != strconv.Itoa(code) {
		t.Fatalf("%s %s: status %d body %s; want status %d code %d", method, path, resp.StatusCode, b, status, code)
	}
	if resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	if field != "" && ae.Details["field"] != field {
		t.Fatalf("%s %s: details %v, want field %q (message %q)", method, path, ae.Details, field, ae.Message)
	}
	return ae
}

// auditEntries lists the app's (or, with "", every) audit entry.
func (e *env) auditEntries(t *testing.T, appID string) []*herald.AuditEntry {
	t.Helper()
	got, err := e.store.Audit(context.Background(), herald.AuditQuery{AppID: appID})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// token creates an access token of the env's account with caps.
func (e *env) token(t *testing.T, caps ...string) string {
	t.Helper()
	tok, rec := auth.NewAccessToken(account, "test", caps, time.Time{}, e.clock.Now())
	if err := e.store.CreateAccessToken(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	return tok
}
