package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/heraldrt/herald"
)

const keyColumns = `app_id, id, secret, name, capability, revocable_tokens, status, created, modified, previous_secret, previous_expires`

// CreateKey stores k. Zero Created and Modified times are set, on k too, from
// the clock. A missing app is an error wrapping herald.ErrNotFound, an
// existing key name one wrapping herald.ErrConflict.
func (s *DB) CreateKey(ctx context.Context, k *herald.Key) error {
	s.stamp(&k.Created, &k.Modified)
	if err := insertKey(ctx, s.db, k); err != nil {
		return fmt.Errorf("sqlitestore: %w", err)
	}
	return nil
}

// insertKey inserts k; like insertApp, its errors lack the package prefix.
func insertKey(ctx context.Context, db execer, k *herald.Key) error {
	_, err := db.ExecContext(ctx, `INSERT INTO keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.AppID, k.ID, k.Secret, k.Name, k.Capability, boolInt(k.RevocableTokens), int(k.Status),
		millis(k.Created), millis(k.Modified), k.PreviousSecret, optMillis(k.PreviousExpires))
	switch {
	case isDuplicate(err):
		return fmt.Errorf("create key %q: %w", k.KeyName(), herald.ErrConflict)
	case isMissingParent(err):
		return fmt.Errorf("create key %q: app %q: %w", k.KeyName(), k.AppID, herald.ErrNotFound)
	case err != nil:
		return fmt.Errorf("create key %q: %w", k.KeyName(), err)
	}
	return nil
}

// Key returns the key "appId.keyId", or an error wrapping herald.ErrNotFound.
// It is the lookup behind every authenticated request: one primary key read.
func (s *DB) Key(ctx context.Context, keyName string) (*herald.Key, error) {
	appID, keyID, ok := herald.SplitKeyName(keyName)
	if !ok {
		return nil, fmt.Errorf("sqlitestore: key %q: %w", keyName, herald.ErrNotFound)
	}
	row := s.keyStmt.QueryRowContext(ctx, appID, keyID)
	k, err := scanKey(row)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("sqlitestore: key %q: %w", keyName, herald.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("sqlitestore: key %q: %w", keyName, err)
	}
	return k, nil
}

// Keys returns the keys of appID in creation order; appID "" means all apps.
// An unknown app has no keys.
func (s *DB) Keys(ctx context.Context, appID string) ([]*herald.Key, error) {
	var (
		rows *sql.Rows
		err  error
	)
	if appID == "" {
		rows, err = s.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM keys ORDER BY rowid`)
	} else {
		rows, err = s.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM keys WHERE app_id = ? ORDER BY rowid`, appID)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: keys of %q: %w", appID, err)
	}
	defer rows.Close()
	var keys []*herald.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: keys of %q: %w", appID, err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: keys of %q: %w", appID, err)
	}
	return keys, nil
}

// UpdateKey replaces the stored name, capability, revocableTokens, status,
// secret, previous secret and expiry, and modified time of k; AppID, ID and
// Created stay. A zero Modified
// is set, on k too, from the clock.
func (s *DB) UpdateKey(ctx context.Context, k *herald.Key) error {
	s.touch(&k.Modified)
	res, err := s.db.ExecContext(ctx, `
		UPDATE keys SET secret = ?, name = ?, capability = ?, revocable_tokens = ?, status = ?, modified = ?,
			previous_secret = ?, previous_expires = ?
		WHERE app_id = ? AND id = ?`,
		k.Secret, k.Name, k.Capability, boolInt(k.RevocableTokens), int(k.Status), millis(k.Modified),
		k.PreviousSecret, optMillis(k.PreviousExpires), k.AppID, k.ID)
	if err != nil {
		return fmt.Errorf("sqlitestore: update key %q: %w", k.KeyName(), err)
	}
	return mustAffect(res, "update key", k.KeyName())
}

// Generation returns the counter the schema's triggers bump on every insert,
// update and delete of an app or key, whichever process made it.
func (s *DB) Generation(ctx context.Context) (int64, error) {
	var g int64
	err := s.generationStmt.QueryRowContext(ctx).Scan(&g)
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: generation: %w", err)
	}
	return g, nil
}

func scanKey(sc scanner) (*herald.Key, error) {
	var (
		k                 herald.Key
		status            int
		created, modified int64
		prevExpires       int64
	)
	if err := sc.Scan(&k.AppID, &k.ID, &k.Secret, &k.Name, &k.Capability, &k.RevocableTokens,
		&status, &created, &modified, &k.PreviousSecret, &prevExpires); err != nil {
		return nil, err
	}
	k.Status = herald.KeyStatus(status)
	k.Created, k.Modified = fromMillis(created), fromMillis(modified)
	k.PreviousExpires = fromOptMillis(prevExpires)
	return &k, nil
}
