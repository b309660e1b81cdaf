package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/server"
)

func TestOpen_BootstrapAndPersistence(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cfg := server.Config{
		HTTP:  server.HTTPConfig{Listen: "127.0.0.1:0"},
		Store: server.StoreConfig{DataDir: dir},
		Admin: server.AdminConfig{Dev: true},
	}
	srv, err := server.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if srv.Bootstrap == nil || srv.Bootstrap.Key.Capability != `{"*":["*"]}` {
		t.Fatalf("empty store must bootstrap a default app and root key: %+v", srv.Bootstrap)
	}
	key := srv.Bootstrap.Key.KeyString()
	base := "http://" + srv.Addr().String()
	resp, err := http.Get(base + "/time")
	if err != nil {
		t.Fatal(err)
	}
	var ts []int64
	if err := json.NewDecoder(resp.Body).Decode(&ts); err != nil || len(ts) != 1 || time.Since(time.UnixMilli(ts[0])) > time.Minute {
		t.Fatalf("time %v %v", ts, err)
	}
	resp.Body.Close()
	statsOK := func(base string) int {
		req, _ := http.NewRequest("GET", base+"/stats", nil)
		req.SetBasicAuth(srv.Bootstrap.Key.KeyName(), srv.Bootstrap.Key.Secret)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if s := statsOK(base); s != 200 {
		t.Fatalf("stats with root key: %d", s)
	}
	if err := srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(ctx); err != nil {
		t.Fatalf("Close must be idempotent: %v", err)
	}
	// Reopen: no second bootstrap, the same key still works.
	srv2, err := server.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close(ctx)
	if srv2.Bootstrap != nil {
		t.Fatal("a non-empty store must not bootstrap again")
	}
	if s := statsOK("http://" + srv2.Addr().String()); s != 200 {
		t.Fatalf("key %q lost across restart: %d", key[:13], s)
	}
	if _, err := filepath.Glob(filepath.Join(dir, "herald.db")); err != nil {
		t.Fatal(err)
	}
}

func TestConfig_Validate(t *testing.T) {
	for name, cfg := range map[string]server.Config{
		"cert without key": {HTTP: server.HTTPConfig{TLSCertFile: "c.pem"}},
		"bad proxy":        {HTTP: server.HTTPConfig{TrustedProxies: []string{"not-an-ip"}}},
	} {
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s: Validate accepted it", name)
		}
	}
	ok := server.Config{HTTP: server.HTTPConfig{TrustedProxies: []string{"10.0.0.0/8", "::1"}}}
	if err := ok.Validate(); err != nil {
		t.Error(err)
	}
}

// Revocation rules survive a restart: they are loaded from the store.
func TestRevocation_SurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cfg := server.Config{HTTP: server.HTTPConfig{Listen: "127.0.0.1:0"}, Store: server.StoreConfig{DataDir: dir}, Admin: server.AdminConfig{Dev: true}}
	srv, err := server.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	k := srv.Bootstrap.Key
	k.RevocableTokens = true
	if err := srv.Store().UpdateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	srv.KeyCache().Invalidate(ctx)
	base := "http://" + srv.Addr().String()
	do := func(base, method, path, body string, basic bool, bearer string) *http.Response {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Ably-Version", "6")
		if basic {
			req.SetBasicAuth(k.KeyName(), k.Secret)
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := do(base, "POST", "/keys/"+k.KeyName()+"/requestToken", `{"clientId":"alice"}`, true, "")
	var td struct{ Token string }
	json.NewDecoder(r.Body).Decode(&td)
	r.Body.Close()
	time.Sleep(2 * time.Millisecond)
	if r := do(base, "POST", "/keys/"+k.KeyName()+"/revokeTokens", `{"targets":["clientId:alice"]}`, true, ""); r.StatusCode != 201 {
		t.Fatalf("revoke: %d", r.StatusCode)
	}
	srv.Close(ctx)
	srv2, err := server.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close(ctx)
	r = do("http://"+srv2.Addr().String(), "GET", "/stats", "", false, td.Token)
	var e struct{ Error struct{ Code int } }
	json.NewDecoder(r.Body).Decode(&e)
	if r.StatusCode != 401 || e.Error.Code != 40141 {
		t.Fatalf("after restart: %d %d", r.StatusCode, e.Error.Code)
	}
}
