package controlapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

type keyJSON struct {
	AppID                 string          `json:"appId"`
	ID                    string          `json:"id"`
	Name                  string          `json:"name"`
	RevocableTokens       bool            `json:"revocableTokens"`
	Status                int             `json:"status"`
	Key                   string          `json:"key"`
	Capability            json.RawMessage `json:"capability"`
	Restriction           json.RawMessage `json:"restriction"`
	Created               int64           `json:"created"`
	Modified              int64           `json:"modified"`
	PreviousSecretExpires int64           `json:"previousSecretExpires"`
}

func TestKeys_ListAndGet(t *testing.T) {
	e := newEnv(t)
	var keys []keyJSON
	e.ok(t, "GET", "/v1/apps/app1/keys", nil, 200, &keys)
	if len(keys) != 1 {
		t.Fatalf("keys %+v", keys)
	}
	k := keys[0]
	// key_response: the full key string, and the capability as an object
	// with its operations sorted (the stored text lists them unsorted).
	if k.AppID != "app1" || k.ID != "root" || k.Name != "Root" || k.Key != e.root.KeyString() || k.Status != 0 ||
		string(k.Capability) != `{"*":["publish","subscribe"]}` || string(k.Restriction) != `{"type":"channels","ops":["publish","subscribe"]}` ||
		k.Created != e.clock.Now().UnixMilli() || k.PreviousSecretExpires != 0 {
		t.Fatalf("key %+v (capability %s, restriction %s)", k, k.Capability, k.Restriction)
	}
	var one keyJSON
	e.ok(t, "GET", "/v1/apps/app1/keys/root", nil, 200, &one)
	if one.Key != k.Key {
		t.Errorf("GET one key %+v", one)
	}
	e.fail(t, "GET", "/v1/apps/nope/keys", e.all, nil, 404, herald.CodeNotFound, "")
	e.fail(t, "GET", "/v1/apps/other/keys", e.all, nil, 404, herald.CodeNotFound, "")
	e.fail(t, "GET", "/v1/apps/app1/keys/nope", e.all, nil, 404, herald.CodeNotFound, "")
	e.fail(t, "GET", "/v1/apps/other/keys/k", e.all, nil, 404, herald.CodeNotFound, "")
}

