package storetest

import (
	"testing"
	"time"

	"github.com/heraldrt/herald"
)

// m0 is a minute boundary; the stats tests count minutes from it.
var m0 = t0.Truncate(time.Minute)

func minute(i int) time.Time { return m0.Add(time.Duration(i) * time.Minute) }

func testStats(t *testing.T, newStore func(t *testing.T) herald.Store) {
	t.Run("Accumulate", func(t *testing.T) {
		s := newStore(t)
		createApp(t, s, newApp("app1", t0))
		// Three adds at different instants of the same minute, one in
		// another time zone, land in one record truncated to the minute.
		addStats(t, s, "app1", m0.Add(1500*time.Millisecond), map[string]int64{"messages": 1, "bytes": 100})
		addStats(t, s, "app1", m0.Add(59*time.Second+999*time.Millisecond), map[string]int64{"messages": 2})
		addStats(t, s, "app1", m0.Add(30*time.Second).In(time.FixedZone("x", 5*3600+30*60)),
			map[string]int64{"bytes": 50, "connections": 1})
		addStats(t, s, "app1", minute(1), map[string]int64{"messages": 7})
		addStats(t, s, "app1", minute(1), map[string]int64{"messages": -2}) // deltas may be negative
		addStats(t, s, "app1", minute(2), nil)                              // nothing to add
		want := []herald.StatsRecord{
			{AppID: "app1", Minute: minute(0), Entries: map[string]int64{"messages": 3, "bytes": 150, "connections": 1}},
			{AppID: "app1", Minute: minute(1), Entries: map[string]int64{"messages": 5}},
		}
		diff(t, "Stats", want, stats(t, s, herald.StatsQuery{AppID: "app1", Forwards: true}))
	})

	t.Run("Query", testStatsQuery(newStore))

	t.Run("AppsIsolated", func(t *testing.T) {
		s := newStore(t)
		for _, id := range []string{"app1", "app2"} {
			createApp(t, s, newApp(id, t0))
		}
		addStats(t, s, "app1", minute(0), map[string]int64{"messages": 1})
		addStats(t, s, "app2", minute(0), map[string]int64{"messages": 10})
		addStats(t, s, "app2", minute(1), map[string]int64{"messages": 20})
		diff(t, "app1", []herald.StatsRecord{
			{AppID: "app1", Minute: minute(0), Entries: map[string]int64{"messages": 1}},
		}, stats(t, s, herald.StatsQuery{AppID: "app1", Forwards: true}))
		diff(t, "app2", []herald.StatsRecord{
			{AppID: "app2", Minute: minute(1), Entries: map[string]int64{"messages": 20}},
			{AppID: "app2", Minute: minute(0), Entries: map[string]int64{"messages": 10}},
		}, stats(t, s, herald.StatsQuery{AppID: "app2"}))
		diff(t, "app3", []herald.StatsRecord(nil), stats(t, s, herald.StatsQuery{AppID: "app3"}))
	})
}

// testStatsQuery seeds five minutes (0, 1, 2, 4, 5: minute 3 is empty) of
// unequal width and checks bounds, direction and limit against them.
func testStatsQuery(newStore func(t *testing.T) herald.Store) func(t *testing.T) {
	return func(t *testing.T) {
		s := newStore(t)
		createApp(t, s, newApp("app1", t0))
		seed := map[int]map[string]int64{
			0: {"messages": 1},
			1: {"messages": 2, "bytes": 20, "connections": 1},
			2: {"messages": 3},
			4: {"messages": 4, "bytes": 40},
			5: {"messages": 5},
		}
		for i, e := range seed {
			addStats(t, s, "app1", minute(i), e)
		}
		recs := func(minutes ...int) []herald.StatsRecord {
			var out []herald.StatsRecord
			for _, i := range minutes {
				out = append(out, herald.StatsRecord{AppID: "app1", Minute: minute(i), Entries: seed[i]})
			}
			return out
		}
		tests := []struct {
			name string
			q    herald.StatsQuery
			want []herald.StatsRecord
		}{
			{"all forwards", herald.StatsQuery{Forwards: true}, recs(0, 1, 2, 4, 5)},
			{"all backwards", herald.StatsQuery{}, recs(5, 4, 2, 1, 0)},
			{"start inclusive", herald.StatsQuery{Start: minute(1), Forwards: true}, recs(1, 2, 4, 5)},
			{"end inclusive", herald.StatsQuery{End: minute(2), Forwards: true}, recs(0, 1, 2)},
			{"both bounds inclusive", herald.StatsQuery{Start: minute(1), End: minute(4), Forwards: true}, recs(1, 2, 4)},
			{"both bounds backwards", herald.StatsQuery{Start: minute(1), End: minute(4)}, recs(4, 2, 1)},
			{"start inside a minute excludes it", herald.StatsQuery{Start: minute(1).Add(time.Second), Forwards: true}, recs(2, 4, 5)},
			{"end inside a minute includes it", herald.StatsQuery{End: minute(2).Add(30 * time.Second), Forwards: true}, recs(0, 1, 2)},
			{"single minute", herald.StatsQuery{Start: minute(4), End: minute(4)}, recs(4)},
			{"empty minute", herald.StatsQuery{Start: minute(3), End: minute(3)}, nil},
			{"start after end", herald.StatsQuery{Start: minute(4), End: minute(1)}, nil},
			{"after the last", herald.StatsQuery{Start: minute(6)}, nil},
			{"limit forwards counts minutes", herald.StatsQuery{Limit: 2, Forwards: true}, recs(0, 1)},
			{"limit backwards", herald.StatsQuery{Limit: 2}, recs(5, 4)},
			{"limit with bounds", herald.StatsQuery{Start: minute(1), End: minute(4), Limit: 2}, recs(4, 2)},
			{"limit above count", herald.StatsQuery{Limit: 100, Forwards: true}, recs(0, 1, 2, 4, 5)},
			{"negative limit is none", herald.StatsQuery{Limit: -1, Forwards: true}, recs(0, 1, 2, 4, 5)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tt.q.AppID = "app1"
				diff(t, "Stats", tt.want, stats(t, s, tt.q))
			})
		}
	}
}
