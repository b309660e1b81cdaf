package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/heraldrt/herald"
)

// History conventions the suite pins down, beyond herald's history.go:
//   - Every Message field comes back as written, Size included; extras come
//     back as encoding/json decodes them (numbers float64, arrays []any), so
//     the suite writes extras in those types. Data.Bytes is nil for DataNone.
//   - Serials compare byte by byte (Go string order); cursors need not be
//     serials that exist.
//   - A batch (AppendMessages, AppendPresence) is stored whole or not at all;
//     a serial already stored is ErrConflict, an unknown app ErrNotFound.
//   - Presence events come back ordered by (serial, position in the batch),
//     both reversed when backwards; Limit counts events.
//   - DeleteHistory: a channel without ':' is in namespace "", the bound is
//     exclusive, a non-nil empty Namespaces selects nothing, and the count is
//     messages plus presence events removed.

// serial returns the i-th serial of the suite's channels: fixed width, so
// string order is numeric order.
func serial(i int) string { return fmt.Sprintf("%014d-%03d", 1_741_964_966_000+i, 0) }

// ts returns t0 plus s seconds in milliseconds, the unit of message times.
func ts(s int) int64 { return at(time.Duration(s) * time.Second).UnixMilli() }

// message returns message i of a channel, with every field set.
func message(i int, timestamp int64) *herald.Message {
	return &herald.Message{
		ID:           fmt.Sprintf("conn-1:%d:0", i),
		ClientID:     "alice",
		ConnectionID: "conn-1",
		Name:         fmt.Sprintf("event-%d", i),
		Data:         herald.Data{Kind: herald.DataString, Bytes: []byte(fmt.Sprintf("payload %d", i))},
		Timestamp:    timestamp,
		Serial:       serial(i),
		Size:         10 + i,
	}
}

// presenceEvent returns event idx of the batch at serial i; its ID says
// where it belongs, so orders can be compared by ID.
func presenceEvent(i, idx int, action herald.PresenceAction, timestamp int64) *herald.PresenceMessage {
	return &herald.PresenceMessage{
		ID:           fmt.Sprintf("p%d.%d", i, idx),
		Action:       action,
		ClientID:     fmt.Sprintf("client-%d", idx),
		ConnectionID: "conn-1",
		Data:         herald.Data{Kind: herald.DataJSON, Bytes: []byte(`{"i":` + fmt.Sprint(i) + `}`)},
		Timestamp:    timestamp,
	}
}

func appendMessages(t testing.TB, s herald.Store, app, channel string, msgs ...*herald.Message) {
	t.Helper()
	check(t, "AppendMessages "+channel, s.AppendMessages(t.Context(), app, channel, msgs))
}

func appendPresence(t testing.TB, s herald.Store, app, channel string, i int, events ...*herald.PresenceMessage) {
	t.Helper()
	check(t, "AppendPresence "+channel, s.AppendPresence(t.Context(), app, channel, serial(i), events))
}

func history(t testing.TB, s herald.Store, q herald.HistoryQuery) []*herald.Message {
	t.Helper()
	msgs, err := s.Messages(t.Context(), q)
	check(t, "Messages", err)
	return msgs
}

func presenceHistory(t testing.TB, s herald.Store, q herald.HistoryQuery) []*herald.PresenceMessage {
	t.Helper()
	events, err := s.PresenceHistory(t.Context(), q)
	check(t, "PresenceHistory", err)
	return events
}

// serials returns the serials of msgs, for compact order comparisons.
func serials(msgs []*herald.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Serial
	}
	return out
}

func serialsOf(is ...int) []string {
	out := make([]string, len(is))
	for j, i := range is {
		out[j] = serial(i)
	}
	return out
}

func eventIDs(events []*herald.PresenceMessage) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

