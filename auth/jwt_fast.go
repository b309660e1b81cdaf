package auth

import (
	"crypto/hmac"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// jwtSigLen is the length of an unpadded base64url HS256 signature (32
// bytes).
const jwtSigLen = 43

// VerifyJWT verifies an Ably JWT (ably-auth §4.1, §4.6) signed with secret,
// the UTF-8 bytes of the key secret the caller found under the kid that
// ParseJWTHeader returned, and returns its claims. now is the server time.
//
// The header must say alg "HS256" (exactly) and carry a kid; the HMAC is
// checked, in constant time, before any claim is read. iat and exp are
// required numbers of seconds; nbf is honoured when present; fractions of a
// second are dropped. Failures are *herald.Error values: 40142 (401) when
// exp <= now, 40003 (400) when exp − iat exceeds the key's limit, 40012
// (400) for an empty x-ably-clientId, and 40144 (401) for everything else,
// with a message that says what is wrong. An embedded-token JWT (§4.2) is
// not handled here: see EmbeddedToken. VerifyJWTLibrary gives the same
// results with golang-jwt; the tests and FuzzJWT hold the two together.
func VerifyJWT(token string, secret []byte, now time.Time, opts JWTOptions) (*JWTClaims, error) {
	if len(secret) == 0 {
		return nil, jwtNoSecret()
	}
	segs, n, ok := jwtSplit(token)
	if !ok || len(token) > MaxJWTLen {
		return nil, jwtShapeError(token)
	}
	switch {
	case n == 5:
		return nil, jwtError("5 segments make an encrypted JWT (JWE), which can only wrap an embedded token in its header (ably-auth §4.2); Ably JWTs are signed with HS256")
	case segs[1] == "":
		return nil, jwtError("the claims segment is empty")
	case segs[2] == "":
		return nil, jwtError("the signature segment is empty")
	}
	h, err := jwtParseHeader(segs[0])
	if err != nil {
		return nil, jwtBadChar(token, err)
	}
	if err := jwtCheckAlgKid(h); err != nil {
		return nil, err
	}
	// The signature is checked before the claims are even decoded: nothing
	// a forger wrote is parsed, and forged tokens cost one HMAC.
	if !jwtSignatureOK(token[:len(segs[0])+1+len(segs[1])], segs[2], secret) {
		if !jwtAlphabetOK(segs[2]) {
			return nil, jwtShapeError(token)
		}
		return nil, jwtError("the signature does not match: the JWT was not signed (HS256) with the secret of key %s", quoteShort(h.Kid))
	}
	payload, ok := jwtDecodeString(segs[1])
	if !ok {
		return nil, jwtBadChar(token, jwtError("the claims segment is not valid base64url"))
	}
	c := &JWTClaims{KeyName: h.Kid}
	t, err := jwtDecodeClaims(payload, c)
	if err != nil {
		return nil, err
	}
	if err := jwtFinish(c, t, now, opts); err != nil {
		return nil, err
	}
	return c, nil
}

// jwtBadChar returns the error that names the first character of s (the
// token or a segment) outside base64url, if it has one, and err otherwise.
// The decoders check the characters; this explains their failure.
func jwtBadChar(s string, err error) error {
	if !jwtAlphabetOK(s) {
		return jwtShapeError(s)
	}
	return err
}

// jwtSignatureOK reports whether sig is the base64url HS256 signature of
// signing under secret, comparing in constant time.
func jwtSignatureOK(signing, sig string, secret []byte) bool {
	var got [32]byte
	if len(sig) != jwtSigLen || !jwtDecode(got[:], sig) {
		return false
	}
	want := jwtHS256(secret, signing)
	return hmac.Equal(got[:], want[:])
}

// jwtDynClaim is an ably.channel.* or ably.limits.* member, kept until the
// whole object is scanned so that a repeated name keeps its last value.
type jwtDynClaim struct {
	name string
	val  jwtValue
	rate bool
}

// jwtDecodeClaims reads the claims of an Ably JWT into c in one pass over
// the JSON, without building a map: each known member's value is located,
// and only the strings returned are materialised (substrings of s unless
// escaped). A repeated member keeps its last value, as with encoding/json.
// Every problem is a 40144.
func jwtDecodeClaims(s string, c *JWTClaims) (jwtTimes, error) {
	var t jwtTimes
	if !utf8.ValidString(s) {
		return t, jwtError("the claims are not valid UTF-8")
	}
	sc := jwtScanner{s: s}
	if err := sc.beginObject(); err != nil {
		return t, jwtError("the claims are not a JSON object: %v", err)
	}
	var iat, exp, nbf, capa, cid, rev, ctype jwtValue
	var dynStack [4]jwtDynClaim
	dyn := dynStack[:0]
	nChan, nRate := 0, 0
	for first := true; ; first = false {
		key, val, done, err := sc.member(first)
		if err != nil {
			return t, jwtError("the claims are not valid JSON: %v", err)
		}
		if done {
			break
		}
		switch name := jwtText(s, key); name {
		case "iat":
			iat = val
		case "exp":
			exp = val
		case "nbf":
			nbf = val
		case jwtClaimCapability:
			capa = val
		case jwtClaimClientID:
			cid = val
		case jwtClaimRevocationKey:
			rev = val
		case jwtClaimClientType:
			ctype = val
		default:
			if strings.HasPrefix(name, jwtChannelPrefix) {
				dyn = append(dyn, jwtDynClaim{name: name, val: val})
				nChan++
			} else if strings.HasPrefix(name, jwtRatePrefix) {
				dyn = append(dyn, jwtDynClaim{name: name, val: val, rate: true})
				nRate++
			}
		}
	}
	if err := sc.end(); err != nil {
		return t, jwtError("the claims are not valid JSON: %v", err)
	}
	var err error
	if t.iat, err = jwtSeconds(s, "iat", iat); err != nil {
		return t, err
	}
	if t.exp, err = jwtSeconds(s, "exp", exp); err != nil {
		return t, err
	}
	if nbf.kind != jwtAbsent {
		if t.nbf, err = jwtSeconds(s, "nbf", nbf); err != nil {
			return t, err
		}
		t.hasNBF = true
	}
	switch capa.kind {
	case jwtAbsent:
	case jwtString:
		if c.Capability = jwtText(s, capa); c.Capability == "" {
			return t, jwtEmptyCapability()
		}
		c.HasCapability = true
	case jwtObject:
		c.Capability, c.HasCapability = s[capa.start:capa.end], true
	default:
		return t, jwtWrongCapability(capa.kind.String())
	}
	if c.ClientID, c.HasClientID, err = jwtOptString(s, jwtClaimClientID, cid); err != nil {
		return t, err
	}
	if c.RevocationKey, _, err = jwtOptString(s, jwtClaimRevocationKey, rev); err != nil {
		return t, err
	}
	if rev.kind != jwtAbsent && c.RevocationKey == "" {
		return t, jwtEmptyRevocationKey()
	}
	if c.ClientType, _, err = jwtOptString(s, jwtClaimClientType, ctype); err != nil {
		return t, err
	}
	if nChan > 0 {
		c.ChannelClaims = make(map[string]string, nChan)
	}
	if nRate > 0 {
		c.RateLimits = make(map[string]float64, nRate)
	}
	// Backwards, so that the last of a repeated name wins and the earlier
	// ones are never looked at (encoding/json never sees them either).
	for i := len(dyn) - 1; i >= 0; i-- {
		d := &dyn[i]
		if d.rate {
			res := d.name[len(jwtRatePrefix):]
			if _, seen := c.RateLimits[res]; seen {
				continue
			}
			if err := jwtCheckResource(d.name, res); err != nil {
				return t, err
			}
			if d.val.kind != jwtNumber {
				return t, jwtBadRate(d.name, d.val.kind.String())
			}
			f, _ := strconv.ParseFloat(s[d.val.start:d.val.end], 64) // in range: checked by the scanner
			if !(f > 0) {
				return t, jwtBadRate(d.name, strconv.FormatFloat(f, 'g', -1, 64))
			}
			c.RateLimits[res] = f
			continue
		}
		res := d.name[len(jwtChannelPrefix):]
		if _, seen := c.ChannelClaims[res]; seen {
			continue
		}
		if err := jwtCheckResource(d.name, res); err != nil {
			return t, err
		}
		switch d.val.kind {
		case jwtString:
			c.ChannelClaims[res] = jwtText(s, d.val)
		case jwtNull:
			return t, jwtNullChannelClaim(d.name)
		default:
			// Non-string values travel as their JSON text, as written: the
			// claim ends up in a message's extras.userClaim (§4.3).
			c.ChannelClaims[res] = s[d.val.start:d.val.end]
		}
	}
	return t, nil
}

// jwtSeconds reads the required time claim name (iat, exp or nbf).
func jwtSeconds(s, name string, v jwtValue) (int64, error) {
	switch v.kind {
	case jwtNumber:
	case jwtAbsent:
		return 0, jwtMissingTime(name)
	default:
		return 0, jwtWrongTime(name, v.kind.String())
	}
	sec, ok, tooBig := jwtNumericDate(s[v.start:v.end])
	if !ok {
		return 0, jwtBadTime(name, s[v.start:v.end], tooBig)
	}
	return sec, nil
}

// jwtNumericDate converts a JSON number (RFC 7519 §2 NumericDate) to whole
// seconds, dropping any fraction as golang-jwt does (TimePrecision 1 s).
// Values below 1 or above jwtMaxNumericDate are refused (ok false); tooBig
// says which. Plain integers, the usual case, skip ParseFloat.
func jwtNumericDate(text string) (sec int64, ok, tooBig bool) {
	if len(text) <= 12 {
		var n int64
		i := 0
		for ; i < len(text) && text[i] >= '0' && text[i] <= '9'; i++ {
			n = n*10 + int64(text[i]-'0')
		}
		if i == len(text) {
			return n, n >= 1 && n <= jwtMaxNumericDate, n > jwtMaxNumericDate
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	switch {
	case err != nil || f > jwtMaxNumericDate:
		return 0, false, true
	case !(f >= 1):
		return 0, false, false
	}
	return int64(f), true, false
}

// jwtOptString reads an optional string claim.
func jwtOptString(s, name string, v jwtValue) (string, bool, error) {
	switch v.kind {
	case jwtAbsent:
		return "", false, nil
	case jwtString:
		return jwtText(s, v), true, nil
	}
	return "", false, jwtWrongType(name, v.kind.String())
}

// jwtCheckResource checks the resource of a channel or rate-limit claim
// with the capability resource rules (§4.3, §5.3), so that a typo is
// reported at connect time instead of never matching.
func jwtCheckResource(name, res string) error {
	if _, _, reason := checkName(res, true); reason != "" {
		return jwtError("claim %s names an invalid resource %s: it %s (ably-auth §5.3)", quoteShort(name), quoteShort(res), reason)
	}
	return nil
}

// Errors shared by VerifyJWT and VerifyJWTLibrary, so that both say the same.

func jwtMissingTime(name string) error {
	return jwtError("claim %q is missing; Ably JWTs need iat and exp in seconds since the Unix epoch (ably-auth §4.1)", name)
}

func jwtWrongTime(name, kind string) error {
	return jwtError("claim %q is %s; it must be a number of seconds since the Unix epoch", name, kind)
}

func jwtBadTime(name, text string, tooBig bool) error {
	if tooBig {
		return jwtError("claim %q is %s, after the year 9999: JWT times are in seconds, not milliseconds", name, text)
	}
	return jwtError("claim %q is %s; it must be a positive number of seconds since the Unix epoch", name, text)
}

func jwtWrongType(name, kind string) error {
	return jwtError("claim %q is %s; it must be a string", name, kind)
}

func jwtEmptyCapability() error {
	return jwtError("claim %q is an empty string; omit it to use the key's capability", jwtClaimCapability)
}

func jwtWrongCapability(kind string) error {
	return jwtError("claim %q is %s; it must be a capability as a JSON string or object (ably-auth §4.1)", jwtClaimCapability, kind)
}

func jwtEmptyRevocationKey() error {
	return jwtError("claim %q is an empty string", jwtClaimRevocationKey)
}

func jwtBadRate(name, what string) error {
	return jwtError("claim %s is %s; it must be a number of messages per second above 0 (ably-auth §4.4)", quoteShort(name), what)
}

func jwtNullChannelClaim(name string) error {
	return jwtError("claim %s is null; a channel claim must have a value (ably-auth §4.3)", quoteShort(name))
}
