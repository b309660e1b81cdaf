package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// janitor removes what can no longer matter: revocation rules past the
// longest revocable token lifetime, persisted-token records that have
// expired, audit entries past their retention, and the previous secrets of
// rotated keys whose overlap has ended. Every table it touches stays bounded
// by it.
type janitor struct {
	store  herald.Store
	auth   *auth.Authenticator
	clock  herald.Clock
	logger *slog.Logger
	audit  AuditConfig

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

const janitorInterval = time.Minute

func newJanitor(store herald.Store, a *auth.Authenticator, clock herald.Clock, logger *slog.Logger, audit AuditConfig) *janitor {
	j := &janitor{store: store, auth: a, clock: clock, logger: logger, audit: audit,
		stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(j.done)
		t := time.NewTicker(janitorInterval)
		defer t.Stop()
		for {
			select {
			case <-j.stop:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				j.sweep(ctx, clock.Now())
				cancel()
			}
		}
	}()
	return j
}

// sweep does one round of cleaning as of now.
func (j *janitor) sweep(ctx context.Context, now time.Time) {
	j.auth.Revocations().Prune(now)
	if _, err := j.store.DeleteExpiredRevocations(ctx, now); err != nil {
		j.logger.Warn("janitor: revocations", "err", err)
	}
	if _, err := j.store.DeleteExpiredTokens(ctx, now); err != nil {
		j.logger.Warn("janitor: tokens", "err", err)
	}
	if _, err := j.store.PruneAudit(ctx, now.Add(-j.audit.Retention), j.audit.MaxEntries); err != nil {
		j.logger.Warn("janitor: audit", "err", err)
	}
	if err := j.endRotations(ctx, now); err != nil {
		j.logger.Warn("janitor: key rotations", "err", err)
	}
}

// endRotations forgets the previous secrets whose overlap has ended. The
// secrets stopped working at the end of the window anyway; clearing them
// keeps no stale secret in the store, and the key cache reload it causes
// makes the realtime endpoint close connections still using one.
func (j *janitor) endRotations(ctx context.Context, now time.Time) error {
	n, err := j.store.EndKeyRotations(ctx, now)
	if err != nil || n == 0 {
		return err
	}
	return j.auth.Keys().Invalidate(ctx)
}

func (j *janitor) close() {
	j.once.Do(func() { close(j.stop); <-j.done })
}