func TestKeys_Create(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name           string
		body           map[string]any
		wantCapability string
		wantRestrict   string
	}{
		{"capability object", map[string]any{"name": "pub", "capability": map[string][]string{"chat:*": {"subscribe", "publish", "publish"}, "a": {"history"}}},
			`{"a":["history"],"chat:*":["publish","subscribe"]}`, ""},
		{"revocable", map[string]any{"name": "rev", "capability": map[string][]string{"*": {"*"}}, "revocableTokens": true},
			`{"*":["*"]}`, `{"type":"channels","ops":["*"]}`},
		{"only channels", map[string]any{"name": "c", "restriction": map[string]any{"type": "channels", "ops": []string{"subscribe"}}},
			`{"*":["subscribe"]}`, `{"type":"channels","ops":["subscribe"]}`},
		{"only queues", map[string]any{"name": "q", "restriction": map[string]any{"type": "queues", "ops": []string{"subscribe"}}},
			`{"[queue]*":["subscribe"]}`, `{"type":"queues","ops":["subscribe"]}`},
		{"everything", map[string]any{"name": "all", "restriction": map[string]any{"type": "all", "ops": []string{"*"}}},
			`{"[*]*":["*"]}`, `{"type":"all","ops":["*"]}`},
		{"patterns", map[string]any{"name": "p", "restriction": map[string]any{"type": "patterns",
			"patterns": []string{"chat:*", "[queue]orders*"}, "ops": []string{"publish", "history"}}},
			`{"[queue]orders*":["history","publish"],"chat:*":["history","publish"]}`,
			`{"type":"patterns","patterns":["[queue]orders*","chat:*"],"ops":["history","publish"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var k keyJSON
			e.ok(t, "POST", "/v1/apps/app1/keys", tt.body, 201, &k)
			if string(k.Capability) != tt.wantCapability || (tt.wantRestrict != "" && string(k.Restriction) != tt.wantRestrict) {
				t.Fatalf("capability %s restriction %s; want %s %s", k.Capability, k.Restriction, tt.wantCapability, tt.wantRestrict)
			}
			if k.AppID != "app1" || len(k.ID) != 6 || !strings.HasPrefix(k.Key, "app1."+k.ID+":") || k.Name != tt.body["name"] ||
				k.Status != 0 || k.RevocableTokens != (tt.body["revocableTokens"] == true) {
				t.Fatalf("key %+v", k)
			}
			// Usable at once, with the capability given.
			p, err := e.auth.Authenticate(context.Background(), auth.Credentials{Key: k.Key})
			if err != nil || p.Capability.Canonical() != tt.wantCapability {
				t.Fatalf("new key: %v", err)
			}
		})
	}
	if got := e.auditEntries(t, "app1"); len(got) != len(tests) || got[0].Kind != herald.AuditKeyCreate {
		t.Errorf("audit: %d entries, want %d key.create", len(got), len(tests))
	}
	for _, a := range e.auditEntries(t, "app1") {
		if strings.Contains(a.Details, ":") && strings.Contains(a.Details, "app1.") {
			t.Errorf("audit details %s look like they carry a key string", a.Details)
		}
	}
}

func TestKeys_CreateValidation(t *testing.T) {
	e := newEnv(t)
	ops := []string{"publish"}
	tests := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"no body", nil, 400, ""},
		{"missing name", map[string]any{"capability": map[string][]string{"*": ops}}, 422, "name"},
		{"missing capability", map[string]any{"name": "k"}, 422, "capability"},
		{"capability as a string", map[string]any{"name": "k", "capability": `{"*":["publish"]}`}, 422, "capability"},
		{"capability array", map[string]any{"name": "k", "capability": []string{"publish"}}, 422, "capability"},
		{"empty capability", map[string]any{"name": "k", "capability": map[string]any{}}, 422, "capability"},
		{"unknown operation", map[string]any{"name": "k", "capability": map[string][]string{"*": {"fly"}}}, 422, "capability"},
		{"bad resource", map[string]any{"name": "k", "capability": map[string][]string{":x": ops}}, 422, "capability"},
		{"capability and restriction", map[string]any{"name": "k", "capability": map[string][]string{"*": ops},
			"restriction": map[string]any{"type": "all", "ops": ops}}, 422, "restriction"},
		{"restriction type", map[string]any{"name": "k", "restriction": map[string]any{"type": "some", "ops": ops}}, 422, "restriction.type"},
		{"restriction without ops", map[string]any{"name": "k", "restriction": map[string]any{"type": "all"}}, 422, "restriction.ops"},
		{"restriction bad op", map[string]any{"name": "k", "restriction": map[string]any{"type": "all", "ops": []string{"*", "publish"}}}, 422, "restriction.ops"},
		{"patterns missing", map[string]any{"name": "k", "restriction": map[string]any{"type": "patterns", "ops": ops}}, 422, "restriction.patterns"},
		{"patterns with channels", map[string]any{"name": "k", "restriction": map[string]any{"type": "channels", "patterns": []string{"a"}, "ops": ops}}, 422, "restriction.patterns"},
		{"bad pattern", map[string]any{"name": "k", "restriction": map[string]any{"type": "patterns", "patterns": []string{"ok", "[bogus]x"}, "ops": ops}}, 422, "restriction.patterns[1]"},
		{"repeated pattern", map[string]any{"name": "k", "restriction": map[string]any{"type": "patterns", "patterns": []string{"a", "a"}, "ops": ops}}, 422, "restriction.patterns[1]"},
		{"unknown restriction field", map[string]any{"name": "k", "restriction": map[string]any{"type": "all", "ops": ops, "x": 1}}, 400, "restriction.x"},
		{"revocableTokens of the wrong type", map[string]any{"name": "k", "capability": map[string][]string{"*": ops}, "revocableTokens": "yes"}, 400, "revocableTokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := herald.CodeInvalidParamValue
			if tt.status == 400 {
				code = herald.CodeInvalidRequestBody
			}
			e.fail(t, "POST", "/v1/apps/app1/keys", e.all, tt.body, tt.status, code, tt.field)
		})
	}
	if keys, _ := e.store.Keys(t.Context(), "app1"); len(keys) != 1 {
		t.Errorf("%d keys after refused creations, want 1", len(keys))
	}
	e.fail(t, "POST", "/v1/apps/nope/keys", e.all, map[string]any{"name": "k", "capability": map[string][]string{"*": ops}}, 404, herald.CodeNotFound, "")
}

func TestKeys_Update(t *testing.T) {
	e := newEnv(t)
	e.clock.Add(5000)
	var k keyJSON
	e.ok(t, "PATCH", "/v1/apps/app1/keys/root", map[string]any{"name": "Main", "capability": map[string][]string{"chat": {"subscribe", "history", "publish"}},
		"revocableTokens": true}, 200, &k)
	if k.Name != "Main" || string(k.Capability) != `{"chat":["history","publish","subscribe"]}` || !k.RevocableTokens ||
		k.Modified != e.clock.Now().UnixMilli() || k.Key != e.root.KeyString() {
		t.Fatalf("patched %+v (%s)", k, k.Capability)
	}
	stored, _ := e.store.Key(t.Context(), "app1.root")
	if stored.Capability != `{"chat":["history","publish","subscribe"]}` {
		t.Errorf("stored capability %q", stored.Capability)
	}
	e.ok(t, "PATCH", "/v1/apps/app1/keys/root", map[string]any{"restriction": map[string]any{"type": "patterns", "patterns": []string{"a:*"}, "ops": []string{"presence"}}}, 200, &k)
	if string(k.Capability) != `{"a:*":["presence"]}` {
		t.Errorf("restriction PATCH: %s", k.Capability)
	}
	got := e.auditEntries(t, "app1")
	if len(got) != 2 || got[1].Details != `{"changed":["name","capability","revocableTokens"]}` || got[0].Details != `{"changed":["capability"]}` {
		t.Errorf("audit %+v", got)
	}
	e.fail(t, "PATCH", "/v1/apps/app1/keys/root", e.all, map[string]any{"capability": map[string][]string{"x": {}}}, 422, herald.CodeInvalidParamValue, "capability")
	e.fail(t, "PATCH", "/v1/apps/app1/keys/root", e.all, map[string]any{"name": strings.Repeat("n", 300)}, 422, herald.CodeInvalidParamValue, "name")
	e.fail(t, "PATCH", "/v1/apps/app1/keys/nope", e.all, map[string]any{"name": "x"}, 404, herald.CodeNotFound, "")
	e.fail(t, "PATCH", "/v1/apps/other/keys/k", e.all, map[string]any{"name": "x"}, 404, herald.CodeNotFound, "")
}

// TestKeys_Revoke checks that revoking a key makes every credential of it
// fail at once (40131): Basic auth, and a token issued before.
func TestKeys_Revoke(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ent, err := e.keys.Lookup(ctx, "app1.root")
	if err != nil {
		t.Fatal(err)
	}
	td, err := e.auth.Issue(ctx, ent, auth.TokenParams{}, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, b := e.do(t, "POST", "/v1/apps/app1/keys/root/revoke", e.all, nil)
	if resp.StatusCode != 200 || len(b) != 0 {
		t.Fatalf("revoke: %d %s", resp.StatusCode, b)
	}
	for name, c := range map[string]auth.Credentials{"basic": {Key: e.root.KeyString()}, "token": {Token: td.Token}} {
		if _, err := e.auth.Authenticate(ctx, c); herald.AsError(err).Code != herald.CodeKeyRevoked {
			t.Errorf("%s after revocation: %v, want 40131", name, err)
		}
	}
	var k keyJSON
	e.ok(t, "GET", "/v1/apps/app1/keys/root", nil, 200, &k)
	if k.Status != 1 {
		t.Errorf("status %d, want 1 (revoked)", k.Status)
	}
	// Idempotent, audited once; a revoked key cannot change any more.
	e.ok(t, "POST", "/v1/apps/app1/keys/root/revoke", nil, 200, nil)
	if got := e.auditEntries(t, "app1"); len(got) != 1 || got[0].Kind != herald.AuditKeyRevoke || got[0].Target != "app1.root" {
		t.Errorf("audit %+v", got)
	}
	e.fail(t, "PATCH", "/v1/apps/app1/keys/root", e.all, map[string]any{"name": "x"}, 409, herald.CodeBadRequest, "")
	e.fail(t, "POST", "/v1/apps/app1/keys/root/rotate", e.all, nil, 409, herald.CodeBadRequest, "")
	e.fail(t, "POST", "/v1/apps/app1/keys/nope/revoke", e.all, nil, 404, herald.CodeNotFound, "")
}
