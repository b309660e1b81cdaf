package server

import (
	"context"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// metaAccountID names the installation's account id in the store's meta.
const metaAccountID = "account_id"

// EnsureAccount returns the installation's account id, creating it once.
func EnsureAccount(ctx context.Context, store herald.Store) (string, error) {
	id, err := store.Meta(ctx, metaAccountID)
	if err != nil || id != "" {
		return id, err
	}
	id = auth.RandomID(8)
	return id, store.SetMeta(ctx, metaAccountID, id)
}

// bootstrap creates a default app with a root key (capability {"*":["*"]})
// when the store has no app at all, so a newcomer can connect at once.
func bootstrap(ctx context.Context, store herald.Store, accountID string, clock herald.Clock) (*Bootstrap, error) {
	apps, err := store.Apps(ctx)
	if err != nil || len(apps) > 0 {
		return nil, err
	}
	app, key, err := CreateApp(ctx, store, accountID, "default", clock)
	if err != nil {
		return nil, err
	}
	return &Bootstrap{App: app, Key: key}, nil
}

// CreateApp creates an app with one root key in one transaction.
func CreateApp(ctx context.Context, store herald.Store, accountID, name string, clock herald.Clock) (*herald.App, *herald.Key, error) {
	now := clock.Now()
	app := &herald.App{ID: auth.NewAppID(), AccountID: accountID, Name: name, Status: herald.AppEnabled, Created: now, Modified: now}
	key := &herald.Key{
		AppID: app.ID, ID: auth.NewKeyID(), Secret: auth.NewSecret(), Name: "Root",
		Capability: herald.DefaultCapability, Status: herald.KeyEnabled, Created: now, Modified: now,
	}
	if err := store.Provision(ctx, &herald.Provisioning{App: app, Keys: []*herald.Key{key}}); err != nil {
		return nil, nil, err
	}
	return app, key, nil
}
