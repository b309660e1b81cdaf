package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/server"
	"github.com/spf13/cobra"
)

// accessTokenJSON is an access token as the CLI prints it; Token (the
// secret string) is filled only when the token is created.
type accessTokenJSON struct {
	ID           string   `json:"id"`
	AccountID    string   `json:"accountId"`
	Name         string   `json:"name"`
	Capabilities []string `json:"capabilities"`
	Token        string   `json:"token,omitempty"`
	Created      int64    `json:"created"`
	Expires      *int64   `json:"expires"`
	LastUsed     *int64   `json:"lastUsed"`
	Revoked      *int64   `json:"revoked"`
}

func optMs(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	ms := t.UnixMilli()
	return &ms
}

func toAccessTokenJSON(t *herald.AccessToken, token string) accessTokenJSON {
	return accessTokenJSON{ID: t.ID, AccountID: t.AccountID, Name: t.Name, Capabilities: t.Capabilities, Token: token,
		Created: t.Created.UnixMilli(), Expires: optMs(t.Expires), LastUsed: optMs(t.LastUsed), Revoked: optMs(t.Revoked)}
}

func newAccessTokensCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "access-tokens",
		Aliases: []string{"access-token"},
		Short:   "Manage Control API access tokens (Authorization: Bearer on /v1)",
	}
	var (
		name    string
		caps    []string
		expires time.Duration
	)
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an access token (the token is printed once; only its hash is stored)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if expires < 0 {
				return errors.New("--expires must not be negative")
			}
			return withStore(cmd, g, func(ctx context.Context, store herald.Store) error {
				acct, err := server.EnsureAccount(ctx, store)
				if err != nil {
					return err
				}
				var exp time.Time
				if expires > 0 {
					exp = time.Now().Add(expires)
				}
				token, rec, err := server.CreateAccessToken(ctx, store, acct, name, caps, exp, "cli", herald.SystemClock{})
				if err != nil {
					return fmt.Errorf("--capabilities: %s", herald.AsError(err).Message)
				}
				return printResult(g, toAccessTokenJSON(rec, token), "Created access token %s (%s) with %s\nToken (shown once): %s\n",
					rec.ID, rec.Name, strings.Join(rec.Capabilities, ", "), token)
			})
		},
	}
	cf := create.Flags()
	cf.StringVar(&name, "name", "", "token name")
	cf.StringSliceVar(&caps, "capabilities", herald.AccessTokenCapabilities,
		"capabilities, comma-separated: "+strings.Join(herald.AccessTokenCapabilities, ", "))
	cf.DurationVar(&expires, "expires", 0, "lifetime, e.g. 720h for 30 days (0: never expires)")

	list := &cobra.Command{
		Use:   "list",
		Short: "List access tokens (the tokens themselves are never shown again)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, g, func(ctx context.Context, store herald.Store) error {
				toks, err := store.AccessTokens(ctx)
				if err != nil {
					return err
				}
				toJSON := func(t *herald.AccessToken) accessTokenJSON { return toAccessTokenJSON(t, "") }
				now := time.Now()
				return printList(g, toks, toJSON, "ID\tNAME\tSTATUS\tCAPABILITIES\tCREATED\tEXPIRES\tLAST USED",
					func(w io.Writer, t *herald.AccessToken) {
						status := "active"
						switch {
						case !t.Revoked.IsZero():
							status = "revoked"
						case !t.Active(now):
							status = "expired"
						}
						fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, status, strings.Join(t.Capabilities, ","),
							formatTime(t.Created), formatTime(t.Expires), formatTime(t.LastUsed))
					})
			})
		},
	}

	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an access token: it stops working at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, g, func(ctx context.Context, store herald.Store) error {
				now := time.Now()
				if err := store.RevokeAccessToken(ctx, args[0], now); err != nil {
					if errors.Is(err, herald.ErrNotFound) {
						return fmt.Errorf("no access token %q", args[0])
					}
					return err
				}
				if err := store.AppendAudit(ctx, &herald.AuditEntry{Time: now, Kind: herald.AuditAccessTokenRevoke,
					Actor: "cli", Target: args[0]}); err != nil {
					return err
				}
				t, err := store.AccessToken(ctx, args[0])
				if err != nil {
					return err
				}
				return printResult(g, toAccessTokenJSON(t, ""), "Revoked access token %s\n", t.ID)
			})
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

// formatTime prints t in RFC 3339 (UTC), or "-" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
