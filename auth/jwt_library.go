package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// VerifyJWTLibrary is VerifyJWT written with github.com/golang-jwt/jwt/v5:
// the library splits and decodes the token, parses the JSON, restricts alg
// to HS256 and checks the signature with crypto/hmac; Herald's rules on the
// claims and times are applied to its MapClaims. It returns the same claims
// and error codes as VerifyJWT (messages may differ) and exists to
// cross-check the fast path in tests and FuzzJWT and to measure it against.
//
// Two representations differ by design: an object-valued x-ably-capability,
// and a non-string channel claim, come back re-encoded from the decoded
// value (keys sorted) rather than as the text written; both are the same
// JSON value. golang-jwt is lenient where VerifyJWT is not in three ways,
// which a precheck here closes: tokens over MaxJWTLen, '\r' and '\n' inside
// segments (encoding/base64 skips them) and invalid UTF-8 in the header or
// claims (encoding/json replaces it with U+FFFD).
func VerifyJWTLibrary(token string, secret []byte, now time.Time, opts JWTOptions) (*JWTClaims, error) {
	if len(secret) == 0 {
		return nil, jwtNoSecret()
	}
	if err := jwtLibraryPrecheck(token); err != nil {
		return nil, err
	}
	var h JWTHeader
	claims := jwt.MapClaims{}
	p := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithStrictDecoding(), jwt.WithoutClaimsValidation())
	_, err := p.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		var err error
		if h, err = jwtLibraryHeader(t.Header); err != nil {
			return nil, err
		}
		if h.Kid == "" {
			return nil, errors.New("the header has no kid")
		}
		return secret, nil
	})
	if err != nil {
		return nil, jwtError("%v", err).WithCause(err)
	}
	c := &JWTClaims{KeyName: h.Kid}
	t, err := jwtLibraryClaims(claims, c)
	if err != nil {
		return nil, err
	}
	if err := jwtFinish(c, t, now, opts); err != nil {
		return nil, err
	}
	return c, nil
}

// jwtLibraryPrecheck refuses what VerifyJWT refuses before golang-jwt sees
// the token (see VerifyJWTLibrary).
func jwtLibraryPrecheck(token string) error {
	if len(token) > MaxJWTLen || !jwtAlphabetOK(token) {
		return jwtShapeError(token)
	}
	parts := strings.SplitN(token, ".", 3)
	for i, part := range parts[:min(2, len(parts))] {
		if b, err := base64.RawURLEncoding.Strict().DecodeString(part); err == nil && !utf8.Valid(b) {
			return jwtError("the %s is not valid UTF-8", [...]string{"header", "claims"}[i])
		}
	}
	return nil
}

// jwtLibraryHeader reads the header fields VerifyJWT reads, with the same
// rule: each present one must be a string.
func jwtLibraryHeader(m map[string]any) (JWTHeader, error) {
	var h JWTHeader
	for name, dst := range map[string]*string{"alg": &h.Alg, "kid": &h.Kid, "typ": &h.Typ, jwtClaimToken: &h.Token} {
		v, ok := m[name]
		if !ok {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return h, jwtError("header field %q is %s; it must be a string", name, jwtKindOf(v))
		}
		*dst = s
	}
	return h, nil
}

// jwtLibraryClaims maps golang-jwt's MapClaims to JWTClaims with the rules of
// jwtDecodeClaims.
func jwtLibraryClaims(m jwt.MapClaims, c *JWTClaims) (jwtTimes, error) {
	var t jwtTimes
	for _, name := range []string{"iat", "exp", "nbf"} {
		v, ok := m[name]
		switch {
		case !ok && name == "nbf":
			continue
		case !ok:
			return t, jwtMissingTime(name)
		}
		f, ok := v.(float64)
		if !ok {
			return t, jwtWrongTime(name, jwtKindOf(v))
		}
		if !(f >= 1) || f > jwtMaxNumericDate {
			return t, jwtBadTime(name, jwtFormat(f), f > jwtMaxNumericDate)
		}
	}
	// The library converts the numbers (dropping fractions); Herald only
	// range-checked them above.
	iat, _ := m.GetIssuedAt()
	exp, _ := m.GetExpirationTime()
	t.iat, t.exp = iat.Unix(), exp.Unix()
	if nbf, _ := m.GetNotBefore(); nbf != nil {
		t.nbf, t.hasNBF = nbf.Unix(), true
	}
	if v, ok := m[jwtClaimCapability]; ok {
		switch v := v.(type) {
		case string:
			if v == "" {
				return t, jwtEmptyCapability()
			}
			c.Capability = v
		case map[string]any:
			c.Capability = jwtFormat(v)
		default:
			return t, jwtWrongCapability(jwtKindOf(v))
		}
		c.HasCapability = true
	}
	strs := []struct {
		name string
		dst  *string
		has  *bool
	}{{jwtClaimClientID, &c.ClientID, &c.HasClientID}, {jwtClaimRevocationKey, &c.RevocationKey, nil}, {jwtClaimClientType, &c.ClientType, nil}}
	for _, f := range strs {
		v, ok := m[f.name]
		if !ok {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return t, jwtWrongType(f.name, jwtKindOf(v))
		}
		*f.dst = s
		if f.has != nil {
			*f.has = true
		}
	}
	if _, ok := m[jwtClaimRevocationKey]; ok && c.RevocationKey == "" {
		return t, jwtEmptyRevocationKey()
	}
	for name, v := range m {
		switch {
		case strings.HasPrefix(name, jwtRatePrefix):
			res := name[len(jwtRatePrefix):]
			if err := jwtCheckResource(name, res); err != nil {
				return t, err
			}
			f, ok := v.(float64)
			if !ok {
				return t, jwtBadRate(name, jwtKindOf(v))
			}
			if !(f > 0) {
				return t, jwtBadRate(name, jwtFormat(f))
			}
			if c.RateLimits == nil {
				c.RateLimits = make(map[string]float64)
			}
			c.RateLimits[res] = f
		case strings.HasPrefix(name, jwtChannelPrefix):
			res := name[len(jwtChannelPrefix):]
			if err := jwtCheckResource(name, res); err != nil {
				return t, err
			}
			if c.ChannelClaims == nil {
				c.ChannelClaims = make(map[string]string)
			}
			switch v := v.(type) {
			case string:
				c.ChannelClaims[res] = v
			case nil:
				return t, jwtNullChannelClaim(name)
			default:
				c.ChannelClaims[res] = jwtFormat(v)
			}
		}
	}
	return t, nil
}

// jwtKindOf names the JSON type of a value decoded by encoding/json, in
// jwtKind's words.
func jwtKindOf(v any) string {
	k := jwtNull
	switch v.(type) {
	case string:
		k = jwtString
	case float64:
		k = jwtNumber
	case map[string]any:
		k = jwtObject
	case []any:
		k = jwtArray
	case bool:
		k = jwtBool
	}
	return k.String()
}

// jwtFormat encodes a decoded JSON value back to JSON text.
func jwtFormat(v any) string {
	b, err := jwtMarshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}
