package sqlitestore

import (
	"context"
	"fmt"
	"time"
)

// EndKeyRotations clears every previous secret whose overlap ended at or
// before now, in one statement, so that a rotation made meanwhile is never
// undone. The keys' update trigger bumps Generation.
func (s *DB) EndKeyRotations(ctx context.Context, now time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `
		UPDATE keys SET previous_secret = '', previous_expires = 0
		WHERE previous_secret != '' AND previous_expires <= ?`, millis(now))
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: end key rotations: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
