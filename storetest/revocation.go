package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/heraldrt/herald"
)

// testRevocations checks revocation rules: round trip, replace of an equal
// rule, expiry filtering and deletion, unknown app, cascade, and the app's
// RevokeByChannel switch.
func testRevocations(t *testing.T, newStore func(t *testing.T) herald.Store) {
	ctx := context.Background()
	rule := func(typ, val string, ib, exp time.Duration) *herald.Revocation {
		return &herald.Revocation{AppID: "app1", KeyName: "app1.k", Type: typ, Value: val,
			IssuedBefore: at(ib), AppliesAt: at(ib + 30*time.Second), Expires: at(exp)}
	}
	t.Run("RoundTripAndExpiry", func(t *testing.T) {
		s := newStore(t)
		createApp(t, s, newApp("app1", t0))
		rules := []*herald.Revocation{
			rule(herald.TargetClientID, "alice", 0, time.Hour),
			rule(herald.TargetRevocationKey, "g:1", time.Minute, 2*time.Hour),
			rule(herald.TargetChannel, "chat:*", 2*time.Minute, 3*time.Hour),
		}
		if err := s.AddRevocations(ctx, rules); err != nil {
			t.Fatal(err)
		}
		// The same rule again is replaced, not duplicated.
		again := *rules[0]
		again.AppliesAt = at(time.Second)
		if err := s.AddRevocations(ctx, []*herald.Revocation{&again}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Revocations(ctx, at(0))
		if err != nil {
			t.Fatal(err)
		}
		want := []*herald.Revocation{&again, rules[1], rules[2]}
		if d := cmp.Diff(want, got, cmpOpts...); d != "" {
			t.Errorf("Revocations (-want +got):\n%s", d)
		}
		got, _ = s.Revocations(ctx, at(90*time.Minute))
		if len(got) != 2 {
			t.Errorf("after the first expiry: %d rules, want 2", len(got))
		}
		n, err := s.DeleteExpiredRevocations(ctx, at(150*time.Minute))
		if err != nil || n != 2 {
			t.Errorf("DeleteExpiredRevocations = %d, %v; want 2", n, err)
		}
		if err := s.AddRevocations(ctx, []*herald.Revocation{{AppID: "ghost", KeyName: "ghost.k", Type: "clientId", Value: "x",
			IssuedBefore: at(0), AppliesAt: at(0), Expires: at(time.Hour)}}); !errors.Is(err, herald.ErrNotFound) {
			t.Errorf("unknown app: %v", err)
		}
		if err := s.DeleteApp(ctx, "app1"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Revocations(ctx, at(0)); len(got) != 0 {
			t.Errorf("rules survived their app: %+v", got)
		}
	})
	t.Run("AppSwitch", func(t *testing.T) {
		s := newStore(t)
		app := newApp("app1", t0)
		app.RevokeByChannel = true
		createApp(t, s, app)
		got, err := s.App(ctx, "app1")
		if err != nil || !got.RevokeByChannel {
			t.Fatalf("RevokeByChannel lost: %+v %v", got, err)
		}
		got.RevokeByChannel = false
		if err := s.UpdateApp(ctx, got); err != nil {
			t.Fatal(err)
		}
		if got, _ = s.App(ctx, "app1"); got.RevokeByChannel {
			t.Error("update did not clear RevokeByChannel")
		}
	})
}
