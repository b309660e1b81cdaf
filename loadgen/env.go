package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldrt/herald/protocol"
)

// Env is what every scenario needs: the server, the credentials and the
// limits that keep a run bounded.
type Env struct {
	// Base is the server's base URL, http://127.0.0.1:PORT (loopback only).
	Base string
	// Format is the realtime wire format of every connection.
	Format protocol.Format
	// Auth is how realtime connections authenticate: key, token or jwt.
	Auth string
	// Keys are the app's keys (Provision creates them).
	Keys Keys
	// Probe samples the server process; zero PID = no server figures.
	Probe Probe
	// Dialers bounds concurrent connection attempts. Default 64.
	Dialers int
	// SourceIPs > 1 spreads connections over 127.0.0.2.. source addresses.
	SourceIPs int
	// Timeout bounds each scenario, setup included. Default 3 minutes.
	Timeout time.Duration
	// Progress receives a progress line every 2 s of long phases (stderr);
	// nil is quiet.
	Progress io.Writer
	// Profiler, when set, records server CPU profiles over each measured
	// phase (only against `herald-bench serve --pprof`).
	Profiler *Profiler
	// Verify decodes every delivered frame fully and checks it, instead of
	// only scanning it for the payload marker (smoke mode).
	Verify bool

	restOnce sync.Once
	rest     *REST
}

// REST returns the env's REST client.
func (e *Env) REST() *REST {
	e.restOnce.Do(func() { e.rest = NewREST(e.Base, 64) })
	return e.rest
}

func (e *Env) dialers() int {
	if e.Dialers <= 0 {
		return 64
	}
	return e.Dialers
}

func (e *Env) timeout() time.Duration {
	if e.Timeout <= 0 {
		return 3 * time.Minute
	}
	return e.Timeout
}

func (e *Env) dialer() *Dialer { return NewDialer(e.Base, e.Format, e.SourceIPs) }

// progress prints line() every 2 s until the returned stop is called.
func (e *Env) progress(scenario string, line func() string) (stop func()) {
	if e.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(e.Progress, "%s %s: %s\n", time.Now().Format("15:04:05"), scenario, line())
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// span measures the server over one phase.
type span struct {
	probe Probe
	start Sample
	ok    bool
}

func (e *Env) begin() *span {
	s, ok, err := e.Probe.Sample()
	if err != nil && e.Progress != nil {
		fmt.Fprintf(e.Progress, "server probe: %v\n", err)
	}
	return &span{probe: e.Probe, start: s, ok: ok}
}

// end returns the server CPU used since begin and the RSS now.
func (s *span) end() serverCost {
	if !s.ok {
		return serverCost{}
	}
	now, ok, err := s.probe.Sample()
	if err != nil || !ok {
		return serverCost{}
	}
	return serverCost{cpu: now.CPU - s.start.CPU, sys: now.Sys - s.start.Sys, rss: now.RSS, ok: true}
}

// serverCost is what the server spent over a phase.
type serverCost struct {
	cpu, sys time.Duration
	rss      int64
	ok       bool
}

// dialSpec says how connection i connects and what it attaches to.
type dialSpec struct {
	creds   *Credentials
	channel func(i int) string // "" = no attach
	modes   protocol.Flag
	extra   url.Values // more query parameters (echo=false)
}

// openConns opens n connections with at most e.Dialers in flight. Each
// dials, waits for CONNECTED and attaches; the time from dial to ATTACHED
// (or CONNECTED without a channel) goes into lat. Failed slots are nil and
// counted in errs by Ably code or kind.
func (e *Env) openConns(ctx context.Context, scenario string, n int, spec dialSpec, lat *Histogram, errs *ErrorCounts) []*Conn {
	conns := make([]*Conn, n)
	d := e.dialer()
	var next, okN, failN atomic.Int64
	stop := e.progress(scenario, func() string {
		return fmt.Sprintf("%d/%d connected, %d failed", okN.Load(), n, failN.Load())
	})
	defer stop()
	var wg sync.WaitGroup
	for range min(e.dialers(), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				c, err := e.openOne(ctx, d, i, spec, lat)
				if err != nil {
					errs.AddErr(err)
					failN.Add(1)
					continue
				}
				conns[i] = c
				okN.Add(1)
			}
		}()
	}
	wg.Wait()
	return conns
}

