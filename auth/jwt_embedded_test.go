package auth_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

func TestEmbeddedToken(t *testing.T) {
	const inner = "appId1.HHZNjgqmC-ACW0e2L2SBG0B-IvQmTjDpRzIuqPLb2nM"
	// An outer JWT signed with the customer's own key (here RS256, with a
	// made-up signature): §4.2 says the outer signature is never checked.
	outer := func(header, claims string) string {
		return jwtB64(header) + "." + jwtB64(claims) + "." + jwtB64("not-a-real-signature")
	}
	jwe := func(header string) string {
		return jwtB64(header) + ".." + jwtB64("iv") + "." + jwtB64("ciphertext") + "." + jwtB64("tag")
	}
	exp := time.Unix(jwtT0+600, 0).UTC()
	for _, tc := range []struct {
		name    string
		token   string
		inner   string
		exp     time.Time // zero = no outer exp
		found   bool
		wantErr bool
		msg     string // in the error message
	}{
		{name: "in the header", token: outer(`{"alg":"RS256","x-ably-token":"`+inner+`"}`, `{"exp":1700000600}`),
			inner: inner, exp: exp, found: true},
		{name: "in the claims", token: outer(`{"alg":"ES256","typ":"JWT"}`, `{"sub":"u1","x-ably-token":"`+inner+`","exp":1700000600.7}`),
			inner: inner, exp: exp, found: true},
		{name: "header wins over the claims", token: outer(`{"alg":"none","x-ably-token":"a.b"}`, `{"x-ably-token":"c.d"}`),
			inner: "a.b", found: true},
		{name: "an Ably JWT inside", token: outer(`{"alg":"HS256"}`, `{"x-ably-token":"`+jwtExample+`"}`),
			inner: jwtExample, found: true},
		{name: "no outer exp", token: outer(`{"alg":"RS256","x-ably-token":"t.x"}`, `{}`), inner: "t.x", found: true},
		{name: "unsigned outer (empty signature)", token: jwtB64(`{"alg":"none"}`) + "." + jwtB64(`{"x-ably-token":"t.x"}`) + ".",
			inner: "t.x", found: true},
		{name: "JWE, header only", token: jwe(`{"alg":"dir","enc":"A256GCM","x-ably-token":"` + inner + `"}`), inner: inner, found: true},
		{name: "JWE without x-ably-token", token: jwe(`{"alg":"dir","enc":"A256GCM"}`), wantErr: true, msg: "cannot decrypt"},
		{name: "plain Ably JWT", token: jwtExample},
		{name: "Ably token", token: inner},
		{name: "not base64url", token: "a+b.c.d"},
		{name: "header not an object", token: jwtB64(`[1]`) + ".e30.c2ln"},
		{name: "JWS whose claims are not JSON, without x-ably-token", token: jwtB64(`{"alg":"RS256"}`) + "." + jwtB64("raw") + ".c2ln"},
		{name: "x-ably-token not a string", token: outer(`{"x-ably-token":42}`, `{}`), wantErr: true},
		{name: "x-ably-token empty", token: outer(`{}`, `{"x-ably-token":""}`), wantErr: true},
		{name: "JWE x-ably-token not a string", token: jwe(`{"x-ably-token":null}`), wantErr: true},
		{name: "claims unreadable while the header has x-ably-token", token: jwtB64(`{"x-ably-token":"t.x"}`) + "." + jwtB64("raw") + ".c2ln", wantErr: true},
		{name: "outer exp not a number", token: outer(`{"x-ably-token":"t.x"}`, `{"exp":"soon"}`), wantErr: true, msg: "a string"},
		{name: "outer exp in milliseconds", token: outer(`{"x-ably-token":"t.x"}`, `{"exp":1700000600000}`), wantErr: true},
		{name: "too large", token: outer(`{"x-ably-token":"t.x"}`, `{"p":"`+strings.Repeat("p", auth.MaxJWTLen)+`"}`), wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, oexp, hasExp, found, err := auth.EmbeddedToken(tc.token)
			if tc.wantErr {
				e := jwtWantCode(t, err, herald.CodeInvalidJWT, 401)
				if !strings.Contains(e.Message, tc.msg) {
					t.Errorf("message %q does not mention %q", e.Message, tc.msg)
				}
				if found || in != "" {
					t.Errorf("found = %v, inner = %q with an error", found, in)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if in != tc.inner || found != tc.found || hasExp != !tc.exp.IsZero() || !oexp.Equal(tc.exp) {
				t.Errorf("EmbeddedToken = %q, %v, %v, %v; want %q, %v, %v, %v",
					in, oexp, hasExp, found, tc.inner, tc.exp, !tc.exp.IsZero(), tc.found)
			}
		})
	}
}

func TestCheckEmbeddedExpiry(t *testing.T) {
	innerExp := time.UnixMilli(int64(jwtT0+600)*1000 + 250) // Ably tokens expire in ms
	for _, tc := range []struct {
		name   string
		outer  time.Time
		hasExp bool
		fail   bool
	}{
		{"outer expires first", time.Unix(jwtT0+599, 0), true, false},
		{"outer exp within the inner's last second", time.Unix(jwtT0+600, 0), true, false},
		{"same instant", innerExp, true, false},
		{"outer expires later", time.Unix(jwtT0+601, 0), true, true},
		{"no outer exp", time.Unix(jwtT0+9999, 0), false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := auth.CheckEmbeddedExpiry(tc.outer, tc.hasExp, innerExp)
			if !tc.fail {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e := jwtWantCode(t, err, herald.CodeInvalidJWT, 401)
			if !strings.Contains(e.Message, "outer JWT expires after the embedded token") {
				t.Errorf("message %q", e.Message)
			}
			if !e.IsTokenError() {
				t.Error("not a token error: SDKs would not renew")
			}
		})
	}
}

// TestEmbeddedToken_WithVerify walks the flow the authenticator follows: the
// inner Ably JWT is verified on its own, then the outer exp is checked
// against its expiry.
func TestEmbeddedToken_WithVerify(t *testing.T) {
	for _, tc := range []struct {
		name string
		exp  int64
		fail bool
	}{
		{"outer expires with the inner", jwtT0 + 3600, false},
		{"outer outlives the inner", jwtT0 + 3601, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := jwtB64(`{"alg":"RS256","x-ably-token":"`+jwtExample+`"}`) + "." + jwtB64(`{"exp":`+strconv.FormatInt(tc.exp, 10)+`}`) + ".c2ln"
			inner, oexp, hasExp, found, err := auth.EmbeddedToken(tok)
			if err != nil || !found {
				t.Fatalf("EmbeddedToken: %v, %v", found, err)
			}
			c, err := auth.VerifyJWT(inner, []byte(jwtSecret), jwtNow, auth.JWTOptions{})
			if err != nil {
				t.Fatal(err)
			}
			err = auth.CheckEmbeddedExpiry(oexp, hasExp, c.ExpiresAt)
			if (err != nil) != tc.fail {
				t.Errorf("CheckEmbeddedExpiry = %v, want failure %v", err, tc.fail)
			}
		})
	}
}
