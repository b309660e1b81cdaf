package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/heraldrt/herald"
)

// Provision stores p's app, keys, namespaces and channel fixtures in one
// transaction; on any error (a duplicate app, key, namespace or channel wraps
// herald.ErrConflict) nothing is stored. Children whose AppID is empty get
// p.App.ID, written back to them; a child of another app is an error. Zero
// times are set from the clock as CreateApp and CreateKey do.
func (s *DB) Provision(ctx context.Context, p *herald.Provisioning) error {
	if p == nil || p.App == nil {
		return errors.New("sqlitestore: provision: no app")
	}
	appID := p.App.ID
	if err := adopt(p); err != nil {
		return fmt.Errorf("sqlitestore: provision %q: %w", appID, err)
	}
	s.stamp(&p.App.Created, &p.App.Modified)
	for _, k := range p.Keys {
		s.stamp(&k.Created, &k.Modified)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := insertApp(ctx, tx, p.App); err != nil {
			return err
		}
		for _, k := range p.Keys {
			if err := insertKey(ctx, tx, k); err != nil {
				return err
			}
		}
		for _, ns := range p.Namespaces {
			_, err := tx.ExecContext(ctx, `
				INSERT INTO namespaces (app_id, id, persisted, push_enabled, mutable_messages, raw)
				VALUES (?, ?, ?, ?, ?, ?)`,
				ns.AppID, ns.ID, boolInt(ns.Persisted), boolInt(ns.PushEnabled), boolInt(ns.MutableMessages),
				string(ns.Raw))
			if err != nil {
				return childError(err, "namespace", ns.ID)
			}
		}
		for i, ch := range p.Channels {
			_, err := tx.ExecContext(ctx, `
				INSERT INTO channel_fixtures (app_id, name, raw, ordinal) VALUES (?, ?, ?, ?)`,
				ch.AppID, ch.Name, string(ch.Raw), i)
			if err != nil {
				return childError(err, "channel", ch.Name)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: provision %q: %w", appID, err)
	}
	return nil
}

// adopt gives p's children p.App.ID when they have none, and refuses children
// of another app: a provisioning request speaks for exactly one app.
func adopt(p *herald.Provisioning) error {
	id := p.App.ID
	check := func(appID *string, kind, name string) error {
		switch *appID {
		case "":
			*appID = id
		case id:
		default:
			return fmt.Errorf("%s %q belongs to app %q", kind, name, *appID)
		}
		return nil
	}
	for _, k := range p.Keys {
		if err := check(&k.AppID, "key", k.ID); err != nil {
			return err
		}
	}
	for _, ns := range p.Namespaces {
		if err := check(&ns.AppID, "namespace", ns.ID); err != nil {
			return err
		}
	}
	for _, ch := range p.Channels {
		if err := check(&ch.AppID, "channel", ch.Name); err != nil {
			return err
		}
	}
	return nil
}

// childError names the namespace or channel that failed to insert.
func childError(err error, kind, name string) error {
	if isDuplicate(err) {
		err = herald.ErrConflict
	}
	return fmt.Errorf("%s %q: %w", kind, name, err)
}

// Namespaces returns appID's namespaces in provisioning order; an unknown app
// has none.
func (s *DB) Namespaces(ctx context.Context, appID string) ([]*herald.Namespace, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT app_id, id, persisted, push_enabled, mutable_messages, raw
		FROM namespaces WHERE app_id = ? ORDER BY rowid`, appID)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: namespaces of %q: %w", appID, err)
	}
	defer rows.Close()
	var out []*herald.Namespace
	for rows.Next() {
		var ns herald.Namespace
		if err := rows.Scan(&ns.AppID, &ns.ID, &ns.Persisted, &ns.PushEnabled, &ns.MutableMessages, &ns.Raw); err != nil {
			return nil, fmt.Errorf("sqlitestore: namespaces of %q: %w", appID, err)
		}
		out = append(out, &ns)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: namespaces of %q: %w", appID, err)
	}
	return out, nil
}

// ChannelFixtures returns appID's channel fixtures in provisioning order; an
// unknown app has none.
func (s *DB) ChannelFixtures(ctx context.Context, appID string) ([]*herald.ChannelFixture, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT app_id, name, raw FROM channel_fixtures WHERE app_id = ? ORDER BY ordinal`, appID)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: channel fixtures of %q: %w", appID, err)
	}
	defer rows.Close()
	var out []*herald.ChannelFixture
	for rows.Next() {
		var ch herald.ChannelFixture
		if err := rows.Scan(&ch.AppID, &ch.Name, &ch.Raw); err != nil {
			return nil, fmt.Errorf("sqlitestore: channel fixtures of %q: %w", appID, err)
		}
		out = append(out, &ch)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: channel fixtures of %q: %w", appID, err)
	}
	return out, nil
}
