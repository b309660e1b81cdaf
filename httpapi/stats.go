package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/stats"
)

// Pagination limits shared by history-like endpoints (RSC6b3, RSL2b3).
const (
	defaultLimit = 100
	maxLimit     = 1000
)

// getStats answers GET /stats (RSC6): per-minute app counters aggregated by
// unit, newest first by default, paginated with Link headers. It needs the
// stats operation on "*" or "[*]*" because stats are app-wide.
func (h *Handler) getStats(w http.ResponseWriter, r *http.Request) error {
	p, err := h.authenticate(r)
	if err != nil {
		return err
	}
	if err := requireAppWide(p, auth.OpStats); err != nil {
		return err
	}
	q := r.URL.Query()
	sq := stats.Query{AppID: p.AppID, Unit: q.Get("unit")}
	if sq.Unit == "" {
		sq.Unit = stats.UnitMinute
	}
	if !stats.ValidUnit(sq.Unit) {
		return herald.Errorf(herald.CodeInvalidParamValue, "Invalid unit %q: use minute, hour, day or month", sq.Unit)
	}
	if sq.Start, err = msParam(q, "start"); err != nil {
		return err
	}
	if sq.End, err = msParam(q, "end"); err != nil {
		return err
	}
	if !sq.Start.IsZero() && !sq.End.IsZero() && sq.End.Before(sq.Start) {
		return herald.NewError(herald.CodeInvalidParamValue, "Invalid time range: end is before start")
	}
	if sq.Forwards, err = directionParam(q); err != nil {
		return err
	}
	limit, err := limitParam(q)
	if err != nil {
		return err
	}
	// Pages after the first narrow the range with a cursor, so that the
	// "first" link (the query without cursor) really is the first page.
	cursor, err := msParam(q, "cursor")
	if err != nil {
		return err
	}
	if !cursor.IsZero() {
		if sq.Forwards {
			sq.Start = cursor
		} else {
			sq.End = cursor
		}
	}
	if h.deps.Stats != nil {
		// Make this minute's counts visible: the recorder batches writes.
		// A failed write is retried by the recorder; serve what is stored.
		if err := h.deps.Stats.Flush(r.Context()); err != nil {
			h.logger.Warn("stats flush before GET /stats failed", "err", err)
		}
	}
	sq.Limit = limit + 1
	ivs, err := stats.Load(r.Context(), h.deps.Store, sq)
	if err != nil {
		return err
	}
	hasNext := len(ivs) > limit
	if hasNext {
		ivs = ivs[:limit]
	}
	next := ""
	if hasNext {
		last := ivs[len(ivs)-1].Start
		if sq.Forwards {
			next = strconv.FormatInt(nextUnit(last, sq.Unit).UnixMilli(), 10)
		} else {
			next = strconv.FormatInt(last.UnixMilli()-1, 10)
		}
	}
	pageLinks(w, "stats", q, hasNext, next)
	legacy := apiVersion(r) < 3
	out := make([]map[string]any, len(ivs))
	for i, iv := range ivs {
		if legacy {
			out[i] = iv.Nested()
		} else {
			out[i] = iv.Flattened()
		}
	}
	return write(w, r, http.StatusOK, out)
}

func nextUnit(t time.Time, unit string) time.Time {
	switch unit {
	case stats.UnitHour:
		return t.Add(time.Hour)
	case stats.UnitDay:
		return t.AddDate(0, 0, 1)
	case stats.UnitMonth:
		return t.AddDate(0, 1, 0)
	}
	return t.Add(time.Minute)
}

// apiVersion reads X-Ably-Version (or the v query parameter); absent = 1.
func apiVersion(r *http.Request) int {
	v := r.Header.Get("X-Ably-Version")
	if v == "" {
		v = r.URL.Query().Get("v")
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		f, ferr := strconv.ParseFloat(v, 64)
		if ferr != nil {
			return 1
		}
		n = int(f)
	}
	return n
}

func msParam(q url.Values, name string) (time.Time, error) {
	s := q.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, herald.Errorf(herald.CodeInvalidParamValue,
			"Invalid %s %q: expected milliseconds since the epoch", name, s)
	}
	return time.UnixMilli(n), nil
}

func directionParam(q url.Values) (forwards bool, err error) {
	switch d := q.Get("direction"); d {
	case "", "backwards":
		return false, nil
	case "forwards":
		return true, nil
	default:
		return false, herald.Errorf(herald.CodeInvalidParamValue,
			"Invalid direction %q: use forwards or backwards", d)
	}
}

func limitParam(q url.Values) (int, error) {
	s := q.Get("limit")
	if s == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		return 0, herald.Errorf(herald.CodeInvalidParamValue,
			"Invalid limit %q: expected a whole number from 1 to %d", s, maxLimit)
	}
	return n, nil
}
