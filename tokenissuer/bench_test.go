package tokenissuer_test

import (
	"testing"
	"time"

	"github.com/heraldrt/herald/tokenissuer"
)

// benchParams is a typical browser token: own channel, read-only
// notifications, a clientId, a revocation key and a rate limit.
var benchParams = tokenissuer.TokenParams{
	TTL:           time.Hour,
	Capability:    tokenissuer.Capability{"chat:alice": {"publish", "subscribe", "presence"}, "notifications": {"subscribe"}},
	ClientID:      "alice",
	RevocationKey: "group-1",
	RateLimits:    map[string]float64{"chat:alice": 5},
}

// BenchmarkMintJWT measures one core: jwts/s is b.N over the elapsed time
// of a single goroutine.
func BenchmarkMintJWT(b *testing.B) {
	i := newIssuer(b, tokenissuer.Config{Now: time.Now})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := i.MintJWT(benchParams); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jwts/s")
}

// BenchmarkMintJWT_Parallel shows how minting scales over GOMAXPROCS
// goroutines sharing one Issuer (jwts/s is the total).
func BenchmarkMintJWT_Parallel(b *testing.B) {
	i := newIssuer(b, tokenissuer.Config{Now: time.Now})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := i.MintJWT(benchParams); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jwts/s")
}

func BenchmarkCreateTokenRequest(b *testing.B) {
	i := newIssuer(b, tokenissuer.Config{Now: time.Now})
	p := benchParams
	p.RevocationKey, p.RateLimits = "", nil
	b.ReportAllocs()
	for b.Loop() {
		if _, err := i.CreateTokenRequest(p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}

// BenchmarkPolicyParams is the template expansion the auth server does
// before minting.
func BenchmarkPolicyParams(b *testing.B) {
	p := mustPolicy(b, chatPolicy)
	id := tokenissuer.Identity{User: "alice"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Params(id); err != nil {
			b.Fatal(err)
		}
	}
}
