package loadgen

import (
	"context"
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

	var lat Histogram
	var revokedAt atomic.Int64 // unix ns when the request was sent; 0 before
	var got40141, gotOther atomic.Int64
	var over atomic.Bool // the wait is over: later read errors are ours
	remaining := make(chan struct{}, live)
	var wg sync.WaitGroup
	for _, c := range conns {
		if c == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { remaining <- struct{}{} }()
			err := waitDisconnected(c, time.Now().Add(cfg.Wait+time.Minute))
			if over.Load() {
				return
			}
			at := revokedAt.Load()
			var he *herald.Error
			switch {
			case at == 0:
				errs.AddErr(fmt.Errorf("before revocation: %w", err))
				gotOther.Add(1)
			case asHeraldError(err, &he) && he.Code == herald.CodeTokenRevoked:
				lat.Record(time.Duration(time.Now().UnixNano() - at))
				got40141.Add(1)
			default:
				errs.AddErr(err)
				gotOther.Add(1)
			}
		}()
	}
	if err := e.Profiler.StartCPU(ctx); err != nil {
		return nil, err
	}
	sp := e.begin()
	start := time.Now()
	revokedAt.Store(start.UnixNano())
	rerr := e.REST().RevokeTokens(ctx, e.Keys.RevocableKey, []string{"clientId:" + clientID})
	httpDur := time.Since(start)
	if rerr != nil {
		errs.AddErr(rerr)
	}
	stop := e.progress("revoke", func() string {
		return fmt.Sprintf("%d/%d disconnected with 40141", got40141.Load(), live)
	})
	deadline := time.After(cfg.Wait)
	done := 0
wait:
	for done < live {
		select {
		case <-remaining:
			done++
		case <-deadline:
			break wait
		case <-ctx.Done():
			break wait
		}
	}
	all := time.Since(start)
	over.Store(true)
	stop()
	cost := sp.end()
	if err := e.Profiler.StopCPU(ctx, "revoke"); err != nil {
		return nil, err
	}
	notified := got40141.Load()
	errs.AddN("not-disconnected", int64(live-done))
	res.Add("connected", float64(live), "conns")
	res.Add("failed", float64(cfg.N-live), "conns")
	res.Add("revoke_request", float64(httpDur)/float64(time.Millisecond), "ms")
	res.Add("disconnected_40141", float64(notified), "conns")
	res.Add("all_disconnected", float64(all)/float64(time.Millisecond), "ms")
	res.addLatency("disconnected", &lat)
	res.addServer(cost, "conn", float64(live))
	for _, c := range conns {
		if c != nil {
			c.Abort()
		}
	}
	wg.Wait()
	res.Errors = errs.Snapshot()
	return res, nil
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

func asHeraldError(err error, target **herald.Error) bool {
	he, ok := err.(*herald.Error)
	if ok {
		*target = he
	}
	return ok
}
