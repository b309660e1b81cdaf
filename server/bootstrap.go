package server

import (
	"context"
	"encoding/json"
	"time"

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
	details, _ := json.Marshal(map[string]any{"name": app.Name, "status": app.Status, "rootKey": key.KeyName()})
	if err := store.AppendAudit(ctx, &herald.AuditEntry{Time: app.Created, AppID: app.ID, Kind: herald.AuditAppCreate,
		Actor: "server", Target: app.ID, Details: string(details)}); err != nil {
		return nil, err
	}
	return &Bootstrap{App: app, Key: key}, nil
}

// bootstrapAccessToken creates an access token with every capability when
// the store has none at all (revoked ones count), so that the first start
// prints one and the Control API is usable at once. The token string is
// returned to be shown once; only its hash is stored.
func bootstrapAccessToken(ctx context.Context, store herald.Store, accountID string, clock herald.Clock) (string, error) {
	toks, err := store.AccessTokens(ctx)
	if err != nil || len(toks) > 0 {
		return "", err
	}
	token, _, err := CreateAccessToken(ctx, store, accountID, "Bootstrap", herald.AccessTokenCapabilities, time.Time{}, "server", clock)
	return token, err
}

// CreateAccessToken creates an account access token, records it in the
// audit log as done by actor, and returns the token string (to be shown
// once) with its record. A zero expires never expires.
func CreateAccessToken(ctx context.Context, store herald.Store, accountID, name string, capabilities []string,
	expires time.Time, actor string, clock herald.Clock) (string, *herald.AccessToken, error) {
	if err := auth.ValidateAccessTokenCapabilities(capabilities); err != nil {
		return "", nil, err
	}
	now := clock.Now()
	token, rec := auth.NewAccessToken(accountID, name, capabilities, expires, now)
	if err := store.CreateAccessToken(ctx, rec); err != nil {
		return "", nil, err
	}
	details, _ := json.Marshal(map[string]any{"name": name, "capabilities": capabilities})
	if err := store.AppendAudit(ctx, &herald.AuditEntry{Time: now, Kind: herald.AuditAccessTokenCreate,
		Actor: actor, Target: rec.ID, Details: string(details)}); err != nil {
		return "", nil, err
	}
	return token, rec, nil
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
