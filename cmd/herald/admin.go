package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/server"
	"github.com/spf13/cobra"
)

// withStore runs fn with the store under --data-dir, open for just this
// command, and the command's context.
func withStore(cmd *cobra.Command, g *globals, fn func(ctx context.Context, store herald.Store) error) error {
	store, err := server.OpenStore(context.Background(), server.Config{Store: server.StoreConfig{DataDir: g.dataDir}})
	if err != nil {
		return err
	}
	defer store.Close()
	return fn(cmd.Context(), store)
}

type appJSON struct {
	ID        string `json:"id"`
	AccountID string `json:"accountId"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	Created   int64  `json:"created"`
	Modified  int64  `json:"modified"`
}

func toAppJSON(a *herald.App) appJSON {
	return appJSON{a.ID, a.AccountID, a.Name, string(a.Status), a.Created.UnixMilli(), a.Modified.UnixMilli()}
}

// keyJSON is the Control API key_response shape (ably-auth §9.2); "key"
// carries the secret and is only filled when a key is created.
type keyJSON struct {
	AppID           string `json:"appId"`
	ID              string `json:"id"`
	KeyName         string `json:"keyName"`
	Name            string `json:"name"`
	Key             string `json:"key,omitempty"`
	Capability      string `json:"capability"`
	RevocableTokens bool   `json:"revocableTokens"`
	Status          int    `json:"status"`
	Created         int64  `json:"created"`
	Modified        int64  `json:"modified"`
}

func toKeyJSON(k *herald.Key, withSecret bool) keyJSON {
	j := keyJSON{AppID: k.AppID, ID: k.ID, KeyName: k.KeyName(), Name: k.Name, Capability: k.Capability,
		RevocableTokens: k.RevocableTokens, Status: int(k.Status), Created: k.Created.UnixMilli(), Modified: k.Modified.UnixMilli()}
	if withSecret {
		j.Key = k.KeyString()
	}
	return j
}

func newAppsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "apps", Short: "Manage apps"}
	var name string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an app with a root key (the key is printed once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, g, func(ctx context.Context, store herald.Store) error {
				acct, err := server.EnsureAccount(ctx, store)
				if err != nil {
					return err
				}
				app, key, err := server.CreateApp(ctx, store, acct, name, herald.SystemClock{})
				if err != nil {
					return err
				}
				return printResult(g, map[string]any{"app": toAppJSON(app), "keys": []keyJSON{toKeyJSON(key, true)}},
					"Created app %s (%s)\nRoot key (shown once): %s\n", app.ID, app.Name, key.KeyString())
			})
		},
	}
	create.Flags().StringVar(&name, "name", "app", "app name")

	list := &cobra.Command{
		Use:   "list",
		Short: "List apps",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, g, func(ctx context.Context, store herald.Store) error {
				apps, err := store.Apps(ctx)
				if err != nil {
					return err
				}
				return printList(g, apps, toAppJSON, "ID\tNAME\tSTATUS\tCREATED", func(w io.Writer, a *herald.App) {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", a.ID, a.Name, a.Status, a.Created.UTC().Format(time.RFC3339))
				})
			})
		},
	}
	del := &cobra.Command{
		Use:   "delete APP_ID",
		Short: "Delete an app with all its keys",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, g, func(ctx context.Context, store herald.Store) error {
				if err := store.DeleteApp(ctx, args[0]); err != nil {
					if errors.Is(err, herald.ErrNotFound) {
						return fmt.Errorf("no app %q", args[0])
					}
					return err
				}
				return printResult(g, map[string]any{"deleted": args[0]}, "Deleted app %s\n", args[0])
			})
		},
	}
	cmd.AddCommand(create, list, del)
	return cmd
}

func newKeysCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage API keys"}
	var (
		appID, name, capability string
		revocable               bool
	)
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API key (the key string is printed once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if appID == "" {
				return errors.New("--app is required")
			}
			if _, err := auth.ParseCapability(capability); err != nil {
				return fmt.Errorf("--capability: %s", herald.AsError(err).Message)
			}
			return withStore(cmd, g, func(ctx context.Context, store herald.Store) error {
				now := time.Now()
				k := &herald.Key{AppID: appID, ID: auth.NewKeyID(), Secret: auth.NewSecret(), Name: name,
					Capability: capability, RevocableTokens: revocable, Status: herald.KeyEnabled, Created: now, Modified: now}
				if err := store.CreateKey(ctx, k); err != nil {
					if errors.Is(err, herald.ErrNotFound) {
						return fmt.Errorf("no app %q", appID)
					}
					return err
				}
				return printResult(g, toKeyJSON(k, true),
					"Created key %s (%s)\nKey (shown once): %s\n", k.KeyName(), k.Name, k.KeyString())
			})
		},
	}
	cf := create.Flags()
	cf.StringVar(&appID, "app", "", "app id (required)")
	cf.StringVar(&name, "name", "", "key name")
	cf.StringVar(&capability, "capability", herald.DefaultCapability, "capability JSON, e.g. '{\"chat:*\":[\"publish\",\"subscribe\"]}'")
	cf.BoolVar(&revocable, "revocable", false, "allow revoking tokens issued with this key (caps token TTL at 1 h)")

	var listApp string
	list := &cobra.Command{
		Use:   "list",
		Short: "List API keys (secrets are not shown)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, g, func(ctx context.Context, store herald.Store) error {
				keys, err := store.Keys(ctx, listApp)
				if err != nil {
					return err
				}
				toJSON := func(k *herald.Key) keyJSON { return toKeyJSON(k, false) }
				return printList(g, keys, toJSON, "KEY NAME\tNAME\tSTATUS\tREVOCABLE\tCAPABILITY", func(w io.Writer, k *herald.Key) {
					status := "enabled"
					if k.Status == herald.KeyRevoked {
						status = "revoked"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%t\t%s\n", k.KeyName(), k.Name, status, k.RevocableTokens, k.Capability)
				})
			})
		},
	}
	list.Flags().StringVar(&listApp, "app", "", "only keys of this app")

	revoke := &cobra.Command{
		Use:   "revoke KEY_NAME",
		Short: "Revoke an API key: it and every token derived from it stop working",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, g, func(ctx context.Context, store herald.Store) error {
				k, err := store.Key(ctx, args[0])
				if err != nil {
					if errors.Is(err, herald.ErrNotFound) {
						return fmt.Errorf("no key %q", args[0])
					}
					return err
				}
				k.Status, k.Modified = herald.KeyRevoked, time.Now()
				if err := store.UpdateKey(ctx, k); err != nil {
					return err
				}
				return printResult(g, toKeyJSON(k, false), "Revoked key %s\n", k.KeyName())
			})
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}
