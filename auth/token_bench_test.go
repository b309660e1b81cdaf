package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

func BenchmarkTokenVerify(b *testing.B) {
	f := newFixture(b)
	a := auth.New(auth.Config{}, f.cache, f.store, nil)
	e, _ := f.cache.Lookup(context.Background(), f.key.KeyName())
	td, err := a.Issue(context.Background(), e, auth.TokenParams{
		Capability: `{"chat:*":["publish","subscribe","presence"],"notifications":["subscribe"]}`,
		ClientID:   "alice", HasClientID: true,
	}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, _, _, err := a.VerifyToken(ctx, td.Token); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticateToken is the full path a request takes: token
// verify, cached compiled capability, clientId resolution, Principal.
func BenchmarkAuthenticateToken(b *testing.B) {
	f := newFixture(b)
	a := auth.New(auth.Config{}, f.cache, f.store, nil)
	e, _ := f.cache.Lookup(context.Background(), f.key.KeyName())
	td, err := a.Issue(context.Background(), e, auth.TokenParams{
		Capability: `{"chat:*":["publish","subscribe","presence"],"notifications":["subscribe"]}`,
		ClientID:   "alice", HasClientID: true,
	}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	c := auth.Credentials{Token: td.Token}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.Authenticate(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAuthenticateBasic(b *testing.B) {
	f := newFixture(b)
	a := auth.New(auth.Config{}, f.cache, f.store, nil)
	ctx := context.Background()
	c := auth.Credentials{Key: f.key.KeyString(), TLS: true}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.Authenticate(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTokenRequestMAC(b *testing.B) {
	r := &herald.TokenRequest{
		KeyName: "appId1.keyId1", TTL: "3600000",
		Capability: `{"chat:*":["presence","publish","subscribe"]}`,
		ClientID:   "alice", HasClientID: true, Timestamp: "1700000000000", Nonce: "1234567890abcdef",
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = auth.TokenRequestMAC("s3cr3t-K3y_value", r)
	}
}
