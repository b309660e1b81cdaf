package storetest

import (
	"testing"
	"time"

	"github.com/heraldrt/herald"
)

// RunPersistence checks that a store keeps everything across Close and a new
// open of the same location. open must open (creating on first use) the
// store kept in dir; each call must return a new handle. The suite closes
// every store it opens.
func RunPersistence(t *testing.T, open func(t *testing.T, dir string) herald.Store) {
	dir := t.TempDir()
	reopen := func(t *testing.T) herald.Store {
		t.Helper()
		s := open(t, dir)
		t.Cleanup(func() { s.Close() }) // in case a check stops the test early
		return s
	}
	closeStore := func(t *testing.T, s herald.Store) {
		t.Helper()
		check(t, "Close", s.Close())
	}

	// What the first session writes and every later one must read back.
	p := provisioning("app1")
	plain := newApp("app2", at(time.Second))
	spaced := newKey("app2", "k1", at(time.Second))
	spaced.Capability = "{\"b\" : [\"subscribe\",\"publish\"],\n\"a\":[\"*\"]}"
	spaced.Status = herald.KeyRevoked
	added := newKey("app2", "k2", at(time.Minute))
	wantStats := []herald.StatsRecord{
		{AppID: "app1", Minute: minute(0), Entries: map[string]int64{"messages": 3, "bytes": 30}},
	}
	msgs := []*herald.Message{message(0, ts(0)), message(1, ts(1))}
	msgs[1].Data = herald.Data{Kind: herald.DataBinary, Bytes: []byte{0x00, 0xff}}
	msgs[1].Extras = map[string]any{"headers": map[string]any{"n": float64(1)}}
	events := []*herald.PresenceMessage{
		presenceEvent(2, 0, herald.PresenceEnter, ts(2)),
		presenceEvent(2, 1, herald.PresenceLeave, ts(2)),
	}
	historyQuery := herald.HistoryQuery{AppID: "app1", Channel: "persisted:room", Forwards: true}

	type snapshot struct {
		Apps       []*herald.App
		Keys       []*herald.Key
		Namespaces []*herald.Namespace
		Channels   []*herald.ChannelFixture
		Stats      []herald.StatsRecord
		Messages   []*herald.Message
		Presence   []*herald.PresenceMessage
		Account    string
		Generation int64
	}
	take := func(t *testing.T, s herald.Store) snapshot {
		t.Helper()
		account, err := s.Meta(t.Context(), "account")
		check(t, "Meta", err)
		return snapshot{
			Apps:       listApps(t, s),
			Keys:       listKeys(t, s, ""),
			Namespaces: namespaces(t, s, "app1"),
			Channels:   fixtures(t, s, "app1"),
			Stats:      stats(t, s, herald.StatsQuery{AppID: "app1", Forwards: true}),
			Messages:   history(t, s, historyQuery),
			Presence:   presenceHistory(t, s, historyQuery),
			Account:    account,
			Generation: generation(t, s),
		}
	}

	var want snapshot
	t.Run("Write", func(t *testing.T) {
		s := reopen(t)
		ctx := t.Context()
		check(t, "Provision", s.Provision(ctx, provisioning("app1")))
		createApp(t, s, plain)
		createKey(t, s, spaced)
		addStats(t, s, "app1", minute(0), map[string]int64{"messages": 1, "bytes": 30})
		addStats(t, s, "app1", minute(0), map[string]int64{"messages": 2})
		check(t, "SetMeta", s.SetMeta(ctx, "account", "acct-1"))
		appendMessages(t, s, "app1", "persisted:room", msgs...)
		appendPresence(t, s, "app1", "persisted:room", 2, events...)
		want = snapshot{
			Apps:       []*herald.App{p.App, plain},
			Keys:       append(append([]*herald.Key{}, p.Keys...), spaced),
			Namespaces: p.Namespaces,
			Channels:   p.Channels,
			Stats:      wantStats,
			Messages:   msgs,
			Presence:   events,
			Account:    "acct-1",
			Generation: generation(t, s),
		}
		diff(t, "before Close", want, take(t, s))
		closeStore(t, s)
	})
	if t.Failed() {
		return
	}

	t.Run("Reopen", func(t *testing.T) {
		s := reopen(t)
		// Generation too: processes sharing the store compare it.
		diff(t, "after reopen", want, take(t, s))
		check(t, "SetMeta", s.SetMeta(t.Context(), "account", "acct-2"))
		createKey(t, s, added)
		want.Keys = append(want.Keys, added)
		want.Account = "acct-2"
		g := generation(t, s)
		if g == want.Generation {
			t.Errorf("Generation %d unchanged by CreateKey after reopen", g)
		}
		want.Generation = g
		closeStore(t, s)
	})

	t.Run("ReopenAgain", func(t *testing.T) {
		s := reopen(t)
		diff(t, "after second reopen", want, take(t, s))
		if got := getKey(t, s, spaced.KeyName()).Capability; got != spaced.Capability {
			t.Errorf("Capability = %q, want %q", got, spaced.Capability)
		}
		closeStore(t, s)
	})
}
