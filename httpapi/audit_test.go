package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/httpapi"
)

type fakeAuditor struct {
	mu      sync.Mutex
	entries []*herald.AuditEntry
}

func (f *fakeAuditor) Record(_ context.Context, e *herald.AuditEntry) {
	f.mu.Lock()
	f.entries = append(f.entries, e)
	f.mu.Unlock()
}

// TestRevokeTokens_Audit checks that each revokeTokens call leaves one audit
// entry with the accepted targets, and that refused calls leave none.
func TestRevokeTokens_Audit(t *testing.T) {
	audit := &fakeAuditor{}
	e := newEnv(t, opts{insecure: true, audit: audit})
	rk := e.revocableKey(t, "revo")
	path := "/keys/" + rk.KeyName() + "/revokeTokens"
	checkError(t, e.do(t, req{method: "POST", path: path, key: e.root.KeyString(), ctype: "application/json",
		body: []byte(`{"targets":["clientId:a"]}`)}), 40133, 401)
	r := e.do(t, req{method: "POST", path: path, key: rk.KeyString(), ctype: "application/json",
		headers: map[string]string{"X-Ably-Version": "6"},
		body:    []byte(`{"targets":["clientId:alice","bogus:x","revocationKey:g1"],"allowReauthMargin":true}`)})
	if r.StatusCode != 201 {
		t.Fatalf("status %d", r.StatusCode)
	}
	if len(audit.entries) != 1 {
		t.Fatalf("%d audit entries, want 1", len(audit.entries))
	}
	a := audit.entries[0]
	var d struct {
		Targets                 []string
		IssuedBefore, AppliesAt int64
	}
	if err := json.Unmarshal([]byte(a.Details), &d); err != nil {
		t.Fatal(err)
	}
	if a.Kind != herald.AuditTokensRevoke || a.AppID != "app1" || a.Actor != "key:"+rk.KeyName() || a.Target != rk.KeyName() ||
		a.Count != 2 || !strings.HasPrefix(a.Address, "127.0.0.1") || strings.Join(d.Targets, ",") != "clientId:alice,revocationKey:g1" ||
		d.IssuedBefore != e.clock.t.UnixMilli() || d.AppliesAt != e.clock.t.Add(30e9).UnixMilli() {
		t.Errorf("entry %+v details %+v", a, d)
	}
	if strings.Contains(a.Details, rk.Secret) {
		t.Error("audit details carry the key secret")
	}
}

// TestProvisioning_Audit checks that apps created and deleted through the
// sandbox-style /apps endpoint are audited like Control API changes.
func TestProvisioning_Audit(t *testing.T) {
	audit := &fakeAuditor{}
	e := newEnv(t, opts{cfg: httpapi.Config{Provisioning: true}, insecure: true, audit: audit})
	r := e.do(t, req{method: "POST", path: "/apps", ctype: "application/json", body: []byte(`{"keys":[{}]}`)})
	var p provisioned
	json.NewDecoder(r.Body).Decode(&p)
	if r.StatusCode != 201 {
		t.Fatalf("POST /apps: %d", r.StatusCode)
	}
	if r := e.do(t, req{method: "DELETE", path: "/apps/" + p.AppID, key: p.Keys[0].KeyStr}); r.StatusCode != 204 {
		t.Fatalf("DELETE: %d", r.StatusCode)
	}
	if len(audit.entries) != 2 {
		t.Fatalf("%d entries, want 2", len(audit.entries))
	}
	c, d := audit.entries[0], audit.entries[1]
	if c.Kind != herald.AuditAppCreate || c.AppID != p.AppID || c.Actor != "provisioning" || !strings.Contains(c.Details, p.Keys[0].KeyName) ||
		strings.Contains(c.Details, p.Keys[0].KeySecret) {
		t.Errorf("create entry %+v", c)
	}
	if d.Kind != herald.AuditAppDelete || d.AppID != p.AppID || d.Actor != "key:"+p.Keys[0].KeyName {
		t.Errorf("delete entry %+v", d)
	}
}
