package controlapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

func TestHandler_Authentication(t *testing.T) {
	e := newEnv(t)
	id, _, _ := strings.Cut(e.expired, ".")
	tests := []struct {
		name, header string
		frag         string
	}{
		{"no Authorization", "", "Bearer"},
		{"API key as Basic", "Basic " + "YXBwMS5yb290OnJvb3RzZWNyZXQ=", "only Authorization: Bearer"},
		{"empty bearer", "Bearer ", "only Authorization: Bearer"},
		{"malformed token", "Bearer nonsense", "not a token of this server"},
		{"API key as bearer", "Bearer " + e.root.KeyString(), "not a token of this server"},
		{"wrong secret", "Bearer " + id + "." + strings.Repeat("x", 43), "not a token of this server"},
		{"expired", "Bearer " + e.expired, "expired"},
		{"revoked", "Bearer " + e.revoked, "revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.srv.URL+"/v1/me", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var ae apiError
			json.NewDecoder(resp.Body).Decode(&ae)
			if resp.StatusCode != 401 || ae.Code != herald.CodeInvalidCredentials || ae.StatusCode != 401 || !strings.Contains(ae.Message, tt.frag) {
				t.Errorf("status %d, %+v; want 401/40101 mentioning %q", resp.StatusCode, ae, tt.frag)
			}
		})
	}
	// Refusals are audited with the token's public id when it has one,
	// and never with anything else from the header.
	for _, f := range e.audit.failures {
		if f.Method != "accessToken" || f.Code != herald.CodeInvalidCredentials || !strings.HasPrefix(f.RemoteAddr, "127.0.0.1") {
			t.Errorf("failure %+v", f)
		}
		if f.KeyName != "" && !auth.IsAccessTokenID(f.KeyName) {
			t.Errorf("failure records %q, which is not an access-token id", f.KeyName)
		}
		if strings.Contains(f.KeyName, "rootsecret") || strings.Contains(f.KeyName, ".") {
			t.Errorf("failure carries secret material: %+v", f)
		}
	}
	if len(e.audit.failures) != len(tests) {
		t.Errorf("%d failures audited, want %d", len(e.audit.failures), len(tests))
	}
}

func TestHandler_Me(t *testing.T) {
	e := newEnv(t)
	var me struct {
		Token struct {
			ID           string   `json:"id"`
			Name         string   `json:"name"`
			Capabilities []string `json:"capabilities"`
			ExpiresAt    *int64   `json:"expires_at"`
			LastUsedAt   *int64   `json:"last_used_at"`
		} `json:"token"`
		Account struct{ ID, Name string } `json:"account"`
	}
	e.ok(t, "GET", "/v1/me", nil, 200, &me)
	id, _, _ := strings.Cut(e.all, ".")
	if me.Token.ID != id || !slices.Equal(me.Token.Capabilities, herald.AccessTokenCapabilities) || me.Token.ExpiresAt != nil ||
		me.Token.LastUsedAt == nil || *me.Token.LastUsedAt != e.clock.Now().UnixMilli() || me.Account.ID != account || me.Account.Name != "Herald" {
		t.Fatalf("me %+v", me)
	}
	// LastUsed is written at most once a minute.
	e.clock.Add(30 * time.Second)
	e.ok(t, "GET", "/v1/me", nil, 200, nil)
	rec, _ := e.store.AccessToken(t.Context(), id)
	if !rec.LastUsed.Equal(e.clock.Now().Add(-30 * time.Second)) {
		t.Errorf("LastUsed %v rewritten within a minute", rec.LastUsed)
	}
	e.clock.Add(time.Minute)
	e.ok(t, "GET", "/v1/me", nil, 200, nil)
	if rec, _ = e.store.AccessToken(t.Context(), id); !rec.LastUsed.Equal(e.clock.Now()) {
		t.Errorf("LastUsed %v not updated after a minute", rec.LastUsed)
	}
}

// TestHandler_Rights checks every route: a token lacking the route's
// capability gets 403/40300 naming it; a token with only that capability
// gets past authorization (here to a 404 or validation error, or 200).
func TestHandler_Rights(t *testing.T) {
	e := newEnv(t)
	routes := []struct {
		method, path, missing string // path with real ids, for the refusal
		allowed               string // same route with unknown ids, for the pass
	}{
		{"GET", "/v1/accounts/acct1/apps", herald.CapReadApp, "/v1/accounts/acct1/apps"},
		{"POST", "/v1/accounts/acct1/apps", herald.CapWriteApp, "/v1/accounts/nope/apps"},
		{"GET", "/v1/accounts/acct1/audit", herald.CapReadAudit, "/v1/accounts/nope/audit"},
		{"PATCH", "/v1/apps/app1", herald.CapWriteApp, "/v1/apps/nope"},
		{"DELETE", "/v1/apps/app1", herald.CapWriteApp, "/v1/apps/nope"},
		{"GET", "/v1/apps/app1/keys", herald.CapReadKey, "/v1/apps/nope/keys"},
		{"POST", "/v1/apps/app1/keys", herald.CapWriteKey, "/v1/apps/nope/keys"},
		{"GET", "/v1/apps/app1/keys/root", herald.CapReadKey, "/v1/apps/app1/keys/nope"},
		{"PATCH", "/v1/apps/app1/keys/root", herald.CapWriteKey, "/v1/apps/app1/keys/nope"},
		{"POST", "/v1/apps/app1/keys/root/revoke", herald.CapWriteKey, "/v1/apps/app1/keys/nope/revoke"},
		{"POST", "/v1/apps/app1/keys/root/rotate", herald.CapWriteKey, "/v1/apps/app1/keys/nope/rotate"},
		{"GET", "/v1/apps/app1/audit", herald.CapReadAudit, "/v1/apps/nope/audit"},
	}
	for _, rt := range routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			var others []string
			for _, c := range herald.AccessTokenCapabilities {
				if c != rt.missing {
					others = append(others, c)
				}
			}
			ae := e.fail(t, rt.method, rt.path, e.token(t, others...), map[string]any{}, 403, herald.CodeForbidden, "")
			if !strings.Contains(ae.Message, rt.missing) {
				t.Errorf("message %q does not name %q", ae.Message, rt.missing)
			}
			resp, b := e.do(t, rt.method, rt.allowed, e.token(t, rt.missing), map[string]any{})
			if resp.StatusCode == 401 || resp.StatusCode == 403 || resp.StatusCode >= 500 {
				t.Errorf("with %s: status %d %s", rt.missing, resp.StatusCode, b)
			}
		})
	}
	// Nothing was changed by the refused requests.
	if k, err := e.store.Key(t.Context(), "app1.root"); err != nil || k.Status != herald.KeyEnabled || k.PreviousSecret != "" {
		t.Errorf("root key after refused writes: %+v %v", k, err)
	}
}

func TestHandler_Routing(t *testing.T) {
	e := newEnv(t)
	e.fail(t, "GET", "/v1/nothing", e.all, nil, 404, herald.CodeNotFound, "")
	e.fail(t, "GET", "/v1/apps/app1", e.all, nil, 405, herald.CodeMethodNotAllow, "")
	resp, _ := e.do(t, "PUT", "/v1/apps/app1/keys", e.all, nil)
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, POST" {
		t.Errorf("PUT keys: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Error("responses (they carry key secrets) must not be cached")
	}
}
