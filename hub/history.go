package hub

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/heraldrt/herald"
)

// HistoryConfig sets how long history is kept.
type HistoryConfig struct {
	// Retention is how long messages are kept on ordinary channels.
	// Default 2 minutes, as Ably keeps history without persistence.
	Retention time.Duration
	// PersistedRetention applies to channels in namespaces flagged
	// persisted (e.g. by /apps provisioning). Default 24 h.
	PersistedRetention time.Duration
	// FlushInterval bounds how long a published message waits before it is
	// written. Default 5 ms; history reads flush first anyway.
	FlushInterval time.Duration
	// SweepInterval is how often expired history is deleted. Default 10 s.
	SweepInterval time.Duration
}

func (c HistoryConfig) withDefaults() HistoryConfig {
	if c.Retention <= 0 {
		c.Retention = 2 * time.Minute
	}
	if c.PersistedRetention <= 0 {
		c.PersistedRetention = 24 * time.Hour
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = 5 * time.Millisecond
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = 10 * time.Second
	}
	return c
}

// HistoryDeps is what the history writer needs from the store.
type HistoryDeps interface {
	herald.HistoryStore
	herald.AppStore
	Namespaces(ctx context.Context, appID string) ([]*herald.Namespace, error)
}

type histItem struct {
	app, channel string
	msgs         []*herald.Message
	serial       string
	presence     []*herald.PresenceMessage
}

// historyWriter batches history writes off the publish path: a publish is
// acknowledged once fanned out and queued, and the queue is written every
// few milliseconds in order. Readers call Flush so that a client always
// reads its own writes.
type historyWriter struct {
	store  HistoryDeps
	cfg    HistoryConfig
	clock  herald.Clock
	hub    *Hub
	mu     sync.Mutex
	queue  []histItem
	kick   chan struct{}
	flush  sync.Mutex
	stop   chan struct{}
	done   chan struct{}
	closed sync.Once
}

func (w *historyWriter) add(it histItem) {
	w.mu.Lock()
	w.queue = append(w.queue, it)
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

func (w *historyWriter) run() {
	defer close(w.done)
	sweep := time.NewTicker(w.cfg.SweepInterval)
	defer sweep.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-w.kick:
			time.Sleep(w.cfg.FlushInterval) // let a burst gather into one transaction
			w.Flush(context.Background())
		case <-sweep.C:
			w.sweep(context.Background())
		}
	}
}

// Flush writes everything queued. Writes for an app that no longer exists
// are dropped; other failures are logged and dropped too, since retrying
// forever would block every later write.
func (w *historyWriter) Flush(ctx context.Context) error {
	w.flush.Lock()
	defer w.flush.Unlock()
	w.mu.Lock()
	q := w.queue
	w.queue = nil
	w.mu.Unlock()
	var firstErr error
	for i := 0; i < len(q); i++ {
		it := q[i]
		var err error
		if it.msgs != nil {
			// Consecutive publishes on one channel go in one transaction:
			// the store's batch path is several times cheaper per message.
			msgs := it.msgs
			for i+1 < len(q) && q[i+1].msgs != nil && q[i+1].app == it.app && q[i+1].channel == it.channel {
				i++
				msgs = append(msgs[:len(msgs):len(msgs)], q[i].msgs...)
			}
			err = w.store.AppendMessages(ctx, it.app, it.channel, msgs)
		} else {
			err = w.store.AppendPresence(ctx, it.app, it.channel, it.serial, it.presence)
		}
		if err != nil && !errors.Is(err, herald.ErrNotFound) {
			w.hub.logger.Error("history write failed", "app", it.app, "channel", it.channel, "err", err)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return firstErr
}

// sweep deletes history past its retention: persisted namespaces keep it
// for PersistedRetention, every other channel for Retention.
func (w *historyWriter) sweep(ctx context.Context) {
	apps, err := w.store.Apps(ctx)
	if err != nil {
		w.hub.logger.Warn("history sweep: list apps", "err", err)
		return
	}
	now := w.clock.Now()
	for _, app := range apps {
		nss, err := w.store.Namespaces(ctx, app.ID)
		if err != nil {
			continue
		}
		var persisted []string
		for _, ns := range nss {
			if ns.Persisted {
				persisted = append(persisted, ns.ID)
			}
		}
		if _, err := w.store.DeleteHistory(ctx, app.ID, now.Add(-w.cfg.Retention), herald.HistoryScope{Except: persisted}); err != nil {
			w.hub.logger.Warn("history sweep", "app", app.ID, "err", err)
		}
		if len(persisted) > 0 {
			if _, err := w.store.DeleteHistory(ctx, app.ID, now.Add(-w.cfg.PersistedRetention), herald.HistoryScope{Namespaces: persisted}); err != nil {
				w.hub.logger.Warn("history sweep (persisted)", "app", app.ID, "err", err)
			}
		}
	}
}

// Sweep runs one retention sweep now (tests and the CLI).
func (h *Hub) Sweep(ctx context.Context) {
	if h.history != nil {
		h.history.sweep(ctx)
	}
}

// FlushHistory writes queued history now; readers call it first.
func (h *Hub) FlushHistory(ctx context.Context) error {
	if h.history == nil {
		return nil
	}
	return h.history.Flush(ctx)
}

// Start starts the history writer. Without a history store it does nothing.
func (h *Hub) Start() {
	if h.history != nil {
		go h.history.run()
	}
}

// Close stops the history writer after writing what is queued.
func (h *Hub) Close(ctx context.Context) error {
	if h.history == nil {
		return nil
	}
	w := h.history
	w.closed.Do(func() { close(w.stop) })
	select {
	case <-w.done:
	case <-ctx.Done():
	}
	return w.Flush(ctx)
}
