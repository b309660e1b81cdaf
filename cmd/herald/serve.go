package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/heraldrt/herald/server"
	"github.com/spf13/cobra"
)

func newServeCmd(g *globals) *cobra.Command {
	var (
		cfg      server.Config
		logLevel string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server (REST and realtime on one listener)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			cfg.Store.DataDir = g.dataDir
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			srv, err := server.Open(ctx, cfg)
			if err != nil {
				return err
			}
			scheme := "http"
			if cfg.HTTP.TLSCertFile != "" {
				scheme = "https"
			}
			fmt.Fprintf(os.Stderr, "Herald listening on %s://%s (data in %s)\n", scheme, srv.Addr(), g.dataDir)
			if b := srv.Bootstrap; b != nil && b.App != nil {
				fmt.Fprintf(os.Stderr, "\nCreated app %q (%s) with a root key. This is the only time the key is shown:\n\n    %s\n\n",
					b.App.Name, b.App.ID, b.Key.KeyString())
			}
			if b := srv.Bootstrap; b != nil && b.AccessToken != "" {
				fmt.Fprintf(os.Stderr, "Created a Control API access token with every capability. This is the only time it is shown:\n\n    %s\n\n"+
					"Use it as \"Authorization: Bearer <token>\" on /v1; manage tokens with `herald access-tokens`.\n\n", b.AccessToken)
			}
			if a := srv.ControlAddr(); a != nil {
				fmt.Fprintf(os.Stderr, "Control API listening on %s://%s/v1\n", scheme, a)
			}
			if cfg.Admin.Dev {
				fmt.Fprintln(os.Stderr, "Development mode: Basic auth over plain HTTP and /apps provisioning are enabled.")
			}
			select {
			case <-ctx.Done():
			case err := <-srv.Done():
				return err
			}
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return srv.Close(sctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.HTTP.Listen, "listen", "127.0.0.1:8080", "address to listen on")
	f.StringVar(&cfg.HTTP.TLSCertFile, "tls-cert", "", "TLS certificate file (serve HTTPS and WSS)")
	f.StringVar(&cfg.HTTP.TLSKeyFile, "tls-key", "", "TLS private key file")
	f.StringSliceVar(&cfg.HTTP.TrustedProxies, "trusted-proxy", nil, "address or CIDR of a reverse proxy whose X-Forwarded-Proto is trusted (repeatable)")
	f.BoolVar(&cfg.Admin.Dev, "dev", false, "development mode: allow Basic auth over plain HTTP and enable /apps provisioning")
	f.BoolVar(&cfg.Auth.InsecureAllowBasicAuth, "insecure-allow-basic-auth", false, "allow Basic auth over plain HTTP/WS (Ably refuses it with 40103)")
	f.StringVar(&cfg.Admin.ProvisioningToken, "provisioning-token", "", "enable POST /apps, requiring this bearer token")
	f.BoolVar(&cfg.Realtime.Compression, "ws-compression", false, "accept WebSocket permessage-deflate (compresses every subscriber's copy of a message separately)")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.StringVar(&cfg.Control.Listen, "control-listen", "", "serve the Control API (/v1) on this address instead of the main listener")
	f.BoolVar(&cfg.Control.Disabled, "no-control-api", false, "disable the Control API (/v1)")
	f.DurationVar(&cfg.Audit.Retention, "audit-retention", 30*24*time.Hour, "how long audit log entries are kept")
	f.IntVar(&cfg.Audit.MaxEntries, "audit-max-entries", 100_000, "the most audit log entries kept (the newest)")
	return cmd
}
