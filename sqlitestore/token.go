package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/heraldrt/herald"
)

// SaveToken stores a persisted-token record.
func (s *DB) SaveToken(ctx context.Context, t *herald.StoredToken) error {
	var clientID any
	if t.HasClientID {
		clientID = t.ClientID
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO tokens (app_id, ref, key_id, issued, expires, client_id, capability, revocable)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.AppID, t.Ref, t.KeyID, millis(t.Issued), millis(t.Expires), clientID, t.Capability, boolInt(t.Revocable))
	switch {
	case isDuplicate(err):
		return fmt.Errorf("sqlitestore: save token %q: %w", t.Ref, herald.ErrConflict)
	case isMissingParent(err):
		return fmt.Errorf("sqlitestore: save token %q: app %q: %w", t.Ref, t.AppID, herald.ErrNotFound)
	case err != nil:
		return fmt.Errorf("sqlitestore: save token %q: %w", t.Ref, err)
	}
	return nil
}

// Token returns a persisted-token record, or an error wrapping ErrNotFound.
func (s *DB) Token(ctx context.Context, appID, ref string) (*herald.StoredToken, error) {
	var (
		t               = &herald.StoredToken{AppID: appID, Ref: ref}
		issued, expires int64
		clientID        sql.NullString
		revocable       int
	)
	err := s.db.QueryRowContext(ctx, `SELECT key_id, issued, expires, client_id, capability, revocable
		FROM tokens WHERE app_id = ? AND ref = ?`, appID, ref).
		Scan(&t.KeyID, &issued, &expires, &clientID, &t.Capability, &revocable)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("sqlitestore: token %q: %w", ref, herald.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("sqlitestore: token %q: %w", ref, err)
	}
	t.Issued, t.Expires = fromMillis(issued), fromMillis(expires)
	t.ClientID, t.HasClientID = clientID.String, clientID.Valid
	t.Revocable = revocable != 0
	return t, nil
}

// DeleteExpiredTokens removes records that expired before t.
func (s *DB) DeleteExpiredTokens(ctx context.Context, before time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM tokens WHERE expires < ?`, millis(before))
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete expired tokens: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
