package sqlitestore_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/heraldrt/herald"
)

// BenchmarkKeyLookup measures Key by key name, the read behind every
// authenticated request, against a store holding 1,000 keys.
func BenchmarkKeyLookup(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "herald.db"))
	ctx := b.Context()
	const apps, keysPerApp = 10, 100
	for a := range apps {
		appID := fmt.Sprintf("app%d", a)
		if err := s.CreateApp(ctx, &herald.App{ID: appID, Status: herald.AppEnabled}); err != nil {
			b.Fatal(err)
		}
		for k := range keysPerApp {
			key := &herald.Key{AppID: appID, ID: fmt.Sprintf("key%d", k), Secret: "secret", Capability: herald.DefaultCapability}
			if err := s.CreateKey(ctx, key); err != nil {
				b.Fatal(err)
			}
		}
	}
	names := make([]string, 0, apps*keysPerApp)
	for a := range apps {
		for k := range keysPerApp {
			names = append(names, fmt.Sprintf("app%d.key%d", a, k))
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := s.Key(ctx, names[i%len(names)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkAddStats measures a per-minute counter flush: one entry (the
// single-statement path) and four entries (one transaction).
func BenchmarkAddStats(b *testing.B) {
	tests := []struct {
		name    string
		entries map[string]int64
	}{
		{"1entry", map[string]int64{"messages": 1}},
		{"4entries", map[string]int64{"messages": 1, "bytes": 120, "connections": 1, "channels": 1}},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			s := open(b, filepath.Join(b.TempDir(), "herald.db"))
			ctx := b.Context()
			if err := s.CreateApp(ctx, &herald.App{ID: "app1", Status: herald.AppEnabled}); err != nil {
				b.Fatal(err)
			}
			minute := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				// A new minute every 60 adds, so both the insert and the
				// update side of the upsert are exercised.
				m := minute.Add(time.Duration(i/60) * time.Minute)
				if err := s.AddStats(ctx, "app1", m, tt.entries); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkGeneration measures the check a key cache makes before trusting
// itself: one single-row read.
func BenchmarkGeneration(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "herald.db"))
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Generation(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
