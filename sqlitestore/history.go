package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/heraldrt/herald"
)

// History storage (herald.HistoryStore), in the tables of
// migrations/0003_history.sql.
//
// Round trip: every Message field comes back as written, Size included, with
// two normalisations. Data.Bytes is nil when Data.Kind is DataNone (bytes
// given with DataNone are not stored) and non-nil, possibly empty, for every
// other kind. Extras is stored as JSON text and decoded with encoding/json,
// so it comes back as JSON types: numbers are float64 (integers beyond 2^53
// lose precision), nested objects map[string]any, arrays []any, and []byte
// values base64 strings; a nil map is stored as NULL and comes back nil.
//
// Namespaces (DeleteHistory): a channel's namespace is the part of its name
// before the first ':'. A channel with no ':' is in no namespace, which the
// scope lists spell "": HistoryScope{Namespaces: []string{""}} selects
// exactly the channels without a namespace (and, by the same rule, names
// starting with ':').

const messageColumns = `serial, id, client_id, connection_id, name, data_kind, data, encoding, extras, timestamp, action, size`

const appendMessage = `INSERT INTO messages (app_id, channel, ` + messageColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

const presenceColumns = `idx, action, client_id, connection_id, id, data_kind, data, encoding, extras, timestamp`

const appendPresence = `INSERT INTO presence_events (app_id, channel, serial, ` + presenceColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// namespaceExpr is a row's channel namespace: the text before the first ':',
// or "" when there is none.
const namespaceExpr = `CASE WHEN instr(channel, ':') > 0 THEN substr(channel, 1, instr(channel, ':') - 1) ELSE '' END`

// AppendMessages stores msgs of channel in one transaction: either all are
// stored or none. A serial already stored on the channel (or repeated in
// msgs) is an error wrapping herald.ErrConflict; an unknown app one wrapping
// herald.ErrNotFound. Every message needs a non-empty Serial.
func (s *DB) AppendMessages(ctx context.Context, appID, channel string, msgs []*herald.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	// Encode everything before writing, so a bad message fails the call
	// without opening a transaction.
	args := make([][]any, len(msgs))
	for i, m := range msgs {
		if m.Serial == "" {
			return fmt.Errorf("sqlitestore: append messages to %q: message %d has no serial", channel, i)
		}
		extras, err := encodeExtras(m.Extras)
		if err != nil {
			return fmt.Errorf("sqlitestore: append messages to %q: serial %q: %w", channel, m.Serial, err)
		}
		args[i] = []any{appID, channel, m.Serial, m.ID, m.ClientID, m.ConnectionID, m.Name,
			int64(m.Data.Kind), dataArg(m.Data), m.Encoding, extras, m.Timestamp, m.Action, m.Size}
	}
	failed := 0 // index of the message whose insert failed
	var err error
	if len(msgs) == 1 {
		// One statement is atomic already; BEGIN/COMMIT would only add
		// work on the publish path.
		_, err = s.appendMessageStmt.ExecContext(ctx, args[0]...)
	} else {
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			stmt := tx.StmtContext(ctx, s.appendMessageStmt)
			for i, a := range args {
				if _, err := stmt.ExecContext(ctx, a...); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
	}
	switch {
	case isDuplicate(err):
		return fmt.Errorf("sqlitestore: append messages to %q: serial %q: %w", channel, msgs[failed].Serial, herald.ErrConflict)
	case isMissingParent(err):
		return fmt.Errorf("sqlitestore: append messages to %q: app %q: %w", channel, appID, herald.ErrNotFound)
	case err != nil:
		return fmt.Errorf("sqlitestore: append messages to %q: %w", channel, err)
	}
	return nil
}

// Messages returns the messages of q.Channel that match q, ordered by serial
// (newest first unless q.Forwards). An unknown app or channel has none.
func (s *DB) Messages(ctx context.Context, q herald.HistoryQuery) ([]*herald.Message, error) {
	plan, err := s.messagesPlan(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: history of %q: %w", q.Channel, err)
	}
	return s.messages(ctx, q, plan)
}

// messages runs q with plan.
func (s *DB) messages(ctx context.Context, q herald.HistoryQuery, plan historyPlan) ([]*herald.Message, error) {
	query, args := messagesQuery(q, plan)
	stmt, err := s.queries.get(ctx, s.db, query)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: history of %q: %w", q.Channel, err)
	}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: history of %q: %w", q.Channel, err)
	}
	defer rows.Close()
	var out []*herald.Message
	if q.Limit > 0 {
		out = make([]*herald.Message, 0, min(q.Limit, 1000))
	}
	for rows.Next() {
		var (
			m      herald.Message
			kind   int64
			extras sql.NullString
		)
		if err := rows.Scan(&m.Serial, &m.ID, &m.ClientID, &m.ConnectionID, &m.Name,
			&kind, &m.Data.Bytes, &m.Encoding, &extras, &m.Timestamp, &m.Action, &m.Size); err != nil {
			return nil, fmt.Errorf("sqlitestore: history of %q: %w", q.Channel, err)
		}
		m.Data = decodeData(kind, m.Data.Bytes)
		if m.Extras, err = decodeExtras(extras); err != nil {
			return nil, fmt.Errorf("sqlitestore: history of %q: serial %q: %w", q.Channel, m.Serial, err)
		}
		out = append(out, &m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: history of %q: %w", q.Channel, err)
	}
	return out, nil
}

