package loadgen

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/protocol"
)

// RevokeConfig is N live connections on revocable tokens (Env.Auth token
// or jwt, issued with the revocable key for one clientId), then one
// revokeTokens call for that clientId.
type RevokeConfig struct {
	N        int
	Channels int // default 100
	// Wait bounds the time to wait for every DISCONNECTED. Default 30 s.
	Wait time.Duration
}

// Revoke reports the time from the revokeTokens request until every
// connection got DISCONNECTED with 40141 (RSA17, ably-auth §6.3).
func (e *Env) Revoke(ctx context.Context, cfg RevokeConfig) (*Result, error) {
	if cfg.Channels <= 0 {
		cfg.Channels = 100
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 30 * time.Second
	}
	mode := e.Auth
	if mode == AuthKey {
		mode = AuthToken // keys cannot be revoked this way; tokens can
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout())
	defer cancel()
	res := newResult("revoke", map[string]string{
		"n": strconv.Itoa(cfg.N), "channels": strconv.Itoa(cfg.Channels), "auth": mode, "format": e.Format.String(),
	})
	clientID := "bench-revoke-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	creds, err := PrepareCredentials(ctx, e.REST(), mode, e.Keys.RevocableKey, clientID, cfg.N)
	if err != nil {
		return nil, err
	}
	// Tokens are issued at millisecond precision; revocation covers tokens
	// issued at or before the request's time, so keep them strictly older.
	time.Sleep(5 * time.Millisecond)
	spec := dialSpec{creds: creds, channel: func(i int) string { return fmt.Sprintf("bench-revoke-%d", i%cfg.Channels) }}
	var errs ErrorCounts
	conns := e.openConns(ctx, "revoke", cfg.N, spec, nil, &errs)
	live := countLive(conns)

	w := &revokeWatch{remaining: make(chan struct{}, live)}
	w.start(conns, cfg.Wait+time.Minute, &errs)
	defer w.stop(conns)
	if err := e.Profiler.StartCPU(ctx); err != nil {
		return nil, err
	}
	sp := e.begin()
	start := time.Now()
	w.revokedAt.Store(start.UnixNano())
	rerr := e.REST().RevokeTokens(ctx, e.Keys.RevocableKey, []string{"clientId:" + clientID})
	httpDur := time.Since(start)
	if rerr != nil {
		errs.AddErr(rerr)
	}
	stop := e.progress("revoke", func() string {
		return fmt.Sprintf("%d/%d disconnected with 40141", w.got40141.Load(), live)
	})
	done := w.wait(ctx, live, cfg.Wait)
	all := time.Since(start)
	w.over.Store(true)
	stop()
	cost := sp.end()
	if err := e.Profiler.StopCPU(ctx, "revoke"); err != nil {
		return nil, err
	}
	errs.AddN("not-disconnected", int64(live-done))
	res.Add("connected", float64(live), "conns")
	res.Add("failed", float64(cfg.N-live), "conns")
	res.Add("revoke_request", float64(httpDur)/float64(time.Millisecond), "ms")
	res.Add("disconnected_40141", float64(w.got40141.Load()), "conns")
	res.Add("all_disconnected", float64(all)/float64(time.Millisecond), "ms")
	res.addLatency("disconnected", &w.lat)
	res.addServer(cost, "conn", float64(live))
	res.Errors = errs.Snapshot()
	return res, nil
}

// revokeWatch waits on every connection for its DISCONNECTED.
type revokeWatch struct {
	lat       Histogram     // revocation request → DISCONNECTED 40141
	revokedAt atomic.Int64  // unix ns when the request was sent; 0 before
	got40141  atomic.Int64  // connections that got DISCONNECTED 40141
	over      atomic.Bool   // the wait is over: later read errors are ours
	remaining chan struct{} // one per connection whose reader is done
	wg        sync.WaitGroup
}

// start runs one reader per connection until DISCONNECTED, ERROR or a read
// error; anything but 40141 after the revocation is counted in errs.
func (w *revokeWatch) start(conns []*Conn, bound time.Duration, errs *ErrorCounts) {
	for _, c := range conns {
		if c == nil {
			continue
		}
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			defer func() { w.remaining <- struct{}{} }()
			err := waitDisconnected(c, time.Now().Add(bound))
			if w.over.Load() {
				return
			}
			at := w.revokedAt.Load()
			var he *herald.Error
			switch {
			case at == 0:
				errs.AddErr(fmt.Errorf("before revocation: %w", err))
			case errors.As(err, &he) && he.Code == herald.CodeTokenRevoked:
				w.lat.Record(time.Duration(time.Now().UnixNano() - at))
				w.got40141.Add(1)
			default:
				errs.AddErr(err)
			}
		}()
	}
}

// wait returns how many of live readers finished within bound.
func (w *revokeWatch) wait(ctx context.Context, live int, bound time.Duration) int {
	deadline := time.NewTimer(bound)
	defer deadline.Stop()
	done := 0
	for done < live {
		select {
		case <-w.remaining:
			done++
		case <-deadline.C:
			return done
		case <-ctx.Done():
			return done
		}
	}
	return done
}

// stop closes every socket and waits for the readers.
func (w *revokeWatch) stop(conns []*Conn) {
	w.over.Store(true)
	for _, c := range conns {
		if c != nil {
			c.Abort()
		}
	}
	w.wg.Wait()
}

// waitDisconnected reads until DISCONNECTED or ERROR and returns its error
// (heartbeats and other frames are skipped).
func waitDisconnected(c *Conn, deadline time.Time) error {
	for {
		pm, err := c.Read(deadline)
		if err != nil {
			return err
		}
		switch pm.Action {
		case protocol.ActionDisconnected, protocol.ActionError:
			if pm.Error == nil {
				return fmt.Errorf("loadgen: %s without error", pm.Action)
			}
			return pm.Error
		}
	}
}
