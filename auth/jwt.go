package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldrt/herald"
)

// This file is the JWT layer's API and the rules both verifiers share
// (ably-auth §4). The verifiers are pure: the caller reads kid with
// ParseJWTHeader, looks the key up and passes its secret. VerifyJWT
// (jwt_fast.go) is the one the server uses; VerifyJWTLibrary
// (jwt_library.go) does the same with golang-jwt and exists to cross-check
// it. Decisions are in docs/decisions.md.

// JWT limits and defaults (ably-auth §3.6, §4.5, §4.6).
const (
	// MaxJWTLen is the longest JWT accepted, in bytes. Ably asks JWTs to fit
	// HTTP header limits, "typically around 8 KB" (§4.5); twice that leaves
	// room for large capabilities while bounding the work per token.
	MaxJWTLen = 16 << 10
	// DefaultJWTLeeway is how far in the future iat and nbf may be, for
	// clock skew between the signer and Herald (§4.6 leaves it open).
	DefaultJWTLeeway = 30 * time.Second

	jwtMaxTTL          = 24 * time.Hour // §3.6 normal tokens
	jwtMaxRevocableTTL = time.Hour      // §3.6 keys with revocableTokens

	// jwtMaxNumericDate is 9999-12-31T23:59:59Z. Larger iat/exp/nbf values
	// are refused: they are almost always milliseconds sent as seconds.
	jwtMaxNumericDate = 253402300799
)

// Claim and header names (ably-auth §4.1-§4.4).
const (
	jwtClaimCapability    = "x-ably-capability"
	jwtClaimClientID      = "x-ably-clientId"
	jwtClaimRevocationKey = "x-ably-revocation-key"
	jwtClaimClientType    = "x-ably-clientType"
	jwtClaimToken         = "x-ably-token" // §4.2, header or claim
	jwtChannelPrefix      = "ably.channel."
	jwtRatePrefix         = "ably.limits.publish.perAttachment.maxRate."
)

// JWTHeader is the JOSE header of a JWT: the fields Herald reads.
type JWTHeader struct {
	Alg string
	Kid string // the key name "appId.keyId" for an Ably JWT
	Typ string
	// Token is the x-ably-token header field: the inner token of an
	// embedded-token JWT (§4.2), or "".
	Token string
}

// JWTOptions are the per-key settings VerifyJWT needs from the caller.
type JWTOptions struct {
	// IATLeeway is how far in the future iat and nbf may be. Zero means
	// DefaultJWTLeeway; a negative value means none. exp gets no leeway.
	IATLeeway time.Duration
	// Revocable reports whether the signing key has revocableTokens; its
	// JWTs may then live at most 1 h (§3.6).
	Revocable bool
	// MaxTTL is the longest exp − iat accepted. Zero means 24 h (§3.6);
	// Revocable lowers it to 1 h when it is longer.
	MaxTTL time.Duration
}

// JWTClaims is what a verified Ably JWT says (§4.1, §4.3, §4.4).
type JWTClaims struct {
	// KeyName is the header's kid: the key that signed the JWT.
	KeyName string
	// IssuedAt and ExpiresAt are iat and exp, in whole seconds, UTC.
	IssuedAt  time.Time
	ExpiresAt time.Time
	// Capability is the text of x-ably-capability: the string's content
	// when the claim is a JSON string, the object's JSON text as written
	// when it is an object. HasCapability is false when the claim is absent
	// and the key's capability applies (§12.3). It is not parsed here.
	Capability    string
	HasCapability bool
	// ClientID is x-ably-clientId ("*" is the wildcard); HasClientID says
	// the claim was present.
	ClientID    string
	HasClientID bool
	// RevocationKey is x-ably-revocation-key (§6), or "".
	RevocationKey string
	// ClientType is x-ably-clientType (40167), or "".
	ClientType string
	// ChannelClaims maps each resource of an ably.channel.<resource> claim
	// to its value (§4.3): a string claim's content, or the JSON text of any
	// other value. Nil when there are none.
	ChannelClaims map[string]string
	// RateLimits maps each resource of an
	// ably.limits.publish.perAttachment.maxRate.<resource> claim to its
	// messages per second, always > 0 (§4.4). Nil when there are none.
	RateLimits map[string]float64
}

