package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/heraldrt/herald"
)

// testTokens checks persisted-token records: round trip (clientId absent vs
// empty), conflicts, unknown app and ref, cascade on app deletion, expiry.
func testTokens(t *testing.T, newStore func(t *testing.T) herald.Store) {
	ctx := context.Background()
	t.Run("RoundTrip", func(t *testing.T) {
		s := newStore(t)
		createApp(t, s, newApp("app1", t0))
		recs := []*herald.StoredToken{
			{AppID: "app1", Ref: "r1", KeyID: "k1", Issued: at(0), Expires: at(time.Hour), ClientID: "alice", HasClientID: true,
				Capability: `{"a":["publish"], "b" : ["*"]}`, Revocable: true},
			{AppID: "app1", Ref: "r2", KeyID: "k1", Issued: at(0), Expires: at(time.Minute), Capability: `{"*":["*"]}`},
			{AppID: "app1", Ref: "r3", KeyID: "k2", Issued: at(0), Expires: at(time.Minute), ClientID: "", HasClientID: true, Capability: `{}`},
		}
		for _, r := range recs {
			if err := s.SaveToken(ctx, r); err != nil {
				t.Fatalf("SaveToken %s: %v", r.Ref, err)
			}
		}
		for _, want := range recs {
			got, err := s.Token(ctx, "app1", want.Ref)
			if err != nil {
				t.Fatalf("Token %s: %v", want.Ref, err)
			}
			if d := cmp.Diff(want, got, cmpOpts...); d != "" {
				t.Errorf("Token %s (-want +got):\n%s", want.Ref, d)
			}
		}
		if err := s.SaveToken(ctx, recs[0]); !errors.Is(err, herald.ErrConflict) {
			t.Errorf("duplicate ref: %v, want ErrConflict", err)
		}
		if _, err := s.Token(ctx, "app1", "nope"); !errors.Is(err, herald.ErrNotFound) {
			t.Errorf("unknown ref: %v", err)
		}
		if _, err := s.Token(ctx, "app2", "r1"); !errors.Is(err, herald.ErrNotFound) {
			t.Errorf("other app: %v", err)
		}
		bad := *recs[0]
		bad.AppID, bad.Ref = "ghost", "x"
		if err := s.SaveToken(ctx, &bad); !errors.Is(err, herald.ErrNotFound) {
			t.Errorf("unknown app: %v, want ErrNotFound", err)
		}
	})
	t.Run("Expiry", func(t *testing.T) {
		s := newStore(t)
		createApp(t, s, newApp("app1", t0))
		for i, exp := range []time.Duration{time.Minute, 2 * time.Minute, time.Hour} {
			r := &herald.StoredToken{AppID: "app1", Ref: string(rune('a' + i)), KeyID: "k", Issued: at(0), Expires: at(exp), Capability: "{}"}
			if err := s.SaveToken(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		n, err := s.DeleteExpiredTokens(ctx, at(2*time.Minute))
		if err != nil || n != 1 {
			t.Fatalf("DeleteExpiredTokens = %d, %v; want 1 (bound is exclusive)", n, err)
		}
		if _, err := s.Token(ctx, "app1", "a"); !errors.Is(err, herald.ErrNotFound) {
			t.Errorf("expired record still there: %v", err)
		}
		if _, err := s.Token(ctx, "app1", "b"); err != nil {
			t.Errorf("record expiring at the bound was removed: %v", err)
		}
	})
	t.Run("CascadeOnAppDelete", func(t *testing.T) {
		s := newStore(t)
		createApp(t, s, newApp("app1", t0))
		if err := s.SaveToken(ctx, &herald.StoredToken{AppID: "app1", Ref: "r", KeyID: "k", Issued: at(0), Expires: at(time.Hour), Capability: "{}"}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteApp(ctx, "app1"); err != nil {
			t.Fatal(err)
		}
		createApp(t, s, newApp("app1", t0))
		if _, err := s.Token(ctx, "app1", "r"); !errors.Is(err, herald.ErrNotFound) {
			t.Errorf("token survived its app: %v", err)
		}
	})
}
