package herald

import (
	"context"
	"time"
)

// AppStore keeps apps. Deleting an app removes everything it owns (keys,
// namespaces, fixtures, stats) in one transaction.
type AppStore interface {
	CreateApp(ctx context.Context, app *App) error
	// App returns the app with id, or an error wrapping ErrNotFound.
	App(ctx context.Context, id string) (*App, error)
	// Apps returns every app, oldest first.
	Apps(ctx context.Context) ([]*App, error)
	UpdateApp(ctx context.Context, app *App) error
	DeleteApp(ctx context.Context, id string) error
}

// KeyStore keeps API keys. Keys are never deleted through it: revoking sets
// Status to KeyRevoked so that audit and token checks can still see them.
type KeyStore interface {
	// CreateKey stores k; its app must exist (else ErrNotFound) and its name
	// must be new (else ErrConflict).
	CreateKey(ctx context.Context, k *Key) error
	// Key returns the key "appId.keyId", or an error wrapping ErrNotFound.
	Key(ctx context.Context, keyName string) (*Key, error)
	// Keys returns the keys of appID in creation order; appID "" means all apps.
	Keys(ctx context.Context, appID string) ([]*Key, error)
	// UpdateKey replaces the stored name, capability, revocableTokens, status,
	// secret, previous secret and its expiry, and modified time of k.
	UpdateKey(ctx context.Context, k *Key) error
	// Generation returns a number that changes whenever any app or key
	// changes, in this process or another one sharing the store, so that key
	// caches can notice writes made elsewhere (e.g. by the CLI) cheaply.
	Generation(ctx context.Context) (int64, error)
}

// Provisioning is everything POST /apps creates, written all or nothing.
type Provisioning struct {
	App        *App
	Keys       []*Key
	Namespaces []*Namespace
	Channels   []*ChannelFixture
}

// ProvisionStore writes and reads provisioned apps with their namespaces and
// channel fixtures.
type ProvisionStore interface {
	// Provision stores p in one transaction: on any error nothing is stored.
	Provision(ctx context.Context, p *Provisioning) error
	Namespaces(ctx context.Context, appID string) ([]*Namespace, error)
	ChannelFixtures(ctx context.Context, appID string) ([]*ChannelFixture, error)
}

// StatsStore keeps per-minute app counters. Counters are additive: AddStats
// adds each entry to the minute's stored value.
type StatsStore interface {
	// AddStats adds entries (metric name → delta) to appID's counters for the
	// minute that contains minute (truncated to the minute in UTC).
	AddStats(ctx context.Context, appID string, minute time.Time, entries map[string]int64) error
	// Stats returns appID's per-minute records with start <= minute <= end,
	// ordered by minute (ascending when forwards), at most limit of them.
	Stats(ctx context.Context, q StatsQuery) ([]StatsRecord, error)
}

// StatsQuery selects per-minute stats records.
type StatsQuery struct {
	AppID    string
	Start    time.Time // inclusive; zero = beginning of time
	End      time.Time // inclusive; zero = no upper bound
	Forwards bool
	Limit    int // <= 0 means no limit
}

// StatsRecord is one app's counters for one minute.
type StatsRecord struct {
	AppID   string
	Minute  time.Time // UTC, truncated to the minute
	Entries map[string]int64
}

// Store is everything a server needs from its persistent store. One adapter
// (sqlitestore.DB, pgstore.DB) satisfies all the roles.
//
// Behaviour every implementation shares (checked by storetest.Run): times
// come back truncated to the millisecond, in UTC; creating fills a zero
// Created/Modified from the store's clock; UpdateApp and UpdateKey keep ID
// and Created; Generation never returns to an earlier value and survives a
// restart; Keys, Namespaces and ChannelFixtures of an unknown app are empty
// lists while AddStats of one wraps ErrNotFound; Key of a malformed name is
// ErrNotFound; the store keeps a key's capability text as written (callers
// apply DefaultCapability); optional times (a key's PreviousExpires, an
// access token's Expires, LastUsed and Revoked) come back zero when zero.
type Store interface {
	AppStore
	KeyStore
	ProvisionStore
	StatsStore
	TokenStore
	HistoryStore
	RevocationStore
	KeyRotationStore
	AccessTokenStore
	AuditStore
	// Meta reads a string setting (e.g. the installation's account id);
	// missing settings return "" and no error.
	Meta(ctx context.Context, name string) (string, error)
	// SetMeta writes a string setting.
	SetMeta(ctx context.Context, name, value string) error
	Close() error
}
