package auth_test

import (
	"testing"
	"time"

	"github.com/heraldrt/herald/auth"
)

// jwtTypical is the JWT a typical client connects with: a capability
// string, a clientId and one channel claim (ably-auth §4.1, §4.3).
func jwtTypical(tb testing.TB) string {
	tb.Helper()
	tok, err := auth.SignJWT(jwtKid, []byte(jwtSecret), map[string]any{
		"iat":                 jwtT0,
		"exp":                 jwtT0 + 3600,
		"x-ably-capability":   `{"chat:*":["publish","subscribe","presence"],"notifications":["subscribe"]}`,
		"x-ably-clientId":     "user-4711@example.com",
		"ably.channel.chat:*": `{"role":"moderator"}`,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

func benchmarkVerify(b *testing.B, verify func(string, []byte, time.Time, auth.JWTOptions) (*auth.JWTClaims, error)) {
	tok, secret := jwtTypical(b), []byte(jwtSecret)
	b.ReportAllocs()
	b.SetBytes(int64(len(tok)))
	for b.Loop() {
		c, err := verify(tok, secret, jwtNow, auth.JWTOptions{})
		if err != nil || c.ClientID == "" {
			b.Fatal(err)
		}
	}
}

// BenchmarkJWTVerifyFast measures VerifyJWT, the path every JWT connect and
// request takes (target: ≤ 2 µs, ≤ 10 allocations).
func BenchmarkJWTVerifyFast(b *testing.B) { benchmarkVerify(b, auth.VerifyJWT) }

// BenchmarkJWTVerifyLibrary measures the golang-jwt implementation of the
// same checks, for comparison.
func BenchmarkJWTVerifyLibrary(b *testing.B) { benchmarkVerify(b, auth.VerifyJWTLibrary) }

// BenchmarkJWTVerifyFastBadSignature measures the cost of refusing a forged
// token: the header and one HMAC, nothing else.
func BenchmarkJWTVerifyFastBadSignature(b *testing.B) {
	tok, secret := jwtTypical(b), []byte("another-secret")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := auth.VerifyJWT(tok, secret, jwtNow, auth.JWTOptions{}); err == nil {
			b.Fatal("accepted")
		}
	}
}

// BenchmarkJWTParseHeader measures the kid lookup that precedes VerifyJWT.
func BenchmarkJWTParseHeader(b *testing.B) {
	tok := jwtTypical(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := auth.ParseJWTHeader(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJWTLooksLike measures the dispatch check run on every token.
func BenchmarkJWTLooksLike(b *testing.B) {
	tok := jwtTypical(b)
	b.ReportAllocs()
	for b.Loop() {
		if !auth.LooksLikeJWT(tok) {
			b.Fatal("not a JWT")
		}
	}
}
