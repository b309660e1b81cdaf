// Package stats counts per-app events (REST requests, later messages and
// connections) in memory and flushes them as per-minute counters to a
// herald.StatsStore, so that counting costs a map update on the request path
// and one store write per app and minute. It also shapes stored minutes into
// the Stats objects the Ably SDKs parse (spec TS12; ably-js v6 flattened
// `entries`, ably-go's older nested form).
package stats

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/heraldrt/herald"
)

// Metric names, in the flattened dotted form of Ably's stats schema.
const (
	APIRequestsSucceeded   = "apiRequests.all.succeeded"
	APIRequestsFailed      = "apiRequests.all.failed"
	APIRequestsRefused     = "apiRequests.all.refused"
	TokenRequestsSucceeded = "apiRequests.tokenRequests.succeeded"
	TokenRequestsFailed    = "apiRequests.tokenRequests.failed"
	TokenRequestsRefused   = "apiRequests.tokenRequests.refused"
)

// Config configures a Recorder.
type Config struct {
	// FlushInterval is how often pending counts are written. Default 5s.
	FlushInterval time.Duration
	Logger        *slog.Logger
}

type bucket struct {
	app    string
	minute int64 // unix ms of the minute start
}

// Recorder accumulates counts and flushes them to a StatsStore.
type Recorder struct {
	store  herald.StatsStore
	clock  herald.Clock
	cfg    Config
	logger *slog.Logger

	mu      sync.Mutex
	pending map[bucket]map[string]int64

	flushMu sync.Mutex
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// New returns a Recorder; Start begins periodic flushing.
func New(cfg Config, store herald.StatsStore, clock herald.Clock) *Recorder {
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 5 * time.Second
	}
	if clock == nil {
		clock = herald.SystemClock{}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Recorder{store: store, clock: clock, cfg: cfg, logger: logger, pending: map[bucket]map[string]int64{}}
}

// Incr adds n to metric name of appID in the current minute.
func (r *Recorder) Incr(appID, name string, n int64) {
	if appID == "" || n == 0 {
		return
	}
	b := bucket{app: appID, minute: r.clock.Now().UTC().Truncate(time.Minute).UnixMilli()}
	r.mu.Lock()
	m := r.pending[b]
	if m == nil {
		m = map[string]int64{}
		r.pending[b] = m
	}
	m[name] += n
	r.mu.Unlock()
}

// Start starts the periodic flusher.
func (r *Recorder) Start() {
	r.stop, r.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(r.done)
		t := time.NewTicker(r.cfg.FlushInterval)
		defer t.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				if err := r.Flush(ctx); err != nil {
					r.logger.Warn("stats flush failed", "err", err)
				}
				cancel()
			}
		}
	}()
}

// Close stops the flusher and writes what is pending. Idempotent.
func (r *Recorder) Close(ctx context.Context) error {
	r.once.Do(func() {
		if r.stop != nil {
			close(r.stop)
			<-r.done
		}
	})
	return r.Flush(ctx)
}

// Flush writes pending counts. Counts that fail to write are put back so a
// transient store error loses nothing, except counts of an app that no
// longer exists (ErrNotFound), which could never be written and are dropped.
func (r *Recorder) Flush(ctx context.Context) error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.mu.Lock()
	pending := r.pending
	r.pending = map[bucket]map[string]int64{}
	r.mu.Unlock()
	var firstErr error
	for b, entries := range pending {
		if err := r.store.AddStats(ctx, b.app, time.UnixMilli(b.minute), entries); err != nil {
			if errors.Is(err, herald.ErrNotFound) {
				r.logger.Debug("dropping stats of a deleted app", "app", b.app)
				continue
			}
			if firstErr == nil {
				firstErr = err
			}
			r.mu.Lock()
			m := r.pending[b]
			if m == nil {
				m = map[string]int64{}
				r.pending[b] = m
			}
			for k, v := range entries {
				m[k] += v
			}
			r.mu.Unlock()
		}
	}
	return firstErr
}

// Forget drops pending counts of appID (called when the app is deleted).
func (r *Recorder) Forget(appID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for b := range r.pending {
		if b.app == appID {
			delete(r.pending, b)
		}
	}
}

// Message and connection metric names.
const (
	MessagesPublished  = "messages.inbound.all.messages.count"
	MessagesDelivered  = "messages.outbound.all.messages.count"
	PresencePublished  = "messages.inbound.all.presence.count"
	ConnectionsOpened  = "connections.all.opened"
	ConnectionsRefused = "connections.all.refused"
	ChannelsOpened     = "channels.opened"
)
