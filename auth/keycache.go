package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/heraldrt/herald"
)

// KeyEntry is a cached key with the app that owns it.
type KeyEntry struct {
	Key *herald.Key
	App *herald.App
	// Capability is the key's capability, parsed and compiled once when the
	// key is loaded. A stored capability that no longer parses compiles to
	// nil, which grants nothing (deny by default).
	Capability *Capability

	macs   *macPool // signs and verifies the key's Ably tokens
	secret []byte   // the secret's bytes, the HS256 key of the key's JWTs

	// The previous secret's MAC pool and bytes, set when the key was rotated
	// (Key.PreviousSecret) and used only while Key.PreviousSecretValid.
	prevMACs   *macPool
	prevSecret []byte
}

func newKeyEntry(k *herald.Key, app *herald.App, logger *slog.Logger) *KeyEntry {
	c, err := ParseCapability(k.Capability)
	if err != nil {
		logger.Warn("stored key capability does not parse; the key grants nothing", "key", k.KeyName(), "err", err)
		c = nil
	}
	e := &KeyEntry{Key: k, App: app, Capability: c, macs: newMACPool(tokenKey(k.Secret)), secret: []byte(k.Secret)}
	if k.PreviousSecret != "" {
		e.prevMACs, e.prevSecret = newMACPool(tokenKey(k.PreviousSecret)), []byte(k.PreviousSecret)
	}
	return e
}

// KeyCacheStore is what the cache reads.
type KeyCacheStore interface {
	herald.AppStore
	herald.KeyStore
}

// KeyCacheConfig configures a KeyCache.
type KeyCacheConfig struct {
	// PollInterval is how often the store's generation is checked for writes
	// made by other processes (the CLI, other nodes). Default 1s.
	PollInterval time.Duration
	Logger       *slog.Logger
	// OnReload, if set, runs after every reload (e.g. to close connections
	// of keys that were revoked meanwhile). It must not call Load.
	OnReload func()
}

// KeyCache answers key lookups by keyName from memory, so verifying a
// credential needs no store round trip. Writes made through this process call
// Invalidate; writes made elsewhere are noticed by polling the store's
// Generation, after which the whole cache is rebuilt. Unknown key names are
// cached as misses until the next generation change, so a flood of bad keys
// does not reach the store either.
type KeyCache struct {
	store  KeyCacheStore
	cfg    KeyCacheConfig
	logger *slog.Logger

	mu      sync.RWMutex
	gen     int64
	entries map[string]*KeyEntry // nil value = known miss

	reloadMu sync.Mutex // serialises reloads
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
}

// NewKeyCache returns an empty cache; Load or Start fills it.
func NewKeyCache(store KeyCacheStore, cfg KeyCacheConfig) *KeyCache {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &KeyCache{store: store, cfg: cfg, logger: logger, entries: map[string]*KeyEntry{}, gen: -1}
}

// Start loads every key and starts the generation poller.
func (c *KeyCache) Start(ctx context.Context) error {
	if err := c.Load(ctx); err != nil {
		return err
	}
	c.stop, c.done = make(chan struct{}), make(chan struct{})
	go c.poll()
	return nil
}

// Close stops the poller and waits for it. It is idempotent.
func (c *KeyCache) Close() {
	c.once.Do(func() {
		if c.stop != nil {
			close(c.stop)
			<-c.done
		}
	})
}

func (c *KeyCache) poll() {
	defer close(c.done)
	t := time.NewTicker(c.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			gen, err := c.store.Generation(ctx)
			if err == nil {
				c.mu.RLock()
				changed := gen != c.gen
				c.mu.RUnlock()
				if changed {
					err = c.Load(ctx)
				}
			}
			cancel()
			if err != nil {
				c.logger.Warn("key cache refresh failed", "err", err)
			}
		}
	}
}

// Load rebuilds the cache from the store, then runs OnReload.
func (c *KeyCache) Load(ctx context.Context) error {
	if err := c.load(ctx); err != nil {
		return err
	}
	if c.cfg.OnReload != nil {
		c.cfg.OnReload()
	}
	return nil
}

func (c *KeyCache) load(ctx context.Context) error {
	c.reloadMu.Lock()
	defer c.reloadMu.Unlock()
	gen, err := c.store.Generation(ctx)
	if err != nil {
		return fmt.Errorf("auth: key cache: %w", err)
	}
	apps, err := c.store.Apps(ctx)
	if err != nil {
		return fmt.Errorf("auth: key cache: %w", err)
	}
	byID := make(map[string]*herald.App, len(apps))
	for _, a := range apps {
		byID[a.ID] = a
	}
	keys, err := c.store.Keys(ctx, "")
	if err != nil {
		return fmt.Errorf("auth: key cache: %w", err)
	}
	entries := make(map[string]*KeyEntry, len(keys))
	for _, k := range keys {
		if app := byID[k.AppID]; app != nil {
			entries[k.KeyName()] = newKeyEntry(k, app, c.logger)
		}
	}
	c.mu.Lock()
	c.entries, c.gen = entries, gen
	c.mu.Unlock()
	return nil
}

// Invalidate reloads the cache now; callers that wrote keys or apps through
// this process call it so their change is visible at once.
func (c *KeyCache) Invalidate(ctx context.Context) error { return c.Load(ctx) }

// Lookup returns the entry for keyName, or an error wrapping
// herald.ErrNotFound. The returned entry must not be modified.
func (c *KeyCache) Lookup(ctx context.Context, keyName string) (*KeyEntry, error) {
	c.mu.RLock()
	e, ok := c.entries[keyName]
	c.mu.RUnlock()
	if ok {
		if e == nil {
			return nil, herald.ErrNotFound
		}
		return e, nil
	}
	// Not seen since the last load: ask the store once, then remember the
	// answer (hit or miss) until the generation changes.
	k, err := c.store.Key(ctx, keyName)
	if errors.Is(err, herald.ErrNotFound) {
		c.remember(keyName, nil)
		return nil, herald.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	app, err := c.store.App(ctx, k.AppID)
	if errors.Is(err, herald.ErrNotFound) {
		c.remember(keyName, nil)
		return nil, herald.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	e = newKeyEntry(k, app, c.logger)
	c.remember(keyName, e)
	return e, nil
}

// peek returns the cached entry for keyName, or nil when it is unknown or
// not loaded; it never reads the store.
func (c *KeyCache) peek(keyName string) *KeyEntry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.entries[keyName]
}

// maxMisses bounds how many unknown key names are remembered between loads.
const maxMisses = 100_000

func (c *KeyCache) remember(keyName string, e *KeyEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e == nil && len(c.entries) > maxMisses {
		return
	}
	c.entries[keyName] = e
}
