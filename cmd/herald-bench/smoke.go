package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/heraldrt/herald/loadgen"
	"github.com/heraldrt/herald/protocol"
	"github.com/heraldrt/herald/server"
	"github.com/spf13/cobra"
)

func newSmokeCmd(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "smoke",
		Short: "Run every scenario with tiny N against an in-process server; fail on any error or lost message (never on speed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := os.MkdirTemp("", "herald-bench-smoke-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			var progress io.Writer = os.Stderr
			if o.quiet {
				progress = nil
			}
			results, err := runSmoke(cmd.Context(), dir, progress)
			if perr := printResults(os.Stdout, results, o.json); perr != nil {
				return perr
			}
			return err
		},
	}
}

// smokeMaxIdle is the heartbeat interval of the smoke server: short, so
// that the idle scenario sees heartbeats within a second.
const smokeMaxIdle = 250 * time.Millisecond

// runSmoke starts Herald in-process on 127.0.0.1:0 and runs each scenario
// with a handful of connections and messages, in JSON and MessagePack. It
// returns every result and an error naming each failure, lost or
// duplicated message or unexpected figure. It checks correctness only.
func runSmoke(ctx context.Context, dataDir string, progress io.Writer) ([]*loadgen.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	srv, err := server.Open(ctx, server.Config{
		HTTP:     server.HTTPConfig{Listen: "127.0.0.1:0"},
		Store:    server.StoreConfig{DataDir: dataDir},
		Admin:    server.AdminConfig{Dev: true, NoBootstrap: true},
		Realtime: server.RealtimeConfig{MaxIdleInterval: smokeMaxIdle},
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, err
	}
	defer srv.Close(context.Background())
	base := "http://" + srv.Addr().String()
	var all []*loadgen.Result
	var failures []error
	check := func(label string, rs []*loadgen.Result, err error, want map[string]float64) {
		if err != nil {
			failures = append(failures, fmt.Errorf("%s: %w", label, err))
			return
		}
		for _, r := range rs {
			r.Label = label
			if len(rs) > 1 {
				r.Label = label + "-" + r.Params["case"]
			}
			all = append(all, r)
			if err := checkResults([]*loadgen.Result{r}); err != nil {
				failures = append(failures, err)
			}
			for name, v := range want {
				if got, ok := r.Get(name); !ok || got != v {
					failures = append(failures, fmt.Errorf("%s: %s = %v, want %v", r.Label, name, got, v))
				}
			}
		}
	}
	for _, f := range []protocol.Format{protocol.JSON, protocol.Msgpack} {
		newEnv := func(auth string) *loadgen.Env {
			e := &loadgen.Env{Base: base, Format: f, Auth: auth, Probe: loadgen.Probe{PID: os.Getpid()},
				Dialers: 4, Timeout: time.Minute, Verify: true, Progress: progress}
			e.Keys, err = e.REST().Provision(ctx)
			if err != nil {
				failures = append(failures, err)
			}
			return e
		}
		for _, auth := range []string{loadgen.AuthKey, loadgen.AuthToken, loadgen.AuthJWT} {
			e := newEnv(auth)
			r, err := e.Connect(ctx, loadgen.ConnectConfig{N: 6, Channels: 2})
			check(fmt.Sprintf("connect-%s-%s", auth, f), []*loadgen.Result{r}, err, map[string]float64{"connected": 6})
		}
		e := newEnv(loadgen.AuthKey)
		r, err := e.Idle(ctx, loadgen.IdleConfig{N: 4, Channels: 2, Hold: 4 * smokeMaxIdle, Settle: time.Millisecond})
		check("idle-"+f.String(), []*loadgen.Result{r}, err, map[string]float64{"connected": 4, "conns_with_heartbeat": 4, "unhealthy": 0})
		r, err = e.Fanout(ctx, loadgen.FanoutConfig{Subscribers: 5, Messages: 60, Window: 8, Drain: 5 * time.Second})
		check("fanout-flat-"+f.String(), []*loadgen.Result{r}, err, map[string]float64{"deliveries": 300, "lost": 0})
		r, err = e.Fanout(ctx, loadgen.FanoutConfig{Channels: 2, Subscribers: 3, Messages: 20, Rate: 200, Drain: 5 * time.Second})
		check("fanout-paced-"+f.String(), []*loadgen.Result{r}, err, map[string]float64{"deliveries": 120, "lost": 0})
		for _, auth := range []string{loadgen.AuthToken, loadgen.AuthJWT} {
			e := newEnv(auth)
			r, err := e.Revoke(ctx, loadgen.RevokeConfig{N: 5, Channels: 2, Wait: 10 * time.Second})
			check(fmt.Sprintf("revoke-%s-%s", auth, f), []*loadgen.Result{r}, err, map[string]float64{"disconnected_40141": 5})
		}
		rs, err := e.RESTLoad(ctx, loadgen.RESTConfig{Concurrency: 2, Requests: 10, Duration: 10 * time.Second})
		check("rest-"+f.String(), rs, err, map[string]float64{"requests": 10})
	}
	return all, errors.Join(failures...)
}