func testHistory(t *testing.T, newStore func(t *testing.T) herald.Store) {
	t.Run("RoundTrip", func(t *testing.T) { testHistoryRoundTrip(t, newStore(t)) })
	t.Run("Query", func(t *testing.T) { testHistoryQuery(t, newStore(t)) })
	t.Run("Pagination", func(t *testing.T) { testHistoryPagination(t, newStore(t)) })
	t.Run("Isolation", func(t *testing.T) { testHistoryIsolation(t, newStore(t)) })
	t.Run("Conflicts", func(t *testing.T) { testHistoryConflicts(t, newStore(t)) })
	t.Run("Presence", func(t *testing.T) { testPresenceHistory(t, newStore(t)) })
	t.Run("Delete", func(t *testing.T) { testDeleteHistory(t, newStore) })
	t.Run("CascadeOnAppDelete", func(t *testing.T) {
		s := newStore(t)
		createApp(t, s, newApp("app1", t0))
		appendMessages(t, s, "app1", "ch", message(0, ts(0)))
		appendPresence(t, s, "app1", "ch", 0, presenceEvent(0, 0, herald.PresenceEnter, ts(0)))
		check(t, "DeleteApp", s.DeleteApp(t.Context(), "app1"))
		createApp(t, s, newApp("app1", t0))
		q := herald.HistoryQuery{AppID: "app1", Channel: "ch"}
		diff(t, "messages after DeleteApp", []*herald.Message(nil), history(t, s, q))
		diff(t, "presence after DeleteApp", []*herald.PresenceMessage(nil), presenceHistory(t, s, q))
	})
}

// testHistoryRoundTrip writes one message of each data kind, with every
// field set, and reads them back.
func testHistoryRoundTrip(t *testing.T, s herald.Store) {
	createApp(t, s, newApp("app1", t0))
	extras := map[string]any{
		"headers":    map[string]any{"x-n": float64(42), "x-s": "v", "x-b": true, "x-null": nil},
		"push":       map[string]any{"notification": map[string]any{"title": "é ✓", "tags": []any{"a", float64(1.5), []any{}}}},
		"privileged": map[string]any{},
	}
	msgs := []*herald.Message{
		{ID: "id0", ClientID: "alice", ConnectionID: "c1", Name: "string", Encoding: "utf-8/cipher+aes-128-cbc",
			Data: herald.Data{Kind: herald.DataString, Bytes: []byte("héllo\n\"world\"")}, Extras: extras,
			Timestamp: ts(0), Serial: serial(0), Action: 0, Size: 17},
		{ID: "id1", Name: "binary", Data: herald.Data{Kind: herald.DataBinary, Bytes: []byte{0x00, 0xff, 0x80, 0x00, 'a', 0xfe}},
			Timestamp: ts(1), Serial: serial(1), Action: 1, Size: 6},
		{ID: "id2", ClientID: "bob", Name: "json", Encoding: "json",
			Data:      herald.Data{Kind: herald.DataJSON, Bytes: []byte(`{"a": [1, 2.50, "x"], "b":{"c":null}}`)},
			Extras:    map[string]any{"ref": map[string]any{"type": "com.ably.reply", "timeserial": serial(0)}},
			Timestamp: ts(2), Serial: serial(2), Action: 2, Size: 40},
		{ID: "id3", ConnectionID: "c2", Name: "", Data: herald.Data{Kind: herald.DataNone},
			Timestamp: ts(3), Serial: serial(3), Action: 3},
		{ID: "id4", Name: "empty string", Data: herald.Data{Kind: herald.DataString, Bytes: []byte{}},
			Timestamp: ts(4), Serial: serial(4), Extras: map[string]any{}},
	}
	appendMessages(t, s, "app1", "chat:room", msgs[:2]...)
	appendMessages(t, s, "app1", "chat:room", msgs[2:]...)
	got := history(t, s, herald.HistoryQuery{AppID: "app1", Channel: "chat:room", Forwards: true})
	diff(t, "Messages", msgs, got)
	for _, m := range got {
		if m.Data.Kind == herald.DataNone && m.Data.Bytes != nil {
			t.Errorf("message %s: DataNone with bytes %q, want nil", m.ID, m.Data.Bytes)
		}
	}

	events := []*herald.PresenceMessage{
		{ID: "conn:1:0", Action: herald.PresenceEnter, ClientID: "alice", ConnectionID: "conn",
			Data: herald.Data{Kind: herald.DataBinary, Bytes: []byte{0x00, 0xff}}, Encoding: "cipher", Extras: extras, Timestamp: ts(5)},
		{ID: "conn:1:1", Action: herald.PresenceUpdate, ClientID: "bob", ConnectionID: "conn",
			Data: herald.Data{Kind: herald.DataString, Bytes: []byte("here")}, Timestamp: ts(5)},
		{ID: "conn:1:2", Action: herald.PresenceLeave, ClientID: "carol",
			Data: herald.Data{Kind: herald.DataJSON, Bytes: []byte(`[true]`)}, Timestamp: ts(6)},
		{ID: "conn:1:3", Action: herald.PresencePresent, Data: herald.Data{Kind: herald.DataNone}, Timestamp: ts(6)},
	}
	appendPresence(t, s, "app1", "chat:room", 5, events...)
	gotEvents := presenceHistory(t, s, herald.HistoryQuery{AppID: "app1", Channel: "chat:room", Forwards: true})
	diff(t, "PresenceHistory", events, gotEvents)
	for _, e := range gotEvents {
		if e.Data.Kind == herald.DataNone && e.Data.Bytes != nil {
			t.Errorf("event %s: DataNone with bytes %q, want nil", e.ID, e.Data.Bytes)
		}
	}
}

