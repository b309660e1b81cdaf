package controlapi_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

type appJSON struct {
	AccountID       string `json:"accountId"`
	ID              string `json:"id"`
	Name            string `json:"name"`
	Status          string `json:"status"`
	TLSOnly         bool   `json:"tlsOnly"`
	RevokeByChannel bool   `json:"revokeByChannel"`
	Created         int64  `json:"created"`
	Modified        int64  `json:"modified"`
}

func TestApps_List(t *testing.T) {
	e := newEnv(t)
	var apps []appJSON
	e.ok(t, "GET", "/v1/accounts/acct1/apps", nil, 200, &apps)
	if len(apps) != 1 || apps[0].ID != "app1" || apps[0].AccountID != account || apps[0].Status != "enabled" || apps[0].Name != "First" {
		t.Fatalf("apps %+v: want only this account's app", apps)
	}
	e.fail(t, "GET", "/v1/accounts/acct2/apps", e.all, nil, 404, herald.CodeNotFound, "")
	// A token of another account cannot reach this one's apps either.
	e.fail(t, "GET", "/v1/accounts/acct1/apps", e.foreign, nil, 404, herald.CodeNotFound, "")
}

func TestApps_Create(t *testing.T) {
	e := newEnv(t)
	var app appJSON
	e.ok(t, "POST", "/v1/accounts/acct1/apps", map[string]any{"name": "Chat", "tlsOnly": true}, 201, &app)
	if app.Name != "Chat" || !app.TLSOnly || app.Status != "enabled" || app.AccountID != account || len(app.ID) != 6 ||
		app.Created != e.clock.Now().UnixMilli() {
		t.Fatalf("created %+v", app)
	}
	keys, err := e.store.Keys(t.Context(), app.ID)
	if err != nil || len(keys) != 1 || keys[0].Name != "Root" || keys[0].Capability != herald.DefaultCapability {
		t.Fatalf("the new app's keys %+v %v: want one root key", keys, err)
	}
	// The key cache was reloaded: the root key works at once.
	if _, err := e.auth.Authenticate(t.Context(), auth.Credentials{Key: keys[0].KeyString()}); err != nil {
		t.Errorf("new app's root key: %v", err)
	}
	if got := e.auditEntries(t, app.ID); len(got) != 1 || got[0].Kind != herald.AuditAppCreate || got[0].Target != app.ID {
		t.Errorf("audit %+v", got)
	}

	tests := []struct {
		name   string
		body   any
		status int
		code   int
		field  string
	}{
		{"no body", nil, 400, herald.CodeInvalidRequestBody, ""},
		{"not an object", `[1]`, 400, herald.CodeInvalidRequestBody, ""},
		{"bad JSON", `{"name":`, 400, herald.CodeInvalidRequestBody, ""},
		{"trailing data", `{"name":"a"} {}`, 400, herald.CodeInvalidRequestBody, ""},
		{"missing name", map[string]any{"tlsOnly": true}, 422, herald.CodeInvalidParamValue, "name"},
		{"empty name", map[string]any{"name": ""}, 422, herald.CodeInvalidParamValue, "name"},
		{"control characters in name", map[string]any{"name": "a\nb"}, 422, herald.CodeInvalidParamValue, "name"},
		{"name of the wrong type", map[string]any{"name": 5}, 400, herald.CodeInvalidRequestBody, "name"},
		{"unknown field", map[string]any{"name": "a", "colour": "red"}, 400, herald.CodeInvalidRequestBody, "colour"},
		{"bad status", map[string]any{"name": "a", "status": "paused"}, 422, herald.CodeInvalidParamValue, "status"},
		{"tlsOnly of the wrong type", map[string]any{"name": "a", "tlsOnly": "yes"}, 400, herald.CodeInvalidRequestBody, "tlsOnly"},
		{"push settings", map[string]any{"name": "a", "fcmKey": "AAAA"}, 422, herald.CodeInvalidParamValue, "fcmKey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.fail(t, "POST", "/v1/accounts/acct1/apps", e.all, tt.body, tt.status, tt.code, tt.field)
		})
	}
	// Null push settings, as Ably's own clients send, are fine.
	e.ok(t, "POST", "/v1/accounts/acct1/apps", map[string]any{"name": "b", "apnsUseSandboxEndpoint": nil, "status": "disabled"}, 201, &app)
	if app.Status != "disabled" {
		t.Errorf("status %q", app.Status)
	}
}

