package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/server"
	"github.com/spf13/cobra"
)

func openStore(g *globals) (herald.Store, error) {
	return server.OpenStore(context.Background(), server.Config{Store: server.StoreConfig{DataDir: g.dataDir}})
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
			store, err := openStore(g)
			if err != nil {
				return err
			}
			defer store.Close()
			ctx := cmd.Context()
			acct, err := server.EnsureAccount(ctx, store)
			if err != nil {
				return err
			}
			app, key, err := server.CreateApp(ctx, store, acct, name, herald.SystemClock{})
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(map[string]any{"app": toAppJSON(app), "keys": []keyJSON{toKeyJSON(key, true)}})
			}
			fmt.Printf("Created app %s (%s)\nRoot key (shown once): %s\n", app.ID, app.Name, key.KeyString())
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "app", "app name")

	list := &cobra.Command{
		Use:   "list",
		Short: "List apps",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := openStore(g)
			if err != nil {
				return err
			}
			defer store.Close()
			apps, err := store.Apps(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				out := make([]appJSON, len(apps))
				for i, a := range apps {
					out[i] = toAppJSON(a)
				}
				return printJSON(out)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tCREATED")
			for _, a := range apps {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.ID, a.Name, a.Status, a.Created.UTC().Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	del := &cobra.Command{
		Use:   "delete APP_ID",
		Short: "Delete an app with all its keys",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := openStore(g)
			if err != nil {
				return err
			}
			defer store.Close()
			if err := store.DeleteApp(cmd.Context(), args[0]); err != nil {
				if errors.Is(err, herald.ErrNotFound) {
					return fmt.Errorf("no app %q", args[0])
				}
				return err
			}
			if g.json {
				return printJSON(map[string]any{"deleted": args[0]})
			}
			fmt.Printf("Deleted app %s\n", args[0])
			return nil
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
			store, err := openStore(g)
			if err != nil {
				return err
			}
			defer store.Close()
			now := time.Now()
			k := &herald.Key{AppID: appID, ID: auth.NewKeyID(), Secret: auth.NewSecret(), Name: name,
				Capability: capability, RevocableTokens: revocable, Status: herald.KeyEnabled, Created: now, Modified: now}
			if err := store.CreateKey(cmd.Context(), k); err != nil {
				if errors.Is(err, herald.ErrNotFound) {
					return fmt.Errorf("no app %q", appID)
				}
				return err
			}
			if g.json {
				return printJSON(toKeyJSON(k, true))
			}
			fmt.Printf("Created key %s (%s)\nKey (shown once): %s\n", k.KeyName(), k.Name, k.KeyString())
			return nil
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
			store, err := openStore(g)
			if err != nil {
				return err
			}
			defer store.Close()
			keys, err := store.Keys(cmd.Context(), listApp)
			if err != nil {
				return err
			}
			if g.json {
				out := make([]keyJSON, len(keys))
				for i, k := range keys {
					out[i] = toKeyJSON(k, false)
				}
				return printJSON(out)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KEY NAME\tNAME\tSTATUS\tREVOCABLE\tCAPABILITY")
			for _, k := range keys {
				status := "enabled"
				if k.Status == herald.KeyRevoked {
					status = "revoked"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\n", k.KeyName(), k.Name, status, k.RevocableTokens, k.Capability)
			}
			return tw.Flush()
		},
	}
	list.Flags().StringVar(&listApp, "app", "", "only keys of this app")

	revoke := &cobra.Command{
		Use:   "revoke KEY_NAME",
		Short: "Revoke an API key: it and every token derived from it stop working",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := openStore(g)
			if err != nil {
				return err
			}
			defer store.Close()
			k, err := store.Key(cmd.Context(), args[0])
			if err != nil {
				if errors.Is(err, herald.ErrNotFound) {
					return fmt.Errorf("no key %q", args[0])
				}
				return err
			}
			k.Status, k.Modified = herald.KeyRevoked, time.Now()
			if err := store.UpdateKey(cmd.Context(), k); err != nil {
				return err
			}
			if g.json {
				return printJSON(toKeyJSON(k, false))
			}
			fmt.Printf("Revoked key %s\n", k.KeyName())
			return nil
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}
