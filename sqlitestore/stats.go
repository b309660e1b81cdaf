package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"github.com/heraldrt/herald"
)

// addStat adds one counter delta, creating the row on first use. The upsert
// keeps AddStats a single statement per entry with no read-modify-write race
// between processes.
const addStat = `
	INSERT INTO stats (app_id, minute, name, value) VALUES (?, ?, ?, ?)
	ON CONFLICT (app_id, minute, name) DO UPDATE SET value = value + excluded.value`

// AddStats adds entries to appID's counters for the minute containing minute
// (UTC). Entries are added together or not at all; an unknown app is an error
// wrapping herald.ErrNotFound.
func (s *DB) AddStats(ctx context.Context, appID string, minute time.Time, entries map[string]int64) error {
	if len(entries) == 0 {
		return nil
	}
	m := millis(minute.Truncate(time.Minute))
	var err error
	if len(entries) == 1 {
		// One entry needs no transaction: the statement is atomic already,
		// and BEGIN/COMMIT would double the work on this hot path.
		for name, delta := range entries {
			_, err = s.addStatStmt.ExecContext(ctx, appID, m, name, delta)
		}
	} else {
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			stmt := tx.StmtContext(ctx, s.addStatStmt)
			for name, delta := range entries {
				if _, err := stmt.ExecContext(ctx, appID, m, name, delta); err != nil {
					return err
				}
			}
			return nil
		})
	}
	switch {
	case isMissingParent(err):
		return fmt.Errorf("sqlitestore: add stats: app %q: %w", appID, herald.ErrNotFound)
	case err != nil:
		return fmt.Errorf("sqlitestore: add stats: app %q: %w", appID, err)
	}
	return nil
}

// Stats returns q.AppID's per-minute records with q.Start <= minute <= q.End
// (zero End: no upper bound), ordered by minute, ascending when q.Forwards.
// q.Limit caps the number of minutes, not of counters.
func (s *DB) Stats(ctx context.Context, q herald.StatsQuery) ([]herald.StatsRecord, error) {
	start, end := int64(math.MinInt64), int64(math.MaxInt64)
	if !q.Start.IsZero() {
		start = millis(q.Start)
	}
	if !q.End.IsZero() {
		end = millis(q.End)
	}
	limit := int64(-1) // SQLite: a negative LIMIT means none.
	if q.Limit > 0 {
		limit = int64(q.Limit)
	}
	order := "DESC"
	if q.Forwards {
		order = "ASC"
	}
	// The subquery picks the minutes so that LIMIT counts minutes; the outer
	// query then reads every counter of those minutes.
	rows, err := s.db.QueryContext(ctx, `
		SELECT minute, name, value FROM stats
		WHERE app_id = ? AND minute IN (
			SELECT DISTINCT minute FROM stats
			WHERE app_id = ? AND minute >= ? AND minute <= ?
			ORDER BY minute `+order+` LIMIT ?)
		ORDER BY minute `+order+`, name`,
		q.AppID, q.AppID, start, end, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: stats of %q: %w", q.AppID, err)
	}
	defer rows.Close()
	var out []herald.StatsRecord
	for rows.Next() {
		var (
			minute, value int64
			name          string
		)
		if err := rows.Scan(&minute, &name, &value); err != nil {
			return nil, fmt.Errorf("sqlitestore: stats of %q: %w", q.AppID, err)
		}
		if n := len(out); n == 0 || millis(out[n-1].Minute) != minute {
			out = append(out, herald.StatsRecord{
				AppID:   q.AppID,
				Minute:  fromMillis(minute),
				Entries: map[string]int64{},
			})
		}
		out[len(out)-1].Entries[name] = value
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: stats of %q: %w", q.AppID, err)
	}
	return out, nil
}