func TestApps_Update(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.auth.Authenticate(ctx, auth.Credentials{Key: e.root.KeyString()}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(1000)
	var app appJSON
	e.ok(t, "PATCH", "/v1/apps/app1", map[string]any{"name": "Renamed", "status": "disabled", "revokeByChannel": true}, 200, &app)
	if app.Name != "Renamed" || app.Status != "disabled" || !app.RevokeByChannel || app.Modified != e.clock.Now().UnixMilli() {
		t.Fatalf("patched %+v", app)
	}
	// Disabling applies at once: the key cache was reloaded.
	if _, err := e.auth.Authenticate(ctx, auth.Credentials{Key: e.root.KeyString()}); herald.AsError(err).Code != herald.CodeAppDisabled {
		t.Errorf("key of a disabled app: %v, want 40120", err)
	}
	got := e.auditEntries(t, "app1")
	if len(got) != 1 || got[0].Kind != herald.AuditAppUpdate || got[0].Details != `{"changed":["name","status","revokeByChannel"]}` ||
		!strings.HasPrefix(got[0].Actor, "accessToken:at") || !strings.HasPrefix(got[0].Address, "127.0.0.1") {
		t.Errorf("audit %+v", got)
	}
	// Nothing changed: nothing audited.
	e.ok(t, "PATCH", "/v1/apps/app1", map[string]any{"name": "Renamed"}, 200, nil)
	if n := len(e.auditEntries(t, "app1")); n != 1 {
		t.Errorf("%d audit entries after a no-op PATCH, want 1", n)
	}
	e.fail(t, "PATCH", "/v1/apps/nope", e.all, map[string]any{"name": "x"}, 404, herald.CodeNotFound, "")
	e.fail(t, "PATCH", "/v1/apps/other", e.all, map[string]any{"name": "x"}, 404, herald.CodeNotFound, "")
	e.fail(t, "PATCH", "/v1/apps/app1", e.all, map[string]any{"status": "gone"}, 422, herald.CodeInvalidParamValue, "status")
	e.fail(t, "PATCH", "/v1/apps/app1", e.all, map[string]any{"name": ""}, 422, herald.CodeInvalidParamValue, "name")
}

func TestApps_Delete(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	resp, b := e.do(t, "DELETE", "/v1/apps/app1", e.all, nil)
	if resp.StatusCode != 204 || len(b) != 0 {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, b)
	}
	if _, err := e.store.App(ctx, "app1"); !errors.Is(err, herald.ErrNotFound) {
		t.Errorf("app still there: %v", err)
	}
	if len(e.deleted) != 1 || e.deleted[0] != "app1" {
		t.Errorf("OnAppDeleted saw %v", e.deleted)
	}
	if _, err := e.auth.Authenticate(ctx, auth.Credentials{Key: e.root.KeyString()}); herald.AsError(err).Code != herald.CodeNotFound {
		t.Errorf("key of a deleted app: %v, want 40400", err)
	}
	// The audit entry outlives the app.
	if got := e.auditEntries(t, "app1"); len(got) != 1 || got[0].Kind != herald.AuditAppDelete {
		t.Errorf("audit %+v", got)
	}
	e.fail(t, "DELETE", "/v1/apps/app1", e.all, nil, 404, herald.CodeNotFound, "")
	e.fail(t, "DELETE", "/v1/apps/other", e.all, nil, 404, herald.CodeNotFound, "")
}
