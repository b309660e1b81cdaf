package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/spf13/cobra"
)

// localAuth builds an authenticator over the store, for commands that issue
// or inspect credentials without a running server.
func localAuth(ctx context.Context, store herald.Store) (*auth.Authenticator, *auth.KeyCache, error) {
	keys := auth.NewKeyCache(store, auth.KeyCacheConfig{})
	if err := keys.Load(ctx); err != nil {
		return nil, nil, err
	}
	// The CLI runs on the server's machine: the TLS rule guards the wire,
	// which a local command does not use.
	return auth.New(auth.Config{AllowInsecureBasic: true}, keys, store, herald.SystemClock{}), keys, nil
}

// keyEntry verifies a full key string against the store.
func keyEntry(ctx context.Context, a *auth.Authenticator, keys *auth.KeyCache, key string) (*auth.KeyEntry, error) {
	p, err := a.Authenticate(ctx, auth.Credentials{Key: key, TLS: true})
	if err != nil {
		return nil, errors.New(herald.AsError(err).Message)
	}
	return keys.Lookup(ctx, p.KeyName)
}

func newTokenCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Issue tokens"}
	var (
		key, capability, clientID string
		ttl                       time.Duration
	)
	issue := &cobra.Command{
		Use:   "issue",
		Short: "Issue an Ably token from a key and print its TokenDetails",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if key == "" {
				return errors.New("--key is required")
			}
			return withStore(cmd, g, func(ctx context.Context, store herald.Store) error {
				a, keys, err := localAuth(ctx, store)
				if err != nil {
					return err
				}
				e, err := keyEntry(ctx, a, keys, key)
				if err != nil {
					return err
				}
				p := auth.TokenParams{TTL: ttl, Capability: capability}
				if cmd.Flags().Changed("client-id") {
					p.ClientID, p.HasClientID = clientID, true
				}
				td, err := a.Issue(ctx, e, p, time.Now())
				if err != nil {
					return errors.New(herald.AsError(err).Message)
				}
				return printJSON(td)
			})
		},
	}
	f := issue.Flags()
	f.StringVar(&key, "key", "", "full key string appId.keyId:secret (required)")
	f.DurationVar(&ttl, "ttl", 0, "token lifetime, e.g. 10m (default 1h; max 24h, 1h for revocable keys)")
	f.StringVar(&capability, "capability", "", "requested capability JSON (intersected with the key's)")
	f.StringVar(&clientID, "client-id", "", "clientId to bind the token to (\"*\" = wildcard)")
	cmd.AddCommand(issue, newJWTCmd(g))
	return cmd
}

func newAuthCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "auth", Short: "Inspect authentication decisions"}
	var key, token, channel, op, clientID string
	explain := &cobra.Command{
		Use:   "explain",
		Short: "Explain whether a key or token may perform an operation on a channel, and why",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (key == "") == (token == "") {
				return errors.New("give exactly one of --key and --token")
			}
			o, ok := auth.ParseOp(op)
			if !ok {
				return fmt.Errorf("--op %q is not a capability operation", op)
			}
			return withStore(cmd, g, func(ctx context.Context, store herald.Store) error {
				a, _, err := localAuth(ctx, store)
				if err != nil {
					return err
				}
				c := auth.Credentials{Key: key, Token: token, TLS: true}
				if cmd.Flags().Changed("client-id") {
					c.ClientID, c.HasClientID = clientID, true
				}
				p, err := a.Authenticate(ctx, c)
				if err != nil {
					e := herald.AsError(err)
					return printResult(g, map[string]any{"authenticated": false, "error": e},
						"credential refused: %s (code %d, status %d)\n", e.Message, e.Code, e.StatusCode)
				}
				d := p.Capability.Explain(channel, o)
				out := map[string]any{
					"authenticated": true, "method": p.Method.String(), "keyName": p.KeyName,
					"clientId": p.ConnectionClientID(), "anyClientId": p.AnyClientID,
					"allowed": d.Allowed, "pattern": d.Pattern, "granted": d.Granted, "reason": d.Message(),
					"capability": p.Capability.Raw(),
				}
				if !p.Expires.IsZero() {
					out["issued"], out["expires"] = p.Issued.UnixMilli(), p.Expires.UnixMilli()
				}
				if g.json {
					return printJSON(out)
				}
				verdict := "DENIED"
				if d.Allowed {
					verdict = "ALLOWED"
				}
				fmt.Printf("%s: %s on %q\n", verdict, op, channel)
				fmt.Printf("  why:        %s\n", d.Message())
				fmt.Printf("  via:        %s credential of key %s\n", p.Method, p.KeyName)
				fmt.Printf("  capability: %s\n", p.Capability.Raw())
				switch cid := p.ConnectionClientID(); {
				case cid != "":
					fmt.Printf("  clientId:   %s\n", cid)
				case p.AnyClientID:
					fmt.Printf("  clientId:   none (may act for any clientId)\n")
				default:
					fmt.Printf("  clientId:   none (anonymous)\n")
				}
				if !p.Expires.IsZero() {
					fmt.Printf("  expires:    %s (in %s)\n", p.Expires.UTC().Format(time.RFC3339), time.Until(p.Expires).Round(time.Second))
				}
				return nil
			})
		},
	}
	f := explain.Flags()
	f.StringVar(&key, "key", "", "full key string")
	f.StringVar(&token, "token", "", "Ably token or JWT")
	f.StringVar(&channel, "channel", "", "channel name")
	f.StringVar(&op, "op", "subscribe", "operation, e.g. publish, subscribe, presence, history")
	f.StringVar(&clientID, "client-id", "", "clientId the client would request")
	cmd.AddCommand(explain)
	return cmd
}