// jwtTimes are the time claims in whole Unix seconds.
type jwtTimes struct {
	iat, exp, nbf int64
	hasNBF        bool
}

// jwtError returns the 40144 "Invalid JWT" error (status 401, a token
// error, so SDKs renew: ably-auth §4.6, §8.1).
func jwtError(format string, args ...any) *herald.Error {
	return herald.Errorf(herald.CodeInvalidJWT, "Invalid JWT: "+format, args...)
}

// LooksLikeJWT reports whether token has the shape of a signed JWT: three
// non-empty base64url segments whose first decodes to a JSON object. Ably
// tokens ("appId.opaque") have two segments. It checks nothing else, so a
// JWT that passes may still fail VerifyJWT with a useful 40144.
func LooksLikeJWT(token string) bool {
	segs, n, ok := jwtSplit(token)
	if !ok || n != 3 || segs[1] == "" || segs[2] == "" || !jwtAlphabetOK(token) {
		return false
	}
	_, ok = jwtObjectSegment(segs[0])
	return ok
}

// ParseJWTHeader reads the JOSE header of a JWS (3 segments) or JWE (5
// segments) without verifying anything; of the other segments it checks
// only that they are there (VerifyJWT checks the rest). A malformed token,
// a header that is not a JSON object, or an alg, kid, typ or x-ably-token
// that is not a string is a 40144 (status 401) whose message says what is
// wrong.
func ParseJWTHeader(token string) (JWTHeader, error) {
	segs, _, ok := jwtSplit(token)
	if !ok || len(token) > MaxJWTLen {
		return JWTHeader{}, jwtShapeError(token)
	}
	h, err := jwtParseHeader(segs[0])
	if err != nil {
		return JWTHeader{}, jwtBadChar(segs[0], err)
	}
	return h, nil
}

// jwtSplit splits a compact JWS (3 segments) or JWE (5 segments) at its
// dots and checks that the header segment is not empty. It does not look
// at the other characters: VerifyJWT decodes every segment, which checks
// them, and the other callers use jwtAlphabetOK. It reports failure without
// saying why, so that LooksLikeJWT stays cheap on Ably tokens.
func jwtSplit(token string) (segs [5]string, n int, ok bool) {
	rest := token
	for {
		i := strings.IndexByte(rest, '.')
		if i < 0 {
			break
		}
		if n == len(segs)-1 {
			return segs, 0, false
		}
		segs[n], rest = rest[:i], rest[i+1:]
		n++
	}
	segs[n] = rest
	n++
	return segs, n, (n == 3 || n == 5) && segs[0] != ""
}

// jwtTokenChar is 1 for the characters of a compact JWS or JWE (base64url
// and '.') and 0 for the rest.
var jwtTokenChar = func() (t [256]byte) {
	for c := range t {
		if jwtB64[c] != 0xff || c == '.' {
			t[c] = 1
		}
	}
	return t
}()

// jwtAlphabetOK reports whether s has only base64url characters and dots.
// It ANDs eight table entries at a time: one branch per eight bytes.
func jwtAlphabetOK(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		q := s[i : i+8]
		t := &jwtTokenChar
		if t[q[0]]&t[q[1]]&t[q[2]]&t[q[3]]&t[q[4]]&t[q[5]]&t[q[6]]&t[q[7]] == 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if jwtTokenChar[s[i]] == 0 {
			return false
		}
	}
	return true
}

