package auth_test

import (
	"strings"
	"testing"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

func TestParseKey(t *testing.T) {
	good := []struct {
		in                     string
		app, key, secret, name string
	}{
		{"I2E_JQ.OqUdfg:EVKVTCBlzLBPYJiCZTsIW_pqylJ9WVRB5K9P19Ap1y0", "I2E_JQ", "OqUdfg", "EVKVTCBlzLBPYJiCZTsIW_pqylJ9WVRB5K9P19Ap1y0", "I2E_JQ.OqUdfg"},
		// The secret is everything after the first ':' (RSA11), colons included.
		{"app.key:sec:ret", "app", "key", "sec:ret", "app.key"},
		// keyId may contain '-', '_' and further dots (split at the first '.').
		{"app.-frw5Q:s", "app", "-frw5Q", "s", "app.-frw5Q"},
		{"app.k.x:s", "app", "k.x", "s", "app.k.x"},
	}
	for _, tc := range good {
		t.Run(tc.in, func(t *testing.T) {
			pk, err := auth.ParseKey(tc.in)
			if err != nil {
				t.Fatalf("ParseKey: %v", err)
			}
			if pk.AppID != tc.app || pk.KeyID != tc.key || pk.Secret != tc.secret || pk.KeyName != tc.name {
				t.Errorf("got %+v", pk)
			}
		})
	}
	bad := []struct{ name, in string }{
		{"empty", ""},
		{"no colon", "app.key"},
		{"empty secret", "app.key:"},
		{"empty key name", ":secret"},
		{"no dot", "appkey:secret"},
		{"empty app", ".key:secret"},
		{"empty key id", "app.:secret"},
		{"space in name", "ap p.key:secret"},
		{"slash in name", "app/x.key:secret"},
		{"control char in secret", "app.key:se\ncret"},
		{"control char in name", "app.k\x00ey:secret"},
		{"huge secret", "app.key:" + strings.Repeat("s", auth.MaxKeyPartLen+1)},
		{"huge name", strings.Repeat("a", 2*auth.MaxKeyPartLen) + ".key:secret"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := auth.ParseKey(tc.in)
			e := herald.AsError(err)
			if err == nil || e.Code != herald.CodeInvalidCredential || e.StatusCode != 400 {
				t.Fatalf("ParseKey(%q) = %v, want 40005/400", tc.in, err)
			}
			if _, secret, ok := strings.Cut(tc.in, ":"); ok && len(secret) > 3 && strings.Contains(e.Message, secret) {
				t.Errorf("error message leaks the secret: %q", e.Message)
			}
		})
	}
}

func TestSecretEqual(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"abc", "abcd", false},
		{"", "", true},
		{"", "x", false},
	}
	for _, tc := range cases {
		if got := auth.SecretEqual(tc.a, tc.b); got != tc.want {
			t.Errorf("SecretEqual(%q,%q) = %v", tc.a, tc.b, got)
		}
	}
}

func TestRandomIDs(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		s := auth.NewSecret()
		if len(s) < 32 || seen[s] {
			t.Fatalf("secret %q too short or repeated", s)
		}
		seen[s] = true
		if strings.ContainsAny(s, ":./+= ") {
			t.Fatalf("secret %q is not URL-safe", s)
		}
		id := auth.NewAppID()
		if len(id) < 6 || !(id[0] >= 'a' && id[0] <= 'z' || id[0] >= 'A' && id[0] <= 'Z') {
			t.Fatalf("app id %q", id)
		}
	}
}
