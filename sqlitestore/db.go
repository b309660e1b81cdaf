// Package sqlitestore is Herald's embedded store: one SQLite file, opened with
// the pure-Go modernc.org/sqlite driver, that satisfies herald.Store.
//
// The file is opened in WAL mode so the server can keep reading while another
// process (the herald CLI) writes to the same file; every pooled connection
// gets the same pragmas (busy_timeout, foreign_keys, synchronous=NORMAL)
// through the DSN. Write transactions begin IMMEDIATE so that two writers
// queue on busy_timeout instead of one failing when it upgrades a read lock.
//
// The schema lives in numbered files under migrations/, embedded in the
// binary and applied in order at Open; applied versions are recorded in
// schema_migrations, with the same numbering as the PostgreSQL store. Times
// are stored as integer milliseconds since the Unix epoch, so every time the
// store returns is truncated to the millisecond and in UTC.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/heraldrt/herald"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var _ herald.Store = (*DB)(nil)

// busyTimeout is how long a statement waits for another connection's lock
// before failing with SQLITE_BUSY. CLI writes are short, so five seconds only
// runs out when something is badly stuck.
const busyTimeout = 5 * time.Second

// generationName is the meta row the schema's triggers bump on every app and
// key write. SetMeta refuses it so that a setting cannot reset the counter.
const generationName = "store.generation"

// Config says which file to open and how.
type Config struct {
	// Path is the database file. Its parent directory is created (mode 0700,
	// since the file holds key secrets) when missing. Required.
	Path string
	// Now is the clock for timestamps the caller left zero. Default time.Now.
	Now func() time.Time
}

// DB is an open SQLite store. It is safe for concurrent use, and several DBs,
// in one process or several, may share a file.
type DB struct {
	db  *sql.DB
	now func() time.Time

	// Statements on the per-request path, prepared up front (database/sql
	// then prepares each once per pooled connection): preparing on every
	// call cost a third of BenchmarkKeyLookup's time.
	keyStmt        *sql.Stmt
	generationStmt *sql.Stmt
	addStatStmt    *sql.Stmt
	// History writes are prepared up front too; history reads are
	// prepared on first use of each query shape (history_query.go).
	appendMessageStmt  *sql.Stmt
	appendPresenceStmt *sql.Stmt
	queries            stmtCache

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the database at cfg.Path and brings its
// schema up to date. The caller must Close the returned DB.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.Path == "" {
		return nil, errors.New("sqlitestore: open: empty path")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	path, err := filepath.Abs(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %q: %w", cfg.Path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlitestore: open %q: %w", cfg.Path, err)
	}
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %q: %w", cfg.Path, err)
	}
	s := &DB{db: db, now: cfg.Now}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlitestore: open %q: %w", cfg.Path, err)
	}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlitestore: open %q: %w", cfg.Path, err)
	}
	return s, nil
}

// prepare prepares the hot statements; it runs after migrate because they
// name tables the migrations create.
func (s *DB) prepare(ctx context.Context) error {
	for _, p := range []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&s.keyStmt, `SELECT ` + keyColumns + ` FROM keys WHERE app_id = ? AND id = ?`},
		{&s.generationStmt, `SELECT CAST(value AS INTEGER) FROM meta WHERE name = '` + generationName + `'`},
		{&s.addStatStmt, addStat},
		{&s.appendMessageStmt, appendMessage},
		{&s.appendPresenceStmt, appendPresence},
	} {
		stmt, err := s.db.PrepareContext(ctx, p.query)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", p.query, err)
		}
		*p.stmt = stmt
	}
	return nil
}

// dsn returns the driver name for path. The pragmas go in the DSN because
// database/sql opens connections on demand: a PRAGMA run once after Open would
// configure only whichever connection happened to run it.
func dsn(path string) string {
	// A file: URI with an escaped path keeps '?', '#' and '%' in file names
	// from being read as URI syntax; SQLite decodes the escapes.
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows "C:/x" becomes "/C:/x", which SQLite expects.
	}
	u := url.URL{Scheme: "file", Path: p}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	return u.String() + "?" + q.Encode()
}

// Close closes the database. Calling it again returns the first call's result.
func (s *DB) Close() error {
	s.closeOnce.Do(func() {
		// Closing the pool closes the statements' connections; the Stmts
		// only need releasing from database/sql's bookkeeping.
		for _, st := range []*sql.Stmt{s.keyStmt, s.generationStmt, s.addStatStmt,
			s.appendMessageStmt, s.appendPresenceStmt} {
			if st != nil {
				st.Close()
			}
		}
		s.queries.close()
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

// Meta returns the setting name, or "" when it was never set.
func (s *DB) Meta(ctx context.Context, name string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlitestore: meta %q: %w", name, err)
	}
	return v, nil
}

// SetMeta writes the setting name. The name "store.generation" is the
// store's own and is refused.
func (s *DB) SetMeta(ctx context.Context, name, value string) error {
	if name == generationName {
		return fmt.Errorf("sqlitestore: set meta %q: name reserved by the store", name)
	}
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO meta (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	if err != nil {
		return fmt.Errorf("sqlitestore: set meta %q: %w", name, err)
	}
	return nil
}

// inTx runs fn in a write transaction (BEGIN IMMEDIATE, from the DSN),
// committing when fn returns nil and rolling back otherwise.
func (s *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback() // fn's error is the one worth reporting
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// sqliteCode returns err's extended SQLite result code, or 0 when err does not
// come from SQLite. The driver turns extended codes on for every connection,
// so constraint failures arrive as e.g. SQLITE_CONSTRAINT_PRIMARYKEY.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// isDuplicate reports whether err is a primary key or unique violation.
func isDuplicate(err error) bool {
	switch sqliteCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return true
	}
	return false
}

// isMissingParent reports whether err is a foreign key violation, which for
// this schema always means the referenced app does not exist.
func isMissingParent(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// millis converts t to the stored unit.
func millis(t time.Time) int64 { return t.UnixMilli() }

// fromMillis converts a stored time back, in UTC.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// optMillis converts an optional time to the stored unit: the zero time is
// stored as 0 ("never", "none").
func optMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromOptMillis is optMillis's inverse: 0 is the zero time.
func fromOptMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return fromMillis(ms)
}

// stamp fills zero created and modified times: created from the clock,
// modified from created, so that a new record never carries the zero time.
func (s *DB) stamp(created, modified *time.Time) {
	if created.IsZero() {
		*created = s.now().UTC().Truncate(time.Millisecond)
	}
	if modified.IsZero() {
		*modified = *created
	}
}

// touch fills a zero modified time from the clock on update.
func (s *DB) touch(modified *time.Time) {
	if modified.IsZero() {
		*modified = s.now().UTC().Truncate(time.Millisecond)
	}
}

// boolInt converts b to SQLite's boolean representation.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
