package loadgen

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldrt/herald/protocol"
)

// IdleConfig holds N authenticated connections, each attached to one of
// Channels channels, silent for Hold.
type IdleConfig struct {
	N        int
	Channels int           // default 100
	Hold     time.Duration // default 20 s: longer than the 15 s heartbeat interval
	// Settle is a pause before the baseline RSS reading. Default 1 s.
	Settle time.Duration
}

// idleConn tracks what one idle connection hears.
type idleConn struct {
	last       atomic.Int64 // unix ns of the last inbound frame
	maxGap     atomic.Int64 // ns
	heartbeats atomic.Int64
	dropped    atomic.Bool
}

func (s *idleConn) frame(now int64) {
	if gap := now - s.last.Swap(now); gap > s.maxGap.Load() {
		s.maxGap.Store(gap)
	}
}

// Idle reports the server's resident memory per idle connection (RSS
// after minus before, over N) and heartbeat health: every connection must
// hear from the server at least every maxIdleInterval (a HEARTBEAT when
// there is nothing else, RTN23a); ably-js gives up after maxIdleInterval +
// 10 s of silence.
func (e *Env) Idle(ctx context.Context, cfg IdleConfig) (*Result, error) {
	if cfg.Channels <= 0 {
		cfg.Channels = 100
	}
	if cfg.Hold <= 0 {
		cfg.Hold = 20 * time.Second
	}
	if cfg.Settle <= 0 {
		cfg.Settle = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout())
	defer cancel()
	res := newResult("idle", map[string]string{
		"n": strconv.Itoa(cfg.N), "channels": strconv.Itoa(cfg.Channels), "auth": e.Auth,
		"format": e.Format.String(), "hold": cfg.Hold.String(),
	})
	creds, err := PrepareCredentials(ctx, e.REST(), e.Auth, e.Keys.Key, "", cfg.N)
	if err != nil {
		return nil, err
	}
	time.Sleep(cfg.Settle)
	before, probed, err := e.Probe.Sample()
	if err != nil {
		return nil, err
	}
	spec := dialSpec{creds: creds, channel: func(i int) string { return fmt.Sprintf("bench-idle-%d", i%cfg.Channels) }}
	var errs ErrorCounts
	conns := e.openConns(ctx, "idle", cfg.N, spec, nil, &errs)
	live := countLive(conns)
	states, maxIdle, wait := e.watchIdle(conns, &errs)
	defer func() {
		for _, c := range conns {
			if c != nil {
				_ = c.RequestClose()
			}
		}
		wait()
	}()
	if err := e.Profiler.StartCPU(ctx); err != nil {
		return nil, err
	}
	sp := e.begin()
	stop := e.progress("idle", func() string {
		var hb, dropped int64
		for _, st := range states {
			if st != nil {
				hb += st.heartbeats.Load()
				if st.dropped.Load() {
					dropped++
				}
			}
		}
		return fmt.Sprintf("%d idle, %d heartbeats, %d dropped", live, hb, dropped)
	})
	select {
	case <-time.After(cfg.Hold):
	case <-ctx.Done():
	}
	stop()
	cost := sp.end()
	if err := e.Profiler.StopCPU(ctx, "idle"); err != nil {
		return nil, err
	}
	if err := e.Profiler.Heap(ctx, "idle"); err != nil {
		return nil, err
	}
	res.Add("connected", float64(live), "conns")
	res.Add("failed", float64(cfg.N-live), "conns")
	res.Add("hold", cfg.Hold.Seconds(), "s")
	res.Add("max_idle_interval", float64(maxIdle.Milliseconds()), "ms")
	if probed && cost.ok && live > 0 {
		res.Add("server_rss_before", float64(before.RSS)/(1<<20), "MiB")
		res.Add("server_rss_after", float64(cost.rss)/(1<<20), "MiB")
		res.Add("rss_per_conn", float64(cost.rss-before.RSS)/1024/float64(live), "KiB")
		res.Add("server_cpu_hold", float64(cost.cpu)/float64(time.Millisecond), "ms")
		res.Add("server_cpu_per_conn_per_s", float64(cost.cpu)/float64(time.Microsecond)/float64(live)/cfg.Hold.Seconds(), "µs")
	}
	e.idleHealth(res, states, maxIdle, &errs)
	res.Errors = errs.Snapshot()
	return res, nil
}

// watchIdle starts a reader per connection. It returns their states (nil
// for failed slots), the longest maxIdleInterval announced, and a wait for
// the readers to end once the connections close.
func (e *Env) watchIdle(conns []*Conn, errs *ErrorCounts) ([]*idleConn, time.Duration, func()) {
	states := make([]*idleConn, len(conns))
	var wg sync.WaitGroup
	var maxIdle time.Duration
	now := time.Now().UnixNano()
	for i, c := range conns {
		if c == nil {
			continue
		}
		maxIdle = max(maxIdle, c.MaxIdle)
		st := &idleConn{}
		st.last.Store(now)
		states[i] = st
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.idleReader(c, st, errs)
		}()
	}
	return states, maxIdle, wg.Wait
}

// idleReader reads an idle connection until it is closed, timing the gaps
// between inbound frames.
func (e *Env) idleReader(c *Conn, st *idleConn, errs *ErrorCounts) {
	defer c.Abort()
	for {
		pm, err := c.Read(time.Now().Add(max(c.MaxIdle, time.Second)*3 + 20*time.Second))
		if err != nil {
			if !c.Closing() {
				st.dropped.Store(true)
				errs.AddErr(err)
			}
			return
		}
		if c.Closing() {
			if pm.Action == protocol.ActionClosed {
				return
			}
			continue
		}
		st.frame(time.Now().UnixNano())
		switch pm.Action {
		case protocol.ActionHeartbeat:
			st.heartbeats.Add(1)
		case protocol.ActionDisconnected, protocol.ActionError:
			st.dropped.Store(true)
			if pm.Error != nil {
				errs.AddErr(pm.Error)
			} else {
				errs.Add(pm.Action.String())
			}
			return
		}
	}
}

// idleHealth adds the heartbeat figures. A connection is unhealthy when it
// dropped or went silent for longer than ably-js tolerates
// (maxIdleInterval + realtimeRequestTimeout of 10 s); late when a silence
// exceeded maxIdleInterval by more than a second.
func (e *Env) idleHealth(res *Result, states []*idleConn, maxIdle time.Duration, errs *ErrorCounts) {
	var gaps Histogram
	var hb, withHB, late, unhealthy, dropped int64
	now := time.Now().UnixNano()
	for _, st := range states {
		if st == nil {
			continue
		}
		st.frame(now) // the silence up to the end of the hold counts too
		gap := time.Duration(st.maxGap.Load())
		gaps.Record(gap)
		hb += st.heartbeats.Load()
		if st.heartbeats.Load() > 0 {
			withHB++
		}
		switch {
		case st.dropped.Load():
			dropped++
			unhealthy++
		case gap > maxIdle+10*time.Second:
			unhealthy++
		case gap > maxIdle+time.Second:
			late++
		}
	}
	res.Add("heartbeats", float64(hb), "frames")
	res.Add("conns_with_heartbeat", float64(withHB), "conns")
	res.Add("silence_p50", float64(gaps.Quantile(0.5))/float64(time.Millisecond), "ms")
	res.Add("silence_max", float64(gaps.Max())/float64(time.Millisecond), "ms")
	res.Add("late", float64(late), "conns")
	res.Add("unhealthy", float64(unhealthy), "conns")
	res.Add("dropped", float64(dropped), "conns")
	errs.AddN("unhealthy", unhealthy-dropped)
}