// testHistoryQuery seeds ten messages, stored out of serial order and with
// two sharing a timestamp, and checks every filter, both directions and
// Limit against them.
func testHistoryQuery(t *testing.T, s herald.Store) {
	createApp(t, s, newApp("app1", t0))
	// Message i has timestamp ts(i), except that 2 shares 1's: order is by
	// serial, and timestamp bounds are inclusive on every equal message.
	stamp := func(i int) int64 {
		if i == 2 {
			return ts(1)
		}
		return ts(i)
	}
	var later, earlier []*herald.Message
	bySerial := map[string]*herald.Message{}
	for i := range 10 {
		m := message(i, stamp(i))
		bySerial[m.Serial] = message(i, stamp(i))
		if i >= 5 {
			later = append(later, m)
		} else {
			earlier = append(earlier, m)
		}
	}
	appendMessages(t, s, "app1", "ch", later...)
	appendMessages(t, s, "app1", "ch", earlier...)

	mid := serial(3) + "~" // between serial(3) and serial(4); not stored
	tests := []struct {
		name string
		q    herald.HistoryQuery
		want []int
	}{
		{"backwards by default", herald.HistoryQuery{}, []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{"forwards", herald.HistoryQuery{Forwards: true}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"limit backwards", herald.HistoryQuery{Limit: 3}, []int{9, 8, 7}},
		{"limit forwards", herald.HistoryQuery{Limit: 3, Forwards: true}, []int{0, 1, 2}},
		{"limit above count", herald.HistoryQuery{Limit: 100, Forwards: true}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"start and end inclusive", herald.HistoryQuery{Start: at(time.Second), End: at(3 * time.Second), Forwards: true}, []int{1, 2, 3}},
		{"start and end backwards with limit", herald.HistoryQuery{Start: at(time.Second), End: at(6 * time.Second), Limit: 2}, []int{6, 5}},
		{"start only", herald.HistoryQuery{Start: at(8 * time.Second)}, []int{9, 8}},
		{"end only", herald.HistoryQuery{End: at(time.Second), Forwards: true}, []int{0, 1, 2}},
		{"start equals end", herald.HistoryQuery{Start: at(4 * time.Second), End: at(4 * time.Second)}, []int{4}},
		{"start after every message", herald.HistoryQuery{Start: at(time.Hour)}, nil},
		{"end before every message", herald.HistoryQuery{End: at(-time.Millisecond)}, nil},
		{"start after end", herald.HistoryQuery{Start: at(5 * time.Second), End: at(4 * time.Second)}, nil},
		{"until serial inclusive", herald.HistoryQuery{UntilSerial: serial(4)}, []int{4, 3, 2, 1, 0}},
		{"until serial with limit", herald.HistoryQuery{UntilSerial: serial(4), Limit: 2}, []int{4, 3}},
		{"until serial forwards", herald.HistoryQuery{UntilSerial: serial(1), Forwards: true}, []int{0, 1}},
		{"after serial exclusive", herald.HistoryQuery{AfterSerial: serial(6), Forwards: true}, []int{7, 8, 9}},
		{"before serial exclusive", herald.HistoryQuery{BeforeSerial: serial(3)}, []int{2, 1, 0}},
		{"cursors between stored serials", herald.HistoryQuery{AfterSerial: mid, Forwards: true, Limit: 2}, []int{4, 5}},
		{"before unstored serial", herald.HistoryQuery{BeforeSerial: mid, Limit: 2}, []int{3, 2}},
		{"after and before", herald.HistoryQuery{AfterSerial: serial(2), BeforeSerial: serial(6), Forwards: true}, []int{3, 4, 5}},
		{"until and before", herald.HistoryQuery{UntilSerial: serial(4), BeforeSerial: serial(7)}, []int{4, 3, 2, 1, 0}},
		{"until and after", herald.HistoryQuery{UntilSerial: serial(7), AfterSerial: serial(7)}, nil},
		{"serials and times", herald.HistoryQuery{UntilSerial: serial(8), AfterSerial: serial(1), Start: at(time.Second), End: at(7 * time.Second)}, []int{7, 6, 5, 4, 3, 2}},
		{"before every serial", herald.HistoryQuery{BeforeSerial: serial(0)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.AppID, q.Channel = "app1", "ch"
			got := history(t, s, q)
			diff(t, "serials", serialsOf(tt.want...), serials(got))
			// The whole message comes back whatever the filter.
			for _, m := range got {
				diff(t, "message "+m.Serial, bySerial[m.Serial], m)
			}
		})
	}
}

// testHistoryPagination walks a channel page by page with the cursors the
// REST layer uses, in both directions and under an untilAttach bound.
func testHistoryPagination(t *testing.T, s herald.Store) {
	createApp(t, s, newApp("app1", t0))
	var msgs []*herald.Message
	for i := range 11 {
		msgs = append(msgs, message(i, ts(i)))
	}
	appendMessages(t, s, "app1", "ch", msgs...)
	walk := func(q herald.HistoryQuery) []string {
		t.Helper()
		q.AppID, q.Channel, q.Limit = "app1", "ch", 3
		var all []string
		for page := 0; ; page++ {
			got := history(t, s, q)
			if len(got) > q.Limit || page > 10 {
				t.Fatalf("page %d: %d messages with limit %d", page, len(got), q.Limit)
			}
			all = append(all, serials(got)...)
			if len(got) < q.Limit {
				return all
			}
			if q.Forwards {
				q.AfterSerial = got[len(got)-1].Serial
			} else {
				q.BeforeSerial = got[len(got)-1].Serial
			}
		}
	}
	diff(t, "backwards", serialsOf(10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), walk(herald.HistoryQuery{}))
	diff(t, "forwards", serialsOf(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10), walk(herald.HistoryQuery{Forwards: true}))
	diff(t, "until attach", serialsOf(7, 6, 5, 4, 3, 2, 1, 0), walk(herald.HistoryQuery{UntilSerial: serial(7)}))
}

// testHistoryIsolation checks that channels and apps do not see each
// other's history, even with equal serials.
func testHistoryIsolation(t *testing.T, s herald.Store) {
	for _, id := range []string{"app1", "app2"} {
		createApp(t, s, newApp(id, t0))
	}
	type place struct{ app, channel string }
	places := []place{{"app1", "ch"}, {"app1", "ch:2"}, {"app1", "CH"}, {"app2", "ch"}}
	want := map[place][]*herald.Message{}
	for n, p := range places {
		for i := range n + 1 {
			m := message(i, ts(i))
			m.Name = fmt.Sprintf("%s/%s/%d", p.app, p.channel, i)
			want[p] = append(want[p], m)
		}
		appendMessages(t, s, p.app, p.channel, want[p]...)
		appendPresence(t, s, p.app, p.channel, 0, presenceEvent(0, n, herald.PresenceEnter, ts(0)))
	}
	for n, p := range places {
		q := herald.HistoryQuery{AppID: p.app, Channel: p.channel, Forwards: true}
		diff(t, "messages of "+p.app+"/"+p.channel, want[p], history(t, s, q))
		diff(t, "presence of "+p.app+"/"+p.channel, []string{fmt.Sprintf("p0.%d", n)}, eventIDs(presenceHistory(t, s, q)))
	}
	for _, q := range []herald.HistoryQuery{
		{AppID: "app1", Channel: "nope"},
		{AppID: "app3", Channel: "ch"},
		{AppID: "", Channel: "ch"},
	} {
		diff(t, "messages of "+q.AppID+"/"+q.Channel, []*herald.Message(nil), history(t, s, q))
		diff(t, "presence of "+q.AppID+"/"+q.Channel, []*herald.PresenceMessage(nil), presenceHistory(t, s, q))
	}
}

// testHistoryConflicts checks duplicate serials, unknown apps and that a
// failing batch stores nothing.
func testHistoryConflicts(t *testing.T, s herald.Store) {
	ctx := t.Context()
	createApp(t, s, newApp("app1", t0))
	appendMessages(t, s, "app1", "ch", message(0, ts(0)), message(1, ts(1)))
	q := herald.HistoryQuery{AppID: "app1", Channel: "ch", Forwards: true}

	tests := []struct {
		name   string
		app    string
		batch  []*herald.Message
		target error
	}{
		{"stored serial", "app1", []*herald.Message{message(1, ts(5))}, herald.ErrConflict},
		{"stored serial at the end of a batch", "app1", []*herald.Message{message(2, ts(2)), message(3, ts(3)), message(0, ts(9))}, herald.ErrConflict},
		{"serial repeated in the batch", "app1", []*herald.Message{message(4, ts(4)), message(5, ts(5)), message(4, ts(6))}, herald.ErrConflict},
		{"unknown app", "ghost", []*herald.Message{message(0, ts(0))}, herald.ErrNotFound},
		{"unknown app, batch", "ghost", []*herald.Message{message(0, ts(0)), message(1, ts(1))}, herald.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, "AppendMessages", s.AppendMessages(ctx, tt.app, "ch", tt.batch), tt.target)
			diff(t, "stored after the failed batch", serialsOf(0, 1), serials(history(t, s, q)))
		})
	}
	check(t, "empty batch", s.AppendMessages(ctx, "app1", "ch", nil))

	appendPresence(t, s, "app1", "ch", 0, presenceEvent(0, 0, herald.PresenceEnter, ts(0)))
	err := s.AppendPresence(ctx, "app1", "ch", serial(0), []*herald.PresenceMessage{
		presenceEvent(0, 0, herald.PresenceLeave, ts(1)), presenceEvent(0, 1, herald.PresenceLeave, ts(1))})
	wantErr(t, "AppendPresence at a stored serial", err, herald.ErrConflict)
	err = s.AppendPresence(ctx, "ghost", "ch", serial(1), []*herald.PresenceMessage{presenceEvent(1, 0, herald.PresenceEnter, ts(1))})
	wantErr(t, "AppendPresence unknown app", err, herald.ErrNotFound)
	check(t, "empty presence batch", s.AppendPresence(ctx, "app1", "ch", serial(2), nil))
	diff(t, "presence after the failed batches", []string{"p0.0"}, eventIDs(presenceHistory(t, s, q)))
}

