package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldrt/herald/server"
)

func request(t *testing.T, method, url, authz, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestOpen_ControlAPI checks the wiring: the first start creates an access
// token (shown once), /v1 is served on the main listener, changes made
// through it apply to REST at once, and REST events (token issues, refused
// keys, revokeTokens) reach the audit log, which survives a restart.
func TestOpen_ControlAPI(t *testing.T) {
	ctx := context.Background()
	cfg := server.Config{
		HTTP:  server.HTTPConfig{Listen: "127.0.0.1:0"},
		Store: server.StoreConfig{DataDir: t.TempDir()},
		Admin: server.AdminConfig{Dev: true},
	}
	srv, err := server.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := srv.Bootstrap
	if b == nil || b.AccessToken == "" || b.App == nil {
		t.Fatalf("first start: bootstrap %+v, want an app, a key and an access token", b)
	}
	bearer := "Bearer " + b.AccessToken
	base := "http://" + srv.Addr().String()
	if st, body := request(t, "GET", base+"/v1/me", bearer, ""); st != 200 || !strings.Contains(string(body), `"write:key"`) {
		t.Fatalf("/v1/me: %d %s", st, body)
	}
	appID, root := b.App.ID, b.Key

	// A key made through the Control API works on REST at once.
	st, body := request(t, "POST", base+"/v1/apps/"+appID+"/keys", bearer, `{"name":"rev","capability":{"*":["*"]},"revocableTokens":true}`)
	if st != 201 {
		t.Fatalf("create key: %d %s", st, body)
	}
	var key struct{ ID, Key string }
	json.Unmarshal(body, &key)
	keyName, secret, _ := strings.Cut(key.Key, ":")
	basic := func(name, secret string) string {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth(name, secret)
		return req.Header.Get("Authorization")
	}
	if st, body := request(t, "POST", base+"/keys/"+keyName+"/requestToken", basic(keyName, secret), `{"clientId":"alice"}`); st != 200 {
		t.Fatalf("requestToken with the new key: %d %s", st, body)
	}
	if st, _ := request(t, "GET", base+"/stats", basic(root.KeyName(), "wrong"), ""); st != 401 {
		t.Fatalf("wrong secret: %d", st)
	}
	if st, body := request(t, "POST", base+"/keys/"+keyName+"/revokeTokens", basic(keyName, secret), `{"targets":["clientId:alice"]}`); st != 201 {
		t.Fatalf("revokeTokens: %d %s", st, body)
	}
	// Revoked through the Control API: refused on REST at once.
	if st, body := request(t, "POST", base+"/v1/apps/"+appID+"/keys/"+key.ID+"/revoke", bearer, ""); st != 200 {
		t.Fatalf("revoke key: %d %s", st, body)
	}
	st, body = request(t, "GET", base+"/stats", basic(keyName, secret), "")
	if st != 401 || !strings.Contains(string(body), "40131") {
		t.Fatalf("revoked key on REST: %d %s", st, body)
	}
	if err := srv.Close(ctx); err != nil { // writes the counted events
		t.Fatal(err)
	}

	srv2, err := server.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close(ctx)
	if srv2.Bootstrap != nil {
		t.Fatalf("second start bootstrapped again: %+v", srv2.Bootstrap)
	}
	base = "http://" + srv2.Addr().String()
	st, body = request(t, "GET", base+"/v1/apps/"+appID+"/audit", bearer, "")
	if st != 200 {
		t.Fatalf("audit: %d %s", st, body)
	}
	var entries []struct {
		Kind, Target, Address string
		Count, Code           int
	}
	json.Unmarshal(body, &entries)
	seen := map[string]bool{}
	for _, e := range entries {
		seen[e.Kind] = true
		switch {
		case e.Kind != "auth.failure":
		case e.Code == 40101 && e.Target == root.KeyName() && e.Address == "127.0.0.1" && e.Count == 1:
			seen["wrong secret"] = true
		case e.Code == 40131 && e.Target == keyName:
			seen["revoked key"] = true
		default:
			t.Errorf("auth failure entry %+v", e)
		}
	}
	for _, k := range []string{"key.create", "token.issue", "tokens.revoke", "key.revoke", "wrong secret", "revoked key"} {
		if !seen[k] {
			t.Errorf("no %s entry in %s", k, body)
		}
	}
	if strings.Contains(string(body), secret) || strings.Contains(string(body), b.AccessToken) {
		t.Error("the audit log shows a secret")
	}
	st, body = request(t, "GET", base+"/v1/accounts/"+b.App.AccountID+"/audit?kind=accessToken.create", bearer, "")
	if st != 200 || !strings.Contains(string(body), `"actor":"server"`) {
		t.Errorf("account audit: %d %s", st, body)
	}
}

// TestOpen_ControlListener serves /v1 on its own listener only.
func TestOpen_ControlListener(t *testing.T) {
	ctx := context.Background()
	srv, err := server.Open(ctx, server.Config{
		HTTP:    server.HTTPConfig{Listen: "127.0.0.1:0"},
		Store:   server.StoreConfig{DataDir: t.TempDir()},
		Control: server.ControlConfig{Listen: "127.0.0.1:0"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	bearer := "Bearer " + srv.Bootstrap.AccessToken
	if srv.ControlAddr() == nil {
		t.Fatal("no Control API listener")
	}
	if st, body := request(t, "GET", "http://"+srv.ControlAddr().String()+"/v1/me", bearer, ""); st != 200 {
		t.Errorf("/v1/me on the control listener: %d %s", st, body)
	}
	if st, _ := request(t, "GET", "http://"+srv.Addr().String()+"/v1/me", bearer, ""); st != 404 {
		t.Errorf("/v1/me on the main listener: %d, want 404", st)
	}
	disabled, err := server.Open(ctx, server.Config{HTTP: server.HTTPConfig{Listen: "127.0.0.1:0"},
		Store: server.StoreConfig{DataDir: t.TempDir()}, Control: server.ControlConfig{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer disabled.Close(ctx)
	if st, _ := request(t, "GET", "http://"+disabled.Addr().String()+"/v1/me", "Bearer "+disabled.Bootstrap.AccessToken, ""); st != 404 {
		t.Errorf("disabled Control API: %d, want 404", st)
	}
}