// jwtShapeError explains why token is not a well-formed compact JWS or JWE
// of at most MaxJWTLen bytes, or returns nil.
func jwtShapeError(token string) error {
	if len(token) > MaxJWTLen {
		return jwtError("%d bytes, more than the %d-byte limit; use an Ably token for large capabilities (ably-auth §4.5)",
			len(token), MaxJWTLen)
	}
	for i := 0; i < len(token); i++ {
		if c := token[i]; jwtTokenChar[c] == 0 {
			return jwtError("character %s at offset %d is not base64url (JWT segments are unpadded base64url, RFC 7515 §2)",
				strconv.QuoteRune(rune(c)), i)
		}
	}
	if _, _, ok := jwtSplit(token); !ok {
		if n := strings.Count(token, ".") + 1; n != 3 && n != 5 {
			return jwtError("%d dot-separated segments; a JWT has 3 (header.claims.signature)", n)
		}
		return jwtError("the header segment is empty")
	}
	return nil
}

// jwtParseHeader decodes and reads a header segment. Repeated member names
// keep the last value, as encoding/json (and so golang-jwt) does; RFC 7515
// §4 allows that.
func jwtParseHeader(seg string) (JWTHeader, error) {
	s, ok := jwtDecodeString(seg)
	if !ok {
		return JWTHeader{}, jwtError("the header is not valid base64url")
	}
	if !utf8.ValidString(s) {
		return JWTHeader{}, jwtError("the header is not valid UTF-8")
	}
	sc := jwtScanner{s: s}
	if err := sc.beginObject(); err != nil {
		return JWTHeader{}, jwtError("the header is not a JSON object: %v", err)
	}
	var alg, kid, typ, tok jwtValue
	for first := true; ; first = false {
		key, val, done, err := sc.member(first)
		if err != nil {
			return JWTHeader{}, jwtError("the header is not valid JSON: %v", err)
		}
		if done {
			break
		}
		switch jwtText(s, key) {
		case "alg":
			alg = val
		case "kid":
			kid = val
		case "typ":
			typ = val
		case jwtClaimToken:
			tok = val
		}
	}
	if err := sc.end(); err != nil {
		return JWTHeader{}, jwtError("the header is not valid JSON: %v", err)
	}
	var h JWTHeader
	var err error
	if h.Alg, err = jwtHeaderString(s, "alg", alg); err != nil {
		return JWTHeader{}, err
	}
	if h.Kid, err = jwtHeaderString(s, "kid", kid); err != nil {
		return JWTHeader{}, err
	}
	if h.Typ, err = jwtHeaderString(s, "typ", typ); err != nil {
		return JWTHeader{}, err
	}
	if h.Token, err = jwtHeaderString(s, jwtClaimToken, tok); err != nil {
		return JWTHeader{}, err
	}
	return h, nil
}

// jwtHeaderString reads an optional string field of header s.
func jwtHeaderString(s, name string, v jwtValue) (string, error) {
	switch v.kind {
	case jwtAbsent:
		return "", nil
	case jwtString:
		return jwtText(s, v), nil
	}
	return "", jwtError("header field %q is %s; it must be a string", name, v.kind)
}

// jwtCheckAlgKid applies the header rules of an Ably JWT (§4.1): alg exactly
// "HS256" and a kid.
func jwtCheckAlgKid(h JWTHeader) error {
	switch {
	case h.Alg == "HS256":
	case h.Alg == "":
		return jwtError("the header has no alg; Ably JWTs are signed with HS256")
	case strings.EqualFold(h.Alg, "none"):
		return jwtError("alg %q (an unsigned JWT) is not accepted; Ably JWTs are signed with HS256", h.Alg)
	case strings.EqualFold(h.Alg, "HS256"):
		return jwtError("alg %q is not accepted: alg is case-sensitive, use \"HS256\"", h.Alg)
	default:
		return jwtError("alg %q is not supported; Ably JWTs are signed with HS256 using the API key secret (ably-auth §4.1)", h.Alg)
	}
	if h.Kid == "" {
		return jwtError("the header has no kid; set kid to the key name appId.keyId (ably-auth §4.1)")
	}
	return nil
}

// jwtNoSecret is returned when the caller passes an empty secret: an HMAC
// with an empty key proves nothing, so nothing can be verified with it.
func jwtNoSecret() error {
	return herald.NewError(herald.CodeInvalidJWT, "Invalid JWT: the signing key has no secret")
}

