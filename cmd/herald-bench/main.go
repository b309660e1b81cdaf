// Command herald-bench is Herald's load generator. It speaks the Ably
// realtime protocol directly (JSON or MessagePack frames, no SDK) to a
// server on loopback and reports, per scenario, throughput, latency,
// failures by Ably error code and, given the server's PID, the server's
// CPU and memory cost read from /proc:
//
//	herald-bench connect --n 10000                  # connect + auth + attach storm
//	herald-bench idle --n 10000 --hold 20s          # RSS per idle connection, heartbeats
//	herald-bench fanout --subscribers 1000 --messages 2000 [--rate 100]
//	herald-bench revoke --n 10000                   # revokeTokens → DISCONNECTED 40141
//	herald-bench rest                               # REST publish and requestToken rates
//	herald-bench smoke                              # tiny in-process run, correctness only
//	herald-bench serve --pprof 127.0.0.1:6060       # Herald with a pprof listener
//	herald-bench summarize runs/*.json              # median of runs as Markdown
//
// Every loop is bounded in count and time. Progress goes to stderr, results
// to stdout as a table or, with --json, as JSON.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/heraldrt/herald/loadgen"
	"github.com/heraldrt/herald/protocol"
	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "herald-bench:", err)
		os.Exit(1)
	}
}

// options are the flags every scenario shares.
type options struct {
	url, format, auth       string
	key, revocableKey       string
	serverPID               int
	json, quiet, verify     bool
	failOnError             bool
	timeout                 time.Duration
	dialers, sourceIPs      int
	label                   string
	pprofURL, profilePrefix string
	selfProfile             string
}

