package sqlitestore

import (
	"context"
	"database/sql"

	"github.com/heraldrt/herald"
)

// SQLDB exposes the pool so tests can check pragmas and the schema.
func SQLDB(s *DB) *sql.DB { return s.db }

// The history read plans (history_query.go) are exposed so tests can check
// how SQLite runs each one and that both give the same answers. A bool
// chooses: true sorts the time window, false walks serials.

// plan converts the tests' bool.
func plan(sort bool) historyPlan {
	if sort {
		return sortWindow
	}
	return walkSerials
}

// MessagesQuery returns the SQL built for q with a plan.
func MessagesQuery(q herald.HistoryQuery, sort bool) (string, []any) {
	return messagesQuery(q, plan(sort))
}

// PresenceQuery returns the SQL built for a presence history query.
func PresenceQuery(q herald.HistoryQuery) (string, []any) { return presenceQuery(q) }

// MessagesPlan reports whether Messages would sort q's time window.
func MessagesPlan(ctx context.Context, s *DB, q herald.HistoryQuery) (sort bool, err error) {
	p, err := s.messagesPlan(ctx, q)
	return p == sortWindow, err
}

// MessagesWith runs q with the plan given (sortWindow or walking serials).
func MessagesWith(ctx context.Context, s *DB, q herald.HistoryQuery, sort bool) ([]*herald.Message, error) {
	return s.messages(ctx, q, plan(sort))
}
