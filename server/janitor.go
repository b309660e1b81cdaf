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
// longest revocable token lifetime, and persisted-token records that have
// expired. Both tables stay bounded by it.
type janitor struct {
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

const janitorInterval = time.Minute

func newJanitor(store herald.Store, a *auth.Authenticator, clock herald.Clock, logger *slog.Logger) *janitor {
	j := &janitor{stop: make(chan struct{}), done: make(chan struct{})}
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
				now := clock.Now()
				a.Revocations().Prune(now)
				if _, err := store.DeleteExpiredRevocations(ctx, now); err != nil {
					logger.Warn("janitor: revocations", "err", err)
				}
				if _, err := store.DeleteExpiredTokens(ctx, now); err != nil {
					logger.Warn("janitor: tokens", "err", err)
				}
				cancel()
			}
		}
	}()
	return j
}

func (j *janitor) close() {
	j.once.Do(func() { close(j.stop); <-j.done })
}
