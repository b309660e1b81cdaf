package controlapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// TestKeys_Rotate rotates a key through the API and checks, with the
// injected clock, that Basic auth, an Ably token and a JWT made with the old
// secret work until the overlap ends and fail from then on, while the new
// key string works throughout.
func TestKeys_Rotate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	start := e.clock.Now()
	ent, err := e.keys.Lookup(ctx, "app1.root")
	if err != nil {
		t.Fatal(err)
	}
	oldToken, err := e.auth.Issue(ctx, ent, auth.TokenParams{}, start)
	if err != nil {
		t.Fatal(err)
	}
	oldJWT, err := auth.SignJWT("app1.root", []byte(e.root.Secret), map[string]any{"iat": start.Unix(), "exp": start.Unix() + 3600})
	if err != nil {
		t.Fatal(err)
	}

	var k keyJSON
	e.ok(t, "POST", "/v1/apps/app1/keys/root/rotate", map[string]any{"overlap": 600_000}, 200, &k)
	if k.Key == e.root.KeyString() || !strings.HasPrefix(k.Key, "app1.root:") || k.PreviousSecretExpires != start.Add(10*time.Minute).UnixMilli() {
		t.Fatalf("rotated key %+v", k)
	}
	_, newSecret, _ := strings.Cut(k.Key, ":")
	newJWT, err := auth.SignJWT("app1.root", []byte(newSecret), map[string]any{"iat": start.Unix(), "exp": start.Unix() + 3600})
	if err != nil {
		t.Fatal(err)
	}
	old := map[string]auth.Credentials{
		"basic": {Key: e.root.KeyString()}, "token": {Token: oldToken.Token}, "jwt": {Token: oldJWT},
	}
	wantAfter := map[string]int{"basic": 40101, "token": 40145, "jwt": 40144}
	for _, step := range []struct {
		name     string
		at       time.Duration
		oldWorks bool
	}{
		{"during the overlap", 10*time.Minute - time.Millisecond, true},
		{"when it ends", 10 * time.Minute, false},
	} {
		t.Run(step.name, func(t *testing.T) {
			e.clock.Set(start.Add(step.at))
			for name, c := range old {
				_, err := e.auth.Authenticate(ctx, c)
				if step.oldWorks && err != nil {
					t.Errorf("old %s: %v", name, err)
				}
				if !step.oldWorks && herald.AsError(err).Code != wantAfter[name] {
					t.Errorf("old %s: %v, want %d", name, err, wantAfter[name])
				}
			}
			for name, c := range map[string]auth.Credentials{"basic": {Key: k.Key}, "jwt": {Token: newJWT}} {
				if _, err := e.auth.Authenticate(ctx, c); err != nil {
					t.Errorf("new %s: %v", name, err)
				}
			}
		})
	}
	var after keyJSON
	e.ok(t, "GET", "/v1/apps/app1/keys/root", nil, 200, &after)
	if after.Key != k.Key || after.PreviousSecretExpires != 0 {
		t.Errorf("after the overlap: %+v", after)
	}
	got := e.auditEntries(t, "app1")
	if len(got) != 1 || got[0].Kind != herald.AuditKeyRotate || !strings.Contains(got[0].Details, `"overlapMs":600000`) ||
		strings.Contains(got[0].Details, newSecret) || strings.Contains(got[0].Details, e.root.Secret) {
		t.Errorf("audit %+v", got)
	}
}

func TestKeys_RotateBody(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	tests := []struct {
		name string
		body any
		want time.Duration
	}{
		{"no body: the default overlap", nil, auth.DefaultRotationOverlap},
		{"empty object", map[string]any{}, auth.DefaultRotationOverlap},
		{"seconds", map[string]any{"overlapSeconds": 90}, 90 * time.Second},
		{"milliseconds", map[string]any{"overlap": 1500}, 1500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var k keyJSON
			e.ok(t, "POST", "/v1/apps/app1/keys/root/rotate", tt.body, 200, &k)
			if k.PreviousSecretExpires != now.Add(tt.want).UnixMilli() {
				t.Errorf("previousSecretExpires %d, want now+%s", k.PreviousSecretExpires, tt.want)
			}
		})
	}
	t.Run("zero overlap ends the old secret at once", func(t *testing.T) {
		var k keyJSON
		e.ok(t, "POST", "/v1/apps/app1/keys/root/rotate", map[string]any{"overlap": 0}, 200, &k)
		if k.PreviousSecretExpires != 0 {
			t.Errorf("previousSecretExpires %d", k.PreviousSecretExpires)
		}
		if stored, _ := e.store.Key(t.Context(), "app1.root"); stored.PreviousSecret != "" {
			t.Error("previous secret kept with overlap 0")
		}
	})
	for _, tt := range []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"negative", map[string]any{"overlap": -1}, 422, "overlap"},
		{"too long", map[string]any{"overlapSeconds": 31 * 24 * 3600}, 422, "overlapSeconds"},
		{"both units", map[string]any{"overlap": 1, "overlapSeconds": 1}, 422, "overlap"},
		{"not a number", map[string]any{"overlap": "1h"}, 400, "overlap"},
		{"unknown field", map[string]any{"window": 5}, 400, "window"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code := herald.CodeInvalidParamValue
			if tt.status == 400 {
				code = herald.CodeInvalidRequestBody
			}
			e.fail(t, "POST", "/v1/apps/app1/keys/root/rotate", e.all, tt.body, tt.status, code, tt.field)
		})
	}
}
