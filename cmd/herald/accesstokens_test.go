package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/server"
)

// run runs the CLI with args and returns what it printed on stdout.
func run(t *testing.T, args ...string) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() { b, _ := io.ReadAll(r); done <- string(b) }()
	cmd := newRootCmd()
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(context.Background())
	w.Close()
	os.Stdout = stdout
	out := <-done
	if err != nil {
		t.Fatalf("herald %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func TestCLI_AccessTokensAndAudit(t *testing.T) {
	dir := t.TempDir()
	var created accessTokenJSON
	out := run(t, "--data-dir", dir, "--json", "access-tokens", "create", "--name", "ci", "--capabilities", "read:key,read:audit", "--expires", "720h")
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("create output %q: %v", out, err)
	}
	if created.Token == "" || !strings.HasPrefix(created.Token, created.ID+".") || created.Expires == nil ||
		strings.Join(created.Capabilities, ",") != "read:key,read:audit" {
		t.Fatalf("created %+v", created)
	}
	// The token works against the store it was made in; only its hash is kept.
	store, err := server.OpenStore(context.Background(), server.Config{Store: server.StoreConfig{DataDir: dir}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := auth.VerifyAccessToken(context.Background(), store, created.Token, time.Now()); err != nil {
		t.Errorf("created token does not verify: %v", err)
	}
	store.Close()

	var list []accessTokenJSON
	json.Unmarshal([]byte(run(t, "--data-dir", dir, "--json", "access-tokens", "list")), &list)
	if len(list) != 1 || list[0].ID != created.ID || list[0].Token != "" || list[0].Revoked != nil {
		t.Fatalf("list %+v: want the token, without its secret", list)
	}
	if out := run(t, "--data-dir", dir, "access-tokens", "list"); strings.Contains(out, created.Token) || !strings.Contains(out, "active") {
		t.Errorf("table %q", out)
	}
	run(t, "--data-dir", dir, "access-tokens", "revoke", created.ID)
	json.Unmarshal([]byte(run(t, "--data-dir", dir, "--json", "access-tokens", "list")), &list)
	if list[0].Revoked == nil {
		t.Error("revoke did not stick")
	}

	var entries []auditJSON
	json.Unmarshal([]byte(run(t, "--data-dir", dir, "--json", "audit")), &entries)
	if len(entries) != 2 || entries[0].Kind != "accessToken.revoke" || entries[1].Kind != "accessToken.create" ||
		entries[0].Actor != "cli" || entries[0].Target != created.ID {
		t.Fatalf("audit %+v", entries)
	}
	json.Unmarshal([]byte(run(t, "--data-dir", dir, "--json", "audit", "--kind", "accessToken.create")), &entries)
	if len(entries) != 1 {
		t.Errorf("--kind: %+v", entries)
	}
	if out := run(t, "--data-dir", dir, "audit"); strings.Contains(out, created.Token) || !strings.Contains(out, "accessToken.create") {
		t.Errorf("audit table %q", out)
	}
}
