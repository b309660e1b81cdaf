package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/heraldrt/herald"
)

const appColumns = `id, account_id, name, status, tls_only, created, modified, revoke_by_channel`

// execer is what inserts need from *sql.DB and *sql.Tx, so CreateApp and
// Provision share one insert.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// CreateApp stores app. Zero Created and Modified times are set, on app too,
// from the clock. An existing app.ID is an error wrapping herald.ErrConflict.
func (s *DB) CreateApp(ctx context.Context, app *herald.App) error {
	s.stamp(&app.Created, &app.Modified)
	if err := insertApp(ctx, s.db, app); err != nil {
		return fmt.Errorf("sqlitestore: %w", err)
	}
	return nil
}

// insertApp inserts app; its errors lack the package prefix so that
// Provision can wrap them in its own context.
func insertApp(ctx context.Context, db execer, app *herald.App) error {
	_, err := db.ExecContext(ctx, `INSERT INTO apps (`+appColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		app.ID, app.AccountID, app.Name, string(app.Status), boolInt(app.TLSOnly),
		millis(app.Created), millis(app.Modified), boolInt(app.RevokeByChannel))
	switch {
	case isDuplicate(err):
		return fmt.Errorf("create app %q: %w", app.ID, herald.ErrConflict)
	case err != nil:
		return fmt.Errorf("create app %q: %w", app.ID, err)
	}
	return nil
}

// App returns the app with id, or an error wrapping herald.ErrNotFound.
func (s *DB) App(ctx context.Context, id string) (*herald.App, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+appColumns+` FROM apps WHERE id = ?`, id)
	app, err := scanApp(row)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("sqlitestore: app %q: %w", id, herald.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("sqlitestore: app %q: %w", id, err)
	}
	return app, nil
}

// Apps returns every app, oldest Created first; apps created in the same
// millisecond come in insertion order.
func (s *DB) Apps(ctx context.Context) ([]*herald.App, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+appColumns+` FROM apps ORDER BY created, rowid`)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: apps: %w", err)
	}
	defer rows.Close()
	var apps []*herald.App
	for rows.Next() {
		app, err := scanApp(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: apps: %w", err)
		}
		apps = append(apps, app)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: apps: %w", err)
	}
	return apps, nil
}

// UpdateApp replaces every stored field of app except ID and Created. A zero
// Modified is set, on app too, from the clock.
func (s *DB) UpdateApp(ctx context.Context, app *herald.App) error {
	s.touch(&app.Modified)
	res, err := s.db.ExecContext(ctx, `
		UPDATE apps SET account_id = ?, name = ?, status = ?, tls_only = ?, modified = ?, revoke_by_channel = ?
		WHERE id = ?`,
		app.AccountID, app.Name, string(app.Status), boolInt(app.TLSOnly), millis(app.Modified), boolInt(app.RevokeByChannel), app.ID)
	if err != nil {
		return fmt.Errorf("sqlitestore: update app %q: %w", app.ID, err)
	}
	return mustAffect(res, "update app", app.ID)
}

// DeleteApp deletes the app and, through ON DELETE CASCADE in the same
// statement, its keys, namespaces, channel fixtures and stats.
func (s *DB) DeleteApp(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM apps WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("sqlitestore: delete app %q: %w", id, err)
	}
	return mustAffect(res, "delete app", id)
}

// mustAffect turns an UPDATE or DELETE that matched no row into ErrNotFound.
func mustAffect(res sql.Result, op, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlitestore: %s %q: %w", op, id, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlitestore: %s %q: %w", op, id, herald.ErrNotFound)
	}
	return nil
}

// scanner is the Scan of *sql.Row and *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

func scanApp(sc scanner) (*herald.App, error) {
	var (
		app               herald.App
		status            string
		created, modified int64
	)
	if err := sc.Scan(&app.ID, &app.AccountID, &app.Name, &status, &app.TLSOnly, &created, &modified, &app.RevokeByChannel); err != nil {
		return nil, err
	}
	app.Status = herald.AppStatus(status)
	app.Created, app.Modified = fromMillis(created), fromMillis(modified)
	return &app, nil
}
