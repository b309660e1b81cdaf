package auth_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// The composed example of ably-auth §4.1.
const (
	jwtSecret  = "s3cr3t-K3y_value"
	jwtKid     = "appId1.keyId1"
	jwtExample = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiIsImtpZCI6ImFwcElkMS5rZXlJZDEifQ." +
		"eyJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMCwieC1hYmx5LWNhcGFiaWxpdHkiOiJ7XCJjaGF0OipcIjpbXCJwdWJsaXNoXCIsXCJzdWJzY3JpYmVcIl19IiwieC1hYmx5LWNsaWVudElkIjoiYWxpY2UifQ." +
		"o4WEqRaf2cBpnwTDSb296FDVXJAsrjFguneVbWSe4CY"
	jwtHeader = `{"typ":"JWT","alg":"HS256","kid":"appId1.keyId1"}`
	jwtT0     = 1700000000 // iat of the standard claims; exp is jwtT0+3600
)

// jwtNow is the default server time of the tests: a minute after jwtT0.
var jwtNow = time.Unix(jwtT0+60, 0)

// jwtB64 is base64url without padding, the JWS segment encoding.
func jwtB64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// jwtSign returns the HS256 signature segment of signing under secret,
// computed with crypto/hmac, independently of the code under test.
func jwtSign(secret, signing string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(signing))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// jwtRaw builds a JWT from literal header and claims JSON, signed under
// secret, so that a test controls every byte of both.
func jwtRaw(header, claims, secret string) string {
	signing := jwtB64(header) + "." + jwtB64(claims)
	return signing + "." + jwtSign(secret, signing)
}

// jwtWith returns a correctly signed JWT with the standard header and iat,
// exp (an hour later) plus extra members, e.g. `,"x-ably-clientId":"bob"`.
func jwtWith(extra string) string {
	return jwtRaw(jwtHeader, fmt.Sprintf(`{"iat":%d,"exp":%d%s}`, jwtT0, jwtT0+3600, extra), jwtSecret)
}

// jwtTimes returns a correctly signed JWT with the given iat and exp text.
func jwtTimes(iat, exp any) string {
	return jwtRaw(jwtHeader, fmt.Sprintf(`{"iat":%v,"exp":%v}`, iat, exp), jwtSecret)
}

// jwtHeaderWith returns a correctly signed JWT with the standard claims
// and a header made of fields (raw JSON members).
func jwtHeaderWith(fields string) string {
	return jwtRaw("{"+fields+"}", fmt.Sprintf(`{"iat":%d,"exp":%d}`, jwtT0, jwtT0+3600), jwtSecret)
}

// jwtCompare reports how two verifier results disagree, or
// "" when they give the same claims or the same error code and status.
// Object capabilities and non-string channel claims are compared as JSON
// values: VerifyJWT keeps their text, VerifyJWTLibrary re-encodes them.
func jwtCompare(fast *auth.JWTClaims, ferr error, lib *auth.JWTClaims, lerr error) string {
	if (ferr == nil) != (lerr == nil) {
		return fmt.Sprintf("fast: %v / %v; library: %v / %v", fast, ferr, lib, lerr)
	}
	if ferr != nil {
		var fe, le *herald.Error
		if !errors.As(ferr, &fe) || !errors.As(lerr, &le) {
			return fmt.Sprintf("not *herald.Error: %T %v / %T %v", ferr, ferr, lerr, lerr)
		}
		if fe.Code != le.Code || fe.StatusCode != le.StatusCode {
			return fmt.Sprintf("fast error %d/%d %q; library error %d/%d %q", fe.Code, fe.StatusCode, fe.Message, le.Code, le.StatusCode, le.Message)
		}
		return ""
	}
	f, l := *fast, *lib
	jwtNormalize(&f)
	jwtNormalize(&l)
	if d := cmp.Diff(f, l, cmpopts.EquateEmpty()); d != "" {
		return "claims differ (-fast +library):\n" + d
	}
	return ""
}