func newRootCmd() *cobra.Command {
	o := &options{}
	root := &cobra.Command{
		Use:           "herald-bench",
		Short:         "Load generator for Herald (Ably realtime protocol over loopback)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&o.url, "url", "http://127.0.0.1:8080", "server base URL (loopback only)")
	pf.StringVar(&o.format, "format", "json", "realtime wire format: json or msgpack")
	pf.StringVar(&o.auth, "auth", loadgen.AuthKey, "realtime auth: key, token (Ably token via requestToken) or jwt (HS256, signed locally)")
	pf.StringVar(&o.key, "key", "", "full key string appId.keyId:secret (default: provision an app via POST /apps; needs --dev)")
	pf.StringVar(&o.revocableKey, "revocable-key", "", "key with revocableTokens, for revoke (default: provisioned with --key unset)")
	pf.IntVar(&o.serverPID, "server-pid", 0, "server PID: report its CPU (utime+stime) and RSS from /proc")
	pf.BoolVar(&o.json, "json", false, "print results as JSON")
	pf.BoolVar(&o.quiet, "quiet", false, "no progress on stderr")
	pf.BoolVar(&o.verify, "verify", false, "decode and check every delivered frame (slower)")
	pf.BoolVar(&o.failOnError, "fail-on-error", false, "exit 1 when any failure, lost or duplicate message was counted")
	pf.DurationVar(&o.timeout, "timeout", 3*time.Minute, "upper bound on each scenario, setup included")
	pf.IntVar(&o.dialers, "dialers", 64, "concurrent connection attempts")
	pf.IntVar(&o.sourceIPs, "source-ips", 1, "spread connections over this many source addresses 127.0.0.2...")
	pf.StringVar(&o.label, "label", "", "result label (default: the scenario name)")
	pf.StringVar(&o.pprofURL, "pprof-url", "", "URL of the pprof listener of 'herald-bench serve --pprof': record a server CPU profile per measured phase")
	pf.StringVar(&o.profilePrefix, "profile-prefix", "", "path prefix of the profile files written with --pprof-url")
	pf.StringVar(&o.selfProfile, "self-profile", "", "write a CPU profile of the load generator itself to this file (where its own time goes)")
	root.AddCommand(newConnectCmd(o), newIdleCmd(o), newFanoutCmd(o), newRevokeCmd(o), newRESTCmd(o),
		newSmokeCmd(o), newServeCmd(), newSummarizeCmd())
	return root
}

// env builds the scenario environment: checks the target, provisions keys
// unless given.
func (o *options) env(ctx context.Context) (*loadgen.Env, error) {
	if err := loadgen.CheckLoopback(o.url); err != nil {
		return nil, err
	}
	f, ok := protocol.ParseFormat(o.format)
	if !ok {
		return nil, fmt.Errorf("--format %q: want json or msgpack", o.format)
	}
	switch o.auth {
	case loadgen.AuthKey, loadgen.AuthToken, loadgen.AuthJWT:
	default:
		return nil, fmt.Errorf("--auth %q: want key, token or jwt", o.auth)
	}
	e := &loadgen.Env{
		Base: strings.TrimSuffix(o.url, "/"), Format: f, Auth: o.auth, Probe: loadgen.Probe{PID: o.serverPID},
		Dialers: o.dialers, SourceIPs: o.sourceIPs, Timeout: o.timeout, Verify: o.verify,
		Keys: loadgen.Keys{Key: o.key, RevocableKey: o.revocableKey},
	}
	if !o.quiet {
		e.Progress = os.Stderr
	}
	if o.pprofURL != "" {
		e.Profiler = &loadgen.Profiler{URL: strings.TrimSuffix(o.pprofURL, "/"), Prefix: o.profilePrefix}
	}
	if o.key == "" {
		keys, err := e.REST().Provision(ctx)
		if err != nil {
			return nil, err
		}
		e.Keys = keys
	}
	return e, nil
}

// run executes one scenario and prints its results.
func (o *options) run(cmd *cobra.Command, scenario func(ctx context.Context, e *loadgen.Env) ([]*loadgen.Result, error)) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e, err := o.env(ctx)
	if err != nil {
		return err
	}
	if o.selfProfile != "" {
		f, err := os.Create(o.selfProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	results, err := scenario(ctx, e)
	if err != nil {
		return err
	}
	if o.label != "" {
		for _, r := range results {
			// One scenario may report several results (rest: one per
			// case); they keep their suffix.
			r.Label = o.label + strings.TrimPrefix(r.Label, r.Scenario)
		}
	}
	if err := printResults(os.Stdout, results, o.json); err != nil {
		return err
	}
	if o.failOnError {
		return checkResults(results)
	}
	return nil
}

func printResults(w io.Writer, results []*loadgen.Result, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	return loadgen.WriteTable(w, results)
}

// checkResults fails when any result counted a failure.
func checkResults(results []*loadgen.Result) error {
	var errs []error
	for _, r := range results {
		if n := r.ErrorTotal(); n > 0 {
			errs = append(errs, fmt.Errorf("%s: %d failures %v", r.Label, n, r.Errors))
		}
		if v, ok := r.Get("failed"); ok && v > 0 {
			errs = append(errs, fmt.Errorf("%s: %v failed", r.Label, v))
		}
	}
	return errors.Join(errs...)
}

func one(r *loadgen.Result, err error) ([]*loadgen.Result, error) {
	if err != nil {
		return nil, err
	}
	return []*loadgen.Result{r}, nil
}

func newConnectCmd(o *options) *cobra.Command {
	var cfg loadgen.ConnectConfig
	cmd := &cobra.Command{
		Use:   "connect",
		Short: "Connect storm: N connections each authenticate and attach; connections/s, time to ATTACHED, server CPU per connection",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd, func(ctx context.Context, e *loadgen.Env) ([]*loadgen.Result, error) {
				return one(e.Connect(ctx, cfg))
			})
		},
	}
	cmd.Flags().IntVar(&cfg.N, "n", 1000, "connections")
	cmd.Flags().IntVar(&cfg.Channels, "channels", 100, "channels the connections attach to (round-robin)")
	return cmd
}