// testPresenceHistory checks presence ordering by (serial, idx) and the
// filters on presence events.
func testPresenceHistory(t *testing.T, s herald.Store) {
	createApp(t, s, newApp("app1", t0))
	// Batches stored out of serial order; within a batch, clients are not
	// in ID or client order, so only idx can explain the result.
	appendPresence(t, s, "app1", "ch", 1,
		presenceEvent(1, 0, herald.PresenceEnter, ts(1)),
		presenceEvent(1, 1, herald.PresenceEnter, ts(1)),
		presenceEvent(1, 2, herald.PresenceUpdate, ts(1)))
	appendPresence(t, s, "app1", "ch", 0, presenceEvent(0, 0, herald.PresenceEnter, ts(0)))
	appendPresence(t, s, "app1", "ch", 2,
		presenceEvent(2, 0, herald.PresenceLeave, ts(2)),
		presenceEvent(2, 1, herald.PresenceLeave, ts(2)))
	// Enough events in one batch that idx 10 must sort after 9 (and not
	// after 1, as it would as text).
	var big []*herald.PresenceMessage
	for idx := range 11 {
		big = append(big, presenceEvent(10, idx, herald.PresenceUpdate, ts(10)))
	}
	appendPresence(t, s, "app1", "big", 10, big...)

	all := []string{"p0.0", "p1.0", "p1.1", "p1.2", "p2.0", "p2.1"}
	reversed := slices.Clone(all)
	slices.Reverse(reversed)
	tests := []struct {
		name string
		q    herald.HistoryQuery
		want []string
	}{
		{"forwards", herald.HistoryQuery{Forwards: true}, all},
		{"backwards", herald.HistoryQuery{}, reversed},
		{"limit ends inside a batch", herald.HistoryQuery{Limit: 3}, []string{"p2.1", "p2.0", "p1.2"}},
		{"limit forwards", herald.HistoryQuery{Limit: 2, Forwards: true}, []string{"p0.0", "p1.0"}},
		{"after serial", herald.HistoryQuery{AfterSerial: serial(0), Forwards: true}, []string{"p1.0", "p1.1", "p1.2", "p2.0", "p2.1"}},
		{"before serial", herald.HistoryQuery{BeforeSerial: serial(2)}, []string{"p1.2", "p1.1", "p1.0", "p0.0"}},
		{"until serial", herald.HistoryQuery{UntilSerial: serial(1), Forwards: true}, []string{"p0.0", "p1.0", "p1.1", "p1.2"}},
		{"start and end", herald.HistoryQuery{Start: at(time.Second), End: at(time.Second), Forwards: true}, []string{"p1.0", "p1.1", "p1.2"}},
		{"start only", herald.HistoryQuery{Start: at(2 * time.Second)}, []string{"p2.1", "p2.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.AppID, q.Channel = "app1", "ch"
			diff(t, "events", tt.want, eventIDs(presenceHistory(t, s, q)))
		})
	}
	t.Run("idx orders numerically", func(t *testing.T) {
		var want []string
		for idx := range 11 {
			want = append(want, fmt.Sprintf("p10.%d", idx))
		}
		diff(t, "events", want, eventIDs(presenceHistory(t, s, herald.HistoryQuery{AppID: "app1", Channel: "big", Forwards: true})))
	})
}