func (e *Env) openOne(ctx context.Context, d *Dialer, i int, spec dialSpec, lat *Histogram) (*Conn, error) {
	q := url.Values{}
	for k, v := range spec.extra {
		q[k] = v
	}
	spec.creds.Set(q, i)
	start := time.Now()
	dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	c, err := d.Dial(dctx, q)
	if err != nil {
		return nil, err
	}
	if spec.channel != nil {
		if err := c.Attach(time.Now().Add(20*time.Second), spec.channel(i), spec.modes); err != nil {
			c.Abort()
			return nil, err
		}
	}
	if lat != nil {
		lat.Record(time.Since(start))
	}
	return c, nil
}

// closeConns closes every connection with CLOSE, e.Dialers at a time, when
// nobody else reads them.
func (e *Env) closeConns(conns []*Conn) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(e.dialers(), len(conns)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(conns) {
					return
				}
				if conns[i] != nil {
					conns[i].Close()
				}
			}
		}()
	}
	wg.Wait()
}

func countLive(conns []*Conn) int {
	n := 0
	for _, c := range conns {
		if c != nil {
			n++
		}
	}
	return n
}

// addServer adds the server-side figures of a phase, when the probe has a
// PID: CPU in total, its kernel share, CPU per unit (µs) and RSS.
func (r *Result) addServer(c serverCost, perName string, units float64) {
	if !c.ok {
		return
	}
	r.Add("server_cpu", float64(c.cpu)/float64(time.Millisecond), "ms")
	if c.cpu > 0 {
		r.Add("server_cpu_sys_share", 100*float64(c.sys)/float64(c.cpu), "%")
	}
	if units > 0 {
		r.Add("server_cpu_per_"+perName, float64(c.cpu)/float64(time.Microsecond)/units, "µs")
	}
	r.Add("server_rss", float64(c.rss)/(1<<20), "MiB")
}

// Profiler drives the CPU profiler of `herald-bench serve --pprof`.
type Profiler struct {
	// URL is the pprof listener, e.g. http://127.0.0.1:6060.
	URL string
	// Prefix is prepended to profile file names (a directory and a stem).
	Prefix string
}

// StartCPU starts a server CPU profile; nil-safe.
func (p *Profiler) StartCPU(ctx context.Context) error {
	if p == nil {
		return nil
	}
	_, err := p.call(ctx, http.MethodPost, "/bench/cpu/start")
	return err
}

// StopCPU stops the profile and writes it to Prefix-name-cpu.pprof.
func (p *Profiler) StopCPU(ctx context.Context, name string) error {
	if p == nil {
		return nil
	}
	b, err := p.call(ctx, http.MethodPost, "/bench/cpu/stop")
	if err != nil {
		return err
	}
	return os.WriteFile(p.Prefix+name+"-cpu.pprof", b, 0o644)
}

// Heap writes the server's heap profile (after a GC) to Prefix-name-heap.pprof.
func (p *Profiler) Heap(ctx context.Context, name string) error {
	if p == nil {
		return nil
	}
	b, err := p.call(ctx, http.MethodGet, "/debug/pprof/heap?gc=1")
	if err != nil {
		return err
	}
	return os.WriteFile(p.Prefix+name+"-heap.pprof", b, 0o644)
}

func (p *Profiler) call(ctx context.Context, method, path string) ([]byte, error) {
	if err := CheckLoopback(p.URL); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, p.URL+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, resp.Body); err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("loadgen: profiler %s: %s %s", path, resp.Status, buf.String())
	}
	return buf.Bytes(), nil
}
