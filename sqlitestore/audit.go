package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/heraldrt/herald"
)

const auditColumns = `id, time, app_id, kind, actor, target, code, address, count, details`

// AppendAudit stores entries in one transaction and writes their ids back.
func (s *DB) AppendAudit(ctx context.Context, entries ...*herald.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO audit (time, app_id, kind, actor, target, code, address, count, details)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, e := range entries {
			if e.Time.IsZero() {
				e.Time = now
			}
			if e.Count <= 0 {
				e.Count = 1
			}
			res, err := stmt.ExecContext(ctx, millis(e.Time), e.AppID, string(e.Kind), e.Actor, e.Target,
				e.Code, e.Address, e.Count, e.Details)
			if err != nil {
				return err
			}
			if e.ID, err = res.LastInsertId(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: append audit: %w", err)
	}
	return nil
}

// Audit returns the entries q selects, newest first.
func (s *DB) Audit(ctx context.Context, q herald.AuditQuery) ([]*herald.AuditEntry, error) {
	var (
		where []string
		args  []any
	)
	if q.AppID != "" {
		where, args = append(where, "app_id = ?"), append(args, q.AppID)
	}
	if len(q.Kinds) > 0 {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(q.Kinds)), ", ")
		where = append(where, "kind IN ("+marks+")")
		for _, k := range q.Kinds {
			args = append(args, string(k))
		}
	}
	if !q.Start.IsZero() {
		where, args = append(where, "time >= ?"), append(args, millis(q.Start))
	}
	if !q.End.IsZero() {
		where, args = append(where, "time <= ?"), append(args, millis(q.End))
	}
	if q.Before > 0 {
		where, args = append(where, "id < ?"), append(args, q.Before)
	}
	query := `SELECT ` + auditColumns + ` FROM audit`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id DESC"
	if q.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: audit: %w", err)
	}
	defer rows.Close()
	var out []*herald.AuditEntry
	for rows.Next() {
		var (
			e    herald.AuditEntry
			kind string
			t    int64
		)
		if err := rows.Scan(&e.ID, &t, &e.AppID, &kind, &e.Actor, &e.Target, &e.Code, &e.Address, &e.Count, &e.Details); err != nil {
			return nil, fmt.Errorf("sqlitestore: audit: %w", err)
		}
		e.Time, e.Kind = fromMillis(t), herald.AuditKind(kind)
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: audit: %w", err)
	}
	return out, nil
}

// PruneAudit deletes entries older than before, then all but the newest keep.
func (s *DB) PruneAudit(ctx context.Context, before time.Time, keep int) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM audit WHERE time < ?`, millis(before))
		if err != nil {
			return err
		}
		d, _ := res.RowsAffected()
		n += d
		if keep <= 0 {
			return nil
		}
		// With fewer than keep rows the subquery is NULL and nothing matches.
		res, err = tx.ExecContext(ctx, `DELETE FROM audit WHERE id < (SELECT id FROM audit ORDER BY id DESC LIMIT 1 OFFSET ?)`, keep-1)
		if err != nil {
			return err
		}
		d, _ = res.RowsAffected()
		n += d
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: prune audit: %w", err)
	}
	return int(n), nil
}
