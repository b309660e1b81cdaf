package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/heraldrt/herald/tokenissuer"
	"github.com/spf13/cobra"
)

// authServerFlags are the flags of `herald authserver`.
type authServerFlags struct {
	key, policy, listen   string
	callerAuth            string
	bearerFile            string
	userHeader, userParam string
	varHeaders            []string
	trustedProxies        []string
	rate                  float64
	burst                 int
	corsOrigins           []string
	corsCredentials       bool
	revocable             bool
	tlsCert, tlsKey       string
}

// newAuthServerCmd is a thin wrapper around tokenissuer.NewHandler: it
// reads the flags and files and serves the handler.
func newAuthServerCmd(_ *globals) *cobra.Command {
	var f authServerFlags
	cmd := &cobra.Command{
		Use:   "authserver",
		Short: "Serve authUrl/authCallback token requests for browsers and devices, per a policy",
		Long: `Runs a small HTTP service for an app's clients: it authenticates each caller,
applies the policy's templates and answers with an Ably JWT or a signed
TokenRequest, for Herald or any Ably-compatible service. Endpoints: /token
(the policy's format), /jwt, /token-request, /healthz. See docs/auth-guide.md.

Pass the key in HERALD_KEY rather than --key to keep it out of the process list.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAuthServer(cmd.Context(), &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.key, "key", "", "API key appId.keyId:secret that signs tokens (or HERALD_KEY)")
	fl.StringVar(&f.policy, "policy", "", "policy JSON file: capability template, clientId, ttl, format, ...")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8090", "address to listen on; the bound address is printed on stdout")
	fl.StringVar(&f.callerAuth, "caller-auth", "bearer", "how callers are identified: bearer, header (trusted reverse proxy) or dev-query (insecure)")
	fl.StringVar(&f.bearerFile, "bearer-file", "", `bearer mode: JSON file {"<user>": "<secret>" or {"secret": "...", "vars": {...}}}`)
	fl.StringVar(&f.userHeader, "user-header", "X-Authenticated-User", "header mode: header in which the proxy names the user")
	fl.StringSliceVar(&f.varHeaders, "var-header", nil, "header mode: name=Header supplying the {name} placeholder (repeatable)")
	fl.StringSliceVar(&f.trustedProxies, "trusted-proxy", []string{"127.0.0.1/32", "::1/128"}, "header mode: address ranges (CIDR) of the proxy whose headers are trusted")
	fl.StringVar(&f.userParam, "user-param", "clientId", "dev-query mode: query parameter naming the user")
	fl.Float64Var(&f.rate, "rate", tokenissuer.DefaultRatePerSecond, "token requests per second per caller (negative: unlimited)")
	fl.IntVar(&f.burst, "burst", tokenissuer.DefaultBurst, "burst of token requests per caller")
	fl.StringSliceVar(&f.corsOrigins, "cors-origin", nil, "origin allowed to call from a browser, e.g. https://app.example.com, or * (repeatable)")
	fl.BoolVar(&f.corsCredentials, "cors-credentials", false, "let browsers send cookies cross-origin (not with --cors-origin '*')")
	fl.BoolVar(&f.revocable, "revocable-key", false, "the key has revocable tokens: cap token lifetimes at 1h")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this certificate file (with --tls-key)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "private key file for --tls-cert")
	return cmd
}

func runAuthServer(ctx context.Context, f *authServerFlags) error {
	if f.key == "" || f.policy == "" {
		return errors.New("--key (or HERALD_KEY) and --policy are required")
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return errors.New("give both --tls-cert and --tls-key, or neither")
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	issuer, err := tokenissuer.New(tokenissuer.Config{Key: f.key, Revocable: f.revocable})
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(f.policy)
	if err != nil {
		return fmt.Errorf("read policy: %w", err)
	}
	policy, err := tokenissuer.ParsePolicy(raw)
	if err != nil {
		return fmt.Errorf("policy %s: %w", f.policy, err)
	}
	callers, err := callerAuthenticator(f, logger)
	if err != nil {
		return err
	}
	h, err := tokenissuer.NewHandler(tokenissuer.HandlerConfig{
		Issuer: issuer, Policy: policy, Authenticator: callers,
		RatePerSecond: f.rate, Burst: f.burst,
		CORS:   tokenissuer.CORS{AllowedOrigins: f.corsOrigins, AllowCredentials: f.corsCredentials},
		Logger: logger,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return err
	}
	scheme := "http"
	if f.tlsCert != "" {
		scheme = "https"
	}
	// Tests and scripts read the bound address (for --listen host:0) here.
	fmt.Printf("authserver listening on %s://%s\n", scheme, ln.Addr())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}

	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() {
		if f.tlsCert != "" {
			errc <- srv.ServeTLS(ln, f.tlsCert, f.tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}

// callerAuthenticator builds the caller check the flags ask for.
func callerAuthenticator(f *authServerFlags, logger *slog.Logger) (tokenissuer.Authenticator, error) {
	switch f.callerAuth {
	case "bearer":
		if f.bearerFile == "" {
			return nil, errors.New("--caller-auth bearer needs --bearer-file")
		}
		secrets, err := readBearerFile(f.bearerFile)
		if err != nil {
			return nil, err
		}
		return tokenissuer.BearerAuth(secrets)
	case "header":
		vars := map[string]string{}
		for _, v := range f.varHeaders {
			name, header, ok := strings.Cut(v, "=")
			if !ok || name == "" || header == "" {
				return nil, fmt.Errorf("--var-header %q: want name=Header", v)
			}
			vars[name] = header
		}
		var proxies []netip.Prefix
		for _, s := range f.trustedProxies {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("--trusted-proxy %q: %w", s, err)
			}
			proxies = append(proxies, p)
		}
		return tokenissuer.HeaderAuth(f.userHeader, vars, proxies)
	case "dev-query":
		logger.Warn("caller-auth dev-query: anyone can ask for any user's token; use it only in development", "param", f.userParam)
		return tokenissuer.QueryAuth(f.userParam), nil
	}
	return nil, fmt.Errorf("--caller-auth %q: want bearer, header or dev-query", f.callerAuth)
}

// readBearerFile reads {"<user>": "<secret>"} or, with placeholder
// variables, {"<user>": {"secret": "...", "vars": {...}}}. Errors never
// quote secrets.
func readBearerFile(path string) (map[string]tokenissuer.Identity, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read bearer file: %w", err)
	}
	var users map[string]json.RawMessage
	if err := json.Unmarshal(raw, &users); err != nil {
		return nil, fmt.Errorf("bearer file %s is not a JSON object of users", path)
	}
	out := make(map[string]tokenissuer.Identity, len(users))
	for user, v := range users {
		var entry struct {
			Secret string            `json:"secret"`
			Vars   map[string]string `json:"vars"`
		}
		if err := json.Unmarshal(v, &entry.Secret); err != nil {
			if err := json.Unmarshal(v, &entry); err != nil {
				return nil, fmt.Errorf("bearer file %s: user %q: want a secret string or {\"secret\", \"vars\"}", path, user)
			}
		}
		if _, dup := out[entry.Secret]; dup {
			return nil, fmt.Errorf("bearer file %s: user %q shares a secret with another user", path, user)
		}
		out[entry.Secret] = tokenissuer.Identity{User: user, Vars: entry.Vars}
	}
	return out, nil
}