// jwtNormalize rewrites the JSON-text fields of c (an object capability,
// non-string channel claims) in one canonical encoding. A string value that
// is not JSON text stays as it is.
func jwtNormalize(c *auth.JWTClaims) {
	canon := func(s string) string {
		var v any
		if json.Unmarshal([]byte(s), &v) != nil {
			return s
		}
		if _, isString := v.(string); isString {
			return s // a JSON string literal is kept apart from its content
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	c.Capability = canon(c.Capability)
	if c.ChannelClaims != nil {
		m := make(map[string]string, len(c.ChannelClaims))
		for k, v := range c.ChannelClaims {
			m[k] = canon(v)
		}
		c.ChannelClaims = m
	}
}

// jwtVerifyBoth runs VerifyJWT and VerifyJWTLibrary and fails the test when
// they disagree; it returns VerifyJWT's result.
func jwtVerifyBoth(tb testing.TB, token string, secret []byte, now time.Time, opts auth.JWTOptions) (*auth.JWTClaims, error) {
	tb.Helper()
	fast, ferr := auth.VerifyJWT(token, secret, now, opts)
	lib, lerr := auth.VerifyJWTLibrary(token, secret, now, opts)
	if d := jwtCompare(fast, ferr, lib, lerr); d != "" {
		tb.Fatalf("VerifyJWT and VerifyJWTLibrary disagree on %q:\n%s", token, d)
	}
	return fast, ferr
}

// jwtWantCode checks that err is a *herald.Error with code and status.
func jwtWantCode(tb testing.TB, err error, code, status int) *herald.Error {
	tb.Helper()
	var e *herald.Error
	if !errors.As(err, &e) {
		tb.Fatalf("error = %v (%T), want *herald.Error %d", err, err, code)
	}
	if e.Code != code || e.StatusCode != status {
		tb.Fatalf("error = %d/%d %q, want %d/%d", e.Code, e.StatusCode, e.Message, code, status)
	}
	if code == herald.CodeInvalidJWT && !strings.HasPrefix(e.Message, "Invalid JWT: ") {
		tb.Errorf("message %q does not start with \"Invalid JWT: \"", e.Message)
	}
	return e
}

type jwtCase struct {
	name   string
	token  string
	secret string          // "" = jwtSecret
	now    time.Time       // zero = jwtNow
	opts   auth.JWTOptions //
	code   int             // 0 = accepted
	want   *auth.JWTClaims // checked against VerifyJWT's claims when set
}

// jwtStd are the claims of jwtWith("") with fields set by the caller.
func jwtStd(set func(c *auth.JWTClaims)) *auth.JWTClaims {
	c := &auth.JWTClaims{KeyName: jwtKid, IssuedAt: time.Unix(jwtT0, 0).UTC(), ExpiresAt: time.Unix(jwtT0+3600, 0).UTC()}
	if set != nil {
		set(c)
	}
	return c
}

func jwtAcceptCases() []jwtCase {
	long := strings.Repeat("x", 3000) // pushes the HMAC input past its stack buffer
	return []jwtCase{
		{name: "reference example §4.1", token: jwtExample, now: time.Unix(1700003599, 0),
			want: jwtStd(func(c *auth.JWTClaims) {
				c.Capability, c.HasCapability = `{"chat:*":["publish","subscribe"]}`, true
				c.ClientID, c.HasClientID = "alice", true
			})},
		{name: "iat and exp only", token: jwtWith(""), want: jwtStd(nil)},
		{name: "object capability kept as written", token: jwtWith(`,"x-ably-capability": {"chat:*": ["publish"],"x":["*"]}`),
			want: jwtStd(func(c *auth.JWTClaims) { c.Capability, c.HasCapability = `{"chat:*": ["publish"],"x":["*"]}`, true })},
		{name: "wildcard clientId", token: jwtWith(`,"x-ably-clientId":"*"`),
			want: jwtStd(func(c *auth.JWTClaims) { c.ClientID, c.HasClientID = "*", true })},
		{name: "channel and rate-limit claims with ':' and '*'", token: jwtWith(`,"ably.channel.chat:*":"moderator","ably.channel.*":"guest",` +
			`"ably.channel.chat1":{"role": "admin"},"ably.channel.[meta]log":7,"ably.channel.a:*:c":"{\"r\":1}",` +
			`"ably.limits.publish.perAttachment.maxRate.*":5,"ably.limits.publish.perAttachment.maxRate.chat:*":0.1`),
			want: jwtStd(func(c *auth.JWTClaims) {
				c.ChannelClaims = map[string]string{"chat:*": "moderator", "*": "guest", "chat1": `{"role": "admin"}`, "[meta]log": "7", "a:*:c": `{"r":1}`}
				c.RateLimits = map[string]float64{"*": 5, "chat:*": 0.1}
			})},
		{name: "revocation key and client type", token: jwtWith(`,"x-ably-revocation-key":"users.42","x-ably-clientType":"server"`),
			want: jwtStd(func(c *auth.JWTClaims) { c.RevocationKey, c.ClientType = "users.42", "server" })},
		{name: "unknown claims ignored", token: jwtWith(`,"jti":"x","x-ably-appId":"appId1","ably.room.r":"x","ably.limits.other":"x",` +
			`"nested":{"a":[1,2.5e3,-0,true,false,null,{"b":"\u00e9"}]},"big":1e300`),
			want: jwtStd(nil)},
		{name: "fractions of a second dropped", token: jwtTimes("1700000000.9", "1700003600.5"), want: jwtStd(nil)},
		{name: "exponent notation", token: jwtTimes("1.7e9", "17000036e2"), want: jwtStd(nil)},
		{name: "repeated claim keeps the last", token: jwtWith(`,"x-ably-clientId":5,"x-ably-clientId":"bob","ably.channel.a":null,"ably.channel.a":"x"`),
			want: jwtStd(func(c *auth.JWTClaims) {
				c.ClientID, c.HasClientID = "bob", true
				c.ChannelClaims = map[string]string{"a": "x"}
			})},
		{name: "repeated exp keeps the last", token: jwtRaw(jwtHeader, `{"iat":1700000000,"exp":"x","exp":1,"exp":1700003600}`, jwtSecret),
			want: jwtStd(nil)},
		{name: "escaped names and values", token: jwtWith(`,"x-ably-client\u0049d":"al\u00e9\ud83d\ude00\n","x-ably-capability":"{\"a\":[\"*\"]}"`),
			want: jwtStd(func(c *auth.JWTClaims) {
				c.ClientID, c.HasClientID = "alé😀\n", true
				c.Capability, c.HasCapability = `{"a":["*"]}`, true
			})},
		{name: "lone surrogate becomes U+FFFD", token: jwtWith(`,"x-ably-clientId":"a\ud800b"`),
			want: jwtStd(func(c *auth.JWTClaims) { c.ClientID, c.HasClientID = "a\uFFFDb", true })},
		{name: "whitespace everywhere", token: jwtRaw(" {\n\"alg\" : \"HS256\" ,\t\"kid\":\"appId1.keyId1\"} ", "\r\n{ \"iat\" : 1700000000 , \"exp\" : 1700003600 }\t", jwtSecret),
			want: jwtStd(nil)},
		{name: "typ optional", token: jwtHeaderWith(`"alg":"HS256","kid":"appId1.keyId1"`), want: jwtStd(nil)},
		{name: "exp one second after now", token: jwtWith(""), now: time.Unix(jwtT0+3599, 0)},
		{name: "iat at the default leeway", token: jwtTimes(jwtT0+90, jwtT0+3600)},
		{name: "iat at a custom leeway", token: jwtTimes(jwtT0+65, jwtT0+3600), opts: auth.JWTOptions{IATLeeway: 5 * time.Second}},
		{name: "nbf within the leeway", token: jwtWith(`,"nbf":1700000090`)},
		{name: "TTL exactly 24 h", token: jwtTimes(jwtT0, jwtT0+86400)},
		{name: "revocable TTL exactly 1 h", token: jwtWith(""), opts: auth.JWTOptions{Revocable: true}},
		{name: "MaxTTL above 24 h", token: jwtTimes(jwtT0, jwtT0+2*86400), opts: auth.JWTOptions{MaxTTL: 48 * time.Hour}},
		{name: "secret longer than the HMAC block", token: jwtRaw(jwtHeader, `{"iat":1700000000,"exp":1700003600}`, strings.Repeat("k", 100)),
			secret: strings.Repeat("k", 100)},
		{name: "long token", token: jwtWith(`,"pad":"` + long + `"`)},
	}
}

func jwtRejectCases() []jwtCase {
	const (
		bad     = herald.CodeInvalidJWT
		expired = herald.CodeTokenExpired
		ttl     = herald.CodeInvalidParamValue
		cid     = herald.CodeInvalidClientID
	)
	std := `{"iat":1700000000,"exp":1700003600}`
	good := jwtWith("")
	segs := strings.Split(good, ".")
	return []jwtCase{
		// Header (§4.1): each token is otherwise valid and signed with the right secret.
		{name: "alg none", token: jwtHeaderWith(`"alg":"none","kid":"appId1.keyId1"`), code: bad},
		{name: "alg HS384", token: jwtHeaderWith(`"alg":"HS384","kid":"appId1.keyId1"`), code: bad},
		{name: "alg RS256", token: jwtHeaderWith(`"alg":"RS256","kid":"appId1.keyId1"`), code: bad},
		{name: "alg lower case", token: jwtHeaderWith(`"alg":"hs256","kid":"appId1.keyId1"`), code: bad},
		{name: "alg missing", token: jwtHeaderWith(`"kid":"appId1.keyId1"`), code: bad},
		{name: "alg not a string", token: jwtHeaderWith(`"alg":256,"kid":"appId1.keyId1"`), code: bad},
		{name: "alg repeated, last is none", token: jwtHeaderWith(`"alg":"HS256","kid":"appId1.keyId1","alg":"none"`), code: bad},
		{name: "kid missing", token: jwtHeaderWith(`"alg":"HS256"`), code: bad},
		{name: "kid empty", token: jwtHeaderWith(`"alg":"HS256","kid":""`), code: bad},
		{name: "kid not a string", token: jwtHeaderWith(`"alg":"HS256","kid":1`), code: bad},
		{name: "typ not a string", token: jwtHeaderWith(`"alg":"HS256","kid":"appId1.keyId1","typ":null`), code: bad},
		// Signature.
		{name: "bad signature", token: segs[0] + "." + segs[1] + "." + strings.Repeat("A", 43), code: bad},
		{name: "signature of another secret", token: jwtWith(""), secret: "another-secret", code: bad},
		{name: "signature checked before expiry", token: jwtWith(""), secret: "another-secret", now: time.Unix(jwtT0+7200, 0), code: bad},
		{name: "signature truncated", token: good[:len(good)-1], code: bad},
		{name: "signature padded", token: good + "=", code: bad},
		{name: "signature with non-zero trailing bits", token: good[:len(good)-1] + jwtFlipLastBits(good[len(good)-1]), code: bad},
		{name: "signature differing in its last byte", token: good[:len(good)-2] + jwtOther(good[len(good)-2]) + good[len(good)-1:], code: bad},
		{name: "claims with non-zero trailing bits (2-character tail)", token: jwtNonCanonical(2), code: bad},
		{name: "claims with non-zero trailing bits (3-character tail)", token: jwtNonCanonical(3), code: bad},
		{name: "signature empty", token: segs[0] + "." + segs[1] + ".", code: bad},
		{name: "claims truncated", token: segs[0] + "." + segs[1][:len(segs[1])-3] + "." + segs[2], code: bad},
		{name: "claims empty", token: segs[0] + ".." + segs[2], code: bad},
		{name: "header empty", token: "." + segs[1] + "." + segs[2], code: bad},
		{name: "empty secret", token: good, secret: "\x00empty", code: bad},
		// Shape and encoding.
		{name: "2 segments", token: segs[0] + "." + segs[1], code: bad},
		{name: "4 segments", token: good + ".x", code: bad},
		{name: "5 segments (JWE)", token: good + ".x.y", code: bad},
		{name: "6 segments", token: good + ".x.y.z", code: bad},
		{name: "invalid base64 character", token: segs[0] + "." + segs[1] + "+." + segs[2], code: bad},
		{name: "line break in a segment", token: segs[0] + "\n." + segs[1] + "." + segs[2], code: bad},
		{name: "padded header", token: jwtB64(`{"alg":"HS256","kid":"k"}`) + "==." + segs[1] + "." + segs[2], code: bad},
		{name: "too large", token: jwtWith(`,"pad":"` + strings.Repeat("x", auth.MaxJWTLen) + `"`), code: bad},
		{name: "header not JSON", token: jwtRaw(`alg=HS256`, std, jwtSecret), code: bad},
		{name: "header a JSON array", token: jwtRaw(`["HS256"]`, std, jwtSecret), code: bad},
		{name: "header with trailing data", token: jwtRaw(jwtHeader+`x`, std, jwtSecret), code: bad},
		{name: "header invalid UTF-8", token: jwtRaw(`{"alg":"HS256","kid":"appId1.keyId1","x":"`+"\xff"+`"}`, std, jwtSecret), code: bad},
		{name: "claims not JSON", token: jwtRaw(jwtHeader, `iat=1`, jwtSecret), code: bad},
		{name: "claims a JSON array", token: jwtRaw(jwtHeader, `[1700000000,1700003600]`, jwtSecret), code: bad},
		{name: "claims null", token: jwtRaw(jwtHeader, `null`, jwtSecret), code: bad},
		{name: "claims with trailing data", token: jwtRaw(jwtHeader, std+` {}`, jwtSecret), code: bad},
		{name: "claims with trailing comma", token: jwtWith(`,`), code: bad},
		{name: "claims invalid UTF-8", token: jwtWith(`,"x-ably-clientId":"` + "\xc3\x28" + `"`), code: bad},
		{name: "claims with a control character", token: jwtWith(`,"x-ably-clientId":"a` + "\x1f" + `"`), code: bad},
		{name: "claims with a bad escape", token: jwtWith(`,"x-ably-clientId":"\x41"`), code: bad},
		{name: "number out of range in an unknown claim", token: jwtWith(`,"n":[1e400]`), code: bad},
		{name: "number with a leading zero", token: jwtWith(`,"n":01`), code: bad},
		// Times (§4.1, §4.6, §3.6).
		{name: "iat missing", token: jwtRaw(jwtHeader, `{"exp":1700003600}`, jwtSecret), code: bad},
		{name: "exp missing", token: jwtRaw(jwtHeader, `{"iat":1700000000}`, jwtSecret), code: bad},
		{name: "iat a string", token: jwtTimes(`"1700000000"`, jwtT0+3600), code: bad},
		{name: "exp null", token: jwtTimes(jwtT0, "null"), code: bad},
		{name: "iat zero", token: jwtTimes(0, jwtT0+3600), code: bad},
		{name: "iat below one", token: jwtTimes(0.5, jwtT0+3600), code: bad},
		{name: "exp negative", token: jwtTimes(jwtT0, -1), code: bad},
		{name: "exp in milliseconds", token: jwtTimes(jwtT0, int64(jwtT0+3600)*1000), code: bad},
		{name: "nbf a string", token: jwtWith(`,"nbf":"soon"`), code: bad},
		{name: "expired: exp == now", token: jwtWith(""), now: time.Unix(jwtT0+3600, 0), code: expired},
		{name: "expired: exp before now", token: jwtWith(""), now: time.Unix(jwtT0+7200, 0), code: expired},
		{name: "expired by a fraction: exp + 0.5 s", token: jwtWith(""), now: time.Unix(jwtT0+3600, 5e8), code: expired},
		{name: "exp not after iat", token: jwtTimes(jwtT0+70, jwtT0+70), code: bad},
		{name: "iat beyond the default leeway", token: jwtTimes(jwtT0+91, jwtT0+3600), code: bad},
		{name: "iat beyond a custom leeway", token: jwtTimes(jwtT0+66, jwtT0+3600), opts: auth.JWTOptions{IATLeeway: 5 * time.Second}, code: bad},
		{name: "iat in the future without leeway", token: jwtTimes(jwtT0+61, jwtT0+3600), opts: auth.JWTOptions{IATLeeway: -1}, code: bad},
		{name: "nbf in the future", token: jwtWith(`,"nbf":1700000091`), code: bad},
		{name: "TTL over 24 h", token: jwtTimes(jwtT0, jwtT0+86401), code: ttl},
		{name: "TTL over 1 h for a revocable key", token: jwtTimes(jwtT0, jwtT0+3601), opts: auth.JWTOptions{Revocable: true}, code: ttl},
		{name: "revocable key caps MaxTTL", token: jwtTimes(jwtT0, jwtT0+3601), opts: auth.JWTOptions{Revocable: true, MaxTTL: 48 * time.Hour}, code: ttl},
		{name: "TTL over MaxTTL", token: jwtTimes(jwtT0, jwtT0+601), opts: auth.JWTOptions{MaxTTL: 10 * time.Minute}, code: ttl},
		// Ably claims (§4.1, §4.3, §4.4).
		{name: "clientId a number", token: jwtWith(`,"x-ably-clientId":42`), code: bad},
		{name: "clientId null", token: jwtWith(`,"x-ably-clientId":null`), code: bad},
		{name: "clientId empty", token: jwtWith(`,"x-ably-clientId":""`), code: cid},
		{name: "clientId too long", token: jwtWith(`,"x-ably-clientId":"` + strings.Repeat("c", auth.MaxClientIDLen+1) + `"`), code: cid},
		{name: "capability a number", token: jwtWith(`,"x-ably-capability":1`), code: bad},
		{name: "capability an array", token: jwtWith(`,"x-ably-capability":["*"]`), code: bad},
		{name: "capability null", token: jwtWith(`,"x-ably-capability":null`), code: bad},
		{name: "capability empty string", token: jwtWith(`,"x-ably-capability":""`), code: bad},
		{name: "revocation key a number", token: jwtWith(`,"x-ably-revocation-key":1`), code: bad},
		{name: "revocation key empty", token: jwtWith(`,"x-ably-revocation-key":""`), code: bad},
		{name: "client type a boolean", token: jwtWith(`,"x-ably-clientType":true`), code: bad},
		{name: "rate limit a string", token: jwtWith(`,"ably.limits.publish.perAttachment.maxRate.chat:*":"5"`), code: bad},
		{name: "rate limit zero", token: jwtWith(`,"ably.limits.publish.perAttachment.maxRate.*":0`), code: bad},
		{name: "rate limit negative", token: jwtWith(`,"ably.limits.publish.perAttachment.maxRate.*":-1`), code: bad},
		{name: "rate limit underflowing to zero", token: jwtWith(`,"ably.limits.publish.perAttachment.maxRate.*":1e-400`), code: bad},
		{name: "rate limit for an empty resource", token: jwtWith(`,"ably.limits.publish.perAttachment.maxRate.":1`), code: bad},
		{name: "channel claim null", token: jwtWith(`,"ably.channel.chat":null`), code: bad},
		{name: "channel claim for an empty resource", token: jwtWith(`,"ably.channel.":"x"`), code: bad},
		{name: "channel claim for an invalid resource", token: jwtWith(`,"ably.channel.:chat":"x"`), code: bad},
	}
}

// jwtFlipLastBits returns a base64url character with the same top bits as
// c (the last character of a 43-character signature carries 4 bits and 2
// unused ones) but a non-zero unused bit.
func jwtFlipLastBits(c byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	return string(alphabet[strings.IndexByte(alphabet, c)|1])
}

// jwtOther returns another base64url character than c.
func jwtOther(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// jwtNonCanonical signs a JWT whose claims segment ends in a tail of tail
// (2 or 3) characters, the last with a non-zero unused bit: it decodes to
// the same bytes under a lenient decoder, so only strict decoding refuses
// it. The claims are padded with trailing spaces to get that tail.
func jwtNonCanonical(tail int) string {
	claims := `{"iat":1700000000,"exp":1700003600}`
	for len(claims)%3 != tail-1 {
		claims += " "
	}
	seg := jwtB64(claims)
	seg = seg[:len(seg)-1] + jwtFlipLastBits(seg[len(seg)-1])
	signing := jwtB64(jwtHeader) + "." + seg
	return signing + "." + jwtSign(jwtSecret, signing)
}

// TestVerifyJWT runs every case through VerifyJWT and VerifyJWTLibrary,
// which must agree, and checks the code (or the claims) VerifyJWT gives.
func TestVerifyJWT(t *testing.T) {
	statuses := map[int]int{herald.CodeInvalidJWT: 401, herald.CodeTokenExpired: 401, herald.CodeInvalidParamValue: 400, herald.CodeInvalidClientID: 400}
	for _, tc := range append(jwtAcceptCases(), jwtRejectCases()...) {
		t.Run(tc.name, func(t *testing.T) {
			secret, now := []byte(tc.secret), tc.now
			switch tc.secret {
			case "":
				secret = []byte(jwtSecret)
			case "\x00empty":
				secret = nil
			}
			if now.IsZero() {
				now = jwtNow
			}
			c, err := jwtVerifyBoth(t, tc.token, secret, now, tc.opts)
			if tc.code != 0 {
				jwtWantCode(t, err, tc.code, statuses[tc.code])
				return
			}
			if err != nil {
				t.Fatalf("VerifyJWT: %v", err)
			}
			if tc.want != nil {
				if d := cmp.Diff(tc.want, c, cmpopts.EquateEmpty()); d != "" {
					t.Errorf("claims (-want +got):\n%s", d)
				}
			}
			h, err := auth.ParseJWTHeader(tc.token)
			if err != nil || h.Kid != c.KeyName || h.Alg != "HS256" || !auth.LooksLikeJWT(tc.token) {
				t.Errorf("ParseJWTHeader = %+v, %v; LooksLikeJWT = %v", h, err, auth.LooksLikeJWT(tc.token))
			}
		})
	}
}

// TestVerifyJWT_MessagesExplain checks that a few common mistakes get a
// message that names the fix.
func TestVerifyJWT_MessagesExplain(t *testing.T) {
	for _, tc := range []struct{ name, token, want string }{
		{"milliseconds", jwtTimes(jwtT0, int64(jwtT0+3600)*1000), "seconds, not milliseconds"},
		{"lower-case alg", jwtHeaderWith(`"alg":"hs256","kid":"appId1.keyId1"`), "case-sensitive"},
		{"missing kid", jwtHeaderWith(`"alg":"HS256"`), "appId.keyId"},
		{"padding", jwtWith("") + "=", "base64url"},
		{"wrong secret", jwtRaw(jwtHeader, `{"iat":1700000000,"exp":1700003600}`, "x"), `key "appId1.keyId1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := auth.VerifyJWT(tc.token, []byte(jwtSecret), jwtNow, auth.JWTOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v does not mention %q", err, tc.want)
			}
		})
	}
}

// TestVerifyJWT_HMAC checks VerifyJWT's HMAC against crypto/hmac (through
// jwtRaw) for secrets around the 64-byte block size and signing inputs
// around its 2048-byte stack buffer.
func TestVerifyJWT_HMAC(t *testing.T) {
	for _, n := range []int{1, 16, 63, 64, 65, 128, 1000} {
		secret := strings.Repeat("s", n)
		for _, pad := range []int{0, 1, 1400, 1450, 1500, 5000} {
			claims := fmt.Sprintf(`{"iat":%d,"exp":%d,"p":"%s"}`, jwtT0, jwtT0+3600, strings.Repeat("p", pad))
			tok := jwtRaw(jwtHeader, claims, secret)
			if _, err := jwtVerifyBoth(t, tok, []byte(secret), jwtNow, auth.JWTOptions{}); err != nil {
				t.Errorf("secret %d bytes, pad %d: %v", n, pad, err)
			}
			if _, err := auth.VerifyJWT(tok, []byte(secret+"x"), jwtNow, auth.JWTOptions{}); err == nil {
				t.Errorf("secret %d bytes, pad %d: accepted with another secret", n, pad)
			}
		}
	}
}

// TestVerifyJWT_EveryCharacterChecked puts a character outside base64url at
// every position of a valid JWT, re-signing it when the change is in the
// signed part so that only the decoding can catch it. Every verifier and
// LooksLikeJWT must refuse it and say which character is wrong.
func TestVerifyJWT_EveryCharacterChecked(t *testing.T) {
	good := jwtWith(`,"x-ably-clientId":"alice"`)
	sigStart := strings.LastIndexByte(good, '.') + 1
	for i := range len(good) {
		if good[i] == '.' {
			continue
		}
		for _, bad := range []string{"+", "=", "\n", "\x00", "\xc3"} {
			tok := good[:i] + bad + good[i+1:]
			if i < sigStart {
				signing := tok[:sigStart-1]
				tok = signing + "." + jwtSign(jwtSecret, signing)
			}
			_, err := jwtVerifyBoth(t, tok, []byte(jwtSecret), jwtNow, auth.JWTOptions{})
			e := jwtWantCode(t, err, herald.CodeInvalidJWT, 401)
			if !strings.Contains(e.Message, "not base64url") {
				t.Errorf("offset %d, %q: message %q does not name the character", i, bad, e.Message)
			}
			if auth.LooksLikeJWT(tok) {
				t.Errorf("offset %d, %q: LooksLikeJWT is true", i, bad)
			}
		}
	}
}

func TestSignJWT(t *testing.T) {
	claims := map[string]any{
		"iat": jwtT0, "exp": jwtT0 + 3600,
		"x-ably-capability": `{"chat:*":["publish","subscribe"]}`, "x-ably-clientId": "alice",
	}
	tok, err := auth.SignJWT(jwtKid, []byte(jwtSecret), claims)
	if err != nil {
		t.Fatal(err)
	}
	// The header is byte for byte the one of the reference example.
	if got, want := strings.Split(tok, ".")[0], strings.Split(jwtExample, ".")[0]; got != want {
		t.Errorf("header segment %s, want %s", got, want)
	}
	c, err := jwtVerifyBoth(t, tok, []byte(jwtSecret), jwtNow, auth.JWTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientID != "alice" || c.Capability != `{"chat:*":["publish","subscribe"]}` {
		t.Errorf("claims %+v", c)
	}
	if _, err := auth.SignJWT("", []byte(jwtSecret), claims); err == nil {
		t.Error("SignJWT with an empty kid succeeded")
	}
	if _, err := auth.SignJWT(jwtKid, nil, claims); err == nil {
		t.Error("SignJWT with an empty secret succeeded")
	}
	if _, err := auth.SignJWT(jwtKid, []byte(jwtSecret), map[string]any{"f": func() {}}); err == nil {
		t.Error("SignJWT with an unencodable claim succeeded")
	}
}

func TestLooksLikeJWT(t *testing.T) {
	for _, tc := range []struct {
		name  string
		token string
		want  bool
	}{
		{"reference example", jwtExample, true},
		{"unsigned claims are still JWT-shaped", jwtHeaderWith(`"alg":"none"`), true},
		{"Ably token", "appId1.HHZNjgqmC-ACW0e2L2SBG0B-IvQmTjDpRzIuqPLb2nM", false},
		{"2 segments", "eyJhIjoxfQ.eyJhIjoxfQ", false},
		{"4 segments", jwtExample + ".x", false},
		{"JWE (5 segments)", jwtB64(`{"alg":"dir","enc":"A256GCM"}`) + "..aXY.Y3Q.dGFn", false},
		{"empty signature", jwtB64(`{"alg":"none"}`) + "." + jwtB64(`{}`) + ".", false},
		{"empty claims", jwtB64(`{"alg":"none"}`) + "..c2ln", false},
		{"header not an object", jwtB64(`"HS256"`) + ".e30.c2ln", false},
		{"header not JSON", jwtB64(`{alg}`) + ".e30.c2ln", false},
		{"header invalid UTF-8", jwtB64("{\"a\":\"\xff\"}") + ".e30.c2ln", false},
		{"not base64url", "a+b.c.d", false},
		{"claims not base64url", jwtB64(`{"alg":"HS256"}`) + ".e+30.c2ln", false},
		{"signature not base64url", jwtB64(`{"alg":"HS256"}`) + ".e30.c2l=", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := auth.LooksLikeJWT(tc.token); got != tc.want {
				t.Errorf("LooksLikeJWT(%q) = %v, want %v", tc.token, got, tc.want)
			}
		})
	}
}

func TestParseJWTHeader(t *testing.T) {
	for _, tc := range []struct {
		name  string
		token string
		want  auth.JWTHeader
		fail  bool
	}{
		{name: "reference example", token: jwtExample, want: auth.JWTHeader{Alg: "HS256", Kid: jwtKid, Typ: "JWT"}},
		{name: "embedded token", token: jwtB64(`{"alg":"RS256","x-ably-token":"appId1.tok"}`) + ".e30.c2ln",
			want: auth.JWTHeader{Alg: "RS256", Token: "appId1.tok"}},
		{name: "JWE", token: jwtB64(`{"alg":"dir","enc":"A256GCM","x-ably-token":"t"}`) + "..aXY.Y3Q.dGFn",
			want: auth.JWTHeader{Alg: "dir", Token: "t"}},
		{name: "escaped kid", token: jwtB64(`{"kid":"app\u0049d1.k"}`) + ".e30.c2ln", want: auth.JWTHeader{Kid: "appId1.k"}},
		{name: "alg not a string", token: jwtB64(`{"alg":null}`) + ".e30.c2ln", fail: true},
		{name: "x-ably-token not a string", token: jwtB64(`{"x-ably-token":{}}`) + ".e30.c2ln", fail: true},
		{name: "not an object", token: jwtB64(`[]`) + ".e30.c2ln", fail: true},
		{name: "not base64url", token: "e30=.e30.c2ln", fail: true},
		{name: "2 segments", token: "e30.e30", fail: true},
		{name: "too large", token: jwtB64(`{}`) + "." + strings.Repeat("A", auth.MaxJWTLen) + ".c2ln", fail: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := auth.ParseJWTHeader(tc.token)
			if tc.fail {
				jwtWantCode(t, err, herald.CodeInvalidJWT, 401)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h != tc.want {
				t.Errorf("header %+v, want %+v", h, tc.want)
			}
		})
	}
}
