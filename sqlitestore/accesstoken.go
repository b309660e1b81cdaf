package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/heraldrt/herald"
)

const accessTokenColumns = `id, account_id, name, capabilities, hash, created, expires, last_used, revoked`

// CreateAccessToken stores t. A zero Created is set, on t too, from the
// clock; an existing id wraps herald.ErrConflict.
func (s *DB) CreateAccessToken(ctx context.Context, t *herald.AccessToken) error {
	if t.Created.IsZero() {
		t.Created = s.now().UTC().Truncate(time.Millisecond)
	}
	caps := t.Capabilities
	if caps == nil {
		caps = []string{}
	}
	capsJSON, err := json.Marshal(caps)
	if err != nil {
		return fmt.Errorf("sqlitestore: create access token %q: %w", t.ID, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO access_tokens (`+accessTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.AccountID, t.Name, string(capsJSON), t.Hash, millis(t.Created),
		optMillis(t.Expires), optMillis(t.LastUsed), optMillis(t.Revoked))
	switch {
	case isDuplicate(err):
		return fmt.Errorf("sqlitestore: create access token %q: %w", t.ID, herald.ErrConflict)
	case err != nil:
		return fmt.Errorf("sqlitestore: create access token %q: %w", t.ID, err)
	}
	return nil
}

// AccessToken returns the token with id, or an error wrapping ErrNotFound.
func (s *DB) AccessToken(ctx context.Context, id string) (*herald.AccessToken, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+accessTokenColumns+` FROM access_tokens WHERE id = ?`, id)
	t, err := scanAccessToken(row)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("sqlitestore: access token %q: %w", id, herald.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("sqlitestore: access token %q: %w", id, err)
	}
	return t, nil
}

// AccessTokens returns every token in creation order.
func (s *DB) AccessTokens(ctx context.Context) ([]*herald.AccessToken, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+accessTokenColumns+` FROM access_tokens ORDER BY rowid`)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: access tokens: %w", err)
	}
	defer rows.Close()
	var out []*herald.AccessToken
	for rows.Next() {
		t, err := scanAccessToken(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: access tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: access tokens: %w", err)
	}
	return out, nil
}

// RevokeAccessToken marks the token revoked at at, keeping an earlier
// revocation time.
func (s *DB) RevokeAccessToken(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `
		UPDATE access_tokens SET revoked = CASE WHEN revoked = 0 THEN ? ELSE revoked END WHERE id = ?`,
		optMillis(at), id)
	if err != nil {
		return fmt.Errorf("sqlitestore: revoke access token %q: %w", id, err)
	}
	return mustAffect(res, "revoke access token", id)
}

// TouchAccessToken sets the token's last-used time and nothing else.
func (s *DB) TouchAccessToken(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE access_tokens SET last_used = ? WHERE id = ?`, optMillis(at), id)
	if err != nil {
		return fmt.Errorf("sqlitestore: touch access token %q: %w", id, err)
	}
	return mustAffect(res, "touch access token", id)
}

func scanAccessToken(sc scanner) (*herald.AccessToken, error) {
	var (
		t                                  herald.AccessToken
		caps                               string
		created, expires, lastUsed, revoke int64
	)
	if err := sc.Scan(&t.ID, &t.AccountID, &t.Name, &caps, &t.Hash, &created, &expires, &lastUsed, &revoke); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(caps), &t.Capabilities); err != nil {
		return nil, fmt.Errorf("capabilities of %q: %w", t.ID, err)
	}
	t.Created = fromMillis(created)
	t.Expires, t.LastUsed, t.Revoked = fromOptMillis(expires), fromOptMillis(lastUsed), fromOptMillis(revoke)
	return &t, nil
}