// jwtFinish applies the rules on a decoded JWT's values, in this order,
// which both verifiers share so that they fail with the same code:
// 40142 expired (exp <= now; no leeway, §4.6); 40144 exp not after iat,
// iat or nbf beyond now+leeway; 40003 exp − iat above the key's limit
// (§3.6: a bad value, not a token error, so SDKs do not retry it); 40012 an
// empty or oversized clientId (as ValidateClientID; "*" is the wildcard).
func jwtFinish(c *JWTClaims, t jwtTimes, now time.Time, opts JWTOptions) error {
	c.IssuedAt = time.Unix(t.iat, 0).UTC()
	c.ExpiresAt = time.Unix(t.exp, 0).UTC()
	if !now.Before(c.ExpiresAt) {
		return herald.Errorf(herald.CodeTokenExpired, "Token expired: the JWT's exp %s is not after the server time %s",
			c.ExpiresAt.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if t.exp <= t.iat {
		return jwtError("exp (%d) must be after iat (%d)", t.exp, t.iat)
	}
	leeway := opts.IATLeeway
	switch {
	case leeway == 0:
		leeway = DefaultJWTLeeway
	case leeway < 0:
		leeway = 0
	}
	limit := now.Add(leeway)
	if c.IssuedAt.After(limit) {
		return jwtError("iat %s is in the future (server time %s, leeway %s); check the signer's clock",
			c.IssuedAt.Format(time.RFC3339), now.UTC().Format(time.RFC3339), leeway)
	}
	if t.hasNBF && time.Unix(t.nbf, 0).After(limit) {
		return jwtError("not valid before nbf %s (server time %s, leeway %s)",
			time.Unix(t.nbf, 0).UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), leeway)
	}
	maxTTL, why := opts.MaxTTL, ""
	if maxTTL <= 0 {
		maxTTL = jwtMaxTTL
	}
	if opts.Revocable && maxTTL > jwtMaxRevocableTTL {
		maxTTL, why = jwtMaxRevocableTTL, " for a key with revocable tokens"
	}
	if ttl := time.Duration(t.exp-t.iat) * time.Second; ttl > maxTTL {
		return herald.Errorf(herald.CodeInvalidParamValue,
			"Invalid JWT ttl: exp − iat is %s, more than the maximum token lifetime of %s%s (ably-auth §3.6)", ttl, maxTTL, why)
	}
	if c.HasClientID {
		switch {
		case c.ClientID == "":
			return herald.NewError(herald.CodeInvalidClientID,
				"Invalid clientId: the JWT's x-ably-clientId is an empty string; omit the claim for an anonymous client")
		case len(c.ClientID) > MaxClientIDLen:
			return herald.Errorf(herald.CodeInvalidClientID, "Invalid clientId: the JWT's x-ably-clientId is longer than %d bytes", MaxClientIDLen)
		}
	}
	return nil
}

// SignJWT returns an HS256 JWT for claims, signed with secret, with the
// header {"typ":"JWT","alg":"HS256","kid":kid} of Ably's examples (§4.1).
// It is for tests and the CLI; claims are encoded with encoding/json
// (without HTML escaping), so iat and exp must be numbers of seconds.
func SignJWT(kid string, secret []byte, claims map[string]any) (string, error) {
	if kid == "" || len(secret) == 0 {
		return "", herald.NewError(herald.CodeBadRequest, "cannot sign a JWT without a kid and a secret")
	}
	header := struct {
		Typ string `json:"typ"`
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}{"JWT", "HS256", kid}
	h, err := jwtMarshal(header)
	if err != nil {
		return "", err
	}
	c, err := jwtMarshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(m.Sum(nil)), nil
}

// jwtMarshal encodes v as compact JSON without HTML escaping.
func jwtMarshal(v any) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return nil, herald.Errorf(herald.CodeBadRequest, "cannot encode JWT: %v", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
