package auth_test

import (
	"encoding/base64"
	"testing"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

func TestParseAuthorization(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.sig"
	cases := []struct {
		name, header string
		key, token   string
		code         int
	}{
		{"basic", "Basic " + b64([]byte("a.b:s")), "a.b:s", "", 0},
		{"basic lower-case scheme", "basic " + b64([]byte("a.b:s")), "a.b:s", "", 0},
		{"basic unpadded", "Basic " + base64.RawStdEncoding.EncodeToString([]byte("a.b:se")), "a.b:se", "", 0},
		{"basic not base64", "Basic !!!", "", "", herald.CodeInvalidCredential},
		// ably-js and ably-go base64 every token, JWTs included (§3.7).
		{"bearer base64 jwt", "Bearer " + b64([]byte(jwt)), "", jwt, 0},
		{"bearer raw jwt", "Bearer " + jwt, "", jwt, 0},
		{"bearer raw ably token", "Bearer app1.abcDEF", "", "app1.abcDEF", 0},
		{"bearer base64 token", "Bearer " + b64([]byte("app1.abcDEF")), "", "app1.abcDEF", 0},
		{"bearer empty", "Bearer ", "", "", herald.CodeInvalidCredential},
		{"bearer garbage", "Bearer %%%", "", "", herald.CodeInvalidCredential},
		{"unknown scheme", "Digest x", "", "", herald.CodeInvalidHeader},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c auth.Credentials
			err := auth.ParseAuthorization(tc.header, &c)
			if tc.code != 0 {
				if e := herald.AsError(err); err == nil || e.Code != tc.code {
					t.Fatalf("err = %v, want code %d", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Key != tc.key || c.Token != tc.token {
				t.Errorf("got key %q token %q", c.Key, c.Token)
			}
		})
	}
}

func TestParseClientIDHeader(t *testing.T) {
	var c auth.Credentials
	if err := auth.ParseClientIDHeader(base64.StdEncoding.EncodeToString([]byte("alice ☃")), &c); err != nil {
		t.Fatal(err)
	}
	if !c.HasClientID || c.ClientID != "alice ☃" {
		t.Errorf("got %+v", c)
	}
	var d auth.Credentials
	if err := auth.ParseClientIDHeader("%%%", &d); herald.AsError(err).Code != herald.CodeInvalidClientID {
		t.Errorf("bad base64: %v", err)
	}
}

func TestValidateClientID(t *testing.T) {
	for id, ok := range map[string]bool{"alice": true, "": false, "*": false, "\xff": false} {
		err := auth.ValidateClientID(id)
		if (err == nil) != ok {
			t.Errorf("ValidateClientID(%q) = %v", id, err)
		}
		if err != nil && herald.AsError(err).Code != herald.CodeInvalidClientID {
			t.Errorf("code = %d", herald.AsError(err).Code)
		}
	}
}