func newIdleCmd(o *options) *cobra.Command {
	var cfg loadgen.IdleConfig
	cmd := &cobra.Command{
		Use:   "idle",
		Short: "N idle authenticated, attached connections: server RSS per connection and heartbeat health",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd, func(ctx context.Context, e *loadgen.Env) ([]*loadgen.Result, error) {
				return one(e.Idle(ctx, cfg))
			})
		},
	}
	cmd.Flags().IntVar(&cfg.N, "n", 1000, "connections")
	cmd.Flags().IntVar(&cfg.Channels, "channels", 100, "channels the connections attach to (round-robin)")
	cmd.Flags().DurationVar(&cfg.Hold, "hold", 20*time.Second, "how long to hold the connections idle (> maxIdleInterval to see heartbeats)")
	return cmd
}

func newFanoutCmd(o *options) *cobra.Command {
	var cfg loadgen.FanoutConfig
	cmd := &cobra.Command{
		Use:   "fanout",
		Short: "One publisher per channel → K subscribers each: deliveries/s, publish→receive latency, server CPU per delivery",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd, func(ctx context.Context, e *loadgen.Env) ([]*loadgen.Result, error) {
				return one(e.Fanout(ctx, cfg))
			})
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Channels, "channels", 1, "channels, each with its own publisher")
	f.IntVar(&cfg.Subscribers, "subscribers", 100, "subscribers per channel")
	f.IntVar(&cfg.Messages, "messages", 1000, "messages per channel")
	f.Float64Var(&cfg.Rate, "rate", 0, "messages per second per channel (0 = flat out within --window)")
	f.IntVar(&cfg.Window, "window", 200, "flat out: most messages a subscriber may lag behind the publisher")
	f.IntVar(&cfg.Size, "size", 100, "payload bytes")
	f.DurationVar(&cfg.Drain, "drain", 10*time.Second, "how long to wait for stragglers after the last publish")
	return cmd
}

func newRevokeCmd(o *options) *cobra.Command {
	var cfg loadgen.RevokeConfig
	cmd := &cobra.Command{
		Use:   "revoke",
		Short: "N connections on revocable tokens, one revokeTokens call: time until all are DISCONNECTED 40141",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd, func(ctx context.Context, e *loadgen.Env) ([]*loadgen.Result, error) {
				if e.Keys.RevocableKey == "" {
					return nil, errors.New("revoke needs --revocable-key (or no --key, to provision one)")
				}
				return one(e.Revoke(ctx, cfg))
			})
		},
	}
	cmd.Flags().IntVar(&cfg.N, "n", 1000, "connections")
	cmd.Flags().IntVar(&cfg.Channels, "channels", 100, "channels the connections attach to (round-robin)")
	cmd.Flags().DurationVar(&cfg.Wait, "wait", 30*time.Second, "longest wait for the DISCONNECTED frames")
	return cmd
}

func newRESTCmd(o *options) *cobra.Command {
	var cfg loadgen.RESTConfig
	cmd := &cobra.Command{
		Use:   "rest",
		Short: "REST publish (Basic and token auth) and requestToken rates",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd, func(ctx context.Context, e *loadgen.Env) ([]*loadgen.Result, error) {
				return e.RESTLoad(ctx, cfg)
			})
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Concurrency, "concurrency", 16, "concurrent requests")
	f.IntVar(&cfg.Requests, "requests", 100_000, "most requests per case")
	f.DurationVar(&cfg.Duration, "duration", 5*time.Second, "longest time per case")
	f.StringSliceVar(&cfg.Cases, "case", nil, "cases: publish-basic, publish-token, requestToken (default all)")
	return cmd
}

func newSummarizeCmd() *cobra.Command {
	var asJSON, goals bool
	cmd := &cobra.Command{
		Use:   "summarize FILE...",
		Short: "Median, min and max of each metric over runs saved with --json, as Markdown tables",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			results, err := loadgen.ReadResults(args...)
			if err != nil {
				return err
			}
			sums := loadgen.Summarize(results)
			if asJSON {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(sums)
			}
			if goals {
				loadgen.WriteGoals(os.Stdout, sums)
				return nil
			}
			loadgen.WriteMarkdown(os.Stdout, sums)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the summaries as JSON")
	cmd.Flags().BoolVar(&goals, "goals", false, "print only the goals table (each goal against the runs it applies to)")
	return cmd
}
