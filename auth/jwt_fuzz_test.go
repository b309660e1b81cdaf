package auth_test

import (
	"errors"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// FuzzJWT feeds the JWT layer two tokens per input: token as given (for the
// shape, base64 and header code) and one built from header and claims JSON
// and signed with HS256 (so that the fuzzer reaches the claims code behind
// the signature check; mode bit 1 signs with another secret). It checks that
// nothing panics; that VerifyJWT and VerifyJWTLibrary agree on every token,
// on the error code and status or on the claims (object capabilities and
// non-string channel claims as JSON values, see VerifyJWTLibrary); that
// errors are *herald.Error with one of the documented codes; that a token
// VerifyJWT accepts is JWT-shaped with a matching header; and that
// EmbeddedToken never reports an empty inner token. Mode bit 0 makes the key
// revocable and the high bits move the server time. The seed corpus is in
// testdata/fuzz/FuzzJWT.
func FuzzJWT(f *testing.F) {
	f.Add(jwtExample, jwtHeader, `{"iat":1700000000,"exp":1700003600,"x-ably-capability":"{\"chat:*\":[\"publish\"]}","x-ably-clientId":"alice"}`, uint8(0))
	f.Add("e30.e30.e30", `{"alg":"HS256","kid":"a.b","typ":1}`, `{"iat":1.7e9,"exp":1700000100.5,"x-ably-capability":{"*":["*"]},"nbf":1}`, uint8(1))
	f.Add(jwtB64(`{"alg":"dir","x-ably-token":"a.b"}`)+"..aXY.Y3Q.dGFn", jwtHeader,
		`{"iat":1700000000,"exp":1700000600,"ably.channel.chat:*":{"r":[1,"\u00e9"]},"ably.channel.*":"g","ably.limits.publish.perAttachment.maxRate.*":0.5}`, uint8(2))
	f.Add(jwtB64(`{"alg":"RS256"}`)+"."+jwtB64(`{"x-ably-token":"t.x","exp":1700000000}`)+".", `{"alg":"hs256","kid":"k"}`,
		`{"iat":1700000000,"exp":1700086401,"x-ably-clientId":"","x-ably-clientId":"\ud800"}`, uint8(0x31))
	f.Fuzz(func(t *testing.T, token, header, claims string, mode uint8) {
		now := time.Unix(jwtT0+60+int64(mode>>2)*900, 0)
		opts := auth.JWTOptions{Revocable: mode&1 != 0}
		jwtFuzzOne(t, token, now, opts)
		signing := jwtB64(header) + "." + jwtB64(claims)
		secret := jwtSecret
		if mode&2 != 0 {
			secret = "another-secret"
		}
		jwtFuzzOne(t, signing+"."+jwtSign(secret, signing), now, opts)
	})
}

func jwtFuzzOne(t *testing.T, token string, now time.Time, opts auth.JWTOptions) {
	t.Helper()
	h, herr := auth.ParseJWTHeader(token)
	jwtFuzzErr(t, "ParseJWTHeader", herr)
	looks := auth.LooksLikeJWT(token)
	inner, _, _, found, eerr := auth.EmbeddedToken(token)
	jwtFuzzErr(t, "EmbeddedToken", eerr)
	if found && (inner == "" || eerr != nil) {
		t.Fatalf("EmbeddedToken found %q with error %v", inner, eerr)
	}
	secret := []byte(jwtSecret)
	fast, ferr := auth.VerifyJWT(token, secret, now, opts)
	lib, lerr := auth.VerifyJWTLibrary(token, secret, now, opts)
	if d := jwtCompare(fast, ferr, lib, lerr); d != "" {
		t.Fatalf("VerifyJWT and VerifyJWTLibrary disagree on %q:\n%s", token, d)
	}
	jwtFuzzErr(t, "VerifyJWT", ferr)
	if ferr == nil && (!looks || herr != nil || h.Alg != "HS256" || h.Kid != fast.KeyName) {
		t.Fatalf("VerifyJWT accepted %q but LooksLikeJWT = %v, ParseJWTHeader = %+v, %v", token, looks, h, herr)
	}
}

// jwtFuzzErr checks that err, if any, is a *herald.Error with a JWT code.
func jwtFuzzErr(t *testing.T, fn string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *herald.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: error %T %v is not a *herald.Error", fn, err, err)
	}
	switch e.Code {
	case herald.CodeInvalidJWT, herald.CodeTokenExpired, herald.CodeInvalidParamValue, herald.CodeInvalidClientID:
	default:
		t.Fatalf("%s: unexpected code %d: %v", fn, e.Code, e)
	}
	if e.StatusCode != herald.StatusFor(e.Code) {
		t.Fatalf("%s: status %d for code %d", fn, e.StatusCode, e.Code)
	}
}
