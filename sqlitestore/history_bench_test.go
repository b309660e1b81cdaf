package sqlitestore_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/sqlitestore"
)

// benchSerial returns the i-th serial: fixed width, so string order is
// publish order, as the hub's serials are.
func benchSerial(i int) string { return fmt.Sprintf("%014d-%03d", 1_741_964_966_000+i, 0) }

// benchMessage is a typical chat message: short text, a client id and a
// small extras object.
func benchMessage(i int, timestamp int64) *herald.Message {
	return &herald.Message{
		ID:           fmt.Sprintf("conn-1:%d:0", i),
		ClientID:     "alice",
		ConnectionID: "conn-1",
		Name:         "chat",
		Data:         herald.Data{Kind: herald.DataString, Bytes: []byte("hello, this is message number " + fmt.Sprint(i))},
		Extras:       map[string]any{"headers": map[string]any{"room": "lobby"}},
		Timestamp:    timestamp,
		Serial:       benchSerial(i),
		Size:         40,
	}
}

// BenchmarkAppendMessages measures a history write: one message (a single
// statement) and a batch of 100 (one transaction), the shapes the hub's
// history writer produces.
func BenchmarkAppendMessages(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := open(b, filepath.Join(b.TempDir(), "herald.db"))
			ctx := b.Context()
			if err := s.CreateApp(ctx, &herald.App{ID: "app1", Status: herald.AppEnabled}); err != nil {
				b.Fatal(err)
			}
			base := time.Now().UnixMilli()
			n := 0
			msgs := make([]*herald.Message, batch)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer() // building messages is the caller's cost
				for j := range msgs {
					msgs[j] = benchMessage(n, base+int64(n))
					n++
				}
				b.StartTimer()
				if err := s.AppendMessages(ctx, "app1", "chat:lobby", msgs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/msg")
		})
	}
}

// historyRows is the size of BenchmarkHistoryQuery's channel.
const historyRows = 100_000

// seedHistory writes historyRows messages, one per millisecond from base,
// to app1's "chat:lobby", plus 10,000 on another channel so that the
// channel is not alone in its app.
func seedHistory(b *testing.B, s *sqlitestore.DB, base int64) {
	b.Helper()
	ctx := b.Context()
	if err := s.CreateApp(ctx, &herald.App{ID: "app1", Status: herald.AppEnabled}); err != nil {
		b.Fatal(err)
	}
	const batch = 5_000
	for _, ch := range []struct {
		name string
		rows int
	}{{"chat:lobby", historyRows}, {"chat:other", historyRows / 10}} {
		msgs := make([]*herald.Message, 0, batch)
		for i := range ch.rows {
			msgs = append(msgs, benchMessage(i, base+int64(i)))
			if len(msgs) == batch || i == ch.rows-1 {
				if err := s.AppendMessages(ctx, "app1", ch.name, msgs); err != nil {
					b.Fatal(err)
				}
				msgs = msgs[:0]
			}
		}
	}
}

// BenchmarkHistoryQuery reads one page of 100 from a channel of 100,000
// messages, one per millisecond: the newest page, the oldest, a page deep in
// the channel by cursor or untilAttach, and time windows. A window of 1,000
// rows in the middle is sorted; one of 10,000 rows in the middle, the whole
// channel, or half of it walked from the far side are read by walking
// serials (history_query.go).
func BenchmarkHistoryQuery(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "herald.db"))
	base := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC).UnixMilli()
	seedHistory(b, s, base)
	ms := func(offset int64) time.Time { return time.UnixMilli(base + offset) }
	const mid = historyRows / 2
	tests := []struct {
		name string
		q    herald.HistoryQuery
	}{
		{"newest", herald.HistoryQuery{}},
		{"oldest", herald.HistoryQuery{Forwards: true}},
		{"beforeSerial_mid", herald.HistoryQuery{BeforeSerial: benchSerial(mid)}},
		{"untilSerial_mid", herald.HistoryQuery{UntilSerial: benchSerial(mid)}},
		{"window_mid_1k", herald.HistoryQuery{Start: ms(mid), End: ms(mid + 999)}},
		{"window_mid_1k_forwards", herald.HistoryQuery{Start: ms(mid), End: ms(mid + 999), Forwards: true}},
		{"window_mid_10k", herald.HistoryQuery{Start: ms(mid), End: ms(mid + 9_999)}},
		{"window_whole", herald.HistoryQuery{Start: ms(0), End: ms(historyRows)}},
		{"start_whole", herald.HistoryQuery{Start: ms(0)}},
		{"start_mid_forwards", herald.HistoryQuery{Start: ms(mid), Forwards: true}},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			q := tt.q
			q.AppID, q.Channel, q.Limit = "app1", "chat:lobby", 100
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				msgs, err := s.Messages(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				if len(msgs) != 100 {
					b.Fatalf("%d messages, want 100", len(msgs))
				}
			}
		})
	}
}
