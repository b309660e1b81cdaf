package loadgen

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// ConnectConfig is the connect storm: N connections, each authenticating
// with Env.Auth and attaching to one of Channels channels.
type ConnectConfig struct {
	N        int
	Channels int // default 100
}

// Connect runs the connect storm and reports connections/s, the time from
// dial to ATTACHED, failures by error code and the server's CPU per
// connect + auth + attach.
func (e *Env) Connect(ctx context.Context, cfg ConnectConfig) (*Result, error) {
	if cfg.Channels <= 0 {
		cfg.Channels = 100
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout())
	defer cancel()
	res := newResult("connect", map[string]string{
		"n": strconv.Itoa(cfg.N), "channels": strconv.Itoa(cfg.Channels), "auth": e.Auth,
		"format": e.Format.String(), "dialers": strconv.Itoa(e.dialers()),
	})
	creds, err := PrepareCredentials(ctx, e.REST(), e.Auth, e.Keys.Key, "", cfg.N)
	if err != nil {
		return nil, err
	}
	spec := dialSpec{creds: creds, channel: func(i int) string { return fmt.Sprintf("bench-connect-%d", i%cfg.Channels) }}
	var lat Histogram
	var errs ErrorCounts
	if err := e.Profiler.StartCPU(ctx); err != nil {
		return nil, err
	}
	sp := e.begin()
	start := time.Now()
	conns := e.openConns(ctx, "connect", cfg.N, spec, &lat, &errs)
	wall := time.Since(start)
	cost := sp.end()
	perr := e.Profiler.StopCPU(ctx, "connect")
	live := countLive(conns)
	res.Add("connected", float64(live), "conns")
	res.Add("failed", float64(cfg.N-live), "conns")
	res.Add("wall", wall.Seconds(), "s")
	res.Add("connect_rate", float64(live)/wall.Seconds(), "conns/s")
	res.addLatency("attached", &lat)
	res.addServer(cost, "conn", float64(live))
	e.closeConns(conns)
	res.Errors = errs.Snapshot()
	return res, perr
}
