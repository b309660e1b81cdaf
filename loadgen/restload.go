package loadgen

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// RESTConfig runs each REST case with Concurrency workers until Requests
// requests were made or Duration passed, whichever comes first.
type RESTConfig struct {
	Concurrency int           // default 16
	Requests    int           // per case; default 100,000
	Duration    time.Duration // per case; default 5 s
	// Cases to run; default all: publish-basic, publish-token, requestToken.
	Cases []string
}

// REST cases.
const (
	CasePublishBasic = "publish-basic"
	CasePublishToken = "publish-token"
	CaseRequestToken = "requestToken"
)

// RESTLoad measures REST publish (Basic and token auth) and requestToken
// rates. It returns one result per case.
func (e *Env) RESTLoad(ctx context.Context, cfg RESTConfig) ([]*Result, error) {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	if cfg.Requests <= 0 {
		cfg.Requests = 100_000
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 5 * time.Second
	}
	if len(cfg.Cases) == 0 {
		cfg.Cases = []string{CasePublishBasic, CasePublishToken, CaseRequestToken}
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout())
	defer cancel()
	rest := NewREST(e.Base, cfg.Concurrency)
	keyName, _, _ := splitKey(e.Keys.Key)
	payload := AppendMarker(nil, 0, 0, 100)
	var out []*Result
	for _, name := range cfg.Cases {
		var op func(ctx context.Context, i int) error
		switch name {
		case CasePublishBasic:
			authz := BasicAuth(e.Keys.Key)
			op = func(ctx context.Context, i int) error {
				return rest.Publish(ctx, authz, "bench-rest-"+strconv.Itoa(i%100), e.Format, payload)
			}
		case CasePublishToken:
			tok, err := rest.RequestToken(ctx, e.Keys.Key, "", time.Hour)
			if err != nil {
				return nil, err
			}
			authz := BearerAuth(tok)
			op = func(ctx context.Context, i int) error {
				return rest.Publish(ctx, authz, "bench-rest-"+strconv.Itoa(i%100), e.Format, payload)
			}
		case CaseRequestToken:
			op = func(ctx context.Context, i int) error {
				_, err := rest.RequestToken(ctx, e.Keys.Key, "", time.Hour)
				return err
			}
		default:
			return nil, fmt.Errorf("loadgen: unknown REST case %q", name)
		}
		res := newResult("rest", map[string]string{
			"case": name, "concurrency": strconv.Itoa(cfg.Concurrency), "format": e.Format.String(), "key": keyName,
		})
		res.Label = "rest-" + name
		e.runREST(ctx, name, cfg, op, res)
		out = append(out, res)
	}
	return out, nil
}

func (e *Env) runREST(ctx context.Context, name string, cfg RESTConfig, op func(context.Context, int) error, res *Result) {
	var lat Histogram
	var errs ErrorCounts
	var next, done atomic.Int64
	deadline := time.Now().Add(cfg.Duration)
	stop := e.progress("rest "+name, func() string { return fmt.Sprintf("%d requests", done.Load()) })
	_ = e.Profiler.StartCPU(ctx)
	sp := e.begin()
	start := time.Now()
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(deadline) {
				i := int(next.Add(1) - 1)
				if i >= cfg.Requests {
					return
				}
				t := time.Now()
				if err := op(ctx, i); err != nil {
					errs.AddErr(err)
				} else {
					lat.Record(time.Since(t))
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	cost := sp.end()
	_ = e.Profiler.StopCPU(ctx, "rest-"+name)
	stop()
	n := done.Load()
	res.Add("requests", float64(n), "reqs")
	res.Add("failed", float64(errs.Total()), "reqs")
	res.Add("wall", wall.Seconds(), "s")
	res.Add("rate", float64(n)/wall.Seconds(), "reqs/s")
	res.addLatency("latency", &lat)
	res.addServer(cost, "request", float64(n))
	res.Errors = errs.Snapshot()
}