// AppendPresence stores events as one batch at serial, numbered in the order
// given, all or none. A batch already stored at serial is an error wrapping
// herald.ErrConflict; an unknown app one wrapping herald.ErrNotFound.
func (s *DB) AppendPresence(ctx context.Context, appID, channel, serial string, events []*herald.PresenceMessage) error {
	if len(events) == 0 {
		return nil
	}
	if serial == "" {
		return fmt.Errorf("sqlitestore: append presence to %q: no serial", channel)
	}
	args := make([][]any, len(events))
	for i, e := range events {
		extras, err := encodeExtras(e.Extras)
		if err != nil {
			return fmt.Errorf("sqlitestore: append presence to %q: serial %q event %d: %w", channel, serial, i, err)
		}
		args[i] = []any{appID, channel, serial, i, int64(e.Action), e.ClientID, e.ConnectionID, e.ID,
			int64(e.Data.Kind), dataArg(e.Data), e.Encoding, extras, e.Timestamp}
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		stmt := tx.StmtContext(ctx, s.appendPresenceStmt)
		for _, a := range args {
			if _, err := stmt.ExecContext(ctx, a...); err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case isDuplicate(err):
		return fmt.Errorf("sqlitestore: append presence to %q: serial %q: %w", channel, serial, herald.ErrConflict)
	case isMissingParent(err):
		return fmt.Errorf("sqlitestore: append presence to %q: app %q: %w", channel, appID, herald.ErrNotFound)
	case err != nil:
		return fmt.Errorf("sqlitestore: append presence to %q: %w", channel, err)
	}
	return nil
}

// PresenceHistory returns the presence events of q.Channel that match q,
// ordered by (serial, position in the batch), ascending when q.Forwards and
// descending otherwise. The serial filters compare the batch serial; Limit
// counts events, so a page may end inside a batch.
func (s *DB) PresenceHistory(ctx context.Context, q herald.HistoryQuery) ([]*herald.PresenceMessage, error) {
	query, args := presenceQuery(q)
	stmt, err := s.queries.get(ctx, s.db, query)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: presence history of %q: %w", q.Channel, err)
	}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: presence history of %q: %w", q.Channel, err)
	}
	defer rows.Close()
	var out []*herald.PresenceMessage
	for rows.Next() {
		var (
			e            herald.PresenceMessage
			idx          int
			action, kind int64
			extras       sql.NullString
		)
		if err := rows.Scan(&idx, &action, &e.ClientID, &e.ConnectionID, &e.ID,
			&kind, &e.Data.Bytes, &e.Encoding, &extras, &e.Timestamp); err != nil {
			return nil, fmt.Errorf("sqlitestore: presence history of %q: %w", q.Channel, err)
		}
		e.Action = herald.PresenceAction(action)
		e.Data = decodeData(kind, e.Data.Bytes)
		if e.Extras, err = decodeExtras(extras); err != nil {
			return nil, fmt.Errorf("sqlitestore: presence history of %q: %w", q.Channel, err)
		}
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: presence history of %q: %w", q.Channel, err)
	}
	return out, nil
}

// DeleteHistory removes appID's messages and presence events with a
// timestamp before before (exclusive), on the channels scope selects (see
// the namespace rule at the top of this file), in one transaction. A
// non-nil but empty scope.Namespaces selects no channel. It returns the
// number of messages and events removed.
func (s *DB) DeleteHistory(ctx context.Context, appID string, before time.Time, scope herald.HistoryScope) (int, error) {
	if scope.Namespaces != nil && len(scope.Namespaces) == 0 {
		return 0, nil
	}
	where := `app_id = ? AND timestamp < ?`
	args := []any{appID, millis(before)}
	if scope.Namespaces != nil {
		where += ` AND ` + namespaceExpr + ` IN (` + placeholders(len(scope.Namespaces)) + `)`
		for _, ns := range scope.Namespaces {
			args = append(args, ns)
		}
	}
	if len(scope.Except) > 0 {
		where += ` AND ` + namespaceExpr + ` NOT IN (` + placeholders(len(scope.Except)) + `)`
		for _, ns := range scope.Except {
			args = append(args, ns)
		}
	}
	var removed int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"messages", "presence_events"} {
			res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE `+where, args...)
			if err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
			removed += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete history of %q: %w", appID, err)
	}
	return int(removed), nil
}

// placeholders returns "?, ?, ..." with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// dataArg is the stored form of d: NULL for no data, else a BLOB (never
// NULL, even when empty, so the kind alone says whether there was data).
func dataArg(d herald.Data) any {
	if d.Kind == herald.DataNone {
		return nil
	}
	if d.Bytes == nil {
		return []byte{}
	}
	return d.Bytes
}

// decodeData rebuilds a payload from its stored kind and bytes.
func decodeData(kind int64, b []byte) herald.Data {
	d := herald.Data{Kind: herald.DataKind(kind)}
	switch {
	case d.Kind == herald.DataNone:
	case b == nil:
		d.Bytes = []byte{}
	default:
		d.Bytes = b
	}
	return d
}

// encodeExtras is the stored form of extras: its JSON, or NULL for none.
func encodeExtras(extras map[string]any) (any, error) {
	if extras == nil {
		return nil, nil
	}
	b, err := json.Marshal(extras)
	if err != nil {
		return nil, fmt.Errorf("extras: %w", err)
	}
	return string(b), nil
}

func decodeExtras(s sql.NullString) (map[string]any, error) {
	if !s.Valid {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s.String), &m); err != nil {
		return nil, fmt.Errorf("extras: %w", err)
	}
	return m, nil
}
