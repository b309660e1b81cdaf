package sqlitestore

import "database/sql"

// SQLDB exposes the pool so tests can check pragmas and the schema.
func SQLDB(s *DB) *sql.DB { return s.db }
