package auth

import (
	"time"
	"unicode/utf8"

	"github.com/heraldrt/herald"
)

// EmbeddedToken reads the inner token of an embedded-token JWT (ably-auth
// §4.2): an outer JWT, signed or encrypted by the customer with their own
// key, that carries an Ably token or Ably JWT as x-ably-token. The outer
// signature is not verified (Ably cannot, having no key for it) and any alg
// is allowed. The inner token is read from the JOSE header first, then, for
// a signed JWT (JWS, 3 segments), from the claims; an encrypted JWT (JWE, 5
// segments) can only carry it in its header, and its exp cannot be read.
//
// found is false, with a nil error, when token is not a JWT with a JSON
// object header, or is a JWS without x-ably-token: the caller goes on to
// VerifyJWT or the Ably token path. err is a 40144 when the token is one of
// these but unusable: x-ably-token not a non-empty string, a JWE without
// it, an exp that is not a NumericDate, claims that cannot be read while
// the header has x-ably-token, or more than MaxJWTLen bytes. outerExp is
// the outer exp when hasOuterExp; the caller verifies inner on its own
// (never as another embedded token) and then calls CheckEmbeddedExpiry.
func EmbeddedToken(token string) (inner string, outerExp time.Time, hasOuterExp bool, found bool, err error) {
	segs, n, ok := jwtSplit(token)
	if !ok || !jwtAlphabetOK(token) {
		return "", time.Time{}, false, false, nil
	}
	header, ok := jwtObjectSegment(segs[0])
	if !ok {
		return "", time.Time{}, false, false, nil
	}
	if len(token) > MaxJWTLen {
		return "", time.Time{}, false, false, jwtShapeError(token)
	}
	tok, _ := jwtLookup(header, jwtClaimToken, "")
	if n == 5 {
		if tok.kind == jwtAbsent {
			return "", time.Time{}, false, false, jwtError("an encrypted JWT (JWE) is accepted only as an embedded-token JWT, with %q in its JOSE header: Herald cannot decrypt it (ably-auth §4.2)", jwtClaimToken)
		}
		inner, err = jwtInnerToken(header, tok)
		return inner, time.Time{}, false, err == nil, err
	}
	claims, ok := jwtObjectSegment(segs[1])
	if !ok {
		if tok.kind == jwtAbsent {
			return "", time.Time{}, false, false, nil
		}
		return "", time.Time{}, false, false, jwtError("the outer JWT's claims are not a JSON object, so its exp cannot be checked against the embedded token (ably-auth §4.2)")
	}
	claimTok, exp := jwtLookup(claims, jwtClaimToken, "exp")
	src := header
	if tok.kind == jwtAbsent {
		if claimTok.kind == jwtAbsent {
			return "", time.Time{}, false, false, nil
		}
		tok, src = claimTok, claims
	}
	if inner, err = jwtInnerToken(src, tok); err != nil {
		return "", time.Time{}, false, false, err
	}
	if exp.kind != jwtAbsent {
		if exp.kind != jwtNumber {
			return "", time.Time{}, false, false, jwtError("the outer JWT's exp is %s; it must be a number of seconds", exp.kind)
		}
		text := claims[exp.start:exp.end]
		sec, ok, tooBig := jwtNumericDate(text)
		if !ok {
			return "", time.Time{}, false, false, jwtBadTime("exp", text, tooBig)
		}
		outerExp, hasOuterExp = time.Unix(sec, 0).UTC(), true
	}
	return inner, outerExp, hasOuterExp, true, nil
}

// CheckEmbeddedExpiry applies §4.2's rule to an embedded-token JWT: the
// outer exp must not be later than the inner token's expiry (equal is
// fine). Without an outer exp there is nothing to check. The failure is a
// 40144 (401), a token error, so the SDK fetches a new token.
func CheckEmbeddedExpiry(outerExp time.Time, hasOuterExp bool, innerExpires time.Time) error {
	if hasOuterExp && outerExp.After(innerExpires) {
		return herald.Errorf(herald.CodeInvalidJWT,
			"Invalid JWT: the outer JWT expires after the embedded token (exp %s, embedded token expires %s); its exp must not be later (ably-auth §4.2)",
			outerExp.UTC().Format(time.RFC3339), innerExpires.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// jwtInnerToken returns the x-ably-token value v of document s.
func jwtInnerToken(s string, v jwtValue) (string, error) {
	if v.kind != jwtString {
		return "", jwtError("%q is %s; it must be the embedded token as a string", jwtClaimToken, v.kind)
	}
	inner := jwtText(s, v)
	if inner == "" {
		return "", jwtError("%q is an empty string", jwtClaimToken)
	}
	return inner, nil
}

// jwtObjectSegment decodes a base64url segment that must hold a JSON object
// in valid UTF-8, and reports whether it does.
func jwtObjectSegment(seg string) (string, bool) {
	s, ok := jwtDecodeString(seg)
	if !ok || !utf8.ValidString(s) {
		return "", false
	}
	sc := jwtScanner{s: s}
	sc.skipSpace()
	if sc.i >= len(s) || s[sc.i] != '{' {
		return "", false
	}
	if _, err := sc.value(); err != nil || sc.end() != nil {
		return "", false
	}
	return s, true
}

// jwtLookup returns the last values of members a and b ("" for none) of the
// JSON object s, which jwtObjectSegment has validated.
func jwtLookup(s, a, b string) (va, vb jwtValue) {
	sc := jwtScanner{s: s}
	if sc.beginObject() != nil {
		return va, vb
	}
	for first := true; ; first = false {
		key, val, done, err := sc.member(first)
		if err != nil || done {
			return va, vb
		}
		switch jwtText(s, key) {
		case a:
			va = val
		case b:
			if b != "" {
				vb = val
			}
		}
	}
}
