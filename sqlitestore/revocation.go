package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/heraldrt/herald"
)

// AddRevocations stores rules in one transaction.
func (s *DB) AddRevocations(ctx context.Context, rules []*herald.Revocation) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, r := range rules {
			_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO revocations
				(app_id, key_name, target_type, target_value, issued_before, applies_at, expires)
				VALUES (?, ?, ?, ?, ?, ?, ?)`,
				r.AppID, r.KeyName, r.Type, r.Value, millis(r.IssuedBefore), millis(r.AppliesAt), millis(r.Expires))
			if isMissingParent(err) {
				return fmt.Errorf("app %q: %w", r.AppID, herald.ErrNotFound)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: add revocations: %w", err)
	}
	return nil
}

// Revocations returns the rules not expired at now.
func (s *DB) Revocations(ctx context.Context, now time.Time) ([]*herald.Revocation, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT app_id, key_name, target_type, target_value, issued_before, applies_at, expires
		FROM revocations WHERE expires >= ? ORDER BY app_id, key_name, issued_before`, millis(now))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: revocations: %w", err)
	}
	defer rows.Close()
	var out []*herald.Revocation
	for rows.Next() {
		var r herald.Revocation
		var ib, at, exp int64
		if err := rows.Scan(&r.AppID, &r.KeyName, &r.Type, &r.Value, &ib, &at, &exp); err != nil {
			return nil, fmt.Errorf("sqlitestore: revocations: %w", err)
		}
		r.IssuedBefore, r.AppliesAt, r.Expires = fromMillis(ib), fromMillis(at), fromMillis(exp)
		out = append(out, &r)
	}
	return out, rows.Err()
}

// DeleteExpiredRevocations removes rules that expired before now.
func (s *DB) DeleteExpiredRevocations(ctx context.Context, now time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM revocations WHERE expires < ?`, millis(now))
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete expired revocations: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
