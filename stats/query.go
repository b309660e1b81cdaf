package stats

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/heraldrt/herald"
)

// Units of aggregation (RSC6b4).
const (
	UnitMinute = "minute"
	UnitHour   = "hour"
	UnitDay    = "day"
	UnitMonth  = "month"
)

// Schema is the JSON schema URI put on every flattened Stats object.
const Schema = "https://schemas.ably.com/json/app-stats-0.0.5.json"

// Query selects stats intervals.
type Query struct {
	AppID    string
	Start    time.Time // inclusive; zero = epoch
	End      time.Time // inclusive; zero = now
	Forwards bool
	Limit    int
	Unit     string
}

// Interval is the counters of one app over one unit of time.
type Interval struct {
	AppID   string
	Unit    string
	Start   time.Time
	Entries map[string]int64
}

// IntervalID formats an interval start the way Ably names intervals:
// "2006-01-02:15:04" per minute, "2006-01-02:15" per hour, "2006-01-02" per
// day, "2006-01" per month (TS12a).
func IntervalID(t time.Time, unit string) string {
	t = t.UTC()
	switch unit {
	case UnitHour:
		return t.Format("2006-01-02:15")
	case UnitDay:
		return t.Format("2006-01-02")
	case UnitMonth:
		return t.Format("2006-01")
	}
	return t.Format("2006-01-02:15:04")
}

// ValidUnit reports whether unit is one of the four units.
func ValidUnit(unit string) bool {
	switch unit {
	case UnitMinute, UnitHour, UnitDay, UnitMonth:
		return true
	}
	return false
}

// Truncate returns the start of the interval of unit that contains t.
func Truncate(t time.Time, unit string) time.Time {
	t = t.UTC()
	switch unit {
	case UnitHour:
		return t.Truncate(time.Hour)
	case UnitDay:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	case UnitMonth:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return t.Truncate(time.Minute)
}

// Load reads at most q.Limit intervals (q.Limit <= 0: all) in q's order.
func Load(ctx context.Context, store herald.StatsStore, q Query) ([]Interval, error) {
	if q.Unit == "" {
		q.Unit = UnitMinute
	}
	if !ValidUnit(q.Unit) {
		return nil, fmt.Errorf("stats: unknown unit %q", q.Unit)
	}
	sq := herald.StatsQuery{AppID: q.AppID, Start: q.Start, End: q.End, Forwards: q.Forwards}
	if q.Unit == UnitMinute {
		sq.Limit = q.Limit
	}
	recs, err := store.Stats(ctx, sq)
	if err != nil {
		return nil, err
	}
	byStart := map[int64]*Interval{}
	var order []int64
	for _, rec := range recs {
		start := Truncate(rec.Minute, q.Unit)
		iv := byStart[start.UnixMilli()]
		if iv == nil {
			iv = &Interval{AppID: q.AppID, Unit: q.Unit, Start: start, Entries: map[string]int64{}}
			byStart[start.UnixMilli()] = iv
			order = append(order, start.UnixMilli())
		}
		for k, v := range rec.Entries {
			iv.Entries[k] += v
		}
	}
	sort.Slice(order, func(i, j int) bool {
		if q.Forwards {
			return order[i] < order[j]
		}
		return order[i] > order[j]
	})
	if q.Limit > 0 && len(order) > q.Limit {
		order = order[:q.Limit]
	}
	out := make([]Interval, len(order))
	for i, s := range order {
		out[i] = *byStart[s]
	}
	return out, nil
}

// Flattened returns the Stats object ably-js v2 (protocol v3+) parses:
// intervalId, unit, schema, appId and the dotted entries map.
func (iv Interval) Flattened() map[string]any {
	entries := make(map[string]any, len(iv.Entries))
	for k, v := range iv.Entries {
		entries[k] = v
	}
	return map[string]any{
		"intervalId": IntervalID(iv.Start, iv.Unit),
		"unit":       iv.Unit,
		"schema":     Schema,
		"appId":      iv.AppID,
		"entries":    entries,
	}
}

// Nested returns the pre-v3 Stats object (ably-go sends X-Ably-Version 2 on
// GET /stats): request counters as apiRequests/tokenRequests objects and
// every other dotted name nested by its segments.
func (iv Interval) Nested() map[string]any {
	out := map[string]any{
		"intervalId": IntervalID(iv.Start, iv.Unit),
		"unit":       iv.Unit,
	}
	for name, v := range iv.Entries {
		path := strings.Split(name, ".")
		switch {
		case len(path) == 3 && path[0] == "apiRequests" && path[1] == "all":
			path = []string{"apiRequests", path[2]}
		case len(path) == 3 && path[0] == "apiRequests" && path[1] == "tokenRequests":
			path = []string{"tokenRequests", path[2]}
		}
		m := out
		for _, seg := range path[:len(path)-1] {
			next, ok := m[seg].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[seg] = next
			}
			m = next
		}
		m[path[len(path)-1]] = v
	}
	return out
}
