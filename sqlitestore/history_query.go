package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/heraldrt/herald"
)

// How history reads are planned.
//
// A page is ordered by serial, but Start and End bound the timestamp, and
// timestamps need not follow serials (a publisher may set its own). SQLite,
// left to itself, reads any two-sided time window through the timestamp
// index and sorts it, which is cheap for a narrow window and ruinous for a
// wide one: every page of a window spanning a 100,000-message channel
// sorted 100,000 rows (seconds). Walking the primary key in serial order and
// filtering timestamps on the way never sorts and stops at the limit, but
// first skips every row outside the window on the side it starts from.
//
// So Messages picks: without time bounds, or with only the bound on the side
// the walk starts from (Start going backwards, End going forwards), it walks
// serials. Otherwise it first counts the window in the timestamp index,
// stopping at windowRows+1 entries, and sorts the window only when it is that
// small. The SQL text names the plan (INDEXED BY, or "+timestamp", which
// keeps SQLite from using an index on the term), so each plan is planned
// once and cached per filter set.

// historyPlan is how a history read finds its rows.
type historyPlan int

const (
	// walkSerials walks the primary key in serial order, filtering on
	// timestamp as it goes.
	walkSerials historyPlan = iota
	// sortWindow reads the time window from the timestamp index and sorts
	// it by serial.
	sortWindow
)

// windowRows is the largest time window Messages sorts. Sorting costs ten
// to fifteen times more per row than walking past one (BenchmarkHistoryQuery:
// about 3 µs against 0.2 µs), so at a thousand rows the sort (about 3 ms)
// still costs less than a walk past 10,000-15,000 rows of a long channel.
const windowRows = 1000

// messagesPlan chooses the plan for q (see the top of this file).
func (s *DB) messagesPlan(ctx context.Context, q herald.HistoryQuery) (historyPlan, error) {
	hasStart, hasEnd := !q.Start.IsZero(), !q.End.IsZero()
	switch {
	case !hasStart && !hasEnd,
		hasStart && !hasEnd && !q.Forwards,
		hasEnd && !hasStart && q.Forwards:
		return walkSerials, nil
	}
	where, args := historyWhere(q, sortWindow)
	query := `SELECT count(*) FROM (SELECT 1 FROM messages INDEXED BY messages_channel_timestamp WHERE ` +
		where + ` LIMIT ` + strconv.Itoa(windowRows+1) + `)`
	stmt, err := s.queries.get(ctx, s.db, query)
	if err != nil {
		return 0, err
	}
	var n int
	if err := stmt.QueryRowContext(ctx, args...).Scan(&n); err != nil {
		return 0, err
	}
	if n <= windowRows {
		return sortWindow, nil
	}
	return walkSerials, nil
}

// messagesQuery returns the SELECT for q with plan, and its arguments.
func messagesQuery(q herald.HistoryQuery, plan historyPlan) (string, []any) {
	from := `messages`
	if plan == sortWindow {
		from += ` INDEXED BY messages_channel_timestamp`
	}
	where, args := historyWhere(q, plan)
	return `SELECT ` + messageColumns + ` FROM ` + from + ` WHERE ` + where +
		` ORDER BY serial ` + direction(q.Forwards) + ` LIMIT ?`, append(args, limitArg(q.Limit))
}

// presenceQuery returns the SELECT for q on presence events, and its
// arguments. Presence history always walks serials: it has no per-channel
// timestamp index, and the per-app one would otherwise tempt SQLite into
// sorting every event of the app in the window.
func presenceQuery(q herald.HistoryQuery) (string, []any) {
	where, args := historyWhere(q, walkSerials)
	dir := direction(q.Forwards)
	return `SELECT ` + presenceColumns + ` FROM presence_events WHERE ` + where +
		` ORDER BY serial ` + dir + `, idx ` + dir + ` LIMIT ?`, append(args, limitArg(q.Limit))
}

// historyWhere returns the WHERE clause and arguments for q. Only the
// filters q sets appear in the text, so that SQLite plans each combination
// for what it filters (placeholder "no bound" values would look like real
// bounds to the planner).
func historyWhere(q herald.HistoryQuery, plan historyPlan) (string, []any) {
	ts := `timestamp`
	if plan == walkSerials {
		ts = `+timestamp`
	}
	var b strings.Builder
	b.WriteString(`app_id = ? AND channel = ?`)
	args := []any{q.AppID, q.Channel}
	add := func(cond string, arg any) {
		b.WriteString(` AND `)
		b.WriteString(cond)
		args = append(args, arg)
	}
	if !q.Start.IsZero() {
		add(ts+` >= ?`, millis(q.Start))
	}
	if !q.End.IsZero() {
		add(ts+` <= ?`, millis(q.End))
	}
	if q.UntilSerial != "" {
		add(`serial <= ?`, q.UntilSerial)
	}
	if q.AfterSerial != "" {
		add(`serial > ?`, q.AfterSerial)
	}
	if q.BeforeSerial != "" {
		add(`serial < ?`, q.BeforeSerial)
	}
	return b.String(), args
}

func direction(forwards bool) string {
	if forwards {
		return "ASC"
	}
	return "DESC"
}

// limitArg converts a HistoryQuery limit; SQLite reads a negative LIMIT as
// none.
func limitArg(limit int) int64 {
	if limit <= 0 {
		return -1
	}
	return int64(limit)
}

// stmtCache holds statements prepared on first use, keyed by their text:
// history reads are built from the filters each request sets, and a few
// dozen shapes at most exist.
type stmtCache struct {
	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	closed bool
}

// get returns the statement for query, preparing it on db the first time.
func (c *stmtCache) get(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("store closed")
	}
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	// Preparing under the lock serialises first uses of new shapes only;
	// it compiles SQL and touches no table, so it does not wait on writers.
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[query] = st
	return st, nil
}

// close releases every statement; later gets fail.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts, c.closed = nil, true
}