// testDeleteHistory seeds, on each of several channels, one message and one
// presence event at ts(0) and one of each at ts(10), and deletes with
// before = ts(10) under different scopes.
func testDeleteHistory(t *testing.T, newStore func(t *testing.T) herald.Store) {
	channels := []string{"chat:a", "chat:b", "news:x", "plain", "persist:y:z", "chatter"}
	seed := func(t *testing.T) herald.Store {
		s := newStore(t)
		for _, id := range []string{"app1", "app2"} {
			createApp(t, s, newApp(id, t0))
			for _, ch := range channels {
				appendMessages(t, s, id, ch, message(0, ts(0)), message(1, ts(10)))
				appendPresence(t, s, id, ch, 0, presenceEvent(0, 0, herald.PresenceEnter, ts(0)))
				appendPresence(t, s, id, ch, 1, presenceEvent(1, 0, herald.PresenceLeave, ts(10)))
			}
		}
		return s
	}
	everything := channels
	tests := []struct {
		name   string
		before time.Time
		scope  herald.HistoryScope
		pruned []string // app1 channels that lose their ts(0) entries
	}{
		{"nil scope", at(10 * time.Second), herald.HistoryScope{}, everything},
		{"bound is exclusive", at(0), herald.HistoryScope{}, nil},
		{"one millisecond after", at(time.Millisecond), herald.HistoryScope{}, everything},
		{"namespace", at(10 * time.Second), herald.HistoryScope{Namespaces: []string{"chat"}}, []string{"chat:a", "chat:b"}},
		{"namespace of a nested name", at(10 * time.Second), herald.HistoryScope{Namespaces: []string{"persist"}}, []string{"persist:y:z"}},
		{"no namespace is \"\"", at(10 * time.Second), herald.HistoryScope{Namespaces: []string{""}}, []string{"plain", "chatter"}},
		{"empty namespace list", at(10 * time.Second), herald.HistoryScope{Namespaces: []string{}}, nil},
		{"unknown namespace", at(10 * time.Second), herald.HistoryScope{Namespaces: []string{"cha"}}, nil},
		{"except", at(10 * time.Second), herald.HistoryScope{Except: []string{"chat", "persist"}}, []string{"news:x", "plain", "chatter"}},
		{"except no namespace", at(10 * time.Second), herald.HistoryScope{Except: []string{""}}, []string{"chat:a", "chat:b", "news:x", "persist:y:z"}},
		{"namespaces minus except", at(10 * time.Second), herald.HistoryScope{Namespaces: []string{"chat", "news"}, Except: []string{"chat"}}, []string{"news:x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := seed(t)
			n, err := s.DeleteHistory(t.Context(), "app1", tt.before, tt.scope)
			check(t, "DeleteHistory", err)
			if want := 2 * len(tt.pruned); n != want {
				t.Errorf("DeleteHistory removed %d, want %d (a message and a presence event per channel)", n, want)
			}
			for _, app := range []string{"app1", "app2"} {
				for _, ch := range channels {
					want := []int{0, 1}
					if app == "app1" && slices.Contains(tt.pruned, ch) {
						want = []int{1}
					}
					q := herald.HistoryQuery{AppID: app, Channel: ch, Forwards: true}
					diff(t, "messages of "+app+"/"+ch, serialsOf(want...), serials(history(t, s, q)))
					var wantIDs []string
					for _, i := range want {
						wantIDs = append(wantIDs, fmt.Sprintf("p%d.0", i))
					}
					diff(t, "presence of "+app+"/"+ch, wantIDs, eventIDs(presenceHistory(t, s, q)))
				}
			}
		})
	}
	t.Run("unknown app", func(t *testing.T) {
		s := newStore(t)
		n, err := s.DeleteHistory(t.Context(), "ghost", at(time.Hour), herald.HistoryScope{})
		if err != nil || n != 0 {
			t.Errorf("DeleteHistory of an unknown app = %d, %v; want 0, nil", n, err)
		}
	})
}
